/**
 * A number whose transfer failed, moved by hand through X (a subaccount no mapping uses) into
 * Other (customer other's subaccount, which the passes read) as the transfer arrived, is judged
 * there once the family's messages show no stop-over (not-moved.ts, `withoutStopOver`). That
 * reading is kept (`transfer_failed_reads`, migration 035): a later pass that finds the number
 * there as before reads the family only from the first pass on, and not at all once a reading
 * reached more than Twilio's longest validity period (10 hours) past its arrival there; a send
 * of it elsewhere in those hours, or a move since, is still named. Setup by the built CLI on
 * the real clock; the passes run in this process on a clock hours or days later (the
 * emulator's moved on with it for what happens between them), real SDK, emulator over HTTP,
 * SQLite file.
 */

import { describe, expect, it } from 'vitest';

import { withDb } from '../../src/db/open.js';
import { listViolations, reconcileTotals } from '../../src/db/reconcile.js';
import { transferFailedReads } from '../../src/db/update-checks.js';
import { failsOnViolation } from '../../src/reconcile/result.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
import {
  clearRequestLog,
  inbound,
  moveNumberByHand,
  ownClient,
  requestLog,
} from '../support/emulator.js';
import { useCliWorkspaceEach } from '../support/migration.js';
import { fixedClock, MIGRATIONS_DIR, TEST_RUNNER } from '../support/snapshot-harness.js';
import { A, movedByHandDuringApply, R1 } from '../support/transfer-failed.js';

const R2 = '+12065550802';
const DAY = 86_400_000;
const day = (ms: number) => Math.floor(ms / DAY);

describe('reconcile keeps the family read of a number whose transfer failed', () => {
  // The emulator's clock runs `ahead` of the real one: moved on to the days between passes.
  let ahead = 0;
  const ws = useCliWorkspaceEach(undefined, { now: () => Date.now() + ahead });
  const db = () => ws.dir.file('r.db');

  /** A pass at `at`: its result, and whether --fail-on-violation would exit 3. */
  const passAt = (at: number) => {
    const clock = fixedClock(at);
    return withDb({ path: db(), migrationsDir: MIGRATIONS_DIR, clock }, async (d) => {
      const result = await runReconcile(
        { since: null },
        { twilio: ws.env.port(), db: d, clock, runner: TEST_RUNNER },
      );
      return {
        result,
        violations: listViolations(d).length,
        exit3: failsOnViolation(result, reconcileTotals(d).violations),
        kept: transferFailedReads(d),
      };
    });
  };

  /**
   * A send of A's to R1 (who said STOP to it in the parent) queued in X on A's way through, that
   * Twilio dates when it left its queue, at `at` (ms).
   */
  const queuedInX = (x: string, at: number) =>
    ws.env.seed({
      messages: [
        {
          from: A,
          to: R1,
          body: 'Sale!',
          direction: 'outbound-api',
          date_sent: new Date(at).toISOString(),
          account_sid: x,
        },
      ],
    });

  /** A moved through X into Other as its transfer arrived, sending nothing from X. */
  const throughX = async () => {
    ahead = 0;
    const x = (await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'X' })).sid;
    const setup = await movedByHandDuringApply(
      ws,
      db(),
      (s) => s.other,
      true,
      R2,
      async (p, i) => {
        await moveNumberByHand(ws.env, A, p, x);
        await moveNumberByHand(ws.env, A, x, i);
      },
    );
    expect(setup.applied.code, setup.applied.stderr).toBe(3);
    return { ...setup, x };
  };

  /**
   * The first day each listing of A's own messages (`From` or `To` it, in any account) asked
   * for: the family's reading (a pass reads the subaccounts it holds every message of).
   */
  const readsOfA = async () =>
    (await requestLog(ws.env))
      .filter((r) => r.method === 'GET' && r.path.endsWith('/Messages.json'))
      .map((r) => new URLSearchParams(r.query))
      .filter((q) => [q.get('From'), q.get('To')].some((a) => a?.endsWith(A) === true))
      .map((q) => Date.parse(q.get('DateSent>')!));

  it("a pass after one that read well past the longest a send waits in Twilio's queue reads nothing again: same result", async () => {
    await throughX();
    const first = Date.now() + 3 * DAY;
    await clearRequestLog(ws.env);
    const one = await passAt(first);
    expect(one.exit3).toBe(false);
    expect(one.result).toMatchObject({ newViolations: 0, notChecked: [] });
    const firstReads = await readsOfA();
    expect(firstReads.length).toBeGreaterThan(0);
    // From the run's day: the whole span, once.
    expect(Math.min(...firstReads)).toBeLessThan(first - 2 * DAY);
    expect(one.kept).toEqual([
      expect.objectContaining({ readUpTo: iso(first), requests: firstReads.length }),
    ]);

    await clearRequestLog(ws.env);
    const two = await passAt(Date.now() + 6 * DAY);
    expect(two.exit3).toBe(false);
    expect(two.result).toMatchObject({ newViolations: 0, notChecked: [] });
    expect(two.violations).toBe(one.violations);
    // A has been in Other since three days before the first pass read: nothing to read again.
    expect(await readsOfA()).toEqual([]);
    expect(two.kept).toEqual(one.kept);
  }, 90_000);

  it('a pass within hours of the move vouches for that far; the next reads on from there, and the one after reads nothing', async () => {
    await throughX();
    const first = Date.now() + 3_600_000;
    expect((await passAt(first)).exit3).toBe(false);

    // Three days on: a send of A's queued elsewhere before it came into Other could still have
    // gone out after the first pass (Twilio keeps one queued up to 10 hours): read from then.
    await clearRequestLog(ws.env);
    const second = Date.now() + 3 * DAY;
    const two = await passAt(second);
    expect(two.exit3).toBe(false);
    expect(two.result).toMatchObject({ newViolations: 0, notChecked: [] });
    const secondReads = await readsOfA();
    expect(secondReads.length).toBeGreaterThan(0);
    for (const from of secondReads) expect(day(from)).toBe(day(first - 120_000));
    expect(two.kept).toEqual([
      expect.objectContaining({ readUpTo: iso(second), requests: secondReads.length }),
    ]);

    await clearRequestLog(ws.env);
    const three = await passAt(Date.now() + 6 * DAY);
    expect(three.result).toMatchObject({ newViolations: 0, notChecked: [] });
    expect(await readsOfA()).toEqual([]);
  }, 90_000);

  it('a send of it queued in X, gone out hours after a first pass within hours of the move: named by the next', async () => {
    const { x } = await throughX();
    const first = Date.now() + 3_600_000;
    expect((await passAt(first)).exit3).toBe(false);
    // Queued in X on its way through, to R1, who said STOP to it in the parent; Twilio dates a
    // send when it leaves its queue: four hours after the first pass.
    await queuedInX(x, first + 4 * 3_600_000);
    const two = await passAt(Date.now() + 3 * DAY);
    expect(two.exit3).toBe(true);
    expect(two.result.notChecked).toEqual([
      expect.objectContaining({ reason: 'number-away', phoneNumber: A }),
    ]);
  }, 90_000);

  it("a reading kept by a pass whose clock ran days ahead stands for nothing once a pass's clock is behind it: a send queued in X, gone out after, named", async () => {
    const { x } = await throughX();
    // This machine's clock three days ahead for the first pass (Twilio's, the emulator's, is
    // not): its reading is kept as read up to three days on, past the longest a send waits.
    const real = Date.now();
    expect((await passAt(real + 3 * DAY)).exit3).toBe(false);
    // Queued in X on its way through, to R1, who said STOP to it in the parent: it goes out
    // four hours after the move, after the first pass read (really).
    await queuedInX(x, real + 4 * 3_600_000);
    // The clock put right: the next pass, a day on, is two days behind the first.
    const two = await passAt(real + DAY);
    expect(two.exit3).toBe(true);
    expect(two.result.notChecked).toEqual([
      expect.objectContaining({ reason: 'number-away', phoneNumber: A }),
    ]);
  }, 90_000);

  it('moved through X again after the first pass, R2 said STOP to it there and it texted R1: named by the second', async () => {
    const { x, other } = await throughX();
    const first = Date.now() + 3 * DAY;
    expect((await passAt(first)).exit3).toBe(false);
    // The next day by the emulator's clock: out of Other into X and back.
    ahead = 4 * DAY;
    await moveNumberByHand(ws.env, A, other, x);
    await inbound(ws.env, { from: R2, to: A, body: 'STOP' });
    const sent = await ownClient(ws.env, x).messages.create({ to: R1, from: A, body: 'Sale!' });
    expect(sent.status).not.toBe('failed');
    await moveNumberByHand(ws.env, A, x, other);
    const two = await passAt(Date.now() + 6 * DAY);
    expect(two.exit3).toBe(true);
    expect(two.result.notChecked).toEqual([
      expect.objectContaining({ accountSid: other, reason: 'number-away', phoneNumber: A }),
    ]);
  }, 90_000);
});

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
