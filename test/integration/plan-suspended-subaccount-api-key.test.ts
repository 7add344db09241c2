/**
 * `plan` with an API key against a parent one of whose subaccounts is suspended (built CLI,
 * real SDK, emulator over HTTP, real SQLite). With an API key each subaccount's numbers are
 * listed with its own credentials, which Twilio refuses for a suspended subaccount (403,
 * 20403): the refresh ended the plan, exit 1, though the subaccount held none of the mapped
 * numbers and was no customer's. It now goes on and says so: a `subaccount_not_listed` warning
 * names the subaccount, its status and Twilio's answer, and says the plan cannot vouch for
 * numbers there; a mapped number found nowhere is refused as before, and the refusal names the
 * subaccount it may be in. No credential in any output.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { requestLog } from '../support/emulator.js';
import { authTokens, useCliWorkspaceEach } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const A = '+14155550991';
const B = '+14155550992';

describe('plan with an API key, a subaccount suspended', () => {
  const ws = useCliWorkspaceEach();

  /** The family seeded, Other made and suspended (holding `into`, if given); the env. */
  async function suspendedOther(into?: string) {
    const { keys } = await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }],
      keys: [{ kind: 'main' }],
    });
    const key = keys[0]!;
    const other = (await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'Other' })).sid;
    if (into !== undefined) {
      const [number] = await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: into });
      await ws.env.parent.incomingPhoneNumbers(number!.sid).update({ accountSid: other });
    }
    await ws.env.parent.api.v2010.accounts(other).update({ status: 'suspended' });
    const env = cliEnv(ws.env, {
      TWILIO_AUTH_TOKEN: undefined,
      TWILIO_API_KEY: key.sid,
      TWILIO_API_SECRET: key.secret,
    });
    return { other, env, secret: key.secret };
  }

  const expectNoSecret = (text: string, secret: string) => {
    for (const token of [secret, ...authTokens(ws.env)]) expect(text).not.toContain(token);
  };

  it('goes on, and warns that the suspended subaccount could not be listed', async () => {
    const { other, env, secret } = await suspendedOther();
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    const snapshot = await runCli(['snapshot', '--db', 'a.db'], env, ws.dir.path);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    const planned = await runCli(
      ['plan', '--mapping', 'm.csv', '--db', 'a.db', '--out', 'a.plan.json'],
      env,
      ws.dir.path,
    );
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(readFileSync(ws.dir.file('a.plan.json'), 'utf8')) as {
      warnings: { code: string; customer_id: string | null; message: string }[];
    };
    const warning = plan.warnings.find((w) => w.code === 'subaccount_not_listed');
    expect(warning?.customer_id).toBeNull();
    expect(warning?.message).toContain(
      `subaccount ${other} (suspended; Twilio answered HTTP 403, code 20403)`,
    );
    expect(warning?.message).toContain('cannot vouch');
    expect(planned.stdout + planned.stderr).toContain(`subaccount ${other} (suspended;`);
    expectNoSecret(
      planned.stdout + planned.stderr + readFileSync(ws.dir.file('a.plan.json'), 'utf8'),
      secret,
    );
    // apply reads the family the same way, and goes on.
    const applied = await runCli(
      ['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000'],
      env,
      ws.dir.path,
    );
    expect(applied.code, applied.stderr).toBe(0);
    expectNoSecret(applied.stdout + applied.stderr, secret);
  }, 90_000);

  it('refuses a mapped number it did not find, naming the subaccount it may be in', async () => {
    const { other, env, secret } = await suspendedOther(B);
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\nacme,Acme,${B}\n`,
    );
    expect((await runCli(['snapshot', '--db', 'a.db'], env, ws.dir.path)).code).toBe(0);
    const planned = await runCli(
      ['plan', '--mapping', 'm.csv', '--db', 'a.db', '--out', 'a.plan.json'],
      env,
      ws.dir.path,
    );
    // The mapping's problem (exit 1, as any row the live state contradicts), not Twilio's 403.
    expect(planned.code, planned.stderr).toBe(1);
    expect(planned.stderr).toMatch(new RegExp(`^error: m\\.csv:3: \\${B} is not a number of `));
    expect(planned.stderr).not.toContain('Twilio 20403');
    expect(planned.stderr).toContain(
      `it may be in subaccount ${other} (suspended; Twilio answered HTTP 403, code 20403)`,
    );
    expectNoSecret(planned.stdout + planned.stderr, secret);
  }, 90_000);
});

describe('apply with an API key, a mapped number moved by hand into a suspended subaccount', () => {
  const ws = useCliWorkspaceEach();

  it('is refused as drift that names the subaccount it may be in, never as gone', async () => {
    const { keys } = await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }],
      keys: [{ kind: 'main' }],
    });
    const key = keys[0]!;
    const env = cliEnv(ws.env, {
      TWILIO_AUTH_TOKEN: undefined,
      TWILIO_API_KEY: key.sid,
      TWILIO_API_SECRET: key.secret,
    });
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    expect((await runCli(['snapshot', '--db', 'a.db'], env, ws.dir.path)).code).toBe(0);
    const planned = await runCli(
      ['plan', '--mapping', 'm.csv', '--db', 'a.db', '--out', 'a.plan.json'],
      env,
      ws.dir.path,
    );
    expect(planned.code, planned.stderr).toBe(0);
    // After the plan: the mapped number moved by hand into Other, which is then suspended.
    const other = (await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'Other' })).sid;
    const [number] = await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: A });
    await ws.env.parent.incomingPhoneNumbers(number!.sid).update({ accountSid: other });
    await ws.env.parent.api.v2010.accounts(other).update({ status: 'suspended' });
    await ws.env.control('DELETE', '/__emulator/requests');

    const applied = await runCli(
      ['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000'],
      env,
      ws.dir.path,
    );
    expect(applied.code, applied.stderr).toBe(4);
    expect(applied.stderr).toMatch(/^refused: the account changed since the plan was made/);
    expect(applied.stderr).toContain(
      `number ${A} (${number!.sid}): expected in ${ws.env.parentSid}, in no service, SmsUrl none, now in no account listed: it may be in subaccount ${other} (suspended; Twilio answered HTTP 403, code 20403), whose numbers could not be listed`,
    );
    expect(applied.stderr).not.toContain('now gone');
    expect((await requestLog(ws.env)).filter((r) => r.method !== 'GET')).toEqual([]);
    for (const token of [key.secret, ...authTokens(ws.env)]) {
      expect(applied.stdout + applied.stderr).not.toContain(token);
    }
  }, 90_000);
});
