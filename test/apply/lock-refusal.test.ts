/**
 * `apply --take-over-lock` refused by an apply of another machine that renewed its lock lately:
 * the refusal says when it renewed and from when a take-over is possible; one whose renewal
 * cannot be read as a time is taken to run still, and the refusal says why and what to do
 * (it read "renewed the lock NaN s ago" before).
 */

import { describe, expect, it } from 'vitest';

import { lockRefusal } from '../../src/apply/refusals.js';
import type { LockHolder } from '../../src/db/journal.js';

const holder = (renewedAt: string | null): LockHolder => ({
  runId: 3,
  pid: 4242,
  hostname: 'there',
  acquiredAt: '2026-01-01T00:00:00Z',
  renewedAt,
});
const NOW = '2026-01-01T01:00:00Z';
const HERE = { pid: 7, hostname: 'here' };

describe('lockRefusal with --take-over-lock', () => {
  it('names a renewal 12 s ago and from when a take-over is possible', () => {
    expect(lockRefusal(holder('2026-01-01T00:59:48Z'), HERE, NOW).message).toBe(
      "another apply holds this database (pid 4242 on there, run 3, since 2026-01-01T00:00:00Z), and renewed the lock 12 s ago, at 2026-01-01T00:59:48Z: it still runs there. --take-over-lock takes over only an apply that no longer runs: wait for it to finish there; if it no longer runs, --take-over-lock takes it over once the lock is 30 s unrenewed, from 2026-01-01T01:00:18Z by this machine's clock, after watching it 11 s for a renewal",
    );
  });

  it('says a renewal it cannot read is taken as running, and how to clear it once it is not', () => {
    const message = lockRefusal(holder('soon'), HERE, NOW).message;
    expect(message).toBe(
      'another apply holds this database (pid 4242 on there, run 3, since 2026-01-01T00:00:00Z), and its last renewal reads "soon", which is not a time this submigrate can read: it is taken to run there still, as nothing says it stopped. --take-over-lock takes over only an apply that no longer runs: wait for it to finish there. An apply that runs writes its renewal every 5 s, as a time `submigrate status` shows; if the lock still reads so after that, no apply of this submigrate renews it (the database was edited by hand, or another program wrote it): once you know that apply no longer runs on there, clear its renewal (`sqlite3 DB "UPDATE apply_lock SET renewed_at = NULL WHERE id = 1"`), and --take-over-lock takes it over',
    );
    expect(message).not.toContain('NaN');
  });
});
