/**
 * The built CLI through a proxy that answers a Messages page with its own HTML page (a
 * captive portal, an error page sent with 200): `snapshot` says which request got what, exit
 * 1, with no stack and no token; the run is left unfinished, so `optouts` does not present the
 * account's list as whole; run again with Twilio answering well, the snapshot completes.
 * (It printed "internal error: SyntaxError … This is a bug in submigrate", with its stack.)
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';
import { startTamperingProxy, type TamperingProxy } from '../support/tampering-proxy.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;

describe('snapshot through a proxy that answers HTML (built CLI)', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: '+14155550101' }],
      messages: [
        {
          from: '+16505550101',
          to: '+14155550101',
          body: 'STOP',
          direction: 'inbound',
          date_sent: NOW - 10 * DAY,
        },
      ],
    },
    NOW,
  );
  let proxy: TamperingProxy;

  beforeAll(async () => {
    proxy = await startTamperingProxy(ws.env.url, (path) =>
      path.includes('/Messages.json')
        ? {
            status: 200,
            type: 'text/html',
            body: '<html><body>Sign in to the network</body></html>',
          }
        : null,
    );
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('exits 1 naming the page, leaves the run unfinished, and completes when run again', async () => {
    const db = ws.dir.file('s.db');
    const args = ['snapshot', '--db', db, '--no-export'];
    const cut = await runCli(args, cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url }), ws.dir.path);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(
      /^error: Twilio \(HTTP 200\): GET https:\/\/api\.twilio\.com\/2010-04-01\/Accounts\/AC\w+\/Messages\.json: answered HTTP 200 with a body that is not a Messages page/,
    );
    expect(cut.stderr).not.toContain('internal error');
    expect(cut.stderr).not.toMatch(/\n\s+at /);
    expect(cut.stdout + cut.stderr).not.toContain(ws.env.parentToken);

    const listed = await runCli(['optouts', '--db', db], cliEnv(ws.env), ws.dir.path);
    expect(listed.code).not.toBe(0);
    expect(listed.stdout).not.toContain('+16505550101');

    const again = await runCli(args, cliEnv(ws.env), ws.dir.path);
    expect(again.code).toBe(0);
    const after = await runCli(['optouts', '--db', db], cliEnv(ws.env), ws.dir.path);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('+16505550101');
  });
});
