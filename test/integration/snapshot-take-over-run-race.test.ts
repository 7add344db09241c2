/**
 * `snapshot --take-over-run` looks for a run another machine recorded running before it asks
 * Twilio anything, and takes the run over in its write-locked claim, after Twilio told it each
 * account's creation date. It took over whatever another machine had recorded by then: a run a
 * second `--take-over-run` on another machine had taken up meanwhile (the two engineers who
 * read the same refusal), which runs there, so two machines wrote one run. It now takes over
 * only a run as recorded when it began; one taken up (or started) since is refused (exit 4).
 * In-process, on a real SQLite file, the real SDK against the emulator.
 */

import { describe, expect, it } from 'vitest';

import { adoptRun } from '../../src/db/snapshot-runs.js';
import { RefusedError } from '../../src/errors.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { useCliWorkspace } from '../support/migration.js';
import { fixedClock, readOnly, snapshotInto, withLedger } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const A = '+14155550181';

const runsOf = (db: string) =>
  readOnly(db, (d) =>
    d.prepare('SELECT id, status, pid, hostname FROM snapshot_runs ORDER BY id').all(),
  );

/** `port`, but before its first account look-up, `meanwhile` runs (another machine's doing). */
function lookingUpAfter(port: TwilioPort, meanwhile: () => Promise<void>): TwilioPort {
  let done = false;
  return new Proxy(port, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'fetchAccount') {
        return async (sid: string) => {
          if (!done) {
            done = true;
            await meanwhile();
          }
          return target.fetchAccount(sid);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('snapshot --take-over-run', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: A }] }, NOW);

  it('does not take over a run another machine took up while it began', async () => {
    const db = ws.dir.file('race.db');
    const clock = fixedClock(NOW);
    const here = { pid: process.pid, hostname: 'ops-laptop', isAlive: () => false };
    // A run build-box-7 recorded running, its last slice still to read.
    const first = await snapshotInto(db, ws.env.port(), clock, { useExport: false });
    await withLedger(db, (d) => {
      d.prepare(
        `UPDATE snapshot_runs SET status = 'running', finished_at = NULL, pid = 4242,
           hostname = 'build-box-7' WHERE id = ?`,
      ).run(first.runId);
      d.prepare(`UPDATE snapshot_slices SET status = 'pending', next_page_url = NULL`).run();
    });

    // While this one asks Twilio about the accounts, build-box-8 takes the run up (its own
    // --take-over-run) and reads on.
    const port = lookingUpAfter(ws.env.port(), () =>
      withLedger(db, (d) => adoptRun(d, first.runId, 5151, 'build-box-8')),
    );
    const taking = snapshotInto(db, port, clock, { useExport: false, takeOverRun: true }, here);
    await expect(taking).rejects.toThrow(RefusedError);
    await expect(taking).rejects.toThrow(
      /^snapshot run 1 is recorded running by pid 5151 on build-box-8 \(the run began [^)]+\); another machine .*--take-over-run took nothing over: the run was recorded so only after this snapshot began/,
    );
    expect(runsOf(db)).toEqual([{ id: 1, status: 'running', pid: 5151, hostname: 'build-box-8' }]);

    // Asked again (build-box-8's process gone, say), it takes the run up as recorded now.
    const taken = await snapshotInto(
      db,
      ws.env.port(),
      clock,
      { useExport: false, takeOverRun: true },
      here,
    );
    expect(taken).toMatchObject({ runId: 1, resumed: true });
    expect(runsOf(db)).toEqual([
      { id: 1, status: 'completed', pid: process.pid, hostname: 'ops-laptop' },
    ]);
  });
});
