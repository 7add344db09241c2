/**
 * `status` tells of the latest snapshot run too (found by a review: it showed apply runs only,
 * and "is a snapshot stopped or running?" had no answer): running with its process, stopped
 * and how to take it up, or completed when; `--json` adds `snapshot` and keeps the rest.
 * From the database alone: runs are recorded as a snapshot records them. Needs `npm run build`.
 */

import { hostname } from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createRun, finishRun } from '../../src/db/snapshot-runs.js';
import { runCli, tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const PARENT = `AC${'1'.repeat(32)}`;
const STARTED = '2026-12-01T10:00:00Z';
/** A pid no process has (beyond Linux's pid_max). */
const GONE = 4_194_305;

describe('status and the latest snapshot run', () => {
  let dir: TempDir;
  const env = { PATH: process.env['PATH'] ?? '' };
  const status = async (db: string, json = false) => {
    const result = await runCli(['status', '--db', db, ...(json ? ['--json'] : [])], env, dir.path);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout;
  };
  const withRun = (file: string, pid: number, host = hostname()) =>
    withLedger(dir.file(file), (db) =>
      createRun(
        db,
        {
          parentAccountSid: PARENT,
          startedAt: STARTED,
          pid,
          hostname: host,
          partitions: 1,
          keywordsJson: '{}',
          explicitWindow: false,
          useExport: true,
          madeBy: 'snapshot',
        },
        [],
        [],
      ),
    );

  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => dir.remove());

  it('a run a live process holds is running, with its process', async () => {
    await withRun('live.db', process.pid);
    expect(await status(dir.file('live.db'))).toBe(
      `No apply run yet.\nsnapshot run 1  running  pid ${process.pid} on ${hostname()} (the run began ${STARTED})\n`,
    );
    const json = JSON.parse(await status(dir.file('live.db'), true)) as Record<string, unknown>;
    expect(json['runs']).toEqual([]);
    expect(json['starting']).toBeNull();
    expect(json['snapshot']).toEqual({
      id: 1,
      state: 'running',
      pid: process.pid,
      hostname: hostname(),
      startedAt: STARTED,
      finishedAt: null,
      resumeArguments: null,
      madeBy: 'snapshot',
      reconcilePass: null,
      reconcileRun: false,
    });
  });

  it('a run whose process is gone is stopped, and says how it is taken up', async () => {
    await withRun('stopped.db', GONE);
    expect(await status(dir.file('stopped.db'))).toContain(
      `snapshot run 1  stopped  started ${STARTED}, no process is running it (pid ${GONE} gone): \`submigrate snapshot --db stopped.db\` takes it up`,
    );
  });

  it('the command for a stopped run has its accounts, window and source', async () => {
    const sub = `AC${'2'.repeat(32)}`;
    const window = { windowStart: '2026-06-01T00:00:00Z', windowEnd: '2026-11-01T00:00:00Z' };
    await withLedger(dir.file('window.db'), (db) =>
      createRun(
        db,
        {
          parentAccountSid: PARENT,
          startedAt: STARTED,
          pid: GONE,
          hostname: hostname(),
          partitions: 1,
          keywordsJson: '{}',
          explicitWindow: true,
          useExport: false,
          madeBy: 'snapshot',
        },
        [
          { accountSid: PARENT, ...window },
          { accountSid: sub, ...window },
        ],
        // As a snapshot records them: each API window with the slices that read it.
        [PARENT, sub].map((accountSid) => ({
          accountSid,
          sliceIndex: 0,
          sliceStart: window.windowStart,
          sliceEnd: window.windowEnd,
        })),
      ),
    );
    expect(await status(dir.file('window.db'))).toContain(
      `\`submigrate snapshot --since 2026-06-01T00:00:00Z --until 2026-11-01T00:00:00Z --account ${sub} --no-export --db window.db\` takes it up`,
    );
    const json = JSON.parse(await status(dir.file('window.db'), true)) as {
      snapshot: { resumeArguments: string[] };
    };
    expect(json.snapshot.resumeArguments).toEqual([
      '--since',
      '2026-06-01T00:00:00Z',
      '--until',
      '2026-11-01T00:00:00Z',
      '--account',
      sub,
      '--no-export',
    ]);
  });

  it('a stopped run is told by the command that made it, not by its shape', async () => {
    // Neither shape is one today's commands leave: a snapshot's windows always come with the
    // slices or export days that read them, and a pass always has windows. Until migration 025
    // the shape was all there was to go by, and the first run below was taken for a pass.
    const sub = `AC${'2'.repeat(32)}`;
    const window = { windowStart: '2026-06-01T00:00:00Z', windowEnd: '2026-11-01T00:00:00Z' };
    const stopped = (file: string, madeBy: 'snapshot' | 'reconcile', windows: number) =>
      withLedger(dir.file(file), (db) =>
        createRun(
          db,
          {
            parentAccountSid: PARENT,
            startedAt: STARTED,
            pid: GONE,
            hostname: hostname(),
            partitions: 1,
            keywordsJson: '{}',
            explicitWindow: true,
            useExport: false,
            madeBy,
          },
          windows === 0 ? [] : [{ accountSid: sub, ...window }],
          [],
        ),
      );
    await stopped('by-snapshot.db', 'snapshot', 1);
    expect(await status(dir.file('by-snapshot.db'))).toContain(
      `snapshot run 1  stopped  started ${STARTED}, no process is running it (pid ${GONE} gone): \`submigrate snapshot --since 2026-06-01T00:00:00Z --until 2026-11-01T00:00:00Z --account ${sub} --no-export --db by-snapshot.db\` takes it up`,
    );
    expect(JSON.parse(await status(dir.file('by-snapshot.db'), true))).toMatchObject({
      snapshot: { madeBy: 'snapshot', reconcileRun: false, reconcilePass: null },
    });

    await stopped('by-reconcile.db', 'reconcile', 0);
    const line = await status(dir.file('by-reconcile.db'));
    expect(line).toContain(
      `snapshot run 1 (a reconcile pass, not recorded: the subaccounts' messages, not the parent's history)  stopped`,
    );
    expect(line).toContain('`submigrate reconcile --db by-reconcile.db` runs the pass again');
    expect(line).not.toContain('submigrate snapshot');
    expect(JSON.parse(await status(dir.file('by-reconcile.db'), true))).toMatchObject({
      snapshot: { madeBy: 'reconcile', reconcileRun: true, resumeArguments: null },
    });
  });

  it('a run recorded on another machine is not called stopped', async () => {
    await withRun('elsewhere.db', GONE, 'another-host');
    expect(await status(dir.file('elsewhere.db'))).toContain(
      `snapshot run 1  running?  recorded running by pid ${GONE} on another-host (the run began ${STARTED}), a machine (or container) whose processes this one cannot see: if it still runs there, wait for it to finish; if it no longer runs (it was stopped, its machine or container is gone), \`submigrate snapshot --take-over-run --db elsewhere.db\` takes it up from its last commit\n`,
    );
    // Without --take-over-run, the command named would be refused (exit 4).
    expect(JSON.parse(await status(dir.file('elsewhere.db'), true))).toMatchObject({
      snapshot: { state: 'elsewhere', resumeArguments: ['--take-over-run'] },
    });
  });

  it('a completed run says when', async () => {
    await withRun('done.db', GONE);
    await withLedger(dir.file('done.db'), (db) =>
      finishRun(db, 1, 'completed', '2026-12-01T10:05:00Z'),
    );
    expect(await status(dir.file('done.db'))).toBe(
      `No apply run yet.\nsnapshot run 1  completed  ${STARTED} → 2026-12-01T10:05:00Z\n`,
    );
  });
});
