/**
 * `apply --dry-run` is the rehearsal of `apply` (README step 3 before step 4): where apply
 * refuses before it reads the account, the dry run refuses the same way, with the same exit
 * code and message: options, the database, another apply holding the lock, the opt-out gate.
 * It sends no request at all (not even a read), takes no lock and starts no run in the
 * journal; drift, which needs the live account, is apply's alone to see. Needs `npm run build`.
 */

import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import { makePlan, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;

describe('apply --dry-run refuses where apply refuses', () => {
  const ws = useCliWorkspace(
    {
      numbers: [
        { phone_number: '+14155550101' },
        { phone_number: '+14155550102' },
        { phone_number: '+14155550103' },
      ],
    },
    NOW,
  );
  const { cli } = ws;
  /** A plan no snapshot covers, and its database. */
  const unsnapshotted = async (name: string, phone = '+14155550101') => {
    const mapping = ws.dir.file(`${name}.csv`);
    writeFileSync(mapping, `customer_id,customer_name,phone_number\n${name},Acme,${phone}\n`);
    const db = ws.dir.file(`${name}.db`);
    const plan = ws.dir.file(`${name}.plan.json`);
    await makePlan(cli, {
      mapping,
      db,
      out: plan,
      plan: ['--no-snapshot'],
    });
    return { db, plan };
  };
  const requestsSent = async () => requestLog(ws.env);
  /** What the dry run may not leave behind: a run in the journal, or the lock. */
  const journal = (db: string) => {
    const handle = new Database(db, { readonly: true });
    try {
      const count = (table: string) =>
        (handle.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      return { runs: count('apply_runs'), lock: count('apply_lock') };
    } finally {
      handle.close();
    }
  };

  it("a plan no snapshot covers: exit 4 with apply's message, no request sent, no run started", async () => {
    const { db, plan } = await unsnapshotted('gate');
    await clearRequestLog(ws.env);
    const dry = await cli(['apply', plan, '--db', db, '--dry-run']);
    expect(await requestsSent()).toEqual([]);
    expect(journal(db)).toEqual({ runs: 0, lock: 0 });
    expect(dry.stdout).toBe('');
    const real = await cli(['apply', plan, '--db', db]);
    expect(real.code).toBe(4);
    expect(real.stderr).toMatch(/no completed snapshot covers the history of 1 number\(s\)/);
    expect(dry.code).toBe(real.code);
    expect(dry.stderr).toBe(real.stderr);
  });

  it('--allow-missing-snapshot: the writes are listed, with the numbers the audit will record', async () => {
    const { db, plan } = await unsnapshotted('allowed', '+14155550102');
    await clearRequestLog(ws.env);
    const dry = await cli(['apply', plan, '--db', db, '--dry-run', '--allow-missing-snapshot']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^POST {3}\S+\/Accounts\.json {2}FriendlyName=/m);
    expect(dry.stdout).toMatch(/^POST {3}\S+\/IncomingPhoneNumbers\/PN\w+\.json {2}AccountSid=/m);
    expect(dry.stdout).toContain(
      '# --allow-missing-snapshot: would move 1 number(s) whose opt-outs no completed snapshot covers (the audit records them): +14155550102',
    );
    expect(await requestsSent()).toEqual([]);
    expect(journal(db)).toEqual({ runs: 0, lock: 0 });
  });

  it('a --db that does not exist: exit 1 as apply, and none is created', async () => {
    const { plan } = await unsnapshotted('typo');
    const typo = ws.dir.file('typo-mistyped.db');
    await clearRequestLog(ws.env);
    const dry = await cli(['apply', plan, '--db', typo, '--dry-run']);
    expect(existsSync(typo)).toBe(false);
    const real = await cli(['apply', plan, '--db', typo]);
    expect(real.code).toBe(1);
    expect(real.stderr).toMatch(/^error: no database at /);
    // It said "Run `submigrate plan` first (it fills the ledger)": with a plan in hand the
    // database is most likely mistyped, and a plan made on a new database is refused by the
    // opt-out gate until `submigrate snapshot` has read the history before the API's window.
    expect(real.stderr).toContain(
      'Name the database the plan was made with (--db), or run `submigrate snapshot` and then `submigrate plan` first.',
    );
    expect(dry.code).toBe(1);
    expect(dry.stderr).toBe(real.stderr);
    expect(dry.stdout).toBe('');
    expect(existsSync(typo)).toBe(false);
    expect(await requestLog(ws.env)).toEqual([]);
  });

  it.each([
    [['--rate', 'abc'], /^error: --rate "abc" is not a number/],
    [['--concurrency', '0'], /^error: --concurrency must be a whole number from 1 to 64 .*, got 0/],
    [
      ['--concurrency', '65'],
      /^error: --concurrency must be a whole number from 1 to 64 .*, got 65/,
    ],
    [
      ['--rate', 'Infinity'],
      /^error: --rate must be a finite number ≥ 0 \(0 = no cap\), got Infinity/,
    ],
    [['--consent-rate', '0'], /^error: --consent-rate must be a number of requests a minute > 0/],
  ])('%j: exit 1 as apply, nothing asked of Twilio', async (option, message) => {
    const { db, plan } = await unsnapshotted(`opt${option[0]}${option[1]}`);
    await clearRequestLog(ws.env);
    const dry = await cli(['apply', plan, '--db', db, '--dry-run', ...option]);
    const real = await cli(['apply', plan, '--db', db, ...option]);
    expect(real.code).toBe(1);
    expect(real.stderr).toMatch(message);
    expect(dry.code).toBe(1);
    expect(dry.stderr).toBe(real.stderr);
    expect(await requestLog(ws.env)).toEqual([]);
  });

  it('--dry-run=yes is refused, not read as no dry run: nothing applied, nothing asked of Twilio', async () => {
    const { db, plan } = await unsnapshotted('dry-yes');
    await clearRequestLog(ws.env);
    const result = await cli(['apply', plan, '--db', db, '--dry-run=yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: --dry-run=yes: --dry-run is on or off, not "yes"/);
    expect(await requestLog(ws.env)).toEqual([]);
    expect(journal(db)).toEqual({ runs: 0, lock: 0 });
  });

  it('drift (a number moved by hand after planning) needs the live account: the dry run says it cannot tell, apply refuses', async () => {
    const { db, plan } = await unsnapshotted('drift', '+14155550103');
    const sub = await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'By hand' });
    const number = (
      await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: '+14155550103' })
    )[0]!;
    await ws.env.parent.incomingPhoneNumbers(number.sid).update({ accountSid: sub.sid });
    await clearRequestLog(ws.env);
    const allow = '--allow-missing-snapshot';
    const dry = await cli(['apply', plan, '--db', db, '--dry-run', allow]);
    expect(await requestsSent()).toEqual([]);
    expect(journal(db)).toEqual({ runs: 0, lock: 0 });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('this dry run sends no request, so it cannot tell a stale plan');
    const real = await cli(['apply', plan, '--db', db, allow]);
    expect(real.code).toBe(4);
    expect(real.stderr).toMatch(/^refused: the account changed since the plan was made/);
  });

  it('another apply holding the lock: exit 4 as apply; the lock is left as it was', async () => {
    const { db, plan } = await unsnapshotted('locked', '+14155550101');
    // A running apply of this database: this test process, on this host.
    const handle = new Database(db);
    handle
      .prepare(
        'INSERT INTO apply_lock (id, run_id, pid, hostname, acquired_at) VALUES (1, NULL, ?, ?, ?)',
      )
      .run(process.pid, hostname(), '2025-01-01T00:00:00Z');
    handle.close();
    await clearRequestLog(ws.env);
    const dry = await cli(['apply', plan, '--db', db, '--dry-run', '--allow-missing-snapshot']);
    const real = await cli(['apply', plan, '--db', db, '--allow-missing-snapshot']);
    expect(real.code).toBe(4);
    expect(real.stderr).toMatch(/^refused: another apply holds this database \(pid \d+/);
    expect(dry.code).toBe(4);
    expect(dry.stderr).toBe(real.stderr);
    expect(await requestLog(ws.env)).toEqual([]);
    expect(journal(db)).toEqual({ runs: 0, lock: 1 });
  });
});
