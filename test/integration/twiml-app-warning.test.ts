/**
 * A number that answers through a TwiML App: Twilio calls the app's URLs, not the number's
 * own, and submigrate does not read apps. The plan must say so for the number, read through
 * the real SDK from the emulator's IncomingPhoneNumbers pages.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import type { Plan } from '../../src/plan/types.js';
import { makePlan, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const WITH_APP = '+14155550131';
const PLAIN = '+14155550132';
const APP = `AP${'a1'.repeat(16)}`;

describe('plan of a number that answers through a TwiML App', () => {
  const ws = useCliWorkspace(
    {
      numbers: [
        { phone_number: WITH_APP, sms_url: 'https://app.example/sms', sms_application_sid: APP },
        { phone_number: PLAIN, sms_url: 'https://app.example/sms' },
      ],
    },
    NOW,
  );

  it('names that number, and only it, in an inbound_route warning', async () => {
    const { cli, dir } = ws;
    writeFileSync(
      dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${WITH_APP}\nacme,Acme,${PLAIN}\n`,
    );
    expect((await cli(['snapshot', '--db', dir.file('s.db')])).code).toBe(0);
    const out = dir.file('m.plan.json');
    await makePlan(cli, { mapping: dir.file('m.csv'), db: dir.file('s.db'), out });
    const plan = JSON.parse(readFileSync(out, 'utf8')) as Plan;
    const apps = plan.warnings.filter((w) => w.message.includes('TwiML App'));
    expect(apps).toHaveLength(1);
    expect(apps[0]).toMatchObject({ code: 'inbound_route', customer_id: 'acme' });
    expect(apps[0]!.message).toContain(`${WITH_APP} (SMS: TwiML App ${APP})`);
    expect(apps[0]!.message).not.toContain(PLAIN);
  });

  it('the emulator takes an app SID through the API as Twilio does, and refuses a malformed one', async () => {
    const { env } = ws;
    const numbers = await env.parent.incomingPhoneNumbers.list();
    const plain = numbers.find((n) => n.phoneNumber === PLAIN)!;
    const updated = await env.parent.incomingPhoneNumbers(plain.sid).update({
      voiceApplicationSid: APP,
    });
    expect(updated.voiceApplicationSid).toBe(APP);
    expect(updated.smsApplicationSid).toBeNull();
    await expect(
      env.parent.incomingPhoneNumbers(plain.sid).update({ smsApplicationSid: 'AP123' }),
    ).rejects.toMatchObject({ status: 400, code: 20001 });
  });
});
