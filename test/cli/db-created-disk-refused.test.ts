/**
 * A database `snapshot` creates, which the disk refuses before SQLite has written its header
 * (a file-size limit, `ulimit -f 0`, stands in for a full disk): the error says to run the
 * command again once there is room, and the next run must then be able to. The empty file the
 * first run created was left behind, and the next run refused it: "exists and is not a
 * submigrate database; refusing to touch it". Needs `npm run build`.
 */

import { existsSync, readdirSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli, runCliLimited } from '../support/snapshot-harness.js';

describe('a database the disk refused as it was created (built CLI)', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: '+14155550101' }] });

  it('is not left behind, and the command run again with room creates it', async () => {
    const refused = await runCliLimited(
      0,
      ['snapshot', '--db', 'a.db'],
      cliEnv(ws.env),
      ws.dir.path,
    );
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(
      /^error: --db .*a\.db: cannot write it \(disk I\/O error\)\. .*then run the command again\.$/m,
    );
    expect(readdirSync(ws.dir.path)).toEqual([]);

    const again = await runCli(['snapshot', '--db', 'a.db'], cliEnv(ws.env), ws.dir.path);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(ws.dir.file('a.db'))).toBe(true);
  });
});
