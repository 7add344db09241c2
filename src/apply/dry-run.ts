/**
 * `apply --dry-run`'s list: every request apply would send, in order — method, URL, form
 * fields and whose credentials — made from the plan and the journal alone, without sending
 * any or opening a connection (the local refusals that come first are `rehearseApply`'s). Steps the journal has already finished are left out;
 * what earlier steps will create is named, not guessed. A step a killed apply left in flight
 * is listed with a mark: apply reads the live state first and sends it again only if it did
 * not take effect, so its request (and, for a subaccount it created, the fetch of that
 * subaccount's token instead) depends on what is there.
 */

import type { ConsentItemRecord } from '../db/consent-journal.js';
import type { StepRecord } from '../db/journal.js';
import { carryItemsOf } from '../plan/carry.js';
import { shownUrl } from '../plan/routes.js';
import type { CarryOptOutsStep, Plan, PlanStep } from '../plan/types.js';
import { needsSend } from './carry.js';
import { fallbackFields } from './perform.js';
import { targetsFrom } from './targets.js';

const API = 'https://api.twilio.com/2010-04-01';

/** `inbound_request_url` → `InboundRequestUrl`, as the form field is named. */
const pascal = (key: string) =>
  key.replace(/(^|_)([a-z])/g, (_, __: string, letter: string) => letter.toUpperCase());
const MESSAGING = 'https://messaging.twilio.com/v1';
const CONSENTS = 'https://accounts.twilio.com/v1/Consents/Bulk';
const IN_FLIGHT = '# in flight: sent only if it did not take effect';
const IF_ADOPTED = '# only if the create left in flight took effect and is adopted';

/**
 * The contacts a Consent API batch names, as its line tells them: its first and last record's,
 * said so, or its only one. The records are in the plan's order (by sender, then contact), not
 * a run of numbers: written `+1…01…+1…99`, the two read as a range of ids the batch does not
 * hold.
 */
function contactsOf(batch: readonly { contact_id: string }[]): string {
  const first = batch[0]!.contact_id;
  return batch.length === 1 ? first : `first ${first}, last ${batch.at(-1)!.contact_id}`;
}

/**
 * A carry step's requests still to send, each a batch of records: the plan's, `batch_size` at
 * a time, until the step has run; once it has, the records its journal fixed, only those
 * Twilio has not answered for (or answered "try again"), in the batches they were fixed in —
 * what apply sends when it takes the step up.
 */
function carryBatches(
  plan: Plan,
  step: CarryOptOutsStep,
  journaled: readonly ConsentItemRecord[],
): { batch: number; of: number; contacts: { contact_id: string; sender: string | null }[] }[] {
  if (journaled.length === 0) {
    const items = carryItemsOf(plan, step.id);
    const batches = [];
    for (let at = 0, batch = 1; at < items.length; at += step.batch_size, batch++) {
      const chunk = items.slice(at, at + step.batch_size);
      const contacts = chunk.map((i) => ({ contact_id: i.contact_id, sender: i.sender_number }));
      batches.push({ batch, of: step.requests, contacts });
    }
    return batches;
  }
  const of = journaled.reduce((n, item) => Math.max(n, item.batch + 1), 0);
  const byBatch = new Map<number, { contact_id: string; sender: string | null }[]>();
  for (const item of journaled.filter(needsSend)) {
    const list = byBatch.get(item.batch) ?? [];
    // A number's record names it; a service's is written for the service the step names.
    list.push({
      contact_id: item.contactId,
      sender: step.sender === 'service' ? null : item.senderId,
    });
    byBatch.set(item.batch, list);
  }
  return [...byBatch].map(([batch, contacts]) => ({ batch: batch + 1, of, contacts }));
}

/**
 * The subaccounts apply's drift check reads, as far as the plan and the journal name them: the
 * customers' own (pinned, reused, or created by an earlier run) and those the plan's numbers
 * leave, in the plan's order. (It also reads any other active subaccount with a customer's
 * name, and those a move under way left: the plan does not name them.)
 */
function existingSubaccounts(plan: Plan, targets: ReturnType<typeof targetsFrom>): string[] {
  const accounts = new Set<string>();
  for (const customer of plan.customers) {
    const sid = targets.subaccountOf(customer.customer_id);
    if (sid !== null) accounts.add(sid);
  }
  for (const step of plan.steps) {
    if (step.action === 'detach_number') accounts.add(step.account_sid);
    if (step.action === 'transfer_number') accounts.add(step.from_account_sid);
  }
  accounts.delete(plan.parent_account_sid);
  return [...accounts];
}

export function dryRunRequests(
  plan: Plan,
  records: ReadonlyMap<string, StepRecord>,
  consentItems: ReadonlyMap<string, readonly ConsentItemRecord[]> = new Map(),
  credentials: 'auth-token' | 'api-key' = 'auth-token',
  /** The accounts a completed snapshot has read: only their history is read after the moves. */
  historyRead: ReadonlySet<string> = new Set(),
): string[] {
  const targets = targetsFrom(plan, records as Map<string, StepRecord>);
  const subaccount = (customerId: string) =>
    targets.subaccountOf(customerId) ?? `{subaccount created for ${customerId}}`;
  const service = (customerId: string) =>
    targets.serviceOf(customerId) ?? `{service created for ${customerId}}`;
  const lines = [
    `# read-only first (apply's drift check; this dry run sends no request, so it cannot tell a stale plan): GET ${API}/Accounts.json, the IncomingPhoneNumbers of every account and the Messaging Services of the accounts the plan touches, a subaccount's with its own Auth Token fetched with the parent's credentials (the drift check)`,
  ];
  const tokenFetched = new Set<string>();
  // Subaccounts whose create was left in flight: adopted (then its token is fetched) or
  // created again (then the token comes with the answer).
  const createdOrAdopted = new Set<string>();
  const asAccount = (account: string) => {
    if (account === plan.parent_account_sid) return '(parent credentials)';
    if (!tokenFetched.has(account)) {
      tokenFetched.add(account);
      lines.push(
        `GET    ${API}/Accounts/${account}.json   (parent credentials: the subaccount's own Auth Token, kept in memory only)${createdOrAdopted.has(account) ? `   ${IF_ADOPTED}` : ''}`,
      );
    }
    return `(credentials of ${account})`;
  };
  const stateOf = (step: PlanStep) => records.get(step.id)?.state;
  // Apply's drift check reads the Messaging Services of every subaccount there already is
  // among those the plan touches, with its own Auth Token: each token is fetched then, before
  // any step, and kept for the steps. Listed at the first step that used it, the fetch came
  // after writes apply sends after it.
  for (const account of existingSubaccounts(plan, targets)) asAccount(account);
  for (const step of plan.steps) {
    // A create left in flight: adopted, the subaccount is there for the drift check to read.
    if (step.action === 'create_subaccount' && stateOf(step) === 'in_flight') {
      const account = subaccount(step.customer_id);
      createdOrAdopted.add(account);
      asAccount(account);
    }
  }
  // A carry left in flight is not settled from live state but taken up: not counted here.
  const inFlight = plan.steps.filter(
    (step) => stateOf(step) === 'in_flight' && step.action !== 'carry_optouts',
  ).length;
  if (inFlight > 0) {
    lines.push(
      `# ${inFlight} step${inFlight === 1 ? ' was' : 's were'} in flight when the last apply stopped (marked ${IN_FLIGHT}): apply reads the live state first and sends such a step again only if it did not take effect`,
    );
  }
  for (const step of plan.steps) {
    const state = stateOf(step);
    if (state === 'done' || state === 'skipped') continue;
    const first = lines.length;
    switch (step.action) {
      case 'create_subaccount':
        // Its Auth Token comes with the answer: no request of its own; unless the create was
        // left in flight and is adopted, when the token is fetched like any other's.
        if (state !== 'in_flight') tokenFetched.add(subaccount(step.customer_id));
        lines.push(
          `POST   ${API}/Accounts.json  FriendlyName=${JSON.stringify(step.friendly_name)}   (parent credentials; the answer carries the subaccount's Auth Token, kept in memory only)`,
        );
        break;
      case 'detach_number': {
        const who = asAccount(step.account_sid);
        lines.push(
          `DELETE ${MESSAGING}/Services/${step.service_sid}/PhoneNumbers/${step.number_sid}   ${who}   # ${step.phone_number}`,
        );
        break;
      }
      case 'transfer_number':
        lines.push(
          `POST   ${API}/Accounts/${step.from_account_sid}/IncomingPhoneNumbers/${step.number_sid}.json  AccountSid=${subaccount(step.customer_id)}   (parent credentials)   # ${step.phone_number}`,
        );
        break;
      case 'create_service': {
        const who = asAccount(subaccount(step.customer_id));
        const fields = Object.entries(step.settings)
          .map(([key, value]) => `${pascal(key)}=${shownUrl(String(value))}`)
          .join(' ');
        lines.push(
          `POST   ${MESSAGING}/Services  FriendlyName=${JSON.stringify(step.friendly_name)}${fields === '' ? '' : ` ${fields}`}   ${who}`,
        );
        break;
      }
      case 'set_number_webhook': {
        const account = subaccount(step.customer_id);
        // An API key reaches a subaccount's 2010 resources only with the subaccount's own
        // Auth Token (the port's client2010); the parent's Auth Token reaches them itself.
        const who = credentials === 'api-key' ? asAccount(account) : '(parent credentials)';
        const fallback = Object.entries(fallbackFields(step))
          .map(([field, value]) => ` ${field}=${shownUrl(value)}`)
          .join('');
        lines.push(
          `POST   ${API}/Accounts/${account}/IncomingPhoneNumbers/${step.number_sid}.json  SmsUrl=${shownUrl(step.sms_url)} SmsMethod=${step.sms_method}${fallback}   ${who}   # ${step.phone_number}`,
        );
        break;
      }
      case 'attach_number': {
        const who = asAccount(subaccount(step.customer_id));
        lines.push(
          `POST   ${MESSAGING}/Services/${service(step.customer_id)}/PhoneNumbers  PhoneNumberSid=${step.number_sid}   ${who}   # ${step.phone_number}`,
        );
        break;
      }
      case 'carry_optouts': {
        // One request per batch still to send. A carry left in flight is always taken up
        // again (its records are upserts): its lines are sent, and carry no in-flight mark.
        const batches = carryBatches(plan, step, consentItems.get(step.id) ?? []);
        if (batches.length === 0) break;
        const who = asAccount(subaccount(step.customer_id));
        for (const { batch, of, contacts } of batches) {
          const sender =
            step.sender === 'service'
              ? service(step.customer_id)
              : [...new Set(contacts.map((item) => item.sender))].join(',');
          lines.push(
            `POST   ${CONSENTS}  Items=${contacts.length} × {status: opt-out, source: opt-out-message, sender_id: ${sender}, contact_id: ${contactsOf(contacts)}}   ${who}   # ${step.id} batch ${batch} of ${of}`,
          );
        }
        continue;
      }
    }
    if (state === 'in_flight') {
      for (let i = first; i < lines.length; i++) {
        if (!lines[i]!.startsWith('GET ')) lines[i] = `${lines[i]}   ${IN_FLIGHT}`;
      }
    }
  }
  lines.push(...readsAfterTheMoves(plan, historyRead));
  return lines;
}

/**
 * After the steps, apply reads the history of the accounts the plan's numbers leave up to the
 * moves (`readUpToTheMoves`), those a snapshot has read before: reads only, said in a `#` line
 * as the drift check's are.
 */
function readsAfterTheMoves(plan: Plan, historyRead: ReadonlySet<string>): string[] {
  if (!historyRead.has(plan.parent_account_sid)) return [];
  const left = new Set<string>();
  for (const step of plan.steps) {
    if (step.action === 'transfer_number' && historyRead.has(step.from_account_sid)) {
      left.add(step.from_account_sid);
    }
  }
  if (left.size === 0) return [];
  left.add(plan.parent_account_sid);
  const accounts = [...left].map((sid) =>
    sid === plan.parent_account_sid ? `${sid} (parent)` : sid,
  );
  return [
    `# read-only after the steps (the history the numbers leave, read up to their moves, as plan's refresh reads it): GET ${API}/Accounts/{sid}.json, its IncomingPhoneNumbers, its Messaging Services and its Messages.json since the last read, for ${accounts.join(', ')}, a subaccount's with its own Auth Token`,
  ];
}

/**
 * The dry run reads nothing, so a STOP said to the plan's numbers since the plan was made is in
 * none of its carry batches, and apply would not carry it either: apply finds it only in its
 * read after the moves (the plan's carry records are sealed), and puts it on the list as one
 * Twilio does not enforce. Said in a `#` line while a carry is still to come (a carry step or a
 * move of its customer not done), with the snapshot that lets apply, and this dry run, see it
 * before anything moves: they then refuse the plan over it, and the plan made again carries it.
 */
export function notReadSinceThePlan(
  plan: Plan,
  records: ReadonlyMap<string, StepRecord>,
  snapshot: (accounts: readonly string[]) => string,
): string[] {
  if (plan.options.carry_optouts !== true) return [];
  const open = (step: PlanStep) => {
    const state = records.get(step.id)?.state;
    return state !== 'done' && state !== 'skipped';
  };
  const toCome = plan.steps.filter(
    (step) => (step.action === 'carry_optouts' || step.action === 'transfer_number') && open(step),
  );
  if (toCome.length === 0) return [];
  const sources = toCome.flatMap((step) =>
    step.action === 'transfer_number' ? [step.from_account_sid] : [],
  );
  return [
    `# not read since the plan was made (${plan.created_at}): this dry run reads no message, so a STOP said to the plan's numbers since then is in none of the carry batches above, and apply would not carry it either: it finds it only in its read after the moves, when the numbers have left the account that enforced it, and puts it on the customer's list as one Twilio does not refuse in the subaccount. Run \`${snapshot(sources)}\` first: apply, and this dry run, then refuse the plan over such a STOP, and the plan made again carries it`,
  ];
}
