/**
 * A database made before migration 025, which records the command that made each snapshot run:
 * opened by today's submigrate, its runs are given one by their shape, as they were told apart
 * until then (a pass recorded for the run, or windows and nothing that reads them: a pass's;
 * anything else: a snapshot's), and `status` and `snapshot` treat each as before. The database
 * is today's, with each kind of run as today's commands record it, rewritten under migrations
 * 001..024 (test/support/older-schema.ts) after each run, so that each is in turn the latest.
 */

import { copyFileSync } from 'node:fs';
import { hostname } from 'node:os';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { recordPass } from '../../src/db/reconcile.js';
import { createRun, finishRun } from '../../src/db/snapshot-runs.js';
import { latestSnapshotState } from '../../src/optouts/snapshot.js';
import { useCliWorkspace } from '../support/migration.js';
import { olderDatabase } from '../support/older-schema.js';
import {
  fixedClock,
  readOnly,
  snapshotInto,
  withLedger,
  LONE_SUB as SUB,
  oldStopInSubaccount,
} from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
/** A pid no process has (beyond Linux's pid_max). */
const GONE = 4_194_305;
/** `status` on this host: a run recorded running here by a process that is gone is stopped. */
const HERE = { pid: process.pid, hostname: hostname(), isAlive: () => false };
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const WINDOW = {
  accounts: [SUB],
  since: new Date(NOW - 60 * DAY),
  until: new Date(NOW - 40 * DAY),
  useExport: false,
};

describe('snapshot runs recorded before migration 025', () => {
  const ws = useCliWorkspace(oldStopInSubaccount(NOW), NOW);
  const file = (name: string) => ws.dir.file(name);
  /**
   * As a process killed before its last slice was recorded leaves its run: recorded running,
   * by a process now gone.
   */
  const killed = (runId: number) => {
    const raw = new Database(file('today.db'));
    try {
      raw
        .prepare(
          `UPDATE snapshot_runs SET status = 'running', finished_at = NULL, pid = ?, hostname = ?
           WHERE id = ?`,
        )
        .run(GONE, hostname(), runId);
      raw
        .prepare(
          `UPDATE snapshot_slices SET status = 'pending', messages_read = 0, next_page_url = NULL
           WHERE run_id = ? AND slice_index = (SELECT MAX(slice_index) FROM snapshot_slices WHERE run_id = ?)`,
        )
        .run(runId, runId);
    } finally {
      raw.close();
    }
  };
  /** A pass's run, as `reconcile` makes it: the subaccount's window, nothing that reads it. */
  const passRun = (recorded: boolean) =>
    withLedger(file('today.db'), (db) => {
      const id = createRun(
        db,
        {
          parentAccountSid: ws.env.port().parentAccountSid,
          startedAt: iso(NOW),
          pid: GONE,
          hostname: hostname(),
          partitions: 1,
          keywordsJson: '{}',
          explicitWindow: false,
          madeBy: 'reconcile',
        },
        [{ accountSid: SUB, windowStart: iso(NOW - 30 * DAY), windowEnd: iso(NOW) }],
        [],
      );
      if (recorded) {
        recordPass(db, { snapshotRunId: id, finishedAt: iso(NOW), sendsChecked: 0 }, [], []);
        finishRun(db, id, 'completed', iso(NOW));
      }
      return id;
    });

  it('are told by their shape, and status and snapshot treat each as before', async () => {
    const cases: { name: string; older: string }[] = [];
    /** The database as it is now, rewritten as migration 024 left it. */
    const older = (name: string) => {
      olderDatabase(file('today.db'), file(`${name}.db`), 24);
      copyFileSync(file('today.db'), file(`${name}-today.db`));
      cases.push({ name, older: `${name}.db` });
    };
    const port = ws.env.port();
    const clock = fixedClock(NOW);

    // The parent's history, its Messages API window recorded as 30 days.
    await snapshotInto(file('today.db'), port, clock, { retentionDays: 30, useExport: false });
    older('snapshot');
    // A plan's refresh, of the subaccount too.
    await snapshotInto(file('today.db'), port, clock, {
      accounts: [SUB],
      useExport: false,
      madeBy: 'plan',
    });
    older('plan');
    // A snapshot of the subaccount alone (its window older than the parent's 30 days holds none
    // of the parent's), killed part way.
    const stopped = await snapshotInto(file('today.db'), port, clock, WINDOW, HERE);
    killed(stopped.runId);
    older('stopped-snapshot');
    // Taken up by its command before the passes.
    expect(await snapshotInto(file('today.db'), port, clock, WINDOW, HERE)).toMatchObject({
      runId: stopped.runId,
      resumed: true,
    });
    await passRun(true);
    older('pass');
    await passRun(false);
    older('killed-pass');

    const madeBy = readOnly(file('today.db'), (d) =>
      d.prepare('SELECT made_by FROM snapshot_runs ORDER BY id').pluck().all(),
    );
    expect(madeBy).toEqual(['snapshot', 'plan', 'snapshot', 'reconcile', 'reconcile']);

    for (const { name, older: db } of cases) {
      // Upgraded by the first command that opens it.
      const upgraded = await withLedger(file(db), (d) => latestSnapshotState(d, HERE));
      const today = await withLedger(file(`${name}-today.db`), (d) => latestSnapshotState(d, HERE));
      expect({ name, ...upgraded, madeBy: undefined }).toEqual({
        name,
        ...today,
        madeBy: undefined,
      });
      const status = await ws.cli(['status', '--db', db]);
      const todays = await ws.cli(['status', '--db', `${name}-today.db`]);
      expect(status.code, status.stderr).toBe(0);
      // Today's database says a plan's refresh is one; an older one could not record it (below).
      const refresh =
        " (plan's refresh of the ledger: the Messages API's window only, not the history before it, which `submigrate snapshot` reads)";
      if (name === 'plan') expect(todays.stdout).toContain(`snapshot run 2${refresh}  completed`);
      expect(status.stdout.replace(`--db ${db}`, '--db DB')).toBe(
        todays.stdout.replace(`--db ${name}-today.db`, '--db DB').replace(refresh, ''),
      );
    }
    // Before 025, a run a plan made could not be told from a snapshot's by its shape.
    const upgraded = readOnly(file('killed-pass.db'), (d) =>
      d.prepare('SELECT made_by FROM snapshot_runs ORDER BY id').pluck().all(),
    );
    expect(upgraded).toEqual(['snapshot', 'snapshot', 'snapshot', 'reconcile', 'reconcile']);
    const status = await ws.cli(['status', '--db', 'stopped-snapshot.db']);
    expect(status.stdout).toContain(
      `snapshot run 3  stopped  started ${iso(NOW)}, no process is running it (pid ${GONE} gone): \`submigrate snapshot --since ${iso(NOW - 60 * DAY)} --until ${iso(NOW - 40 * DAY)} --account ${SUB} --no-export --db stopped-snapshot.db\` takes it up`,
    );
    const pass = await ws.cli(['status', '--db', 'killed-pass.db']);
    expect(pass.stdout).toContain(
      "snapshot run 5 (a reconcile pass, not recorded: the subaccounts' messages, not the parent's history)  stopped",
    );
    expect(pass.stdout).toContain('`submigrate reconcile --db killed-pass.db` runs the pass again');

    // The stopped snapshot is taken up by its command; the killed pass is not.
    const resumed = await snapshotInto(file('stopped-snapshot.db'), port, clock, WINDOW, HERE);
    expect(resumed).toMatchObject({ runId: 3, resumed: true });
    const after = await snapshotInto(file('killed-pass.db'), port, clock, WINDOW, HERE);
    expect(after.resumed).toBe(false);
    expect(
      readOnly(file('killed-pass.db'), (d) =>
        d.prepare('SELECT status FROM snapshot_runs WHERE id = 5').pluck().get(),
      ),
    ).toBe('abandoned');
  });
});
