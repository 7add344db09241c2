/**
 * The "Make the plan again" line of apply's refusals: the command that makes the same kind of
 * plan (--carry-optouts and a batch size other than the default), over the plan file applied,
 * against the database named, quoted for a shell.
 */

import { describe, expect, it } from 'vitest';

import { buildPlan } from '../../src/plan/build-plan.js';
import { replanAdvice, replanCommand, shellWord } from '../../src/plan/replan.js';
import type { Plan } from '../../src/plan/types.js';
import { mapping, N1, number, planOptions, state } from '../support/plan-builders.js';

const carrying = (batchSize: number) =>
  planOptions({
    carry: {
      batchSize,
      requestsPerMinute: 100,
      optOuts: { byNumber: new Map(), byService: new Map() },
      sourceServices: new Map(),
      written: new Set(),
    },
  });

const made = (options: Parameters<typeof buildPlan>[2], path = 'plans/acme.csv'): Plan => ({
  ...buildPlan(state({ numbers: [number(N1, 1)] }), mapping({}), options),
  mapping: { path, sha256: 'x', rows: 1 },
});

describe('replanCommand', () => {
  it('keeps --carry-optouts and a batch size other than the default; --out and --db as given', () => {
    expect(replanCommand(made(carrying(10)), { out: '/w/move.plan.json', db: '/w/state.db' })).toBe(
      'submigrate plan --mapping plans/acme.csv --carry-optouts --carry-batch-size 10 --out /w/move.plan.json --db /w/state.db',
    );
    expect(replanCommand(made(carrying(25)), { out: '/w/p.json', db: null })).toBe(
      'submigrate plan --mapping plans/acme.csv --carry-optouts --out /w/p.json',
    );
  });

  it('a plan made without --carry-optouts is made again without it; --no-snapshot is not kept', () => {
    const plan = made(planOptions({ snapshotRefreshed: false }));
    expect(plan.options).toEqual({ snapshot: false });
    expect(replanCommand(plan, { out: '/w/p.json', db: null })).toBe(
      'submigrate plan --mapping plans/acme.csv --out /w/p.json',
    );
  });

  it('quotes what a shell would split or expand', () => {
    const plan = made(carrying(25), "my customers/o'hara $HOME.csv");
    expect(replanCommand(plan, { out: '/w/a plan.json', db: '/w/*.db' })).toBe(
      `submigrate plan --mapping 'my customers/o'\\''hara $HOME.csv' --carry-optouts --out '/w/a plan.json' --db '/w/*.db'`,
    );
    expect(shellWord('')).toBe("''");
    expect(shellWord('--db=x,y:z@1%+')).toBe('--db=x,y:z@1%+');
  });
});

describe('replanAdvice', () => {
  it('says where to run it when the mapping path the plan recorded is relative', () => {
    const paths = { out: '/w/p.json', db: null };
    expect(replanAdvice(made(carrying(25)), paths)).toBe(
      'Make the plan again, from the folder it was made in (its mapping path is relative to that folder): submigrate plan --mapping plans/acme.csv --carry-optouts --out /w/p.json',
    );
    expect(replanAdvice(made(carrying(25), '/w/acme.csv'), paths)).toBe(
      'Make the plan again: submigrate plan --mapping /w/acme.csv --carry-optouts --out /w/p.json',
    );
  });
});
