/**
 * A file the disk takes only part of is an error, never a file cut short. A write may take
 * fewer bytes than it was given (a disk nearly full, a file-size limit) and says so only by
 * its count: the rest was dropped, so `optouts --out` left the first 64 KiB of the suppression
 * list — opted-out people missing from it — said it wrote them all, and exited 0. A
 * file-size limit (`ulimit -f`, which Node answers with EFBIG rather than being killed) stands
 * in for the full disk. The database too: a write SQLite could not make (SQLITE_FULL, or
 * SQLITE_IOERR from the limit) ended a command in 'internal error … This is a bug' and a stack
 * trace, for a disk the user has to make room on. Needs `npm run build`.
 */

import { readdirSync, readFileSync } from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCliLimited } from '../support/snapshot-harness.js';

const SENDER = '+14155550101';
const PEOPLE = 300;
/** In 1 KiB blocks: room for the database's -shm (32 KiB), not for the whole list. */
const LIMIT_KIB = 64;

describe('a file the disk takes only part of (built CLI)', () => {
  const start = Date.parse('2026-01-05T12:00:00Z');
  const ws = useCliWorkspace({
    numbers: [{ phone_number: SENDER }],
    messages: Array.from({ length: PEOPLE }, (_, i) => ({
      from: `+1650555${String(i).padStart(4, '0')}`,
      to: SENDER,
      body: 'STOP',
      direction: 'inbound' as const,
      date_sent: new Date(start + i * 60_000).toISOString(),
    })),
  });
  let snapshotEnd = 0;

  beforeAll(async () => {
    const snapshot = await ws.cli(['snapshot', '--db', 'l.db']);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    snapshotEnd = Date.now();
  });

  it('optouts --out: an error naming the file, exit 1, and no list cut short left there', async () => {
    const whole = await ws.cli([
      'optouts',
      '--db',
      'l.db',
      '--format',
      'json',
      '--out',
      'whole.json',
    ]);
    expect(whole.code, whole.stderr).toBe(0);
    // The list is larger than the limit: only part of it could be written.
    expect(readFileSync(ws.dir.file('whole.json')).length).toBeGreaterThan(LIMIT_KIB * 1024);

    const limited = await runCliLimited(
      LIMIT_KIB,
      ['optouts', '--db', 'l.db', '--format', 'json', '--out', 'cut.json'],
      cliEnv(ws.env),
      ws.dir.path,
    );
    expect(limited.stderr).toMatch(
      /^error: --out .*cut\.json: cannot write it \(EFBIG[^\n]*\); no file was written or replaced\.$/m,
    );
    expect(limited.stderr).not.toMatch(/internal error|This is a bug/);
    expect(limited.stderr).not.toMatch(/^wrote /m);
    expect(limited.code).toBe(1);
    // Neither the list cut short nor its temporary file is there.
    expect(readdirSync(ws.dir.path).filter((name) => name.includes('cut.json'))).toEqual([]);
  });

  it('a database the disk takes no more of: an error naming it, exit 1, and nothing lost', async () => {
    // More opt-outs since the first snapshot (a second after it, so that the next one reads
    // them): its ledger writes outgrow the limit.
    const later = snapshotEnd + 1000;
    while (Date.now() < later + 1000) await new Promise((r) => setTimeout(r, 100));
    await ws.env.seed({
      messages: Array.from({ length: PEOPLE }, (_, i) => ({
        from: `+1650556${String(i).padStart(4, '0')}`,
        to: SENDER,
        body: 'STOP',
        direction: 'inbound' as const,
        date_sent: new Date(later + i).toISOString(),
      })),
    });
    const limited = await runCliLimited(
      LIMIT_KIB,
      ['snapshot', '--db', 'l.db'],
      cliEnv(ws.env),
      ws.dir.path,
    );
    expect(limited.stderr).toMatch(
      /^error: --db .*l\.db: cannot write it \(disk I\/O error\)\. The change it was writing was not made/m,
    );
    expect(limited.stderr).not.toMatch(/internal error|This is a bug|    at /);
    expect(limited.code).toBe(1);

    // With room again, the snapshot goes on, and every opt-out is on the list.
    const again = await ws.cli(['snapshot', '--db', 'l.db']);
    expect(again.code, again.stderr).toBe(0);
    const list = await ws.cli(['optouts', '--db', 'l.db', '--format', 'json']);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { optouts: unknown[] }).optouts).toHaveLength(2 * PEOPLE);
  });
});
