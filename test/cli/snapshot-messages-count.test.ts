/**
 * `snapshot` counts each message once. The UTC day where the Bulk Export files meet the
 * Messages API's window is read from both (the day file holds the whole day, the API the part
 * from its window's start): the ledger absorbs the repeat by SID, and the count must too.
 * A seed with a known number of messages, some older than the window, one on each side of the
 * window's start on that same day, read by the built CLI (--json and the text summary), then
 * incrementally with one more message. Needs `npm run build`.
 */

import { describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** The emulator's clock, as the CLI's, is the real one: this is when the seed was made. */
const NOW = Date.now();
const RETENTION = 30;
const A = '+14155550101';
const user = (n: number) => `+1206555${String(n).padStart(4, '0')}`;
const message = (n: number, at: number, body = 'hello') => ({
  from: user(n),
  to: A,
  body,
  direction: 'inbound' as const,
  date_sent: new Date(at).toISOString(),
});

describe('snapshot counts each message once', () => {
  const ws = useCliWorkspace(undefined, { now: () => Date.now() });
  const { cli } = ws;

  it('the day where Bulk Export meets the API window is not counted twice', async () => {
    // The CLI's window starts RETENTION days before its own now, seconds after `start`. One
    // message half an hour before that (only Bulk Export has it), one after it on the same UTC
    // day: three hours after, or the day's last second when that is sooner.
    const start = NOW - RETENTION * DAY;
    const before = start - HOUR / 2;
    const after = Math.min(start + 3 * HOUR, Math.floor(start / DAY) * DAY + DAY - 1000);
    const older = [
      message(1, NOW - 60 * DAY, 'STOP'),
      message(2, NOW - 45 * DAY),
      message(3, NOW - 31 * DAY),
      message(4, before, 'STOP'),
    ];
    const newer = [message(5, after), message(6, NOW - 10 * DAY, 'STOP'), message(7, NOW - HOUR)];
    await ws.env.seed({ numbers: [{ phone_number: A }], messages: [...older, ...newer] });
    await ws.env.control('POST', '/__emulator/settings', { message_retention_days: RETENTION });

    const json = await cli(['snapshot', '--retention-days', String(RETENTION), '--json']);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as {
      messagesRead: number;
      exportMessagesRead: number;
      exportDays: number;
      ledger: { optOut: number };
    };
    // Every message is in the ledger's reach once: the three STOPs, and the count of seven.
    expect(result.ledger.optOut).toBe(3);
    expect(result.exportDays).toBeGreaterThan(0);
    expect(result.messagesRead).toBe(7);
    expect(result.exportMessagesRead).toBe(older.length);

    // The text summary says the same, on a database of its own.
    const text1 = await cli(['snapshot', '--retention-days', String(RETENTION), '--db', 'text.db']);
    expect(text1.code, text1.stderr).toBe(0);
    expect(text1.stdout).toMatch(
      new RegExp(
        `^snapshot run 1: 7 messages read in .* ${older.length} of them from ${result.exportDays} Bulk Export days`,
      ),
    );

    // An incremental run on the first database reads from 10 minutes before the first run
    // ended: one new message, and nothing from Bulk Export.
    await ws.env.seed({ messages: [message(8, Date.now() - 1000)] });
    const text = await cli(['snapshot', '--retention-days', String(RETENTION)]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^snapshot run 2: 1 messages read in .* 0 of them from 0 Bulk Export days/,
    );
  });
});
