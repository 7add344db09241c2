/**
 * A snapshot, or plan's refresh, while another live process on this host runs a snapshot on
 * the same database is refused (exit 4) from the database alone: before Twilio is asked
 * anything. (Found by a review: both asked Twilio for the accounts first, so with Twilio
 * stalled or down the refusal waited, or turned into a network error.) Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';

import { beforeAll, describe, expect, it } from 'vitest';

import { createRun } from '../../src/db/snapshot-runs.js';
import { requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli, withLedger } from '../support/snapshot-harness.js';

const A = '+14155550101';

/** A port nothing listens on: taken, then let go. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A run of this very process (alive, on this host), as the other command records itself. */
const recordLiveRun = (
  dbPath: string,
  parentAccountSid: string,
  madeBy: 'snapshot' | 'reconcile',
) =>
  withLedger(dbPath, (db) =>
    createRun(
      db,
      {
        parentAccountSid,
        startedAt: new Date().toISOString(),
        pid: process.pid,
        hostname: hostname(),
        partitions: 1,
        keywordsJson: '{}',
        explicitWindow: false,
        madeBy,
      },
      [],
      [],
    ),
  );

describe('a second snapshot is refused before Twilio is asked anything', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: A }] });
  let dbPath: string;
  const refusal = `refused: snapshot run 1 is still in progress (pid ${process.pid}); wait for it or stop it first\n`;
  beforeAll(async () => {
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    dbPath = ws.dir.file('busy.db');
    // A run of this very process (alive, on this host), as the other snapshot records itself.
    await recordLiveRun(dbPath, ws.env.parentSid, 'snapshot');
  });

  const plan = (extra: Record<string, string> = {}) =>
    runCli(
      [
        'plan',
        '--mapping',
        ws.dir.file('m.csv'),
        '--db',
        dbPath,
        '--out',
        ws.dir.file('plan.json'),
      ],
      cliEnv(ws.env, extra),
      ws.dir.path,
    );

  it('snapshot and plan send the emulator no request', async () => {
    await ws.env.control('DELETE', '/__emulator/requests');
    const snapshot = await runCli(['snapshot', '--db', dbPath], cliEnv(ws.env), ws.dir.path);
    expect(snapshot.stderr).toBe(refusal);
    expect(snapshot.code).toBe(4);
    const planned = await plan();
    expect(planned.stderr).toBe(refusal);
    expect(planned.code).toBe(4);
    expect(await requestLog(ws.env)).toEqual([]);
  });

  it('with Twilio unreachable, the refusal and not a network error', async () => {
    const url = `http://127.0.0.1:${await deadPort()}`;
    const snapshot = await runCli(
      ['snapshot', '--db', dbPath],
      cliEnv(ws.env, { SUBMIGRATE_API_URL: url }),
      ws.dir.path,
    );
    expect(snapshot.stderr).toBe(refusal);
    expect(snapshot.code).toBe(4);
    const planned = await plan({ SUBMIGRATE_API_URL: url });
    expect(planned.stderr).toBe(refusal);
    expect(planned.code).toBe(4);
  });

  it('plan --no-snapshot does not refresh the ledger, so is not refused', async () => {
    const planned = await plan();
    expect(planned.code).toBe(4);
    const noRefresh = await runCli(
      [
        'plan',
        '--mapping',
        ws.dir.file('m.csv'),
        '--no-snapshot',
        '--db',
        dbPath,
        '--out',
        ws.dir.file('plan2.json'),
      ],
      cliEnv(ws.env),
      ws.dir.path,
    );
    expect(noRefresh.stderr).not.toContain('refused');
    expect(noRefresh.code).toBe(0);
  });
});

describe("a live reconcile pass's run is named as the pass it is", () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: A }] });

  it('snapshot is refused naming the pass, not a snapshot run', async () => {
    const dbPath = ws.dir.file('judging.db');
    // A pass of this very process (alive, on this host), recorded as it judges what it read.
    await recordLiveRun(dbPath, ws.env.parentSid, 'reconcile');
    const snapshot = await runCli(['snapshot', '--db', dbPath], cliEnv(ws.env), ws.dir.path);
    expect(snapshot.stderr).toBe(
      `refused: a reconcile pass (snapshot run 1) is still judging what it read (pid ${process.pid}); wait for it or stop it first\n`,
    );
    expect(snapshot.code).toBe(4);
  });
});
