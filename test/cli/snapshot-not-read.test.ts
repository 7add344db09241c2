/**
 * snapshot's summary counts the ledger ("0 pairs opted out now"): with --no-export, the history
 * older than the Messages API shows is read by no one, and a STOP said in it is in none of the
 * counts. The command says so on stderr, naming the span, rather than let the count stand as
 * all of them; once a snapshot with Bulk Export reads it, nothing is said.
 */

import { describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';

const NUMBER = '+14155550761';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

describe('snapshot with history left unread', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: NUMBER }],
    messages: [
      {
        from: '+12065550761',
        to: NUMBER,
        body: 'STOP',
        direction: 'inbound',
        date_sent: daysAgo(500),
      },
      {
        from: NUMBER,
        to: '+12065550762',
        body: 'hi',
        direction: 'outbound-api',
        date_sent: daysAgo(10),
      },
    ],
  });

  it('says what its counts miss, and stops saying it once the span is read', async () => {
    const partial = await ws.cli(['snapshot', '--db', 'n.db', '--no-export']);
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stdout).toContain('0 pairs opted out now');
    expect(partial.stderr).toMatch(
      /^not read: 1 span\(s\) of history no completed snapshot has read \(AC[0-9a-f]{32} \S+ → \S+\): the 0 pair\(s\) opted out now miss any opt-out said in them/m,
    );

    const json = await ws.cli(['snapshot', '--db', 'n.db', '--no-export', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { notRead: unknown[] }).notRead).toHaveLength(1);
    expect(json.stderr).toMatch(/^not read: 1 span\(s\)/m);

    const whole = await ws.cli(['snapshot', '--db', 'n.db']);
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stdout).toContain('1 pairs opted out now');
    expect(whole.stderr).not.toContain('not read:');
  });
});
