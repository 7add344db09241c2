/**
 * A number leaving a service for none takes the service's fallback as its own
 * `sms_fallback_url`, even when that URL is already one of its other webhooks (its voice
 * fallback, say): only its own SMS fallback counts (built CLI, emulator over real HTTP).
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { readPlan } from '../../src/plan/plan-file.js';
import { useCliWorkspaceEach } from '../support/migration.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const INBOUND = 'https://app.example/sms';
const FALLBACK = 'https://app.example/fallback';

describe("a number leaving a service for none, whose other webhooks include the service's fallback", () => {
  const ws = useCliWorkspaceEach(undefined, NOW);
  const { cli } = ws;

  it('is given the fallback as its own sms_fallback_url', async () => {
    const phone = '+14155550301';
    await ws.env.seed({
      numbers: [
        // Its sms_url is the service's already; the app's one fallback endpoint serves voice too.
        { phone_number: phone, sms_url: INBOUND, voice_url: INBOUND, voice_fallback_url: FALLBACK },
      ],
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: [phone],
          inbound_request_url: INBOUND,
          fallback_url: FALLBACK,
        },
      ],
    });
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${phone},\n`,
    );
    expect((await cli(['snapshot', '--db', 'a.db'])).code).toBe(0);
    const planned = await cli([
      'plan',
      '--mapping',
      'm.csv',
      '--db',
      'a.db',
      '--out',
      'a.plan.json',
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = readPlan(
      ws.dir.file('a.plan.json'),
      readFileSync(ws.dir.file('a.plan.json'), 'utf8'),
    );
    expect(
      plan.steps
        .filter((s) => s.action === 'set_number_webhook')
        .map((s) => [s.sms_url, s.sms_fallback_url]),
    ).toEqual([[INBOUND, FALLBACK]]);

    const applied = await cli(['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    const number = (await ws.env.state()).numbers.find(
      (n) => n.phone_number === phone,
    )! as unknown as Record<string, unknown>;
    expect(number['sms_url']).toBe(INBOUND);
    expect(number['sms_fallback_url']).toBe(FALLBACK);
  });
});
