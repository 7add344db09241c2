/**
 * Ctrl-C while `snapshot` pages the Messages API (not while it waits for Bulk Export, whose
 * notice says so already): the process still ends at once, and says, as `apply` does, what it
 * leaves and the command that takes the same run up; that command resumes it. Built CLI,
 * emulator over HTTP.
 */

import { describe, expect, it } from 'vitest';

import type { SeedDocument } from '../../src/emulator/seed.js';
import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, releaseHeld, runCli, startCliHeld } from '../support/snapshot-harness.js';

const N = '+14155550801';
/** One number, and a STOP to it five days ago: a snapshot with something to read. */
const ONE_STOP: SeedDocument = {
  numbers: [{ phone_number: N }],
  messages: [
    {
      from: '+12065550801',
      to: N,
      body: 'STOP',
      direction: 'inbound',
      date_sent: new Date(Date.now() - 5 * 86_400_000).toISOString(),
    },
  ],
};

describe('snapshot interrupted while reading', () => {
  const ws = useCliWorkspace(ONE_STOP);

  it('says which command takes the run up, and that command resumes it', async () => {
    // The first read goes through, every later one is held: the run is mid-way.
    const args = ['snapshot', '--db', 's.db', '--retention-days', '300', '--no-export'];
    const run = await startCliHeld(ws.env, args, ws.dir.path, { after: 1, methods: ['GET'] });
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.signal).toBe('SIGINT');
    expect(stopped.stderr).toContain(
      'snapshot: stopped by SIGINT. What it read is in the ledger, committed page by page and day by day: `submigrate snapshot --retention-days 300 --no-export --db s.db` takes the run up from its last commit',
    );
    expect(stopped.stderr).not.toContain(ws.env.parentToken);
    await releaseHeld(ws.env);

    const command = /`submigrate (snapshot[^`]*)`/.exec(stopped.stderr)![1]!.split(' ');
    const again = await runCli(command, cliEnv(ws.env), ws.dir.path);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^snapshot run 1 \(resumed\)/);
  });
});

describe('a stopped snapshot that a run asked for something else abandons', () => {
  const ws = useCliWorkspace(ONE_STOP);

  it('says so: the command it was told takes the run up no longer does', async () => {
    const args = ['snapshot', '--db', 's.db', '--no-export'];
    const run = await startCliHeld(ws.env, args, ws.dir.path, { after: 1, methods: ['GET'] });
    run.child.kill('SIGKILL');
    await run.done;
    await releaseHeld(ws.env);

    // With Bulk Export: not the run the stopped one was (`--no-export`).
    const other = await runCli(['snapshot', '--db', 's.db'], cliEnv(ws.env), ws.dir.path);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toMatch(/^snapshot run 2:/);
    expect(other.stderr).toContain(
      `snapshot: run 1, stopped part way (pid ${run.child.pid}), was for other accounts, another window or source, or older keyword rules than run 2: it is abandoned and will not be taken up. What it read stays in the ledger, but none of its windows counts as read; run 2 reads its own from the start.\n`,
    );
  });
});

describe('a killed snapshot, taken up by the command status gives', () => {
  const ws = useCliWorkspace(ONE_STOP);

  it('names its window and source, and resumes it', async () => {
    const since = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
    const args = ['snapshot', '--db', 's.db', '--since', since, '--no-export'];
    const run = await startCliHeld(ws.env, args, ws.dir.path, { after: 1, methods: ['GET'] });
    // No stop message: SIGKILL gives the process no last word; status must give the command.
    run.child.kill('SIGKILL');
    await run.done;
    await releaseHeld(ws.env);

    const status = await runCli(['status', '--db', 's.db'], cliEnv(ws.env), ws.dir.path);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(
      `\`submigrate snapshot --since ${since}T00:00:00Z --no-export --db s.db\` takes it up from its last commit`,
    );
    const command = /`submigrate (snapshot[^`]*)`/.exec(status.stdout)![1]!.split(' ');
    const again = await runCli(command, cliEnv(ws.env), ws.dir.path);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^snapshot run 1 \(resumed\)/);
  });
});
