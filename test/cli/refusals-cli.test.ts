/**
 * A refusal is Twilio's own verdict, through the built CLI against the emulator: the STOP lies
 * outside the Messages API's window, so the only evidence the snapshot can read is the send
 * Twilio refused with 21610. `optouts` lists the pair on that evidence, and a START the end
 * user texts afterwards takes it off again; a pair still on the list is carried into the
 * customer's subaccount like any other opt-out, so that Twilio refuses it there too. Needs
 * `npm run build` (`npm test` builds first).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';

import { ownClient, twilioFailure } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const A = '+14155550101'; // in a service
const C = '+14155550103'; // no service
const NUMBER_USER = '+12065550001';
const SERVICE_USER = '+12065550002';
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('submigrate optouts on a pair known only from a refused send (built CLI)', () => {
  /** The emulator's clock: a minute or two behind the CLI's, so every message is in the past. */
  let clock = Date.now() - 120_000;
  const ws = useCliWorkspace(undefined, { now: () => clock });
  let serviceSid: string;
  /** The refused sends' SIDs and dates, by recipient. */
  const refusals = new Map<string, { sid: string; at: string }>();
  const db = () => ws.dir.file('refusals.db');
  const optouts = async () => {
    const result = await runCli(['optouts', '--db', db()], cliEnv(ws.env));
    expect(result.code, result.stderr).toBe(0);
    return parse(result.stdout, { columns: true }) as Record<string, string>[];
  };

  beforeAll(async () => {
    const seeded = await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: C }],
      services: [{ friendly_name: 'Owlie Shared', phone_numbers: [A] }],
      // Both people said STOP a month ago: Twilio still enforces it.
      messages: [
        {
          from: NUMBER_USER,
          to: C,
          body: 'STOP',
          direction: 'inbound',
          date_sent: iso(clock - 30 * DAY),
        },
        {
          from: SERVICE_USER,
          to: A,
          body: 'STOP',
          direction: 'inbound',
          date_sent: iso(clock - 30 * DAY),
        },
      ],
    });
    serviceSid = seeded.services[0]!.sid;
    // …but the Messages API now shows only the last 7 days (and the snapshots below skip Bulk
    // Export, which would still find the STOPs: the refusals are all they see).
    await ws.env.control('POST', '/__emulator/settings', { message_retention_days: 7 });
    // The customer's app texts them anyway: Twilio refuses both, from the number and through
    // the service.
    expect(
      await twilioFailure(ws.env.parent.messages.create({ from: C, to: NUMBER_USER, body: 'Hi' })),
    ).toMatchObject({ status: 400, code: 21610 });
    expect(
      await twilioFailure(
        ws.env.parent.messages.create({
          messagingServiceSid: serviceSid,
          to: SERVICE_USER,
          body: 'Hi',
        }),
      ),
    ).toMatchObject({ status: 400, code: 21610 });
    clock += 5_000;
    // A second refusal later: the first one stays the evidence.
    await twilioFailure(
      ws.env.parent.messages.create({ from: C, to: NUMBER_USER, body: 'Hi again' }),
    );
    for (const m of await ws.env.parent.messages.list({ pageSize: 1000 })) {
      expect(m.errorCode).toBe(21610);
      const first = refusals.get(m.to);
      if (first === undefined || m.dateSent.getTime() < Date.parse(first.at)) {
        refusals.set(m.to, { sid: m.sid, at: iso(m.dateSent.getTime()) });
      }
    }
    expect(refusals.size).toBe(2);
  });

  it('lists both pairs with evidence refusal: no STOP, opted out at the first refusal', async () => {
    const snapshot = await runCli(['snapshot', '--no-export', '--db', db()], cliEnv(ws.env));
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(snapshot.stdout).toMatch(
      /ledger: 0 opt-out, 0 opt-in, 0 help, 3 refused \(21610\); 2 pairs opted out now/,
    );
    const rows = await optouts();
    expect(
      rows.map((r) => [r['recipient'], r['scope'], r['sender_number'], r['messaging_service_sid']]),
    ).toEqual([
      [NUMBER_USER, 'number', C, ''],
      [SERVICE_USER, 'service', A, serviceSid],
    ]);
    for (const row of rows) {
      const refusal = refusals.get(row['recipient']!)!;
      expect(row).toMatchObject({
        keyword: '',
        body: '',
        stop_message_sid: '',
        opted_out_at: refusal.at,
        account_sid: ws.env.parentSid,
        evidence: 'refusal',
        evidence_message_sid: refusal.sid,
      });
    }
  });

  it('a START the end user texts afterwards takes the pair off the list', async () => {
    clock += 60_000;
    await ws.env.control('POST', '/__emulator/inbound', {
      from: NUMBER_USER,
      to: C,
      body: 'START',
    });
    const snapshot = await runCli(['snapshot', '--no-export', '--db', db()], cliEnv(ws.env));
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(snapshot.stdout).toMatch(/1 new events; .* 1 pairs opted out now/);
    const rows = await optouts();
    expect(rows.map((r) => [r['recipient'], r['evidence']])).toEqual([[SERVICE_USER, 'refusal']]);
  });

  it('plan --carry-optouts carries the pair, dated at its first refusal; Twilio refuses it in the subaccount', async () => {
    const mapping = ws.dir.file('m.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},acmeAlerts\n`,
    );
    const plan = ws.dir.file('p.json');
    const planned = await ws.cli([
      'plan',
      '--mapping',
      mapping,
      '--db',
      db(),
      '--out',
      plan,
      '--carry-optouts',
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(plan, 'utf8')) as {
      carry_items: { step: string; contact_id: string; date_of_consent: string }[];
    };
    expect(doc.carry_items).toEqual([
      expect.objectContaining({
        step: 'carry_optouts:acme',
        contact_id: SERVICE_USER,
        date_of_consent: refusals.get(SERVICE_USER)!.at,
      }),
    ]);
    const applied = await ws.cli(['apply', plan, '--db', db(), '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    // The customer's suppression list in the reports says what the evidence is.
    const list = parse(
      readFileSync(join(ws.dir.path, 'reports', '1', 'optouts', 'acme.csv'), 'utf8'),
      {
        columns: true,
      },
    ) as Record<string, string>[];
    expect(list).toEqual([
      expect.objectContaining({
        recipient: SERVICE_USER,
        stop_message_sid: '',
        opted_out_at: refusals.get(SERVICE_USER)!.at,
        evidence: 'refusal',
        evidence_message_sid: refusals.get(SERVICE_USER)!.sid,
        twilio_enforces: 'yes',
      }),
    ]);
    const state = await ws.env.state();
    const acme = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const client = ownClient(ws.env, acme);
    const alerts = state.services.find((s) => s.friendly_name === 'acmeAlerts')!.sid;
    expect(
      await twilioFailure(
        client.messages.create({ messagingServiceSid: alerts, to: SERVICE_USER, body: 'Hi' }),
      ),
    ).toMatchObject({ status: 400, code: 21610 });
  });
});
