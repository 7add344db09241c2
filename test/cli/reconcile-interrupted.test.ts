/**
 * reconcile stopped part way (SIGTERM, Ctrl-C, a closed terminal) ends at once, as a kill does
 * (exit 128 + the signal's number): a pass is recorded, and its reports written, in one go
 * after its last read, so the stopped one left nothing. It ended silently; it now says so,
 * and names the command that runs the pass again, which then does. Stopped while its reads are
 * held by the emulator. Built CLI, emulator over HTTP.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startCliHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550101', '+14155550102'];

describe('reconcile stopped by a signal while it reads', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it.each([
    ['SIGTERM', 143, 1],
    ['SIGINT', 130, 2],
    ['SIGHUP', 129, 3],
  ] as const)(
    '%s: says nothing of the pass was kept and how to run it again',
    async (signal, code, pass) => {
      const { env, dir, cli } = ws;
      if (signal === 'SIGTERM') {
        // Two customers: two subaccounts, each read in its own request.
        writeFileSync(
          dir.file('m.csv'),
          `customer_id,customer_name,phone_number\nacme,Acme,${NUMBERS[0]}\nbirch,Birch,${NUMBERS[1]}\n`,
        );
        expect((await cli(['snapshot', '--db', 'a.db'])).code).toBe(0);
        await makePlan(cli, { mapping: 'm.csv', db: 'a.db', out: 'a.plan.json' });
        const applied = await cli(['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000']);
        expect(applied.code, applied.stderr).toBe(0);
      }
      // The first subaccount's read goes through, the second's is held: reconcile is part way through its reads.
      const args = ['reconcile', '--db', 'a.db'];
      const run = await startCliHeld(env, args, dir.path, { after: 1, methods: ['GET'] });
      run.child.kill(signal);
      const stopped = await run.done;
      await releaseHeld(env);
      // Ended by the signal itself, or with its code (128 + its number): as a kill ends it.
      expect(stopped.signal === signal || stopped.code === code, JSON.stringify(stopped)).toBe(
        true,
      );
      expect(stopped.stdout).toBe('');
      expect(stopped.stderr).toBe(
        `reconcile: stopped by ${signal} before it recorded this pass: nothing it read was judged or kept, and no report was written. \`submigrate reconcile --db a.db\` runs the pass again.\n`,
      );
      expect(stopped.stderr).not.toContain(env.parentToken);

      // The command it names runs the pass, the next one: the stopped one was not recorded.
      const again = await cli(['reconcile', '--db', 'a.db']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(new RegExp(`^reconcile pass ${pass}: 2 subaccount\\(s\\)`));
    },
    90_000,
  );
});
