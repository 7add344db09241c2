/**
 * `apply --dry-run`: every request apply would send, in order — method, URL, form fields and
 * whose credentials — without sending any, or opening a connection. Steps the journal has
 * already finished are left out; what earlier steps will create is named, not guessed.
 */

import type { StepRecord } from '../db/journal.js';
import { carryItemsOf } from '../plan/carry.js';
import type { Plan, PlanStep } from '../plan/types.js';
import { targetsFrom } from './targets.js';

const API = 'https://api.twilio.com/2010-04-01';

/** `inbound_request_url` → `InboundRequestUrl`, as the form field is named. */
const pascal = (key: string) =>
  key.replace(/(^|_)([a-z])/g, (_, __: string, letter: string) => letter.toUpperCase());
const MESSAGING = 'https://messaging.twilio.com/v1';
const CONSENTS = 'https://accounts.twilio.com/v1/Consents/Bulk';

export function dryRunRequests(plan: Plan, records: ReadonlyMap<string, StepRecord>): string[] {
  const targets = targetsFrom(plan, records as Map<string, StepRecord>);
  const subaccount = (customerId: string) =>
    targets.subaccountOf(customerId) ?? `{subaccount created for ${customerId}}`;
  const service = (customerId: string) =>
    targets.serviceOf(customerId) ?? `{service created for ${customerId}}`;
  const lines = [
    `# read-only first: GET ${API}/Accounts.json, the IncomingPhoneNumbers of every account and the Messaging Services of the accounts the plan touches (the drift check)`,
  ];
  const tokenFetched = new Set<string>();
  const asAccount = (account: string) => {
    if (account === plan.parent_account_sid) return '(parent credentials)';
    if (!tokenFetched.has(account)) {
      tokenFetched.add(account);
      lines.push(
        `GET    ${API}/Accounts/${account}.json   (parent credentials: the subaccount's own Auth Token, kept in memory only)`,
      );
    }
    return `(credentials of ${account})`;
  };
  const finished = (step: PlanStep) => {
    const state = records.get(step.id)?.state;
    return state === 'done' || state === 'skipped';
  };
  for (const step of plan.steps) {
    if (finished(step)) continue;
    switch (step.action) {
      case 'create_subaccount':
        // Its Auth Token comes with the answer: no request of its own.
        tokenFetched.add(subaccount(step.customer_id));
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
          .map(([key, value]) => `${pascal(key)}=${String(value)}`)
          .join(' ');
        lines.push(
          `POST   ${MESSAGING}/Services  FriendlyName=${JSON.stringify(step.friendly_name)}${fields === '' ? '' : ` ${fields}`}   ${who}`,
        );
        break;
      }
      case 'set_number_webhook': {
        const account = subaccount(step.customer_id);
        lines.push(
          `POST   ${API}/Accounts/${account}/IncomingPhoneNumbers/${step.number_sid}.json  SmsUrl=${step.sms_url} SmsMethod=${step.sms_method}   (parent credentials)   # ${step.phone_number}`,
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
        // One request per batch: the records the plan lists, `batch_size` at a time.
        const who = asAccount(subaccount(step.customer_id));
        const items = carryItemsOf(plan, step.id);
        for (let at = 0, batch = 1; at < items.length; at += step.batch_size, batch++) {
          const chunk = items.slice(at, at + step.batch_size);
          const sender =
            step.sender === 'service'
              ? service(step.customer_id)
              : [...new Set(chunk.map((item) => item.sender_number))].join(',');
          lines.push(
            `POST   ${CONSENTS}  Items=${chunk.length} × {status: opt-out, source: opt-out-message, sender_id: ${sender}, contact_id ${chunk[0]!.contact_id}…${chunk.at(-1)!.contact_id}}   ${who}   # ${step.id} batch ${batch} of ${step.requests}`,
          );
        }
        break;
      }
    }
  }
  return lines;
}
