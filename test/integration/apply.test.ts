/**
 * `submigrate apply` through the built CLI against the emulator over real HTTP: the Owlie
 * migration end to end (snapshot, plan, apply), its exact end state, an idempotent re-run,
 * a plan after it with zero steps, the reports, and no secret anywhere; then the refusals
 * (a stale plan, no snapshot, a second apply) that write nothing.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { owlieMapping } from '../../src/emulator/scenarios/owlie.js';
import { readPlan } from '../../src/plan/plan-file.js';
import { clearRequestLog, requestLog } from '../support/emulator.js';
import {
  applyCleanly,
  customersOf,
  expectMigrated,
  modeOf,
  useCliWorkspace,
  useOwlieWorkspace,
} from '../support/migration.js';
import { startCliHeld } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const writes = (log: { method: string }[]) => log.filter((e) => e.method !== 'GET');

describe('apply the Owlie migration (built CLI)', () => {
  const { ws, cli, MAPPING, db, plan, expectNoTokenLeft } = useOwlieWorkspace(NOW);

  it('snapshot, plan, apply: the emulator ends exactly as the mapping says', async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const planned = await cli(['plan', '--mapping', MAPPING, '--db', db(), '--out', plan()]);
    expect(planned.code).toBe(0);
    const before = new Set((await ws.env.state()).accounts.map((a) => a.sid));
    // --dry-run first: every write it lists, in order, and not one request sent.
    await clearRequestLog(ws.env);
    const dry = await cli(['apply', plan(), '--db', db(), '--dry-run']);
    expect(dry.code).toBe(0);
    expect(await requestLog(ws.env)).toEqual([]);
    const listed = dry.stdout.split('\n').filter((l) => /^(POST|DELETE|GET) /.test(l));
    const json = await cli(['apply', plan(), '--db', db(), '--dry-run', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      requests: listed,
      notes: dry.stdout.split('\n').filter((l) => l.startsWith('#')),
    });
    await clearRequestLog(ws.env);
    const applied = await applyCleanly(cli, plan(), db());
    const steps = readPlan(plan(), readFileSync(plan(), 'utf8')).steps.length;
    expect(applied.stdout).toMatch(
      new RegExp(
        `^apply run 1: ${steps} steps: ${steps} done, 0 skipped, 0 failed, 0 not run\\. Inbound routes: 135 of 135 moved numbers reach where they did\\. Completed\\. Reports: reports/1/$`,
        'm',
      ),
    );
    await expectMigrated(ws.env, customersOf(owlieMapping()));
    // Every write of the run is one of the plan's steps, sent once.
    const log = await requestLog(ws.env);
    expect(writes(log)).toHaveLength(steps);
    // A subaccount's token comes with its creation: none of the 50 created is fetched again.
    const created = (await ws.env.state()).accounts.filter((a) => !before.has(a.sid));
    expect(created).toHaveLength(50);
    const fetched = log.filter(
      (e) =>
        e.method === 'GET' && created.some((a) => e.path === `/2010-04-01/Accounts/${a.sid}.json`),
    );
    expect(fetched).toEqual([]);
    // What the dry run listed is what was sent: the same writes, the same token fetches.
    const method = (m: string) => listed.filter((l) => l.startsWith(`${m} `)).length;
    for (const m of ['POST', 'DELETE']) {
      expect(method(m)).toBe(log.filter((e) => e.method === m).length);
    }
    const accountGets = log.filter(
      (e) => e.method === 'GET' && /^\/2010-04-01\/Accounts\/AC\w{32}\.json$/.test(e.path),
    );
    // The parent's own account is read once, by the read of its history after the moves (the
    // dry run's `# read-only after the steps` line), after every write; no token is fetched.
    const parentPath = `/2010-04-01/Accounts/${ws.env.parentSid}.json`;
    expect(accountGets.map((e) => e.path)).toEqual([parentPath]);
    expect(log.findIndex((e) => e.path === parentPath)).toBeGreaterThan(
      log.findLastIndex((e) => e.method !== 'GET'),
    );
    expect(dry.stdout).toMatch(
      /^# read-only after the steps .*Messages\.json since the last read, for AC\w{32} \(parent\)/m,
    );
    expect(method('GET')).toBe(accountGets.length - 1);
  });

  it('re-running apply on the finished plan sends no write at all', async () => {
    await clearRequestLog(ws.env);
    const again = await cli(['apply', plan(), '--db', db(), '--rate', '1000']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^apply run 1 \(continued\): /);
    // The run keeps the options its writes were made with; the change is a note.
    expect(again.stderr).toBe(
      'note: continued with --concurrency 4 --rate 1000 --consent-rate 100 (the run began with --concurrency 8 --rate 1000 --consent-rate 100)\n',
    );
    expect(writes(await requestLog(ws.env))).toEqual([]);
    await expectMigrated(ws.env, customersOf(owlieMapping()));
  });

  it('planning again after the migration gives zero steps', async () => {
    const again = ws.dir.file('again.plan.json');
    const result = await cli([
      'plan',
      '--mapping',
      MAPPING,
      '--db',
      db(),
      '--out',
      again,
      '--detailed-exitcode',
    ]);
    expect(result.code).toBe(0);
    const replanned = readPlan(again, readFileSync(again, 'utf8'));
    expect(replanned.steps).toEqual([]);
    expect(replanned.summary.unchanged).toBe(135);
    expect(replanned.customers.every((c) => c.subaccount_source === 'previous-apply')).toBe(true);
  });

  it('writes the reports: audit per number, suppression lists per customer', async () => {
    const reports = join(ws.dir.path, 'reports', '1');
    const audit = parse(readFileSync(join(reports, 'audit.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(audit).toHaveLength(135);
    expect(Object.keys(audit[0]!)).toEqual([
      'customer_id',
      'customer_name',
      'phone_number',
      'phone_number_sid',
      'from_account_sid',
      'to_account_sid',
      'detached_from_service_sid',
      'messaging_service_sid',
      'status',
      'attempts',
      'started_at',
      'finished_at',
      'error_code',
      'error_message',
      'inbound_route_before',
      'inbound_route_after',
    ]);
    expect(audit.every((row) => row['status'] === 'done')).toBe(true);
    expect(audit.every((row) => row['from_account_sid'] === ws.env.parentSid)).toBe(true);
    const state = await ws.env.state();
    for (const row of audit) {
      const number = state.numbers.find((n) => n.phone_number === row['phone_number'])!;
      expect(row['to_account_sid']).toBe(number.account_sid);
      expect(row['messaging_service_sid'] || null).toBe(number.messaging_service_sid);
    }
    const json = JSON.parse(readFileSync(join(reports, 'audit.json'), 'utf8')) as {
      run: { status: string; options: Record<string, unknown> };
      steps: { state: string; twilio: Record<string, string> | null; attempts: number }[];
    };
    expect(json.run.status).toBe('completed');
    expect(json.run.options).toMatchObject({ concurrency: 8, rate: 1000 });
    expect(json.steps.every((s) => s.state === 'done' && s.attempts === 1)).toBe(true);
    expect(json.steps.filter((s) => s.twilio?.['subaccount_sid'] !== undefined).length).toBe(50);
    expect(existsSync(join(reports, 'optouts.csv'))).toBe(true);
    const falcon = parse(readFileSync(join(reports, 'optouts', 'falcon-flights.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(falcon.length).toBeGreaterThan(0);
    expect(falcon.every((row) => row['customer_id'] === 'falcon-flights')).toBe(true);
    expect(readFileSync(join(reports, 'coverage.txt'), 'utf8')).toMatch(/^coverage: AC/);
    expect(modeOf(join(reports, 'audit.csv'))).toBe(0o600);

    const status = await cli(['status', '--db', db()]);
    const total = readPlan(plan(), readFileSync(plan(), 'utf8')).steps.length;
    expect(status.stdout).toMatch(new RegExp(`^run 1 {2}completed .* \\(${total} done\\)$`, 'm'));
  });

  it('leaves no auth token in the database, the plan, the reports or any output', async () => {
    expectNoTokenLeft();
    expect(modeOf(db())).toBe(0o600);
  });
});

describe('apply refuses, and writes nothing (built CLI)', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: '+14155550101' }, { phone_number: '+14155550102' }],
      messages: [
        {
          from: '+12065550001',
          to: '+14155550101',
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 31 * 86_400_000).toISOString(),
        },
      ],
    },
    NOW,
  );
  const { cli } = ws;
  const mapping = (name: string) => {
    const path = ws.dir.file(name);
    writeFileSync(
      path,
      'customer_id,customer_name,phone_number,messaging_service\nacme,Acme,+14155550101,acmeAlerts\nacme,Acme,+14155550102,acmeAlerts\n',
    );
    return path;
  };

  it('a stale plan (a number moved by hand after planning): exit 4 naming it', async () => {
    const db = ws.dir.file('stale.db');
    const out = ws.dir.file('stale.plan.json');
    expect(
      (await cli(['plan', '--mapping', mapping('m.csv'), '--db', db, '--out', out])).code,
    ).toBe(0);
    // Someone moves a number by hand.
    const sub = await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'By hand' });
    const number = (
      await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: '+14155550102' })
    )[0]!;
    await ws.env.parent.incomingPhoneNumbers(number.sid).update({ accountSid: sub.sid });
    await clearRequestLog(ws.env);
    const result = await cli(['apply', out, '--db', db, '--rate', '1000']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^refused: the account changed since the plan was made/);
    expect(result.stderr).toContain(
      `number +14155550102 (${number.sid}): expected in ${ws.env.parentSid}, in no service, now in ${sub.sid}`,
    );
    expect(writes(await requestLog(ws.env))).toEqual([]);
    // Put it back for the next test.
    await ws.env.parent.api.v2010
      .accounts(sub.sid)
      .incomingPhoneNumbers(number.sid)
      .update({ accountSid: ws.env.parentSid });
  });

  it("a stale plan (a number's SMS URL changed by hand): exit 4 showing the URL", async () => {
    const db = ws.dir.file('stale-url.db');
    const out = ws.dir.file('stale-url.plan.json');
    expect(
      (await cli(['plan', '--mapping', mapping('m.csv'), '--db', db, '--out', out])).code,
    ).toBe(0);
    const number = (
      await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: '+14155550102' })
    )[0]!;
    const before = number.smsUrl;
    await ws.env.parent
      .incomingPhoneNumbers(number.sid)
      .update({ smsUrl: 'https://app.example/new' });
    await clearRequestLog(ws.env);
    const result = await cli(['apply', out, '--db', db, '--rate', '1000']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(
      `number +14155550102 (${number.sid}): expected in ${ws.env.parentSid}, in no service, SmsUrl ${before || 'none'}`,
    );
    expect(result.stderr).toContain(
      `now in ${ws.env.parentSid}, in no service, SmsUrl https://app.example/new (POST)`,
    );
    expect(writes(await requestLog(ws.env))).toEqual([]);
    await ws.env.parent.incomingPhoneNumbers(number.sid).update({ smsUrl: before ?? '' });
  });

  it('no snapshot: exit 4 saying to run snapshot; --allow-missing-snapshot is recorded', async () => {
    const db = ws.dir.file('nosnap.db');
    const out = ws.dir.file('nosnap.plan.json');
    expect(
      (
        await cli([
          'plan',
          '--mapping',
          mapping('m2.csv'),
          '--db',
          db,
          '--out',
          out,
          '--no-snapshot',
        ])
      ).code,
    ).toBe(0);
    await clearRequestLog(ws.env);
    const refused = await cli(['apply', out, '--db', db, '--rate', '1000']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(
      /no completed snapshot covers the history of 2 number\(s\).*Run `submigrate snapshot --db \S+` first/,
    );
    expect(writes(await requestLog(ws.env))).toEqual([]);
  });

  it('a second apply while one runs: exit 4', async () => {
    const db = ws.dir.file('busy.db');
    const out = ws.dir.file('busy.plan.json');
    expect(
      (await cli(['plan', '--mapping', mapping('m3.csv'), '--db', db, '--out', out])).code,
    ).toBe(0);
    // Hold the first apply at its first write.
    await ws.env.control('POST', '/__emulator/faults', { hold_after: 0, hold_methods: [] });
    const first = await startCliHeld(
      ws.env,
      ['apply', out, '--db', db, '--rate', '1000'],
      ws.dir.path,
      {
        after: 1,
        methods: ['POST', 'DELETE'],
      },
    );
    try {
      const second = await cli(['apply', out, '--db', db, '--rate', '1000']);
      expect(second.code).toBe(4);
      expect(second.stderr).toMatch(
        new RegExp(`^refused: another apply holds this database \\(pid ${first.child.pid} on `),
      );
    } finally {
      await ws.env.control('POST', '/__emulator/faults', { hold_after: 0, hold_methods: [] });
    }
    const done = await first.done;
    expect(done.code).toBe(0);
  });
});

describe('CSV cells from Twilio or the mapping are spreadsheet-safe (built CLI)', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: '+14155550201' }],
      messages: [
        {
          from: '+12065550009',
          to: '+14155550201',
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 31 * 86_400_000).toISOString(),
        },
      ],
    },
    NOW,
  );
  const NAME = '=HYPERLINK("http://x","y")';

  it(`a customer named ${NAME} comes out inert in every CSV`, async () => {
    const mapping = ws.dir.file('evil.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number\nevil,"${NAME.replace(/"/g, '""')}",+14155550201\n`,
    );
    const cli = (args: string[]) => ws.cli(args);
    const db = ws.dir.file('evil.db');
    const out = ws.dir.file('evil.plan.json');
    expect((await cli(['plan', '--mapping', mapping, '--db', db, '--out', out])).code).toBe(0);
    expect((await cli(['apply', out, '--db', db, '--rate', '1000'])).code).toBe(0);
    const exported = await cli(['optouts', '--db', db]);
    const reports = join(ws.dir.path, 'reports', '1');
    const csvs = {
      'optouts (stdout)': exported.stdout,
      'audit.csv': readFileSync(join(reports, 'audit.csv'), 'utf8'),
      'optouts.csv': readFileSync(join(reports, 'optouts.csv'), 'utf8'),
      'optouts/evil.csv': readFileSync(join(reports, 'optouts', 'evil.csv'), 'utf8'),
    };
    for (const [name, text] of Object.entries(csvs)) {
      const rows = parse(text, { columns: true }) as Record<string, string>[];
      expect(rows.length, name).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row['customer_name'], name).toBe(`'${NAME}`);
        for (const cell of Object.values(row)) expect(cell, name).not.toMatch(/^[=@\t\r]/);
      }
    }
  });
});
