/**
 * `plan --carry-optouts` and `apply` through the built CLI against the emulator over real
 * HTTP. On the Owlie scenario: after the move, from each subaccount (through its new service,
 * or from each number when it has none), a send to every recipient who had opted out of the
 * customer's numbers before the move is refused by Twilio itself with 21610, judged by the
 * emulator's own opt-out store as it stood before the move; a send to anyone else goes
 * through. Then: a subaccount without Consent API access (step failed, exit 3, the moves
 * stand, the report says the list is the customer's only protection, and a later apply with
 * access finishes it), and a plan without --carry-optouts, whose report says the same of
 * every customer.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { owlieMapping } from '../../src/emulator/scenarios/owlie.js';
import { readPlan } from '../../src/plan/plan-file.js';
import {
  clearRequestLog,
  emulatorOptOuts,
  ownClient,
  requestLog,
  type EmulatorOptOut,
  type EmulatorStateView,
  sendOutcome,
} from '../support/emulator.js';
import {
  applyCleanly,
  customersOf,
  expectMigrated,
  useCliWorkspace,
  useOwlieWorkspace,
  type MappedCustomer,
} from '../support/migration.js';
import { cliEnv, readOnly, runCli } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NOBODY = '+12125550199';
const csv = (path: string) =>
  parse(readFileSync(path, 'utf8'), { columns: true }) as Record<string, string>[];
const consentPosts = <Entry extends { method: string; path: string }>(log: Entry[]) =>
  log.filter((e) => e.method === 'POST' && e.path === '/v1/Consents/Bulk');

/**
 * The emulator's ground truth before the move: per number, the recipients opted out of it
 * (its own number-scope opt-outs and those of the service it was in), and those who opted out
 * once and back in since.
 */
function truthBefore(state: EmulatorStateView, store: readonly EmulatorOptOut[]) {
  const parent = state.parent_account_sid;
  const serviceOf = new Map(state.numbers.map((n) => [n.phone_number, n.messaging_service_sid]));
  const recipients = (phone: string, optedOut: boolean) =>
    new Set(
      store
        .filter((o) => o.account_sid === parent && o.opted_out === optedOut)
        .filter((o) =>
          o.scope === 'number'
            ? o.sender_number === phone
            : o.messaging_service_sid !== null && o.messaging_service_sid === serviceOf.get(phone),
        )
        .map((o) => o.recipient),
    );
  return {
    optedOut: (phone: string) => recipients(phone, true),
    optedBackIn: (phone: string) => recipients(phone, false),
  };
}

describe('carry the Owlie opt-outs into the subaccounts (built CLI)', () => {
  const { ws, cli, MAPPING, db, plan, expectNoTokenLeft } = useOwlieWorkspace(NOW);
  const customers = customersOf(owlieMapping());
  let truth: ReturnType<typeof truthBefore>;

  it('plan --carry-optouts: one carry step per customer with opt-outs, printed with its count and sender', async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const planned = await cli([
      'plan',
      '--mapping',
      MAPPING,
      '--db',
      db(),
      '--out',
      plan(),
      '--carry-optouts',
    ]);
    expect(planned.code).toBe(0);
    const read = readPlan(plan(), readFileSync(plan(), 'utf8'));
    const carries = read.steps.filter((s) => s.action === 'carry_optouts');
    expect(carries.length).toBeGreaterThan(30);
    const falcon = carries.find((s) => s.customer_id === 'falcon-flights')!;
    expect(planned.stdout).toContain(
      `  + opt-outs     falcon-flights  ${falcon.optouts} -> "falconFlightsNotifications"`,
    );
    const rosie = carries.find((s) => s.customer_id === 'rosies-bakery');
    if (rosie !== undefined) {
      expect(planned.stdout).toContain(`  + opt-outs     rosies-bakery  ${rosie.optouts} -> +1617`);
    }
    const total = carries.reduce((n, s) => n + s.optouts, 0);
    expect(read.summary.optouts_to_carry).toBe(total);
    expect(read.carry_items).toHaveLength(total);
    expect(read.carry!.requests).toBe(carries.reduce((n, s) => n + s.requests, 0));
    expect(planned.stdout).toMatch(
      new RegExp(
        `^Carry: ${total} opt-out records \\(one per recipient and sender\\) written into the subaccounts through Twilio's Consent Management API, ${read.carry!.requests} requests of up to 25; at 100 requests a minute for each subaccount, side by side, that takes about .+\\.$`,
        'm',
      ),
    );
    expect(planned.stdout).toMatch(
      new RegExp(`; 0 unchanged; ${total} opt-out records to carry\\. `),
    );
    // --dry-run prints one Consent API request per batch, as the subaccount, and sends none.
    await clearRequestLog(ws.env);
    const dry = await cli(['apply', plan(), '--db', db(), '--dry-run']);
    expect(dry.code).toBe(0);
    const posts = dry.stdout.split('\n').filter((l) => l.includes('/v1/Consents/Bulk'));
    expect(posts).toHaveLength(read.carry!.requests);
    expect(posts[0]).toMatch(
      /^POST {3}https:\/\/accounts\.twilio\.com\/v1\/Consents\/Bulk {2}Items=\d+ × \{status: opt-out, source: opt-out-message, sender_id: \{service created for [\w-]+\}, contact_id: (first \+\d+, last \+\d+|\+\d+)\} {3}\(credentials of \{subaccount created for [\w-]+\}\) {3}# carry_optouts:[\w-]+ batch 1 of \d+$/,
    );
    // A batch names its first and last contact as such: its ids are no range (`+1…01…+1…99`).
    const several = carries.filter((s) => s.optouts > 1);
    expect(several.length).toBeGreaterThan(0);
    for (const step of several) {
      const batch = read.carry_items!.filter((i) => i.step === step.id).slice(0, step.batch_size);
      const line = posts.find((l) => l.endsWith(`# ${step.id} batch 1 of ${step.requests}`));
      expect(line).toContain(`Items=${batch.length} × {`);
      expect(line).toContain(
        `, contact_id: first ${batch[0]!.contact_id}, last ${batch.at(-1)!.contact_id}}`,
      );
    }
    expect(await requestLog(ws.env)).toEqual([]);
    // Every carry step comes after the steps that make the senders its records name.
    for (const step of carries) {
      const own = read.steps.filter((s) => s.customer_id === step.customer_id && s !== step);
      const senders = new Set(
        read.carry_items!.filter((i) => i.step === step.id).map((i) => i.sender_number),
      );
      expect(step.depends_on).toEqual(
        own
          .filter(
            (s) =>
              s.action === 'create_subaccount' ||
              (step.sender === 'service'
                ? s.action === 'create_service'
                : s.action === 'transfer_number' && senders.has(s.phone_number)),
          )
          .map((s) => s.id),
      );
    }
  });

  it('apply: Twilio itself refuses every opted-out recipient, in every subaccount, and no one else', async () => {
    truth = truthBefore(await ws.env.state(), await emulatorOptOuts(ws.env, { all: true }));
    await clearRequestLog(ws.env);
    // Each subaccount gets its own one or two Consent requests: no need to wait a minute
    // between them here (the limit itself is held in carry-limits.test.ts).
    await applyCleanly(cli, plan(), db(), ['--consent-rate', '1000']);
    await expectMigrated(ws.env, customers);
    const read = readPlan(plan(), readFileSync(plan(), 'utf8'));
    const posts = consentPosts(await requestLog(ws.env));
    expect(posts).toHaveLength(read.carry!.requests);
    // Each with the credentials of a subaccount, never the parent's.
    const subaccounts = new Set(
      (await ws.env.state()).accounts.filter((a) => a.sid !== ws.env.parentSid).map((a) => a.sid),
    );
    expect(posts.every((e) => e.account_sid !== null && subaccounts.has(e.account_sid))).toBe(true);

    const state = await ws.env.state();
    let refused = 0;
    let tollFreeSent = 0;
    for (const customer of customers) {
      const sub = state.accounts.find((a) => a.friendly_name === customer.name)!;
      const client = ownClient(ws.env, sub.sid);
      const service = state.services.find((s) => s.account_sid === sub.sid);
      // From each number: through the customer's service (whose records cover every number's
      // list), or on its own (its records cover its own list).
      for (const phone of customer.numbers) {
        const from =
          service === undefined
            ? { from: phone }
            : { messagingServiceSid: service.sid, from: phone };
        const phones = service === undefined ? [phone] : customer.numbers;
        const optedOut = new Set(phones.flatMap((p) => [...truth.optedOut(p)]));
        const backIn = phones
          .flatMap((p) => [...truth.optedBackIn(p)])
          .filter((r) => !optedOut.has(r));
        const outcomes = await Promise.all(
          [...optedOut].map((to) => sendOutcome(client, to, from)),
        );
        // The Consent API's records do not cover a US toll-free sender: Twilio sends.
        const tollFree = /^\+1(800|833|844|855|866|877|888)/.test(phone);
        expect(
          outcomes.every((code) => code === (tollFree ? 201 : 21610)),
          `${customer.id} ${JSON.stringify(from)}`,
        ).toBe(true);
        if (tollFree) tollFreeSent += outcomes.length;
        else refused += outcomes.length;
        expect(await sendOutcome(client, NOBODY, from), customer.id).toBe(201);
        for (const to of backIn.slice(0, 3))
          expect(await sendOutcome(client, to, from), to).toBe(201);
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(tollFreeSent).toBeGreaterThan(0);

    // What the emulator holds came from the journal's records, ids and all.
    const written = readOnly(db(), (d) =>
      d.prepare('SELECT account_sid, correlation_id, error_code FROM consent_items').all(),
    ) as { account_sid: string; correlation_id: string; error_code: number }[];
    expect(written).toHaveLength(read.summary.optouts_to_carry!);
    expect(written.every((w) => w.error_code === 0)).toBe(true);
    const stored = (await emulatorOptOuts(ws.env)).filter((o) => o.source === 'consent-api');
    expect(stored.map((o) => o.correlation_id).sort()).toEqual(
      written.map((w) => w.correlation_id).sort(),
    );
    expect(stored.every((o) => o.consent_source === 'opt-out-message' && o.opted_out)).toBe(true);
  });

  it('reports: per customer what was carried, every record in the audit, every list row enforced but toll-free ones', () => {
    const reports = join(ws.dir.path, 'reports', '1');
    const read = readPlan(plan(), readFileSync(plan(), 'utf8'));
    const carry = csv(join(reports, 'carry.csv'));
    const lists = csv(join(reports, 'optouts.csv'));
    expect(carry).toHaveLength(customers.length);
    // The Consent Management API does not cover US toll-free numbers: a send from one is never
    // refused by Twilio, and a service-wide opt-out stands for every number of the customer.
    const tollFree = (phone: string) => /^\+1(800|833|844|855|866|877|888)/.test(phone);
    const withTollFree = new Set(
      read.customers
        .filter((c) => c.numbers.some((n) => tollFree(n.phone_number)))
        .map((c) => c.customer_id),
    );
    expect(withTollFree.size).toBeGreaterThan(0);
    const enforceable = (r: Record<string, string>) =>
      r['scope'] === 'number'
        ? !tollFree(r['sender_number']!)
        : !withTollFree.has(r['customer_id']!);
    for (const r of lists)
      expect(r['twilio_enforces'], JSON.stringify(r)).toBe(enforceable(r) ? 'yes' : 'no');
    expect(lists.some((r) => r['twilio_enforces'] === 'no')).toBe(true);
    expect(lists.some((r) => r['twilio_enforces'] === 'yes')).toBe(true);
    for (const row of carry) {
      const step = read.steps.find(
        (s) => s.action === 'carry_optouts' && s.customer_id === row['customer_id'],
      );
      const planned = step?.action === 'carry_optouts' ? step.optouts : 0;
      const own = lists.filter((r) => r['customer_id'] === row['customer_id']);
      const enforced = own.filter(enforceable).length;
      expect(row).toMatchObject({
        carry_step: step === undefined ? 'none' : 'done',
        optouts_to_carry: String(planned),
        written: String(planned),
        rejected: '0',
        not_written: '0',
        list_rows: String(own.length),
        twilio_enforces_rows: String(enforced),
      });
      expect(row['protection']).toBe(
        own.length === 0
          ? 'no opt-outs on its suppression list'
          : enforced === own.length
            ? 'Twilio refuses sends to every opt-out on its suppression list (written through the Consent Management API)'
            : enforced === 0
              ? 'the suppression list is its only protection (the Consent Management API does not cover its toll-free numbers)'
              : `Twilio refuses sends to ${enforced} of the ${own.length} rows of its suppression list; for the other ${own.length - enforced}, the list is the only protection (the Consent Management API does not cover its toll-free numbers)`,
      );
    }
    const audit = JSON.parse(readFileSync(join(reports, 'audit.json'), 'utf8')) as {
      carry: { planned: boolean; items: { result: string; correlation_id: string }[] };
    };
    expect(audit.carry.planned).toBe(true);
    expect(audit.carry.items).toHaveLength(read.summary.optouts_to_carry!);
    expect(audit.carry.items.every((i) => i.result === 'written')).toBe(true);
    const falcon = csv(join(reports, 'optouts', 'falcon-flights.csv'));
    expect(falcon.length).toBeGreaterThan(0);
    expect(falcon.map((row) => row['twilio_enforces'])).toEqual(
      falcon.map((row) => (enforceable(row) ? 'yes' : 'no')),
    );
  });

  it('apply again sends nothing; plan --carry-optouts again has nothing left to carry', async () => {
    await clearRequestLog(ws.env);
    const again = await cli(['apply', plan(), '--db', db(), '--rate', '1000']);
    expect(again.code).toBe(0);
    expect((await requestLog(ws.env)).filter((e) => e.method !== 'GET')).toEqual([]);
    const replan = ws.dir.file('again.plan.json');
    const result = await cli([
      'plan',
      '--mapping',
      MAPPING,
      '--db',
      db(),
      '--out',
      replan,
      '--carry-optouts',
      '--detailed-exitcode',
    ]);
    expect(result.code).toBe(0);
    const read = readPlan(replan, readFileSync(replan, 'utf8'));
    expect(read.steps).toEqual([]);
    expect(read.summary.optouts_to_carry).toBe(0);
  });

  it('leaves no auth token in the database, the plans, the reports or any output', () => {
    expectNoTokenLeft();
  });
});

describe('a subaccount without Consent API access; a plan without --carry-optouts (built CLI)', () => {
  const ws = useCliWorkspace(undefined, NOW);
  const { cli } = ws;
  let subs: Record<'acme' | 'birch', string>;
  const customers: MappedCustomer[] = [
    { id: 'acme', name: 'Acme', service: 'acmeAlerts', numbers: ['+14155550101'] },
    { id: 'birch', name: 'Birch', service: 'birchAlerts', numbers: ['+14155550102'] },
  ];
  const STOPS = { acme: ['+12065550001', '+12065550002'], birch: ['+12065550003'] };

  async function seed(): Promise<string> {
    await ws.env.control('POST', '/__emulator/reset');
    const { subaccounts } = await ws.env.seed({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Birch' }],
      numbers: customers.map((c) => ({ phone_number: c.numbers[0]! })),
      messages: customers.flatMap((c) =>
        STOPS[c.id as 'acme' | 'birch'].map((from) => ({
          from,
          to: c.numbers[0]!,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 31 * 86_400_000).toISOString(),
        })),
      ),
    });
    subs = { acme: subaccounts[0]!.sid, birch: subaccounts[1]!.sid };
    const mapping = ws.dir.file('m.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number,messaging_service\n${customers
        .map((c) => `${c.id},${c.name},${c.numbers[0]},${c.service}`)
        .join('\n')}\n`,
    );
    return mapping;
  }

  it('no access: the carry step fails saying why (exit 3), the moves stand, the report says the list is the only protection', async () => {
    const mapping = await seed();
    await ws.env.control('POST', '/__emulator/settings', {
      account_sid: subs.birch,
      consent_api: false,
    });
    const db = ws.dir.file('noaccess.db');
    const out = ws.dir.file('noaccess.plan.json');
    expect(
      (await cli(['plan', '--mapping', mapping, '--db', db, '--out', out, '--carry-optouts'])).code,
    ).toBe(0);
    const first = await cli(['apply', out, '--db', db, '--rate', '1000']);
    expect(first.code).toBe(3);
    expect(first.stderr).toContain(
      `failed: carry_optouts:birch: Twilio 20403: subaccount ${subs.birch} has no access to Twilio's Consent Management API (HTTP 403, Twilio 20403: `,
    );
    expect(first.stderr).toContain(
      '1 opt-out(s) of the customer are not written into it, and its suppression list is their only protection. The moves stand.',
    );
    // One thing to do, the carry's: not the client's general advice before it as well.
    expect(first.stderr).toContain(
      'The moves stand. Ask Twilio for Consent Management API access for the subaccount, then run apply again.',
    );
    expect(first.stderr).not.toContain('Check the subaccount in the Twilio Console');
    expect(first.stdout).toMatch(/, 1 failed, 0 not run\. .*Not complete/);
    await expectMigrated(ws.env, customers);

    const reports = join(ws.dir.path, 'reports', '1');
    const carry = csv(join(reports, 'carry.csv'));
    expect(carry.find((r) => r['customer_id'] === 'acme')).toMatchObject({
      carry_step: 'done',
      written: '2',
      twilio_enforces_rows: '2',
    });
    const birch = carry.find((r) => r['customer_id'] === 'birch')!;
    expect(birch).toMatchObject({
      carry_step: 'failed',
      optouts_to_carry: '1',
      written: '0',
      not_written: '1',
      list_rows: '1',
      twilio_enforces_rows: '0',
    });
    expect(birch['protection']).toMatch(
      /^the suppression list is its only protection \(carry_optouts failed: subaccount AC\w+ has no access to Twilio's Consent Management API/,
    );
    expect(csv(join(reports, 'optouts', 'birch.csv')).map((r) => r['twilio_enforces'])).toEqual([
      'no',
    ]);
    expect(csv(join(reports, 'optouts', 'acme.csv')).map((r) => r['twilio_enforces'])).toEqual([
      'yes',
      'yes',
    ]);
    // Twilio does not enforce Birch's opt-out: the list really is the only protection.
    const state = await ws.env.state();
    const service = state.services.find((s) => s.account_sid === subs.birch)!;
    const birchClient = ownClient(ws.env, subs.birch);
    expect(
      await sendOutcome(birchClient, STOPS.birch[0]!, { messagingServiceSid: service.sid }),
    ).toBe(201);

    // Access granted: apply again finishes the carry, and nothing else.
    await ws.env.control('POST', '/__emulator/settings', {
      account_sid: subs.birch,
      consent_api: true,
    });
    await clearRequestLog(ws.env);
    const second = await cli(['apply', out, '--db', db, '--rate', '1000']);
    expect(second.code).toBe(0);
    expect((await requestLog(ws.env)).filter((e) => e.method !== 'GET').map((e) => e.path)).toEqual(
      ['/v1/Consents/Bulk'],
    );
    expect(
      await sendOutcome(birchClient, STOPS.birch[0]!, { messagingServiceSid: service.sid }),
    ).toBe(21610);
    expect(csv(join(reports, 'carry.csv')).find((r) => r['customer_id'] === 'birch')).toMatchObject(
      {
        carry_step: 'done',
        written: '1',
        twilio_enforces_rows: '1',
      },
    );
  });

  it('a subaccount suspended before apply is taken up again: the refusal says it is suspended, not that its number left its service', async () => {
    const mapping = await seed();
    await ws.env.control('POST', '/__emulator/settings', {
      account_sid: subs.birch,
      consent_api: false,
    });
    const work = ws.dir.file('suspended');
    mkdirSync(work);
    const here = (args: string[]) => runCli(args, cliEnv(ws.env), work);
    const db = join(work, 'suspended.db');
    const out = join(work, 'suspended.plan.json');
    expect(
      (await here(['plan', '--mapping', mapping, '--db', db, '--out', out, '--carry-optouts']))
        .code,
    ).toBe(0);
    expect((await here(['apply', out, '--db', db, '--rate', '1000'])).code).toBe(3);
    const birchService = (await ws.env.state()).services.find((s) => s.account_sid === subs.birch)!;

    // Access granted, but Birch suspended meanwhile. Twilio answers its own credentials 403 /
    // 20403, so its services cannot be read: its number is still in its service, and the
    // refusal must not say otherwise.
    await ws.env.control('POST', '/__emulator/settings', {
      account_sid: subs.birch,
      consent_api: true,
    });
    await ws.env.parent.api.v2010.accounts(subs.birch).update({ status: 'suspended' });
    const again = await here(['apply', out, '--db', db, '--rate', '1000']);
    expect(again.code).toBe(4);
    const lines = again.stderr.split('\n');
    expect(lines[1]).toBe(
      `  subaccount ${subs.birch} ("Birch") is suspended: Twilio refuses its own credentials, so its Messaging Services could not be read and nothing can be created or written in it`,
    );
    const numberLine = lines.find((l) => l.includes('number +14155550102'));
    expect(numberLine).toContain(
      `expected in ${subs.birch}, in service ${birchService.sid}, now in ${subs.birch}, its service not read`,
    );
    expect(again.stderr).not.toContain('in no service');
    expect(again.stderr).toContain(
      "Make that subaccount active again (Status=active, with the parent's credentials; a closed one cannot be) and run apply again; or, to go without it:\nMake the plan again",
    );
    expect(
      (await ws.env.state()).numbers.find((n) => n.phone_number === '+14155550102'),
    ).toMatchObject({ account_sid: subs.birch, messaging_service_sid: birchService.sid });

    // Active again: apply finishes the carry.
    await ws.env.parent.api.v2010.accounts(subs.birch).update({ status: 'active' });
    expect((await here(['apply', out, '--db', db, '--rate', '1000'])).code).toBe(0);
  });

  it('without --carry-optouts: every customer with opt-outs has only its list, and the report says so', async () => {
    const mapping = await seed();
    const db = ws.dir.file('plain.db');
    const out = ws.dir.file('plain.plan.json');
    // A folder of its own: the test above left noaccess.db's run 1 in reports/1/.
    const work = ws.dir.file('plain');
    mkdirSync(work);
    const here = (args: string[]) => runCli(args, cliEnv(ws.env), work);
    expect((await here(['plan', '--mapping', mapping, '--db', db, '--out', out])).code).toBe(0);
    const applied = await here(['apply', out, '--db', db, '--rate', '1000']);
    expect(applied.code).toBe(0);
    const reports = join(work, 'reports', '1');
    for (const row of csv(join(reports, 'carry.csv'))) {
      expect(row).toMatchObject({
        carry_step: 'not_planned',
        // No records were written for any sender_id (docs/file-formats.md: empty).
        sender_id: '',
        optouts_to_carry: '0',
        twilio_enforces_rows: '0',
      });
      expect(row['protection']).toBe(
        'the suppression list is its only protection (the plan was made without --carry-optouts)',
      );
    }
    expect(csv(join(reports, 'optouts.csv')).every((r) => r['twilio_enforces'] === 'no')).toBe(
      true,
    );
  });
});
