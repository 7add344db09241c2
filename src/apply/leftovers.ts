/**
 * A create whose answer was lost is settled from the live state and, when nothing is there,
 * sent again. If Twilio carried out the first request only after the tool had looked (a
 * request that timed out on the client but was still on its way), both took effect: two
 * subaccounts, or two services, with the planned name, and the run adopted one of them.
 * After the steps, every create that took more than one send is looked at again, and any
 * further resource with its name, made since the plan, is named here: nothing uses it, and a
 * person must close it. Until then the run is not complete (and the next apply's drift check
 * would see it too).
 */

import type { StepRecord } from '../db/journal.js';
import { servicesNamedKey, subaccountsNamedKey } from '../plan/resources.js';
import type { Plan, PlanStep } from '../plan/types.js';
import type { Account, MessagingService, TwilioPort } from '../twilio/port.js';

export interface Leftover {
  stepId: string;
  kind: 'subaccount' | 'service';
  sid: string;
  friendlyName: string;
  /** The account it lives in: the parent's SID for a subaccount. */
  accountSid: string;
}

type CreateStep = Extract<PlanStep, { action: 'create_subaccount' | 'create_service' }>;

export async function findLeftovers(
  plan: Plan,
  records: ReadonlyMap<string, StepRecord>,
  twilio: Pick<TwilioPort, 'listSubaccounts' | 'listServices'>,
): Promise<Leftover[]> {
  const resent = plan.steps.filter(
    (step): step is CreateStep =>
      (step.action === 'create_subaccount' || step.action === 'create_service') &&
      records.get(step.id)?.state === 'done' &&
      (records.get(step.id)?.attempts ?? 0) > 1,
  );
  if (resent.length === 0) return [];
  const before = (key: string) => (plan.observed.get(key) ?? []) as string[];
  let subaccounts: Promise<Account[]> | undefined;
  const services = new Map<string, Promise<MessagingService[]>>();
  const leftovers: Leftover[] = [];
  for (const step of resent) {
    const result = records.get(step.id)!.result ?? {};
    if (step.action === 'create_subaccount') {
      const kept = result['subaccount_sid'];
      const known = before(subaccountsNamedKey(step.friendly_name));
      for (const account of await (subaccounts ??= twilio.listSubaccounts())) {
        if (
          account.status === 'active' &&
          account.friendlyName === step.friendly_name &&
          account.sid !== kept &&
          !known.includes(account.sid)
        ) {
          leftovers.push({
            stepId: step.id,
            kind: 'subaccount',
            sid: account.sid,
            friendlyName: step.friendly_name,
            accountSid: plan.parent_account_sid,
          });
        }
      }
    } else {
      const account = result['account_sid'];
      const kept = result['service_sid'];
      if (!account) continue;
      const known = before(servicesNamedKey(account, step.friendly_name));
      let list = services.get(account);
      if (list === undefined) services.set(account, (list = twilio.listServices(account)));
      for (const service of await list) {
        if (service.friendlyName === step.friendly_name && service.sid !== kept) {
          if (known.includes(service.sid)) continue;
          leftovers.push({
            stepId: step.id,
            kind: 'service',
            sid: service.sid,
            friendlyName: step.friendly_name,
            accountSid: account,
          });
        }
      }
    }
  }
  return leftovers;
}

/** What a person must do about one. */
export function describeLeftover(leftover: Leftover): string {
  const what =
    leftover.kind === 'subaccount'
      ? `subaccount ${leftover.sid} "${leftover.friendlyName}"`
      : `Messaging Service ${leftover.sid} "${leftover.friendlyName}" in ${leftover.accountSid}`;
  const fix =
    leftover.kind === 'subaccount'
      ? `close it (POST /2010-04-01/Accounts/${leftover.sid}.json Status=closed)`
      : `delete it (DELETE /v1/Services/${leftover.sid}, with ${leftover.accountSid}'s credentials)`;
  return `${leftover.stepId}: Twilio also made ${what}: a request whose answer was lost took effect after it was sent again. Nothing uses it: ${fix}, then run apply again`;
}
