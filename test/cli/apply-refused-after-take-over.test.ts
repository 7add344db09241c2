/**
 * `apply --take-over-lock` that ends before its run began (its plan refused by drift, exit 4;
 * Twilio's reads failing, exit 1) deleted the lock it had taken over from an apply on another
 * machine: the next `apply` (without --take-over-lock) found no lock and ran, beside that
 * apply should it still run there. Now the lock goes back to that apply as it was (run, pid,
 * host, since when), as on Ctrl-C (apply-interrupted-after-take-over), and the refusal says
 * so beneath it. Also when the refusal is its reports folder's, for a run an earlier apply
 * began: that run is not taken up (it is left as it was), so this apply had begun none, and the
 * lock went (let go) all the same. Built CLI, emulator over HTTP.
 */

import { rmSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { holdLock, OTHER_MACHINES_LOCK, readLock } from '../support/apply-lock.js';
import { requestLog } from '../support/emulator.js';
import { authTokens, planOneCustomer, useCliWorkspaceEach } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550181', '+14155550182'];
const OTHER = OTHER_MACHINES_LOCK;
const GIVEN_BACK =
  'also: the lock this apply took over with --take-over-lock is given back to pid 4242 on ops-container-3f2a (another machine), as it was: running it again takes --take-over-lock again, once that apply no longer runs there';

const lockOfAnotherMachine = (path: string) => holdLock(path);

describe('apply --take-over-lock that ends before its run began', () => {
  const ws = useCliWorkspaceEach(
    { numbers: NUMBERS.map((phone) => ({ phone_number: phone })) },
    NOW,
  );
  const args = ['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000'];

  async function expectStillTheOtherMachines(): Promise<void> {
    expect(readLock(ws.dir.file('a.db'))).toEqual(OTHER);
    // Without --take-over-lock, the other machine's apply still holds the database.
    const refused = await ws.cli(args);
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.stderr).toMatch(
      /^refused: another apply holds this database \(pid 4242 on ops-container-3f2a/,
    );
    expect(readLock(ws.dir.file('a.db'))).toEqual(OTHER);
    expect((await requestLog(ws.env)).filter((r) => r.method !== 'GET')).toEqual([]);
  }

  it("refused by drift (exit 4), gives the other machine's apply its lock back", async () => {
    const { env, cli, dir } = ws;
    await planOneCustomer(ws, NUMBERS);
    lockOfAnotherMachine(dir.file('a.db'));
    // Someone changes a number's SMS URL by hand after planning: the plan is refused.
    const [number] = await env.parent.incomingPhoneNumbers.list({ phoneNumber: NUMBERS[0] });
    await env.parent.incomingPhoneNumbers(number!.sid).update({ smsUrl: 'https://x.example/sms' });
    await env.control('DELETE', '/__emulator/requests');

    const taken = await cli([...args, '--take-over-lock']);
    expect(taken.code, taken.stderr).toBe(4);
    expect(taken.stderr).toMatch(/^refused: /);
    await expectStillTheOtherMachines();
    expect(taken.stderr.split('\n')).toContain(GIVEN_BACK);
  }, 90_000);

  it("failing on Twilio's reads (exit 1), gives the other machine's apply its lock back", async () => {
    const { env, cli, dir } = ws;
    await planOneCustomer(ws, NUMBERS);
    lockOfAnotherMachine(dir.file('a.db'));
    await env.control('DELETE', '/__emulator/requests');

    // Every request answered 503: the live state cannot be read.
    await env.control('POST', '/__emulator/faults', { error_rate: 1, error_status: 503 });
    let taken;
    try {
      taken = await cli([...args, '--take-over-lock']);
    } finally {
      await env.control('POST', '/__emulator/faults', { error_rate: 0 });
    }
    expect(taken.code, taken.stderr).toBe(1);
    expect(taken.stderr).toMatch(/^error: Twilio 20503/);
    for (const token of authTokens(env)) expect(taken.stderr).not.toContain(token);
    await expectStillTheOtherMachines();
    expect(taken.stderr.split('\n')).toContain(GIVEN_BACK);
  }, 90_000);

  it("refused by its reports folder before it took a run up again (exit 1), gives the other machine's apply its lock back", async () => {
    const { env, cli, dir } = ws;
    await planOneCustomer(ws, NUMBERS);
    // An earlier apply ran the plan (run 1, its reports in reports/1) ...
    const applied = await cli(args);
    expect(applied.code, applied.stderr).toBe(0);
    // ... and its folder was handed to a reviewer, who left a note in it: the next apply of
    // the plan takes up run 1, and refuses to write its reports there.
    rmSync(dir.file('reports/1/.submigrate-report'));
    writeFileSync(dir.file('reports/1/notes.txt'), 'checked by legal on Monday\n');
    lockOfAnotherMachine(dir.file('a.db'));
    await env.control('DELETE', '/__emulator/requests');

    const taken = await cli([...args, '--take-over-lock']);
    expect(taken.code, taken.stderr).toBe(1);
    expect(taken.stderr).toMatch(/already holds files submigrate did not write/);
    await expectStillTheOtherMachines();
    expect(taken.stderr.split('\n')).toContain(GIVEN_BACK);
  }, 90_000);
});
