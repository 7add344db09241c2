/**
 * A moved number moved on by hand, through the parent (where it heard a STOP), into another
 * customer's subaccount that passes read, listed there with no `date_updated` (an answer
 * Twilio's documentation does not promise otherwise; here a proxy on the way drops it). Apply
 * never put it there: it came by hand, perhaps through an account no pass reads, whenever that
 * was. A pass took a listing without the date for no arrival at all, read the family's messages
 * for nothing, and exited 0 over its send to someone whose STOP the parent heard. It is now
 * `number-updated` up to the listing (built CLI, real SDK, emulator over HTTP through a proxy,
 * SQLite file).
 */

import { describe, expect, it } from 'vitest';

import { inbound, moveNumberByHand, ownClient } from '../support/emulator.js';
import { migrateOnce, useCliWorkspaceEach } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';
import { startTamperingProxy } from '../support/tampering-proxy.js';

const A = '+14155550691';
const C = '+14155550692';
const R = '+12065550691';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a moved number listed in another read subaccount with no date_updated', () => {
  const ws = useCliWorkspaceEach();
  const db = () => ws.dir.file('r.db');

  it('says it cannot vouch for the way it came there, and finds the STOP it heard in the parent', async () => {
    await ws.env.seed({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A }, { phone_number: C }],
    });
    const { accounts } = await ws.env.state();
    const sidOf = (name: string) => accounts.find((a) => a.friendly_name === name)!.sid;
    const [acme, beta, parent] = [sidOf('Acme'), sidOf('Beta'), ws.env.parentSid];
    await migrateOnce(
      ws,
      db(),
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\nbeta,Beta,${C}\n`,
    );
    await sleep(1_100);
    await moveNumberByHand(ws.env, A, acme, parent);
    const stop = await inbound(ws.env, { from: R, to: A, body: 'STOP' });
    expect(stop.account_sid).toBe(parent);
    await moveNumberByHand(ws.env, A, parent, beta);
    // Beta never heard R's STOP: the send goes out.
    const sent = await ownClient(ws.env, beta).messages.create({ from: A, to: R, body: 'Sale!' });
    expect(sent.status).not.toBe('failed');
    await sleep(1_100);

    let undated = 0;
    const proxy = await startTamperingProxy(ws.env.url, (path, status, body, { method }) => {
      if (
        method !== 'GET' ||
        status !== 200 ||
        !path.includes(`/Accounts/${beta}/IncomingPhoneNumbers.json`)
      ) {
        return null;
      }
      const page = JSON.parse(body.toString('utf8')) as {
        incoming_phone_numbers: { date_updated: string | null }[];
      };
      for (const n of page.incoming_phone_numbers) n.date_updated = null;
      undated += 1;
      return { status, type: 'application/json', body: JSON.stringify(page) };
    });
    try {
      const pass = await runCli(
        ['reconcile', '--db', db(), '--fail-on-violation', '--json'],
        cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url }),
        ws.dir.path,
      );
      expect(undated).toBeGreaterThan(0);
      expect(pass.code, pass.stderr).toBe(3);
      expect((JSON.parse(pass.stdout) as { notChecked: unknown[] }).notChecked).toEqual([
        expect.objectContaining({
          reason: 'number-updated',
          accountSid: beta,
          subaccountSid: acme,
          phoneNumber: A,
          arrivalUndated: true,
          updatedCheck: expect.objectContaining({ outcome: 'found', accountSid: parent }),
        }),
      ]);
    } finally {
      await proxy.close();
    }
  }, 90_000);
});
