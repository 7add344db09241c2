/**
 * Databases an older submigrate left, met by this one: made by migrations 001..N only and
 * holding what that schema held (test/support/older-schema.ts), then opened by today's
 * commands (built CLI, emulator over HTTP).
 */

import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readPlan } from '../../src/plan/plan-file.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { olderDatabase } from '../support/older-schema.js';
import {
  cliEnv,
  killApplyAtHeldWrite,
  releaseHeld,
  runCli,
  tempDir,
  type TempDir,
} from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';
const N2 = '+14155550102';
const SHARED_URL = 'https://app.example/shared';
const ANN = '+19995550001';

describe('an apply killed half way, recorded by an older schema', () => {
  let env: TestEmulator;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);
  const planOf = (file: string) => readPlan(file, readFileSync(file, 'utf8'));

  beforeAll(async () => {
    env = await startTestEmulator({ now: () => NOW });
    await env.seed({
      numbers: [
        { phone_number: N1, sms_url: 'https://app.example/n1' },
        { phone_number: N2, sms_url: 'https://app.example/n2' },
      ],
      services: [
        { friendly_name: 'Shared', inbound_request_url: SHARED_URL, phone_numbers: [N1, N2] },
      ],
      messages: [
        {
          from: ANN,
          to: N1,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 2 * 86_400_000).toISOString(),
        },
      ],
    });
    dir = tempDir();
    writeFileSync(
      dir.file('map.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N1},Acme SMS\nacme,Acme,${N2},Acme SMS\n`,
    );
    expect((await cli(['snapshot', '--db', 'today.db'])).code).toBe(0);
    const planned = await cli([
      'plan',
      '--mapping',
      'map.csv',
      '--db',
      'today.db',
      '--out',
      'p1.json',
      '--carry-optouts',
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    await killApplyAtHeldWrite(env, dir.path, dir.file('p1.json'), dir.file('today.db'), 3);
    await releaseHeld(env);
  }, 60_000);
  afterAll(async () => {
    await env.close();
    dir.remove();
  });

  /** A plan's customers as they bear on the move: what each number's list and route are. */
  const movedAs = (file: string) =>
    planOf(dir.file(file)).customers.map((c) => ({
      optouts: c.optouts,
      numbers: c.numbers.map((n) => ({
        phone: n.phone_number,
        route_before: n.route_before,
        route_after: n.route_after,
        from_origin: n.from_origin,
        optout_services: n.optout_services,
      })),
    }));

  // 004 made the apply journal; 009 the origin of a move; 012 the rules version; 016 is the last.
  it.each([4, 8, 9, 12, 16])(
    'schema %i: a plan made again plans the half-moved numbers from where they were',
    async (version) => {
      const db = `v${version}.db`;
      olderDatabase(dir.file('today.db'), dir.file(db), version);
      const out = `v${version}.json`;
      for (const [file, plan] of [
        ['today-copy.db', 'today.json'],
        [db, out],
      ] as const) {
        if (file === 'today-copy.db') copyFileSync(dir.file('today.db'), dir.file(file));
        const replanned = await cli([
          'plan',
          '--mapping',
          'map.csv',
          '--db',
          file,
          '--out',
          plan,
          '--carry-optouts',
        ]);
        expect(replanned.code, replanned.stderr).toBe(0);
      }
      const today = movedAs('today.json');
      expect(today[0]!.optouts).toBe(1);
      expect(today[0]!.numbers.map((n) => n.route_before)).toEqual([
        expect.objectContaining({ via: 'service', url: SHARED_URL }),
        expect.objectContaining({ via: 'service', url: SHARED_URL }),
      ]);
      expect(movedAs(out)).toEqual(today);
    },
    60_000,
  );
});
