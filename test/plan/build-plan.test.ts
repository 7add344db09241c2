/**
 * `buildPlan` is pure: these tests hand it tiny observed states and mappings and read the
 * plan it returns. One table row per situation a migration meets.
 */

import { describe, expect, it } from 'vitest';

import { buildPlan, type PlanOptions } from '../../src/plan/build-plan.js';
import { MappingError, parseMapping, type MappingRow } from '../../src/plan/mapping.js';
import { renderPlan } from '../../src/plan/render.js';
import type { ObservedState, Plan } from '../../src/plan/types.js';
import type { ServiceSettings } from '../../src/twilio/port.js';
import {
  account,
  mapping,
  N1,
  N2,
  number,
  OTHER_SUB,
  PARENT,
  planOptions,
  service,
  SHARED,
  sid,
  state,
  SUB,
  SUB_SERVICE,
  TF,
} from '../support/plan-builders.js';

const APP = 'https://app.example/sms';
const options = planOptions;

const actions = (plan: Plan) => plan.steps.map((s) => `${s.action} ${s.id.split(':')[1]}`);

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof MappingError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a MappingError');
}

describe('buildPlan', () => {
  const cases: {
    name: string;
    observed: ObservedState;
    rows: Partial<MappingRow>[];
    opts?: Partial<PlanOptions>;
    steps: string[];
    subaccount: string | null;
    unchanged?: number;
    warnings?: string[];
  }[] = [
    {
      name: 'a new customer: subaccount created, number moved, service created, number attached',
      observed: state({ numbers: [number(N1, 1)] }),
      rows: [{ messagingService: 'acmeAlerts' }],
      steps: [
        'create_subaccount acme',
        'create_service acme',
        `transfer_number ${sid('PN', 1)}`,
        `attach_number ${sid('PN', 1)}`,
      ],
      subaccount: null,
    },
    {
      name: 'an existing active subaccount with exactly that name is matched, not created',
      observed: state({
        subaccounts: [account(SUB, 'Acme'), account(OTHER_SUB, 'Acme', 'closed')],
        numbers: [number(N1, 1)],
      }),
      rows: [{}],
      steps: [`transfer_number ${sid('PN', 1)}`],
      subaccount: SUB,
    },
    {
      name: 'a pinned subaccount wins over a same-named one',
      observed: state({
        subaccounts: [account(SUB, 'Acme'), account(OTHER_SUB, 'Something else')],
        numbers: [number(N1, 1)],
      }),
      rows: [{ subaccountSid: OTHER_SUB }],
      steps: [`transfer_number ${sid('PN', 1)}`],
      subaccount: OTHER_SUB,
    },
    {
      name: 'the subaccount a previous apply recorded wins over the name',
      observed: state({
        subaccounts: [account(SUB, 'Acme'), account(OTHER_SUB, 'Renamed by hand')],
        numbers: [number(N1, 1)],
      }),
      rows: [{}],
      opts: { previousSubaccounts: new Map([['acme', OTHER_SUB]]) },
      steps: [`transfer_number ${sid('PN', 1)}`],
      subaccount: OTHER_SUB,
    },
    {
      name: 'a number already in place gives no step at all',
      observed: state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1, SUB, SUB_SERVICE)],
        services: [service(SUB_SERVICE, SUB, 'acmeAlerts')],
      }),
      rows: [{ messagingService: 'acmeAlerts' }],
      steps: [],
      subaccount: SUB,
      unchanged: 1,
      warnings: [],
    },
    {
      name: 'a number in a parent service is detached first, with the A2P warning',
      observed: state({
        numbers: [number(N1, 1, PARENT, SHARED)],
        services: [service(SHARED, PARENT, 'Owlie Shared', { inbound_request_url: APP })],
      }),
      rows: [{}],
      steps: [
        'create_subaccount acme',
        `detach_number ${sid('PN', 1)}`,
        `transfer_number ${sid('PN', 1)}`,
        // In no service after the move: the service's URL becomes the number's own.
        `set_number_webhook ${sid('PN', 1)}`,
      ],
      subaccount: null,
      warnings: ['a2p_registration', 'webhook_signature'],
    },
    {
      name: "a number in another subaccount's service moves subaccount to subaccount",
      observed: state({
        subaccounts: [account(SUB, 'Acme'), account(OTHER_SUB, 'Birch')],
        numbers: [number(N1, 1, OTHER_SUB, SUB_SERVICE)],
        services: [service(SUB_SERVICE, OTHER_SUB, 'birchAlerts', { inbound_request_url: APP })],
      }),
      rows: [{}],
      steps: [
        `detach_number ${sid('PN', 1)}`,
        `transfer_number ${sid('PN', 1)}`,
        `set_number_webhook ${sid('PN', 1)}`,
      ],
      subaccount: SUB,
      warnings: ['a2p_registration', 'webhook_signature'],
    },
    {
      name: 'an existing service of that name in the subaccount is reused, not created',
      observed: state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1), number(N2, 2, SUB)],
        services: [service(SUB_SERVICE, SUB, 'acmeAlerts')],
      }),
      rows: [
        { messagingService: 'acmeAlerts' },
        { phoneNumber: N2, messagingService: 'acmeAlerts' },
      ],
      steps: [
        `transfer_number ${sid('PN', 1)}`,
        `attach_number ${sid('PN', 1)}`,
        `attach_number ${sid('PN', 2)}`,
      ],
      subaccount: SUB,
    },
    {
      name: 'a toll-free number that moves carries the verification warning',
      observed: state({ numbers: [number(TF, 3, PARENT, null, 'toll-free')] }),
      rows: [{ phoneNumber: TF }],
      steps: ['create_subaccount acme', `transfer_number ${sid('PN', 3)}`],
      subaccount: null,
      warnings: ['toll_free_verification'],
    },
    {
      name: 'a number no snapshot covers is planned, with a warning (apply refuses it)',
      observed: state({ numbers: [number(N1, 1)] }),
      rows: [{}],
      opts: { coveredAccounts: new Set() },
      steps: ['create_subaccount acme', `transfer_number ${sid('PN', 1)}`],
      subaccount: null,
      warnings: ['optouts_not_snapshotted'],
    },
    {
      name: 'a logged number (no URL) going into a reused name-only service: its route is lost, warned',
      observed: state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1)],
        services: [service(SUB_SERVICE, SUB, 'acmeAlerts')],
      }),
      rows: [{ messagingService: 'acmeAlerts' }],
      steps: [`transfer_number ${sid('PN', 1)}`, `attach_number ${sid('PN', 1)}`],
      subaccount: SUB,
      warnings: ['inbound_route'],
    },
    {
      name: 'a number in its subaccount, inside a service there, mapped with no service: taken out',
      observed: state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1, SUB, SUB_SERVICE)],
        services: [service(SUB_SERVICE, SUB, 'Acme SMS')],
      }),
      rows: [{}],
      steps: [`detach_number ${sid('PN', 1)}`],
      subaccount: SUB,
    },
    {
      name: 'out of a routing service in its own subaccount: its URL set on the number, no new token',
      observed: state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1, SUB, SUB_SERVICE)],
        services: [service(SUB_SERVICE, SUB, 'Acme SMS', { inbound_request_url: APP })],
      }),
      rows: [{}],
      steps: [`detach_number ${sid('PN', 1)}`, `set_number_webhook ${sid('PN', 1)}`],
      subaccount: SUB,
      warnings: ['a2p_registration'],
    },
    {
      name: 'a service named only in another case: a new one beside it, with a warning',
      observed: state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1, SUB)],
        services: [service(SUB_SERVICE, SUB, ' acme  sms')],
      }),
      rows: [{ messagingService: 'Acme SMS' }],
      steps: ['create_service acme', `attach_number ${sid('PN', 1)}`],
      subaccount: SUB,
      warnings: ['service_name_near_match'],
    },
    {
      name: 'a service whose name reads the same (a no-break space, é in two characters): a warning',
      observed: state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1, SUB)],
        services: [service(SUB_SERVICE, SUB, 'Cafe\u0301\u00A0SMS')],
      }),
      rows: [{ messagingService: 'Caf\u00E9 SMS' }],
      steps: ['create_service acme', `attach_number ${sid('PN', 1)}`],
      subaccount: SUB,
      warnings: ['service_name_near_match'],
    },
    {
      name: 'a subaccount named only in another case, or with a look-alike space: a new one beside it, with a warning',
      observed: state({
        subaccounts: [account(SUB, 'ACME\u00A0corp'), account(OTHER_SUB, 'acme  Corp\u200B')],
        numbers: [number(N1, 1)],
      }),
      rows: [{ customerName: 'Acme Corp' }],
      steps: ['create_subaccount acme', `transfer_number ${sid('PN', 1)}`],
      subaccount: null,
      warnings: ['subaccount_name_near_match'],
    },
    {
      name: 'a subaccount named in Turkish capitals (İ and I, ı and i): a warning',
      observed: state({
        subaccounts: [account(SUB, 'ISTANBUL KEBAP'), account(OTHER_SUB, 'ızmır Döner')],
        numbers: [number(N1, 1), number(N2, 2)],
      }),
      rows: [
        { customerName: 'İstanbul Kebap' },
        { phoneNumber: N2, customerId: 'izmir', customerName: 'IZMIR DÖNER' },
      ],
      steps: [
        'create_subaccount acme',
        `transfer_number ${sid('PN', 1)}`,
        'create_subaccount izmir',
        `transfer_number ${sid('PN', 2)}`,
      ],
      subaccount: null,
      warnings: ['subaccount_name_near_match', 'subaccount_name_near_match'],
    },
    {
      name: 'a subaccount of the very name is matched, without a near-match warning',
      observed: state({
        subaccounts: [account(SUB, 'Acme Corp'), account(OTHER_SUB, 'ACME CORP')],
        numbers: [number(N1, 1)],
      }),
      rows: [{ customerName: 'Acme Corp' }],
      steps: [`transfer_number ${sid('PN', 1)}`],
      subaccount: SUB,
      warnings: [],
    },
    {
      name: 'a customer renamed since its apply keeps its subaccount, with a warning',
      observed: state({ subaccounts: [account(SUB, 'Acme')], numbers: [number(N1, 1, SUB)] }),
      rows: [{ customerName: 'Acme Corp' }],
      opts: { previousSubaccounts: new Map([['acme', SUB]]) },
      steps: [],
      subaccount: SUB,
      unchanged: 1,
      warnings: ['subaccount_name'],
    },
    {
      name: 'a reused service counts the numbers it already holds towards its pool of 400',
      observed: state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [
          number(N1, 1),
          ...Array.from({ length: 400 }, (_, k) =>
            number(`+1415600${String(k).padStart(4, '0')}`, 1000 + k, SUB, SUB_SERVICE),
          ),
        ],
        services: [
          service(SUB_SERVICE, SUB, 'acmeAlerts', { use_inbound_webhook_on_number: true }),
        ],
      }),
      rows: [{ messagingService: 'acmeAlerts' }],
      steps: [`transfer_number ${sid('PN', 1)}`, `attach_number ${sid('PN', 1)}`],
      subaccount: SUB,
      warnings: ['service_pool_limit'],
    },
  ];

  it.each(cases)('$name', (c) => {
    const plan = buildPlan(c.observed, mapping(...c.rows), options(c.opts));
    expect(actions(plan)).toEqual(c.steps);
    expect(plan.customers[0]!.subaccount_sid).toBe(c.subaccount);
    expect(plan.summary.unchanged).toBe(c.unchanged ?? 0);
    if (c.warnings !== undefined) expect(plan.warnings.map((w) => w.code)).toEqual(c.warnings);
    // Every dependency names a step of the plan, and comes before the step that needs it.
    const order = new Map(plan.steps.map((s, i) => [s.id, i]));
    for (const [i, step] of plan.steps.entries()) {
      for (const dep of step.depends_on) expect(order.get(dep)).toBeLessThan(i);
    }
  });

  it('wires dependencies: transfer after detach and create, attach after transfer and service', () => {
    const plan = buildPlan(
      state({
        numbers: [number(N1, 1, PARENT, SHARED)],
        services: [service(SHARED, PARENT, 'Owlie Shared')],
      }),
      mapping({ messagingService: 'acmeAlerts' }),
      options(),
    );
    const byId = new Map(plan.steps.map((s) => [s.id, s.depends_on]));
    const pn = sid('PN', 1);
    expect(byId.get(`transfer_number:${pn}`)).toEqual([
      `detach_number:${pn}`,
      'create_subaccount:acme',
    ]);
    expect(byId.get(`attach_number:${pn}`)).toEqual([
      `transfer_number:${pn}`,
      'create_service:acme',
    ]);
    expect(byId.get('create_service:acme')).toEqual(['create_subaccount:acme']);
    expect(plan.summary).toEqual({
      subaccounts_to_create: 1,
      numbers_to_detach: 1,
      numbers_to_transfer: 1,
      services_to_create: 1,
      numbers_to_attach: 1,
      webhooks_to_set: 0,
      unchanged: 0,
    });
  });

  it.each([
    {
      name: 'two active subaccounts with the customer’s name: an error naming both',
      observed: state({
        subaccounts: [account(SUB, 'Acme'), account(OTHER_SUB, 'Acme')],
        numbers: [number(N1, 1)],
      }),
      rows: [{}],
      expected: [`map.csv:2: 2 active subaccounts are named "Acme" (${SUB}, ${OTHER_SUB})`],
    },
    ...[2, 7].map((n) => {
      const sids = Array.from({ length: n }, (_, i) => sid('MG', 0x100 + i));
      return {
        name: `${n} services with the planned name in the subaccount: an error naming them all, and to leave one`,
        observed: state({
          subaccounts: [account(SUB, 'Acme')],
          numbers: [number(N1, 1)],
          services: sids.map((s) => service(s, SUB, 'acmeAlerts')),
        }),
        rows: [{ messagingService: 'acmeAlerts' }],
        opts: undefined,
        expected: [
          `map.csv:2: subaccount ${SUB} has ${n} Messaging Services named "acmeAlerts" (${sids.join(', ')}); rename or delete all but one of them: the plan uses the one left with that name`,
        ],
      };
    }),
    {
      name: 'a number nobody in the family owns',
      observed: state({ numbers: [number(N1, 1)] }),
      rows: [{}, { phoneNumber: N2 }],
      expected: [`map.csv:3: ${N2} is not a number of ${PARENT}`],
    },
    {
      name: 'a pinned SID that is not a subaccount of this parent',
      observed: state({ numbers: [number(N1, 1)] }),
      rows: [{ subaccountSid: SUB }],
      expected: [`map.csv:2: subaccount_sid ${SUB} is not a subaccount of ${PARENT}`],
    },
    {
      name: 'a closed pinned target',
      observed: state({ subaccounts: [account(SUB, 'Acme', 'closed')], numbers: [number(N1, 1)] }),
      rows: [{ subaccountSid: SUB }],
      expected: [`map.csv:2: subaccount_sid ${SUB} ("Acme") is closed`],
    },
    {
      name: 'a number written as E.164 on one row and as its PN SID on another',
      observed: state({ numbers: [number(N1, 1)] }),
      rows: [{}, { phoneNumber: sid('PN', 1) }],
      expected: [`map.csv:3: ${sid('PN', 1)} is the same number as ${N1} on line 2`],
    },
    {
      name: 'with an API key, a number in a subaccount cannot be moved out',
      observed: state({
        subaccounts: [account(OTHER_SUB, 'Birch')],
        numbers: [number(N1, 1, OTHER_SUB)],
      }),
      rows: [{}],
      opts: { credentials: 'api-key' as const },
      expected: [
        `map.csv:2: ${N1} is in subaccount ${OTHER_SUB}: moving a number out of a subaccount needs the parent's Auth Token`,
      ],
    },
    {
      name: 'a number in a suspended subaccount: its services cannot be read',
      observed: state({
        subaccounts: [account(OTHER_SUB, 'Birch', 'suspended')],
        numbers: [number(N1, 1, OTHER_SUB)],
      }),
      rows: [{}],
      expected: [
        `map.csv:2: ${N1} is in subaccount ${OTHER_SUB}, which is suspended: its Messaging Services cannot be read`,
      ],
    },
    {
      name: 'two customers that would go to one existing subaccount (one by name, one pinned)',
      observed: state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1), number(N2, 2)],
      }),
      rows: [{}, { customerId: 'zeta', customerName: 'Zeta', phoneNumber: N2, subaccountSid: SUB }],
      expected: [
        `map.csv:3: customer "zeta" would go to subaccount ${SUB}, which customer "acme" (line 2) goes to`,
      ],
    },
  ])('$name', ({ observed, rows, expected, opts }) => {
    const found = problems(() => buildPlan(observed, mapping(...rows), options(opts)));
    expect(found).toHaveLength(expected.length);
    expected.forEach((text, i) => expect(found[i]).toContain(text));
  });

  it('a number an earlier apply detached is planned from its origin: its service’s opt-outs and route', () => {
    const observed = state({
      numbers: [{ ...number(N1, 1), smsUrl: 'https://app.example/n1', smsMethod: 'POST' }],
      services: [
        service(SHARED, PARENT, 'Shared', { inbound_request_url: 'https://app.example/shared' }),
      ],
    });
    const route = {
      via: 'service' as const,
      url: 'https://app.example/shared',
      method: 'POST',
      service_sid: SHARED,
    };
    const optOuts = {
      byNumber: new Map(),
      byService: new Map([[SHARED, new Set(['+12065550001'])]]),
    };
    const rows = mapping({ messagingService: 'acmeAlerts' });
    const origins = new Map([[sid('PN', 1), { accountSid: PARENT, serviceSid: SHARED, route }]]);
    const plan = buildPlan(observed, rows, options({ optOuts, origins }));
    expect(plan.customers[0]!.optouts).toBe(1);
    expect(plan.customers[0]!.numbers[0]!.route_before).toEqual(route);
    const create = plan.steps.find((s) => s.action === 'create_service');
    expect(create?.action === 'create_service' && create.settings).toMatchObject({
      inbound_request_url: 'https://app.example/shared',
    });
    // From the half-moved state alone, the service's opt-outs and its URL would be lost.
    const bare = buildPlan(observed, rows, options({ optOuts }));
    expect(bare.customers[0]!.optouts).toBe(0);
    expect(bare.customers[0]!.numbers[0]!.route_before).toMatchObject({ via: 'number' });
  });

  describe('a number leaving a service for none takes the service’s fallback URL too', () => {
    const FALLBACK = 'https://app.example/fallback';
    const NO_FALLBACK = sid('MG', 3);
    const webhookSteps = (plan: Plan) =>
      plan.steps.flatMap((s) =>
        s.action === 'set_number_webhook'
          ? [[s.phone_number, s.sms_fallback_url, s.sms_fallback_method]]
          : [],
      );

    it('the service’s fallback, its method POST when unset; none (null) from a service without', () => {
      const plan = buildPlan(
        state({
          numbers: [number(N1, 1, PARENT, SHARED), number(N2, 2, PARENT, NO_FALLBACK)],
          services: [
            service(SHARED, PARENT, 'Shared', {
              inbound_request_url: APP,
              fallback_url: FALLBACK,
              fallback_method: null,
            }),
            service(NO_FALLBACK, PARENT, 'Plain', { inbound_request_url: APP }),
          ],
        }),
        mapping({}, { phoneNumber: N2 }),
        options(),
      );
      expect(webhookSteps(plan)).toEqual([
        [N1, FALLBACK, 'POST'],
        [N2, null, null],
      ]);
      // The number changes account: its new fallback is signed with the subaccount's token.
      const signed = plan.warnings.filter((w) => w.code === 'webhook_signature');
      expect(signed.map((w) => w.message.split(': ')[0])).toEqual([APP, FALLBACK]);
    });

    it('planned from its origin: the origin service’s fallback, or none once that service is gone', () => {
      const route = { via: 'service' as const, url: APP, method: 'POST', service_sid: SHARED };
      const origins = new Map([[sid('PN', 1), { accountSid: PARENT, serviceSid: SHARED, route }]]);
      const shared = service(SHARED, PARENT, 'Shared', {
        inbound_request_url: APP,
        fallback_url: FALLBACK,
        fallback_method: 'GET',
      });
      // An earlier apply detached N1 from Shared and stopped.
      const detached = { numbers: [number(N1, 1)] };
      const kept = buildPlan(
        state({ ...detached, services: [shared] }),
        mapping({}),
        options({ origins }),
      );
      expect(webhookSteps(kept)).toEqual([[N1, FALLBACK, 'GET']]);
      const gone = buildPlan(state(detached), mapping({}), options({ origins }));
      expect(webhookSteps(gone)).toEqual([[N1, null, null]]);
    });
  });

  describe('a service’s status callback the numbers leave behind is warned of', () => {
    const STATUS = 'https://app.example/status';
    const callbackWarnings = (plan: Plan) =>
      plan.warnings.filter((w) => w.code === 'status_callback');
    const leaving = (reused: Partial<ServiceSettings> | null = null) =>
      state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1, PARENT, SHARED), number(N2, 2, PARENT, SHARED)],
        services: [
          service(SHARED, PARENT, 'Shared', { inbound_request_url: APP, status_callback: STATUS }),
          ...(reused === null ? [] : [service(SUB_SERVICE, SUB, 'acmeAlerts', reused)]),
        ],
      });

    it('numbers moving to no service: their delivery receipts no longer reach it', () => {
      const plan = buildPlan(leaving(), mapping({}, { phoneNumber: N2 }), options());
      const warnings = callbackWarnings(plan);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.customer_id).toBe('acme');
      expect(warnings[0]!.message).toContain(`${N1}, ${N2} leave the Messaging Service "Shared"`);
      expect(warnings[0]!.message).toContain(`status callback ${STATUS}`);
      expect(warnings[0]!.message).toContain('the mapping gives them no service');
    });

    it('a new service copies it; a reused service with another (or none) is warned of', () => {
      const rows = mapping({ messagingService: 'acmeAlerts' });
      expect(callbackWarnings(buildPlan(leaving(), rows, options()))).toEqual([]);
      const same = leaving({ inbound_request_url: APP, status_callback: STATUS });
      expect(callbackWarnings(buildPlan(same, rows, options()))).toEqual([]);
      const none = callbackWarnings(
        buildPlan(leaving({ inbound_request_url: APP }), rows, options()),
      );
      expect(none).toHaveLength(1);
      expect(none[0]!.message).toContain(
        `the existing service "acmeAlerts" (${SUB_SERVICE}) they join has none: set its status callback to ${STATUS}`,
      );
    });

    it('a new service copies one service’s status callback: numbers from another with its own are warned of', () => {
      // A send-only pool (no inbound URL) beside the service with the inbound URL: the new
      // service copies the one whose URL it needs, and the other's receipts go elsewhere.
      const POOL = sid('MG', 3);
      const POOL_STATUS = 'https://app.example/pool-status';
      const observed = state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1, PARENT, SHARED), number(N2, 2, PARENT, POOL)],
        services: [
          service(SHARED, PARENT, 'Shared', { inbound_request_url: APP, status_callback: STATUS }),
          service(POOL, PARENT, 'Pool', { status_callback: POOL_STATUS }),
        ],
      });
      const plan = buildPlan(
        observed,
        mapping(
          { messagingService: 'acmeAlerts' },
          { phoneNumber: N2, messagingService: 'acmeAlerts' },
        ),
        options(),
      );
      const warnings = callbackWarnings(plan);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toContain(`${N2} leave the Messaging Service "Pool"`);
      expect(warnings[0]!.message).toContain(POOL_STATUS);
    });

    it('a service without a status callback, or numbers in none: nothing to say', () => {
      const plain = state({
        numbers: [number(N1, 1, PARENT, SHARED), number(N2, 2)],
        services: [service(SHARED, PARENT, 'Shared', { inbound_request_url: APP })],
      });
      expect(
        callbackWarnings(buildPlan(plain, mapping({}, { phoneNumber: N2 }), options())),
      ).toEqual([]);
    });
  });

  it('fingerprints exactly the resources it depends on, and the same state gives the same print', () => {
    const observed = state({
      subaccounts: [account(SUB, 'Acme')],
      numbers: [number(N1, 1), number(N2, 2)],
    });
    const plan = buildPlan(observed, mapping({}), options());
    expect([...plan.observed.keys()].sort()).toEqual([
      `number:${sid('PN', 1)}`,
      'subaccounts-named:Acme',
    ]);
    expect(plan.observed.get(`number:${sid('PN', 1)}`)).toEqual({
      account_sid: PARENT,
      service_sid: null,
      sms_url: null,
      sms_method: null,
    });
    expect(buildPlan(observed, mapping({}), options()).fingerprint).toBe(plan.fingerprint);
    // A number the mapping does not name may change: the print does not.
    const moved = state({ ...observed, numbers: [number(N1, 1), number(N2, 2, SUB)] });
    expect(buildPlan(moved, mapping({}), options()).fingerprint).toBe(plan.fingerprint);
  });

  it('warns of every webhook URL of a moving number Twilio will sign with the new token', () => {
    const voice = 'https://app.example/voice';
    const status = 'https://app.example/status';
    const plan = buildPlan(
      state({
        numbers: [
          { ...number(N1, 1), smsUrl: APP, smsMethod: 'POST', otherWebhooks: [voice, status] },
        ],
      }),
      mapping({}),
      options(),
    );
    const signed = plan.warnings.filter((w) => w.code === 'webhook_signature');
    expect(signed.map((w) => w.message.split(':').slice(0, 2).join(':'))).toEqual([
      APP,
      voice,
      status,
    ]);
  });

  it('a number leaving a subaccount: the warning names that subaccount’s token, not only the parent’s', () => {
    const plan = buildPlan(
      state({
        subaccounts: [account(SUB, 'Old'), account(OTHER_SUB, 'Acme')],
        numbers: [{ ...number(N1, 1, SUB), smsUrl: APP, smsMethod: 'POST' }],
      }),
      mapping({}),
      options(),
    );
    const signed = plan.warnings.filter((w) => w.code === 'webhook_signature');
    expect(signed.map((w) => w.message)).toEqual([
      expect.stringContaining(`the account the numbers left (that of subaccount ${SUB})`),
    ]);
  });

  it('a new service’s status callback is not signed anew for numbers that stay in their account', () => {
    const status = 'https://app.example/status';
    const plan = buildPlan(
      state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [{ ...number(N1, 1, SUB, SUB_SERVICE), smsUrl: APP, smsMethod: 'POST' }],
        services: [
          service(SUB_SERVICE, SUB, 'old', { inbound_request_url: APP, status_callback: status }),
        ],
      }),
      mapping({ messagingService: 'acmeAlerts' }),
      options(),
    );
    expect(plan.steps.map((s) => s.action)).toContain('create_service');
    expect(plan.warnings.filter((w) => w.code === 'webhook_signature')).toEqual([]);
  });

  it('a moving number that answers through a TwiML App is named: its app’s URLs are not read', () => {
    const plan = buildPlan(
      state({
        numbers: [
          {
            ...number(N1, 1),
            smsUrl: APP,
            smsMethod: 'POST',
            applications: { sms: 'AP1', voice: null },
          },
          { ...number(N2, 2), applications: { sms: null, voice: 'AP2' } },
        ],
      }),
      mapping({}, { phoneNumber: N2 }),
      options(),
    );
    const apps = plan.warnings.filter(
      (w) => w.code === 'inbound_route' && w.message.includes('TwiML App'),
    );
    expect(apps).toHaveLength(1);
    expect(apps[0]!.message).toMatch(
      /^\+14155550101 \(SMS: TwiML App AP1\), \+14155550102 \(voice: TwiML App AP2\) answer through TwiML Apps/,
    );
  });

  it('a reused service’s routing settings are in the print: changing them is drift', () => {
    const withService = (url: string | null) =>
      state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1)],
        services: [service(SUB_SERVICE, SUB, 'acmeAlerts', { inbound_request_url: url })],
      });
    const rows = mapping({ messagingService: 'acmeAlerts' });
    const plan = buildPlan(withService('https://app.example/a'), rows, options());
    expect(plan.observed.get(`service:${SUB_SERVICE}`)).toMatchObject({
      inbound_request_url: 'https://app.example/a',
    });
    expect(buildPlan(withService('https://app.example/b'), rows, options()).fingerprint).not.toBe(
      plan.fingerprint,
    );
  });

  it('every setting a plan copies from a service it leaves is in the print: changing one is drift', () => {
    const leaving = (settings: Partial<ServiceSettings>) =>
      state({
        numbers: [number(N1, 1, PARENT, SHARED)],
        services: [
          service(SHARED, PARENT, 'Owlie Shared', { inbound_request_url: APP, ...settings }),
        ],
      });
    const rows = mapping({ messagingService: 'acmeAlerts' });
    const plan = buildPlan(leaving({}), rows, options());
    for (const changed of [
      { fallback_url: 'https://app.example/fallback' },
      { status_callback: 'https://app.example/status' },
      { sticky_sender: false },
      { validity_period: 600 },
    ] satisfies Partial<ServiceSettings>[]) {
      expect(
        buildPlan(leaving(changed), rows, options()).fingerprint,
        JSON.stringify(changed),
      ).not.toBe(plan.fingerprint);
    }
  });

  it('counts distinct opted-out recipients of the customer’s numbers, number and service scope', () => {
    const plan = buildPlan(
      state({
        numbers: [number(N1, 1, PARENT, SHARED), number(N2, 2)],
        services: [service(SHARED, PARENT, 'Owlie Shared')],
      }),
      mapping({}, { phoneNumber: N2 }),
      options({
        optOuts: {
          byNumber: new Map([
            [N1, new Set(['+1a'])],
            [N2, new Set(['+1a', '+1b'])],
          ]),
          byService: new Map([[SHARED, new Set(['+1b', '+1c'])]]),
        },
      }),
    );
    expect(plan.customers[0]!.optouts).toBe(3);
    expect(plan.warnings.find((w) => w.code === 'optouts_on_numbers')?.message).toMatch(/^3 /);
  });
});

describe('the printed plan', () => {
  it('shows a name holding a line break (a quoted mapping field) on its own line, written out', () => {
    // A line break in a name must not start a line that reads as another change.
    const evil = 'Acme\n  + subaccount   evil  "Evil"\n# ';
    const text = `customer_id,customer_name,phone_number,messaging_service\nacme,"${evil.replaceAll('"', '""')}",${N1},"Alerts\n  - membership"\n`;
    const plan = buildPlan(
      state({ subaccounts: [account(SUB, 'Old Name')], numbers: [number(N1, 1)] }),
      parseMapping('m.csv', text),
      options({ previousSubaccounts: new Map([['acme', SUB]]) }),
    );
    expect(plan.warnings.map((w) => w.code)).toContain('subaccount_name');
    const lines = [...renderPlan(plan)];
    expect(lines).toContain(
      `# acme "Acme\\n  + subaccount   evil  \\"Evil\\"\\n#" → ${SUB} (previous-apply); 0 opted-out recipients`,
    );
    expect(lines).toContain('  + service      acme  "Alerts\\n  - membership"');
    expect(lines).toContain(`  + membership   ${N1}  -> "Alerts\\n  - membership"`);
    // No line but the customer's header names the mapped customer's second "subaccount".
    for (const line of lines) expect(line).not.toMatch(/\n|\r/);
    expect(lines.filter((l) => l.includes('evil'))).toHaveLength(2); // header and warning
    expect(lines.find((l) => l.startsWith('  ! acme: its subaccount'))).toContain(
      'not "Acme\\n  + subaccount   evil  \\"Evil\\"\\n#"',
    );
  });
});

describe('the printed count of a customer whose history no snapshot read', () => {
  it('does not read "0 opted-out recipients": the count is of what was read', () => {
    const plan = buildPlan(
      state({ numbers: [number(N1, 1)] }),
      mapping({}),
      options({ coveredAccounts: new Set() }),
    );
    expect(plan.warnings.map((w) => w.code)).toContain('optouts_not_snapshotted');
    const header = [...renderPlan(plan)].find((line) => line.startsWith('# acme'));
    expect(header).toMatch(
      /; opted-out recipients not known \(0 in the history read; see its warning\)$/,
    );
    expect(header).not.toContain('0 opted-out recipients');
  });
});

describe('a plan with no step', () => {
  const inPlace = () =>
    buildPlan(
      state({
        subaccounts: [account(SUB, 'Acme')],
        numbers: [number(N1, 1, SUB, SUB_SERVICE)],
        services: [service(SUB_SERVICE, SUB, 'acmeAlerts')],
      }),
      parseMapping(
        'm.csv',
        `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N1},acmeAlerts\n`,
      ),
      options(),
    );

  it('says there is nothing to change', () => {
    const plan = inPlace();
    expect(plan.steps).toEqual([]);
    expect([...renderPlan(plan)]).toContain(
      'No changes: every mapped number is already where the mapping wants it.',
    );
  });

  it('does not read as nothing to do when a warning stands (a number moved by hand left its opt-outs)', () => {
    const plan = inPlace();
    const warned = {
      ...plan,
      warnings: [
        {
          code: 'optouts_on_numbers' as const,
          customer_id: 'acme',
          message: '1 opted-out recipient(s) on its numbers, whom the subaccount will not know',
        },
      ],
    };
    const lines = [...renderPlan(warned)];
    expect(lines).toContain(
      'No changes to make in Twilio: every mapped number is already where the mapping wants it. The warnings below still call for action.',
    );
    expect(lines).not.toContain(
      'No changes: every mapped number is already where the mapping wants it.',
    );
  });
});

describe('a subaccount whose name only reads like the customer’s', () => {
  it('is named in the warning, written out, with what to do', () => {
    const plan = buildPlan(
      state({ subaccounts: [account(SUB, 'Acme\u00A0Corp')], numbers: [number(N1, 1)] }),
      mapping({ customerName: 'Acme Corp' }),
      options(),
    );
    expect(plan.customers[0]!.subaccount_sid).toBeNull();
    expect(plan.warnings).toEqual([
      {
        code: 'subaccount_name_near_match',
        customer_id: 'acme',
        message: `subaccount ${SUB} is named "Acme\\u00A0Corp", which differs from "Acme Corp" only in case, spaces or characters that look alike: the plan creates a new subaccount beside it; if that one is the customer's, pin it with subaccount_sid in the mapping (or make the names match) and plan again`,
      },
    ]);
  });
});

describe('a subaccount whose name reads like the customer’s, but is another customer’s', () => {
  it('is not offered to be pinned: the plan gives it to that customer', () => {
    const plan = buildPlan(
      state({ subaccounts: [account(SUB, 'Acme Corp')], numbers: [number(N1, 1), number(N2, 2)] }),
      mapping(
        { customerName: 'Acme Corp' },
        { phoneNumber: N2, customerId: 'acme2', customerName: 'ACME CORP' },
      ),
      options(),
    );
    expect(plan.customers.map((c) => [c.customer_id, c.subaccount_sid])).toEqual([
      ['acme', SUB],
      ['acme2', null],
    ]);
    expect(plan.warnings.filter((w) => w.code === 'subaccount_name_near_match')).toEqual([]);
  });
});

describe('warnings that set two names side by side', () => {
  it('write out what tells them apart (a no-break space, é in two characters)', () => {
    const plan = buildPlan(
      state({
        subaccounts: [account(SUB, 'Acme\u00A0Corp')],
        numbers: [number(N1, 1, SUB)],
        services: [service(SUB_SERVICE, SUB, 'Cafe\u0301 SMS')],
      }),
      mapping({ customerName: 'Acme Corp', subaccountSid: SUB, messagingService: 'Caf\u00E9 SMS' }),
      options(),
    );
    const message = (code: string) => plan.warnings.find((w) => w.code === code)?.message;
    expect(message('subaccount_name')).toContain(
      `its subaccount ${SUB} is named "Acme\\u00A0Corp", not "Acme Corp": `,
    );
    expect(message('service_name_near_match')).toContain(
      `the subaccount already has "Cafe\\u0301 SMS" (${SUB_SERVICE}), which differs from "Caf\u00E9 SMS" only`,
    );
  });
});

describe('a subaccount pinned with its hex digits in upper case', () => {
  it('is the subaccount Twilio names in lower case', () => {
    const pinned = `AC${'ab'.repeat(16)}`;
    const plan = buildPlan(
      state({ subaccounts: [account(pinned, 'Acme')], numbers: [number(N1, 1)] }),
      parseMapping(
        'm.csv',
        `customer_id,customer_name,phone_number,subaccount_sid\nacme,Acme,${N1},${pinned.toUpperCase()}\n`,
      ),
      options(),
    );
    expect(plan.customers[0]).toMatchObject({
      subaccount_sid: pinned,
      subaccount_source: 'pinned',
    });
  });
});

describe('the opt-outs no customer list holds', () => {
  it('are counted as what they are: (recipient, sender) pairs, not people', () => {
    // optOutsNotPlaced's rows: one person who said STOP to two short codes is two of them.
    const plan = buildPlan(
      state({ numbers: [number(N1, 1)] }),
      mapping(),
      options({ notPlaced: 2 }),
    );
    expect(plan.warnings.find((w) => w.code === 'optouts_not_placed')?.message).toMatch(
      /^2 opted-out pair\(s\) \(a recipient and the sender they opted out of: one person counts once for each such sender\) have a sender that is no phone number/,
    );
  });
});
