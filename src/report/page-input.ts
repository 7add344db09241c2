/**
 * What report.html is built from: the run's audit, its lists and what reconcile found, as the
 * report's writer gathers them from the database. Types only.
 */

import type { Coverage, OptOutExportRow } from '../optouts/export.js';
import type { AuditDocument, AuditRow } from './audit.js';
import type { ViolationRow } from './files.js';

/** What the carry wrote for one customer in the run. */
export interface CustomerCarry {
  to_carry: number;
  written: number;
}

/**
 * What protects one customer's opt-outs after the run, as carry.csv says it: the rows of its
 * list, how many of them Twilio itself refuses (null when its list is not known), and why the
 * rest depend on the list alone.
 */
export interface CustomerProtection {
  rows: number | null;
  enforced: number | null;
  protection: string;
}

export interface ReportPageInput {
  generatedAt: string;
  toolVersion: string;
  document: AuditDocument;
  rows: readonly AuditRow[];
  optouts: {
    coverage: Coverage;
    /**
     * The list's rows; with `counts`, only when there are no more than `PAGE_LIST_ROWS` of them
     * (the page shows no more), else none.
     */
    rows: readonly (OptOutExportRow & { twilio_enforces?: string; customer_list?: string })[];
    /** Each customer's rows (null: no customer), in the list's order; else counted from `rows`. */
    counts?: ReadonlyMap<string | null, number>;
  } | null;
  /** Completed snapshot runs an older submigrate read (why `optouts` may be null); 0 if absent. */
  olderRulesRuns?: number;
  /** null until reconcile has run. */
  violations: readonly ViolationRow[] | null;
  /** Sends Twilio refused (21610) per customer, as reconcile found them; null before. */
  blocked: ReadonlyMap<string, number> | null;
  /** Per customer, what the carry wrote; null when the plan carried nothing. */
  carry: ReadonlyMap<string, CustomerCarry> | null;
  /**
   * Per customer, what protects its opt-outs (carry.csv's rows), whether or not the plan
   * carried any: the reviewer signs off on who must enforce which list.
   */
  protection?: ReadonlyMap<string, CustomerProtection>;
  lastReconcileAt: string | null;
  /**
   * Sends of this run's customers that reconcile left pending (to someone on a list, after a
   * span no pass has read, where an opt-in could lift them): not judged yet. 0 if absent.
   */
  pending?: number;
  /**
   * This run's customers whose sends a reconcile pass held to a suppression list that was not
   * whole, and no pass has read again since: a snapshot that makes the list whole judges none
   * of them. 0 if absent.
   */
  notJudgedAgain?: number;
  /**
   * This run's customers with sends a reconcile pass held to a list that was not whole and that
   * no pass can check again (older than the Messages API window by the time the list was whole,
   * or sent from numbers that have moved on to another customer since). 0 if absent.
   */
  neverJudgedWhole?: number;
  /**
   * Spans since the move, in this run's subaccounts, that no reconcile pass has read: one a
   * --since pass skipped, or older than the Messages API window, or while a number was in a
   * subaccount it has left since, or while a moved number was away from its subaccount, moved
   * by hand (`number-away`, with the number). A send in them is not judged. None if absent.
   */
  unjudged?: readonly {
    accountSid: string;
    start: string;
    end: string;
    reason: string;
    phoneNumber?: string;
    /**
     * `number-away` of a number whose transfer failed or was not run, found in an account the
     * passes read: its sends there are held to its list (`NotChecked.sendsHeld`).
     */
    sendsHeld?: true;
  }[];
  /**
   * Customers whose numbers came from an account with history no snapshot read: their lists
   * hold what was read only.
   */
  partial?: ReadonlySet<string>;
}
