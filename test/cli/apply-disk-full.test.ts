/**
 * An apply whose database the disk takes no more of part way through its steps ends on one
 * error line naming the database, and the next apply, with room again, finishes the run. The
 * journal's write that marked a stopped step's dependents `not_run` failed too, in a promise
 * handler nothing caught: the process died of an unhandled rejection, printing better-sqlite3's
 * source line and a stack trace. A file-size limit (`ulimit -f`, which Node answers with EFBIG
 * rather than being killed) stands in for the full disk. Needs `npm run build`.
 */

import { mkdirSync, statSync, writeFileSync } from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCliLimited } from '../support/snapshot-harness.js';

const NUMBERS = Array.from({ length: 60 }, (_, i) => `+1415555${String(100 + i).padStart(4, '0')}`);

/**
 * The describe's workspace: the numbers seeded, and m.csv mapping them to twenty customers of
 * three numbers each: each a subaccount, a service, moves and joins that depend on them.
 */
function useTwentyCustomers() {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone_number) => ({ phone_number })) });
  beforeAll(async () => {
    const rows = NUMBERS.map((n, i) => `c${i % 20},C${i % 20},${n}`);
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\n${rows.join('\n')}\n`,
    );
  });
  return ws;
}

describe('apply on a disk that fills part way (built CLI)', () => {
  const ws = useTwentyCustomers();
  const { cli } = ws;

  it('one error line naming the database, exit 1; the next apply finishes the run', async () => {
    const plan = await cli(['plan', '--mapping', 'm.csv', '--db', 'a.db', '--out', 'p.json']);
    expect(plan.code, plan.stderr).toBe(0);
    // Room for the database as it is and a few of the journal's writes, not all of them.
    const limitKib = Math.ceil(statSync(ws.dir.file('a.db')).size / 1024) + 200;

    const stopped = await runCliLimited(
      limitKib,
      ['apply', 'p.json', '--db', 'a.db', '--rate', '0'],
      cliEnv(ws.env),
      ws.dir.path,
    );
    expect(stopped.stderr).toMatch(/^error: --db .*a\.db: cannot write it \(disk I\/O error\)/m);
    expect(stopped.stderr).not.toMatch(/Node\.js v|internal error|^\s+at /m);
    expect(stopped.code).toBe(1);

    const again = await cli(['apply', 'p.json', '--db', 'a.db', '--rate', '0']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr + again.stdout).toMatch(/apply run 1 \(continued\): 80 steps: 80 done/);
    expect(again.stderr + again.stdout).toMatch(/Completed/);
  });
});

// The run's error is told with the lines beneath it: its reports not written, on the same disk
// or for any other reason. The lock's release, a write too, failed on the full disk after it,
// and its error replaced the run's: the line went with it, and the reports folder (empty, or an
// earlier state's) read as the run's.
describe('apply on a disk that fills part way, its reports not written either (built CLI)', () => {
  const ws = useTwentyCustomers();

  it('ends on the --db error, then says the reports of the run were not written', async () => {
    const plan = await ws.cli(['plan', '--mapping', 'm.csv', '--db', 'a.db', '--out', 'p.json']);
    expect(plan.code, plan.stderr).toBe(0);
    // A folder where the run's audit.csv goes: its reports cannot be written.
    mkdirSync(ws.dir.file('reports/1/audit.csv'), { recursive: true });
    const limitKib = Math.ceil(statSync(ws.dir.file('a.db')).size / 1024) + 200;

    const stopped = await runCliLimited(
      limitKib,
      ['apply', 'p.json', '--db', 'a.db', '--rate', '0'],
      cliEnv(ws.env),
      ws.dir.path,
    );
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/^error: --db .*a\.db: cannot write it \(disk I\/O error\)/m);
    expect(stopped.stderr).toMatch(
      /^also: the reports of apply run 1 were not written: the report file .*audit\.csv: cannot write it \(something other than a file is there\)/m,
    );
    expect(stopped.stderr).not.toMatch(/Node\.js v|internal error|^\s+at /m);
  });
});
