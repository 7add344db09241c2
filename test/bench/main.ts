/**
 * `npm run bench`: every benchmark, each printing its figures and its ratio against a
 * baseline measured in the same run. `--only snapshot,plan` runs some of them; the flags of
 * each section are listed in its file.
 */

import { rmSync } from 'node:fs';

import { benchApply } from './apply-bench.js';
import { benchPlan } from './plan-bench.js';
import { benchReconcile } from './reconcile-bench.js';
import { benchSnapshot } from './snapshot-bench.js';
import { benchStays } from './stays-bench.js';
import { benchSuppressionLists } from './suppression-lists-bench.js';
import { benchUpdatedCheck } from './updated-check-bench.js';
import { work } from './support.js';

const SECTIONS: Record<string, () => Promise<string>> = {
  snapshot: benchSnapshot,
  plan: benchPlan,
  apply: benchApply,
  reconcile: benchReconcile,
  'suppression-lists': () => benchSuppressionLists(),
  'number-updated': benchUpdatedCheck,
  stays: benchStays,
};

const only = process.argv.indexOf('--only');
const chosen = only < 0 ? Object.keys(SECTIONS) : (process.argv[only + 1] ?? '').split(',');
try {
  for (const name of chosen) {
    const section = SECTIONS[name];
    if (section === undefined) throw new Error(`no bench section "${name}"`);
    process.stdout.write(`${await section()}\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
