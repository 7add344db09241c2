/**
 * `apply --take-over-lock` that ends before its run began gives the lock back to the other
 * machine's apply (apply-refused-after-take-over, apply-interrupted-after-take-over). When that
 * write fails (the full disk that stopped the run, a database another process keeps busy):
 * - refused (exit 4), it said nothing of the lock and deleted it, so the next plain apply found
 *   no lock at all and ran, beside that apply should it still run there;
 * - stopped by Ctrl-C, the failure replaced the whole notice: it said nothing at all.
 * Now the refusal is told first, the failure beneath it, and the lock is left as this apply
 * took it; the Ctrl-C notice is said, with the failure in it. The failing write is made real
 * by a trigger on the database's apply_lock that aborts the give-back's UPDATE alone (the
 * take-over's and the release's writes go through), with SQLite's own full-disk words.
 * Built CLI, emulator over HTTP, a real SQLite file.
 */

import { hostname } from 'node:os';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { holdLock, OTHER_MACHINES_LOCK, readLock } from '../support/apply-lock.js';
import { requestLog } from '../support/emulator.js';
import { authTokens, planOneCustomer, useCliWorkspaceEach } from '../support/migration.js';
import { releaseHeld, startCliHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550191', '+14155550192'];
const OTHER = OTHER_MACHINES_LOCK;
const NOT_GIVEN_BACK =
  'also: the lock this apply took over with --take-over-lock could not be given back to pid 4242 on ops-container-3f2a (another machine): database or disk is full.';

/** The give-back (this host's lock made the other machine's again) fails as on a full disk. */
function failGiveBack(path: string): void {
  const db = new Database(path);
  try {
    db.exec(`CREATE TRIGGER give_back_fails BEFORE UPDATE ON apply_lock
      WHEN NEW.hostname = '${OTHER.hostname}' AND OLD.hostname <> '${OTHER.hostname}'
      BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
  } finally {
    db.close();
  }
}

describe('apply --take-over-lock whose lock cannot be given back', () => {
  const ws = useCliWorkspaceEach(
    { numbers: NUMBERS.map((phone) => ({ phone_number: phone })) },
    NOW,
  );
  const args = ['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000', '--take-over-lock'];

  it('refused by drift (exit 4): the refusal first, the failure beneath it, the lock kept', async () => {
    const { env, cli, dir } = ws;
    await planOneCustomer(ws, NUMBERS);
    holdLock(dir.file('a.db'));
    failGiveBack(dir.file('a.db'));
    const [number] = await env.parent.incomingPhoneNumbers.list({ phoneNumber: NUMBERS[0] });
    await env.parent.incomingPhoneNumbers(number!.sid).update({ smsUrl: 'https://x.example/sms' });
    await env.control('DELETE', '/__emulator/requests');

    const taken = await cli(args);
    expect(taken.code, taken.stderr).toBe(4);
    expect(taken.stderr).toMatch(/^refused: the account changed since the plan was made/);
    const lines = taken.stderr.split('\n');
    const told = lines.find((line) => line.startsWith(NOT_GIVEN_BACK));
    expect(told, taken.stderr).toBeDefined();
    expect(told).toContain(`is left naming this apply (pid `);
    expect(told).toContain(`on ${hostname()}), which has ended`);
    expect(told).toContain('only once that apply no longer runs on ops-container-3f2a');
    for (const token of authTokens(env)) expect(taken.stderr).not.toContain(token);
    // Not let go: an apply of another machine, without --take-over-lock, is still refused.
    const lock = readLock(dir.file('a.db')) as { hostname: string; runId: number | null };
    expect(lock).toMatchObject({ hostname: hostname(), runId: null });
    expect((await requestLog(env)).filter((r) => r.method !== 'GET')).toEqual([]);
  }, 90_000);

  it('stopped by Ctrl-C before its run began: the notice is said, with the failure', async () => {
    const { env, dir } = ws;
    await planOneCustomer(ws, NUMBERS);
    holdLock(dir.file('a.db'));
    failGiveBack(dir.file('a.db'));
    await env.control('DELETE', '/__emulator/requests');

    const apply = await startCliHeld(env, args, dir.path, { after: 1, methods: ['GET'] });
    apply.child.kill('SIGINT');
    const stopped = await apply.done;
    await releaseHeld(env);

    expect(stopped.signal).toBe('SIGINT');
    expect(stopped.stderr).toBe(
      `apply: stopped by SIGINT before it began its run, while it checked the plan against the live account: it had sent Twilio only reads, so nothing was changed there, and the journal is as it was; but the lock it took over could not be given back to pid 4242 on ops-container-3f2a, another machine (database or disk is full): it is left naming this stopped apply (pid ${apply.child.pid} on ${hostname()}), which the next apply on this machine takes over as a process here that no longer runs. \`submigrate apply a.plan.json --db a.db\` runs it again: run it only once that apply no longer runs on ops-container-3f2a.\n`,
    );
    expect(readLock(dir.file('a.db'))).toMatchObject({
      pid: apply.child.pid,
      hostname: hostname(),
    });
    expect(readLock(dir.file('a.db'))).not.toEqual(OTHER);
    expect((await requestLog(env)).filter((r) => r.method !== 'GET')).toEqual([]);
  }, 90_000);
});
