/**
 * Reading a plan file back: a `set_number_webhook` step's fallback, in a plan written before
 * steps carried it and in one whose two fallback fields do not go together.
 */

import { describe, expect, it } from 'vitest';

import { UserError } from '../../src/errors.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import { readPlan, serializePlan } from '../../src/plan/plan-file.js';
import type { Plan, SetNumberWebhookStep } from '../../src/plan/types.js';
import {
  mapping,
  N1,
  number,
  PARENT,
  planOptions,
  service,
  SHARED,
  state,
} from '../support/plan-builders.js';

const FALLBACK = 'https://app.example/fallback';

/** A plan whose one customer's number leaves Shared (with a fallback) for no service. */
function leavingPlan(): Plan {
  return buildPlan(
    state({
      numbers: [number(N1, 1, PARENT, SHARED)],
      services: [
        service(SHARED, PARENT, 'Shared', {
          inbound_request_url: 'https://app.example/sms',
          fallback_url: FALLBACK,
        }),
      ],
    }),
    mapping({}),
    planOptions(),
  );
}

const webhookStep = (plan: Plan) =>
  plan.steps.find((s): s is SetNumberWebhookStep => s.action === 'set_number_webhook')!;

describe('a set_number_webhook step read back', () => {
  it('keeps its fallback URL and method', () => {
    const step = webhookStep(readPlan('p.json', serializePlan(leavingPlan())));
    expect([step.sms_fallback_url, step.sms_fallback_method]).toEqual([FALLBACK, 'POST']);
  });

  it('from a plan written before steps carried a fallback: none (the number’s own is kept)', () => {
    const plan = leavingPlan();
    const old = webhookStep(plan) as Partial<SetNumberWebhookStep>;
    delete old.sms_fallback_url;
    delete old.sms_fallback_method;
    const step = webhookStep(readPlan('p.json', serializePlan(plan)));
    expect([step.sms_fallback_url, step.sms_fallback_method]).toEqual([null, null]);
  });

  it('with a fallback URL but no method: refused', () => {
    const plan = leavingPlan();
    webhookStep(plan).sms_fallback_method = null;
    expect(() => readPlan('p.json', serializePlan(plan))).toThrow(UserError);
    expect(() => readPlan('p.json', serializePlan(plan))).toThrow(/do not go together/);
  });
});

describe('a plan rewritten by hand and sealed again', () => {
  it.each(['../../outside', 'acme/../../x', '', '.hidden'])(
    'with customer_id %j (it names a report file): refused',
    (id) => {
      const plan = leavingPlan();
      plan.customers[0]!.customer_id = id;
      // serializePlan seals what it is given, as someone recomputing the seal would.
      expect(() => readPlan('p.json', serializePlan(plan))).toThrow(
        /customer_id .* is not one a mapping allows/,
      );
    },
  );

  it('with the customer_ids a mapping allows: read', () => {
    expect(readPlan('p.json', serializePlan(leavingPlan())).customers[0]!.customer_id).toBe('acme');
  });
});
