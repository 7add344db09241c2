/**
 * The audit row of a number whose move stopped half way: its status is the worst of all its
 * steps (the sms_url step too), with that step's error, and `messaging_service_sid` names the
 * service the number is in now, not the one it was meant to join.
 */

import { describe, expect, it } from 'vitest';

import { buildPlan } from '../../src/plan/build-plan.js';
import type { Plan } from '../../src/plan/types.js';
import { auditRows, type CheckedRoute } from '../../src/report/audit.js';
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
} from '../support/plan-builders.js';

const record = (stepId: string, failed: boolean) =>
  stepRecord(stepId, failed ? 'failed' : 'done', {
    startedAt: '2025-06-01T00:00:00Z',
    finishedAt: '2025-06-01T00:00:01Z',
    ...(failed ? { errorStatus: 400, errorCode: 21999, errorMessage: 'refused' } : {}),
  });

/** Every step done but the one of `failing`. */
const journal = (plan: Plan, failing: string) =>
  new Map(plan.steps.map((s) => [s.id, record(s.id, s.action === failing)]));

const observed = state({
  subaccounts: [account(SUB, 'Acme')],
  numbers: [number(N1, 1, PARENT, SHARED)],
  services: [
    service(SHARED, PARENT, 'Shared', { inbound_request_url: 'https://app.example/inbound' }),
    service(SUB_SERVICE, SUB, 'acmeAlerts', { inbound_request_url: 'https://app.example/inbound' }),
  ],
});

describe('audit rows of a move that stopped half way', () => {
  it('a failed sms_url step fails the number, with its error', () => {
    // Leaving "Shared" for no service: the number is given the service's URL as its own.
    const plan = buildPlan(observed, mapping({}), planOptions());
    expect(plan.steps.map((s) => s.action)).toEqual([
      'detach_number',
      'transfer_number',
      'set_number_webhook',
    ]);
    const [row] = auditRows(plan, journal(plan, 'set_number_webhook'));
    expect(row).toMatchObject({ status: 'failed', error_code: 21999, messaging_service_sid: null });
  });

  it('a failed attach leaves the number in no service, and the row says so', () => {
    const plan = buildPlan(observed, mapping({ messagingService: 'acmeAlerts' }), planOptions());
    const done = auditRows(plan, journal(plan, 'none'));
    expect(done[0]).toMatchObject({ status: 'done', messaging_service_sid: SUB_SERVICE });
    const [row] = auditRows(plan, journal(plan, 'attach_number'));
    expect(row).toMatchObject({ status: 'failed', messaging_service_sid: null });
  });

  it('a number with a step pending or in flight has not finished: no finished_at', () => {
    const plan = buildPlan(observed, mapping({ messagingService: 'acmeAlerts' }), planOptions());
    // A killed apply: the number left its service, its transfer was in flight, its attach to come.
    const steps = journal(plan, 'none');
    const killed = (state: 'pending' | 'in_flight') =>
      stepRecord(`${state === 'in_flight' ? 'transfer' : 'attach'}_number:${sid('PN', 1)}`, state, {
        startedAt: state === 'in_flight' ? '2025-06-01T00:00:02Z' : null,
        finishedAt: null,
      });
    steps.set(`transfer_number:${sid('PN', 1)}`, killed('in_flight'));
    steps.set(`attach_number:${sid('PN', 1)}`, killed('pending'));
    const [inFlight] = auditRows(plan, steps);
    expect(inFlight).toMatchObject({ status: 'in_flight', started_at: '2025-06-01T00:00:00Z' });
    expect(inFlight!.finished_at).toBeNull();
    // The transfer settled done, the attach still to come.
    steps.set(`transfer_number:${sid('PN', 1)}`, record(`transfer_number:${sid('PN', 1)}`, false));
    const [pending] = auditRows(plan, steps);
    expect(pending).toMatchObject({ status: 'pending', finished_at: null });
    // Every step done: the end of the last.
    const [done] = auditRows(plan, journal(plan, 'none'));
    expect(done).toMatchObject({ status: 'done', finished_at: '2025-06-01T00:00:01Z' });
  });

  it('a failed detach leaves the number in the service it was to leave', () => {
    const plan = buildPlan(observed, mapping({ messagingService: 'acmeAlerts' }), planOptions());
    const [row] = auditRows(plan, journal(plan, 'detach_number'));
    expect(row).toMatchObject({ status: 'failed', messaging_service_sid: SHARED });
  });
});

describe('the inbound route columns', () => {
  const route = {
    via: 'service' as const,
    url: 'https://app.example/inbound',
    method: 'POST',
    service_sid: SUB_SERVICE,
  };
  const FALLBACK = { url: 'https://app.example/fallback', method: 'POST' };
  const plan = buildPlan(observed, mapping({ messagingService: 'acmeAlerts' }), planOptions());
  const after = (fallback: CheckedRoute['fallback']) =>
    auditRows(
      plan,
      journal(plan, 'none'),
      new Map([[sid('PN', 1), { before: route, after: route, verdict: 'same', fallback }]]),
    )[0]!.inbound_route_after;

  it('the same URL without the fallback it had: said beside it, marked', () => {
    expect(after({ before: FALLBACK, after: null, verdict: 'lost' })).toBe(
      `POST https://app.example/inbound (service ${SUB_SERVICE}), no fallback (was fallback POST https://app.example/fallback) [fallback-lost]`,
    );
    expect(
      after({
        before: FALLBACK,
        after: { url: 'https://app.example/other', method: 'GET' },
        verdict: 'changed',
      }),
    ).toMatch(
      /, fallback GET https:\/\/app\.example\/other \(was fallback POST https:\/\/app\.example\/fallback\) \[fallback-changed\]$/,
    );
  });

  it('the same URL and fallback, or none compared: nothing beside it', () => {
    const plain = `POST https://app.example/inbound (service ${SUB_SERVICE})`;
    expect(after({ before: FALLBACK, after: FALLBACK, verdict: 'same' })).toBe(plain);
    expect(after({ before: null, after: FALLBACK, verdict: 'gained' })).toBe(plain);
    expect(after(null)).toBe(plain);
  });
});
