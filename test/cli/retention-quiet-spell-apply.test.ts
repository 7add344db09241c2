/**
 * End to end: an account whose Messages API keeps Twilio's 400 days, a snapshot, a quiet
 * weekend, a second snapshot 10 days later (both with Bulk Export, as `submigrate snapshot`
 * runs), then `plan` and `apply` 10 days after that. A quiet spell is not a shorter window:
 * plan's refresh reads what the API shows, and apply goes through. Needs `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import type { Plan } from '../../src/plan/types.js';
import { useCliWorkspace } from '../support/migration.js';
import { dailyTraffic, fixedClock, snapshotInto } from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const T1 = NOW - 20 * DAY;
const T2 = NOW - 10 * DAY;
const A = '+14155550101';

const traffic = (from: number, days: number) => dailyTraffic(A, from, days);

describe('snapshot, snapshot, plan, apply with a 400-day account', () => {
  let now = T1;
  const ws = useCliWorkspace(
    { numbers: [{ phone_number: A }], messages: traffic(T1 - 60 * DAY, 60) },
    { now: () => now },
  );
  const { cli } = ws;

  beforeAll(() => {
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
  });

  it('apply is not refused: the API showed everything plan read', async () => {
    const db = ws.dir.file('s.db');
    const out = ws.dir.file('s.plan.json');
    now = T1;
    await snapshotInto(db, ws.env.port(), fixedClock(T1));
    now = T2;
    await ws.env.seed({ messages: traffic(T1 + 3 * DAY, 7) }); // a quiet weekend first
    await snapshotInto(db, ws.env.port(), fixedClock(T2));
    now = NOW;
    await ws.env.seed({ messages: traffic(T2, 10) });

    const planned = await cli([
      'plan',
      '--mapping',
      ws.dir.file('m.csv'),
      '--db',
      db,
      '--out',
      out,
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    const warnings = (JSON.parse(readFileSync(out, 'utf8')) as Plan).warnings.map((w) => w.code);
    expect(warnings).not.toContain('optouts_not_snapshotted');
    const applied = await cli(['apply', out, '--db', db, '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
  });
});
