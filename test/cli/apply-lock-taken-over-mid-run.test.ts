/**
 * An apply whose lock another apply took over with --take-over-lock while it was already
 * sending, after its last step was sent (one whose intent or request comes after the take-over
 * is not sent at all: apply-stops-sending-lock-taken). It leaves the run's reports to the apply
 * that holds the lock (6088d81), and then ended on a bug (`relative` given no folder: "please
 * report"). It then still read the numbers' history back, checked their routes and marked the
 * run finished (`completed`), a run the apply that took it over had taken up again and was
 * running: `status` showed it ended while the other still sent, and that apply's own end was
 * written over. It now stops once its steps are sent: the run stays `running` for the holder,
 * and it tells what it did, refused (exit 4). The holder then finishes the run and writes its
 * reports. Built CLI, emulator over HTTP.
 */

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { finishByTakingOver, takeLockOver } from '../support/apply-lock.js';
import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startApplyHeldAtWrite } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550191', '+14155550192'];

const runRow = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare('SELECT status, finished_at AS finishedAt FROM apply_runs WHERE id = 1')
      .get();
  } finally {
    db.close();
  }
};

describe('apply whose lock is taken over while it sends', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('stops after its last step: the run is left running for the holder, which finishes it', async () => {
    const { env, dir, cli } = ws;
    await planOneCustomer(ws, NUMBERS);
    // The subaccount created, the first transfer sent, the last held. Its answer comes after
    // the take-over: not recorded, it stays in flight for the holder, which settles it from
    // Twilio's state. (Taken over after the last answer: apply-lock-taken-over-while-reading-back.)
    const apply = await startApplyHeldAtWrite(env, dir.path, 'a.plan.json', 'a.db', 2);
    // Meanwhile an apply on another machine takes the lock over (--take-over-lock), for run 1.
    takeLockOver(dir.file('a.db'));
    await releaseHeld(env);
    const ended = await apply.done;

    expect(ended.stderr).not.toMatch(/please report|TypeError|ERR_INVALID_ARG_TYPE/);
    expect(ended.code, ended.stderr).toBe(4);
    expect(ended.stdout).not.toContain('Reports: reports/1/');
    expect(ended.stderr).toContain(
      'refused: apply run 1 stopped sending: another apply (pid 4242 on ops-container-3f2a) took its lock over with --take-over-lock while it ran',
    );
    expect(ended.stderr).toContain(
      'This one sent no step after that: 2 done, 0 skipped, 0 failed, 1 in flight',
    );
    expect(ended.stderr).toContain(
      "It did not read the numbers' history back, check their routes, mark the run finished nor write its reports",
    );
    // The run is the holder's, running: not marked finished by this apply.
    expect(runRow(dir.file('a.db'))).toEqual({ status: 'running', finishedAt: null });

    // The holder (here: this machine under the other's name, its lock a minute unrenewed)
    // finishes it, and writes its reports.
    const finished = await finishByTakingOver(cli, dir.file('a.db'));
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout).toMatch(/^apply run 1 \(continued\)/m);
    expect(finished.stdout).toContain('reports/1/');
    expect(runRow(dir.file('a.db'))).toMatchObject({ status: 'completed' });
  }, 90_000);
});
