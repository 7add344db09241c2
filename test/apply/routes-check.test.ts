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
import { checkRoutes, failedCheck, lostFallbackCheck } from '../../src/apply/routes-check.js';
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
  SUB_SERVICE,
  TWILIO_DEFAULTS,
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

describe('the routing check of a number that reaches the same URL', () => {
  const FALLBACK = 'https://app.example/fallback';
  /** N1 leaves "Shared" (its URL and a fallback) for the reused "acmeAlerts" of Acme. */
  const reused = (fallback: string | null) =>
    buildPlan(
      state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1, PARENT, SHARED)],
        services: [
          service(SHARED, PARENT, 'Shared', {
            inbound_request_url: SHARED_URL,
            fallback_url: FALLBACK,
          }),
          service(SUB_SERVICE, SUB, 'acmeAlerts', {
            inbound_request_url: SHARED_URL,
            fallback_url: fallback,
          }),
        ],
      }),
      mapping({ messagingService: 'acmeAlerts' }),
      planOptions(),
    );
  /** N1 moved: in Acme, in "acmeAlerts", whose fallback is `fallback` now. */
  const moved = (fallback: string | null): TwilioPort =>
    ({
      listPhoneNumbers: async (account: string) =>
        account === SUB
          ? [
              {
                sid: sid('PN', 1),
                accountSid: SUB,
                phoneNumber: N1,
                friendlyName: N1,
                type: 'local',
                smsUrl: null,
                smsMethod: null,
              } satisfies PhoneNumber,
            ]
          : [],
      listServices: async () => [
        {
          sid: SUB_SERVICE,
          accountSid: SUB,
          friendlyName: 'acmeAlerts',
          dateCreated: null,
          settings: { ...TWILIO_DEFAULTS, inbound_request_url: SHARED_URL, fallback_url: fallback },
        },
      ],
      listServicePhoneNumbers: async () => [
        { sid: sid('PN', 1), serviceSid: SUB_SERVICE, accountSid: SUB, phoneNumber: N1 },
      ],
    }) as unknown as TwilioPort;
  const transferred = {
    detach_number: 'done',
    transfer_number: 'done',
    attach_number: 'done',
  } as const;

  it('names a fallback the move lost beside `same`, and fails no check for it', async () => {
    const [lost] = await checkRoutes(reused(null), journal(transferred), moved(null), systemClock);
    expect(lost).toMatchObject({
      verdict: 'same',
      fallback: { before: { url: FALLBACK, method: 'POST' }, after: null, verdict: 'lost' },
    });
    expect(lostFallbackCheck(lost!)).toBe(true);
    expect(failedCheck(lost!)).toBe(false);
  });

  it('a fallback set again (or changed by hand since) is read as it is now', async () => {
    const plan = reused(null);
    const [kept] = await checkRoutes(plan, journal(transferred), moved(FALLBACK), systemClock);
    expect(kept!.fallback).toMatchObject({ verdict: 'same' });
    expect(lostFallbackCheck(kept!)).toBe(false);
    const other = 'https://app.example/other';
    const [changed] = await checkRoutes(plan, journal(transferred), moved(other), systemClock);
    expect(changed!.fallback).toMatchObject({ verdict: 'changed', after: { url: other } });
    expect(lostFallbackCheck(changed!)).toBe(true);
  });

  it('a route to the number’s own URL: its fallback before is not known, so not compared', async () => {
    const own = buildPlan(
      state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [{ ...number(N1, 1), smsUrl: SHARED_URL, smsMethod: 'POST' }],
      }),
      mapping({}),
      planOptions(),
    );
    const port = {
      listPhoneNumbers: async (account: string) =>
        account === SUB
          ? [
              {
                sid: sid('PN', 1),
                accountSid: SUB,
                phoneNumber: N1,
                friendlyName: N1,
                type: 'local',
                smsUrl: SHARED_URL,
                smsMethod: 'POST',
              } satisfies PhoneNumber,
            ]
          : [],
      listServices: async () => [],
      listServicePhoneNumbers: async () => [],
    } as unknown as TwilioPort;
    const [check] = await checkRoutes(own, journal({ transfer_number: 'done' }), port, systemClock);
    expect(check).toMatchObject({ verdict: 'same', fallback: null });
  });
});
