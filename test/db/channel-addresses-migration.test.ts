/**
 * Migration 021: a ledger an older submigrate filled kept RCS and WhatsApp evidence under the
 * channel addresses as written (`rcs:+1…`), on no number's list and under a recipient the
 * customer's app never finds. The migration keeps the E.164 number a channel address carries
 * and the channel beside it; an address that carries none (an RCS agent) stays as it is; a
 * YES to a toll-free number read under its channel address is no opt-in.
 */

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { migrate, readMigrations } from '../../src/db/migrate.js';
import { MIGRATIONS_DIR } from '../support/snapshot-harness.js';

const CLOCK = { now: () => new Date('2026-01-01T00:00:00.000Z') };
const ACCOUNT = `AC${'a'.repeat(32)}`;

describe('migration 021: channel addresses in the ledger', () => {
  it('keeps the E.164 number a channel address carries, and the channel beside it', () => {
    const db = new Database(':memory:');
    const all = readMigrations(MIGRATIONS_DIR);
    migrate(
      db,
      all.filter((m) => m.version < 21),
      ':memory:',
      CLOCK,
    );
    db.prepare(
      `INSERT INTO snapshot_runs (id, parent_account_sid, status, started_at, pid, hostname,
         partitions, keywords_json, explicit_window) VALUES (1, ?, 'completed', '2025-01-01T00:00:00Z', 1, 'h', 1, '{}', 0)`,
    ).run(ACCOUNT);
    const insert = db.prepare(
      `INSERT INTO ledger_events (message_sid, account_sid, kind, keyword, twilio_number, end_user,
         messaging_service_sid, direction, body, date_sent, error_code, run_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '2025-06-01T00:00:00Z', ?, 1)`,
    );
    const rows: [
      string,
      string,
      string | null,
      string,
      string,
      string | null,
      string,
      number | null,
    ][] = [
      ['SM1', 'opt-out', 'STOP', 'rcs:+14155550101', 'rcs:+12065550001', null, 'inbound', null],
      ['SM2', 'opt-out', 'STOP', 'rcs:bistro_agent', 'rcs:+12065550002', 'MGs', 'inbound', null],
      [
        'SM3',
        'opt-out',
        'STOP',
        'whatsapp:+14155550103',
        'whatsapp:+12065550003',
        null,
        'inbound',
        null,
      ],
      ['SM4', 'opt-out', 'STOP', '+14155550104', '+12065550004', null, 'inbound', null],
      ['SM5', 'refused', null, 'OWLIE', '+12065550005', null, 'outbound-api', 21610],
      ['SM6', 'opt-out', 'STOP', 'messenger:1234567', 'messenger:7654321', null, 'inbound', null],
      ['SM7', 'opt-in', 'YES', 'rcs:+18005550107', 'rcs:+12065550007', null, 'inbound', null],
      ['SM8', 'opt-in', 'START', 'rcs:+18005550108', 'rcs:+12065550008', null, 'inbound', null],
      ['SM9', 'opt-in', 'YES', '+14155550109', 'rcs:+12065550009', null, 'inbound', null],
      [
        'SMa',
        'opt-in',
        'START',
        'whatsapp:+14155550110',
        'whatsapp:+12065550010',
        null,
        'inbound',
        null,
      ],
      [
        'SMb',
        'help',
        'HELP',
        'whatsapp:+14155550111',
        'whatsapp:+12065550011',
        null,
        'inbound',
        null,
      ],
    ];
    for (const [sid, kind, keyword, twilio, user, service, direction, error] of rows) {
      insert.run(sid, ACCOUNT, kind, keyword, twilio, user, service, direction, 'x', error);
    }

    migrate(db, all, ':memory:', CLOCK);

    const after = db
      .prepare(
        'SELECT message_sid, twilio_number, end_user, channel FROM ledger_events ORDER BY message_sid',
      )
      .raw()
      .all();
    expect(after).toEqual([
      ['SM1', '+14155550101', '+12065550001', 'rcs'],
      ['SM2', 'rcs:bistro_agent', '+12065550002', 'rcs'],
      ['SM3', '+14155550103', '+12065550003', 'whatsapp'],
      ['SM4', '+14155550104', '+12065550004', null],
      ['SM5', 'OWLIE', '+12065550005', null],
      ['SM6', 'messenger:1234567', 'messenger:7654321', 'messenger'],
      // SM7, a YES to a toll-free number, is no opt-in; a START there is.
      ['SM8', '+18005550108', '+12065550008', 'rcs'],
      ['SM9', '+14155550109', '+12065550009', 'rcs'],
      // SMa, a START over WhatsApp, lifts no SMS opt-out; a HELP changes nothing either way.
      ['SMb', '+14155550111', '+12065550011', 'whatsapp'],
    ]);
  });
});
