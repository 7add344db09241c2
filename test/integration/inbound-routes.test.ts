/**
 * The customers' apps keep hearing their numbers after the move (built CLI, emulator over
 * real HTTP, webhooks really delivered to a local app): the Owlie migration keeps every moved
 * number's inbound route, signed with the subaccount's own token; a customer whose numbers
 * need two routes is planned honestly; and `submigrate routes` catches a route someone broke
 * afterwards.
 */

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadOwlie, owlieCustomers } from '../../src/emulator/scenarios/owlie.js';
import { readPlan } from '../../src/plan/plan-file.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { applyCleanly } from '../support/migration.js';
import { cliEnv, ROOT, runCli, tempDir, type TempDir } from '../support/snapshot-harness.js';
import { readFileSync } from 'node:fs';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;

interface Delivery {
  path: string;
  signature: string;
  params: Record<string, string>;
}

/** The customers' app: answers every webhook with empty TwiML and remembers it. */
async function startApp(): Promise<{ url: string; deliveries: Delivery[]; server: Server }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      deliveries.push({
        path: req.url ?? '',
        signature: String(req.headers['x-twilio-signature'] ?? ''),
        params: Object.fromEntries(new URLSearchParams(body)),
      });
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end('<Response/>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, deliveries, server };
}

interface InboundAnswer {
  sid: string;
  account_sid: string;
  stored: boolean;
  route: string;
  webhook: { url: string; delivered_status: number | null } | null;
}

const inbound = (env: TestEmulator, to: string, body: string, from = '+12065559900') =>
  env.control<InboundAnswer>('POST', '/__emulator/inbound', { from, to, body });

describe('inbound routes through the Owlie migration (built CLI)', () => {
  let env: TestEmulator;
  let app: Awaited<ReturnType<typeof startApp>>;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);
  const db = () => dir.file('owlie.db');
  const plan = () => dir.file('owlie.plan.json');
  const numbers = owlieCustomers().flatMap((c) => c.numbers.map((n) => n.phoneNumber));

  beforeAll(async () => {
    app = await startApp();
    env = await startTestEmulator({
      now: () => NOW,
      load: (state) =>
        loadOwlie(state, { seed: 8, messages: 3_000, now: NOW, webhookBaseUrl: app.url }),
    });
    dir = tempDir();
  });
  afterAll(async () => {
    await env.close();
    app.server.close();
    dir.remove();
  });

  it('every moved number reaches the same URL after the move, logged in its subaccount, signed with its token', async () => {
    expect(
      (
        await cli([
          'plan',
          '--mapping',
          join(ROOT, 'plans', 'owlie-customers.csv'),
          '--db',
          db(),
          '--out',
          plan(),
        ])
      ).code,
    ).toBe(0);

    // Where each number's inbound goes before the move, as the app sees it.
    const before = new Map<string, string>();
    for (const phone of numbers) {
      const answer = await inbound(env, phone, 'Running late');
      expect(answer.webhook?.delivered_status, phone).toBe(200);
      before.set(phone, answer.webhook!.url);
    }
    expect(new Set(before.values()).size).toBeGreaterThan(10);

    const applied = await applyCleanly(cli, plan(), db());
    expect(applied.stdout).toContain(
      `Inbound routes: ${numbers.length} of ${numbers.length} moved numbers reach where they did.`,
    );

    const state = await env.state();
    app.deliveries.length = 0;
    for (const [i, phone] of numbers.entries()) {
      // One end user says STOP; the rest say something else.
      const answer = await inbound(env, phone, i === 0 ? 'STOP' : 'See you then');
      const number = state.numbers.find((n) => n.phone_number === phone)!;
      expect(answer.account_sid, phone).toBe(number.account_sid);
      expect(answer.account_sid).not.toBe(env.parentSid);
      expect(answer.stored, phone).toBe(true);
      expect(answer.webhook?.url, phone).toBe(before.get(phone));
      expect(answer.webhook?.delivered_status, phone).toBe(200);
      // Logged in the subaccount's own message list.
      const sub = env.emulator.state.accounts.get(number.account_sid)!;
      const listed = await env.clientFor(sub.sid, sub.authToken).messages(answer.sid).fetch();
      expect(listed.to).toBe(phone);
      if (i === 0) expect(listed.body).toBe('STOP');
    }
    expect(app.deliveries).toHaveLength(numbers.length);

    // The signature: the subaccount's token validates it, the parent's does not.
    const first = app.deliveries[0]!;
    const owner = state.numbers.find((n) => n.phone_number === numbers[0])!.account_sid;
    const subToken = env.emulator.state.accounts.get(owner)!.authToken;
    const url = `${app.url}${first.path}`;
    expect(twilio.validateRequest(subToken, first.signature, url, first.params)).toBe(true);
    expect(twilio.validateRequest(env.parentToken, first.signature, url, first.params)).toBe(false);

    // The audit says so, number by number.
    const audit = readFileSync(join(dir.path, 'reports', '1', 'audit.csv'), 'utf8');
    expect(audit.split('\n')[0]).toMatch(/,inbound_route_before,inbound_route_after$/);
    expect(audit).not.toContain('[dropped]');
    expect(audit).not.toContain('[diverted]');
  });

  it('after someone empties a new service’s inbound settings, `routes` exits 3 naming every number affected', async () => {
    const p = readPlan(plan(), readFileSync(plan(), 'utf8'));
    const falcon = p.customers.find((c) => c.customer_id === 'falcon-flights')!;
    const state = await env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'Falcon Flights')!;
    const service = state.services.find((s) => s.account_sid === sub.sid)!;
    const token = env.emulator.state.accounts.get(sub.sid)!.authToken;
    await env.clientFor(sub.sid, token).messaging.v1.services(service.sid).update({
      inboundRequestUrl: '',
      useInboundWebhookOnNumber: false,
    });
    const result = await cli(['routes', '--db', db()]);
    expect(result.code).toBe(3);
    const lost = falcon.numbers.map((n) => n.phone_number);
    const last = result.stdout.trimEnd().split('\n').at(-1)!;
    const [summary, named] = last.split(' lost their route: ');
    expect(summary).toBe(
      `run 1: ${numbers.length - lost.length} of ${numbers.length} moved numbers reach where they did before the move; ${lost.length}`,
    );
    expect(named!.split(', ').sort()).toEqual([...lost].sort());
    for (const phone of lost)
      expect(result.stdout).toMatch(new RegExp(`^LOST  \\${phone} .* -> dropped `, 'm'));
  });
});

describe('a customer whose numbers answered in two places', () => {
  let env: TestEmulator;
  let app: Awaited<ReturnType<typeof startApp>>;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);
  const SHARED_NUMBER = '+14155550301';
  const OWN_NUMBER = '+14155550302';

  beforeAll(async () => {
    app = await startApp();
    env = await startTestEmulator({ now: () => NOW });
    await env.seed({
      numbers: [
        { phone_number: SHARED_NUMBER, sms_url: `${app.url}/own/301` },
        { phone_number: OWN_NUMBER, sms_url: `${app.url}/own/302` },
      ],
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: [SHARED_NUMBER],
          inbound_request_url: `${app.url}/shared`,
        },
      ],
    });
    dir = tempDir();
  });
  afterAll(async () => {
    await env.close();
    app.server.close();
    dir.remove();
  });

  it('with one service wanted: refused with the mapping line (one service cannot give both)', async () => {
    const mapping = dir.file('mixed.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number,messaging_service\nmix,Mix Co,${SHARED_NUMBER},mixAlerts\nmix,Mix Co,${OWN_NUMBER},mixAlerts\n`,
    );
    const result = await cli([
      'plan',
      '--mapping',
      mapping,
      '--db',
      dir.file('a.db'),
      '--out',
      dir.file('a.plan.json'),
      '--no-snapshot',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /mixed\.csv:2: customer "mix": one Messaging Service cannot give its numbers both routes/,
    );
  });

  it('with no service wanted: the shared number keeps its route through its own sms_url', async () => {
    const mapping = dir.file('split.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number\nmix,Mix Co,${SHARED_NUMBER}\nmix,Mix Co,${OWN_NUMBER}\n`,
    );
    const db = dir.file('b.db');
    const out = dir.file('b.plan.json');
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    const planned = await cli(['plan', '--mapping', mapping, '--db', db, '--out', out]);
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain(`~ sms_url      ${SHARED_NUMBER}  -> POST ${app.url}/shared`);
    const applied = await cli(['apply', out, '--db', db, '--rate', '1000']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect((await inbound(env, SHARED_NUMBER, 'hi')).webhook?.url).toBe(`${app.url}/shared`);
    expect((await inbound(env, OWN_NUMBER, 'hi')).webhook?.url).toBe(`${app.url}/own/302`);
  });
});

describe('a number leaving a service for none keeps the service’s fallback URL', () => {
  let env: TestEmulator;
  let app: Awaited<ReturnType<typeof startApp>>;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);
  const WITH_FALLBACK = '+14155550401';
  const WITHOUT = '+14155550402';
  const numberOf = async (phone: string) =>
    (await env.state()).numbers.find((n) => n.phone_number === phone)!;

  beforeAll(async () => {
    app = await startApp();
    env = await startTestEmulator({ now: () => NOW });
    await env.seed({
      numbers: [
        { phone_number: WITH_FALLBACK },
        // Its own fallback, which a service without one leaves as it is.
        { phone_number: WITHOUT, sms_fallback_url: `${app.url}/own-fallback` },
      ],
      services: [
        {
          friendly_name: 'With fallback',
          phone_numbers: [WITH_FALLBACK],
          inbound_request_url: `${app.url}/primary`,
          fallback_url: `${app.url}/fallback`,
          fallback_method: 'GET',
        },
        {
          friendly_name: 'Without',
          phone_numbers: [WITHOUT],
          inbound_request_url: `${app.url}/plain`,
        },
      ],
    });
    dir = tempDir();
  });
  afterAll(async () => {
    await env.close();
    app.server.close();
    dir.remove();
  });

  it('plan, dry-run and apply set the fallback on the number; a new plan has nothing to do', async () => {
    const mapping = dir.file('fallback.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number\nfb,Fallback Co,${WITH_FALLBACK}\nfb,Fallback Co,${WITHOUT}\n`,
    );
    const db = dir.file('fb.db');
    const out = dir.file('fb.plan.json');
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    const planned = await cli(['plan', '--mapping', mapping, '--db', db, '--out', out]);
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain(
      `~ sms_url      ${WITH_FALLBACK}  -> POST ${app.url}/primary  (fallback GET ${app.url}/fallback)`,
    );
    expect(planned.stdout).toContain(`${app.url}/fallback: after the move Twilio signs`);

    const dry = await cli(['apply', out, '--db', db, '--dry-run']);
    expect(dry.code).toBe(0);
    const sent = (phone: string) =>
      dry.stdout.split('\n').find((l) => l.endsWith(`# ${phone}`) && l.includes('SmsUrl='));
    expect(sent(WITH_FALLBACK)).toContain(
      `SmsUrl=${app.url}/primary SmsMethod=POST SmsFallbackUrl=${app.url}/fallback SmsFallbackMethod=GET `,
    );
    expect(sent(WITHOUT)).toContain(`SmsUrl=${app.url}/plain SmsMethod=POST `);
    expect(sent(WITHOUT)).not.toContain('SmsFallback');

    const applied = await cli(['apply', out, '--db', db, '--rate', '1000']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(await numberOf(WITH_FALLBACK)).toMatchObject({
      messaging_service_sid: null,
      sms_url: `${app.url}/primary`,
      sms_fallback_url: `${app.url}/fallback`,
      sms_fallback_method: 'GET',
    });
    expect(await numberOf(WITHOUT)).toMatchObject({
      messaging_service_sid: null,
      sms_url: `${app.url}/plain`,
      sms_fallback_url: `${app.url}/own-fallback`,
      sms_fallback_method: 'POST',
    });

    const again = dir.file('fb-again.plan.json');
    expect((await cli(['plan', '--mapping', mapping, '--db', db, '--out', again])).code).toBe(0);
    expect(readPlan(again, readFileSync(again, 'utf8')).steps).toEqual([]);
  });
});
