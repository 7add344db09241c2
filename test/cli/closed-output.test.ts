/**
 * The reader of stdout or stderr gone (`| head`, `2>&1 | head`, a `jq` that stopped): Node
 * answers the next write with EPIPE. The command goes on to its end and exits with its own
 * outcome's code. It used to exit 0 on stdout's EPIPE (`plan --detailed-exitcode | head`
 * said "no changes" for a plan with changes), and to crash on stderr's with a stack trace
 * nobody read: an apply whose first write got no certain answer died as it said so, between
 * two writes, its step left in flight and no reports written. A stdout that fails otherwise
 * (`> file` on a full disk) is one error line and exit 1, where it was a stack trace. Built
 * CLI, emulator over HTTP.
 */

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { readJournal, planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { BIN, cliEnv, startCli, type RunningCli } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550101', '+14155550102'];

/** The run's stdout and stderr closed by their reader before it writes anything. */
function unread(run: RunningCli): RunningCli {
  run.child.stdout!.destroy();
  run.child.stderr!.destroy();
  return run;
}

describe('stdout and stderr closed by their reader (built CLI)', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('plan --detailed-exitcode still exits 2 for a plan with changes, its file written', async () => {
    const { env, dir, cli } = ws;
    await planOneCustomer(ws, NUMBERS);
    const args = ['plan', '--mapping', 'm.csv', '--db', 'a.db', '--out', 'b.plan.json'];
    for (const json of [[], ['--json']]) {
      const run = unread(
        startCli([...args, '--no-snapshot', '--detailed-exitcode', ...json], cliEnv(env), dir.path),
      );
      const result = await run.done;
      expect(result.signal).toBeNull();
      expect(result.code).toBe(2);
      const plan = JSON.parse(readFileSync(dir.file('b.plan.json'), 'utf8')) as {
        steps: unknown[];
      };
      expect(plan.steps.length).toBeGreaterThan(0);
      rmSync(dir.file('b.plan.json'));
    }
    // Read in full, the same command says the same.
    const whole = await cli([...args, '--no-snapshot', '--detailed-exitcode']);
    expect(whole.code, whole.stderr).toBe(2);
  }, 90_000);

  it('apply saying a send got no certain answer goes on to its end, journal and reports whole', async () => {
    const { env, dir, cli } = ws;
    // The first write is done, then answered 500: apply says so on stderr, part way.
    await env.control('POST', '/__emulator/faults', {
      commit_then_fail_count: 1,
      commit_then_fail_methods: ['POST'],
      error_status: 500,
    });
    const run = unread(
      startCli(
        ['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000', '--concurrency', '1'],
        cliEnv(env),
        dir.path,
      ),
    );
    const result = await run.done;
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    const journal = readJournal(dir.file('a.db'), 1);
    expect(journal.inFlight).toEqual([]);
    expect(Object.keys(journal.states).sort()).toEqual(['done']);
    expect(existsSync(dir.file('reports/1/audit.csv'))).toBe(true);
    expect(existsSync(dir.file('reports/1/report.html'))).toBe(true);

    const status = await cli(['status', '--db', 'a.db', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({
      runs: [{ run: { id: 1, status: 'completed' } }],
    });
  }, 90_000);

  it('stdout on a full disk is one error line and exit 1, not a stack trace', async () => {
    const { env, dir } = ws;
    // /dev/full takes no write: ENOSPC, as `> file` on a full disk gives.
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [BIN, 'status', '--db', 'a.db', '--json'], {
      cwd: dir.path,
      env: cliEnv(env),
      stdio: ['ignore', full, 'pipe'],
    });
    closeSync(full);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    expect(stderr).toBe(
      'error: cannot write to stdout (ENOSPC: no space left on device, write): what the command printed there is cut short and is not to be used as whole; the command itself ran to its end.\n',
    );
  });
});
