/**
 * A reconcile pass killed, with a snapshot left stopped before it. Killed (SIGKILL) while it
 * reads the subaccounts, a pass has recorded nothing (it makes its run once it has read them):
 * `status` says what it said before, and the next pass reads the same span. Left stopped while
 * it judges (its pass not recorded: a trigger in the real database file aborts the pass's
 * insert, as a process dying there leaves it), its run stays `running`, the latest of the
 * database. The next `snapshot` abandoned that pass's run and started a run of its own from the
 * start, leaving the older snapshot it was told to take up (`status` had named the command)
 * recorded `running` behind it: never taken up, never abandoned; and `status`, which tells of
 * the latest run, no longer named it. Now `status` names it below the pass's run, and the next
 * snapshot abandons the pass's run, says so, and takes the stopped snapshot up. Built CLI, emulator over HTTP.
 */

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { migrateAcmeThenText, seededStop, useCliWorkspace } from '../support/migration.js';
import { readOnly, releaseHeld, startCliHeld } from '../support/snapshot-harness.js';

const A = '+14155550641';
const R1 = '+12065550241';

describe('a reconcile pass killed, with a stopped snapshot behind it', () => {
  // On the real clock: the send after the move is dated after it.
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A, sms_url: 'https://app.example/a' }],
    messages: [seededStop(R1, A, Date.now() - 20 * 86_400_000)],
  });
  afterAll(() => releaseHeld(ws.env));
  const { cli } = ws;
  const db = () => ws.dir.file('k.db');
  const withFile = (fn: (d: Database.Database) => void) => {
    const d = new Database(db());
    try {
      fn(d);
    } finally {
      d.close();
    }
  };
  const runs = () =>
    readOnly(db(), (d) =>
      d
        .prepare(
          `SELECT id, status, made_by AS madeBy,
                  id IN (SELECT snapshot_run_id FROM reconcile_passes) AS pass
           FROM snapshot_runs ORDER BY id`,
        )
        .all(),
    ) as { id: number; status: string; madeBy: string; pass: number }[];

  it('records nothing when killed mid-read; the next snapshot takes up the one behind it', async () => {
    // A send to someone on acme's list, after the move: a violation.
    await migrateAcmeThenText(ws, db(), A, R1);
    const before = runs();
    const statusBefore = await cli(['status', '--db', db()]);

    // Killed while it reads the subaccounts (a GET held): nothing recorded, nothing to mend.
    // (Its first GET lists the parent's numbers; the second reads the subaccount's messages.)
    const reading = await startCliHeld(ws.env, ['reconcile', '--db', db()], ws.dir.path, {
      after: 1,
      methods: ['GET'],
    });
    reading.child.kill('SIGKILL');
    expect((await reading.done).signal).toBe('SIGKILL');
    await releaseHeld(ws.env);
    expect(runs()).toEqual(before);
    expect((await cli(['status', '--db', db()])).stdout).toBe(statusBefore.stdout);

    // A snapshot killed part way: recorded running, its process gone.
    const snapping = await startCliHeld(ws.env, ['snapshot', '--db', db()], ws.dir.path, {
      after: 2,
      methods: ['GET'],
    });
    snapping.child.kill('SIGKILL');
    expect((await snapping.done).signal).toBe('SIGKILL');
    await releaseHeld(ws.env);
    const stopped = runs().at(-1)!;
    expect(stopped).toMatchObject({ status: 'running', madeBy: 'snapshot' });

    // Then a pass left stopped while it judged: its run, recorded running, is the latest.
    withFile((d) =>
      d.exec(
        `CREATE TRIGGER killed BEFORE INSERT ON reconcile_passes
         BEGIN SELECT RAISE(ABORT, 'killed before the pass was recorded'); END`,
      ),
    );
    const killed = await cli(['reconcile', '--db', db()]);
    expect(killed.code).toBe(1);
    withFile((d) => d.exec('DROP TRIGGER killed'));
    const pass = runs().at(-1)!;
    expect(pass).toMatchObject({ status: 'running', madeBy: 'reconcile', pass: 0 });
    expect(pass.id).toBe(stopped.id + 1);

    // status tells of both: the pass's run, and the snapshot stopped before it, with the
    // command that takes it up (it said nothing of that one once the pass's run was the latest).
    const status = await cli(['status', '--db', db()]);
    expect(status.code, status.stderr).toBe(0);
    const lines = status.stdout.split('\n');
    const at = lines.findIndex((l) =>
      l.startsWith(`snapshot run ${pass.id} (a reconcile pass, not recorded`),
    );
    expect(at, status.stdout).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toMatch(
      new RegExp(
        `^  before it: snapshot run ${stopped.id}  stopped  started \\S+, no process is running it \\(pid \\d+ gone\\): \`submigrate snapshot --db \\S*k\\.db\` takes it up`,
      ),
    );
    const json = await cli(['status', '--db', db(), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      snapshot: {
        id: pass.id,
        state: 'stopped',
        reconcileRun: true,
        reconcilePass: null,
        behind: { id: stopped.id, state: 'stopped', madeBy: 'snapshot', resumeArguments: [] },
      },
    });

    // The next snapshot abandons the pass's run, and takes the stopped snapshot up.
    const again = await cli(['snapshot', '--db', db(), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ runId: stopped.id, resumed: true });
    expect(again.stderr).toMatch(
      new RegExp(
        `^snapshot: run ${pass.id}, a reconcile pass's that stopped before it recorded its pass \\(pid \\d+\\), is abandoned: `,
        'm',
      ),
    );
    expect(runs().slice(-2)).toEqual([
      { ...stopped, status: 'completed' },
      { ...pass, status: 'abandoned' },
    ]);
    expect(runs().filter((r) => r.status === 'running')).toEqual([]);
    expect((await cli(['status', '--db', db()])).stdout).not.toContain('before it:');

    // And the next pass reads the span again and finds the violation.
    const reconciled = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(reconciled.code, reconciled.stderr).toBe(3);
    expect(reconciled.stdout).toMatch(/^reconcile pass 1: .*: 1 new violation\(s\)/m);
  });
});
