/**
 * Tiny observed states and mappings for the planner's pure tests: accounts, numbers and
 * services as `observeAccount` reports them, and mapping rows as `parseMapping` returns them.
 */

import { createHash } from 'node:crypto';

import type { ApplyInput } from '../../src/apply/apply-types.js';
import type { StepRecord } from '../../src/db/journal.js';
import type { PlanOptions } from '../../src/plan/build-plan.js';
import type { Mapping, MappingRow } from '../../src/plan/mapping.js';
import { readSealedPlan, serializePlan } from '../../src/plan/plan-file.js';
import {
  PLAN_FORMAT,
  type ObservedAccount,
  type ObservedNumber,
  type ObservedService,
  type ObservedState,
  type Plan,
} from '../../src/plan/types.js';
import type { ServiceSettings } from '../../src/twilio/port.js';

export const sid = (prefix: string, n: number) => `${prefix}${n.toString(16).padStart(32, '0')}`;
export const PARENT = sid('AC', 0xfff);
export const SUB = sid('AC', 1);
export const OTHER_SUB = sid('AC', 2);
export const SHARED = sid('MG', 1);
export const SUB_SERVICE = sid('MG', 2);
export const N1 = '+14155550101';
export const N2 = '+14155550102';
export const TF = '+18445550103';

export const account = (s: string, name: string, status: ObservedAccount['status'] = 'active') => ({
  sid: s,
  friendlyName: name,
  status,
});

export const number = (
  phone: string,
  n: number,
  accountSid = PARENT,
  serviceSid: string | null = null,
  type: string | null = 'local',
): ObservedNumber => ({
  sid: sid('PN', n),
  phoneNumber: phone,
  accountSid,
  type,
  serviceSid,
  smsUrl: null,
  smsMethod: null,
});

/** A service created with only a name: Twilio's defaults (its inbound is dropped). */
export const TWILIO_DEFAULTS: ServiceSettings = {
  inbound_request_url: null,
  inbound_method: 'POST',
  fallback_url: null,
  fallback_method: 'POST',
  status_callback: null,
  sticky_sender: true,
  smart_encoding: true,
  mms_converter: true,
  validity_period: 36000,
  usecase: 'undeclared',
  area_code_geomatch: true,
  scan_message_content: 'inherit',
  use_inbound_webhook_on_number: false,
};

export const service = (
  s: string,
  accountSid: string,
  name: string,
  settings: Partial<ServiceSettings> = {},
): ObservedService => ({
  sid: s,
  accountSid,
  friendlyName: name,
  settings: { ...TWILIO_DEFAULTS, ...settings },
});

export function state(parts: Partial<ObservedState> = {}): ObservedState {
  return { parentSid: PARENT, subaccounts: [], numbers: [], services: [], ...parts };
}

/** Rows of customer `acme` on N1 unless a row says otherwise; lines from 2. */
export function mapping(...rows: Partial<MappingRow>[]): Mapping {
  return {
    path: 'map.csv',
    sha256: 'x',
    rows: rows.map((row, i) => ({
      line: i + 2,
      customerId: 'acme',
      customerName: 'Acme',
      phoneNumber: N1,
      messagingService: null,
      subaccountSid: null,
      ...row,
    })),
  };
}

/** Options with nothing in the ledger, every account covered, the snapshot fresh. */
export function planOptions(overrides: Partial<PlanOptions> = {}): PlanOptions {
  return {
    now: '2025-06-01T00:00:00Z',
    credentials: 'auth-token',
    previousSubaccounts: new Map(),
    optOuts: { byNumber: new Map(), byService: new Map() },
    coveredAccounts: new Set([PARENT, SUB, OTHER_SUB]),
    snapshotRefreshed: true,
    ...overrides,
  };
}

/** A plan of nothing to do, as `plan` writes one: `parts` replace its members. */
export function planOf(parts: Partial<Plan> = {}): Plan {
  return {
    format: PLAN_FORMAT,
    created_at: '2025-06-01T00:00:00Z',
    parent_account_sid: PARENT,
    mapping: { path: 'm.csv', sha256: 'x', rows: 1 },
    options: { snapshot: true },
    fingerprint: 'sha256:x',
    observed: new Map(),
    summary: {
      subaccounts_to_create: 0,
      numbers_to_detach: 0,
      numbers_to_transfer: 0,
      services_to_create: 0,
      numbers_to_attach: 0,
      webhooks_to_set: 0,
      unchanged: 0,
    },
    warnings: [],
    customers: [],
    steps: [],
    ...parts,
  };
}

/** A journal record of a step, as apply leaves it. */
export function stepRecord(
  stepId: string,
  state: StepRecord['state'],
  over: Partial<StepRecord> = {},
): StepRecord {
  return {
    stepId,
    position: 0,
    action: stepId.split(':')[0]!,
    customerId: 'acme',
    state,
    attempts: 1,
    startedAt: null,
    finishedAt: null,
    result: null,
    errorStatus: null,
    errorCode: null,
    errorMessage: null,
    ...over,
  };
}

/**
 * A plan file's JSON edited, then sealed again exactly as plan-file.ts seals it: what anyone
 * who read the code can do to a plan.
 */
export function editedAndResealed(planText: string, edit: (json: any) => void): string {
  const json = JSON.parse(planText);
  delete json.integrity;
  edit(json);
  const body = JSON.stringify(json, null, 2).replace(/\n}$/, '');
  const seal = createHash('sha256').update(body).digest('hex');
  return `${body},\n  "integrity": "sha256:${seal}"\n}\n`;
}

/**
 * What `runApply` takes for `plan`, sealed as the plan file `p.json` would be: one request at a
 * time, no rate cap, no override — the in-process tests' defaults, `over` on top.
 */
export function applyInputOf(plan: Plan, over: Partial<ApplyInput> = {}): ApplyInput {
  const { integrity } = readSealedPlan('p.json', serializePlan(plan));
  return {
    plan,
    planPath: 'p.json',
    planIntegrity: integrity,
    concurrency: 1,
    rate: 0,
    allowMissingSnapshot: false,
    ...over,
  };
}
