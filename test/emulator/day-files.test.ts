/** Bulk Export day files, unit by unit: the line format, the gzip stream and day parsing. */

import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import {
  byteLength,
  dayBounds,
  dayFileStream,
  parseDay,
  renderExportLine,
} from '../../src/emulator/exports/day-files.js';
import type { MessageRecord } from '../../src/emulator/message-store.js';

const SENT = Date.UTC(2025, 1, 28, 16, 20, 3);

function message(overrides: Partial<MessageRecord> = {}): MessageRecord {
  return {
    sid: 'SM' + 'a'.repeat(32),
    accountSid: 'AC' + 'b'.repeat(32),
    from: '+16505550199',
    to: '+14155550142',
    body: 'Stop',
    direction: 'inbound',
    status: 'received',
    dateSent: SENT,
    dateCreated: SENT,
    dateUpdated: SENT,
    errorCode: null,
    messagingServiceSid: 'MG' + 'c'.repeat(32),
    numSegments: 1,
    price: '-0.00790',
    seq: 1,
    jsonChunk: -1,
    jsonStart: 0,
    jsonEnd: 0,
    ...overrides,
  };
}

describe('renderExportLine', () => {
  it('writes the export field set as one JSON line with ISO 8601 UTC dates', () => {
    const line = renderExportLine(message());
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      sid: 'SM' + 'a'.repeat(32),
      account_sid: 'AC' + 'b'.repeat(32),
      messaging_service_sid: 'MG' + 'c'.repeat(32),
      from: '+16505550199',
      to: '+14155550142',
      body: 'Stop',
      status: 'received',
      direction: 'inbound',
      num_segments: '1',
      num_media: '0',
      price: '-0.00790',
      error_code: null,
      date_created: '2025-02-28T16:20:03Z',
      date_updated: '2025-02-28T16:20:03Z',
      date_sent: '2025-02-28T16:20:03Z',
    });
  });

  it('escapes any body as JSON and writes nulls and error codes as JSON values', () => {
    const body = 'He said "STOP"\n\tthen \\ left 👋 \u2028';
    const parsed = JSON.parse(
      renderExportLine(message({ body, errorCode: 21610, price: null, messagingServiceSid: null })),
    ) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      body,
      error_code: 21610,
      price: null,
      messaging_service_sid: null,
    });
  });
});

describe('dayFileStream', () => {
  it.each([1234, 50_001])(
    'is the gzip of the lines, the same bytes however it is produced (%i messages)',
    async (count) => {
      const messages = Array.from({ length: count }, (_, i) =>
        message({ sid: `SM${String(i).padStart(32, '0')}`, body: `message ${i}` }),
      );
      const chunks: Buffer[] = [];
      for await (const chunk of dayFileStream(messages)) chunks.push(chunk as Buffer);
      const streamed = Buffer.concat(chunks);
      const whole = gzipSync(Buffer.from(messages.map(renderExportLine).join('')));
      expect(streamed.equals(whole)).toBe(true);
      expect(await byteLength(dayFileStream(messages))).toBe(streamed.length);
      const lines = gunzipSync(streamed).toString('utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(count);
    },
  );

  it('an empty day is an empty gzip file', async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of dayFileStream([])) chunks.push(chunk as Buffer);
    expect(gunzipSync(Buffer.concat(chunks)).length).toBe(0);
  });
});

describe('days', () => {
  it('parses real days only', () => {
    expect(parseDay('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseDay('2025-02-29')).toBeNull();
    expect(parseDay('2025-13-01')).toBeNull();
    expect(parseDay('2025-1-01')).toBeNull();
    expect(dayBounds('2025-02-28')).toEqual([
      Date.UTC(2025, 1, 28),
      Date.UTC(2025, 1, 28, 23, 59, 59),
    ]);
  });
});
