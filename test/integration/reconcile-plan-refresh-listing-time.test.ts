/**
 * A plan's refresh records the accounts' numbers the plan itself listed (it does not list them
 * again): that listing is as old as the plan's look at the accounts, not the refresh's start.
 * Listing a large family takes minutes, and a number moved by hand in that time was last seen
 * in the account it left when the plan looked, not when the refresh began: reconcile, which
 * judges its sends from the last listing that saw it elsewhere (migration 027), judges those
 * it made in between (real SDK, emulator over HTTP, real SQLite; the plan in-process so its
 * clock can move on while it looks at the accounts).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import type { Clock } from '../../src/clock.js';
import { withDb } from '../../src/db/open.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { ownClient } from '../support/emulator.js';
import {
  moveOutOfSharedByHand,
  planAndApply,
  readCsv,
  seededStop,
  useCliWorkspaceEach,
} from '../support/migration.js';
import { MIGRATIONS_DIR, TEST_RUNNER } from '../support/snapshot-harness.js';

const A = '+14155550931';
const B = '+14155550932';
const R2 = '+12065550192';
const DAY = 86_400_000;
const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a number moved by hand while a plan looked at the family', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');
  const mapping = () => ws.dir.file('map.csv');

  it('judges the send it made after the plan saw it in the parent, before the refresh began', async () => {
    // A and B in the parent's Shared; R2 said STOP to B through it; the mapping gives A to Acme.
    await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }],
      services: [{ friendly_name: 'Shared', phone_numbers: [A, B] }],
      messages: [seededStop(R2, B, Date.now() - DAY)],
    });
    writeFileSync(mapping(), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);

    // The plan lists the family and sees A in the parent. Once it has (its refresh's first
    // request), someone moves A into Acme's subaccount in the console and A texts R2 from
    // there; looking at the rest of a large family took ten minutes.
    let offset = 0;
    const clock: Clock = { now: () => new Date(Date.now() + offset) };
    const port = ws.env.port();
    let meanwhile: Promise<string> | undefined;
    const slow = new Proxy(port, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        const bound = (value as (...args: unknown[]) => unknown).bind(target);
        if (prop !== 'fetchAccount') return bound;
        return async (...args: unknown[]) => {
          meanwhile ??= (async () => {
            const sub = await moveOutOfSharedByHand(ws.env, A);
            const sent = await ownClient(ws.env, sub.sid).messages.create({
              to: R2,
              from: A,
              body: 'Sale!',
            });
            expect(sent.status).not.toBe('failed');
            offset = 10 * MINUTE;
            return sent.sid;
          })();
          await meanwhile;
          return bound(...args);
        };
      },
    }) as TwilioPort;
    const location = { path: db(), migrationsDir: MIGRATIONS_DIR, clock };
    await withDb(location, (d) =>
      runPlan(
        {
          mapping: parseMapping('map.csv', readFileSync(mapping(), 'utf8')),
          snapshot: true,
          credentials: 'auth-token',
        },
        { twilio: slow, db: d, clock, runner: TEST_RUNNER },
      ),
    );
    const sid = await meanwhile!;

    // The refresh kept the plan's own look at the parent, which came before the move.
    const conn = new Database(db(), { readonly: true });
    const parent = ws.env.parent.accountSid;
    const { lastSeen } = conn
      .prepare(
        `SELECT l.last_seen AS lastSeen FROM number_accounts_seen l
         WHERE l.phone_number = ? AND l.account_sid = ?`,
      )
      .get(A, parent) as { lastSeen: string };
    conn.close();
    expect(Date.parse(lastSeen)).toBeLessThan(Date.now());

    // Planned again (A in Acme now) a few seconds on, and applied; reconcile judges the send
    // to R2, made before this plan saw A there.
    await sleep(2_100);
    await planAndApply(cli, { mapping: mapping(), db: db(), out: ws.dir.file('p.json') });
    const reconciled = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(reconciled.code, reconciled.stdout + reconciled.stderr).toBe(3);
    expect(reconciled.stdout).toContain(': 1 new violation(s)');
    const folder = /(reports\/\d+)\/violations\.csv/.exec(reconciled.stdout)![1]!;
    const found = readCsv(join(ws.dir.path, folder, 'violations.csv'));
    expect(
      found.map((r) => [r['violating_message_sid'], r['recipient'], r['sender_number']]),
    ).toEqual([[sid, R2, A]]);
  }, 60_000);
});
