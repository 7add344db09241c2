/**
 * An apply stopped mid-run (the terminal closed, the container stopped) whose lock names
 * another host: the database was copied to another machine to go on, or the apply ran in a
 * container, which has a new host name each time it starts. That process cannot be seen from
 * here, so the lock is not taken over by itself; but the refusal must not say "wait for it to
 * finish" and leave no way on: it names --take-over-lock, which continues the run, noted, and
 * sends no write twice. Built CLI, emulator over HTTP.
 */

import { writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { ageLockRenewal } from '../support/apply-lock.js';
import { requestLog } from '../support/emulator.js';
import { makePlan, useCliWorkspace } from '../support/migration.js';
import { killApplyAtHeldWrite, releaseHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550101', '+14155550102'];

describe('apply after a stopped apply whose lock names another host', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('names --take-over-lock, which continues the run without a write sent twice', async () => {
    const { env, dir, cli } = ws;
    const db = dir.file('a.db');
    const plan = dir.file('a.plan.json');
    writeFileSync(
      dir.file('m.csv'),
      `customer_id,customer_name,phone_number\n${NUMBERS.map((p) => `acme,Acme,${p}`).join('\n')}\n`,
    );
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    await makePlan(cli, { mapping: 'm.csv', db, out: plan });

    // The subaccount is created, the first transfer held, and the apply stopped there.
    const killed = await killApplyAtHeldWrite(env, dir.path, plan, db, 1);
    expect(killed.signal).toBe('SIGKILL');
    await releaseHeld(env);
    // It ran on another host (the database was copied here since).
    const file = new Database(db);
    file.prepare("UPDATE apply_lock SET hostname = 'ops-container-3f2a'").run();
    file.close();
    // And stopped a while ago: its lock unrenewed for a minute (one renewed within 30 s still
    // runs there, and --take-over-lock does not take it: apply-lock-still-renewed).
    ageLockRenewal(db);

    const refused = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(
      /^refused: another apply holds this database \(pid \d+ on ops-container-3f2a, run 1, since [^)]+\); ops-container-3f2a is another machine \(or container\).*apply again with --take-over-lock\n$/,
    );

    const args = ['apply', plan, '--db', db, '--rate', '1000', '--take-over-lock'];
    const dry = await cli([...args, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const applied = await cli(args);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/^apply run 1 \(continued\)/m);
    expect(applied.stderr).toMatch(
      /^note: took over the lock of pid \d+ on ops-container-3f2a, another machine, as --take-over-lock asked/m,
    );
    const writes = (await requestLog(env)).filter((r) => r.method !== 'GET');
    const paths = writes.map((r) => `${r.method} ${r.path}`);
    expect(new Set(paths).size, paths.join('\n')).toBe(paths.length);
    const state = await env.state();
    expect(state.accounts.filter((a) => a.friendly_name === 'Acme')).toHaveLength(1);
  }, 90_000);
});
