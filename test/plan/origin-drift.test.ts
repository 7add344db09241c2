/**
 * A number planned from its origin, when the service it started in has changed since: the
 * service is in the plan's fingerprint, a new service copies what it gives now, and a number
 * leaving it for none gets the URL it serves now.
 */

import { describe, expect, it } from 'vitest';

import { buildPlan } from '../../src/plan/build-plan.js';
import {
  N1,
  N2,
  PARENT,
  SHARED,
  mapping,
  number,
  planOptions,
  service,
  sid,
  state,
} from '../support/plan-builders.js';

const OLD = 'https://app.example/shared';
const NEW = 'https://app.example/v2/shared';
const route = { via: 'service' as const, url: OLD, method: 'POST', service_sid: SHARED };
// N1 was detached from Shared by an apply that stopped; N2 is still in Shared. Since then the
// ISV moved Shared (and so N2) to a new URL.
const observed = state({
  numbers: [number(N1, 1), number(N2, 2, PARENT, SHARED)],
  services: [service(SHARED, PARENT, 'Shared', { inbound_request_url: NEW })],
});
const origins = new Map([[sid('PN', 1), { accountSid: PARENT, serviceSid: SHARED, route }]]);

describe('origin route vs the origin service now', () => {
  it("the origin service is among the plan's observed resources (its change is drift)", () => {
    const same = state({
      ...observed,
      services: [service(SHARED, PARENT, 'Shared', { inbound_request_url: OLD })],
    });
    const plan = buildPlan(
      same,
      mapping({ messagingService: 'acmeAlerts' }),
      planOptions({ origins }),
    );
    expect([...plan.observed.keys()]).toContain(`service:${SHARED}`);
  });
  it('with a new service: the plan can be made', () => {
    expect(() =>
      buildPlan(observed, mapping({ messagingService: 'acmeAlerts' }), planOptions({ origins })),
    ).not.toThrow();
  });
  it('with no service: the number is not given the URL nobody serves any more without a warning', () => {
    const plan = buildPlan(observed, mapping({}), planOptions({ origins }));
    expect(
      plan.steps.find((s) => s.action === 'set_number_webhook' && s.sms_url === OLD),
    ).toBeUndefined();
  });
});
