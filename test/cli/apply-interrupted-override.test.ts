/**
 * An apply with --allow-missing-snapshot stopped by a signal: the line it prints names the
 * command that continues the run, and that command must be one that does. Without the
 * override it is refused (the opt-out gate), so the line names it too, as `status` does. Built CLI, emulator
 * over HTTP.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startCliHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550131', '+14155550132'];

describe('apply --allow-missing-snapshot stopped by a signal', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('names a command that continues the run', async () => {
    const { env, dir, cli } = ws;
    writeFileSync(
      dir.file('m.csv'),
      `customer_id,customer_name,phone_number\n${NUMBERS.map((p) => `acme,Acme,${p}`).join('\n')}\n`,
    );
    // No snapshot: the numbers' opt-outs are not covered.
    await makePlan(cli, {
      mapping: 'm.csv',
      db: 'a.db',
      out: 'a.plan.json',
      plan: ['--no-snapshot'],
    });
    const args = ['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000', '--concurrency', '1'];
    const apply = await startCliHeld(env, [...args, '--allow-missing-snapshot'], dir.path, {
      after: 1,
      methods: ['POST', 'DELETE'],
    });
    apply.child.kill('SIGTERM');
    const stopped = await apply.done;
    await releaseHeld(env);
    const told = /`submigrate (apply [^`]+)` continues the run/.exec(stopped.stderr);
    expect(told, stopped.stderr).not.toBeNull();
    // status (as report and routes) names the same command, the override with it.
    const status = await cli(['status', '--db', 'a.db']);
    expect(status.stdout).toContain(`no process is running it: \`submigrate ${told![1]}\``);

    const again = await cli([...told![1]!.split(' '), '--rate', '1000']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^apply run 1 \(continued\)/m);
  }, 90_000);
});
