/**
 * An apply whose lock another apply takes over with --take-over-lock (told that the first, on
 * another machine, no longer runs) while the first still checks its plan against the live
 * account: the first must not then begin its run beside the one that took the lock, sending
 * every write of the plan a second time. It is refused, having begun no run and written
 * nothing. (The first renews its lock while it runs, so --take-over-lock takes it only once it
 * went 30 s unrenewed: a machine stalled that long, here its renewal aged by hand.) In-process,
 * emulator over HTTP.
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { isoSeconds, systemClock } from '../../src/clock.js';
import { acquireLock } from '../../src/db/journal.js';
import { withDb } from '../../src/db/open.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { FIRST, SECOND, planOneNumber } from '../support/two-machines.js';

const X = '+14155550101';

describe('an apply whose lock is taken over while it checks its plan', () => {
  const ws = useCliWorkspace();

  it('begins no run and writes nothing', async () => {
    const { loc, real, input } = await planOneNumber(ws, { phone_number: X }, 'l.db');
    const before = (await requestLog(ws.env)).length;

    // While the first apply reads the account, the second takes its lock over.
    const racing: TwilioPort = Object.create(real) as TwilioPort;
    let taken = false;
    let reported = false;
    racing.listSubaccounts = async () => {
      if (!taken) {
        taken = true;
        await withDb(loc, async (db) => {
          // The first apply's lock went unrenewed for a minute (its machine stalled).
          const minuteAgo = isoSeconds(new Date(systemClock.now().getTime() - 60_000));
          db.prepare('UPDATE apply_lock SET renewed_at = ?').run(minuteAgo);
          const took = acquireLock(db, SECOND, isoSeconds(systemClock.now()), true);
          expect(took).toMatchObject({
            acquired: true,
            tookOverFrom: { hostname: FIRST.hostname },
          });
        });
      }
      return real.listSubaccounts();
    };
    await expect(
      withDb(loc, (db) =>
        runApply(input, {
          twilio: racing,
          db,
          clock: systemClock,
          runner: FIRST,
          sleep: async () => undefined,
          afterRun: () => (reported = true),
        }),
      ),
    ).rejects.toThrow(
      /another apply took this database's lock over while this one checked its plan \(pid 4242 on ops-laptop, with --take-over-lock\): .*began no run and wrote nothing/,
    );
    expect(taken).toBe(true);
    // The reports are the other apply's to write.
    expect(reported).toBe(false);

    const writes = (await requestLog(ws.env)).slice(before).filter((r) => r.method !== 'GET');
    expect(writes).toEqual([]);
    await withDb(loc, async (db) => {
      expect(db.prepare('SELECT COUNT(*) AS n FROM apply_runs').get()).toEqual({ n: 0 });
      // The lock is still the second apply's.
      expect(db.prepare('SELECT pid, hostname FROM apply_lock').get()).toEqual({
        pid: 4242,
        hostname: 'ops-laptop',
      });
    });
  }, 60_000);
});
