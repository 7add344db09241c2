/**
 * An apply stopped by a signal names the commands that continue the run and show where it
 * stopped: with a plan and a database whose paths hold a space and a quote, each must be one a
 * POSIX shell reads back as those paths. Built CLI, emulator over HTTP.
 */

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startApplyHeldAtWrite } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550141', '+14155550142'];
const PLAN = "Acme's move.plan.json";
const DB = 'our state.db';

/** The words a POSIX shell reads `command` as (without running it). */
function shellWords(command: string): string[] {
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${command}`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('apply stopped by a signal, its plan and database paths holding a space', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('names commands a shell reads back as they were meant, and that continue the run', async () => {
    const { env, dir, cli } = ws;
    writeFileSync(
      dir.file('m.csv'),
      `customer_id,customer_name,phone_number\n${NUMBERS.map((p) => `acme,Acme,${p}`).join('\n')}\n`,
    );
    expect((await cli(['snapshot', '--db', DB])).code).toBe(0);
    await makePlan(cli, { mapping: 'm.csv', db: DB, out: PLAN });
    const apply = await startApplyHeldAtWrite(env, dir.path, PLAN, DB, 1);
    apply.child.kill('SIGTERM');
    const stopped = await apply.done;
    await releaseHeld(env);

    const continues = /`(submigrate apply [^`]+)` continues the run/.exec(stopped.stderr);
    expect(continues, stopped.stderr).not.toBeNull();
    expect(shellWords(continues![1]!)).toEqual(['submigrate', 'apply', PLAN, '--db', DB]);
    const status = /`(submigrate status [^`]+)` shows where it stopped/.exec(stopped.stderr);
    expect(status, stopped.stderr).not.toBeNull();
    expect(shellWords(status![1]!)).toEqual(['submigrate', 'status', '--db', DB]);

    const again = await cli([...shellWords(continues![1]!).slice(1), '--rate', '1000']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^apply run 1 \(continued\)/m);
  }, 90_000);
});
