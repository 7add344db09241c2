/**
 * Slow (about 40 s): apply killed with SIGKILL after k writes, for several k, then run again.
 * The kill point is the test's: the emulator answers exactly k writes and holds the next one
 * (whose intent the journal has committed) until the process is dead; then it lets that write
 * through, as Twilio would process a request whose client died. The second apply must settle
 * that step from live state (adopting a subaccount or service the dead process created),
 * finish the plan, and leave exactly the state the mapping asks for: no duplicate subaccount
 * or service, and every step journaled done exactly once.
 */

import { mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadOwlie, owlieMapping } from '../../src/emulator/scenarios/owlie.js';
import { readPlan } from '../../src/plan/plan-file.js';
import {
  clearRequestLog,
  requestLog,
  startTestEmulator,
  type TestEmulator,
} from '../support/emulator.js';
import { customersOf, expectMigrated, readJournal } from '../support/migration.js';
import {
  cliEnv,
  ROOT,
  runCli,
  tempDir,
  type TempDir,
  killApplyAtHeldWrite,
  releaseHeld,
} from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const MAPPING = join(ROOT, 'plans', 'owlie-customers.csv');

/**
 * With --concurrency 1 the writes go in a fixed order: the creates and detaches first (in
 * plan order), then what they unblock. k = 1: right after the first subaccount was created;
 * k = 6: the write in flight at the kill (the seventh) creates the second customer's
 * subaccount; k = 200 and 330 fall among the transfers and the attaches.
 */
const KS = [1, 2, 6, 60, 200, 330];

describe('apply killed after k writes (built CLI)', () => {
  let dir: TempDir;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => dir.remove());

  it.each(KS)('k = %d: the second apply settles, finishes, and duplicates nothing', async (k) => {
    const env: TestEmulator = await startTestEmulator({
      now: () => NOW,
      load: (state) => loadOwlie(state, { seed: 4, messages: 3_000, now: NOW }),
    });
    try {
      // A working folder per database: each one's run 1 writes its own reports/1/.
      const cwd = dir.file(`k${k}`);
      mkdirSync(cwd);
      const db = `${cwd}.db`;
      const plan = `${cwd}.plan.json`;
      const cli = (args: string[]) => runCli(args, cliEnv(env), cwd);
      expect((await cli(['plan', '--mapping', MAPPING, '--db', db, '--out', plan])).code).toBe(0);
      const steps = readPlan(plan, readFileSync(plan, 'utf8')).steps;

      const args = ['apply', plan, '--db', db, '--rate', '1000', '--concurrency', '1'];
      const killed = await killApplyAtHeldWrite(env, cwd, plan, db, k);
      expect(killed.signal).toBe('SIGKILL');
      // The held write, and perhaps the next step's (its intent committed, its request
      // queued behind the held one in the limiter).
      const atKill = readJournal(db);
      expect(atKill.inFlight.length).toBeGreaterThanOrEqual(1);
      expect(atKill.inFlight.length).toBeLessThanOrEqual(2);
      expect(atKill.states['done'] ?? 0).toBeLessThanOrEqual(k);

      // The held write reaches Twilio after its client died.
      await releaseHeld(env);

      // --dry-run now: sends nothing, and lists each step left in flight with a mark, for
      // apply may adopt it instead of sending it.
      await clearRequestLog(env);
      const dry = await cli(['apply', plan, '--db', db, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(await requestLog(env)).toEqual([]);
      const writesListed = dry.stdout.split('\n').filter((l) => /^(POST|DELETE) /.test(l));
      const marked = writesListed.filter((l) => l.includes('# in flight:'));
      expect(marked).toHaveLength(atKill.inFlight.length);

      const second = await cli(args);
      // What was sent lies between what the dry run listed for certain and all it listed.
      const sent = await requestLog(env);
      const writesSent = sent.filter((e) => e.method !== 'GET').length;
      expect(writesSent).toBeGreaterThanOrEqual(writesListed.length - marked.length);
      expect(writesSent).toBeLessThanOrEqual(writesListed.length);
      // Exactly: the one write held at the kill is adopted, not sent (checked below).
      expect(writesSent).toBe(writesListed.length - 1);
      const notes = second.stderr.trimEnd().split('\n');
      expect(notes[0]).toBe(
        `note: took over the lock of pid ${killed.pid} on ${hostname()}, which is no longer running`,
      );
      // The step whose write was held at the kill is adopted, and says so (a resume is not
      // silent); the step whose request was still queued when the process died is sent again,
      // and says so.
      expect(notes.slice(1)).toEqual(
        atKill.inFlight.map((id, i) =>
          expect.stringMatching(
            new RegExp(
              i === 0
                ? `^note: ${id} was left in flight by the last apply, and Twilio did it: .*, so it is adopted, not sent again$`
                : `^note: ${id} was in flight when the last apply stopped: .*, so it is sent again$`,
            ),
          ),
        ),
      );
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/^apply run 1 \(continued\): /);
      await expectMigrated(env, customersOf(owlieMapping()));

      const after = readJournal(db);
      expect(after.states).toEqual({ done: steps.length });
      // Each step ended once: one result (or one settlement) saying done, never two.
      expect(after.doneEvents).toHaveLength(steps.length);
      expect(new Set(after.doneEvents).size).toBe(steps.length);
      // The write held at the kill reached Twilio: its step was settled from live state
      // (adopted), not sent blindly again; a step whose request never left was sent again.
      expect(atKill.inFlight.filter((id) => after.settled.includes(id))).toHaveLength(1);
    } finally {
      await env.close();
    }
  });
});
