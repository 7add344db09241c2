/**
 * A Bulk Export day file may write a field it has no value for as "" rather than null (it does
 * for error_code). A message through no Messaging Service so written is number scope all the
 * same: its opt-out binds the number it was sent to, and a START to another number lifts
 * nothing.
 */

import { beforeAll, describe, expect, it } from 'vitest';

import Database from 'better-sqlite3';

import { exportOptOuts } from '../../src/optouts/export.js';
import { useCliWorkspace } from '../support/migration.js';
import { olderDatabase } from '../support/older-schema.js';
import { fixedClock, snapshotInto, withLedger } from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const USER = '+14155550001';

describe('a day file that writes no Messaging Service as ""', () => {
  let now = NOW - 600 * DAY;
  const ws = useCliWorkspace(undefined, { now: () => now });

  beforeAll(async () => {
    now = NOW;
  });

  it('keeps a STOP to one number when the person texted START to another', async () => {
    const inbound = (to: string, body: string, at: number) => ({
      from: USER,
      to,
      body,
      direction: 'inbound' as const,
      date_sent: at,
      account_sid: ws.env.parentSid,
      messaging_service_sid: '',
    });
    // Older than the Messages API's 400 days: read from Bulk Export day files only.
    const seeded = await ws.env.seed({
      numbers: [{ phone_number: '+12025550101' }, { phone_number: '+12025550102' }],
      messages: [
        inbound('+12025550101', 'STOP', NOW - 500 * DAY),
        inbound('+12025550102', 'START', NOW - 499 * DAY),
      ],
    });
    const result = await snapshotInto(ws.dir.file('ledger.db'), ws.env.port(), fixedClock(NOW));
    expect(result.exportMessagesRead).toBe(2);
    const { optouts } = await withLedger(ws.dir.file('ledger.db'), (db) => exportOptOuts(db));
    expect(
      optouts.map((row) => ({
        recipient: row.recipient,
        scope: row.scope,
        sender_number: row.sender_number,
        messaging_service_sid: row.messaging_service_sid,
        stop_message_sid: row.stop_message_sid,
      })),
    ).toEqual([
      {
        recipient: USER,
        scope: 'number',
        sender_number: '+12025550101',
        messaging_service_sid: null,
        stop_message_sid: seeded.messages[0]!.sid,
      },
    ]);
    expect(ws.env.httpClient.violations).toEqual([]);
  });

  it('mends the evidence an older submigrate kept with "" for a service', async () => {
    // As an older submigrate left it: no migration past 015 (nor the tables and columns later
    // ones create), and the rows with "".
    const path = ws.dir.file('older-ledger.db');
    olderDatabase(ws.dir.file('ledger.db'), path, 15);
    const sqlite = new Database(path);
    sqlite.prepare("UPDATE ledger_events SET messaging_service_sid = ''").run();
    sqlite.close();
    const { optouts } = await withLedger(path, (db) => exportOptOuts(db));
    expect(optouts.map((row) => [row.scope, row.sender_number, row.body])).toEqual([
      ['number', '+12025550101', 'STOP'],
    ]);
  });
});
