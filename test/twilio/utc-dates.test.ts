/**
 * Twilio writes its dates in UTC. A date written without its offset (an ISO 8601 datetime
 * with no `Z`) is read as UTC too, not in the machine's time zone, which Date.parse alone
 * would use: the same day-file line dated a STOP hours apart on two machines, and a Bulk
 * Export job's estimate (which Twilio writes so) was told hours off.
 */

import { afterEach, describe, expect, it } from 'vitest';

import { toExportJob } from '../../src/twilio/adapter.js';
import { fromMessageJson, type MessageJson } from '../../src/twilio/message-json.js';

const record = (date_sent: string | null, date_created: string | null = null): MessageJson => ({
  sid: `SM${'0'.repeat(32)}`,
  account_sid: `AC${'0'.repeat(32)}`,
  from: '+12065550001',
  to: '+14155550001',
  body: 'STOP',
  direction: 'inbound',
  status: 'received',
  date_sent,
  date_created,
  error_code: null,
  messaging_service_sid: null,
});

const ZONES = [
  'Pacific/Kiritimati',
  'America/St_Johns',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'UTC',
];

describe("a message's dates, whatever the machine's time zone", () => {
  const tz = process.env['TZ'];
  afterEach(() => {
    if (tz === undefined) delete process.env['TZ'];
    else process.env['TZ'] = tz;
  });

  it.each(ZONES)('are UTC in %s', (zone) => {
    process.env['TZ'] = zone;
    const at = (value: string) => fromMessageJson(record(value)).dateSent?.toISOString();
    expect(at('2025-01-31T20:00:00Z')).toBe('2025-01-31T20:00:00.000Z');
    expect(at('Fri, 31 Jan 2025 20:00:00 +0000')).toBe('2025-01-31T20:00:00.000Z');
    expect(at('2025-01-31T20:00:00')).toBe('2025-01-31T20:00:00.000Z');
    expect(at('2025-01-31 20:00:00.000')).toBe('2025-01-31T20:00:00.000Z');
    expect(at('2025-01-31T20:00')).toBe('2025-01-31T20:00:00.000Z');
    expect(at('2025-01-31T22:00:00+02:00')).toBe('2025-01-31T20:00:00.000Z');
    expect(fromMessageJson(record(null, '2025-01-31T20:00:00')).dateSent?.toISOString()).toBe(
      '2025-01-31T20:00:00.000Z',
    );
    expect(fromMessageJson(record('not a date')).dateSent).toBeNull();
  });

  it.each(ZONES)("a Bulk Export job's estimate is UTC in %s", (zone) => {
    process.env['TZ'] = zone;
    const eta = (value: string) =>
      toExportJob({ job_sid: 'JS1', estimated_completion_time: value }).estimatedCompletion;
    expect(eta('2021-03-15T20:20:14.547')?.toISOString()).toBe('2021-03-15T20:20:14.547Z');
    expect(eta('2021-03-15T20:20:14Z')?.toISOString()).toBe('2021-03-15T20:20:14.000Z');
    expect(eta('')).toBeNull();
  });
});
