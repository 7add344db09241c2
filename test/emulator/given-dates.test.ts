/**
 * A `date_sent` given to the emulator (a seed's message, `POST /__emulator/inbound`) without
 * an offset is UTC, as Twilio's dates are, whatever the host's time zone: Date.parse alone
 * read it in the host's zone, so one seed dated its STOPs hours apart on two machines.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { inbound, startTestEmulator, type TestEmulator } from '../support/emulator.js';

const NUMBER = '+14155550100';
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

describe.each(['America/St_Johns', 'Pacific/Kiritimati', 'Asia/Kathmandu'])(
  'dates given without an offset, on a host in %s',
  (zone) => {
    const tz = process.env['TZ'];
    let env: TestEmulator;

    beforeAll(async () => {
      process.env['TZ'] = zone;
      env = await startTestEmulator({ now: () => NOW });
      await env.seed({ numbers: [{ phone_number: NUMBER }] });
    });
    afterAll(async () => {
      await env.close();
      if (tz === undefined) delete process.env['TZ'];
      else process.env['TZ'] = tz;
    });

    /** The message as the Messages API shows it. */
    async function fetched(sid: string): Promise<{ date_sent: string }> {
      const auth = Buffer.from(`${env.parentSid}:${env.parentToken}`).toString('base64');
      const response = await fetch(
        `${env.url}/2010-04-01/Accounts/${env.parentSid}/Messages/${sid}.json`,
        { headers: { authorization: `Basic ${auth}` } },
      );
      expect(response.status).toBe(200);
      return (await response.json()) as { date_sent: string };
    }

    it('are UTC in a seed', async () => {
      const seeded = await env.seed({
        messages: [
          {
            from: '+16505550001',
            to: NUMBER,
            body: 'STOP',
            direction: 'inbound',
            date_sent: '2025-03-01T20:00:00',
          },
          {
            from: '+16505550002',
            to: NUMBER,
            body: 'STOP',
            direction: 'inbound',
            date_sent: '2025-03-01 20:00:00',
          },
          {
            from: '+16505550003',
            to: NUMBER,
            body: 'STOP',
            direction: 'inbound',
            date_sent: '2025-03-01T20:00:00Z',
          },
        ],
      });
      for (const { sid } of seeded.messages) {
        expect((await fetched(sid)).date_sent).toBe('Sat, 01 Mar 2025 20:00:00 +0000');
      }
    });

    it('are UTC in an inbound message', async () => {
      const message = await inbound(env, {
        from: '+16505550004',
        to: NUMBER,
        body: 'STOP',
        date_sent: '2025-03-01T20:00:00',
      });
      expect((await fetched(message.sid)).date_sent).toBe('Sat, 01 Mar 2025 20:00:00 +0000');
    });
  },
);
