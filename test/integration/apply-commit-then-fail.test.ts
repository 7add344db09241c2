/**
 * Every write of an apply is done by Twilio and then answered 500 (the emulator's
 * `commit_then_fail_count`): a create sent again would make a second subaccount or service.
 * Each step is settled by reading the live state and adopts what its write made — no write is
 * sent twice, one subaccount and one service exist, and the run completes (built CLI).
 */

import { mkdirSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import { expectMigrated, makePlan, useCliWorkspace } from '../support/migration.js';
import { cliEnv, readOnly, runCli } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';

describe('writes done, then answered 500', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }] }, NOW);

  it.each([500, 503])(
    'answered %d: each step adopts what its write made, none is sent again',
    async (status) => {
      const { env, dir } = ws;
      await env.control('POST', '/__emulator/reset');
      await env.seed({ numbers: [{ phone_number: N1 }] });
      const mapping = dir.file(`m${status}.csv`);
      writeFileSync(
        mapping,
        `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N1},Acme Alerts\n`,
      );
      const db = dir.file(`a${status}.db`);
      const plan = dir.file(`a${status}.plan.json`);
      // A folder of its own: each database writes its reports under its working folder.
      const cwd = dir.file(`work${status}`);
      mkdirSync(cwd);
      const cli = (args: string[]) => runCli(args, cliEnv(env), cwd);
      expect((await cli(['snapshot', '--db', db])).code).toBe(0);
      await makePlan(cli, { mapping, db, out: plan });

      await clearRequestLog(env);
      await env.control('POST', '/__emulator/faults', {
        commit_then_fail_count: 100,
        commit_then_fail_methods: ['POST', 'DELETE'],
        error_status: status,
      });
      const result = await cli(['apply', plan, '--db', db, '--concurrency', '1']);
      expect(result.code, result.stderr).toBe(0);
      // Each is said as it happens, not only in the journal.
      const said = result.stderr.split('\n').filter((l) => l.includes('no certain answer'));
      expect(said).toHaveLength(4);
      expect(said[0]).toMatch(
        new RegExp(
          `^note: create_subaccount:acme: send 1 of at most 6 got no certain answer \\(.*\\); ` +
            "reading Twilio's state to see whether it took effect before sending it again$",
        ),
      );
      expect(result.stderr).not.toContain(env.parentToken);

      // Four writes (create the subaccount, move the number, create the service, attach the
      // number), each sent once and answered with the error though done.
      const writes = (await requestLog(env)).filter((e) => e.method !== 'GET');
      expect(writes.map((e) => e.status)).toEqual([status, status, status, status]);
      expect(new Set(writes.map((e) => e.path)).size).toBe(4);
      await expectMigrated(env, [
        { id: 'acme', name: 'Acme', service: 'Acme Alerts', numbers: [N1] },
      ]);
      expect(
        (await env.state()).services.filter((s) => s.friendly_name === 'Acme Alerts'),
      ).toHaveLength(1);
      const steps = readOnly(db, (d) =>
        d.prepare('SELECT action, state, attempts FROM apply_steps ORDER BY position').all(),
      );
      expect(steps).toEqual([
        { action: 'create_subaccount', state: 'done', attempts: 1 },
        { action: 'create_service', state: 'done', attempts: 1 },
        { action: 'transfer_number', state: 'done', attempts: 1 },
        { action: 'attach_number', state: 'done', attempts: 1 },
      ]);
    },
  );
});
