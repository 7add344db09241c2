/**
 * A ledger filled by a submigrate whose keyword rules were older (here: before full-width
 * `ＳＴＯＰ` counted) lacks the opt-outs only the current rules see, since the ledger keeps only
 * what a run took for evidence. The windows such a run read no longer count as read: `optouts`
 * cannot vouch for them, and the next snapshot reads them again and finds the opt-out.
 * Needs `npm run build` (`npm test` builds first).
 */

import { writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { makePlan, planAndApply, useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBER = '+14155550103';
const FULL_WIDTH = '+12065550001';
const PLAIN = '+12065550002';
const daysAgo = (days: number) => new Date(NOW - days * 86_400_000).toISOString();

const recipients = (csv: string) =>
  (parse(csv, { columns: true }) as { recipient: string }[]).map((r) => r.recipient).sort();

/** An emulator holding a full-width STOP and a plain one, and a database file beside it. */
function useFullWidthStop(file: string) {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: NUMBER }],
      messages: [
        {
          from: FULL_WIDTH,
          to: NUMBER,
          body: 'ＳＴＯＰ',
          direction: 'inbound',
          date_sent: daysAgo(20),
        },
        { from: PLAIN, to: NUMBER, body: 'STOP', direction: 'inbound', date_sent: daysAgo(10) },
      ],
    },
    NOW,
  );
  return {
    db: () => ws.dir.file(file),
    cli: (args: string[]) => runCli(args, cliEnv(ws.env)),
  };
}

describe('a ledger read under older keyword rules', () => {
  const { db, cli } = useFullWidthStop('rules.db');

  it('is read again by the next snapshot, which finds the opt-out the older rules missed', async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const first = await cli(['optouts', '--db', db()]);
    expect(first.code).toBe(0);
    expect(recipients(first.stdout)).toEqual([FULL_WIDTH, PLAIN]);

    // What a submigrate of rules version 1 left: its run, without the full-width STOP.
    const sqlite = new Database(db());
    sqlite.prepare('UPDATE snapshot_runs SET rules_version = 1').run();
    sqlite.prepare("DELETE FROM ledger_events WHERE body = 'ＳＴＯＰ'").run();
    sqlite.close();

    // Nothing it read counts as read now: no list is vouched for.
    const unread = await cli(['optouts', '--db', db()]);
    expect(unread.code).not.toBe(0);
    expect(unread.stderr).toContain('1 completed run(s) were read by an older submigrate');

    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const again = await cli(['optouts', '--db', db()]);
    expect(again.code).toBe(0);
    expect(recipients(again.stdout)).toEqual([FULL_WIDTH, PLAIN]);
  });
});

describe('a snapshot run an older submigrate started and did not finish', () => {
  const { db, cli } = useFullWidthStop('resumed.db');

  it('is not resumed under the current rules (what it read lacks their opt-outs): it is read anew', async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);

    // What a submigrate of rules version 1 left when it was killed after its last page (its
    // process gone): a running run, of version 1, without the full-width STOP.
    const sqlite = new Database(db());
    sqlite
      .prepare(
        "UPDATE snapshot_runs SET status = 'running', finished_at = NULL, rules_version = 1, pid = 4194303",
      )
      .run();
    sqlite.prepare("DELETE FROM ledger_events WHERE body = 'ＳＴＯＰ'").run();
    sqlite.close();

    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const after = await cli(['optouts', '--db', db()]);
    expect(after.stderr).not.toContain('older submigrate');
    expect(after.code).toBe(0);
    expect(recipients(after.stdout)).toEqual([FULL_WIDTH, PLAIN]);
  });
});

describe('the opt-out gates, once every snapshot was read under older keyword rules', () => {
  // The account made a minute before (its history starts at its date_created): made in the
  // second the snapshot and the plan ran, their windows were empty, so no run held history the
  // note could name, and the test failed whenever the three fell in one second.
  const ws = useCliWorkspace({ numbers: [{ phone_number: NUMBER }] }, Date.now() - 60_000);
  const db = () => ws.dir.file('gate.db');

  it('say why the numbers count as unread: an older submigrate read them', async () => {
    expect((await ws.cli(['snapshot', '--db', db()])).code).toBe(0);
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${NUMBER}\n`,
    );
    await makePlan(ws.cli, { mapping: ws.dir.file('m.csv'), db: db(), out: ws.dir.file('p.json') });
    const sqlite = new Database(db());
    sqlite.prepare('UPDATE snapshot_runs SET rules_version = 1').run();
    sqlite.close();

    const applied = await ws.cli(['apply', ws.dir.file('p.json'), '--db', db()]);
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain('no completed snapshot covers the history of 1 number(s)');
    // The snapshot, and the plan's refresh of it when that read a span of its own (not when
    // it ran within the snapshot's last second, which the snapshot already read).
    const olderRuns =
      /\([12] completed snapshot run\(s\) of this database were read by an older submigrate/;
    expect(applied.stderr).toMatch(olderRuns);

    const planned = await ws.cli([
      'plan',
      '--mapping',
      ws.dir.file('m.csv'),
      '--db',
      db(),
      '--out',
      ws.dir.file('p2.json'),
      '--no-snapshot',
    ]);
    expect(planned.stdout + planned.stderr).toMatch(olderRuns);
  });
});

describe('the coverage statement, with history only an older submigrate read', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: NUMBER }],
    messages: [
      { from: PLAIN, to: NUMBER, body: 'STOP', direction: 'inbound', date_sent: daysAgo(20) },
    ],
  });
  const db = () => ws.dir.file('coverage.db');

  it('says that such history shows as not read because of the older rules, not why else', async () => {
    expect((await ws.cli(['snapshot', '--db', db()])).code).toBe(0);
    const sqlite = new Database(db());
    sqlite.prepare('UPDATE snapshot_runs SET rules_version = 1').run();
    sqlite.close();
    // The current rules read only the last 5 days: the rest shows as not read.
    const since = daysAgo(5);
    expect((await ws.cli(['snapshot', '--db', db(), '--since', since])).code).toBe(0);

    // Printed all the same, but not vouched for: exit 3.
    const csv = await ws.cli(['optouts', '--db', db()]);
    expect(csv.code, csv.stderr).toBe(3);
    expect(csv.stderr).toMatch(/^not read: AC[0-9a-f]{32} /m);
    expect(csv.stderr).toMatch(
      /^this list is not whole: 1 span\(s\) of the history of AC[0-9a-f]{32} /m,
    );
    expect(csv.stderr).toMatch(
      /^older rules: 1 completed snapshot run\(s\) of this database were read by an older submigrate/m,
    );
    const json = await ws.cli(['optouts', '--db', db(), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ coverage: { older_rules_runs: 1 } });

    // Once the current rules have read it all again, the older run no longer matters: no line.
    expect((await ws.cli(['snapshot', '--db', db()])).code).toBe(0);
    const whole = await ws.cli(['optouts', '--db', db()]);
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stderr).not.toMatch(/^not read:/m);
    expect(whole.stderr).not.toContain('older rules:');
  });
});

describe('reconcile, once every snapshot was read under older keyword rules', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: NUMBER }] });
  const db = () => ws.dir.file('reconcile.db');

  it('says why the accounts the numbers came from count as never read', async () => {
    expect((await ws.cli(['snapshot', '--db', db()])).code).toBe(0);
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${NUMBER}\n`,
    );
    await planAndApply(ws.cli, {
      mapping: ws.dir.file('m.csv'),
      db: db(),
      out: ws.dir.file('p.json'),
    });
    const sqlite = new Database(db());
    sqlite.prepare('UPDATE snapshot_runs SET rules_version = 1').run();
    sqlite.close();

    const reconciled = await ws.cli(['reconcile', '--db', db()]);
    expect(reconciled.code).not.toBe(0);
    expect(reconciled.stderr).toContain('no completed snapshot has read AC');
    expect(reconciled.stderr).toContain(
      'completed snapshot run(s) of this database were read by an older submigrate',
    );
  });
});
