/**
 * Plans made again around moves an apply began: a move whose last write took effect is over,
 * and the customer's later changes are theirs; a number moved to another service of its
 * subaccount keeps the old service's opt-outs; an in-place move that stopped half way is
 * planned from where it began, not from the first migration (built CLI, emulator over HTTP).
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { readPlan } from '../../src/plan/plan-file.js';
import { inbound, startTestEmulator, type TestEmulator } from '../support/emulator.js';
import {
  cliEnv,
  pollUntil,
  runCli,
  startCli,
  tempDir,
  type TempDir,
} from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';
const SHARED_URL = 'https://app.example/shared';
const ANN = '+19995550001';

describe('plans made again around a move under way', () => {
  let env: TestEmulator;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);
  const planOf = (file: string) => readPlan(file, readFileSync(file, 'utf8'));
  const db = () => dir.file('s.db');
  const mapOf = (name: string, customer: string, service: string) => {
    const file = dir.file(name);
    writeFileSync(
      file,
      `customer_id,customer_name,phone_number,messaging_service\n${customer},${customer},${N1},${service}\n`,
    );
    return file;
  };
  const killAtHeldWrite = async (plan: string, holdAfter: number) => {
    await env.control('POST', '/__emulator/faults', {
      hold_after: holdAfter,
      hold_methods: ['POST', 'DELETE'],
    });
    const run = startCli(
      ['apply', plan, '--db', db(), '--concurrency', '1', '--rate', '1000'],
      cliEnv(env),
      dir.path,
    );
    await pollUntil('a held write', async () => {
      const health = await env.control<{ held_requests: number }>('GET', '/__emulator/health');
      return health.held_requests > 0 ? true : undefined;
    });
    run.child.kill('SIGKILL');
    await run.done;
  };

  beforeEach(async () => {
    env = await startTestEmulator({ now: () => NOW });
    await env.seed({
      numbers: [{ phone_number: N1 }],
      services: [{ friendly_name: 'Shared', inbound_request_url: SHARED_URL, phone_numbers: [N1] }],
    });
    dir = tempDir();
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
  });
  afterEach(async () => {
    await env.close();
    dir.remove();
  });

  it("a move whose last write was in flight and took effect is over: a later plan leaves the customer's own sms_url alone", async () => {
    const mapping = mapOf('m.csv', 'acme', '');
    const first = dir.file('p1.json');
    expect((await cli(['plan', '--mapping', mapping, '--db', db(), '--out', first])).code).toBe(0);
    // subaccount, detach, transfer go through; the set_number_webhook write is held; kill; it takes effect.
    await killAtHeldWrite(first, 3);
    await env.control('POST', '/__emulator/faults', { hold_after: 0 });

    const second = dir.file('p2.json');
    expect((await cli(['plan', '--mapping', mapping, '--db', db(), '--out', second])).code).toBe(0);
    expect(planOf(second).steps).toEqual([]); // the migration is finished
    const applied = await cli(['apply', second, '--db', db(), '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);

    // After the migration, the customer points its number at its own new URL.
    const state = await env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'acme')!.sid;
    const sid = state.numbers.find((n) => n.phone_number === N1)!.sid;
    const token = env.emulator.state.accounts.get(sub)!.authToken;
    await env
      .clientFor(sub, token)
      .incomingPhoneNumbers(sid)
      .update({ smsUrl: 'https://acme.example/new' });

    const third = dir.file('p3.json');
    expect((await cli(['plan', '--mapping', mapping, '--db', db(), '--out', third])).code).toBe(0);
    const plan = planOf(third);
    // A finished migration plans nothing, and never plans the old URL back over the new one.
    expect(plan.customers[0]!.numbers[0]!.from_origin).toBeUndefined();
    expect(plan.steps).toEqual([]);
  }, 60_000);

  it("after a finished migration, moving the number to another service in its subaccount keeps the old service's service-wide opt-outs", async () => {
    const first = dir.file('p1.json');
    const m1 = mapOf('m1.csv', 'acme', 'Acme SMS');
    expect((await cli(['plan', '--mapping', m1, '--db', db(), '--out', first])).code).toBe(0);
    expect((await cli(['apply', first, '--db', db(), '--rate', '1000'])).code).toBe(0);
    // Someone opts out through Acme SMS (service-wide).
    await inbound(env, {
      from: ANN,
      to: N1,
      body: 'STOP',
      date_sent: new Date(NOW - 60_000).toISOString(),
    });

    const m2 = mapOf('m2.csv', 'acme', 'Acme Two');
    const second = dir.file('p2.json');
    const planned = await cli([
      'plan',
      '--mapping',
      m2,
      '--db',
      db(),
      '--out',
      second,
      '--carry-optouts',
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = planOf(second);
    expect(plan.customers[0]!.optouts).toBe(1);
    expect(plan.summary.optouts_to_carry).toBe(1);
  }, 60_000);

  it('an in-place move after a finished migration, stopped half way, is planned again from where that move began', async () => {
    const first = dir.file('p1.json');
    const m1 = mapOf('m1.csv', 'acme', 'Acme SMS');
    expect((await cli(['plan', '--mapping', m1, '--db', db(), '--out', first])).code).toBe(0);
    expect((await cli(['apply', first, '--db', db(), '--rate', '1000'])).code).toBe(0);
    // Acme points its service at its own URL.
    const state = await env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'acme')!.sid;
    const acmeSms = state.services.find((s) => s.account_sid === sub)!;
    const token = env.emulator.state.accounts.get(sub)!.authToken;
    await env
      .clientFor(sub, token)
      .messaging.v1.services(acmeSms.sid)
      .update({ inboundRequestUrl: 'https://acme.example/new' });

    const m2 = mapOf('m2.csv', 'acme', 'Acme Two');
    const second = dir.file('p2.json');
    expect((await cli(['plan', '--mapping', m2, '--db', db(), '--out', second])).code).toBe(0);
    // create_service and detach go through; the attach is held; kill; it takes effect.
    await killAtHeldWrite(second, 2);
    await env.control('POST', '/__emulator/faults', { hold_after: 0 });

    const third = dir.file('p3.json');
    expect((await cli(['plan', '--mapping', m2, '--db', db(), '--out', third])).code).toBe(0);
    const plan = planOf(third);
    // The number now goes to another customer: its new service must route where it goes now.
    const m3 = mapOf('m3.csv', 'beta', 'Beta SMS');
    const fourth = dir.file('p4.json');
    expect((await cli(['plan', '--mapping', m3, '--db', db(), '--out', fourth])).code).toBe(0);
    const remap = planOf(fourth);
    const create = remap.steps.find((s) => s.action === 'create_service');
    expect(create?.action === 'create_service' && create.settings.inbound_request_url).toBe(
      'https://acme.example/new',
    );
    expect(plan.customers[0]!.numbers[0]!.route_before).toMatchObject({
      url: 'https://acme.example/new',
    });
  }, 60_000);
});
