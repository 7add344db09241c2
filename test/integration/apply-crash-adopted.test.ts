/**
 * A resume that adopted a step says so: apply killed (SIGKILL) while its write creating a
 * subaccount was held, that write then let through, and apply run again with `--json`. The
 * subaccount the dead process created is adopted, not created again, and the run names it —
 * `adopted` (the step, the SID it found, how) and a note — so that the engineer can tell the
 * resume from a clean run. Built CLI.
 */

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { loadOwlie } from '../../src/emulator/scenarios/owlie.js';
import { readPlan } from '../../src/plan/plan-file.js';
import { startTestEmulator } from '../support/emulator.js';
import { readJournal } from '../support/migration.js';
import {
  cliEnv,
  killApplyAtHeldWrite,
  releaseHeld,
  ROOT,
  runCli,
  tempDir,
  type TempDir,
} from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const MAPPING = join(ROOT, 'plans', 'owlie-customers.csv');

let dir: TempDir;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => dir.remove());

it('apply --json run again after a kill names the subaccount it adopted', async () => {
  const env = await startTestEmulator({
    now: () => NOW,
    load: (state) => loadOwlie(state, { seed: 4, messages: 3_000, now: NOW }),
  });
  try {
    const cwd = dir.file('work');
    mkdirSync(cwd);
    const db = `${cwd}.db`;
    const plan = `${cwd}.plan.json`;
    const cli = (args: string[]) => runCli(args, cliEnv(env), cwd);
    expect((await cli(['plan', '--mapping', MAPPING, '--db', db, '--out', plan])).code).toBe(0);

    // With --concurrency 1, the seventh write creates the second customer's subaccount.
    const killed = await killApplyAtHeldWrite(env, cwd, plan, db, 6);
    expect(killed.signal).toBe('SIGKILL');
    const held = readJournal(db).inFlight[0]!;
    expect(held).toMatch(/^create_subaccount:/);
    await releaseHeld(env);

    const again = await cli(['apply', plan, '--db', db, '--rate', '1000', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const result = JSON.parse(again.stdout) as {
      resumed: boolean;
      notes: string[];
      adopted: { step: string; result: Record<string, string>; how: string }[];
    };
    expect(result.resumed).toBe(true);

    // The one subaccount with the step's name (none was made twice): what was adopted.
    const step = readPlan(plan, readFileSync(plan, 'utf8')).steps.find((s) => s.id === held)!;
    expect(step.action).toBe('create_subaccount');
    const name = step.action === 'create_subaccount' ? step.friendly_name : '';
    const state = await env.state();
    const made = state.accounts.filter((a) => a.friendly_name === name);
    expect(made).toHaveLength(1);
    const sid = made[0]!.sid;
    expect(result.adopted).toEqual([
      {
        step: held,
        result: { subaccount_sid: sid },
        how: expect.stringContaining(`subaccount ${sid} named`),
      },
    ]);
    expect(result.notes).toContainEqual(
      `${held} was left in flight by the last apply, and Twilio did it: ${result.adopted[0]!.how}, so it is adopted, not sent again`,
    );
  } finally {
    await env.close();
  }
});
