/**
 * A snapshot that fails while Bulk Export is still making files must fail as any run does —
 * its error thrown to the caller, one line from the CLI — and never as an unhandled promise
 * rejection (which kills the process with a raw stack before the run can stop its downloads).
 * Found by the ledger fuzz (test/support/ledger-fuzz.ts, seed 333): a day file already on hand
 * is read at once; when that read fails (here: the numbers of a suspended subaccount cannot
 * be listed, so no message can be classified) while the job for the other days is polled, its
 * rejection had no handler until the polling ended.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TwilioError } from '../../src/errors.js';
import { useCliWorkspace } from '../support/migration.js';
import { snapshotInto } from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const LOCAL = '+14155550170';

describe('snapshot: a failure while an export job is polled', () => {
  // The real clock: the run waits for the emulator's export job in real time.
  const ws = useCliWorkspace(undefined, { now: () => Date.now() });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('throws the failure to the caller; no rejection goes unhandled', async () => {
    const now = Date.now();
    const { subaccounts } = await ws.env.seed({
      subaccounts: [{ friendly_name: 'Suspended Sam', status: 'suspended' }],
      numbers: [{ phone_number: LOCAL }],
      messages: [500, 470, 430].map((days) => ({
        from: '+16505550170',
        to: LOCAL,
        body: 'STOP',
        direction: 'inbound' as const,
        date_sent: now - days * DAY,
      })),
    });
    const clock = { now: () => new Date() };
    // Day files for 450 to 400 days back exist already (an earlier run's job).
    await snapshotInto(ws.dir.file('earlier.db'), ws.env.port(), clock, {
      since: new Date(now - 450 * DAY),
    });
    // The days before that need a job of their own, which takes a few seconds to make.
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 3 });

    const run = snapshotInto(ws.dir.file('ledger.db'), ws.env.port(), clock, {
      accounts: [subaccounts[0]!.sid],
    });
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TwilioError);
    expect((error as TwilioError).status).toBe(403);
    // Give a late rejection its turn to be reported.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(unhandled).toEqual([]);
  });
});
