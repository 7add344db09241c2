/**
 * `apply --dry-run` lists every request apply would send, in the plan's order, from the plan
 * alone. Here the list is held to what apply then really sends: each write's method, URL and
 * credentials, once every SID the dry run could only name
 * (`{subaccount created for acme}`) is known. Every kind of step is in it: a subaccount
 * created and one matched by name, detaches, transfers, a service created, attaches, a number
 * given its service's URL, and opt-outs carried through the Consent API.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import { makePlan, seededStop, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const [A1, A2, B1, C1] = ['+14155550201', '+14155550202', '+14155550203', '+14155550204'];
const [R1, R2] = ['+12025550201', '+12025550202'];
const HOOK = 'https://app.example/sms';

describe('apply --dry-run lists what apply sends', () => {
  const ws = useCliWorkspace(
    {
      subaccounts: [{ friendly_name: 'Birch' }],
      numbers: [A1, A2, B1, C1].map((phone_number) => ({ phone_number })),
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: [A1, A2, C1],
          inbound_request_url: HOOK,
          fallback_url: 'https://app.example/fallback',
        },
      ],
      messages: [seededStop(R1, A1, NOW - 5 * DAY), seededStop(R2, B1, NOW - 4 * DAY)],
    },
    NOW,
  );

  it('the same writes, to the same URLs, with the same credentials', async () => {
    const { cli, dir, env } = ws;
    writeFileSync(
      dir.file('m.csv'),
      'customer_id,customer_name,phone_number,messaging_service\n' +
        `acme,Acme,${A1},acmeAlerts\nacme,Acme,${A2},acmeAlerts\n` +
        `birch,Birch,${B1},birchAlerts\ncedar,Cedar,${C1},\n`,
    );
    const db = dir.file('s.db');
    const plan = dir.file('m.plan.json');
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    await makePlan(cli, { mapping: dir.file('m.csv'), db, out: plan, plan: ['--carry-optouts'] });

    const dry = await cli(['apply', plan, '--db', db, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const listed = (JSON.parse(dry.stdout) as { requests: string[] }).requests;

    await clearRequestLog(env);
    const applied = await cli(['apply', plan, '--db', db, '--rate', '1000', '--concurrency', '1']);
    expect(applied.code, applied.stderr).toBe(0);
    const sent = (await requestLog(env)).filter((e) => e.method !== 'GET');

    // The SIDs the dry run could only name, as apply made them.
    const state = await env.state();
    const accountOf = (name: string) => state.accounts.find((a) => a.friendly_name === name)!.sid;
    const serviceOf = (name: string) => state.services.find((s) => s.friendly_name === name)!.sid;
    const known = (line: string) =>
      line
        .replace(/\{subaccount created for (\w+)\}/g, (_, id: string) =>
          accountOf(id[0]!.toUpperCase() + id.slice(1)),
        )
        .replace(/\{service created for (\w+)\}/g, (_, id: string) => serviceOf(`${id}Alerts`));
    const expected = listed
      .filter((line) => /^(POST|DELETE) /.test(line))
      .map(known)
      .map((line) => {
        const [method, url] = line.split(/\s+/);
        const who = /\(credentials of (AC\w{32})\)/.exec(line)?.[1] ?? state.parent_account_sid;
        return `${method} ${new URL(url!).pathname} ${who}`;
      });
    const actual = sent.map((e) => `${e.method} ${e.path} ${e.account_sid}`);
    // Apply sends each step once the steps it depends on are done, two at a time here: the
    // same requests, in an order of its own.
    expect([...actual].sort()).toEqual([...expected].sort());
    // Every kind of write is in it.
    for (const kind of [
      '/Accounts.json',
      '/IncomingPhoneNumbers/',
      '/Services',
      '/PhoneNumbers',
      '/Consents/Bulk',
    ]) {
      expect(
        actual.some((line) => line.includes(kind)),
        kind,
      ).toBe(true);
    }
    expect(actual.some((line) => line.startsWith('DELETE '))).toBe(true);

    // Each subaccount token fetched where apply fetches it: Birch's (matched by name) when its
    // drift check reads Birch's services, before any write. The dry run listed it at Birch's
    // first step, after the writes of the steps before it.
    const tokenOf = (path: string) =>
      /^\/2010-04-01\/Accounts\/(AC\w{32})\.json$/.exec(path)?.[1] ?? null;
    const fetchesAmongWrites = (requests: { method: string; path: string }[]) => {
      let writes = 0;
      const fetches: string[] = [];
      for (const { method, path } of requests) {
        const token = method === 'GET' ? tokenOf(path) : null;
        if (method !== 'GET') writes += 1;
        else if (token !== null && token !== state.parent_account_sid) {
          fetches.push(`${token} after ${writes} write(s)`);
        }
      }
      return fetches;
    };
    const dryOrder = fetchesAmongWrites(
      listed
        .map(known)
        .filter((line) => /^(GET|POST|DELETE) /.test(line))
        .map((line) => {
          const [method, url] = line.split(/\s+/);
          return { method: method!, path: new URL(url!).pathname };
        }),
    );
    const sentOrder = fetchesAmongWrites(await requestLog(env));
    expect(sentOrder).toEqual([`${accountOf('Birch')} after 0 write(s)`]);
    expect(dryOrder).toEqual(sentOrder);
  });
});
