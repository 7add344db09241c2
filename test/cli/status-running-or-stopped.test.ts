/**
 * `status` while an apply is running, and after it was killed: the journal says `running` in
 * both cases. An engineer in the maintenance window must tell a run that is going on (another
 * process holds the apply lock) from one whose process is gone and that nobody will finish
 * until `apply` is run again.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace, type CliWorkspace } from '../support/migration.js';
import {
  killApplyAtHeldWrite,
  releaseHeld,
  startApplyHeldAtWrite,
  startCliHeld,
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

    const apply = await startApplyHeldAtWrite(ws.env, ws.dir.path, plan, db(), 1, ['POST']);

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
    // The command that continues it, whole: which plan file, and which database.
    expect(stopped.stdout).toContain(
      `no process is running it: \`submigrate apply m.plan.json --db ${db()}\` (m.plan.json as its apply named its plan) continues it`,
    );
    // Its step left in flight is no longer being sent: the listing says what becomes of it.
    // In apply's words ("in flight", "not run"), not the journal's: --json keeps those.
    const inFlight = Number(
      /^run 1 {2}stopped .*\((?:.*, )?(\d+) in flight[,)]/.exec(stopped.stdout)?.[1],
    );
    expect(inFlight).toBeGreaterThan(0);
    expect(stopped.stdout).not.toMatch(/in_flight|not_run|pending/);
    const steps = await cli(['status', '--db', db(), '--run', '1']);
    expect(steps.stdout).not.toMatch(/in_flight|not_run|pending/);
    // A number's step says which number: its id names it by its SID alone.
    expect(steps.stdout).toMatch(
      new RegExp(`^  transfer_number:PN[0-9a-f]{32} \\(\\${N1}\\)  attempts`, 'm'),
    );
    expect(steps.stdout).toMatch(/^  create_subaccount:acme  attempts/m);
    const stepsJson = JSON.parse(
      (await cli(['status', '--db', db(), '--run', '1', '--json'])).stdout,
    ) as {
      runs: { counts: Record<string, number> }[];
      steps: { state: string; stepId: string; phoneNumber: string | null }[];
    };
    expect(
      stepsJson.steps
        .filter((s) => s.stepId.startsWith('transfer_number:'))
        .map((s) => s.phoneNumber)
        .sort(),
    ).toEqual([N1, N2]);
    expect(stepsJson.runs[0]?.counts['in_flight']).toBe(inFlight);
    expect(stepsJson.steps.filter((s) => s.state === 'in_flight')).toHaveLength(inFlight);
    expect(steps.stdout).toMatch(
      /^in flight \(\d+\): begun by the apply that stopped, whether Twilio took them not known: an apply that continues the run settles each from Twilio's state first, never sends one blind$/m,
    );

    // A plan made again and applied is another run: the stopped one is no longer continued.
    const again = ws.dir.file('m2.plan.json');
    await makePlan(cli, { mapping: ws.dir.file('m.csv'), db: db(), out: again });
    const applied = await cli(['apply', again, '--db', db(), '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    const superseded = await cli(['status', '--db', db()]);
    expect(superseded.stdout).toMatch(
      /^run 1 {2}stopped .*run 2 \(another plan\) came after it: its steps left \(.*\) are never sent nor settled by any apply, since applying its plan no longer continues it; run 2 sent steps for its customers since/m,
    );
    const givenUp = await cli(['status', '--db', db(), '--run', '1']);
    expect(givenUp.stdout).not.toContain('an apply that continues the run');
    expect(givenUp.stdout).not.toContain('not sent yet');
    expect(superseded.stdout).not.toContain('as its apply named its plan) continues it');
    // Its reports say so too: they are the run part way, and no apply continues it.
    const report = await cli(['report', '--db', db(), '--run', '1', '--out', 'r1']);
    expect(report.stderr).toContain(
      'warning: apply run 1 stopped before it finished (no process is running it), and run 2 (another plan) came after it: these reports show it part way, not its result, and applying its plan no longer continues it',
    );
    expect(report.stderr).not.toContain('continues it and writes its reports');
    expect(report.code).toBe(3);
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
      /^run 1 {2}stopped .*`submigrate apply .*m\.plan\.json --db .*s\.db` \(.*m\.plan\.json as its apply named its plan\) continues it$/m,
    );
    expect(status.stdout).not.toContain('run 2 (another plan) came after it');
    const json = JSON.parse((await cli(['status', '--db', db(), '--json'])).stdout) as {
      runs: { followedBy: number | null }[];
    };
    expect(json.runs[0]?.followedBy).toBeNull();
  });
});

/**
 * An apply holds the lock from its start, and checks its plan against the live account (GET
 * only) before its run begins or resumes. Meanwhile `status` says what is going on: the run it
 * continues, running, or a new run starting; never an earlier run of another plan as if that
 * process were running it.
 */
describe('status while an apply checks its plan, before its run begins', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }, { phone_number: N2 }] }, NOW);
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');

  /** `apply PLAN` started and stopped at its second GET (its plan being checked). */
  async function applyHeldWhileChecking(plan: string) {
    const apply = await startCliHeld(
      ws.env,
      ['apply', plan, '--db', db(), '--rate', '1000'],
      ws.dir.path,
      { after: 1, methods: ['GET'] },
    );
    return {
      pid: apply.child.pid!,
      stop: async () => {
        apply.child.kill('SIGKILL');
        await apply.done;
        await releaseHeld(ws.env);
      },
    };
  }

  type Status = { runs: { run: { id: number }; process: { pid: number } | null }[] } & {
    starting: { pid: number } | null;
  };
  const status = async () => {
    const text = await cli(['status', '--db', db()]);
    expect(text.code, text.stderr).toBe(0);
    const json = JSON.parse((await cli(['status', '--db', db(), '--json'])).stdout) as Status;
    return { text: text.stdout, json };
  };

  it('names the new run starting, or the run it continues, by the process that holds the lock', async () => {
    const plan = await snapshotAndPlan(ws);

    // No run yet: not "No apply run yet", but an apply starting one.
    const first = await applyHeldWhileChecking(plan);
    const starting = await status();
    expect(starting.text).not.toContain('No apply run yet');
    expect(starting.text).toContain(`an apply is starting a new run: pid ${first.pid}`);
    expect(starting.json.starting?.pid).toBe(first.pid);
    await first.stop();
    // (The plan's snapshot run follows: `status` tells of the latest one too; and the lock the
    // killed apply left, which the next apply takes over.)
    expect((await status()).text).toMatch(
      new RegExp(
        `^No apply run yet\\.\\napply lock: held by pid ${first.pid} on [^\\n]* no run begun yet, [^\\n]*: dead-process, [^\\n]*\\nsnapshot run \\d+ \\(plan's refresh of the ledger: [^\\n]*\\) {2}completed [^\\n]*\\n$`,
      ),
    );

    // Run 1 begun and killed at its first write: stopped.
    const killed = await killApplyAtHeldWrite(ws.env, ws.dir.path, plan, db(), 1, ['POST']);
    expect(killed.signal).toBe('SIGKILL');
    await releaseHeld(ws.env);
    expect((await status()).text).toMatch(/^run 1 {2}stopped /);

    // The same plan applied again continues run 1: running, by that process, while it checks.
    const again = await applyHeldWhileChecking(plan);
    const continuing = await status();
    expect(continuing.text).toMatch(new RegExp(`^run 1 {2}running .*pid ${again.pid} `, 'm'));
    expect(continuing.text).not.toContain('starting a new run');
    expect(continuing.json.runs[0]?.process?.pid).toBe(again.pid);
    expect(continuing.json.starting).toBeNull();
    await again.stop();

    // Another plan: run 1 stays stopped, and a new run is starting.
    const other = ws.dir.file('m2.plan.json');
    await makePlan(cli, { mapping: ws.dir.file('m.csv'), db: db(), out: other });
    const fresh = await applyHeldWhileChecking(other);
    const beside = await status();
    expect(beside.text).toMatch(/^run 1 {2}stopped /);
    expect(beside.text.split('\n')[0]).not.toContain(`pid ${fresh.pid}`);
    expect(beside.text).toContain(`an apply is starting a new run: pid ${fresh.pid}`);
    expect(beside.json.runs[0]?.process).toBeNull();
    expect(beside.json.starting?.pid).toBe(fresh.pid);
    await fresh.stop();
  });
});

/**
 * A run that ended (completed, or failed with steps to try again) is continued by applying its
 * plan again: while that apply checks its plan, `status` names it by its process, as it does a
 * stopped run, rather than showing neither the run's process nor a run starting.
 */
describe('status while an apply continues a run that ended, before it resumes', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }, { phone_number: N2 }] }, NOW);
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');

  it('shows the run running, by the process that holds the lock', async () => {
    const plan = await snapshotAndPlan(ws);
    const applied = await cli(['apply', plan, '--db', db(), '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await cli(['status', '--db', db()])).stdout).toMatch(/^run 1 {2}completed /);

    const again = await startCliHeld(
      ws.env,
      ['apply', plan, '--db', db(), '--rate', '1000'],
      ws.dir.path,
      { after: 1, methods: ['GET'] },
    );
    try {
      const text = await cli(['status', '--db', db()]);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`^run 1 {2}running .*pid ${again.child.pid} `, 'm'));
      const json = JSON.parse((await cli(['status', '--db', db(), '--json'])).stdout) as {
        runs: { process: { pid: number } | null }[];
      };
      expect(json.runs[0]?.process?.pid).toBe(again.child.pid);
    } finally {
      again.child.kill('SIGKILL');
      await again.done;
      await releaseHeld(ws.env);
    }
  });
});

/**
 * A stopped run's steps that no request was sent for yet: the journal says `pending`, which
 * apply's summary never says; `status` and report.html name them as people read them, in the
 * order apply's summary gives states (in flight, then not sent yet).
 */
describe('status of a stopped run with steps not sent yet', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }, { phone_number: N2 }] }, NOW);
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');

  it('says "not sent yet", in status, status --run and report.html', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N1},acmeSvc\nacme,Acme,${N2},acmeSvc\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const plan = ws.dir.file('m.plan.json');
    await makePlan(cli, { mapping: ws.dir.file('m.csv'), db: db(), out: plan });
    // Killed at its second write, one at a time: the subaccount made, most steps still to send.
    const killed = await killApplyAtHeldWrite(ws.env, ws.dir.path, plan, db(), 1, ['POST']);
    expect(killed.signal).toBe('SIGKILL');
    await releaseHeld(ws.env);

    const json = JSON.parse(
      (await cli(['status', '--db', db(), '--run', '1', '--json'])).stdout,
    ) as {
      runs: { counts: Record<string, number> }[];
    };
    // --json keeps the journal's names, which scripts read.
    const { done, in_flight: inFlight, pending } = json.runs[0]!.counts;
    expect(inFlight).toBeGreaterThan(0);
    expect(pending).toBeGreaterThan(0);
    const stopped = await cli(['status', '--db', db()]);
    expect(stopped.stdout).toContain(
      `(${done} done, ${inFlight} in flight, ${pending} not sent yet)  no process is running it`,
    );
    expect(stopped.stdout).not.toContain('pending');
    const steps = await cli(['status', '--db', db(), '--run', '1']);
    expect(steps.stdout).toMatch(
      new RegExp(`\\nin flight \\(${inFlight}\\):[^]*\\nnot sent yet \\(${pending}\\):\\n {2}\\S`),
    );
    expect(steps.stdout).not.toContain('pending');

    const report = await cli(['report', '--db', db(), '--run', '1', '--out', 'r1']);
    expect(report.code, report.stderr).toBe(3);
    const page = readFileSync(join(ws.dir.path, 'r1', 'report.html'), 'utf8');
    expect(page).toContain('<td class="bad">not sent yet</td>');
    expect(page).not.toMatch(/<td[^>]*>(pending|in_flight|not_run)<\/td>/);
    // audit.csv keeps the journal's name.
    expect(readFileSync(join(ws.dir.path, 'r1', 'audit.csv'), 'utf8')).toContain(',pending,');
  });
});

/**
 * `report` and `routes` while the database's first apply checks its plan: there is no run
 * yet, and they said so with "`submigrate apply PLAN` makes one", as if nothing were under
 * way, leading the engineer to start a second apply beside the first. They name the apply
 * starting the run instead, as `status` does.
 */
describe('report and routes while the first apply checks its plan', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }, { phone_number: N2 }] }, NOW);
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');

  it('name the apply starting the first run, not "apply PLAN makes one"', async () => {
    const plan = await snapshotAndPlan(ws);
    const apply = await startCliHeld(
      ws.env,
      ['apply', plan, '--db', db(), '--rate', '1000'],
      ws.dir.path,
      { after: 1, methods: ['GET'] },
    );
    for (const command of ['report', 'routes']) {
      const said = await cli([command, '--db', db()]);
      expect(said.code, command).toBe(1);
      expect(said.stderr, command).toContain(
        `this database holds no apply run yet: an apply (pid ${apply.child.pid} on `,
      );
      expect(said.stderr, command).toContain('`submigrate status` shows when it begins');
      expect(said.stderr, command).not.toContain('makes one');
    }
    apply.child.kill('SIGKILL');
    await apply.done;
    await releaseHeld(ws.env);

    // Once it is gone, nothing is starting a run: the advice to apply a plan is right again.
    const after = await cli(['report', '--db', db()]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('`submigrate apply PLAN` makes one');
  });
});
