/**
 * A plan made again after an apply that was killed once a number had changed account: the
 * number is planned from where its move began (the parent), so its webhooks, signed with the
 * subaccount's Auth Token from now on, are still named in a `webhook_signature` warning
 * (built CLI, emulator over HTTP).
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { readPlan } from '../../src/plan/plan-file.js';
import { useCliWorkspaceEach } from '../support/migration.js';
import { killApplyAtHeldWrite, releaseHeld } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const PHONE = '+14155550401';
const INBOUND = 'https://app.example/sms';
const FALLBACK = 'https://app.example/sms-fallback';

describe('signature warnings in a plan made after a killed apply', () => {
  const ws = useCliWorkspaceEach(undefined, NOW);
  const { cli } = ws;
  const planOf = (file: string) => readPlan(file, readFileSync(ws.dir.file(file), 'utf8'));
  const signed = (file: string) =>
    planOf(file)
      .warnings.filter((w) => w.code === 'webhook_signature')
      .map((w) => w.message.split(':')[0] + ':' + w.message.split(':')[1]);

  it("still names the URLs of a number already moved into the subaccount, with the parent's token", async () => {
    await ws.env.seed({
      numbers: [{ phone_number: PHONE }],
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: [PHONE],
          inbound_request_url: INBOUND,
          fallback_url: FALLBACK,
        },
      ],
    });
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${PHONE},\n`,
    );
    expect((await cli(['snapshot', '--db', 'a.db'])).code).toBe(0);
    const planned = await cli(['plan', '--mapping', 'm.csv', '--db', 'a.db', '--out', 'p1.json']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(signed('p1.json')).toEqual([INBOUND, FALLBACK]);

    // The subaccount and the detach done, the transfer held; killed, the transfer then lands.
    await killApplyAtHeldWrite(ws.env, ws.dir.path, 'p1.json', 'a.db', 2);
    await releaseHeld(ws.env);
    const number = (await ws.env.state()).numbers.find((n) => n.phone_number === PHONE)!;
    expect(number.account_sid).not.toBe(ws.env.parentSid);

    const again = await cli(['plan', '--mapping', 'm.csv', '--db', 'a.db', '--out', 'p2.json']);
    expect(again.code, again.stderr).toBe(0);
    const numbers = planOf('p2.json').customers[0]!.numbers;
    expect(numbers.map((n) => [n.from_origin, n.unchanged])).toEqual([[true, false]]);
    expect(signed('p2.json')).toEqual([INBOUND, FALLBACK]);
    const warning = planOf('p2.json').warnings.find((w) => w.code === 'webhook_signature')!;
    expect(warning.message).toContain("(the parent's)");
  }, 60_000);
});
