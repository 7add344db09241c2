/**
 * The Messaging Service an apply created in a customer's subaccount is a service: no snapshot
 * lists the subaccount's services (it reads the parent), so the apply's own record of it has to
 * make it known. After the move, a STOP to one of its numbers and a START to another both come
 * through it: the START lifts the STOP for the whole service (Twilio's rule), and no coverage
 * statement calls the tool's own service a SID "not known as a service"; nor in a database an
 * apply of migration 019's submigrate wrote, which did not record it. Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { inbound } from '../support/emulator.js';
import { olderDatabase } from '../support/older-schema.js';
import { useCliWorkspaceEach } from '../support/migration.js';

const X = '+14155550101';
const Y = '+14155550102';
const P = '+12065550001';
const SHARED = 'MG0123456789abcdef0123456789abcdef';

describe('optouts: the service an apply created in the subaccount', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;

  /** Snapshot, plan and apply; then P says STOP to X and START to Y, in the subaccount. */
  async function movedThenStopAndStart(): Promise<string> {
    await ws.env.seed({
      numbers: [
        { phone_number: X, sms_url: 'https://app.example/x' },
        { phone_number: Y, sms_url: 'https://app.example/y' },
      ],
      services: [{ friendly_name: 'Shared', sid: SHARED, phone_numbers: [X, Y] }],
    });
    const db = ws.dir.file('s.db');
    const plan = ws.dir.file('s.plan.json');
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${X},Acme SMS\nacme,Acme,${Y},Acme SMS\n`,
    );
    expect((await cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    const planned = await cli(['plan', '--mapping', 'm.csv', '--db', db, '--out', plan]);
    expect(planned.code, planned.stderr).toBe(0);
    const applied = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);

    // In the subaccount, both numbers are in the service the apply created.
    const state = await ws.env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const stop = await inbound(ws.env, { from: P, to: X, body: 'STOP' });
    // date_sent has whole seconds: the START comes in a later second than the STOP.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const start = await inbound(ws.env, { from: P, to: Y, body: 'START' });
    expect(stop.account_sid).toBe(sub);
    expect(stop.messaging_service_sid).toMatch(/^MG[0-9a-f]{32}$/);
    expect(stop.messaging_service_sid).not.toBe(SHARED);
    expect(start.messaging_service_sid).toBe(stop.messaging_service_sid);
    return db;
  }

  async function expectLifted(db: string): Promise<void> {
    const reconciled = await cli(['reconcile', '--db', db]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const exported = await cli(['optouts', '--db', db, '--format', 'json']);
    expect(exported.code, exported.stderr).toBe(0);
    const json = JSON.parse(exported.stdout) as {
      optouts: { recipient: string }[];
      coverage: { services_not_known: unknown[] };
    };
    expect(json.optouts.map((r) => r.recipient)).toEqual([]);
    expect(json.coverage.services_not_known).toEqual([]);
  }

  it('takes a START through it as lifting a STOP to another of its numbers', async () => {
    await expectLifted(await movedThenStopAndStart());
  });

  it('does so in a database an apply of the schema before wrote', async () => {
    const db = await movedThenStopAndStart();
    const older = ws.dir.file('older.db');
    olderDatabase(db, older, 19);
    // What only this apply recorded: an older one knew the parent's services alone.
    const raw = new Database(older);
    const removed = raw
      .prepare('DELETE FROM messaging_services WHERE account_sid <> ?')
      .run(ws.env.parentSid).changes;
    raw.close();
    expect(removed).toBe(1);
    await expectLifted(older);
  });
});
