/**
 * What Twilio itself now enforces, as the reports say it: per customer, the opt-outs its
 * `carry_optouts` step was to write, how many Twilio wrote, rejected, or never answered, and
 * whether the suppression list is the customer's only protection; per record, its result; per
 * row of a suppression list, whether Twilio holds that opt-out. Pure: built from the plan, the
 * journal and the ledger's list.
 */

import type { ConsentItemRecord } from '../db/consent-journal.js';
import type { StepRecord } from '../db/journal.js';
import type { OptOutExportRow } from '../optouts/export.js';
import { isTollFree } from '../optouts/keywords.js';
import { correlationId } from '../plan/carry.js';
import type { CarryOptOutsStep, Plan, PlanCustomer } from '../plan/types.js';
import { stateWords } from './audit.js';

export const CARRY_COLUMNS = [
  'customer_id',
  'customer_name',
  'subaccount_sid',
  'sender_id',
  'carry_step',
  'optouts_to_carry',
  'written',
  'rejected',
  'not_written',
  'list_rows',
  'twilio_enforces_rows',
  'protection',
] as const;

export type CarryRow = Record<(typeof CARRY_COLUMNS)[number], string | number | null>;

export interface CarryItemResult {
  customer_id: string;
  step: string;
  correlation_id: string;
  sender_id: string;
  contact_id: string;
  date_of_consent: string;
  result: 'written' | 'rejected' | 'not_written';
  error_code: number | null;
  error_messages: string[];
  answered_at: string | null;
}

export interface CarryAudit {
  /** Whether the plan was made with --carry-optouts. */
  planned: boolean;
  customers: CarryRow[];
  /** Every record this run's carry steps were to write, with its result. */
  items: CarryItemResult[];
}

/** Where each customer went, as the audit knows it. */
export interface CustomerTarget {
  customer_id: string;
  subaccount_sid: string | null;
  messaging_service_sid: string | null;
}

const resultOf = (item: ConsentItemRecord): CarryItemResult['result'] =>
  item.errorCode === 0
    ? 'written'
    : item.errorCode !== null && !(item.errorMessages ?? []).includes('INTERNAL_SERVER_ERROR')
      ? 'rejected'
      : 'not_written';

const hasTollFree = (customer: PlanCustomer) =>
  customer.numbers.some((n) => isTollFree(n.phone_number));

/**
 * The numbers of a customer without a Messaging Service that a service-wide row stands for:
 * those whose suppression list holds that service's opt-outs (`optout_services`), as its carry
 * records were written for them; all of its numbers when the plan does not say (a plan
 * written before it recorded them), or names none.
 */
function serviceRowNumbers(row: OptOutExportRow, customer: PlanCustomer): string[] {
  const service = row.messaging_service_sid;
  const listed =
    service === null
      ? []
      : customer.numbers.filter((n) => n.optout_services?.includes(service) === true);
  return (listed.length > 0 ? listed : customer.numbers).map((n) => n.phone_number);
}

/** How `twilioEnforces`' `inService` names a number in its customer's service. */
export const inServiceKey = (customerId: string, phoneNumber: string) =>
  `${customerId}|${phoneNumber}`;

/**
 * Whether Twilio refuses, in the customer's subaccount, sends to the row's end user from the
 * row's sender: an opt-out for them was written (in this run or an earlier one) with the
 * customer's service as sender_id, and the numbers the row stands for are in that service, or,
 * for a customer without one, with each of its numbers the pair stands for. `inService` holds
 * `inServiceKey` of each number the journal knows to be in its customer's service.
 */
export function twilioEnforces(
  plan: Plan,
  targets: readonly CustomerTarget[],
  written: ReadonlySet<string>,
  inService: ReadonlySet<string>,
  /**
   * Whether the records were written as if the Consent API covered toll-free numbers: for a
   * row it does not enforce because of a toll-free sender, whether its records were written
   * all the same (so that the toll-free number is the only reason).
   */
  { apartFromTollFree = false }: { apartFromTollFree?: boolean } = {},
): (row: OptOutExportRow) => boolean {
  const byCustomer = new Map(targets.map((t) => [t.customer_id, t]));
  const customers = new Map(plan.customers.map((c) => [c.customer_id, c]));
  // customer → end user → the numbers its carry records were for
  const planned = new Map<string, Map<string, string[]>>();
  const stepCustomer = new Map(
    plan.steps.filter((s) => s.action === 'carry_optouts').map((s) => [s.id, s.customer_id]),
  );
  for (const item of plan.carry_items ?? []) {
    const customer = stepCustomer.get(item.step);
    if (customer === undefined || item.sender_number === null) continue;
    const contacts = planned.get(customer) ?? new Map<string, string[]>();
    contacts.set(item.contact_id, [...(contacts.get(item.contact_id) ?? []), item.sender_number]);
    planned.set(customer, contacts);
  }
  return (row) => {
    if (row.customer_id === null || row.recipient === null) return false;
    const target = byCustomer.get(row.customer_id);
    const customer = customers.get(row.customer_id);
    const account = target?.subaccount_sid ?? null;
    if (target === undefined || customer === undefined || account === null) return false;
    // A STOP said in the customer's subaccount itself (after the move): Twilio keeps that
    // opt-out there and refuses the sends it covers (a toll-free number's too: the Consent
    // API's exception is for its records, not for keywords), as the account the number left
    // did before the move. Its number's, or its service's when every number of the customer
    // is in it. Not one said over WhatsApp (or any channel but RCS, which Twilio keeps as one
    // with SMS): Twilio keeps that apart from SMS and does not refuse an SMS to them.
    if (row.evidence === 'keyword' && row.account_sid === account && blocksSms(row)) {
      if (row.scope === 'number') return row.sender_number !== null;
      if (
        customer.messaging_service !== null &&
        target.messaging_service_sid !== null &&
        row.messaging_service_sid === target.messaging_service_sid &&
        customer.numbers.every((n) =>
          inService.has(inServiceKey(customer.customer_id, n.phone_number)),
        )
      ) {
        return true;
      }
    }
    // The Consent Management API does not cover US toll-free numbers: a send from one is not
    // refused, whatever was written.
    if (!apartFromTollFree && outsideConsent(row, customer)) return false;
    const isWritten = (sender: string) =>
      written.has(correlationId(account, sender, row.recipient!));
    if (customer.messaging_service !== null) {
      // A service's opt-outs hold only for sends from its own numbers: a number that did not
      // join it (its attach failed, or it has not left the shared service yet) still sends to
      // the end user. A row of the whole list stands for all of the customer's numbers.
      const senders =
        row.scope === 'number' && row.sender_number !== null
          ? [row.sender_number]
          : customer.numbers.map((n) => n.phone_number);
      return (
        target.messaging_service_sid !== null &&
        isWritten(target.messaging_service_sid) &&
        senders.every((sender) => inService.has(inServiceKey(customer.customer_id, sender)))
      );
    }
    if (row.scope === 'number' && row.sender_number !== null) return isWritten(row.sender_number);
    const senders = customer.numbers.some((n) => n.optout_services !== undefined)
      ? serviceRowNumbers(row, customer)
      : (planned.get(row.customer_id)?.get(row.recipient) ??
        customer.numbers.map((n) => n.phone_number));
    return senders.length > 0 && senders.every(isWritten);
  };
}

/**
 * A row no Consent API record protects: Twilio's STOP override "applies to all messages sent,
 * except US Toll-free numbers". A number-scope row is its sender's. A service-wide row of a
 * customer with a Messaging Service stands for every number in it (a send through the
 * service may go out from any of them, toll-free ones among them); of a customer without one,
 * for the numbers whose list holds that service's opt-outs, each sending on its own (a
 * toll-free number that was never in that service is not one of them).
 */
function outsideConsent(row: OptOutExportRow, customer: PlanCustomer): boolean {
  if (row.scope === 'number') return row.sender_number !== null && isTollFree(row.sender_number);
  if (customer.messaging_service !== null) return hasTollFree(customer);
  return serviceRowNumbers(row, customer).some((phone) => isTollFree(phone));
}

/**
 * Whether a keyword said over the row's channel is one Twilio keeps as an SMS opt-out: over SMS
 * or MMS (no channel), and over RCS (one with SMS per sender since March 2026). A STOP over
 * WhatsApp is on the list (the safe reading) but refuses no SMS (docs/opt-out-rules.md).
 */
const blocksSms = (row: OptOutExportRow): boolean =>
  row.channel === null || row.channel === '' || row.channel === 'rcs';

/**
 * A row every sender of which is toll-free: no Consent API record would protect any send of
 * it. A service-wide row that also stands for local numbers is only partly so: a record
 * written for it makes Twilio refuse the local numbers' sends, so whether one was written
 * still matters.
 */
function whollyOutsideConsent(row: OptOutExportRow, customer: PlanCustomer): boolean {
  if (row.scope === 'number') return outsideConsent(row, customer);
  const senders =
    customer.messaging_service !== null
      ? customer.numbers.map((n) => n.phone_number)
      : serviceRowNumbers(row, customer);
  return senders.length > 0 && senders.every((phone) => isTollFree(phone));
}

/** Per customer and per record, what the carry did and what protects the customer now. */
export function carryAudit<Row extends OptOutExportRow>(
  plan: Plan,
  targets: readonly CustomerTarget[],
  steps: ReadonlyMap<string, StepRecord>,
  items: ReadonlyMap<string, readonly ConsentItemRecord[]>,
  list: {
    /** The list's rows, read once and counted per customer, not held. */
    rows: Iterable<Row>;
    enforced: (row: Row) => boolean;
    /**
     * Whether the row's records were written, toll-free senders apart (`twilioEnforces` with
     * `apartFromTollFree`): a row Twilio does not enforce only because of a toll-free number.
     * Left out, every row with a toll-free sender counts as such.
     */
    writtenApartFromTollFree?: (row: Row) => boolean;
    /** Customers whose list cannot be vouched for (an account their numbers came from unread). */
    unknown?: ReadonlySet<string>;
    /**
     * Customers whose numbers came from an account with spans of history no completed snapshot
     * read: their lists hold what was read only.
     */
    partial?: ReadonlySet<string>;
    /** Customers with a number outside the Messaging Service its opt-outs were written for. */
    outsideService?: ReadonlySet<string>;
  } | null,
): CarryAudit {
  const planned = plan.options.carry_optouts === true;
  const byCustomer = new Map(targets.map((t) => [t.customer_id, t]));
  const carrySteps = new Map(
    plan.steps
      .filter((s): s is CarryOptOutsStep => s.action === 'carry_optouts')
      .map((s) => [s.customer_id, s]),
  );
  // Per customer: its rows, those Twilio enforces, and those no write can protect (a send from
  // a toll-free number is never refused).
  const customersById = new Map(plan.customers.map((c) => [c.customer_id, c]));
  const tally = new Map<
    string | null,
    { rows: number; enforced: number; saidThere: number; uncoverable: number; tollFree: number }
  >();
  for (const row of list?.rows ?? []) {
    let own = tally.get(row.customer_id);
    if (own === undefined)
      tally.set(
        row.customer_id,
        (own = { rows: 0, enforced: 0, saidThere: 0, uncoverable: 0, tollFree: 0 }),
      );
    own.rows += 1;
    if (list!.enforced(row)) {
      own.enforced += 1;
      // Enforced since its STOP was said in the subaccount itself, not by a record written.
      if (
        row.evidence === 'keyword' &&
        blocksSms(row) &&
        row.account_sid !== null &&
        row.account_sid === byCustomer.get(String(row.customer_id))?.subaccount_sid
      ) {
        own.saidThere += 1;
      }
    }
    const customer = row.customer_id === null ? undefined : customersById.get(row.customer_id);
    // A row the toll-free number alone leaves unenforced: all its senders are toll-free, or
    // its records were written for the others. One with nothing written for its local senders
    // is unenforced for the carry's reason too (a plan without --carry-optouts, a failed step).
    if (customer !== undefined && outsideConsent(row, customer)) {
      own.tollFree += 1;
      if (whollyOutsideConsent(row, customer) || (list!.writtenApartFromTollFree?.(row) ?? true)) {
        own.uncoverable += 1;
      }
    }
  }
  const results: CarryItemResult[] = [];
  const customers = plan.customers.map((customer): CarryRow => {
    const id = customer.customer_id;
    const step = carrySteps.get(id);
    const record = step === undefined ? undefined : steps.get(step.id);
    const own = step === undefined ? [] : (items.get(step.id) ?? []);
    for (const item of own) {
      results.push({
        customer_id: id,
        step: step!.id,
        correlation_id: item.correlationId,
        sender_id: item.senderId,
        contact_id: item.contactId,
        date_of_consent: item.dateOfConsent,
        result: resultOf(item),
        error_code: item.errorCode,
        error_messages: item.errorMessages ?? [],
        answered_at: item.answeredAt,
      });
    }
    const count = (result: CarryItemResult['result']) =>
      own.filter((item) => resultOf(item) === result).length;
    const toCarry = step?.optouts ?? 0;
    const written = count('written');
    const rejected = count('rejected');
    const listed = list === null || list.unknown?.has(id) ? null : tally.get(id);
    const rows = listed === null ? null : (listed?.rows ?? 0);
    const enforced = listed === null ? null : (listed?.enforced ?? 0);
    const uncoverable = listed?.uncoverable ?? 0;
    const tollFree = listed?.tollFree ?? 0;
    const saidThere = listed?.saidThere ?? 0;
    const target = byCustomer.get(id);
    return {
      customer_id: id,
      customer_name: customer.customer_name,
      subaccount_sid: target?.subaccount_sid ?? null,
      sender_id:
        step === undefined
          ? null
          : step.sender === 'service'
            ? (target?.messaging_service_sid ?? null)
            : 'numbers',
      carry_step:
        step === undefined ? (planned ? 'none' : 'not_planned') : (record?.state ?? 'pending'),
      optouts_to_carry: toCarry,
      written,
      rejected,
      not_written: toCarry - written - rejected,
      list_rows: rows,
      twilio_enforces_rows: enforced,
      protection: protection(
        planned,
        step,
        record,
        rejected,
        rows,
        { enforced, saidThere, uncoverable, tollFree },
        list?.outsideService?.has(id) === true,
        list?.partial?.has(id) === true,
      ),
    };
  });
  return { planned, customers, items: results };
}

function protection(
  planned: boolean,
  step: CarryOptOutsStep | undefined,
  record: StepRecord | undefined,
  rejected: number,
  rows: number | null,
  counts: Omit<RowCounts, 'enforced'> & { enforced: number | null },
  /** A number of the customer is not in the service the opt-outs were written for. */
  outsideService: boolean,
  /** Part of the history of an account its numbers came from was never read. */
  partial: boolean,
): string {
  const { enforced } = counts;
  if (rows === null || enforced === null) {
    return 'unknown: no completed snapshot has read the account its numbers came from, so no suppression list to vouch for';
  }
  const said = whatProtects(
    planned,
    step,
    record,
    rejected,
    rows,
    { ...counts, enforced },
    outsideService,
  );
  return partial
    ? `${said}; but its list is not whole: part of the history of an account its numbers came from was never read (see coverage.txt), and the opt-outs received then are on no list, so neither the list nor Twilio refuses sends to them`
    : said;
}

/** A customer's list rows, as Twilio stands to them. */
interface RowCounts {
  /** Rows Twilio refuses. */
  enforced: number;
  /** Of those, rows whose STOP was said in the customer's subaccount itself. */
  saidThere: number;
  /** Rows a toll-free sender alone leaves unenforced (all their senders are, or their records were written). */
  uncoverable: number;
  /** Rows with a toll-free sender, whether or not that is all that leaves them unenforced. */
  tollFree: number;
}

function whatProtects(
  planned: boolean,
  step: CarryOptOutsStep | undefined,
  record: StepRecord | undefined,
  rejected: number,
  rows: number,
  { enforced, saidThere, uncoverable, tollFree }: RowCounts,
  outsideService: boolean,
): string {
  if (rows === 0) return 'no opt-outs on its suppression list';
  if (enforced === rows) {
    return `Twilio refuses sends to every opt-out on its suppression list (${
      saidThere === 0
        ? 'written through the Consent Management API'
        : saidThere === rows
          ? 'each said to it in the subaccount'
          : 'written through the Consent Management API, or said to it in the subaccount'
    })`;
  }
  // Why the rows a write could protect are not protected; `enforced` counts this run's writes
  // and earlier runs'.
  const reason = !planned
    ? `the plan was made without --carry-optouts${enforced > saidThere ? ' (an earlier run wrote the others)' : ''}`
    : step === undefined
      ? 'no carry step: nothing was left to write when the plan was made'
      : record?.state === 'failed'
        ? // Its last full stop dropped: a reason in brackets, maybe followed by "; and …".
          `carry_optouts failed: ${(record.errorMessage ?? '').replace(/\.\s*$/, '')}`
        : record?.state === 'done' || record?.state === 'skipped'
          ? rejected > 0
            ? `Twilio rejected ${rejected} of them`
            : outsideService
              ? 'written for its Messaging Service, which not all of its numbers are in (their attach_number or detach_number did not finish)'
              : 'opt-outs recorded after the plan was made'
          : `carry_optouts is ${stateWords(record?.state ?? 'pending')}`;
  const why = [
    ...(rows - enforced > uncoverable ? [reason] : []),
    ...(tollFree > 0 ? ['the Consent Management API does not cover its toll-free numbers'] : []),
  ].join('; and ');
  if (enforced === 0) return `the suppression list is its only protection (${why})`;
  return `Twilio refuses sends to ${enforced} of the ${rows} rows of its suppression list; for the other ${rows - enforced}, the list is the only protection (${why})`;
}
