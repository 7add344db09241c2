/**
 * End to end: an account whose Messages API keeps Twilio's 400 days, a snapshot, a quiet
 * weekend, a second snapshot 10 days later (both with Bulk Export, as `submigrate snapshot`
 * runs), then `plan` and `apply` 10 days after that. A quiet spell is not a shorter window:
 * plan's refresh reads what the API shows, and apply goes through. Needs `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Plan } from '../../src/plan/types.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import {
  cliEnv,
  dailyTraffic,
  fixedClock,
  runCli,
  snapshotInto,
  type TempDir,
  tempDir,
} from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const T1 = NOW - 20 * DAY;
const T2 = NOW - 10 * DAY;
const A = '+14155550101';

const traffic = (from: number, days: number) => dailyTraffic(A, from, days);

describe('snapshot, snapshot, plan, apply with a 400-day account', () => {
  let env: TestEmulator;
  let dir: TempDir;
  let now = T1;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);

  beforeAll(async () => {
    env = await startTestEmulator({ now: () => now });
    await env.seed({ numbers: [{ phone_number: A }], messages: traffic(T1 - 60 * DAY, 60) });
    dir = tempDir();
    writeFileSync(dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
  });
  afterAll(async () => {
    await env.close();
    dir.remove();
  });

  it('apply is not refused: the API showed everything plan read', async () => {
    const db = dir.file('s.db');
    const out = dir.file('s.plan.json');
    now = T1;
    await snapshotInto(db, env.port(), fixedClock(T1));
    now = T2;
    await env.seed({ messages: traffic(T1 + 3 * DAY, 7) }); // a quiet weekend first
    await snapshotInto(db, env.port(), fixedClock(T2));
    now = NOW;
    await env.seed({ messages: traffic(T2, 10) });

    const planned = await cli(['plan', '--mapping', dir.file('m.csv'), '--db', db, '--out', out]);
    expect(planned.code, planned.stderr).toBe(0);
    const warnings = (JSON.parse(readFileSync(out, 'utf8')) as Plan).warnings.map((w) => w.code);
    expect(warnings).not.toContain('optouts_not_snapshotted');
    const applied = await cli(['apply', out, '--db', db, '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
  });
});
