/**
 * A number that moves twice, in two waves of one database: wave 1 takes it from the parent into
 * acme's subaccount, wave 2 gives it to beta. The opt-outs people sent it in the parent (before
 * wave 1) and in acme's subaccount (between the waves) are both on beta's lists: `optouts
 * --customer beta`, the second run's optouts.csv / optouts/beta.csv and carry.csv, the Consent
 * API carry, and reconcile's judgement of beta's sends from it (built CLI, emulator over HTTP).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';

import { ownClient, sendOutcome } from '../support/emulator.js';
import { planAndApply, readCsv, seededStop, useCliWorkspace } from '../support/migration.js';
import { readOnly } from '../support/snapshot-harness.js';

const N = '+14155550711';
const PARENT_STOP = '+12065550711';
const ACME_STOP = '+12065550712';
const NOBODY = '+12065550713';
const DAY = 86_400_000;

/** Until the clock's second has turned: journal times and message dates have whole seconds. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100));

describe.each([
  { carry: false, name: 'without --carry-optouts' },
  { carry: true, name: 'with --carry-optouts' },
])('a number moved on by a second wave ($name)', ({ carry }) => {
  // The real clock: the CLI reads it, and the STOP between the waves is dated after wave 1.
  const ws = useCliWorkspace();
  const { cli } = ws;
  const db = () => ws.dir.file('w.db');
  const flags = carry ? ['--carry-optouts'] : [];

  beforeAll(async () => {
    await ws.env.seed({
      numbers: [{ phone_number: N, sms_url: 'https://app.example/n' }],
      messages: [seededStop(PARENT_STOP, N, Date.now() - 3 * DAY)],
    });
  });

  const subaccount = async (name: string) =>
    (await ws.env.state()).accounts.find((a) => a.friendly_name === name)!.sid;
  const wave = async (n: number, row: string) => {
    writeFileSync(ws.dir.file(`m${n}.csv`), `customer_id,customer_name,phone_number\n${row}\n`);
    await planAndApply(cli, {
      mapping: ws.dir.file(`m${n}.csv`),
      db: db(),
      out: ws.dir.file(`p${n}.json`),
      plan: flags,
    });
  };

  it("keeps the parent's and acme's opt-outs on every list of beta's", async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await wave(1, `acme,Acme,${N}`);
    const acme = await subaccount('Acme');
    await nextSecond();
    // Sent to the number in acme's subaccount: the plan of wave 2 reads that subaccount.
    await ws.env.seed({ messages: [seededStop(ACME_STOP, N, Date.now(), acme)] });
    await nextSecond();
    await wave(2, `beta,Beta,${N}`);
    const beta = await subaccount('Beta');

    const recorded = readOnly(
      db(),
      (d) =>
        d
          .prepare('SELECT customer_id AS customer FROM customer_numbers WHERE phone_number = ?')
          .get(N) as { customer: string },
    );
    expect(recorded.customer).toBe('beta');

    const both = [PARENT_STOP, ACME_STOP];
    const listed = await cli(['optouts', '--db', db(), '--customer', 'beta']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = parse(listed.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r['recipient']).sort()).toEqual(both);

    const second = join(ws.dir.path, 'reports', '2');
    const own = readCsv(join(second, 'optouts/beta.csv'));
    expect(own.map((r) => r.recipient).sort()).toEqual(both);
    expect(own.map((r) => r.customer_list)).toEqual(['whole', 'whole']);
    const all = readCsv(join(second, 'optouts.csv')).filter((r) => r.customer_id === 'beta');
    expect(all.map((r) => r.recipient).sort()).toEqual(both);
    const [carried] = readCsv(join(second, 'carry.csv'));
    expect(carried).toMatchObject({
      customer_id: 'beta',
      list_rows: '2',
      carry_step: carry ? 'done' : 'not_planned',
      twilio_enforces_rows: carry ? '2' : '0',
    });

    // Twilio itself, in beta's subaccount: refuses both when carried, sends to both when not.
    const client = ownClient(ws.env, beta);
    const refused = carry ? 21610 : 201;
    expect(await sendOutcome(client, PARENT_STOP, { from: N })).toBe(refused);
    expect(await sendOutcome(client, ACME_STOP, { from: N })).toBe(refused);
    expect(await sendOutcome(client, NOBODY, { from: N })).toBe(201);

    // reconcile holds beta's sends to both lists: violations when they went out, blocked when
    // Twilio refused them; the send to nobody on the list is neither. No pass read acme's
    // subaccount while the number was there: that is said, and the exit is 3 either way.
    const reconciled = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(reconciled.code, reconciled.stderr + reconciled.stdout).toBe(3);
    expect(reconciled.stdout).toMatch(
      carry ? /In all: 0 violation\(s\), 2 blocked\./ : /In all: 2 violation\(s\), 0 blocked\./,
    );
    expect(reconciled.stderr).toContain(`not checked: ${acme} from `);
    if (!carry) {
      const violations = readCsv(join(second, 'violations.csv'));
      expect(violations.map((v) => v.recipient).sort()).toEqual(both);
      expect(violations.every((v) => v.customer_id === 'beta')).toBe(true);
    }
  }, 120_000);
});

describe('a number moved on by a second wave, in Messaging Services', () => {
  const M = '+14155550712';
  const SERVICE_STOP = '+12065550714';
  const ws = useCliWorkspace();
  const { cli } = ws;
  const db = () => ws.dir.file('w.db');

  beforeAll(async () => {
    // N and M share the parent's service: a STOP to M through it is on N's list too, though
    // N itself never heard one there.
    await ws.env.seed({
      numbers: [{ phone_number: N }, { phone_number: M }],
      services: [{ friendly_name: 'Main', phone_numbers: [N, M] }],
      messages: [seededStop(SERVICE_STOP, M, Date.now() - 3 * DAY)],
    });
  });

  const wave = async (n: number, row: string) => {
    const mapping = ws.dir.file(`m${n}.csv`);
    writeFileSync(mapping, `customer_id,customer_name,phone_number,messaging_service\n${row}\n`);
    await planAndApply(cli, { mapping, db: db(), out: ws.dir.file(`p${n}.json`) });
  };

  it("keeps the parent service's and acme's opt-outs on beta's lists", async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await wave(1, `acme,Acme,${N},acmeSvc`);
    const state = await ws.env.state();
    const acme = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    await nextSecond();
    await ws.env.seed({ messages: [seededStop(ACME_STOP, N, Date.now(), acme)] });
    await nextSecond();
    await wave(2, `beta,Beta,${N},betaSvc`);

    const both = [SERVICE_STOP, ACME_STOP].sort();
    const listed = await cli(['optouts', '--db', db(), '--customer', 'beta']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = parse(listed.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r['recipient']).sort()).toEqual(both);
    const second = join(ws.dir.path, 'reports', '2');
    expect(
      readCsv(join(second, 'optouts/beta.csv'))
        .map((r) => r.recipient)
        .sort(),
    ).toEqual(both);

    const after = await ws.env.state();
    const beta = after.accounts.find((a) => a.friendly_name === 'Beta')!.sid;
    const betaSvc = after.services.find((s) => s.account_sid === beta)!.sid;
    const client = ownClient(ws.env, beta);
    for (const to of [SERVICE_STOP, ACME_STOP, NOBODY]) {
      expect(await sendOutcome(client, to, { messagingServiceSid: betaSvc })).toBe(201);
    }
    const reconciled = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(reconciled.code, reconciled.stderr + reconciled.stdout).toBe(3);
    expect(reconciled.stdout).toMatch(/In all: 2 violation\(s\), 0 blocked\./);
    expect(
      readCsv(join(second, 'violations.csv'))
        .map((v) => v.recipient)
        .sort(),
    ).toEqual(both);
  }, 120_000);
});
