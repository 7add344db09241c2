/**
 * `snapshot`, `plan --carry-optouts` and `apply` over a ledger of very many opt-outs, under a
 * capped heap. Each read every currently opted-out pair into memory whole, twelve strings a
 * pair (snapshot only to count them; plan twice, for its counts and for the carry): under
 * bin/submigrate.js's 512 MB, 1,000,000 opt-out events stopped snapshot and plan, 300,000 plan
 * --carry-optouts, with "JavaScript heap out of memory". Here 40,002 of them under a 32 MB
 * heap, where before each of the three stopped so. Built CLI, emulator over HTTP; the opt-outs
 * are copies of a snapshot's STOP in the ledger.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { Plan } from '../../src/plan/types.js';
import { copyOptOuts, makePlan, seededStop, useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli, type CliResult } from '../support/snapshot-harness.js';

const NUMBERS = ['+14155550101', '+14155550102'];
/** Opt-outs per number beyond its seeded STOP (two customers, one number each). */
const COPIES = 20_000;
const PAIRS = 2 * (COPIES + 1);
/** The heap each command gets, in MB. */
const HEAP = 32;

describe('a ledger of very many opt-outs under a small heap', () => {
  const ws = useCliWorkspace({
    numbers: NUMBERS.map((phone_number) => ({ phone_number })),
    messages: NUMBERS.map((n, i) => seededStop(`+1206555000${i}`, n, Date.now() - 86_400_000)),
  });
  const db = () => ws.dir.file('a.db');
  const small = async (args: string[]): Promise<CliResult> => {
    const result = await runCli(
      args,
      cliEnv(ws.env, { NODE_OPTIONS: `--max-old-space-size=${HEAP}` }),
      ws.dir.path,
    );
    expect(result.stderr).not.toContain('heap out of memory');
    return result;
  };

  it('a carry plan made before the copies (not measured)', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${NUMBERS[0]}\nbeta,Beta,${NUMBERS[1]}\n`,
    );
    await makePlan(ws.cli, {
      mapping: 'm.csv',
      db: db(),
      out: 'before.plan.json',
      plan: ['--carry-optouts'],
    });
    copyOptOuts(db(), COPIES);
  });

  it('snapshot counts the pairs', async () => {
    const snapshot = await small(['snapshot', '--db', db(), '--json']);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect((JSON.parse(snapshot.stdout) as { optedOutPairs: number }).optedOutPairs).toBe(PAIRS);
  });

  it('plan --carry-optouts carries every pair', async () => {
    const plan = await small([
      'plan',
      '--mapping',
      'm.csv',
      '--db',
      db(),
      '--out',
      'big.plan.json',
      '--carry-optouts',
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    const written = JSON.parse(readFileSync(join(ws.dir.path, 'big.plan.json'), 'utf8')) as Plan;
    expect(written.customers.map((c) => c.optouts)).toEqual([COPIES + 1, COPIES + 1]);
    expect(written.carry_items).toHaveLength(PAIRS);
  });

  it('apply refuses the plan made before, naming every pair it leaves out', async () => {
    const apply = await small(['apply', 'before.plan.json', '--db', db(), '--rate', '1000']);
    expect(apply.code, apply.stderr).toBe(4);
    expect(apply.stderr).toContain(
      `${2 * COPIES} opt-out record(s) (acme: ${COPIES}, beta: ${COPIES})`,
    );
  });
});
