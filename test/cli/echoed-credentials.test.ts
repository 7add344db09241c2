/**
 * A proxy between submigrate and Twilio that answers an error in Twilio's own JSON, quoting the
 * request it refused, Authorization header and all (as a debugging or filtering proxy may): the
 * message became the TwilioError's, so the Basic credentials (base64 of `SID:token`) and the
 * token itself went to stderr, and for an apply step into the journal in the database and the
 * run's reports — a subaccount's own token too, which nothing else redacts. The built CLI;
 * stdout, stderr and every file in the working folder are searched for each credential,
 * plain, base64 as Basic auth, URL-encoded and JSON-escaped. Needs `npm run build`.
 */

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli, type CliResult } from '../support/snapshot-harness.js';
import { startTamperingProxy, type Tampered } from '../support/tampering-proxy.js';

const N = '+14155550101';
/** A subaccount token with characters that JSON and URLs write otherwise. */
const SUB_TOKEN = 'sub"tok\\en/+=&%?' + 'd'.repeat(20);

/** Every way a credential may be written down. */
function writings(sid: string, token: string): string[] {
  return [
    token,
    Buffer.from(`${sid}:${token}`).toString('base64'),
    encodeURIComponent(token),
    JSON.stringify(token).slice(1, -1),
  ];
}

/** Every file under `dir`, as text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => ({ path, text: readFileSync(path).toString('latin1') }));
}

/** A 400 in Twilio's JSON that quotes the request's Authorization and the token it holds. */
function echo(headers: IncomingHttpHeaders): Tampered {
  const auth = String(headers.authorization ?? '');
  const token = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString('utf8');
  const quoted = `Authorization: ${auth} (${token}; ${encodeURIComponent(token)})`;
  return {
    status: 400,
    type: 'application/json',
    body: JSON.stringify({
      code: 20001,
      message: `Refused by proxy: ${quoted}`,
      more_info: quoted,
    }),
  };
}

describe('an error answer that quotes the credentials (built CLI)', () => {
  const ws = useCliWorkspace();
  let sub = '';

  /** No credential, in any writing, in the output or in any file in the folder. */
  function expectNoCredentials(result: CliResult): void {
    const secrets = [
      ...writings(ws.env.parentSid, ws.env.parentToken),
      ...writings(sub, SUB_TOKEN),
    ];
    for (const secret of secrets) {
      expect(result.stderr).not.toContain(secret);
      expect(result.stdout).not.toContain(secret);
      for (const file of filesUnder(ws.dir.path)) {
        expect(file.text, `${secret} in ${file.path}`).not.toContain(secret);
      }
    }
  }

  beforeAll(async () => {
    const seeded = await ws.env.seed({
      subaccounts: [{ friendly_name: 'Birch', auth_token: SUB_TOKEN }],
    });
    sub = seeded.subaccounts[0]!.sid;
    await ws.env.seed({ numbers: [{ phone_number: N }] });
    writeFileSync(
      ws.dir.file('map.csv'),
      `customer_id,customer_name,phone_number,subaccount_sid,messaging_service\nacme,Birch,${N},${sub},Acme SMS\n`,
    );
  });

  it("snapshot: a Messages page refused so shows the error without the parent's credentials", async () => {
    const proxy = await startTamperingProxy(ws.env.url, (path, _status, _body, request) =>
      path.includes('/Messages.json') ? echo(request.headers) : null,
    );
    try {
      const result = await runCli(
        ['snapshot', '--db', 'snap.db', '--no-export'],
        cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url }),
        ws.dir.path,
      );
      expect(result.code, result.stderr).toBe(1);
      expectNoCredentials(result);
      expect(result.stderr).toMatch(
        /^error: Twilio 20001 \(HTTP 400\): Refused by proxy: Authorization: Basic \[redacted\]/,
      );
    } finally {
      await proxy.close();
    }
  });

  it("apply: a step refused so keeps the subaccount's token out of stderr, the journal and the reports", async () => {
    const env_ = cliEnv(ws.env);
    const planned = await runCli(
      ['plan', '--mapping', 'map.csv', '--db', 'apply.db', '--out', 'p.plan.json'],
      env_,
      ws.dir.path,
    );
    expect(planned.code, planned.stderr).toBe(0);
    // Creating the customer's Messaging Service: a v1 request, made with the subaccount's own
    // Auth Token (fetched with the parent's).
    const proxy = await startTamperingProxy(ws.env.url, (path, _status, _body, request) =>
      request.method === 'POST' && path.startsWith('/v1/Services') ? echo(request.headers) : null,
    );
    try {
      const result = await runCli(
        ['apply', 'p.plan.json', '--db', 'apply.db', '--rate', '0'],
        cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url }),
        ws.dir.path,
      );
      expect(result.code, result.stderr).toBe(3);
      expect(filesUnder(ws.dir.path).some((f) => f.path.endsWith('audit.csv'))).toBe(true);
      expectNoCredentials(result);
      expect(result.stderr).toContain('Refused by proxy: Authorization: Basic [redacted]');
    } finally {
      await proxy.close();
    }
  });
});
