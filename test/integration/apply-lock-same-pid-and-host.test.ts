/**
 * Two applies whose processes have the same pid on the same hostname: two containers of one
 * image (or of a compose file's `hostname:`, or Kubernetes pods with a fixed hostname), each
 * running node as pid 1 against one database file on a shared volume; or, after a reboot, an
 * apply given the pid of the one that held the lock before it. Named by pid and hostname alone,
 * each took the other's lock for its own: the second apply ran beside the first, sending every
 * write of the plan a second time. Each process takes the lock with a token of its own
 * (migration 033): the second is refused (exit 4), having sent nothing and begun no run, and
 * the first runs on. A lock of the same pid and host taken before the upgrade (no token) is
 * another's too: refused, and --take-over-lock takes it over only as it would another
 * machine's, once it is unrenewed. In-process, emulator over HTTP.
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { isoSeconds, systemClock } from '../../src/clock.js';
import { acquireLock, holdsLockNow, lockHolder } from '../../src/db/journal.js';
import { withDb } from '../../src/db/open.js';
import { RefusedError } from '../../src/errors.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { planOneNumber } from '../support/two-machines.js';

const X = '+14155550101';
const Y = '+14155550102';
const Z = '+14155550103';

/** Two containers of one image: node as pid 1 in each, the same hostname. */
const ONE = { pid: 1, hostname: 'submigrate', token: 'token-of-one', isAlive: () => true };
const TWO = { pid: 1, hostname: 'submigrate', token: 'token-of-two', isAlive: () => true };

const deps = (twilio: TwilioPort, db: Parameters<typeof holdsLockNow>[0], runner = ONE) => ({
  twilio,
  db,
  clock: systemClock,
  runner,
  sleep: async () => undefined,
});

describe('two applies under the same pid and hostname', () => {
  const ws = useCliWorkspace();

  it('the second, begun while the first runs, is refused and sends nothing', async () => {
    const { loc, real, input } = await planOneNumber(ws, { phone_number: X }, 's.db');
    const before = (await requestLog(ws.env)).length;

    // While the first apply reads the account, the second container applies the same plan.
    const racing: TwilioPort = Object.create(real) as TwilioPort;
    let second: unknown;
    let firstHeld: boolean | undefined;
    racing.listSubaccounts = async () => {
      if (second === undefined) {
        second = await withDb(loc, (db) => runApply(input, deps(real, db, TWO))).then(
          () => 'ran',
          (error: unknown) => error,
        );
        firstHeld = await withDb(loc, async (db) => holdsLockNow(db, ONE));
      }
      return real.listSubaccounts();
    };
    const first = await withDb(loc, (db) => runApply(input, deps(racing, db)));

    expect(second).toBeInstanceOf(RefusedError);
    expect((second as Error).message).toMatch(
      /^another apply holds this database \(pid 1 on submigrate, since .*\); pid 1 on submigrate is this process's own pid and hostname, but the lock is another process's/,
    );
    expect(firstHeld).toBe(true);
    expect(first.status).toBe('completed');

    // Each write of the plan was sent once: the first apply's.
    const writes = (await requestLog(ws.env)).slice(before).filter((r) => r.method !== 'GET');
    const writesOnce = writes.map((r) => `${r.method} ${r.path}`);
    expect(writesOnce.length).toBeGreaterThan(0);
    expect(new Set(writesOnce).size).toBe(writesOnce.length);
    await withDb(loc, async (db) => {
      expect(db.prepare('SELECT COUNT(*) AS n FROM apply_runs').get()).toEqual({ n: 1 });
      // Let go by the first as it ended.
      expect(lockHolder(db)).toBeUndefined();
    });
  }, 60_000);

  it("a lock taken before the upgrade under this pid and host is another's", async () => {
    const { loc, real, input } = await planOneNumber(ws, { phone_number: Y }, 'o.db');
    const before = (await requestLog(ws.env)).length;
    // Written by a submigrate from before migration 033 (no token): pid 1 on this hostname,
    // renewed now, as by an apply that still runs in the other container.
    const renewed = isoSeconds(systemClock.now());
    await withDb(loc, async (db) => {
      db.prepare(
        `INSERT INTO apply_lock (id, run_id, pid, hostname, acquired_at, renewed_at)
         VALUES (1, NULL, 1, 'submigrate', ?, ?)`,
      ).run(renewed, renewed);
    });

    const plain = withDb(loc, (db) => runApply(input, deps(real, db)));
    await expect(plain).rejects.toBeInstanceOf(RefusedError);
    await expect(plain).rejects.toThrow(/apply again with --take-over-lock/);
    // Renewed lately: --take-over-lock does not take it either.
    const takeOver = { ...input, takeOverLock: true };
    await expect(withDb(loc, (db) => runApply(takeOver, deps(real, db)))).rejects.toThrow(
      /renewed the lock \d+ s ago, at .*: it still runs there/,
    );
    const writes = (await requestLog(ws.env)).slice(before).filter((r) => r.method !== 'GET');
    expect(writes).toEqual([]);

    // Unrenewed for a minute: taken over, as another machine's would be, and said so.
    await withDb(loc, async (db) => {
      const minuteAgo = isoSeconds(new Date(systemClock.now().getTime() - 60_000));
      db.prepare('UPDATE apply_lock SET renewed_at = ?').run(minuteAgo);
    });
    const taken = await withDb(loc, (db) => runApply(takeOver, deps(real, db)));
    expect(taken.status).toBe('completed');
    expect(taken.notes[0]).toMatch(
      /^took over the lock of pid 1 on submigrate, this process's own pid and hostname but another process's lock \(another container sharing the hostname, or a process from before a restart\), as --take-over-lock asked \(whether it still ran could not be seen from here\)/,
    );
  }, 60_000);

  it("the first does not take the second's lock for its own once the second took it over", async () => {
    const { loc } = await planOneNumber(ws, { phone_number: Z }, 't.db');
    await withDb(loc, async (db) => {
      expect(acquireLock(db, ONE, '2026-01-01T00:00:00Z').acquired).toBe(true);
      // Renewed a minute before the second looks: the first's container stalled.
      expect(acquireLock(db, TWO, '2026-01-01T00:00:20Z')).toMatchObject({ acquired: false });
      const took = acquireLock(db, TWO, '2026-01-01T00:01:00Z', true);
      expect(took).toMatchObject({ acquired: true, tookOverFrom: { pid: 1, token: ONE.token } });
      expect(holdsLockNow(db, ONE)).toBe(false);
      expect(holdsLockNow(db, TWO)).toBe(true);
      // The first comes back and asks again: the lock is the second's, renewed lately.
      expect(acquireLock(db, ONE, '2026-01-01T00:01:05Z')).toMatchObject({ acquired: false });
      expect(lockHolder(db)).toMatchObject({ token: TWO.token });
    });
  }, 60_000);
});
