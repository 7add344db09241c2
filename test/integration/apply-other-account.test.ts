/**
 * A plan applied with the credentials of another account than the one it was made for (the
 * rehearsal's plan against the real account, or another customer's parent): refused before
 * any request, `--dry-run` too, in one line that says what to set or do instead. Built CLI,
 * emulator over HTTP.
 */

import { describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const N = '+14155550611';
const OTHER = `AC${'6'.repeat(32)}`;
const OTHER_TOKEN = 'f'.repeat(32);

describe('apply of a plan made for another account', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: N }],
    subaccounts: [{ friendly_name: 'Elsewhere', sid: OTHER, auth_token: OTHER_TOKEN }],
  });

  it('is refused before any request, naming both accounts and what to do next', async () => {
    await planOneCustomer(ws, [N]);
    const parent = ws.env.parentSid;
    const other = cliEnv(ws.env, { TWILIO_ACCOUNT_SID: OTHER, TWILIO_AUTH_TOKEN: OTHER_TOKEN });
    for (const dryRun of [['--dry-run'], []]) {
      await clearRequestLog(ws.env);
      const applied = await runCli(
        ['apply', 'a.plan.json', '--db', 'a.db', ...dryRun],
        other,
        ws.dir.path,
      );
      expect(applied.code, applied.stderr).toBe(1);
      const lines = applied.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(
        `a.plan.json moves numbers out of ${parent}, but TWILIO_ACCOUNT_SID is ${OTHER}`,
      );
      expect(lines[0]).toContain(
        `set TWILIO_ACCOUNT_SID to ${parent} with that account's credentials`,
      );
      expect(lines[0]).toContain('make a plan with these credentials (`submigrate plan');
      expect(await requestLog(ws.env)).toEqual([]);
    }
    const state = await ws.env.state();
    expect(state.numbers.find((n) => n.phone_number === N)?.account_sid).toBe(parent);
  });
});
