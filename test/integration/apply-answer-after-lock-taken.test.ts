/**
 * An apply whose transfer was on its way when another apply took its lock over with
 * --take-over-lock (its machine stalled past 30 s unrenewed), and whose answer came back only
 * after that apply had taken the run up, settled the transfer from Twilio's state (not done:
 * the number still in the parent), sent it itself and finished the run. The late answer is
 * Twilio's refusal of a request that landed after the number had left (simulated here: the
 * port throws it after the other apply has run). The first apply used to record it anyway:
 * the step `failed` over the `done` of the run the other apply had completed (`status`:
 * "completed … 1 failed"; the next apply sends the transfer again). A step's outcome is now
 * recorded only while the apply holds the lock (same transaction), as its intent is: it ends
 * refused, the run as the apply that finished it left it. In-process, the real SDK against
 * the emulator over HTTP, a real SQLite file.
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { isoSeconds, systemClock } from '../../src/clock.js';
import { withDb } from '../../src/db/open.js';
import { TwilioError } from '../../src/errors.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { useCliWorkspace } from '../support/migration.js';
import { FIRST, SECOND, planOneNumber } from '../support/two-machines.js';

const X = '+14155550141';

describe('an apply whose answer to a write comes back after its lock was taken over', () => {
  const ws = useCliWorkspace();

  it('does not record it over the run the other apply finished', async () => {
    const { loc, real, input } = await planOneNumber(ws, { phone_number: X }, 'o.db');
    const steps = () =>
      withDb(loc, async (db) => ({
        run: db.prepare('SELECT status FROM apply_runs WHERE id = 1').get(),
        steps: db
          .prepare('SELECT step_id, state FROM apply_steps WHERE run_id = 1 ORDER BY position')
          .all(),
      }));

    let finishedByOther: Awaited<ReturnType<typeof steps>> | undefined;
    const racing: TwilioPort = Object.create(real) as TwilioPort;
    racing.transferPhoneNumber = async () => {
      // On its way, the first apply's machine stalls; the other takes the run over and ends it.
      await withDb(loc, async (db) => {
        const minuteAgo = isoSeconds(new Date(systemClock.now().getTime() - 60_000));
        db.prepare('UPDATE apply_lock SET renewed_at = ?').run(minuteAgo);
        const other = await runApply(
          { ...input, takeOverLock: true },
          { twilio: real, db, clock: systemClock, runner: SECOND, sleep: async () => {} },
        );
        expect(other).toMatchObject({ runId: 1, status: 'completed', resumed: true });
      });
      finishedByOther = await steps();
      // Then the answer to the first apply's request, which landed after the number had left.
      throw new TwilioError({
        status: 400,
        code: 21452,
        message: 'The phone number is not in the account it is transferred from',
        retryable: false,
      });
    };

    const ended = await withDb(loc, (db) =>
      runApply(input, {
        twilio: racing,
        db,
        clock: systemClock,
        runner: FIRST,
        sleep: async () => undefined,
      }),
    ).then(
      () => null,
      (error: unknown) => error,
    );
    expect(finishedByOther?.run).toEqual({ status: 'completed' });
    expect(finishedByOther?.steps.every((s) => (s as { state: string }).state === 'done')).toBe(
      true,
    );
    // The run as the apply that finished it left it.
    expect(await steps()).toEqual(finishedByOther);
    expect(String(ended)).toMatch(/apply run 1 stopped sending: another apply took its lock over/);
  }, 60_000);
});
