/**
 * apply killed with SIGKILL in the middle of a carry: 200 opt-outs, 8 batches of 25. The
 * emulator answers the moves and the first k batches and holds batch k + 1 (its send already
 * committed to the journal) until the process is dead; then it lets that batch through, as
 * Twilio would process a request whose client died. The second apply takes the carry up
 * again: every record is written, the batch with no answer on record is the only one sent
 * again, and every record goes with the correlation_id the first apply fixed for it — the
 * emulator holds exactly those ids and no other.
 */

import { hostname } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  clearRequestLog,
  emulatorOptOuts,
  requestLog,
  startTestEmulator,
  type TestEmulator,
} from '../support/emulator.js';
import { expectMigrated } from '../support/migration.js';
import {
  cliEnv,
  readOnly,
  runCli,
  tempDir,
  type TempDir,
  killApplyAtHeldWrite,
  releaseHeld,
} from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';
const RECIPIENTS = Array.from({ length: 200 }, (_, i) => `+1206${String(i).padStart(7, '0')}`);
/** The writes before the carry: subaccount, service, transfer, membership. */
const MOVES = 4;

describe('apply killed in the middle of the carry batches (built CLI)', () => {
  let dir: TempDir;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => dir.remove());

  it.each([0, 3])(
    'after %d batches: the resumed apply writes every record, none with a new correlation_id',
    async (k) => {
      const env: TestEmulator = await startTestEmulator({ now: () => NOW });
      try {
        await env.seed({
          numbers: [{ phone_number: N1 }],
          messages: RECIPIENTS.map((from, i) => ({
            from,
            to: N1,
            body: 'STOP',
            direction: 'inbound',
            date_sent: new Date(NOW - 86_400_000 - i * 1000).toISOString(),
          })),
        });
        const mapping = dir.file(`k${k}.csv`);
        writeFileSync(
          mapping,
          `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N1},acmeAlerts\n`,
        );
        const db = dir.file(`k${k}.db`);
        const plan = dir.file(`k${k}.plan.json`);
        // A working folder per database: each one's run 1 writes its own reports/1/.
        const cwd = dir.file(`k${k}`);
        mkdirSync(cwd);
        const cli = (args: string[]) => runCli(args, cliEnv(env), cwd);
        const planned = await cli([
          'plan',
          '--mapping',
          mapping,
          '--db',
          db,
          '--out',
          plan,
          '--carry-optouts',
        ]);
        expect(planned.code).toBe(0);
        expect(planned.stdout).toContain('  + opt-outs     acme  200 -> "acmeAlerts"');

        await clearRequestLog(env);
        const args = ['apply', plan, '--db', db, '--rate', '1000', '--concurrency', '1'];
        const killed = await killApplyAtHeldWrite(env, cwd, plan, db, MOVES + k, ['POST']);
        expect(killed.signal).toBe('SIGKILL');

        const atKill = journal(db);
        expect(atKill.step).toBe('in_flight');
        expect(atKill.items).toHaveLength(200);
        expect(atKill.items.filter((i) => i.error_code === 0)).toHaveLength(25 * k);
        expect(atKill.batches.map((b) => [b.sends, b.answered])).toEqual(
          Array.from({ length: 8 }, (_, b) =>
            b < k ? [1, true] : b === k ? [1, false] : [0, false],
          ),
        );

        // The held batch reaches Twilio after its client died.
        await releaseHeld(env);

        const second = await cli(args);
        expect(second.stderr).toBe(
          `note: took over the lock of pid ${killed.pid} on ${hostname()}, which is no longer running\n` +
            'note: carry_optouts:acme was in flight when the last apply stopped: its records keep their correlation_ids, and consent records are upserts by them (a record written twice is written once), so it is sent again\n',
        );
        expect(second.code).toBe(0);
        await expectMigrated(env, [
          { id: 'acme', name: 'Acme', service: 'acmeAlerts', numbers: [N1] },
        ]);

        const after = journal(db);
        expect(after.step).toBe('done');
        expect(after.items.every((i) => i.error_code === 0)).toBe(true);
        // The same records, in the same batches, with the ids fixed before the kill.
        expect(after.items.map((i) => [i.position, i.batch, i.correlation_id])).toEqual(
          atKill.items.map((i) => [i.position, i.batch, i.correlation_id]),
        );
        // Only the batch with no answer on record was sent again.
        expect(after.batches.map((b) => b.sends)).toEqual(
          Array.from({ length: 8 }, (_, b) => (b === k ? 2 : 1)),
        );
        const consent = (await requestLog(env)).filter((e) => e.path === '/v1/Consents/Bulk');
        expect(consent).toHaveLength(9);
        expect(consent.every((e) => e.status === 201)).toBe(true);

        // Twilio holds one record per recipient, each with the id the journal fixed.
        const stored = (await emulatorOptOuts(env)).filter((o) => o.source === 'consent-api');
        expect(stored.map((o) => o.recipient).sort()).toEqual([...RECIPIENTS].sort());
        expect(stored.map((o) => o.correlation_id).sort()).toEqual(
          atKill.items.map((i) => i.correlation_id).sort(),
        );
      } finally {
        await env.close();
      }
    },
  );
});

function journal(db: string) {
  return readOnly(db, (d) => ({
    step: (
      d.prepare("SELECT state FROM apply_steps WHERE step_id = 'carry_optouts:acme'").get() as {
        state: string;
      }
    ).state,
    items: d
      .prepare(
        'SELECT position, batch, correlation_id, error_code FROM consent_items ORDER BY position',
      )
      .all() as {
      position: number;
      batch: number;
      correlation_id: string;
      error_code: number | null;
    }[],
    batches: (
      d.prepare('SELECT batch, sends, answered_at FROM consent_batches ORDER BY batch').all() as {
        sends: number;
        answered_at: string | null;
      }[]
    ).map((b) => ({ sends: b.sends, answered: b.answered_at !== null })),
  }));
}
