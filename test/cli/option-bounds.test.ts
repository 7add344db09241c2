/**
 * Options out of their bounds are refused by name, exit 1, before any request is sent or any
 * database made: `--concurrency` above 64 (Twilio limits requests in flight per account),
 * `--rate Infinity` (it read as no cap, which only `--rate 0` says), and an on-or-off flag
 * given a value (`--json=maybe` read as off, `--dry-run=yes` too: apply would have applied).
 * (Each was accepted: the first two ran as asked, the last as the flag left out.) Needs
 * `npm run build`.
 */

import { existsSync, writeFileSync } from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;

describe('options out of bounds', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: '+14155550101' }] }, NOW);
  let mapping: string;
  const { cli } = ws;

  beforeAll(async () => {
    mapping = ws.dir.file('m.csv');
    writeFileSync(mapping, 'customer_id,customer_name,phone_number\nacme,Acme,+14155550101\n');
  });

  const commands = () => ({
    snapshot: ['snapshot'],
    plan: ['plan', '--mapping', mapping, '--out', ws.dir.file('p.plan.json')],
  });

  it.each([
    [['--concurrency', '65'], /^error: --concurrency must be a whole number from 1 to 64 \(/],
    [['--concurrency', '1000000'], /^error: --concurrency must be a whole number from 1 to 64 /],
    [
      ['--rate', 'Infinity'],
      /^error: --rate must be a finite number ≥ 0 \(0 = no cap\), got Infinity/,
    ],
    [
      ['--rate', '1e999'],
      /^error: --rate must be a finite number ≥ 0 \(0 = no cap\), got Infinity/,
    ],
    [
      ['--json=maybe'],
      /^error: --json=maybe: --json is on or off, not "maybe": give --json, or leave it out/,
    ],
    [['--json=1'], /^error: --json=1: --json is on or off, not "1"/],
  ])('%j: snapshot and plan exit 1 naming it, no request, no database', async (option, message) => {
    for (const [name, args] of Object.entries(commands())) {
      const db = ws.dir.file(`${name}-${option.join('')}.db`);
      await clearRequestLog(ws.env);
      const result = await cli([...args, '--db', db, ...option]);
      expect(result.code, name).toBe(1);
      expect(result.stderr, name).toMatch(message);
      expect(result.stdout, name).toBe('');
      expect(existsSync(db), name).toBe(false);
      expect(await requestLog(ws.env), name).toEqual([]);
    }
  });

  it('a flag on by default given a value is told how to turn it off: --no-export, --no-snapshot', async () => {
    // `--export=no` meant off: "give --export, or leave it out" named two ways of saying on.
    for (const [args, message] of [
      [
        ['snapshot', '--export=no'],
        /^error: --export=no: --export is on or off, not "no": give --no-export to turn it off/,
      ],
      [
        ['plan', '--mapping', mapping, '--out', ws.dir.file('p.plan.json'), '--snapshot=off'],
        /^error: --snapshot=off: --snapshot is on or off, not "off": give --no-snapshot to turn it off/,
      ],
    ] as const) {
      const db = ws.dir.file(`on-by-default-${args[0]}.db`);
      await clearRequestLog(ws.env);
      const result = await cli([...args, '--db', db]);
      expect(result.code, args[0]).toBe(1);
      expect(result.stderr, args[0]).toMatch(message);
      expect(existsSync(db), args[0]).toBe(false);
      expect(await requestLog(ws.env), args[0]).toEqual([]);
    }
  });

  it('the bounds themselves are taken: --concurrency 64 and 1, --json=false', async () => {
    const db = ws.dir.file('ok.db');
    const high = await cli(['snapshot', '--db', db, '--concurrency', '64', '--json=false']);
    expect(high.code).toBe(0);
    expect(high.stdout).not.toMatch(/^\{/);
    const low = await cli(['snapshot', '--db', db, '--concurrency', '1', '--json=true']);
    expect(low.code).toBe(0);
    expect(JSON.parse(low.stdout)).toBeTypeOf('object');
  });

  it('--help gives the bounds of --concurrency', async () => {
    for (const command of ['snapshot', 'plan', 'apply']) {
      const help = await cli([command, '--help']);
      expect(help.stdout.replace(/\s+/g, ' '), command).toMatch(/--concurrency .*\(1–64\)/);
    }
  });
});
