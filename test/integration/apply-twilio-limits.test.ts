/**
 * Twilio's account limits met part way through an apply (plan warns of both, but cannot lift
 * them): the 1,000 open subaccounts of a parent (21480) and the 400 numbers of a Messaging
 * Service (21714). The step refused fails naming its customer (and its number: a number's step
 * id names only its PN… SID) and says what lifts the limit; the steps that wait on it are not
 * run, the run exits 3, and once room is made the same plan applied again continues the run
 * to completion. Built CLI, emulator over HTTP.
 */

import { describe, expect, it } from 'vitest';

import { MOVING, useFullPool } from '../support/full-pool.js';
import { readJournal, useSubaccountLimit } from '../support/migration.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const [A1, B1] = ['+14155550401', '+14155550402'];

describe('apply at the 1,000-subaccount limit', () => {
  // 999 open subaccounts: Acme's is the 1,000th, Beta's is refused (21480).
  const { ws, planAcmeAndBeta } = useSubaccountLimit([A1, B1], NOW);

  it('fails naming the customer and what to do; after room is made, apply continues the run', async () => {
    const { db, plan } = await planAcmeAndBeta();
    const apply = ['apply', plan, '--db', db, '--rate', '0', '--concurrency', '1'];

    const applied = await ws.cli(apply);
    expect(applied.code, applied.stderr).toBe(3);
    expect(applied.stderr).toContain(
      'failed: create_subaccount:beta: Twilio 21480: Reached maximum number of subaccounts (customer beta): ' +
        "the parent account has Twilio's limit of open subaccounts (1,000 by default): close subaccounts no longer used, " +
        'or ask Twilio support to raise the limit, then run apply again with the same plan: it continues this run\n',
    );
    expect(readJournal(db).states).toEqual({ done: 2, failed: 1, not_run: 1 });

    // Room is made: a subaccount no longer used is closed (closed ones do not count).
    const [filler] = await ws.env.parent.api.v2010.accounts.list({ friendlyName: 'filler 0' });
    await ws.env.parent.api.v2010.accounts(filler!.sid).update({ status: 'closed' });
    const again = await ws.cli(apply);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^apply run 1 \(continued\): 4 steps: 4 done, /);
    const state = await ws.env.state();
    const beta = state.accounts.find((a) => a.friendly_name === 'Beta');
    expect(state.numbers.find((n) => n.phone_number === B1)?.account_sid).toBe(beta?.sid);
  }, 120_000);
});

describe('apply at the 400-number limit of a Messaging Service', () => {
  // 399 held: the first moving number joins the service, the second does not (21714).
  const pool = useFullPool(399, NOW);

  it('fails naming the number, the customer and the service, and what to do', async () => {
    const { applied } = await pool.planCarryAndApply();
    expect(applied.code, applied.stderr).toBe(3);
    const failed = applied.stderr.split('\n').filter((line) => line.startsWith('failed: '));
    expect(failed).toEqual([
      expect.stringMatching(
        /^failed: attach_number:PN\w+: Twilio 21714: Messaging Service Number Pool size limit reached \(number \+1415561900[12], customer acme\): the Messaging Service "acmeAlerts" holds Twilio's limit of numbers \(400 by default\): remove numbers it no longer needs, or ask Twilio support to raise the limit, then run apply again with the same plan: it continues this run$/,
      ),
    ]);
    // The two attaches run side by side: whichever came second is refused, and is the one named.
    const named = /\(number (\+\d+),/.exec(failed[0]!)![1]!;
    const state = await pool.env.state();
    const inService = (phone: string) =>
      state.numbers.find((n) => n.phone_number === phone)?.messaging_service_sid;
    expect(MOVING).toContain(named);
    expect(inService(named)).toBeNull();
    expect(inService(MOVING.find((phone) => phone !== named)!)).toBe(pool.service);
  }, 90_000);
});
