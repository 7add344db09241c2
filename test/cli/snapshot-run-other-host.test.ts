/**
 * A run recorded running by a process on another machine (or container): its pid means nothing
 * here, so it cannot be told stopped from running. `snapshot` (and `plan`'s refresh) refuse it
 * (exit 4), as `reconcile` leaves such a pass's run alone, where `snapshot` used to take it up
 * or abandon it; `--take-over-run` says it no longer runs there. Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { createRun } from '../../src/db/snapshot-runs.js';
import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, readOnly, runCli, withLedger } from '../support/snapshot-harness.js';

const A = '+14155550101';
const OTHER = 'build-box-7';
const PID = 4242;

const runsOf = (db: string) =>
  readOnly(db, (d) =>
    d.prepare('SELECT id, status, pid, hostname, made_by AS madeBy FROM snapshot_runs').all(),
  );

describe('a run another machine recorded running', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: A }] });
  const snapshot = (db: string, ...extra: string[]) =>
    runCli(['snapshot', '--db', db, ...extra], cliEnv(ws.env), ws.dir.path);

  it("a snapshot's: refused, plan's refresh too; --take-over-run takes it up", async () => {
    const db = ws.dir.file('copied.db');
    expect((await snapshot(db, '--no-export')).code).toBe(0);
    // As another machine left it: recorded running there, its last slice still to read.
    const raw = new Database(db);
    raw
      .prepare(
        `UPDATE snapshot_runs SET status = 'running', finished_at = NULL, pid = ?, hostname = ?`,
      )
      .run(PID, OTHER);
    raw.prepare(`UPDATE snapshot_slices SET status = 'pending', next_page_url = NULL`).run();
    raw.close();

    const refused = await snapshot(db, '--no-export');
    expect(refused.code).toBe(4);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      new RegExp(
        `^refused: snapshot run 1 is recorded running by pid ${PID} on ${OTHER} \\(the run began [^)]+\\); another machine \\(or container\\), whose processes this one cannot see\\. .*\`submigrate snapshot --no-export --take-over-run\` \\(with this --db\\) takes it up from its last commit\\n$`,
      ),
    );
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    const planned = await runCli(
      ['plan', '--mapping', 'm.csv', '--db', db, '--out', 'p.json'],
      cliEnv(ws.env),
      ws.dir.path,
    );
    expect(planned.code).toBe(4);
    expect(planned.stderr).toBe(refused.stderr);
    // Neither took it up nor abandoned it.
    expect(runsOf(db)).toEqual([
      { id: 1, status: 'running', pid: PID, hostname: OTHER, madeBy: 'snapshot' },
    ]);

    // status names that same command (the container restarted under a new hostname looks
    // there first), in text and in --json; the auth token in its environment nowhere.
    const status = (...extra: string[]) =>
      runCli(['status', '--db', 'copied.db', ...extra], cliEnv(ws.env), ws.dir.path);
    const shown = await status();
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(
      `snapshot run 1  running?  recorded running by pid ${PID} on ${OTHER} (the run began `,
    );
    expect(shown.stdout).toContain(
      'if it no longer runs (it was stopped, its machine or container is gone), `submigrate snapshot --no-export --take-over-run --db copied.db` takes it up from its last commit',
    );
    const json = await status('--json');
    const { snapshot: state } = JSON.parse(json.stdout) as {
      snapshot: { state: string; resumeArguments: string[] | null };
    };
    expect(state).toMatchObject({
      state: 'elsewhere',
      resumeArguments: ['--no-export', '--take-over-run'],
    });
    for (const said of [shown, json]) {
      expect(said.stdout + said.stderr).not.toContain(ws.env.parentToken);
    }

    // The arguments status gave take the run up.
    const taken = await snapshot(db, ...(state.resumeArguments ?? []), '--json');
    expect(taken.code, taken.stderr).toBe(0);
    expect(JSON.parse(taken.stdout)).toMatchObject({ runId: 1, resumed: true });
    expect(taken.stderr).toContain(
      `snapshot: run 1 is taken up (recorded by pid ${PID} on ${OTHER}, another machine, taken over as --take-over-run asked: whether it still ran there could not be seen from here).`,
    );
    expect(runsOf(db)).toMatchObject([{ id: 1, status: 'completed', madeBy: 'snapshot' }]);
  });

  it("a reconcile pass's: refused, not abandoned; --take-over-run abandons it", async () => {
    const db = ws.dir.file('pass.db');
    await withLedger(db, (d) =>
      createRun(
        d,
        {
          parentAccountSid: ws.env.parentSid,
          startedAt: new Date().toISOString(),
          pid: PID,
          hostname: OTHER,
          partitions: 1,
          keywordsJson: '{}',
          explicitWindow: false,
          madeBy: 'reconcile',
        },
        [],
        [],
      ),
    );
    const refused = await snapshot(db);
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^refused: a reconcile pass's run \\(snapshot run 1\\) is recorded running by pid ${PID} on ${OTHER} \\(the run began [^)]+\\); another machine \\(or container\\), whose processes this one cannot see\\. If that pass still runs there, wait for it to finish; .*\`submigrate snapshot --take-over-run\` \\(with this --db\\) abandons it`,
      ),
    );
    expect(runsOf(db)).toEqual([
      { id: 1, status: 'running', pid: PID, hostname: OTHER, madeBy: 'reconcile' },
    ]);

    // status names the same: no snapshot takes a pass's run up, and the next pass reads it.
    const shown = await runCli(['status', '--db', 'pass.db'], cliEnv(ws.env), ws.dir.path);
    expect(shown.stdout).toContain(
      `snapshot run 1 (a reconcile pass: the subaccounts' messages, not the parent's history)  running?  recorded running by pid ${PID} on ${OTHER} (the run began `,
    );
    expect(shown.stdout).toContain(
      'if it no longer runs (it was stopped, its machine or container is gone), `submigrate snapshot --take-over-run --db pass.db` abandons it (and goes on to a snapshot of its own, as `submigrate snapshot` does), and the next `submigrate reconcile --db pass.db` reads its span again',
    );
    const json = await runCli(['status', '--db', 'pass.db', '--json'], cliEnv(ws.env), ws.dir.path);
    expect(JSON.parse(json.stdout)).toMatchObject({
      snapshot: { state: 'elsewhere', reconcileRun: true, resumeArguments: null },
    });

    const taken = await snapshot(db, '--take-over-run');
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stderr).toContain(
      `snapshot: run 1 (recorded by pid ${PID} on ${OTHER}, another machine, taken over as --take-over-run asked: whether it still ran there could not be seen from here) is abandoned: none of its span counts as read, and the next \`submigrate reconcile\` reads it again.`,
    );
    expect(runsOf(db)).toMatchObject([
      { id: 1, status: 'abandoned', madeBy: 'reconcile' },
      { id: 2, status: 'completed', madeBy: 'snapshot' },
    ]);
  });
});
