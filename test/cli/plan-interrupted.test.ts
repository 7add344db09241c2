/**
 * plan stopped while it reads the account (SIGTERM, Ctrl-C, a closed terminal) ends at once,
 * as a kill does (exit 128 + the signal's number), and no plan file is written. It ended
 * silently; it now says that nothing was changed at Twilio and no plan file written, and to run
 * the same command again, which then makes the plan. Stopped while a read is held by the
 * emulator. Built CLI, emulator over HTTP.
 */

import { existsSync, rmSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startCliHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550101', '+14155550102'];

describe('plan stopped by a signal while it reads the account', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
    ['SIGHUP', 129],
  ] as const)(
    '%s: says nothing was changed and no plan file written, and how to make it',
    async (signal, code) => {
      const { env, dir, cli } = ws;
      writeFileSync(
        dir.file('m.csv'),
        `customer_id,customer_name,phone_number\nacme,Acme,${NUMBERS[0]}\nbirch,Birch,${NUMBERS[1]}\n`,
      );
      const args = ['plan', '--mapping', 'm.csv', '--db', 'a.db', '--out', 'a.plan.json'];
      // Its first read goes through, the next is held: plan is part way through the account.
      const run = await startCliHeld(env, [...args, '--no-snapshot'], dir.path, {
        after: 1,
        methods: ['GET'],
      });
      run.child.kill(signal);
      const stopped = await run.done;
      await releaseHeld(env);
      await env.control('POST', '/__emulator/faults', { hold_after: 0, hold_methods: [] });
      expect(stopped.signal === signal || stopped.code === code, JSON.stringify(stopped)).toBe(
        true,
      );
      expect(stopped.stdout).toBe('');
      expect(stopped.stderr).toBe(
        `plan: stopped by ${signal} before it wrote its plan file: it sends Twilio only reads, so nothing was changed there, and no plan file was written. Run the same command again to make the plan.\n`,
      );
      expect(existsSync(dir.file('a.plan.json'))).toBe(false);

      // The same command again makes the plan.
      const again = await cli([...args, '--no-snapshot']);
      expect(again.code, again.stderr).toBe(0);
      expect(existsSync(dir.file('a.plan.json'))).toBe(true);
      rmSync(dir.file('a.plan.json'));
    },
    90_000,
  );
});
