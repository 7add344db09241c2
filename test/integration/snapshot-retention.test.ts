/**
 * An account that keeps 30 days of messages where 400 are assumed, planned first on a fresh
 * database: the plan's refresh (Messages API only, GETs only) takes the 400-day window on
 * trust. The snapshot after it must check that trust and read what the API hid from Bulk
 * Export, or the STOPs 35 and 100 days back are lost for good. (Found by a review: they were.)
 */

import { writeFileSync } from 'node:fs';

import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const N1 = '+14155550001';

describe('a shorter retention than assumed, planned before any snapshot (built CLI)', () => {
  const ws = useCliWorkspace(undefined, NOW);
  const { cli } = ws;

  beforeAll(async () => {
    const stop = (from: string, days: number) => ({
      from,
      to: N1,
      body: 'STOP',
      direction: 'inbound' as const,
      date_sent: NOW - days * DAY,
    });
    await ws.env.seed({
      numbers: [{ phone_number: N1 }],
      messages: [
        // Traffic in the last 25 days only; STOPs inside and beyond 30 days.
        ...Array.from({ length: 25 }, (_, i) => ({
          from: N1,
          to: '+16505559999',
          body: 'promo',
          direction: 'outbound-api' as const,
          date_sent: NOW - (i + 1) * DAY,
        })),
        stop('+16505550201', 100),
        stop('+16505550205', 35),
        stop('+16505550206', 29),
        stop('+16505550207', 600),
      ],
    });
    await ws.env.control('POST', '/__emulator/settings', { message_retention_days: 30 });
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`,
    );
  });

  it('plan, then snapshot: every STOP is on the list, and the coverage says where each span came from', async () => {
    const db = ws.dir.file('r.db');
    const plan = [
      'plan',
      '--mapping',
      ws.dir.file('m.csv'),
      '--db',
      db,
      '--out',
      ws.dir.file('p.json'),
    ];
    expect((await cli(plan)).code).toBe(0);
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    const result = await cli(['optouts', '--db', db]);
    expect(result.code).toBe(0);
    const rows = parse(result.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r['recipient']).sort()).toEqual([
      '+16505550201',
      '+16505550205',
      '+16505550206',
      '+16505550207',
    ]);
    // The API is said to have shown 30 days, not 400.
    const api = result.stderr.split('\n').find((l) => l.endsWith('from the Messages API'))!;
    const start = Date.parse(api.split(' ')[2]!);
    expect(start).toBeGreaterThanOrEqual(NOW - 31 * DAY);
  });
});
