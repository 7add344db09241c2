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

import type { ApplyInput } from '../../src/apply/apply-types.js';
import { runApply } from '../../src/apply/run-apply.js';
import { isoSeconds, systemClock, type Clock } from '../../src/clock.js';
import { withDb } from '../../src/db/open.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { readSealedPlan, serializePlan } from '../../src/plan/plan-file.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { useCliWorkspace } from '../support/migration.js';
import { MIGRATIONS_DIR, snapshotInto } from '../support/snapshot-harness.js';

const X = '+14155550131';
// The first apply runs on a machine the second cannot see (a container, say); its clock a
// little ahead, so that what it would record is told apart from the second's.
const FIRST = { pid: 4242, hostname: 'ops-container-3f2a', isAlive: () => true };
const SECOND = { pid: 4242, hostname: 'ops-laptop', isAlive: () => true };
const ahead: Clock = { now: () => new Date(systemClock.now().getTime() + 20_000) };

describe('an apply whose lock is taken over while it checks the routes after its steps', () => {
  const ws = useCliWorkspace();

  it('writes nothing more into the run the other apply finished', async () => {
    await ws.env.seed({
      numbers: [{ phone_number: X, sms_url: 'https://hooks.example/acme/sms' }],
      messages: [],
    });
    const dbPath = ws.dir.file('r.db');
    const loc = { path: dbPath, migrationsDir: MIGRATIONS_DIR, clock: systemClock };
    await snapshotInto(dbPath, ws.env.port(), systemClock);
    const mapping = parseMapping(
      'm.csv',
      `customer_id,customer_name,phone_number\nacme,Acme,${X}\n`,
    );
    const real = ws.env.port();
    const parent = real.parentAccountSid;
    const { plan } = await withDb(loc, (db) =>
      runPlan(
        { mapping, snapshot: false, credentials: 'auth-token' },
        { twilio: real, db, clock: systemClock, runner: FIRST },
      ),
    );
    const { integrity } = readSealedPlan('p.json', serializePlan(plan));
    const input: ApplyInput = {
      plan,
      planPath: 'p.json',
      planIntegrity: integrity,
      concurrency: 1,
      rate: 0,
      allowMissingSnapshot: false,
    };

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
