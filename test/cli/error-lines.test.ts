/**
 * Every error a command ends in is one line on stderr that begins `error:` (a refusal
 * `refused:`), a Twilio error too: it was printed as `Twilio error 20503 (HTTP 503): …`, the
 * one error line without the prefix a script or a reader looks for. With `--json` the line is
 * the same and stdout stays empty. Needs `npm run build`.
 */

import { describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli, type CliResult } from '../support/snapshot-harness.js';

/** Exit 1, nothing on stdout, and stderr exactly `line` and nothing else. */
function expectErrorLine(result: CliResult, line: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(line);
}

describe('error lines (built CLI)', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: '+14155550101' }] });
  const cli = (args: string[], extra: Record<string, string | undefined> = {}) =>
    runCli(args, cliEnv(ws.env, extra), ws.dir.path);

  it('a Twilio 5xx the retries do not get past is an error: line, with --json too', async () => {
    // Every request answered 503 (20503): snapshot retries each read, then gives up.
    await ws.env.control('POST', '/__emulator/faults', { error_rate: 1, error_status: 503 });
    try {
      const [text, json] = await Promise.all([
        cli(['snapshot', '--db', ws.dir.file('text.db'), '--no-export']),
        cli(['snapshot', '--db', ws.dir.file('json.db'), '--no-export', '--json']),
      ]);
      for (const result of [text, json]) {
        expectErrorLine(result, /^error: Twilio 20503 \(HTTP 503\): Internal Server Error$/);
      }
    } finally {
      await ws.env.control('POST', '/__emulator/faults', { error_rate: 0 });
    }
  });

  it('a 401 is an error: line naming the credentials to check', async () => {
    const result = await cli(['snapshot', '--db', ws.dir.file('401.db')], {
      TWILIO_AUTH_TOKEN: 'f'.repeat(32),
    });
    expectErrorLine(
      result,
      /^error: Twilio 20003 \(HTTP 401\): Authenticate — Twilio did not accept the credentials: check TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN/,
    );
  });
});
