/**
 * A `carry_optouts` step: the plan's records for the customer written into its subaccount
 * through the Consent Management API, with the subaccount's own credentials, `batch_size` to
 * a request, one request at a time (the limiter holds them to Twilio's 100 a minute).
 *
 * The first time the step runs, every record is fixed in the journal with its correlation_id
 * (derived from subaccount, sender_id and contact_id) and its batch. Before each request its
 * send is committed; after the answer, the result of every record in it. A run taken up again
 * (after a failure, or a crash) sends only the records with no answer on record, with the ids
 * the journal holds: never new ones. A batch that got no certain answer (no answer, a 5xx) is
 * simply sent again: Twilio upserts each record by its correlation_id, so a record written
 * twice is written once.
 *
 * Records Twilio rejects (30646) are results, not failures: they stay on the customer's
 * suppression list and the audit lists them. A record answered with INTERNAL_SERVER_ERROR is
 * sent again. A subaccount without Consent API access fails the step with a message that says
 * so; the moves before it stand.
 */

import { isoSeconds, type Clock } from '../clock.js';
import {
  insertConsentItems,
  listConsentItems,
  recordBatchAnswer,
  recordBatchFailure,
  recordBatchSend,
  type ConsentItemRecord,
  type ItemAnswer,
} from '../db/consent-journal.js';
import type { LockTaker, StepOutcome } from '../db/journal.js';
import type { Db } from '../db/open.js';
import { TwilioError } from '../errors.js';
import { carryItemsOf, correlationId } from '../plan/carry.js';
import type { CarryOptOutsStep, Plan } from '../plan/types.js';
import type { ConsentRecord, ConsentResult, TwilioPort } from '../twilio/port.js';
import type { Targets } from './targets.js';

export interface CarryDeps {
  db: Db;
  twilio: TwilioPort;
  clock: Clock;
  runId: number;
  /** The apply sending: each batch is sent only while it holds the lock (`recordBatchSend`). */
  lockedBy?: LockTaker;
}

/** Twilio's reason for a record it could not write this time, but may the next. */
const RETRY_REASON = 'INTERNAL_SERVER_ERROR';
/** Passes over the records still to write, within one run of the step. */
const MAX_PASSES = 3;

/** A record apply sends (again): Twilio has not answered for it, or answered "try again". */
export const needsSend = (item: ConsentItemRecord) =>
  item.errorCode === null || (item.errorMessages ?? []).includes(RETRY_REASON);

/** Each record as the step sends it: an opt-out, learnt from an opt-out message. */
const asRecord = (item: ConsentItemRecord): ConsentRecord => ({
  contactId: item.contactId,
  correlationId: item.correlationId,
  senderId: item.senderId,
  status: 'opt-out',
  source: 'opt-out-message',
  dateOfConsent: item.dateOfConsent,
});

/** The sender_id of the step's records: the customer's service, or each record's number. */
export function senderOf(step: CarryOptOutsStep, targets: Targets): string | null {
  return step.sender === 'service' ? targets.serviceOf(step.customer_id) : null;
}

/**
 * The records fixed for this run of the plan, the first time from the plan: with the
 * subaccount and service SIDs known by now, each gets its correlation_id and its batch.
 */
function journaledItems(
  plan: Plan,
  step: CarryOptOutsStep,
  account: string,
  service: string | null,
  deps: CarryDeps,
): ConsentItemRecord[] {
  const known = listConsentItems(deps.db, deps.runId, step.id);
  if (known.length > 0) return known;
  const planned = carryItemsOf(plan, step.id);
  insertConsentItems(
    deps.db,
    deps.runId,
    step.id,
    planned.map((item, position) => {
      const senderId = item.sender_number ?? service;
      if (senderId === null) throw new Error(`${step.id}: a record has no sender_id`);
      return {
        batch: Math.floor(position / step.batch_size),
        correlationId: correlationId(account, senderId, item.contact_id),
        accountSid: account,
        senderId,
        contactId: item.contact_id,
        dateOfConsent: item.date_of_consent,
      };
    }),
  );
  return listConsentItems(deps.db, deps.runId, step.id);
}

/** Each result matched to its record: by correlation_id, else by its place in the answer. */
function answersFor(sent: readonly ConsentItemRecord[], results: readonly ConsentResult[]) {
  const ids = new Set(sent.map((item) => item.correlationId));
  const answers: ItemAnswer[] = [];
  results.forEach((result, index) => {
    const id =
      result.correlationId !== null && ids.has(result.correlationId)
        ? result.correlationId
        : results.length === sent.length
          ? sent[index]!.correlationId
          : null;
    if (id === null || result.errorCode === null) return;
    answers.push({
      correlationId: id,
      errorCode: result.errorCode,
      errorMessages: result.errorMessages,
    });
  });
  return answers;
}

/**
 * After a 403: the subaccount's status when it is suspended or closed, read with the parent's
 * credentials. Twilio answers such an account's own credentials 403 / 20403 ("Typically this
 * means the account has been suspended or closed"), the code an account without Consent API
 * access gets too. Null when it is active, or cannot be read (the 403 is then told as before).
 */
async function inactiveStatus(twilio: TwilioPort, account: string): Promise<string | null> {
  try {
    const { status } = await twilio.fetchAccount(account);
    return status === 'active' ? null : status;
  } catch (error) {
    if (error instanceof TwilioError) return null;
    throw error;
  }
}

function failure(
  account: string,
  unwritten: number,
  batch: number,
  batches: number,
  error: TwilioError,
  inactive: string | null = null,
): StepOutcome {
  // A 403 is told with advice of the carry's own below: Twilio's words without the client's
  // (check the subaccount, run the command again), or the message would say two things to do.
  const said = error.status === 403 ? (error.answered ?? error.message) : error.message;
  const twilio = `HTTP ${error.status === 0 ? 'no answer' : error.status}${error.code === null ? '' : `, Twilio ${error.code}`}: ${said}`;
  let message: string;
  if (error.status === 403 && inactive !== null) {
    message =
      `subaccount ${account} is ${inactive}, and Twilio refuses its credentials (${twilio}): ` +
      `${unwritten} opt-out(s) of the customer are not written into it, and its suppression list is their only protection. ` +
      `The moves stand. Make the subaccount active again (Status=active, with the parent's credentials; a closed one cannot be), then run apply again.`;
  } else if (error.status === 403) {
    message =
      `subaccount ${account} has no access to Twilio's Consent Management API (${twilio}): ` +
      `${unwritten} opt-out(s) of the customer are not written into it, and its suppression list is their only protection. ` +
      `The moves stand. Ask Twilio for Consent Management API access for the subaccount, then run apply again.`;
  } else if (error.status === 0 || error.status >= 500) {
    message =
      `batch ${batch + 1} of ${batches} got no certain answer (${twilio}); consent records are upserts by ` +
      `correlation_id, so it is sent again with the same ids`;
  } else if (error.status === 429) {
    message =
      `Twilio's Consent Management API limit for subaccount ${account} held batch ${batch + 1} of ${batches} back ` +
      `through every retry, a minute or two (${twilio}): another client may be writing consents there too. ` +
      `${unwritten} opt-out(s) are not written yet; run apply again to write them (records already written are not sent again).`;
  } else {
    message = `Twilio refused batch ${batch + 1} of ${batches} whole (${twilio}); ${unwritten} opt-out(s) are not written`;
  }
  return { state: 'failed', status: error.status, code: error.code, message };
}

export async function carryOptOuts(
  plan: Plan,
  step: CarryOptOutsStep,
  targets: Targets,
  deps: CarryDeps,
): Promise<StepOutcome> {
  const now = () => isoSeconds(deps.clock.now());
  const account = targets.subaccountOf(step.customer_id);
  const service = senderOf(step, targets);
  if (account === null || (step.sender === 'service' && service === null)) {
    throw new Error(
      `${step.id}: its subaccount or service is not known: a step before it has not finished`,
    );
  }
  const items = journaledItems(plan, step, account, service, deps);
  const batches = items.reduce((n, item) => Math.max(n, item.batch + 1), 0);
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const byBatch = new Map<number, ConsentItemRecord[]>();
    for (const item of items) {
      if (!needsSend(item)) continue;
      const list = byBatch.get(item.batch) ?? [];
      list.push(item);
      byBatch.set(item.batch, list);
    }
    if (byBatch.size === 0) break;
    for (const [batch, sent] of byBatch) {
      recordBatchSend(deps.db, deps.runId, step.id, batch, now(), deps.lockedBy);
      let results: ConsentResult[];
      try {
        results = await deps.twilio.writeConsents(account, sent.map(asRecord));
      } catch (error) {
        if (!(error instanceof TwilioError)) throw error;
        recordBatchFailure(deps.db, deps.runId, step.id, batch, {
          status: error.status,
          code: error.code,
          message: error.message,
        });
        const inactive = error.status === 403 ? await inactiveStatus(deps.twilio, account) : null;
        return failure(account, items.filter(needsSend).length, batch, batches, error, inactive);
      }
      const at = now();
      const answers = answersFor(sent, results);
      recordBatchAnswer(deps.db, deps.runId, step.id, batch, at, 201, answers);
      const byId = new Map(answers.map((a) => [a.correlationId, a]));
      for (const item of sent) {
        const answer = byId.get(item.correlationId);
        if (answer === undefined) continue;
        item.errorCode = answer.errorCode;
        item.errorMessages = answer.errorMessages;
        item.answeredAt = at;
      }
    }
  }
  const written = items.filter((item) => item.errorCode === 0).length;
  const open = items.filter(needsSend).length;
  const rejected = items.length - written - open;
  if (open > 0) {
    return {
      state: 'failed',
      status: null,
      code: null,
      message: `${open} of ${items.length} opt-out(s) got no result from Twilio after ${MAX_PASSES} tries (no result for them, or ${RETRY_REASON}); run apply again to send them again, with the same correlation_ids`,
    };
  }
  return {
    state: 'done',
    result: {
      subaccount_sid: account,
      sender_id: service ?? 'numbers',
      written: String(written),
      rejected: String(rejected),
    },
    ...(rejected > 0
      ? {
          how: `${rejected} of ${items.length} opt-out record(s) rejected by Twilio (30646): they stay on the suppression list, listed in the audit`,
        }
      : {}),
  };
}
