/**
 * `status` shows the apply lock, for the engineer in the maintenance window asking whether an
 * apply runs on this database right now: who holds it (pid, host, run), since when, when it last
 * renewed it, whether that makes it live, dead-process or stale, and the one command to run —
 * in text and in `--json`. Each command it names is then run as given. Built CLI, emulator over
 * HTTP, a real SQLite file; the lock of another machine is this machine's apply with its host
 * name rewritten (the database shared with it).
 */

import { hostname } from 'node:os';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { ageLockRenewal } from '../support/apply-lock.js';
import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { pollUntil, releaseHeld, startApplyHeldAtWrite } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550181', '+14155550182'];
const THERE = 'ops-container-3f2a';

interface LockJson {
  runId: number | null;
  pid: number;
  hostname: string;
  acquiredAt: string;
  renewedAt: string | null;
  thisMachine: boolean;
  state: string;
  reason: string;
  renewedSecondsAgo: number | null;
  takeOverFrom: string | null;
  planPath: string | null;
  command: string;
}

function setHost(path: string, host: string): void {
  const db = new Database(path);
  db.prepare('UPDATE apply_lock SET hostname = ?').run(host);
  db.close();
}

describe('status shows the apply lock', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('live while its apply runs, here or on another machine; dead-process, then stale, once it is killed', async () => {
    const { env, dir, cli } = ws;
    const db = dir.file('a.db');
    const status = async () => {
      const text = await cli(['status', '--db', 'a.db']);
      expect(text.code, text.stderr).toBe(0);
      const json = await cli(['status', '--db', 'a.db', '--json']);
      expect(json.code, json.stderr).toBe(0);
      const line = text.stdout.split('\n').find((l) => l.startsWith('apply lock: '));
      return { line, lock: (JSON.parse(json.stdout) as { lock: LockJson | null }).lock };
    };
    await planOneCustomer(ws, NUMBERS);
    expect((await status()).lock).toBeNull();

    // The subaccount created, the first transfer held: the apply runs, and renews its lock.
    const first = await startApplyHeldAtWrite(env, dir.path, 'a.plan.json', 'a.db', 1);
    const pid = first.child.pid!;
    const here = await status();
    expect(here.lock).toMatchObject({
      runId: 1,
      pid,
      hostname: hostname(),
      thisMachine: true,
      state: 'live',
      reason: 'process-runs',
      planPath: 'a.plan.json',
      command: 'submigrate status --db a.db',
    });
    expect(here.line).toMatch(
      new RegExp(
        `^apply lock: held by pid ${pid} on .+ \\(this machine\\), run 1, since \\S+Z; last renewed \\S+Z, \\d+ s ago: live, its process runs on this machine \\(another apply is refused meanwhile\\)\\. Wait for it to finish; \`submigrate status --db a\\.db\` shows its progress$`,
      ),
    );

    // Another machine's: its renewal, lately, is what says it runs (its own renewals look for
    // the lock under this machine's name from now on, so the latest stands).
    await pollUntil('a renewal after the lock was taken', () => {
      const lock = new Database(db, { readonly: true })
        .prepare('SELECT acquired_at AS a, renewed_at AS r FROM apply_lock')
        .get() as { a: string; r: string };
      return lock.r > lock.a ? true : undefined;
    });
    setHost(db, THERE);
    const there = await status();
    expect(there.lock).toMatchObject({
      pid,
      hostname: THERE,
      thisMachine: false,
      state: 'live',
      reason: 'renewed',
      command: 'submigrate apply a.plan.json --take-over-lock --db a.db',
    });
    const ago = there.lock!.renewedSecondsAgo!;
    expect(ago >= 0 && ago < 30, String(ago)).toBe(true);
    // Text and --json are two runs of status: the seconds may differ by one.
    expect(there.line!.replace(/, \d+ s ago: /, ', N s ago: ')).toContain(
      `(another machine, whose processes this one cannot see), run 1, since ${there.lock!.acquiredAt}; last renewed ${there.lock!.renewedAt}, N s ago: live, renewed within the last 30 s, so that apply still runs there; \`apply --take-over-lock\` is refused meanwhile. Wait for it to finish there; should it in fact have stopped, \`submigrate apply a.plan.json --take-over-lock --db a.db\` takes it over from ${there.lock!.takeOverFrom} by this machine's clock, after watching the lock 11 s for a renewal`,
    );
    // As it says: --take-over-lock is refused.
    const refused = await cli(['apply', 'a.plan.json', '--db', 'a.db', '--take-over-lock']);
    expect(refused.code, refused.stderr).toBe(4);

    // Killed; on this machine, its pid is gone: the next apply takes the lock over.
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    await releaseHeld(env);
    setHost(db, hostname());
    const dead = await status();
    expect(dead.lock).toMatchObject({
      pid,
      state: 'dead-process',
      reason: 'process-gone',
      command: 'submigrate apply a.plan.json --db a.db',
    });
    expect(dead.line).toContain(
      `: dead-process, no process ${pid} runs on this machine any more. The next apply takes the lock over, with a note in the audit: \`submigrate apply a.plan.json --db a.db\` continues run 1`,
    );

    // On another machine, a minute unrenewed: stale, and the command it names takes it over.
    setHost(db, THERE);
    ageLockRenewal(db);
    const stale = await status();
    expect(stale.lock).toMatchObject({
      state: 'stale',
      reason: 'not-renewed',
      renewedSecondsAgo: expect.any(Number) as number,
      command: 'submigrate apply a.plan.json --take-over-lock --db a.db',
    });
    expect(stale.line).toContain(
      `: stale, not renewed for 30 s or more by this machine's clock, so that apply has most likely stopped (killed, its machine suspended or gone), which this machine cannot see. Once you know it no longer runs on ${THERE}, \`submigrate apply a.plan.json --take-over-lock --db a.db\` takes it over`,
    );
    const applied = await cli(['apply', 'a.plan.json', '--db', 'a.db', '--take-over-lock']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/^apply run 1 \(continued\)/m);
    // Let go at its end: no lock, no line.
    const after = await status();
    expect(after).toEqual({ line: undefined, lock: null });
  }, 120_000);
});
