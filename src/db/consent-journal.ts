/**
 * The journal of `carry_optouts` steps (migrations/006): the consent records a step writes,
 * fixed with their correlation_ids the first time it runs; each batch's sends, committed before
 * the request goes; Twilio's answer per record. A batch's answer and its records' results are
 * one transaction.
 */

import type { Db } from './open.js';
import { holdsLockNow, LockLostError, type LockTaker } from './journal.js';
import { statement } from './statements.js';

export interface ConsentItemRecord {
  position: number;
  batch: number;
  correlationId: string;
  accountSid: string;
  senderId: string;
  contactId: string;
  dateOfConsent: string;
  /** Null until Twilio answered for the record; 0 = written. */
  errorCode: number | null;
  errorMessages: string[] | null;
  answeredAt: string | null;
}

export interface ConsentBatchRecord {
  batch: number;
  sends: number;
  sentAt: string | null;
  answeredAt: string | null;
  status: number | null;
  errorCode: number | null;
  errorMessage: string | null;
}

const ITEM_COLUMNS = `position, batch, correlation_id AS correlationId, account_sid AS accountSid,
  sender_id AS senderId, contact_id AS contactId, date_of_consent AS dateOfConsent,
  error_code AS errorCode, error_messages AS errorMessages, answered_at AS answeredAt`;

type ItemRow = Omit<ConsentItemRecord, 'errorMessages'> & { errorMessages: string | null };

const toItem = ({ errorMessages, ...row }: ItemRow): ConsentItemRecord => ({
  ...row,
  errorMessages: errorMessages === null ? null : (JSON.parse(errorMessages) as string[]),
});

/** A step's records, in order (empty before the step first ran). */
export function listConsentItems(db: Db, runId: number, stepId: string): ConsentItemRecord[] {
  return (
    db
      .prepare(
        `SELECT ${ITEM_COLUMNS} FROM consent_items WHERE run_id = ? AND step_id = ? ORDER BY position`,
      )
      .all(runId, stepId) as ItemRow[]
  ).map(toItem);
}

/** Every record of a run, by step. */
export function listRunConsentItems(db: Db, runId: number): Map<string, ConsentItemRecord[]> {
  const rows = db
    .prepare(
      `SELECT step_id AS stepId, ${ITEM_COLUMNS} FROM consent_items WHERE run_id = ?
       ORDER BY step_id, position`,
    )
    .all(runId) as (ItemRow & { stepId: string })[];
  const byStep = new Map<string, ConsentItemRecord[]>();
  for (const { stepId, ...row } of rows) {
    const list = byStep.get(stepId) ?? [];
    list.push(toItem(row));
    byStep.set(stepId, list);
  }
  return byStep;
}

/** The records a step will write and their batches: fixed once, the first time it runs. */
export function insertConsentItems(
  db: Db,
  runId: number,
  stepId: string,
  items: readonly Pick<
    ConsentItemRecord,
    'batch' | 'correlationId' | 'accountSid' | 'senderId' | 'contactId' | 'dateOfConsent'
  >[],
): void {
  const insert = db.prepare(
    `INSERT INTO consent_items (run_id, step_id, position, batch, correlation_id, account_sid,
       sender_id, contact_id, date_of_consent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const batch = db.prepare(
    'INSERT OR IGNORE INTO consent_batches (run_id, step_id, batch) VALUES (?, ?, ?)',
  );
  db.transaction(() => {
    items.forEach((item, position) => {
      insert.run(
        runId,
        stepId,
        position,
        item.batch,
        item.correlationId,
        item.accountSid,
        item.senderId,
        item.contactId,
        item.dateOfConsent,
      );
      batch.run(runId, stepId, item.batch);
    });
  })();
}

export function listConsentBatches(db: Db, runId: number, stepId: string): ConsentBatchRecord[] {
  return db
    .prepare(
      `SELECT batch, sends, sent_at AS sentAt, answered_at AS answeredAt, status,
              error_code AS errorCode, error_message AS errorMessage
       FROM consent_batches WHERE run_id = ? AND step_id = ? ORDER BY batch`,
    )
    .all(runId, stepId) as ConsentBatchRecord[];
}

/** Before the request: one more send of the batch is on record. */
export function recordBatchSend(
  db: Db,
  runId: number,
  stepId: string,
  batch: number,
  at: string,
  /**
   * The apply sending it: the send is marked (and the batch sent) only while it holds the
   * lock, in the same transaction; else LockLostError, nothing written. The apply that took
   * the lock over sends the records with no answer on record itself.
   */
  lockedBy?: LockTaker,
): void {
  db.transaction(() => {
    if (lockedBy !== undefined && !holdsLockNow(db, lockedBy)) throw new LockLostError();
    statement(
      db,
      `UPDATE consent_batches SET sends = sends + 1, sent_at = ?
       WHERE run_id = ? AND step_id = ? AND batch = ?`,
    ).run(at, runId, stepId, batch);
  })();
}

export interface ItemAnswer {
  correlationId: string;
  errorCode: number;
  errorMessages: string[];
}

/** Twilio's answer to a batch: the result of each record it named, and the batch answered. */
export function recordBatchAnswer(
  db: Db,
  runId: number,
  stepId: string,
  batch: number,
  at: string,
  status: number,
  answers: readonly ItemAnswer[],
): void {
  const item = statement(
    db,
    `UPDATE consent_items SET error_code = ?, error_messages = ?, answered_at = ?
     WHERE run_id = ? AND step_id = ? AND correlation_id = ?`,
  );
  db.transaction(() => {
    for (const answer of answers) {
      item.run(
        answer.errorCode,
        JSON.stringify(answer.errorMessages),
        at,
        runId,
        stepId,
        answer.correlationId,
      );
    }
    statement(
      db,
      `UPDATE consent_batches SET answered_at = ?, status = ?, error_code = NULL,
         error_message = NULL
       WHERE run_id = ? AND step_id = ? AND batch = ?`,
    ).run(at, status, runId, stepId, batch);
  })();
}

/** A batch whose request was refused whole, or got no certain answer (status 0 or 5xx). */
export function recordBatchFailure(
  db: Db,
  runId: number,
  stepId: string,
  batch: number,
  failure: { status: number; code: number | null; message: string },
): void {
  statement(
    db,
    `UPDATE consent_batches SET status = ?, error_code = ?, error_message = ?
     WHERE run_id = ? AND step_id = ? AND batch = ?`,
  ).run(failure.status, failure.code, failure.message, runId, stepId, batch);
}

/**
 * Every correlation_id Twilio has accepted, in any run (records the next plan need not carry),
 * or in `upToRun` and the runs before it (what that run's reports say Twilio enforces, as
 * they said it then).
 */
export function writtenCorrelationIds(db: Db, upToRun = Number.MAX_SAFE_INTEGER): Set<string> {
  const rows = db
    .prepare(
      'SELECT DISTINCT correlation_id AS id FROM consent_items WHERE error_code = 0 AND run_id <= ?',
    )
    .raw()
    .all(upToRun) as [string][];
  return new Set(rows.map(([id]) => id));
}
