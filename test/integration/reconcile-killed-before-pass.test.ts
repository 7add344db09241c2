/**
 * A reconcile process killed after its pass has read the subaccounts, before the pass is
 * recorded: the pass's run (a snapshot run of the subaccounts) is finished in the transaction
 * that records the pass, so no run is left completed with no pass — `status` would show such a
 * run as a completed snapshot, not as a reconcile pass that read the subaccounts alone. Nothing
 * counts the pass: `report` still says reconcile has not run, and the next pass reads the same
 * span and finds the violation. The kill is a trigger in the real database file that aborts the
 * pass's insert, as a process dying there leaves it (built CLI, emulator over HTTP).
 */

import { readFileSync } from 'node:fs';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { migrateAcmeThenText, seededStop, useCliWorkspace } from '../support/migration.js';
import { readOnly } from '../support/snapshot-harness.js';

const A = '+14155550611';
const R1 = '+12065550211';

describe('reconcile killed before its pass is recorded', () => {
  // On the real clock: the send after the move is dated after it.
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A, sms_url: 'https://app.example/a' }],
    messages: [seededStop(R1, A, Date.now() - 20 * 86_400_000)],
  });
  const { cli } = ws;
  const db = () => ws.dir.file('c.db');
  const withFile = (fn: (d: Database.Database) => void) => {
    const d = new Database(db());
    try {
      fn(d);
    } finally {
      d.close();
    }
  };

  it('leaves no completed run without its pass; status, report and the next pass say so', async () => {
    // A send to someone on acme's list, after the move: a violation.
    await migrateAcmeThenText(ws, db(), A, R1);
    const runsBefore = readOnly(db(), (d) =>
      d.prepare('SELECT MAX(id) FROM snapshot_runs').pluck().get(),
    ) as number;

    withFile((d) =>
      d.exec(
        `CREATE TRIGGER killed BEFORE INSERT ON reconcile_passes
         BEGIN SELECT RAISE(ABORT, 'killed before the pass was recorded'); END`,
      ),
    );
    const killed = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(killed.code).toBe(1);
    expect(killed.stderr).toContain('killed before the pass was recorded');
    withFile((d) => d.exec('DROP TRIGGER killed'));

    // The pass's run was made (its evidence is in the ledger), but not completed without it.
    const runs = readOnly(db(), (d) =>
      d
        .prepare(
          `SELECT id, status, id IN (SELECT snapshot_run_id FROM reconcile_passes) AS pass,
                  made_by AS madeBy
           FROM snapshot_runs WHERE id > ?`,
        )
        .all(runsBefore),
    ) as { id: number; status: string; pass: number; madeBy: string }[];
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run.pass).toBe(0);
    // Recorded as reconcile's when it was made: status reads that, not the run's shape.
    expect(run.madeBy).toBe('reconcile');

    // status does not show it as a completed snapshot run, nor as a stopped snapshot that
    // `snapshot` takes up (that command abandons it: it was for the subaccounts alone), but as
    // a reconcile pass that recorded nothing, which `reconcile` runs again.
    const status = await cli(['status', '--db', db()]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).not.toMatch(new RegExp(`^snapshot run ${run.id} {2}completed`, 'm'));
    expect(run.status).not.toBe('completed');
    expect(status.stdout).toContain(
      `snapshot run ${run.id} (a reconcile pass, not recorded: the subaccounts' messages, not the parent's history)  stopped`,
    );
    expect(status.stdout).toMatch(
      /recorded no pass: .*`submigrate reconcile --db \S+` runs the pass again/,
    );
    expect(status.stdout).not.toContain('submigrate snapshot');
    const json = await cli(['status', '--db', db(), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      snapshot: {
        id: run.id,
        state: 'stopped',
        madeBy: 'reconcile',
        reconcilePass: null,
        reconcileRun: true,
        resumeArguments: null,
      },
    });

    // No pass counted: the report says reconcile has not run.
    const report = await cli(['report', '--db', db(), '--out', ws.dir.file('r')]);
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(ws.dir.file('r/report.html'), 'utf8')).toContain(
      'Reconcile has not run for this database',
    );
    expect(
      readOnly(db(), (d) => d.prepare('SELECT COUNT(*) FROM reconcile_passes').pluck().get()),
    ).toBe(0);

    // The next pass is pass 1, reads the same span and finds the violation.
    const again = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(again.code, again.stderr).toBe(3);
    expect(again.stdout).toMatch(/^reconcile pass 1: .*: 1 new violation\(s\)/m);
    // It abandons the killed pass's run (its process is gone: nothing takes it up), and says
    // so, rather than leave it recorded running until a snapshot abandons it.
    expect(again.stderr).toMatch(
      new RegExp(
        `^reconcile: run ${run.id}, a reconcile pass's that stopped before it recorded its pass \\(pid \\d+\\), is abandoned: no pass takes it up`,
        'm',
      ),
    );
    expect(
      readOnly(db(), (d) =>
        d.prepare('SELECT status FROM snapshot_runs WHERE id = ?').pluck().get(run.id),
      ),
    ).toBe('abandoned');
    const after = await cli(['status', '--db', db()]);
    expect(after.stdout).toMatch(/\(reconcile pass 1: the subaccounts' messages/);
    // The pass after it has nothing left to abandon.
    expect(JSON.parse((await cli(['reconcile', '--db', db(), '--json'])).stdout)).toMatchObject({
      passId: 2,
      abandonedPassRuns: [],
    });

    // Every run says which command made it: the snapshot, the plan's refresh, apply's read up
    // to the moves, the killed pass and the pass after it.
    expect(
      readOnly(db(), (d) =>
        d.prepare('SELECT made_by FROM snapshot_runs ORDER BY id').pluck().all(),
      ),
    ).toEqual(['snapshot', 'plan', 'apply', 'reconcile', 'reconcile', 'reconcile']);

    // Nothing is left running for the next snapshot to abandon (a snapshot that finds such a
    // run abandons it and says so: reconcile-killed-snapshot-behind).
    const snapshot = await cli(['snapshot', '--db', db()]);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(snapshot.stderr).not.toContain('is abandoned');
  });
});
