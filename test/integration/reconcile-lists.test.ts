/**
 * What reconcile holds a moved number's sends to, and from when it reads them (emulator over
 * HTTP; the CLI built, except where the clock must move on): the list as it stood at the move,
 * every send since the move even after a later plan read the subaccount, and no verdict at all
 * when no snapshot read the account the number came from.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { withDb } from '../../src/db/open.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
import { ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, useCliWorkspaceEach } from '../support/migration.js';
import { fixedClock, MIGRATIONS_DIR, TEST_RUNNER } from '../support/snapshot-harness.js';

const A = '+14155550401';
const B = '+14155550402';
const R1 = '+12065550001';
const R9 = '+12065550009';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: which list, from when', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');
  const mapping = () => ws.dir.file('map.csv');

  /** Acme's number A, alone in its mapping; snapshot (unless told not to), plan and apply. */
  async function moveA(snapshot = true) {
    writeFileSync(
      mapping(),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},\n`,
    );
    if (snapshot) expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(cli, {
      mapping: mapping(),
      db: db(),
      out: ws.dir.file('p.json'),
      plan: snapshot ? [] : ['--no-snapshot'],
      apply: snapshot ? [] : ['--allow-missing-snapshot'],
    });
    const sub = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    return ownClient(ws.env, sub);
  }

  it('reads every send since the move, though a later plan read the subaccount since', async () => {
    await ws.env.seed({
      numbers: [{ phone_number: A, sms_url: 'https://app.example/a' }],
      messages: [{ from: R1, to: A, body: 'STOP', direction: 'inbound', date_sent: daysAgo(28) }],
    });
    const acme = await moveA();
    const violating = await acme.messages.create({ to: R1, from: A, body: 'Sale today!' });

    // An hour on, the mapping is planned again (its refresh reads the subaccount up to then),
    // and only then does reconcile run.
    const later = Date.now() + 3_600_000;
    const location = { path: db(), migrationsDir: MIGRATIONS_DIR, clock: fixedClock(later) };
    await withDb(location, (d) =>
      runPlan(
        {
          mapping: parseMapping('map.csv', readFileSync(mapping(), 'utf8')),
          snapshot: true,
          credentials: 'auth-token',
        },
        { twilio: ws.env.port(), db: d, clock: fixedClock(later), runner: TEST_RUNNER },
      ),
    );
    const result = await withDb(location, (d) =>
      runReconcile(
        { since: null },
        { twilio: ws.env.port(), db: d, clock: fixedClock(later + 60_000), runner: TEST_RUNNER },
      ),
    );
    expect(result.newViolations).toBe(1);
    const [found] = await withDb(location, (d) =>
      d.prepare('SELECT violating_message_sid AS sid FROM violations').all(),
    );
    expect(found).toEqual({ sid: violating.sid });
  });

  it('gives no verdict when no snapshot read the account the numbers came from', async () => {
    await ws.env.seed({
      numbers: [{ phone_number: A, sms_url: 'https://app.example/a' }],
      messages: [{ from: R1, to: A, body: 'STOP', direction: 'inbound', date_sent: daysAgo(28) }],
    });
    const acme = await moveA(false);
    await acme.messages.create({ to: R1, from: A, body: 'Sale today!' });

    const reconciled = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(reconciled.code).toBe(1);
    expect(reconciled.stderr).toContain(
      `no completed snapshot has read ${ws.env.parentSid}, where moved numbers came from (customers acme)`,
    );
    expect(reconciled.stdout).not.toContain('0 violation');
  });

  it('holds sends to the list as it stood at the move, in a staged move out of a shared service', async () => {
    await ws.env.seed({
      numbers: [
        { phone_number: A, sms_url: 'https://app.example/a' },
        { phone_number: B, sms_url: 'https://app.example/b' },
      ],
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: [A, B],
          inbound_request_url: 'https://app.example/shared',
        },
      ],
      // Through Shared: a service-wide opt-out, on A's list when it moves.
      messages: [{ from: R1, to: A, body: 'STOP', direction: 'inbound', date_sent: daysAgo(28) }],
    });
    const acme = await moveA();

    // Acme texts R9, who then says STOP to B, still in Shared; R1 says START to B.
    const early = await acme.messages.create({ to: R9, from: A, body: 'Welcome!' });
    await sleep(1_100);
    await ws.env.control('POST', '/__emulator/inbound', { from: R9, to: B, body: 'STOP' });
    await ws.env.control('POST', '/__emulator/inbound', { from: R1, to: B, body: 'START' });
    await sleep(1_100);
    const late = await acme.messages.create({ to: R1, from: A, body: 'Sale today!' });

    // The parent's ledger learns both (the next wave's snapshot), then reconcile.
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    expect((await cli(['reconcile', '--db', db()])).code).toBe(0);
    const found = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv')).map(
      (r) => r['violating_message_sid'],
    );
    // R9's STOP came after A left Shared: not on A's list. R1's START to Shared after A left
    // does not take R1 off A's list.
    expect(found).toEqual([late.sid]);
    expect(found).not.toContain(early.sid);
  });
});
