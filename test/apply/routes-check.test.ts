/**
 * The routing check reads back every number whose move changed something, including one whose
 * move stopped half way: its inbound may already go elsewhere, and apply and `routes` must
 * name it, as they must one whose step a killed apply left in flight (it may have taken
 * effect). The number is read where the journal says it is: in its subaccount once
 * transferred, else still in the account it was leaving, or either while the transfer is in
 * flight. (A stand-in for the TwilioPort: the
 * check is pure over what the port answers.)
 */

import { describe, expect, it } from 'vitest';

import { systemClock } from '../../src/clock.js';
import type { StepRecord } from '../../src/db/journal.js';
import { checkRoutes, failedCheck } from '../../src/apply/routes-check.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import type { Plan } from '../../src/plan/types.js';
import type { PhoneNumber, TwilioPort } from '../../src/twilio/port.js';
import {
  account,
  mapping,
  N1,
  number,
  PARENT,
  planOptions,
  service,
  SHARED,
  sid,
  state,
  stepRecord,
  SUB,
} from '../support/plan-builders.js';

const SHARED_URL = 'https://app.example/inbound';

/** Leaving "Shared" for no service: detach, transfer, then the service's URL set on the number. */
const plan = buildPlan(
  state({
    subaccounts: [account(SUB, 'Acme')],
    numbers: [number(N1, 1, PARENT, SHARED)],
    services: [service(SHARED, PARENT, 'Shared', { inbound_request_url: SHARED_URL })],
  }),
  mapping({}),
  planOptions(),
);

function journal(states: Record<string, StepRecord['state']>): Map<string, StepRecord> {
  return new Map(
    Object.entries(states).map(([action, state]) => {
      const stepId = `${action}:${sid('PN', 1)}`;
      return [stepId, stepRecord(stepId, state)];
    }),
  );
}

/** An account family where N1, with no sms_url and in no service, is in `holder`. */
function port(holder: string, asked: string[]): TwilioPort {
  const n1: PhoneNumber = {
    sid: sid('PN', 1),
    accountSid: holder,
    phoneNumber: N1,
    friendlyName: N1,
    type: 'local',
    smsUrl: null,
    smsMethod: null,
  };
  return {
    listPhoneNumbers: async (account: string) => {
      asked.push(account);
      return account === holder ? [n1] : [];
    },
    listServices: async () => [],
    listServicePhoneNumbers: async () => [],
  } as unknown as TwilioPort;
}

const check = (p: Plan, states: Record<string, StepRecord['state']>, holder: string) => {
  const asked: string[] = [];
  return checkRoutes(p, journal(states), port(holder, asked), systemClock).then((checks) => ({
    checks,
    asked,
  }));
};

describe('the routing check of a move that stopped half way', () => {
  it('names a number whose sms_url step failed after it left its service', async () => {
    const { checks, asked } = await check(
      plan,
      { detach_number: 'done', transfer_number: 'done', set_number_webhook: 'failed' },
      SUB,
    );
    expect(asked).toEqual([SUB]);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ phoneNumber: N1, verdict: 'dropped' });
    expect(failedCheck(checks[0]!)).toBe(true);
  });

  it('reads a number whose transfer failed in the account it was leaving', async () => {
    const { checks, asked } = await check(
      plan,
      { detach_number: 'done', transfer_number: 'failed', set_number_webhook: 'not_run' },
      PARENT,
    );
    expect(asked).toEqual([PARENT]);
    expect(checks.map((c) => [c.phoneNumber, c.verdict])).toEqual([[N1, 'dropped']]);
  });

  it('reads a number an earlier apply half-moved, though nothing of this run did anything', async () => {
    // The first apply detached N1 and stopped; the plan made again plans it from its origin:
    // transfer and sms_url only. Its transfer fails again.
    const route = { via: 'service' as const, url: SHARED_URL, method: 'POST', service_sid: SHARED };
    const resumed = buildPlan(
      state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1)],
        services: [service(SHARED, PARENT, 'Shared', { inbound_request_url: SHARED_URL })],
      }),
      mapping({}),
      planOptions({
        origins: new Map([[sid('PN', 1), { accountSid: PARENT, serviceSid: SHARED, route }]]),
      }),
    );
    expect(resumed.steps.map((s) => s.action)).toEqual(['transfer_number', 'set_number_webhook']);
    const { checks } = await check(
      resumed,
      { transfer_number: 'failed', set_number_webhook: 'not_run' },
      PARENT,
    );
    expect(checks.map((c) => [c.phoneNumber, c.verdict])).toEqual([[N1, 'dropped']]);
  });

  it('reads a number whose detach a killed apply left in flight', async () => {
    const { checks, asked } = await check(
      plan,
      { detach_number: 'in_flight', transfer_number: 'pending', set_number_webhook: 'pending' },
      PARENT,
    );
    expect(asked).toEqual([PARENT]);
    expect(checks.map((c) => [c.phoneNumber, c.verdict])).toEqual([[N1, 'dropped']]);
  });

  it('finds a number whose transfer a killed apply left in flight where it is now', async () => {
    const { checks, asked } = await check(
      plan,
      { detach_number: 'done', transfer_number: 'in_flight', set_number_webhook: 'pending' },
      SUB,
    );
    expect(asked.sort()).toEqual([PARENT, SUB].sort());
    expect(checks.map((c) => [c.phoneNumber, c.verdict])).toEqual([[N1, 'dropped']]);
  });

  it('leaves alone a number none of whose steps did anything', async () => {
    const { checks, asked } = await check(
      plan,
      { detach_number: 'failed', transfer_number: 'not_run', set_number_webhook: 'not_run' },
      PARENT,
    );
    expect(checks).toEqual([]);
    expect(asked).toEqual([]);
  });
});
