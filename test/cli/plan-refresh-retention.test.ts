/**
 * An account whose Messages API keeps 7 days, told so once (`snapshot --no-export
 * --retention-days 7`): the span older than that stays `not read` through every later refresh
 * that is not told otherwise — `plan`'s (GETs only, no Bulk Export) and a plain `snapshot
 * --no-export` — so the plan warns and apply's opt-out gate refuses. (Found by a review: plan's
 * refresh assumed 400 days, recorded the span as read from the API, which shows nothing there,
 * and the STOP in it was lost.) `plan --retention-days` tells the window itself. Needs
 * `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import type { Plan } from '../../src/plan/types.js';
import { useCliWorkspace } from '../support/migration.js';

const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const A = '+14155550101';

interface Coverage {
  coverage: { not_read: { start: string; end: string }[] };
  optouts: unknown[];
}

describe('a later refresh keeps the retention window an account was given', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: A }],
      messages: [
        {
          from: '+12065550001',
          to: A,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 30 * DAY).toISOString(),
        },
        {
          from: '+12065550002',
          to: A,
          body: 'HELP',
          direction: 'inbound',
          date_sent: new Date(NOW - 3 * DAY).toISOString(),
        },
      ],
    },
    NOW,
  );
  const { cli } = ws;
  const coverage = async (db: string) =>
    JSON.parse((await cli(['optouts', '--format', 'json', '--db', db])).stdout) as Coverage;
  const plan = (db: string, out: string, flags: string[] = []) =>
    cli([
      'plan',
      '--mapping',
      ws.dir.file('m.csv'),
      '--carry-optouts',
      '--db',
      db,
      '--out',
      out,
      ...flags,
    ]);
  const warnings = (out: string) =>
    (JSON.parse(readFileSync(out, 'utf8')) as Plan).warnings.map((w) => w.code);

  beforeAll(async () => {
    await ws.env.control('POST', '/__emulator/settings', { message_retention_days: 7 });
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
  });

  it("plan's refresh and a plain snapshot leave the span the API cannot show not read; the plan warns and apply refuses", async () => {
    const db = ws.dir.file('r.db');
    const out = ws.dir.file('r.plan.json');
    expect((await cli(['snapshot', '--no-export', '--retention-days', '7', '--db', db])).code).toBe(
      0,
    );
    const before = (await coverage(db)).coverage.not_read;
    expect(before).toHaveLength(1);

    const planned = await plan(db, out);
    expect(planned.code, planned.stderr).toBe(0);
    expect((await coverage(db)).coverage.not_read).toEqual(before);
    expect(warnings(out)).toContain('optouts_not_snapshotted');
    // Not told again, a plain snapshot without Bulk Export keeps the 7 days too.
    expect((await cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    expect((await coverage(db)).coverage.not_read).toEqual(before);

    expect((await cli(['apply', out, '--db', db, '--rate', '1000'])).code).toBe(4);
  });

  it('plan --retention-days: its refresh reads only that window, and the next plan keeps it', async () => {
    const db = ws.dir.file('p.db');
    const out = ws.dir.file('p.plan.json');
    const planned = await plan(db, out, ['--retention-days', '7']);
    expect(planned.code, planned.stderr).toBe(0);
    const gaps = (await coverage(db)).coverage.not_read;
    expect(gaps).toHaveLength(1);
    // The span not read reaches to where the Messages API stops showing records.
    expect(Date.parse(gaps[0]!.end)).toBeGreaterThanOrEqual(NOW - 7 * DAY - 3_600_000);
    expect(warnings(out)).toContain('optouts_not_snapshotted');

    expect((await plan(db, out)).code).toBe(0);
    expect((await coverage(db)).coverage.not_read).toEqual(gaps);
    expect(warnings(out)).toContain('optouts_not_snapshotted');
  });

  it('plan --retention-days is refused with --no-snapshot, and outside 7–400, before any database', async () => {
    const db = ws.dir.file('never.db');
    const noSnapshot = await plan(db, ws.dir.file('x.json'), [
      '--no-snapshot',
      '--retention-days',
      '7',
    ]);
    expect(noSnapshot.code).toBe(1);
    expect(noSnapshot.stderr).toMatch(/--retention-days is for the refresh/);
    const tooShort = await plan(db, ws.dir.file('x.json'), ['--retention-days', '5']);
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr).toMatch(/--retention-days must be a whole number from 7 to 400/);
    expect(() => readFileSync(db)).toThrow();
  });
});
