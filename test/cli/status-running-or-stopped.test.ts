/**
 * `status` while an apply is running, and after it was killed: the journal says `running` in
 * both cases. An engineer in the maintenance window must tell a run that is going on (another
 * process holds the apply lock) from one whose process is gone and that nobody will finish
 * until `apply` is run again.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace, type CliWorkspace } from '../support/migration.js';
import {
  cliEnv,
  killApplyAtHeldWrite,
  pollUntil,
  releaseHeld,
  startCli,
} from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';
const N2 = '+14155550102';

/** The mapping (acme: N1, N2) written, a snapshot, and its plan (m.plan.json) made. */
async function snapshotAndPlan(ws: CliWorkspace): Promise<string> {
  writeFileSync(
    ws.dir.file('m.csv'),
    `customer_id,customer_name,phone_number\nacme,Acme,${N1}\nacme,Acme,${N2}\n`,
  );
  const db = ws.dir.file('s.db');
  expect((await ws.cli(['snapshot', '--db', db])).code).toBe(0);
  const plan = ws.dir.file('m.plan.json');
  await makePlan(ws.cli, { mapping: ws.dir.file('m.csv'), db, out: plan });
  return plan;
}

describe('status of a run whose apply is running, then killed', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }, { phone_number: N2 }] }, NOW);
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');

  it('says running with the process while it runs, and stopped once it is gone', async () => {
    const plan = await snapshotAndPlan(ws);

    await ws.env.control('POST', '/__emulator/faults', {
      hold_after: 1,
      hold_methods: ['POST'],
    });
    const apply = startCli(
      ['apply', plan, '--db', db(), '--rate', '1000', '--concurrency', '1'],
      cliEnv(ws.env),
      ws.dir.path,
    );
    await pollUntil('a write to be held', async () => {
      if (apply.child.exitCode !== null) throw new Error('apply ended before the hold');
      const health = await ws.env.control<{ held_requests: number }>('GET', '/__emulator/health');
      return health.held_requests > 0 ? true : undefined;
    });

    const running = await cli(['status', '--db', db()]);
    expect(running.code, running.stderr).toBe(0);
    expect(running.stdout).toMatch(/^run 1 {2}running /);
    expect(running.stdout).toContain(`pid ${apply.child.pid}`);
    const json = JSON.parse((await cli(['status', '--db', db(), '--json'])).stdout) as {
      runs: { process: { pid: number } | null }[];
    };
    expect(json.runs[0]?.process?.pid).toBe(apply.child.pid);

    apply.child.kill('SIGKILL');
    expect((await apply.done).signal).toBe('SIGKILL');
    await releaseHeld(ws.env);

    const stopped = await cli(['status', '--db', db()]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/^run 1 {2}stopped /);
    expect(stopped.stdout).toContain('no process is running it');
    const after = JSON.parse((await cli(['status', '--db', db(), '--json'])).stdout) as {
      runs: { run: { status: string }; process: unknown }[];
    };
    expect(after.runs[0]?.run.status).toBe('running');
    expect(after.runs[0]?.process).toBeNull();
    expect(stopped.stdout).toContain('`submigrate apply` with the plan continues it');

    // A plan made again and applied is another run: the stopped one is no longer continued.
    const again = ws.dir.file('m2.plan.json');
    await makePlan(cli, { mapping: ws.dir.file('m.csv'), db: db(), out: again });
    const applied = await cli(['apply', again, '--db', db(), '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    const superseded = await cli(['status', '--db', db()]);
    expect(superseded.stdout).toMatch(/^run 1 {2}stopped .*run 2 \(another plan\) came after it$/m);
    expect(superseded.stdout).not.toContain('with the plan continues it');
    const last = JSON.parse((await cli(['status', '--db', db(), '--json'])).stdout) as {
      runs: { followedBy: number | null }[];
    };
    expect(last.runs.map((r) => r.followedBy)).toEqual([2, null]);
  });
});

/**
 * `status` names the run that came after a stopped one only when that run changed something:
 * a run of another plan refused before its first step (its reports folder is someone else's)
 * wrote nothing, and the stopped run is still continued by applying its plan again.
 */
describe('status of a stopped run that a refused run of another plan came after', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }, { phone_number: N2 }] }, NOW);
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');

  it('still says that applying its plan continues it', async () => {
    const plan = await snapshotAndPlan(ws);

    const killed = await killApplyAtHeldWrite(ws.env, ws.dir.path, plan, db(), 1, ['POST']);
    expect(killed.signal).toBe('SIGKILL');
    await releaseHeld(ws.env);

    // Another plan, whose run's reports folder holds a file of someone else's: refused before
    // its first step, it changed nothing.
    const again = ws.dir.file('m2.plan.json');
    await makePlan(cli, { mapping: ws.dir.file('m.csv'), db: db(), out: again });
    mkdirSync(join(ws.dir.path, 'reports', '2'), { recursive: true });
    writeFileSync(join(ws.dir.path, 'reports', '2', 'notes.txt'), 'mine\n');
    const refused = await cli(['apply', again, '--db', db(), '--rate', '1000']);
    expect(refused.code).not.toBe(0);

    const status = await cli(['status', '--db', db()]);
    expect(status.stdout).toMatch(
      /^run 1 {2}stopped .*`submigrate apply` with the plan continues it$/m,
    );
    expect(status.stdout).not.toContain('run 2 (another plan) came after it');
    const json = JSON.parse((await cli(['status', '--db', db(), '--json'])).stdout) as {
      runs: { followedBy: number | null }[];
    };
    expect(json.runs[0]?.followedBy).toBeNull();
  });
});
