/**
 * What a step acts on once earlier steps have run: a customer's subaccount is the one the plan
 * names, or the one its `create_subaccount` step created; likewise its service. Read from the
 * journal, so a resumed run finds what the killed one made.
 */

import type { StepRecord } from '../db/journal.js';
import type { Plan, PlanCustomer } from '../plan/types.js';

export interface Targets {
  subaccountOf(customerId: string): string | null;
  serviceOf(customerId: string): string | null;
  customer(customerId: string): PlanCustomer;
}

export function targetsFrom(plan: Plan, steps: ReadonlyMap<string, StepRecord>): Targets {
  const customers = new Map(plan.customers.map((c) => [c.customer_id, c]));
  const produced = (stepId: string, key: string) => {
    const record = steps.get(stepId);
    const done = record?.state === 'done' || record?.state === 'skipped';
    return done ? (record?.result?.[key] ?? null) : null;
  };
  return {
    customer(customerId) {
      const customer = customers.get(customerId);
      if (customer === undefined) throw new Error(`no customer ${customerId} in the plan`);
      return customer;
    },
    subaccountOf(customerId) {
      return (
        customers.get(customerId)?.subaccount_sid ??
        produced(`create_subaccount:${customerId}`, 'subaccount_sid')
      );
    },
    serviceOf(customerId) {
      return (
        customers.get(customerId)?.service_sid ??
        produced(`create_service:${customerId}`, 'service_sid')
      );
    },
  };
}
