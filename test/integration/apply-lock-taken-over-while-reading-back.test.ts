/**
 * An apply whose lock another apply takes over with --take-over-lock (its renewals stopped for
 * 30 s: its machine suspended) after its steps were sent, while it checks the moved numbers'
 * routes. The other apply takes the run up, finds every step done, checks the routes itself,
 * marks the run completed. The first then resumed: it used to record its own route check
 * over the finished run's (made later, by an apply that no longer held the run: what
 * `status`, `routes` and `report --run` show of the run), and any note it told from then on
 * went into the run too (only marking the run finished was refused). It now writes nothing
 * more into the run: every note and the route check are written only while it holds the lock,
 * and it ends refused (exit 4 in the CLI), saying so. In-process (the take-over happens inside
 * the first apply's read of its subaccount), the real SDK against the emulator over HTTP, a
 * real SQLite file.
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { isoSeconds, systemClock, type Clock } from '../../src/clock.js';
import { withDb } from '../../src/db/open.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { useCliWorkspace } from '../support/migration.js';
import { FIRST, SECOND, planOneNumber } from '../support/two-machines.js';

const X = '+14155550131';
// The first apply's clock a little ahead, so that what it would record is told apart from the
// second's.
const ahead: Clock = { now: () => new Date(systemClock.now().getTime() + 20_000) };

describe('an apply whose lock is taken over while it checks the routes after its steps', () => {
  const ws = useCliWorkspace();

  it('writes nothing more into the run the other apply finished', async () => {
    const { loc, real, input } = await planOneNumber(
      ws,
      { phone_number: X, sms_url: 'https://hooks.example/acme/sms' },
      'r.db',
    );
    const parent = real.parentAccountSid;

    const runState = () =>
      withDb(loc, async (db) => ({
        run: db.prepare('SELECT status, notes_json AS notes FROM apply_runs WHERE id = 1').get(),
        checks: db
          .prepare(
            'SELECT number_sid, verdict, checked_at FROM route_checks WHERE run_id = 1 ORDER BY number_sid',
          )
          .all(),
        events: db.prepare('SELECT COUNT(*) AS n FROM apply_events WHERE run_id = 1').get(),
      }));

    // The route check reads the subaccount's numbers (nothing before it does): there, the
    // first apply's machine stalls, and the second takes its lock over and finishes the run.
    let finishedByOther: Awaited<ReturnType<typeof runState>> | undefined;
    const racing: TwilioPort = Object.create(real) as TwilioPort;
    racing.listPhoneNumbers = async (account) => {
      if (account !== parent && finishedByOther === undefined) {
        await withDb(loc, async (db) => {
          // Unrenewed for a minute: its machine stalled.
          const minuteAgo = isoSeconds(new Date(systemClock.now().getTime() - 60_000));
          db.prepare('UPDATE apply_lock SET renewed_at = ?').run(minuteAgo);
          const other = await runApply(
            { ...input, takeOverLock: true },
            { twilio: real, db, clock: systemClock, runner: SECOND, sleep: async () => {} },
          );
          expect(other).toMatchObject({ runId: 1, status: 'completed', resumed: true });
          expect(other.routes).toHaveLength(1);
        });
        finishedByOther = await runState();
      }
      return real.listPhoneNumbers(account);
    };

    let reported = false;
    const ended = await withDb(loc, (db) =>
      runApply(input, {
        twilio: racing,
        db,
        clock: ahead,
        runner: FIRST,
        sleep: async () => undefined,
        afterRun: () => (reported = true),
      }),
    ).then(
      () => null,
      (error: unknown) => error,
    );
    expect(finishedByOther).toMatchObject({ run: { status: 'completed' } });
    expect(finishedByOther!.checks).toHaveLength(1);
    // The run as the apply that finished it left it: its route check, its notes, its events.
    expect(await runState()).toEqual(finishedByOther);
    expect(reported).toBe(false);
    expect(String(ended)).toMatch(
      /apply run 1 stopped after its steps: another apply took its lock over .* It wrote nothing more into the run \(no note, no route check\), and did not mark it finished nor write its reports/,
    );
    await withDb(loc, async (db) => {
      expect(db.prepare('SELECT pid, hostname FROM apply_lock').get()).toBeUndefined();
    });
  }, 60_000);
});
