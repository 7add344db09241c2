/**
 * `plan --carry-optouts`, pure: the carry step each customer gets (its records, their
 * sender_id, their dates, what it waits for), the plan's totals and time estimate, the
 * printed lines, and the plan file that carries the records.
 */

import { describe, expect, it } from 'vitest';

import { buildPlan, type PlanOptions } from '../../src/plan/build-plan.js';
import {
  carryIndex,
  correlationId,
  describeDuration,
  uncarriedOptOuts,
  type CarryIndex,
} from '../../src/plan/carry.js';
import { readSealedPlan, serializePlan } from '../../src/plan/plan-file.js';
import { renderPlan } from '../../src/plan/render.js';
import type { CarryOptOutsStep, Plan } from '../../src/plan/types.js';
import {
  mapping,
  N1,
  N2,
  number,
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

const [ANN, BOB, CY] = ['+12065550001', '+12065550002', '+12065550003'];

type Pair = [scope: 'number' | 'service', key: string, recipient: string, date: string];

/** The ledger's opted-out pairs: number scope keyed by number, service scope by MG. */
function ledger(...pairs: Pair[]) {
  return carryIndex(
    pairs.map(([scope, key, recipient, optedOutAt]) => ({
      scope,
      senderNumber: scope === 'number' ? key : N2,
      messagingServiceSid: scope === 'service' ? key : null,
      recipient,
      optedOutAt,
    })),
  );
}

function options(carry: Partial<NonNullable<PlanOptions['carry']>> | null = {}): PlanOptions {
  return planOptions({
    carry:
      carry === null
        ? null
        : {
            batchSize: 25,
            requestsPerMinute: 100,
            optOuts: ledger(),
            sourceServices: new Map(),
            written: new Set(),
            ...carry,
          },
  });
}

const carrySteps = (plan: Plan) =>
  plan.steps.filter((s): s is CarryOptOutsStep => s.action === 'carry_optouts');

describe('plan --carry-optouts', () => {
  const twoNumbers = state({
    numbers: [number(N1, 1), number(N2, 2, PARENT, SHARED)],
  });
  const optOuts = ledger(
    ['number', N1, ANN, '2025-01-01T00:00:00Z'],
    ['number', N1, BOB, '2025-01-02T00:00:00Z'],
    ['service', SHARED, BOB, '2025-03-03T00:00:00Z'],
    ['service', SHARED, CY, '2025-02-02T00:00:00Z'],
    ['number', '+19995550000', '+12065559999', '2025-01-01T00:00:00Z'],
  );

  it('a customer with a service: one record per end user, sender_id its service, after every other step', () => {
    const plan = buildPlan(
      twoNumbers,
      mapping(
        { messagingService: 'acmeAlerts' },
        { phoneNumber: N2, messagingService: 'acmeAlerts' },
      ),
      options({ optOuts }),
    );
    const [step] = carrySteps(plan);
    expect(step).toEqual({
      id: 'carry_optouts:acme',
      action: 'carry_optouts',
      customer_id: 'acme',
      // The subaccount and the service its records name; not the numbers' moves.
      depends_on: ['create_subaccount:acme', 'create_service:acme'],
      account_sid: null,
      sender: 'service',
      service_sid: null,
      service_name: 'acmeAlerts',
      optouts: 3,
      batch_size: 25,
      requests: 1,
      already_carried: 0,
    });
    expect(plan.steps.at(-1)).toBe(step);
    // Bob opted out of N1 and, later, of the shared service N2 was in: the later date.
    expect(plan.carry_items).toEqual([
      {
        step: step!.id,
        contact_id: ANN,
        sender_number: null,
        date_of_consent: '2025-01-01T00:00:00Z',
      },
      {
        step: step!.id,
        contact_id: BOB,
        sender_number: null,
        date_of_consent: '2025-03-03T00:00:00Z',
      },
      {
        step: step!.id,
        contact_id: CY,
        sender_number: null,
        date_of_consent: '2025-02-02T00:00:00Z',
      },
    ]);
    expect(plan.summary.optouts_to_carry).toBe(3);
    expect(plan.carry).toEqual({
      batch_size: 25,
      requests: 1,
      requests_per_minute: 100,
      seconds: 1,
    });
    expect(plan.options).toEqual({ snapshot: true, carry_optouts: true });
  });

  it('a customer without a service: one record per (number, end user), sender_id the number', () => {
    const plan = buildPlan(twoNumbers, mapping({}, { phoneNumber: N2 }), options({ optOuts }));
    const [step] = carrySteps(plan);
    expect(step).toMatchObject({ sender: 'number', service_sid: null, optouts: 4 });
    // The subaccount and the numbers its records name, once they are in it.
    expect(step!.depends_on).toEqual([
      'create_subaccount:acme',
      `transfer_number:${sid('PN', 1)}`,
      `transfer_number:${sid('PN', 2)}`,
    ]);
    expect(plan.carry_items!.map((i) => [i.sender_number, i.contact_id])).toEqual([
      [N1, ANN],
      [N1, BOB],
      [N2, BOB],
      [N2, CY],
    ]);
    expect([...renderPlan(plan)]).toContain('  + opt-outs     acme  4 -> 2 numbers');
  });

  it('batches of --carry-batch-size: requests, and the time they take at 100 a minute', () => {
    const many = ledger(
      ...Array.from({ length: 3000 }, (_, i): Pair => [
        'number',
        N1,
        `+1206${String(i).padStart(7, '0')}`,
        '2025-01-01T00:00:00Z',
      ]),
    );
    const plan = buildPlan(
      state({ numbers: [number(N1, 1)] }),
      mapping({}),
      options({ optOuts: many }),
    );
    expect(carrySteps(plan)[0]).toMatchObject({ optouts: 3000, requests: 120, batch_size: 25 });
    expect(plan.carry).toEqual({
      batch_size: 25,
      requests: 120,
      requests_per_minute: 100,
      seconds: 72,
    });
    const lines = [...renderPlan(plan)];
    expect(lines.at(-2)).toBe(
      "Carry: 3000 opt-out records (one per recipient and sender) written into the subaccounts through Twilio's Consent Management API, 120 requests of up to 25; at 100 requests a minute for each subaccount, side by side, that takes about 1 min 12 s.",
    );
    expect(lines.at(-1)).toMatch(/; 0 unchanged; 3000 opt-out records to carry\. /);

    const ten = buildPlan(
      state({ numbers: [number(N1, 1)] }),
      mapping({}),
      options({ optOuts: many, batchSize: 10 }),
    );
    expect(ten.carry).toMatchObject({ batch_size: 10, requests: 300, seconds: 180 });
  });

  it('prints the step as the customer, the count and the sender', () => {
    const plan = buildPlan(
      twoNumbers,
      mapping(
        { messagingService: 'acmeAlerts' },
        { phoneNumber: N2, messagingService: 'acmeAlerts' },
      ),
      options({ optOuts }),
    );
    expect([...renderPlan(plan)]).toContain('  + opt-outs     acme  3 -> "acmeAlerts"');
  });

  it('a customer with no opt-outs gets no carry step', () => {
    const plan = buildPlan(
      state({ numbers: [number(N2, 2)] }),
      mapping({ phoneNumber: N2 }),
      options({ optOuts }),
    );
    expect(carrySteps(plan)).toEqual([]);
    expect(plan.summary.optouts_to_carry).toBe(0);
    expect(plan.carry).toMatchObject({ requests: 0, seconds: 0 });
    expect([...renderPlan(plan)].at(-2)).toMatch(/^Carry: no opt-out record to write/);
  });

  it('records an earlier apply wrote are left out; when all were, no step', () => {
    const moved = state({
      subaccounts: [{ sid: SUB, friendlyName: 'Acme', status: 'active' }],
      numbers: [number(N1, 1, SUB, SUB_SERVICE)],
      services: [service(SUB_SERVICE, SUB, 'acmeAlerts')],
    });
    const rows = mapping({ messagingService: 'acmeAlerts' });
    const written = new Set([correlationId(SUB, SUB_SERVICE, ANN)]);
    const plan = buildPlan(moved, rows, options({ optOuts, written }));
    expect(plan.steps).toEqual([
      expect.objectContaining({
        id: 'carry_optouts:acme',
        depends_on: [],
        account_sid: SUB,
        service_sid: SUB_SERVICE,
        optouts: 1,
        already_carried: 1,
      }),
    ]);
    expect(plan.carry_items!.map((i) => i.contact_id)).toEqual([BOB]);

    written.add(correlationId(SUB, SUB_SERVICE, BOB));
    const again = buildPlan(moved, rows, options({ optOuts, written }));
    expect(again.steps).toEqual([]);
    expect(again.summary.optouts_to_carry).toBe(0);
  });

  it('the opt-outs warning says what an earlier apply wrote, not that the subaccount will not know them', () => {
    const moved = state({
      subaccounts: [{ sid: SUB, friendlyName: 'Acme', status: 'active' }],
      numbers: [number(N1, 1, SUB, SUB_SERVICE)],
      services: [service(SUB_SERVICE, SUB, 'acmeAlerts')],
    });
    const rows = mapping({ messagingService: 'acmeAlerts' });
    const counted = { byNumber: new Map([[N1, new Set([ANN, BOB])]]), byService: new Map() };
    const warning = (written: Set<string>) =>
      buildPlan(moved, rows, { ...options({ optOuts, written }), optOuts: counted }).warnings.find(
        (w) => w.code === 'optouts_on_numbers',
      )!.message;
    const written = new Set([correlationId(SUB, SUB_SERVICE, ANN)]);
    expect(warning(written)).toContain(
      'an earlier apply wrote 1 of its records already; this plan writes the other 1',
    );
    written.add(correlationId(SUB, SUB_SERVICE, BOB));
    const done = warning(written);
    expect(done).toMatch(
      /^2 opted-out recipient\(s\) on its numbers, all written into its subaccount .* by an earlier apply: nothing is left to carry/,
    );
    expect(done).not.toContain('will not know');
  });

  it('made again without --carry-optouts, the opt-outs warning says what an earlier apply wrote', () => {
    const moved = state({
      subaccounts: [{ sid: SUB, friendlyName: 'Acme', status: 'active' }],
      numbers: [number(N1, 1, SUB, SUB_SERVICE)],
      services: [service(SUB_SERVICE, SUB, 'acmeAlerts')],
    });
    const rows = mapping({ messagingService: 'acmeAlerts' });
    const counted = { byNumber: new Map([[N1, new Set([ANN, BOB])]]), byService: new Map() };
    const warning = (written: Set<string>) =>
      buildPlan(moved, rows, {
        ...options(null),
        optOuts: counted,
        carriedBefore: options({ optOuts, written }).carry!,
      }).warnings.find((w) => w.code === 'optouts_on_numbers')!.message;
    // Nothing written before: the subaccount does not know them.
    expect(warning(new Set())).toBe(
      "2 opted-out recipient(s) on its numbers, whom the subaccount will not know: the customer's app must enforce `submigrate optouts --customer acme`",
    );
    const written = new Set([correlationId(SUB, SUB_SERVICE, ANN)]);
    expect(warning(written)).toBe(
      "2 opted-out recipient(s) on its numbers: an earlier apply wrote 1 of its records into its subaccount through the Consent Management API; the subaccount will not know the other 1 (plan with --carry-optouts to write them): the customer's app must enforce `submigrate optouts --customer acme`",
    );
    written.add(correlationId(SUB, SUB_SERVICE, BOB));
    const done = warning(written);
    expect(done).toBe(
      "2 opted-out recipient(s) on its numbers, all written into its subaccount through the Consent Management API by an earlier apply. Where Twilio does not enforce them (see carry.csv of that run), the customer's app must enforce `submigrate optouts --customer acme`",
    );
    expect(done).not.toContain('will not know');
  });

  it('made again without --carry-optouts, counts as written only records into this subaccount, with this sender, of these opt-outs', () => {
    const moved = state({
      subaccounts: [{ sid: SUB, friendlyName: 'Acme', status: 'active' }],
      numbers: [number(N1, 1, SUB, SUB_SERVICE)],
      services: [service(SUB_SERVICE, SUB, 'acmeAlerts')],
    });
    const rows = mapping({ messagingService: 'acmeAlerts' });
    const warning = (listed: CarryIndex, written: Set<string>) =>
      buildPlan(moved, rows, {
        ...options(null),
        optOuts: listed,
        carriedBefore: options({ optOuts: listed, written }).carry!,
      }).warnings.find((w) => w.code === 'optouts_on_numbers')!.message;
    const two = ledger(
      ['number', N1, ANN, '2025-01-01T00:00:00Z'],
      ['number', N1, BOB, '2025-01-02T00:00:00Z'],
    );
    const other = 'AC' + '9'.repeat(32);
    // Written into another subaccount (the customer's before), or for the number rather than
    // the service the customer now sends through: this subaccount does not know them.
    for (const written of [
      new Set([correlationId(other, SUB_SERVICE, ANN), correlationId(other, SUB_SERVICE, BOB)]),
      new Set([correlationId(SUB, N1, ANN), correlationId(SUB, N1, BOB)]),
    ]) {
      expect(warning(two, written)).toContain('whom the subaccount will not know');
    }
    // Both written, and a STOP since (CY): not all written.
    const both = new Set([
      correlationId(SUB, SUB_SERVICE, ANN),
      correlationId(SUB, SUB_SERVICE, BOB),
    ]);
    expect(warning(two, both)).toContain('all written into its subaccount');
    const three = ledger(
      ['number', N1, ANN, '2025-01-01T00:00:00Z'],
      ['number', N1, BOB, '2025-01-02T00:00:00Z'],
      ['number', N1, CY, '2025-06-01T00:00:00Z'],
    );
    const grown = warning(three, both);
    expect(grown).toContain('an earlier apply wrote 2 of its records');
    expect(grown).toContain('the subaccount will not know the other 1');
    expect(grown).not.toContain('all written');
  });

  it('a number already moved carries the service-wide opt-outs of the service it left', () => {
    const moved = state({
      subaccounts: [{ sid: SUB, friendlyName: 'Acme', status: 'active' }],
      numbers: [number(N2, 2, SUB)],
    });
    const rows = mapping({ phoneNumber: N2 });
    expect(carrySteps(buildPlan(moved, rows, options({ optOuts })))).toEqual([]);
    const plan = buildPlan(
      moved,
      rows,
      options({ optOuts, sourceServices: new Map([[sid('PN', 2), SHARED]]) }),
    );
    expect(plan.carry_items!.map((i) => [i.sender_number, i.contact_id])).toEqual([
      [N2, BOB],
      [N2, CY],
    ]);
  });

  it('without --carry-optouts the plan has no carry at all', () => {
    const plan = buildPlan(twoNumbers, mapping({}, { phoneNumber: N2 }), options(null));
    expect(carrySteps(plan)).toEqual([]);
    expect(plan.options).toEqual({ snapshot: true });
    expect('optouts_to_carry' in plan.summary).toBe(false);
    expect('carry' in plan).toBe(false);
    expect('carry_items' in plan).toBe(false);
  });

  it('warns that the Consent API does not cover toll-free numbers', () => {
    const plan = buildPlan(
      state({ numbers: [number(TF, 3, PARENT, null, 'toll-free')] }),
      mapping({ phoneNumber: TF }),
      {
        ...options({ optOuts: ledger(['number', TF, ANN, '2025-01-01T00:00:00Z']) }),
        optOuts: { byNumber: new Map([[TF, new Set([ANN])]]), byService: new Map() },
      },
    );
    expect(plan.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(['optouts_on_numbers', 'carry_toll_free']),
    );
    expect(plan.warnings.find((w) => w.code === 'optouts_on_numbers')!.message).toContain(
      'carry_optouts',
    );
  });

  it('the plan file keeps the records one per line, and refuses counts that do not add up', () => {
    const plan = buildPlan(twoNumbers, mapping({}, { phoneNumber: N2 }), options({ optOuts }));
    const text = serializePlan(plan);
    expect(text).toContain(
      `\n    {"step":"carry_optouts:acme","contact_id":"${ANN}","sender_number":"${N1}","date_of_consent":"2025-01-01T00:00:00Z"},\n`,
    );
    expect(readSealedPlan('p.json', text).plan).toEqual(plan);

    const short = { ...plan, carry_items: plan.carry_items!.slice(1) };
    expect(() => readSealedPlan('p.json', serializePlan(short))).toThrow(
      'p.json: step carry_optouts:acme does not have the records its count says',
    );
    const stray = {
      ...plan,
      carry_items: [...plan.carry_items!, { ...plan.carry_items![0]!, step: 'carry_optouts:x' }],
    };
    expect(() => readSealedPlan('p.json', serializePlan(stray))).toThrow(
      'a carry item names carry_optouts:x, which is not a carry step',
    );
  });
});

describe('uncarriedOptOuts: what a carry plan leaves out of the ledger by now', () => {
  const twoNumbers = state({
    numbers: [number(N1, 1), number(N2, 2, PARENT, SHARED)],
  });
  const at = '2025-01-01T00:00:00Z';
  const known = ledger(['number', N1, ANN, at], ['service', SHARED, BOB, at]);
  const later = ledger(
    ['number', N1, ANN, at],
    ['service', SHARED, BOB, '2025-06-06T00:00:00Z'],
    // Found since: an older STOP a snapshot read, and one on a number of another customer.
    ['number', N2, CY, at],
    ['number', '+19995550000', CY, at],
  );
  const left = (
    plan: Plan,
    optOuts: CarryIndex,
    written: ReadonlySet<string> = new Set(),
    where: { subaccount?: string; service?: string } = {},
  ) =>
    uncarriedOptOuts(plan, {
      optOuts,
      written,
      servicesOf: (n) => n.optout_services ?? [],
      subaccountOf: () => where.subaccount ?? null,
      serviceOf: () => where.service ?? null,
    });

  it('nothing for the ledger the plan was made from; the records it would add now, per customer', () => {
    const viaService = buildPlan(
      twoNumbers,
      mapping(
        { messagingService: 'acmeAlerts' },
        { phoneNumber: N2, messagingService: 'acmeAlerts' },
      ),
      options({ optOuts: known }),
    );
    expect(left(viaService, known)).toEqual([]);
    // Bob's later date is the same record; Cy is one more (one per end user with a service).
    expect(left(viaService, later)).toEqual([{ customer_id: 'acme', records: 1 }]);

    const byNumber = buildPlan(
      twoNumbers,
      mapping({}, { phoneNumber: N2 }),
      options({ optOuts: known }),
    );
    expect(left(byNumber, known)).toEqual([]);
    expect(left(byNumber, later)).toEqual([{ customer_id: 'acme', records: 1 }]);
  });

  it('counts a customer the plan gave no carry step, and leaves out what an earlier apply wrote', () => {
    const plan = buildPlan(
      twoNumbers,
      mapping({}, { phoneNumber: N2 }),
      options({ optOuts: ledger() }),
    );
    expect(carrySteps(plan)).toEqual([]);
    expect(left(plan, later)).toEqual([{ customer_id: 'acme', records: 3 }]);
    // Written into the subaccount the customer has by now: not left out.
    const written = new Set([correlationId(SUB, N2, CY)]);
    expect(left(plan, later, written, { subaccount: SUB })).toEqual([
      { customer_id: 'acme', records: 2 },
    ]);
  });

  it('a plan made without --carry-optouts leaves nothing out: it carries nothing', () => {
    const plan = buildPlan(twoNumbers, mapping({}, { phoneNumber: N2 }), options(null));
    expect(left(plan, later)).toEqual([]);
  });
});

describe('correlationId', () => {
  it('is 32 hex characters, the same for the same record, different for another', () => {
    const id = correlationId(SUB, SUB_SERVICE, ANN);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(correlationId(SUB, SUB_SERVICE, ANN)).toBe(id);
    expect(
      new Set([
        id,
        correlationId(SUB, SUB_SERVICE, BOB),
        correlationId(SUB, N1, ANN),
        correlationId(PARENT, SUB_SERVICE, ANN),
      ]).size,
    ).toBe(4);
  });
});

describe('describeDuration', () => {
  it.each([
    [0, '0 s'],
    [1, '1 s'],
    [60, '1 min'],
    [72, '1 min 12 s'],
    [3600, '60 min'],
  ])('%d → %s', (seconds, text) => {
    expect(describeDuration(seconds)).toBe(text);
  });
});
