/**
 * An apply whose lock another apply took over with --take-over-lock while it was already
 * sending, after the intents of its last steps were written (sent, they finish; one whose
 * intent comes after the take-over is not sent at all: apply-stops-sending-lock-taken). It
 * leaves the run's reports to the apply that holds the lock (6088d81), and then ended
 * on a bug (`relative` given no folder: "please report"). It now tells what it did, and that
 * the reports are the other apply's, refused (exit 4). Built CLI,
 * emulator over HTTP.
 */

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startApplyHeldAtWrite } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550191', '+14155550192'];

describe('apply whose lock is taken over while it sends', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('tells what it did, and that the reports are the holder’s', async () => {
    const { env, dir } = ws;
    await planOneCustomer(ws, NUMBERS);
    // The subaccount created, the first transfer held.
    const apply = await startApplyHeldAtWrite(env, dir.path, 'a.plan.json', 'a.db', 1);
    // Meanwhile an apply on another machine takes the lock over (--take-over-lock), for run 1.
    const file = new Database(dir.file('a.db'));
    file
      .prepare(
        "UPDATE apply_lock SET pid = 4242, hostname = 'ops-container-3f2a', acquired_at = '2026-01-02T03:04:05Z'",
      )
      .run();
    file.close();
    await releaseHeld(env);
    const ended = await apply.done;

    expect(ended.stderr).not.toMatch(/please report|TypeError|ERR_INVALID_ARG_TYPE/);
    expect(ended.code, ended.stderr).toBe(4);
    expect(ended.stdout).toMatch(/^apply run 1: 3 steps: 3 done/m);
    expect(ended.stdout).not.toContain('Reports: reports/1/');
    expect(ended.stderr).toContain(
      'refused: the reports of apply run 1 are not written by this apply: another apply (pid 4242 on ops-container-3f2a) took its lock over with --take-over-lock while it ran, and writes them',
    );
  }, 90_000);
});
