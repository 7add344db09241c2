/**
 * Ctrl-C during `apply` of a plan whose run an earlier apply began (killed part way), while it
 * still checks the plan against the live account, before it took the run up: it said it was
 * stopped "before it began its run" and that the same command "runs it again", of a run that
 * `status` shows begun, with its steps done. It now names the run it had not yet taken up, as
 * the last apply left it, and the command that continues it. Built CLI, emulator over HTTP.
 */

import { hostname } from 'node:os';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { requestLog } from '../support/emulator.js';
import { planOneCustomer, useCliWorkspaceEach } from '../support/migration.js';
import {
  killApplyAtHeldWrite,
  releaseHeld,
  startApplyHeldAtWrite,
} from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550165', '+14155550166'];

function runNotes(path: string, runId: number): string[] {
  const db = new Database(path, { readonly: true });
  try {
    const row = db
      .prepare('SELECT notes_json AS notes FROM apply_runs WHERE id = ?')
      .get(runId) as {
      notes: string;
    };
    return (JSON.parse(row.notes) as { note: string }[]).map((n) => n.note);
  } finally {
    db.close();
  }
}

describe('apply stopped before it took up the run an earlier apply began', () => {
  const ws = useCliWorkspaceEach(
    { numbers: NUMBERS.map((phone) => ({ phone_number: phone })) },
    NOW,
  );

  it('names the run, as the last apply left it, and the command that continues it', async () => {
    const { env, cli, dir } = ws;
    await planOneCustomer(ws, NUMBERS);
    // The subaccount created, the first transfer held, and that apply killed there.
    const killed = await killApplyAtHeldWrite(env, dir.path, 'a.plan.json', 'a.db', 1);
    expect(killed.signal).toBe('SIGKILL');
    await releaseHeld(env);
    await env.control('DELETE', '/__emulator/requests');

    // Its second read of the account held: run 1 not taken up yet.
    const apply = await startApplyHeldAtWrite(env, dir.path, 'a.plan.json', 'a.db', 1, ['GET']);
    apply.child.kill('SIGINT');
    const stopped = await apply.done;
    await releaseHeld(env);

    expect(stopped.signal).toBe('SIGINT');
    expect(stopped.stderr).toBe(
      'apply: stopped by SIGINT before it took up apply run 1 again, while it checked the plan against the live account: it had sent Twilio only reads, so nothing was changed there, and run 1 is as the last apply left it. `submigrate apply a.plan.json --db a.db` continues it.\n',
    );
    expect((await requestLog(env)).filter((r) => r.method !== 'GET')).toEqual([]);

    const again = await cli(['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^apply run 1 \(continued\)/m);
    // The run was taken over from the apply killed part way, not from the one stopped before
    // it took the run up: the note names the first, and never the second.
    const notes = runNotes(dir.file('a.db'), 1);
    const host = hostname();
    expect(notes.filter((n) => n.startsWith('took over the lock'))).toEqual([
      `took over the lock of pid ${killed.pid} on ${host}, which is no longer running`,
    ]);
    expect(notes.join('\n')).not.toContain(`pid ${apply.child.pid!} `);
  }, 90_000);

  it('of a run whose apply had let go of the lock, says the stopped one had begun no run', async () => {
    const { env, cli, dir } = ws;
    await planOneCustomer(ws, NUMBERS);
    const killed = await killApplyAtHeldWrite(env, dir.path, 'a.plan.json', 'a.db', 1);
    expect(killed.signal).toBe('SIGKILL');
    await releaseHeld(env);
    // As an apply that ended (its steps failed, say) leaves it: run 1 begun, the lock free.
    const file = new Database(dir.file('a.db'));
    file.prepare('DELETE FROM apply_lock').run();
    file.close();

    const apply = await startApplyHeldAtWrite(env, dir.path, 'a.plan.json', 'a.db', 1, ['GET']);
    apply.child.kill('SIGINT');
    expect((await apply.done).signal).toBe('SIGINT');
    await releaseHeld(env);

    const again = await cli(['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^apply run 1 \(continued\)/m);
    // Not 'taken over from an earlier apply': the stopped one never took run 1 up.
    expect(runNotes(dir.file('a.db'), 1).filter((n) => n.startsWith('took over the lock'))).toEqual(
      [
        `took over the lock of pid ${apply.child.pid!} on ${hostname()}, which is no longer running: it had begun no run (stopped while it checked its plan), so nothing of this run was its`,
      ],
    );
  }, 90_000);
});
