/**
 * Reading a plan file back: a `set_number_webhook` step's fallback, in a plan written before
 * steps carried it and in one whose two fallback fields do not go together.
 */

import { describe, expect, it } from 'vitest';

import { UserError } from '../../src/errors.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import { carryIndex } from '../../src/plan/carry.js';
import { readPlan, serializePlan } from '../../src/plan/plan-file.js';
import { fingerprint } from '../../src/plan/resources.js';
import type { Plan, SetNumberWebhookStep } from '../../src/plan/types.js';
import {
  account,
  editedAndResealed,
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
  it.each(['../../outside', 'acme/../../x', '', '.hidden', 'CON', 'nul.x'])(
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

  it('with two customer_ids that differ only in case (one report file on macOS): refused', () => {
    const plan = buildPlan(
      state({ numbers: [number(N1, 1), number(N2, 2)] }),
      mapping({}, { phoneNumber: N2, customerId: 'ACME', customerName: 'Acme Two' }),
      planOptions(),
    );
    expect(plan.customers.map((c) => c.customer_id)).toEqual(['acme', 'ACME']);
    expect(() => readPlan('p.json', serializePlan(plan))).toThrow(
      /customers acme and ACME differ only in case/,
    );
  });

  it('recorded by an apply run before such ids were refused (CON; acme beside ACME): read, to report it again', () => {
    const plan = buildPlan(
      state({ numbers: [number(N1, 1), number(N2, 2), number('+14155550199', 3)] }),
      mapping(
        { customerId: 'CON', customerName: 'Console Co' },
        { phoneNumber: N2, customerId: 'ACME', customerName: 'Acme Two' },
        { phoneNumber: '+14155550199', customerId: 'acme', customerName: 'Acme' },
      ),
      planOptions(),
    );
    const text = serializePlan(plan);
    expect(readPlan('run', text, 'journal').customers.map((c) => c.customer_id)).toEqual([
      'CON',
      'ACME',
      'acme',
    ]);
    expect(() => readPlan('p.json', text)).toThrow(/customer_id "CON" is not one a mapping allows/);
    // A separator or a leading dot is refused from the journal too: nothing outside the folder.
    plan.customers[0]!.customer_id = '../CON';
    expect(() => readPlan('run', serializePlan(plan), 'journal')).toThrow(
      /customer_id "..\/CON" is not one a mapping allows/,
    );
  });

  it('with the customer_ids a mapping allows: read', () => {
    expect(readPlan('p.json', serializePlan(leavingPlan())).customers[0]!.customer_id).toBe('acme');
  });
});

/** Two customers: acme (a service made for it, its opt-outs carried) and beta (no service). */
function carryingPlan(): Plan {
  const optOuts = carryIndex([
    {
      scope: 'number',
      senderNumber: N1,
      messagingServiceSid: null,
      recipient: '+12065550001',
      optedOutAt: '2025-01-01T00:00:00Z',
    },
  ]);
  return buildPlan(
    state({
      numbers: [number(N1, 1), number(N2, 2, PARENT, SHARED)],
      services: [
        service(SHARED, PARENT, 'Shared', { inbound_request_url: 'https://app.example/sms' }),
      ],
    }),
    mapping(
      { messagingService: 'acmeAlerts' },
      { phoneNumber: N2, customerId: 'beta', customerName: 'Beta' },
    ),
    planOptions({
      carry: {
        batchSize: 25,
        requestsPerMinute: 100,
        optOuts,
        sourceServices: new Map(),
        written: new Set(),
      },
    }),
  );
}

const step = (json: any, id: string) => json.steps.find((s: { id: string }) => s.id === id);

describe('a plan edited and sealed again, refused in one line before apply trusts it', () => {
  it('as written by plan: read', () => {
    expect(
      readPlan(
        'p.json',
        editedAndResealed(serializePlan(carryingPlan()), () => undefined),
      ).steps,
    ).toEqual(carryingPlan().steps);
  });

  it.each<[string, (json: any) => void, RegExp]>([
    // Members of the wrong type: a stack trace, or a request for /IncomingPhoneNumbers/null.json.
    ['a step that is null', (j) => (j.steps[0] = null), /steps\[0\] is not an object/],
    [
      'depends_on that is not a list',
      (j) => (step(j, 'create_service:acme').depends_on = 'create_subaccount:acme'),
      /create_service:acme: depends_on is "create_subaccount:acme"/,
    ],
    [
      'a number_sid that is null',
      (j) => (step(j, 'transfer_number:' + j.steps[2].number_sid).number_sid = null),
      /number_sid is null/,
    ],
    // batch_size 0: apply --dry-run listed batches of 0 records forever.
    [
      'a carry step with batch_size 0',
      (j) => (step(j, 'carry_optouts:acme').batch_size = 0),
      /carry_optouts:acme: batch_size is 0/,
    ],
    ['options that are null', (j) => (j.options = null), /options is null/],
    ['warnings that are not a list', (j) => (j.warnings = {}), /warnings is \{\}/],
    [
      'a setting plan never copies',
      (j) => (step(j, 'create_service:acme').settings.friendly_name = 'x'),
      /create_service:acme: settings is/,
    ],
    [
      'an observed resource of no kind',
      (j) => (j.observed['bogus:1'] = {}),
      /observed resource "bogus:1" is of no kind/,
    ],
    // Read as a list of SIDs by the search for leftovers after the steps, and by a re-run.
    [
      'an observed list that is not one, its fingerprint computed again',
      (j) => {
        const key = Object.keys(j.observed).find((k) => k.startsWith('subaccounts-named:'))!;
        j.observed[key] = { sid: 'x' };
        j.fingerprint = fingerprint(new Map(Object.entries(j.observed)));
      },
      /observed subaccounts-named:\S+ is \{"sid":"x"\}/,
    ],
    // Steps that do not hold together: apply failed half way, with an internal error.
    [
      'a step of a customer the plan does not list',
      (j) => (step(j, 'create_subaccount:beta').customer_id = 'zed'),
      /for customer zed, who is not in the plan's customers/,
    ],
    ['a step twice', (j) => j.steps.push(j.steps[0]), /step create_subaccount:acme appears twice/],
    [
      'a dependency cycle',
      (j) => step(j, 'create_subaccount:acme').depends_on.push('create_service:acme'),
      /create_subaccount:acme depends on create_service:acme, which is not a step before it/,
    ],
    [
      'a dependency on a step not in the plan',
      (j) => step(j, 'create_service:acme').depends_on.push('create_subaccount:zed'),
      /depends on create_subaccount:zed, which is not a step before it/,
    ],
    [
      'the step that makes the subaccount taken out',
      (j) => {
        j.steps = j.steps.filter((s: any) => s.id !== 'create_subaccount:beta');
        for (const s of j.steps) {
          s.depends_on = s.depends_on.filter((d: string) => d !== 'create_subaccount:beta');
        }
      },
      /does not come after create_subaccount:beta, which makes the subaccount it acts in/,
    ],
    [
      "a step moving another customer's number",
      (j) => (step(j, `transfer_number:${sid('PN', 1)}`).customer_id = 'beta'),
      /moves \+14155550101 \(PN0+1\), which is not a number of customer beta/,
    ],
    [
      'a customer whose subaccount is the parent account',
      (j) => (j.customers[0].subaccount_sid = PARENT),
      /customer acme's subaccount is the parent account itself/,
    ],
    [
      'two customers going to one subaccount',
      (j) => {
        for (const c of j.customers) c.subaccount_sid = sid('AC', 0xe);
      },
      /customers acme and beta both go to subaccount AC0+e/,
    ],
    [
      'a transfer that shows one subaccount while apply would use another',
      (j) => (step(j, `transfer_number:${sid('PN', 2)}`).to_account_sid = sid('AC', 0xe)),
      /has to_account_sid "AC0+e", but its customer's is null/,
    ],
    [
      'an observed resource changed, its fingerprint not',
      (j) => (j.observed[`number:${sid('PN', 1)}`].sms_url = 'https://elsewhere.example/sms'),
      /its fingerprint is not that of its observed resources/,
    ],
    // Without the option, apply skips the check that the carry holds every opt-out recorded.
    [
      'carry steps in a plan whose options say it does not carry',
      (j) => delete j.options.carry_optouts,
      /has carry_optouts steps but was not made with --carry-optouts/,
    ],
  ])('%s', (_, edit, message) => {
    const text = editedAndResealed(serializePlan(carryingPlan()), edit);
    expect(() => readPlan('p.json', text)).toThrow(UserError);
    expect(() => readPlan('p.json', text)).toThrow(message);
    try {
      readPlan('p.json', text);
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

describe('a plan edited by hand, its refusal quoting a value', () => {
  it('shows a webhook URL in it with its password masked', () => {
    const text = editedAndResealed(serializePlan(carryingPlan()), (j) => {
      const settings = step(j, 'create_service:acme').settings;
      settings.inbound_request_url = 'https://owlie:Hook5ecret@hooks.example/sms';
      settings.friendly_name = 'x';
    });
    const refused = (() => {
      try {
        readPlan('p.json', text);
      } catch (error) {
        return (error as Error).message;
      }
      return 'read';
    })();
    expect(refused).toMatch(
      /create_service:acme: settings is \{.*"inbound_request_url":"https:\/\/owlie:\*\*\*@h/,
    );
    // Not even its first letters (the value is cut at 80 characters).
    expect(refused).not.toContain('owlie:H');
  });
});

describe('a file that is not a plan, in one line', () => {
  it('not JSON, whatever V8 quotes of it', () => {
    const text = serializePlan(leavingPlan()).replace(
      '"format": "submigrate-plan/1"',
      '"format": x',
    );
    expect(() => readPlan('p.json', text)).toThrow(
      /^p\.json: not a plan file \(not JSON: [^\n]*\)$/,
    );
  });

  it('a format with a line break in it', () => {
    const text = serializePlan(leavingPlan()).replace('submigrate-plan/1', 'x\\ny');
    expect(() => readPlan('p.json', text)).toThrow(/^p\.json: plan format "x\\ny" is not one/);
  });
});

// A newer submigrate adds members to a plan of the same format, as steps gained a fallback: one
// this version does not know was dropped, and the plan applied doing less than it says (a
// number's status callback, say, never set).
describe('a plan a newer submigrate made, with members this one does not know', () => {
  it.each<[string, (json: any) => void, string]>([
    [
      'on a step',
      (j) => ((webhookStep(j) as any).sms_status_callback = 'https://app.example/status'),
      `step set_number_webhook:${sid('PN', 1)}: sms_status_callback`,
    ],
    ['at the top', (j) => (j.routes_checked = true), 'routes_checked'],
    ['in its options', (j) => (j.options.keep_fallbacks = true), 'options.keep_fallbacks'],
    ['on a customer', (j) => (j.customers[0].compliance = 'a2p'), 'customers[0].compliance'],
    [
      'on a customer’s number',
      (j) => (j.customers[0].numbers[0].voice_url = 'https://app.example/voice'),
      'customers[0].numbers[0].voice_url',
    ],
  ])('%s: refused, naming it, as a file and as a run’s plan', (_, edit, member) => {
    const text = editedAndResealed(serializePlan(leavingPlan()), edit);
    for (const source of ['file', 'journal'] as const) {
      const error = thrownBy(() => readPlan('p.json', text, source));
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toBe(
        `p.json: ${member} is a member this version of submigrate does not know: a newer submigrate made the plan. Apply it with the submigrate that made it, or make the plan again with this one (\`submigrate plan\`); nothing was sent`,
      );
    }
  });

  it('a carry’s members, and its records’: refused', () => {
    for (const edit of [
      (j: any) => (j.carry.region = 'us1'),
      (j: any) => (j.carry_items[0].source = 'consent-api'),
    ]) {
      const text = editedAndResealed(serializePlan(carryingPlan()), edit);
      expect(() => readPlan('p.json', text)).toThrow(/does not know: a newer submigrate made/);
    }
  });
});

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe("a run's plan, read again from the journal (report, routes, reconcile)", () => {
  /**
   * As `plan` wrote it before it refused two customers going to one subaccount (94eb648): both
   * pinned to SUB. An apply ran it; its reports are still written.
   */
  const sharingPlan = () =>
    editedAndResealed(
      serializePlan(
        buildPlan(
          state({
            subaccounts: [account(SUB, 'Acme'), account(OTHER_SUB, 'Beta')],
            numbers: [number(N1, 1), number(N2, 2)],
          }),
          mapping(
            { subaccountSid: SUB },
            { phoneNumber: N2, customerId: 'beta', customerName: 'Beta', subaccountSid: OTHER_SUB },
          ),
          planOptions(),
        ),
      ),
      (j) => {
        j.customers[1].subaccount_sid = SUB;
        for (const s of j.steps) if (s.action === 'transfer_number') s.to_account_sid = SUB;
      },
    );

  it('two customers pinned to one subaccount: refused as a plan file to apply', () => {
    expect(() => readPlan('p.json', sharingPlan())).toThrow(/both go to subaccount/);
  });

  it('two customers pinned to one subaccount: read as the plan a run ran', () => {
    const plan = readPlan('apply run 1', sharingPlan(), 'journal');
    expect(plan.customers.map((c) => c.subaccount_sid)).toEqual([SUB, SUB]);
  });

  it('a carry batch above 25 (before --carry-batch-size was capped): read; as a file, refused', () => {
    const text = editedAndResealed(serializePlan(carryingPlan()), (j) => {
      const carry = step(j, 'carry_optouts:acme');
      carry.batch_size = 50;
      carry.requests = Math.ceil(carry.optouts / 50);
    });
    expect(() => readPlan('p.json', text)).toThrow(/carry_optouts:acme: batch_size is 50/);
    expect(readPlan('apply run 1', text, 'journal').steps.length).toBeGreaterThan(0);
  });
});

describe('a plan written', () => {
  it('from its own long lists and maps, element by element, never a copy of them', () => {
    // A copy of a 100,000-number plan's 222,000 steps as [key, step] pairs was some 10 MB more
    // held while the plan is written, at its peak of memory.
    const plan = leavingPlan();
    const expected = serializePlan(plan);
    const steps = [...plan.steps];
    steps.map = () => {
      throw new Error('the steps copied');
    };
    const observed = new Map(plan.observed);
    observed.entries = () => {
      throw new Error('the observed state copied');
    };
    expect(serializePlan({ ...plan, steps, observed })).toBe(expected);
    expect(readPlan('p.json', expected)).toEqual(plan);
  });
});
