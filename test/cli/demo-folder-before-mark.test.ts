/**
 * The demo's folder from a demo run by the version before report folders were marked
 * holds `reports/1/` without `.submigrate-report`. The demo claims the folder by its own mark
 * (`.submigrate-demo`, unchanged) and may replace what it wrote there; a second demo run into
 * it must succeed, not fail at its last step. Every demo makes its database anew, so the
 * reports a rehearsal left name a database that is gone: the next demo into that folder
 * replaces them too (report folders of another database are refused everywhere else).
 */

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli, tempDir } from '../support/snapshot-harness.js';

const env = { PATH: process.env['PATH'] ?? '' };

describe('submigrate demo (built CLI) into its own earlier folder', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('runs again into a demo folder whose reports an earlier version wrote', async () => {
    const out = join(dir.path, 'demo');
    const args = ['demo', '--out', out, '--messages', '3000', '--seed', '3'];
    const first = await runCli(args, env);
    expect(first.code, first.stderr).toBe(0);
    // As the version before the report mark left it: the demo's mark, reports without theirs.
    rmSync(join(out, 'reports', '1', '.submigrate-report'), { force: true });
    const again = await runCli(args, env);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
  });

  it('runs again into its folder, whose reports name the database of the rehearsal before', async () => {
    const out = join(dir.path, 'demo');
    const mark = () => readFileSync(join(out, 'reports', '1', '.submigrate-report'), 'utf8');
    const before = mark();
    expect(before).toMatch(/\ndatabase: [0-9a-f]{32}\n/);
    const again = await runCli(['demo', '--out', out, '--messages', '3000', '--seed', '3'], env);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(mark()).not.toBe(before);
  });
});
