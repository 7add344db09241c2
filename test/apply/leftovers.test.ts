/**
 * A create sent again after a lost answer can take effect twice, when the first request
 * lands after the tool looked. `findLeftovers` looks again after the steps, only at creates
 * that took more than one send, and names each further resource with the planned name made
 * since the plan: never the one the run kept, never one the plan already knew.
 */

import { describe, expect, it } from 'vitest';

import { describeLeftover, findLeftovers } from '../../src/apply/leftovers.js';
import type { StepRecord } from '../../src/db/journal.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import type { Account, MessagingService } from '../../src/twilio/port.js';
import {
  account,
  mapping,
  N1,
  number,
  PARENT,
  planOptions,
  sid,
  state,
} from '../support/plan-builders.js';

const KEPT = sid('AC', 0xa1);
const EXTRA = sid('AC', 0xa2);
const OLD = sid('AC', 0xa3);
const SERVICE = sid('MG', 0xb1);
const EXTRA_SERVICE = sid('MG', 0xb2);

// A new customer Acme: its subaccount and its service are both created. A closed subaccount
// of the same name was there already.
const plan = buildPlan(
  state({ subaccounts: [account(OLD, 'Acme', 'closed')], numbers: [number(N1, 1)] }),
  mapping({ messagingService: 'acmeAlerts' }),
  planOptions(),
);

function records(attempts: { subaccount: number; service: number }): Map<string, StepRecord> {
  return new Map(
    plan.steps.map((step, position) => {
      const result: Record<string, string> =
        step.action === 'create_subaccount'
          ? { subaccount_sid: KEPT }
          : step.action === 'create_service'
            ? { service_sid: SERVICE, account_sid: KEPT }
            : {};
      const tries =
        step.action === 'create_subaccount'
          ? attempts.subaccount
          : step.action === 'create_service'
            ? attempts.service
            : 1;
      const record: StepRecord = {
        stepId: step.id,
        position,
        action: step.action,
        customerId: step.customer_id,
        state: 'done',
        attempts: tries,
        startedAt: null,
        finishedAt: null,
        result,
        errorStatus: null,
        errorCode: null,
        errorMessage: null,
      };
      return [step.id, record];
    }),
  );
}

const subaccount = (s: string, name: string, status: Account['status'] = 'active'): Account => ({
  sid: s,
  friendlyName: name,
  status,
  ownerAccountSid: PARENT,
  dateCreated: null,
});
const service = (s: string, name: string): MessagingService =>
  ({ sid: s, accountSid: KEPT, friendlyName: name, dateCreated: null }) as MessagingService;

function twilio(subaccounts: Account[], services: MessagingService[]) {
  const reads: string[] = [];
  return {
    reads,
    listSubaccounts: () => {
      reads.push('subaccounts');
      return Promise.resolve(subaccounts);
    },
    listServices: (accountSid: string) => {
      reads.push(`services of ${accountSid}`);
      return Promise.resolve(services);
    },
  };
}

describe('findLeftovers', () => {
  const live = () =>
    twilio(
      [
        subaccount(KEPT, 'Acme'),
        subaccount(EXTRA, 'Acme'),
        subaccount(OLD, 'Acme', 'closed'),
        subaccount(sid('AC', 0xc1), 'Other'),
      ],
      [service(SERVICE, 'acmeAlerts'), service(EXTRA_SERVICE, 'acmeAlerts')],
    );

  it('creates sent once: nothing is read, nothing named', async () => {
    const port = live();
    expect(await findLeftovers(plan, records({ subaccount: 1, service: 1 }), port)).toEqual([]);
    expect(port.reads).toEqual([]);
  });

  it('a subaccount create sent twice: the second active "Acme" is named, not the kept or closed one', async () => {
    const port = live();
    const found = await findLeftovers(plan, records({ subaccount: 2, service: 1 }), port);
    expect(found).toEqual([
      {
        stepId: 'create_subaccount:acme',
        kind: 'subaccount',
        sid: EXTRA,
        friendlyName: 'Acme',
        accountSid: PARENT,
      },
    ]);
    expect(port.reads).toEqual(['subaccounts']);
    expect(describeLeftover(found[0]!)).toBe(
      `create_subaccount:acme: Twilio also made subaccount ${EXTRA} "Acme": a request whose answer was lost took effect after it was sent again. Nothing uses it: close it (POST /2010-04-01/Accounts/${EXTRA}.json Status=closed), then run apply again`,
    );
  });

  it('a service create sent twice: the other service of that name in the subaccount is named', async () => {
    const port = live();
    const found = await findLeftovers(plan, records({ subaccount: 1, service: 3 }), port);
    expect(found.map((l) => [l.kind, l.sid, l.accountSid])).toEqual([
      ['service', EXTRA_SERVICE, KEPT],
    ]);
    expect(port.reads).toEqual([`services of ${KEPT}`]);
  });

  it('sent twice, but Twilio holds only the one kept: nothing named', async () => {
    const port = twilio([subaccount(KEPT, 'Acme')], [service(SERVICE, 'acmeAlerts')]);
    expect(await findLeftovers(plan, records({ subaccount: 2, service: 2 }), port)).toEqual([]);
  });
});
