/**
 * An --api-url in plain http to another host sends the TWILIO_* credentials over the network
 * unencrypted (Basic auth). The command warns on stderr before its first request, and goes on
 * (an emulator in a lab, with its fake credentials, is a fair use). 0.0.0.0 stands in for
 * another host: it is not a loopback name, yet on Linux it reaches this machine's emulator.
 * Needs `npm run build`.
 */

import { describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

describe('--api-url over plain http', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: '+14155550100' }] });
  it('warns for another host, and not for this one', async () => {
    const snapshot = (apiUrl: string) =>
      runCli(
        ['snapshot', '--db', ws.dir.file('w.db'), '--no-export', '--api-url', apiUrl],
        cliEnv(ws.env),
        ws.dir.path,
      );
    const remote = ws.env.url.replace('127.0.0.1', '0.0.0.0');
    const warned = await snapshot(remote);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toContain(
      `warning: --api-url ${remote} is plain http to another machine: the TWILIO_* credentials cross the network unencrypted`,
    );
    expect(warned.stderr).not.toContain(ws.env.parentToken);
    const local = await snapshot(ws.env.url);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stderr).not.toContain('warning: --api-url');
  });
});
