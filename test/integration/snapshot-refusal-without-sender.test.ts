/**
 * A send a Messaging Service refused with 21610 before it chose a sender: Twilio records it
 * with `from` null (the Message schema's `from` is nullable). Its scope is the service, so it
 * is evidence like any refusal — read from the Messages API or from a Bulk Export day file.
 */

import { beforeAll, describe, expect, it } from 'vitest';

import Database from 'better-sqlite3';

import { exportOptOuts } from '../../src/optouts/export.js';
import { useCliWorkspace } from '../support/migration.js';
import { fixedClock, snapshotInto, withLedger } from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const SERVICE = 'MG' + '1'.repeat(32);

describe('a refused send Twilio recorded without a sender', () => {
  let now = NOW - 600 * DAY;
  const ws = useCliWorkspace(undefined, { now: () => now });

  beforeAll(async () => {
    now = NOW;
  });

  it('keeps the recipient on the list of the service, from the API and from Bulk Export', async () => {
    const refused = (to: string, at: number) => ({
      from: null as unknown as string,
      to,
      body: 'Your table is ready',
      direction: 'outbound-api' as const,
      date_sent: at,
      status: 'failed',
      error_code: 21610,
      account_sid: ws.env.parentSid,
      messaging_service_sid: SERVICE,
    });
    const seeded = await ws.env.seed({
      numbers: [{ phone_number: '+12025550101' }],
      services: [{ friendly_name: 'Reminders', sid: SERVICE, phone_numbers: ['+12025550101'] }],
      messages: [
        // Within the Messages API's 400 days, and older (read from a Bulk Export day file).
        refused('+14155550001', NOW - 10 * DAY),
        refused('+14155550002', NOW - 500 * DAY),
      ],
    });
    await snapshotInto(ws.dir.file('ledger.db'), ws.env.port(), fixedClock(NOW));
    const { optouts } = await withLedger(ws.dir.file('ledger.db'), (db) => exportOptOuts(db));
    expect(
      optouts.map((row) => ({
        recipient: row.recipient,
        scope: row.scope,
        messaging_service_sid: row.messaging_service_sid,
        sender_number: row.sender_number,
        evidence: row.evidence,
        evidence_message_sid: row.evidence_message_sid,
      })),
    ).toEqual(
      ['+14155550001', '+14155550002'].map((recipient, i) => ({
        recipient,
        scope: 'service',
        messaging_service_sid: SERVICE,
        sender_number: '',
        evidence: 'refusal',
        evidence_message_sid: seeded.messages[i]!.sid,
      })),
    );
  });

  it('is read again from a database whose snapshots an older submigrate took, which dropped it', async () => {
    const path = ws.dir.file('ledger.db');
    // As an older submigrate left it: its runs of rules version 2, the refusals not kept.
    const sqlite = new Database(path);
    sqlite.prepare('UPDATE snapshot_runs SET rules_version = 2').run();
    sqlite.prepare("DELETE FROM ledger_events WHERE kind = 'refused'").run();
    sqlite.close();
    await snapshotInto(path, ws.env.port(), fixedClock(NOW));
    const { optouts } = await withLedger(path, (db) => exportOptOuts(db));
    expect(optouts.map((row) => row.recipient)).toEqual(['+14155550001', '+14155550002']);
  });
});
