/**
 * A customer's existing Messaging Service that defers to its numbers' own webhooks
 * (`use_inbound_webhook_on_number`, as the one a first wave creates for numbers that answered
 * on their own `sms_url`): a number joining it from a service whose inbound URL it answered on
 * keeps that route by taking the URL (and the service's fallback) as its own `sms_url` (built
 * CLI, emulator over real HTTP).
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { readPlan } from '../../src/plan/plan-file.js';
import { inbound } from '../support/emulator.js';
import { useCliWorkspaceEach } from '../support/migration.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const SHARED = 'https://app.example/shared';
const SHARED_FALLBACK = 'https://app.example/shared-fallback';
const OWN = 'https://app.example/own';
const DEFERRING_URL = 'https://app.example/acme-default';

describe('a number joining a reused service that defers to its numbers', () => {
  const ws = useCliWorkspaceEach(undefined, NOW);
  const { cli } = ws;
  const text = (to: string) =>
    inbound(ws.env, { from: '+12065550000', to, body: 'hello' }).then((r) => ({
      route: r.route,
      url: r.webhook?.url ?? null,
      method: r.webhook?.method ?? null,
    }));

  it('takes the URL it answered on as its own sms_url, with the fallback', async () => {
    const viaService = '+14155550201';
    const viaNothing = '+14155550202';
    const seeded = await ws.env.seed({ subaccounts: [{ friendly_name: 'Acme' }] });
    const sub = seeded.subaccounts[0]!.sid;
    await ws.env.seed({
      numbers: [
        // Its own sms_url was never called: its service does not defer to it.
        { phone_number: viaService, sms_url: OWN },
        { phone_number: viaNothing },
      ],
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: [viaService, viaNothing],
          inbound_request_url: SHARED,
          inbound_method: 'GET',
          fallback_url: SHARED_FALLBACK,
        },
        {
          friendly_name: 'acmeAlerts',
          account_sid: sub,
          inbound_request_url: DEFERRING_URL,
          use_inbound_webhook_on_number: true,
        },
      ],
    });
    const before = { [viaService]: await text(viaService), [viaNothing]: await text(viaNothing) };
    expect(before[viaService]).toMatchObject({ route: 'service-url', method: 'GET' });
    expect(before[viaService]!.url!.startsWith(`${SHARED}?`)).toBe(true);

    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${viaService},acmeAlerts\nacme,Acme,${viaNothing},acmeAlerts\n`,
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
    expect(plan.warnings.filter((w) => w.code === 'inbound_route')).toEqual([]);
    const webhooks = plan.steps.filter((s) => s.action === 'set_number_webhook');
    expect(
      webhooks.map((s) => [s.phone_number, s.sms_url, s.sms_method, s.sms_fallback_url]),
    ).toEqual([
      [viaService, SHARED, 'GET', SHARED_FALLBACK],
      [viaNothing, SHARED, 'GET', SHARED_FALLBACK],
    ]);

    // Set before the number joins the service: it never answers on its old sms_url there.
    for (const step of webhooks) {
      const attach = plan.steps.find((s) => s.id === `attach_number:${step.number_sid}`)!;
      expect(attach.depends_on, step.phone_number).toContain(step.id);
    }

    const applied = await cli(['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Inbound routes: 2 of 2 moved numbers reach where they did.');
    expect((await cli(['routes', '--db', 'a.db'])).code).toBe(0);

    for (const phone of [viaService, viaNothing]) {
      const after = await text(phone);
      expect(after.route, phone).toBe('number-url');
      expect(after.method, phone).toBe('GET');
      expect(after.url!.split('?')[0], phone).toBe(SHARED);
    }
    const state = await ws.env.state();
    for (const phone of [viaService, viaNothing]) {
      const n = state.numbers.find((x) => x.phone_number === phone)! as unknown as Record<
        string,
        unknown
      >;
      expect(n['sms_fallback_url'], phone).toBe(SHARED_FALLBACK);
    }
  });
});
