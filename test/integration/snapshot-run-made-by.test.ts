/**
 * A snapshot run records the command that made it (migration 025), and `status` and `snapshot`
 * go by that, not by the run's shape: a real `snapshot --account SUB --no-export` whose window
 * holds none of the parent's (an `--until` older than the parent's Messages API window), killed
 * part way, is a snapshot's run that its command takes up, not a reconcile pass's. Built CLI,
 * emulator over HTTP, killed with SIGKILL while a request is held.
 */

import { afterAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import {
  readOnly,
  releaseHeld,
  startCliHeld,
  LONE_SUB as SUB,
  oldStopInSubaccount,
} from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const SINCE = iso(NOW - 60 * DAY);
const UNTIL = iso(NOW - 40 * DAY);

describe('a snapshot of a subaccount alone, killed', () => {
  const ws = useCliWorkspace(oldStopInSubaccount(NOW), NOW);
  afterAll(() => releaseHeld(ws.env));

  it('is shown as a snapshot run, and its command takes it up', async () => {
    const db = 'made-by.db';
    // The parent's Messages API window recorded as 30 days: the window below is older, and with
    // --no-export the run records no window of the parent's.
    const first = await ws.cli(['snapshot', '--retention-days', '30', '--no-export', '--db', db]);
    expect(first.code, first.stderr).toBe(0);
    const args = ['--since', SINCE, '--until', UNTIL, '--account', SUB, '--no-export'];
    // Both accounts fetched (the run is made right after), the next GET held: killed there.
    const held = await startCliHeld(ws.env, ['snapshot', ...args, '--db', db], ws.dir.path, {
      after: 2,
      methods: ['GET'],
    });
    held.child.kill('SIGKILL');
    expect((await held.done).signal).toBe('SIGKILL');
    await releaseHeld(ws.env);

    const runs = readOnly(ws.dir.file(db), (d) =>
      d
        .prepare(
          `SELECT r.id, r.status, r.made_by AS madeBy,
                  (SELECT group_concat(account_sid) FROM snapshot_windows w WHERE w.run_id = r.id)
                    AS accounts
           FROM snapshot_runs r ORDER BY r.id`,
        )
        .all(),
    );
    expect(runs).toEqual([
      { id: 1, status: 'completed', madeBy: 'snapshot', accounts: expect.any(String) },
      { id: 2, status: 'running', madeBy: 'snapshot', accounts: SUB },
    ]);

    const status = await ws.cli(['status', '--db', db]);
    expect(status.code, status.stderr).toBe(0);
    const line = status.stdout.split('\n').find((l) => l.startsWith('snapshot run'));
    expect(line).toMatch(/^snapshot run 2 {2}stopped {2}started \S+, no process is running it/);
    expect(line).toContain(`\`submigrate snapshot ${args.join(' ')} --db ${db}\` takes it up`);
    expect(status.stdout).not.toContain('reconcile');
    const json = await ws.cli(['status', '--db', db, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      snapshot: {
        id: 2,
        state: 'stopped',
        madeBy: 'snapshot',
        reconcilePass: null,
        reconcileRun: false,
        resumeArguments: args,
      },
    });

    const again = await ws.cli(['snapshot', ...args, '--db', db, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ runId: 2, resumed: true, messagesRead: 1 });
    expect(
      readOnly(ws.dir.file(db), (d) =>
        d.prepare('SELECT id, status, made_by AS madeBy FROM snapshot_runs ORDER BY id').all(),
      ),
    ).toEqual([
      { id: 1, status: 'completed', madeBy: 'snapshot' },
      { id: 2, status: 'completed', madeBy: 'snapshot' },
    ]);
  });
});
