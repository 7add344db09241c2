/**
 * A webhook URL with HTTP basic auth credentials in it (`https://user:password@host/path`,
 * Twilio's documented way of protecting a webhook) is a secret of the customer's app. The plan
 * keeps it (apply gives a number the inbound URL of the service it leaves), but what
 * people read — plan's listing and warnings, `apply --dry-run` and `--json`, audit.csv,
 * audit.json and report.html, a page made to be emailed — shows it with the password masked.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { filesUnder, makePlan, planOneCustomer, useCliWorkspace } from '../support/migration.js';
import type { CliResult } from '../support/snapshot-harness.js';

const N1 = '+14155550101';
const N2 = '+14155550102';
const N3 = '+14155550103';
const PASSWORD = 'Hook5ecret';
const SERVICE_URL = `https://owlie:${PASSWORD}@hooks.example/inbound`;
const NUMBER_URL = `https://owlie:${PASSWORD}@hooks.example/customers/acme/sms`;
// Passwords a URL parser reads, with characters that are not letters: an "@", a space.
const FALLBACK_URL = `https://owlie:x@${PASSWORD}@hooks.example/fallback`;
const BETA_URL = `https://owlie:my%20${PASSWORD}@hooks.example/beta/sms`;

describe('a webhook URL with a password in it', () => {
  const ws = useCliWorkspace({
    numbers: [
      { phone_number: N1, sms_url: NUMBER_URL },
      // beta's number answers on its own URLs, and keeps them.
      { phone_number: N2, sms_url: BETA_URL, sms_fallback_url: FALLBACK_URL },
      { phone_number: N3 },
    ],
    services: [
      {
        friendly_name: 'Shared',
        phone_numbers: [N1, N3],
        inbound_request_url: SERVICE_URL,
        fallback_url: FALLBACK_URL,
        status_callback: SERVICE_URL,
      },
    ],
  });
  const db = () => ws.dir.file('w.db');
  const plan = () => ws.dir.file('w.plan.json');
  let planned: CliResult;
  let dryRun: CliResult;
  let dryRunJson: CliResult;
  let applied: CliResult;

  beforeAll(async () => {
    const mapping = ws.dir.file('w.csv');
    // gamma's new service copies the URLs of the service its number leaves.
    writeFileSync(
      mapping,
      'customer_id,customer_name,phone_number,messaging_service\n' +
        `acme,Acme,${N1},\nbeta,Beta,${N2},\ngamma,Gamma,${N3},Gamma SMS\n`,
    );
    const snapshot = await ws.cli(['snapshot', '--db', db()]);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    planned = await makePlan(ws.cli, { mapping, db: db(), out: plan() });
    dryRun = await ws.cli(['apply', plan(), '--db', db(), '--dry-run']);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    dryRunJson = await ws.cli(['apply', plan(), '--db', db(), '--dry-run', '--json']);
    expect(dryRunJson.code, dryRunJson.stderr).toBe(0);
    applied = await ws.cli(['apply', plan(), '--db', db(), '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
  });

  it('is shown masked by plan, apply --dry-run and apply', () => {
    for (const result of [planned, dryRun, dryRunJson, applied]) {
      expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    }
    // Masked, not left out: the reviewer still sees which URL it is.
    expect(planned.stdout).toContain('https://owlie:***@hooks.example/inbound');
    expect(planned.stdout).toContain('(fallback POST https://owlie:***@hooks.example/fallback)');
    expect(planned.stdout).toContain('https://owlie:***@hooks.example/beta/sms');
    expect(dryRun.stdout).toContain('https://owlie:***@hooks.example/inbound');
    expect(dryRun.stdout).toContain('FallbackUrl=https://owlie:***@hooks.example/fallback');
    expect(dryRunJson.stdout).toContain('https://owlie:***@hooks.example/fallback');
  });

  it('is shown masked by status, in text and in --json', async () => {
    for (const args of [[], ['--json']]) {
      const status = await ws.cli(['status', '--db', db(), '--run', '1', ...args]);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain('https://owlie:***@hooks.example/inbound');
      expect(status.stdout + status.stderr).not.toContain(PASSWORD);
    }
  });

  it('is shown masked by routes, in text and in --json', async () => {
    for (const args of [[], ['--json']]) {
      const routes = await ws.cli(['routes', '--db', db(), ...args]);
      expect(routes.code, routes.stderr).toBe(0);
      expect(routes.stdout).toContain('https://owlie:***@hooks.example/inbound');
      expect(routes.stdout + routes.stderr).not.toContain(PASSWORD);
    }
    // The fallback the number keeps, beside its route.
    const json = await ws.cli(['routes', '--db', db(), '--json']);
    expect(JSON.parse(json.stdout).checks[0].fallback).toMatchObject({
      verdict: 'same',
      after: { url: 'https://owlie:***@hooks.example/fallback' },
    });
  });

  it('is shown masked by apply --json (its routing check, with the fallbacks)', async () => {
    // The plan is applied: apply again continues the finished run, and checks its routes again.
    const again = await ws.cli(['apply', plan(), '--db', db(), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).not.toContain(PASSWORD);
    expect(again.stdout).toContain('https://owlie:***@hooks.example/fallback');
  });

  it('is in no report file', () => {
    const files = filesUnder(join(ws.dir.path, 'reports'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(readFileSync(file, 'utf8'), file).not.toContain(PASSWORD);
  });

  it('is kept whole where it is set: the plan, and the moved numbers and new service in Twilio', async () => {
    const planText = readFileSync(plan(), 'utf8');
    for (const url of [SERVICE_URL, FALLBACK_URL, BETA_URL]) expect(planText).toContain(url);
    // The number, out of the service whose URL its inbound reached, keeps that URL as its own.
    const state = await ws.env.state();
    const number = (phone: string) => state.numbers.find((n) => n.phone_number === phone)!;
    expect(number(N1).account_sid).not.toBe(state.parent_account_sid);
    expect([number(N1).sms_url, number(N1).sms_fallback_url]).toEqual([SERVICE_URL, FALLBACK_URL]);
    // One that answered on its own URLs keeps them.
    expect(number(N2).account_sid).not.toBe(state.parent_account_sid);
    expect([number(N2).sms_url, number(N2).sms_fallback_url]).toEqual([BETA_URL, FALLBACK_URL]);
    // A new service has the URLs of the one its number left.
    const gamma = state.services.find((s) => s.friendly_name === 'Gamma SMS')!;
    expect([gamma.inbound_request_url, gamma.fallback_url, gamma.status_callback]).toEqual([
      SERVICE_URL,
      FALLBACK_URL,
      SERVICE_URL,
    ]);
  });
});

describe("a stale plan: a service's webhook URL with a password changed after planning", () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: N1 }],
    services: [{ friendly_name: 'Shared', phone_numbers: [N1], inbound_request_url: SERVICE_URL }],
  });

  it('apply refuses naming the service, with both URLs masked', async () => {
    await planOneCustomer(ws, [N1]);
    const service = (await ws.env.parent.messaging.v1.services.list({}))[0]!;
    await ws.env.parent.messaging.v1
      .services(service.sid)
      .update({ inboundRequestUrl: `https://owlie:${PASSWORD}2@hooks.example/v2` });
    const refused = await ws.cli(['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000']);
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.stderr).toContain(`service:${service.sid}: expected {`);
    expect(refused.stderr).toContain('"inbound_request_url":"https://owlie:***@hooks.example/v2"');
    expect(refused.stderr).toContain(
      '"inbound_request_url":"https://owlie:***@hooks.example/inbound"',
    );
    expect(refused.stdout + refused.stderr).not.toContain(PASSWORD);
  });
});
