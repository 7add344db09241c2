/**
 * Databases an older submigrate left, met by this one: made by migrations 001..N only and
 * holding what that schema held (test/support/older-schema.ts), then opened by today's
 * commands (built CLI, emulator over HTTP).
 */

import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readPlan } from '../../src/plan/plan-file.js';
import { emulatorOptOuts, startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { customersOf, expectMigrated, filesUnder, readJournal } from '../support/migration.js';
import { olderDatabase } from '../support/older-schema.js';
import {
  cliEnv,
  killApplyAtHeldWrite,
  releaseHeld,
  runCli,
  tempDir,
  type TempDir,
} from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';
const N2 = '+14155550102';
const SHARED_URL = 'https://app.example/shared';
const ANN = '+19995550001';

/**
 * N1 and N2 in the parent's service Shared, ANN's STOP to `stopTo` two days ago, a snapshot
 * and a `--carry-optouts` plan moving both to acme in today's.db, and that plan's apply killed
 * with its write number `writes` + 1 in flight (released once it is dead).
 */
async function killedApplyBesideSharedService(
  stopTo: string,
  writes: number,
): Promise<{ env: TestEmulator; dir: TempDir }> {
  const env = await startTestEmulator({ now: () => NOW });
  await env.seed({
    numbers: [
      { phone_number: N1, sms_url: 'https://app.example/n1' },
      { phone_number: N2, sms_url: 'https://app.example/n2' },
    ],
    services: [
      { friendly_name: 'Shared', inbound_request_url: SHARED_URL, phone_numbers: [N1, N2] },
    ],
    messages: [
      {
        from: ANN,
        to: stopTo,
        body: 'STOP',
        direction: 'inbound',
        date_sent: new Date(NOW - 2 * 86_400_000).toISOString(),
      },
    ],
  });
  const dir = tempDir();
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);
  writeFileSync(
    dir.file('map.csv'),
    `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N1},Acme SMS\nacme,Acme,${N2},Acme SMS\n`,
  );
  expect((await cli(['snapshot', '--db', 'today.db'])).code).toBe(0);
  const planned = await cli([
    'plan',
    '--mapping',
    'map.csv',
    '--db',
    'today.db',
    '--out',
    'p1.json',
    '--carry-optouts',
  ]);
  expect(planned.code, planned.stderr).toBe(0);
  await killApplyAtHeldWrite(env, dir.path, dir.file('p1.json'), dir.file('today.db'), writes);
  await releaseHeld(env);
  return { env, dir };
}

describe('an apply killed half way, recorded by an older schema', () => {
  let env: TestEmulator;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);
  const planOf = (file: string) => readPlan(file, readFileSync(file, 'utf8'));
  /** The mapping planned again on `file` with --carry-optouts, into `out`. */
  const replan = async (file: string, out: string) => {
    const replanned = await cli([
      'plan',
      '--mapping',
      'map.csv',
      '--db',
      file,
      '--out',
      out,
      '--carry-optouts',
    ]);
    expect(replanned.code, replanned.stderr).toBe(0);
  };

  beforeAll(async () => {
    ({ env, dir } = await killedApplyBesideSharedService(N1, 3));
  }, 60_000);
  afterAll(async () => {
    await env.close();
    dir.remove();
  });

  /** A plan's customers as they bear on the move: what each number's list and route are. */
  const movedAs = (file: string) =>
    planOf(dir.file(file)).customers.map((c) => ({
      optouts: c.optouts,
      numbers: c.numbers.map((n) => ({
        phone: n.phone_number,
        route_before: n.route_before,
        route_after: n.route_after,
        from_origin: n.from_origin,
        optout_services: n.optout_services,
      })),
    }));

  // 004 made the apply journal; 009 the origin of a move; 012 the rules version; 016 is the last.
  it.each([4, 8, 9, 12, 16])(
    'schema %i: a plan made again plans the half-moved numbers from where they were',
    async (version) => {
      const db = `v${version}.db`;
      olderDatabase(dir.file('today.db'), dir.file(db), version);
      const out = `v${version}.json`;
      for (const [file, plan] of [
        ['today-copy.db', 'today.json'],
        [db, out],
      ] as const) {
        if (file === 'today-copy.db') copyFileSync(dir.file('today.db'), dir.file(file));
        await replan(file, plan);
      }
      const today = movedAs('today.json');
      expect(today[0]!.optouts).toBe(1);
      expect(today[0]!.numbers.map((n) => n.route_before)).toEqual([
        expect.objectContaining({ via: 'service', url: SHARED_URL }),
        expect.objectContaining({ via: 'service', url: SHARED_URL }),
      ]);
      expect(movedAs(out)).toEqual(today);
    },
    60_000,
  );

  // A plan made before 009 and applied again by a 009..016 submigrate (the run continued, and
  // killed again): that apply marked the numbers it sent steps of as moving, but no plan of
  // its version recorded their origin, so the origin is in the journal alone.
  it('schema 16: a number a later apply marked moving, with no origin recorded, is planned from where it was', async () => {
    olderDatabase(dir.file('today.db'), dir.file('marked.db'), 16);
    const db = new Database(dir.file('marked.db'));
    try {
      const marked = db
        .prepare('UPDATE customer_numbers SET origin_json = NULL WHERE moving = 1')
        .run().changes;
      expect(marked).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    copyFileSync(dir.file('today.db'), dir.file('today-marked.db'));
    for (const [file, plan] of [
      ['today-marked.db', 'today-marked.json'],
      ['marked.db', 'marked.json'],
    ] as const) {
      await replan(file, plan);
    }
    expect(movedAs('marked.json')).toEqual(movedAs('today-marked.json'));
  }, 60_000);
});

const WRITTEN_AT =
  /(Generated |This page written |"generated_?[aA]t": ?")\d{4}-\d\d-\d\dT[\d:.]+Z/g;

/** Every file under a report folder with its text, the folder's own mark aside. */
function reportFiles(folder: string): Record<string, string> {
  return Object.fromEntries(
    filesUnder(folder)
      .filter((file) => !file.endsWith('.submigrate-report'))
      .map((file) => [
        relative(folder, file),
        // When each was written: the one thing two writings of a run's reports differ in.
        readFileSync(file, 'utf8').replace(WRITTEN_AT, '$1(when)'),
      ]),
  );
}

describe('today’s commands on an older database holding a killed apply', () => {
  let env: TestEmulator;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);

  beforeAll(async () => {
    // The subaccount and one detach go through; the next write is in flight when it is killed.
    ({ env, dir } = await killedApplyBesideSharedService(N2, 2));
  }, 60_000);
  afterAll(async () => {
    await env.close();
    dir.remove();
  });

  // From 012 on, a run's keyword rules are recorded (before, a run is of version 1, which no
  // longer counts as read: below).
  it.each([12, 13, 14, 15, 16])(
    'schema %i: optouts, status and report --run say what they say on today’s',
    async (version) => {
      const db = `v${version}.db`;
      olderDatabase(dir.file('today.db'), dir.file(db), version);
      copyFileSync(dir.file('today.db'), dir.file('today-copy.db'));
      const said = async (file: string) => {
        const optouts = await cli(['optouts', '--db', file]);
        const status = await cli(['status', '--db', file, '--run', '1']);
        const report = await cli(['report', '--db', file, '--run', '1', '--out', `r-${file}`]);
        return {
          optouts: [optouts.code, optouts.stdout, optouts.stderr],
          // The lock's renewal aside: an older schema had none (never renewed), and today's
          // is seconds old. Both say the killed apply's lock is left to a dead process.
          status: [
            status.code,
            status.stdout.replace(
              /; (never renewed|last renewed \S+, \d+ s ago): dead-process,/,
              ': dead-process,',
            ),
            status.stderr,
          ],
          report: [report.code, report.stderr],
          files: reportFiles(dir.file(`r-${file}`)),
        };
      };
      const today = await said('today-copy.db');
      expect(today.optouts[1]).toContain(ANN);
      expect(today.status[1]).toMatch(/^apply lock: .*\(this machine\), run 1, .*: dead-process,/m);
      const older = await said(db);
      expect(JSON.parse(JSON.stringify(older).replaceAll(db, 'today-copy.db'))).toEqual(today);
    },
    60_000,
  );

  // Before 012 a run's rules were not recorded: its snapshot is of the first rules, whose
  // windows no longer count as read. The reports said "No completed snapshot", as if none had
  // been taken, though the database holds one.
  it.each([4, 8, 11])(
    'schema %i: with its snapshot read under older rules, the reports say so, and hold no list',
    async (version) => {
      const db = `rules-v${version}.db`;
      olderDatabase(dir.file('today.db'), dir.file(db), version);
      const older =
        'No snapshot read under the current keyword rules (2 completed snapshot run(s) of this database were read by an older submigrate';
      const optouts = await cli(['optouts', '--db', db]);
      expect(optouts.code).toBe(1);
      expect(optouts.stderr).toContain('were read by an older submigrate');
      const report = await cli(['report', '--db', db, '--run', '1', '--out', `r-${db}`]);
      // The run was killed half way: its reports are written, and say it is not finished (3).
      expect(report.code, report.stderr).toBe(3);
      expect(report.stderr).toContain('apply run 1 stopped before it finished');
      // The terminal says why there is no list as the files do, not that none was ever read.
      expect(report.stderr).toContain(
        'warning: no suppression list in the reports: no snapshot read under the current keyword rules (2 completed snapshot run(s) of this database were read by an older submigrate',
      );
      expect(report.stderr).not.toContain('no completed snapshot has read any account');
      const coverage = readFileSync(dir.file(`r-${db}/coverage.txt`), 'utf8');
      expect(coverage).toMatch(
        /^No snapshot read under the current keyword rules \(2 completed snapshot run\(s\) of this database were read by an older submigrate, .*: what they read no longer counts as read\): there is no suppression list this tool can vouch for\. Run `submigrate snapshot`, then `submigrate report`\.\n$/,
      );
      const page = readFileSync(dir.file(`r-${db}/report.html`), 'utf8');
      expect(page).toContain(older);
      expect(page).not.toContain('No completed snapshot');
    },
    60_000,
  );

  it('schema 8: apply takes the killed run up, settling the write in flight, sending none twice', async () => {
    olderDatabase(dir.file('today.db'), dir.file('resume.db'), 8);
    // The killed apply claimed its report folder; a submigrate from before database ids (010)
    // wrote the mark's first line alone.
    const mark = dir.file('reports/1/.submigrate-report');
    writeFileSync(mark, `${readFileSync(mark, 'utf8').split('\n')[0]!}\n`);
    // Its snapshot was read under the first keyword rules: apply asks for one under today's,
    // and then for itself again, not for the plan made again (the run it continues would be
    // left behind by a new plan's, and the snapshot and this apply are enough, as below).
    const refused = await cli(['apply', 'p1.json', '--db', 'resume.db', '--rate', '1000']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('read by an older submigrate');
    expect(refused.stderr).toContain(
      `Run \`submigrate snapshot --db ${dir.file('resume.db')}\` first, then this apply again: the plan was made from what the older submigrate read, and if the snapshot finds an opt-out the plan does not carry, apply says so and prints the command that makes the plan again; or apply with --allow-missing-snapshot, which the audit records.`,
    );
    expect(refused.stderr).not.toMatch(/make the plan again/i);
    expect((await cli(['snapshot', '--db', 'resume.db'])).code).toBe(0);
    const applied = await cli(['apply', 'p1.json', '--db', 'resume.db', '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    await expectMigrated(env, customersOf(readFileSync(dir.file('map.csv'), 'utf8')));
    const journal = readJournal(dir.file('resume.db'), 1);
    expect(journal.inFlight).toEqual([]);
    expect(new Set(journal.doneEvents).size).toBe(journal.doneEvents.length);
    expect(journal.settled.length).toBeGreaterThan(0);
    const sub = (await env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const carried = (await emulatorOptOuts(env)).filter(
      (o) => o.account_sid === sub && o.source === 'consent-api',
    );
    expect(carried.map((o) => o.recipient)).toEqual([ANN]);
  }, 60_000);
});
