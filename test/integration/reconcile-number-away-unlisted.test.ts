/**
 * A moved number missing from its subaccount, looked for in the family's other subaccounts
 * (built CLI, real SDK, emulator over HTTP, real SQLite):
 * - read with an API key, a suspended subaccount refuses its own credentials (403, 20403): the
 *   pass failed (exit 1) for as long as the number stayed missing. It now completes, names the
 *   number not checked (`number-not-found`) with the subaccounts it could not list and Twilio's
 *   status and code, and exits 3 with --fail-on-violation; it says nowhere where the number is
 *   not. With the parent's Auth Token the same subaccount is listed and the number found there.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import type { NotChecked } from '../../src/reconcile/result.js';
import { ownClient } from '../support/emulator.js';
import { planAndApply, seededStop, useCliWorkspaceEach } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const A = '+14155550981';
const R1 = '+12065550981';
const DAY = 86_400_000;

describe('reconcile: a moved number missing from its subaccount, looked for elsewhere', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  /** A moved into Acme's subaccount by snapshot, plan and apply; Acme's SID. */
  async function moveAIntoAcme(): Promise<string> {
    await ws.env.seed({
      numbers: [{ phone_number: A }],
      messages: [seededStop(R1, A, Date.now() - DAY)],
    });
    writeFileSync(
      ws.dir.file('map.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(cli, {
      mapping: ws.dir.file('map.csv'),
      db: db(),
      out: ws.dir.file('p.json'),
    });
    return (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
  }

  /** Someone moves A in the console out of account `from` into account `to`. */
  async function moveAByHand(from: string, to: string) {
    const [number] = await ownClient(ws.env, from).incomingPhoneNumbers.list({ phoneNumber: A });
    await ws.env.parent.api.v2010
      .accounts(from)
      .incomingPhoneNumbers(number!.sid)
      .update({ accountSid: to });
  }

  const pass = async (env: Record<string, string>) => {
    const ran = await runCli(
      ['reconcile', '--db', db(), '--fail-on-violation', '--json'],
      env,
      ws.dir.path,
    );
    const result = JSON.parse(ran.stdout === '' ? '{}' : ran.stdout) as {
      notChecked?: NotChecked[];
    };
    return { ...ran, notChecked: result.notChecked ?? [] };
  };

  it('names a number it could not find while a suspended subaccount refused to be listed, and exits 3', async () => {
    const { keys } = await ws.env.seed({ keys: [{ kind: 'main' }] });
    const key = keys[0]!;
    const acme = await moveAIntoAcme();
    const other = (await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'Other' })).sid;
    await moveAByHand(acme, other);
    await ws.env.parent.api.v2010.accounts(other).update({ status: 'suspended' });
    const withKey = cliEnv(ws.env, {
      TWILIO_AUTH_TOKEN: undefined,
      TWILIO_API_KEY: key.sid,
      TWILIO_API_SECRET: key.secret,
    });

    const keyed = await pass(withKey);
    expect(keyed.code, keyed.stderr).toBe(3);
    expect(keyed.notChecked).toEqual([
      expect.objectContaining({
        accountSid: acme,
        reason: 'number-not-found',
        phoneNumber: A,
        customerId: 'acme',
        subaccountSid: acme,
        unlisted: [{ accountSid: other, status: 403, code: 20403 }],
      }),
    ]);
    expect(keyed.stderr).toContain(`not checked: moved number ${A} of acme, from `);
    expect(keyed.stderr).toContain(
      `1 subaccount(s) of the family could not be listed, and it may be in any of them: ${other} (HTTP 403, code 20403)`,
    );
    // It names no account as where the number is, nor says it is in none.
    expect(keyed.notChecked.filter((s) => s.reason === 'number-away')).toEqual([]);
    const secrets = [
      key.secret,
      ws.env.parentToken,
      ...[acme, other].map((sid) => ws.env.emulator.state.accounts.get(sid)!.authToken),
    ];
    for (const secret of secrets) {
      expect(keyed.stdout + keyed.stderr).not.toContain(secret);
    }

    // The parent's Auth Token lists the suspended subaccount's numbers: A is found there.
    const tokened = await pass(cliEnv(ws.env));
    expect(tokened.code, tokened.stderr).toBe(3);
    expect(tokened.notChecked).toEqual([
      expect.objectContaining({
        accountSid: other,
        reason: 'number-away',
        phoneNumber: A,
        subaccountSid: acme,
      }),
    ]);
  }, 60_000);
});
