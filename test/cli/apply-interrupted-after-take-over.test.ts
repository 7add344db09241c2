/**
 * Ctrl-C during `apply --take-over-lock` while it still checks the plan, before its run began:
 * it said the journal was as it was, but the lock it had taken over from an apply on another
 * machine was left naming this stopped process, so the next `apply` on this machine (without
 * --take-over-lock) took it over as a dead process's and ran, beside the other machine's apply
 * should it still run there (the reason to stop it, often). Now the lock goes back to the apply
 * it was taken from; the next apply is refused as before, and the notice names the
 * --take-over-lock that runs it again. Built CLI, emulator over HTTP.
 */

import { describe, expect, it } from 'vitest';

import { holdLock, OTHER_MACHINES_LOCK, readLock } from '../support/apply-lock.js';
import { requestLog } from '../support/emulator.js';
import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startCliHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550171', '+14155550172'];
const OTHER = OTHER_MACHINES_LOCK;

describe('apply --take-over-lock stopped before its run began', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it("gives the other machine's apply its lock back", async () => {
    const { env, cli, dir } = ws;
    await planOneCustomer(ws, NUMBERS);
    // An apply on another machine holds the lock (the database is shared, or was copied here).
    holdLock(dir.file('a.db'));
    await env.control('DELETE', '/__emulator/requests');

    // Its second read of the account (the drift check) held: the lock taken, no run begun yet.
    const args = ['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000', '--take-over-lock'];
    const apply = await startCliHeld(env, args, dir.path, { after: 1, methods: ['GET'] });
    apply.child.kill('SIGINT');
    const stopped = await apply.done;
    await releaseHeld(env);

    expect(stopped.signal).toBe('SIGINT');
    expect(stopped.stderr).toBe(
      'apply: stopped by SIGINT before it began its run, while it checked the plan against the live account: it had sent Twilio only reads, so nothing was changed there, and the journal is as it was (the lock it took over is given back to pid 4242 on ops-container-3f2a, another machine). `submigrate apply a.plan.json --db a.db --take-over-lock` runs it again once that apply no longer runs there.\n',
    );
    expect((await requestLog(env)).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(readLock(dir.file('a.db'))).toEqual(OTHER);

    // Without --take-over-lock, the other machine's apply still holds the database.
    const refused = await cli(['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000']);
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.stderr).toMatch(
      /^refused: another apply holds this database \(pid 4242 on ops-container-3f2a/,
    );
    expect((await requestLog(env)).filter((r) => r.method !== 'GET')).toEqual([]);
  }, 90_000);
});
