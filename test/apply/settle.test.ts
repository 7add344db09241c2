/**
 * A `set_number_webhook` left in flight is adopted only when the number answers as the step
 * sets it: its URL and method, and its fallback among the webhooks Twilio shows of it.
 */

import { describe, expect, it } from 'vitest';

import { settleInFlight } from '../../src/apply/settle.js';
import { targetsFrom } from '../../src/apply/targets.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import type { ObservedNumber, SetNumberWebhookStep } from '../../src/plan/types.js';
import {
  account,
  mapping,
  N1,
  number,
  PARENT,
  planOptions,
  service,
  SHARED,
  state,
  SUB,
} from '../support/plan-builders.js';

const URL = 'https://app.example/inbound';
const FALLBACK = 'https://app.example/fallback';

const plan = buildPlan(
  state({
    subaccounts: [account(SUB, 'Acme')],
    numbers: [number(N1, 1, PARENT, SHARED)],
    services: [
      service(SHARED, PARENT, 'Shared', { inbound_request_url: URL, fallback_url: FALLBACK }),
    ],
  }),
  mapping({}),
  planOptions(),
);
const step = plan.steps.find((s): s is SetNumberWebhookStep => s.action === 'set_number_webhook')!;

/** The number as a read after the crash shows it: moved, out of the service. */
const settle = (over: Partial<ObservedNumber>) =>
  settleInFlight(
    plan,
    step,
    '2025-06-01T00:00:00Z',
    state({ numbers: [{ ...number(N1, 1, SUB), ...over }] }),
    targetsFrom(plan, new Map()),
  ).kind;

describe('settling a set_number_webhook left in flight', () => {
  it('adopted when the number has the URL, the method and the fallback', () => {
    expect(
      settle({ smsUrl: URL, smsMethod: 'POST', smsFallback: { url: FALLBACK, method: 'POST' } }),
    ).toBe('adopt');
  });

  it('sent again when the fallback URL is only another of its webhooks (its voice fallback)', () => {
    expect(settle({ smsUrl: URL, smsMethod: 'POST', otherWebhooks: [FALLBACK] })).toBe('resend');
  });

  it('sent again when the number has no SMS fallback', () => {
    expect(settle({ smsUrl: URL, smsMethod: 'POST' })).toBe('resend');
  });

  it('sent again when only the URL is there, with another method', () => {
    expect(
      settle({ smsUrl: URL, smsMethod: 'GET', smsFallback: { url: FALLBACK, method: 'POST' } }),
    ).toBe('resend');
  });
});

describe('settling a create_subaccount left in flight, with two new subaccounts of its name', () => {
  // A new customer Acme: its subaccount is created by the plan.
  const fresh = buildPlan(state({ numbers: [number(N1, 1)] }), mapping({}), planOptions());
  const create = fresh.steps.find((s) => s.action === 'create_subaccount')!;
  const A = 'AC' + 'a1'.repeat(16);
  const B = 'AC' + 'b2'.repeat(16);

  it('fails for a person, and never says to close one without keeping the one holding numbers', () => {
    // One may be another apply's of the same plan (another database), its numbers moved in.
    const settled = settleInFlight(
      fresh,
      create,
      '2025-06-01T00:00:00Z',
      state({ subaccounts: [account(A, 'Acme'), account(B, 'Acme')] }),
      targetsFrom(fresh, new Map()),
    );
    expect(settled).toEqual({
      kind: 'ambiguous',
      message: `2 new subaccounts are named "Acme" (${A}, ${B}), and which one this create made is not known (another apply of this plan, from another database, may have made the other): keep the one the numbers moved into and close the other (closing a subaccount releases the numbers in it, so close only one that holds none), then apply again`,
    });
  });
});

describe('settling a create left in flight, with three new resources of its name', () => {
  const [A, B, C] = ['a1', 'b2', 'c3'].map((hex) => hex.repeat(16));

  it('a create_subaccount: keep the one the numbers moved into, close the others', () => {
    const fresh = buildPlan(state({ numbers: [number(N1, 1)] }), mapping({}), planOptions());
    const create = fresh.steps.find((s) => s.action === 'create_subaccount')!;
    const settled = settleInFlight(
      fresh,
      create,
      '2025-06-01T00:00:00Z',
      state({ subaccounts: [A, B, C].map((hex) => account(`AC${hex}`, 'Acme')) }),
      targetsFrom(fresh, new Map()),
    );
    expect(settled).toEqual({
      kind: 'ambiguous',
      message: `3 new subaccounts are named "Acme" (AC${A}, AC${B}, AC${C}), and which one this create made is not known (another apply of this plan, from another database, may have made the others): keep the one the numbers moved into and close the others (closing a subaccount releases the numbers in it, so close only one that holds none), then apply again`,
    });
  });

  it('a create_service: delete all but one of them', () => {
    const made = buildPlan(
      state({ subaccounts: [account(SUB, 'Acme')], numbers: [number(N1, 1)] }),
      mapping({ messagingService: 'acmeAlerts' }),
      planOptions(),
    );
    const create = made.steps.find((s) => s.action === 'create_service')!;
    const settled = settleInFlight(
      made,
      create,
      '2025-06-01T00:00:00Z',
      state({
        subaccounts: [account(SUB, 'Acme')],
        services: [A, B, C].map((hex) => service(`MG${hex}`, SUB, 'acmeAlerts')),
      }),
      targetsFrom(made, new Map()),
    );
    expect(settled).toEqual({
      kind: 'ambiguous',
      message: `3 new services are named "acmeAlerts" in ${SUB} (MG${A}, MG${B}, MG${C}); delete all but one of them, then apply again`,
    });
  });
});
