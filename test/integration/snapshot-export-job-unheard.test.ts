/**
 * A snapshot killed while Twilio was creating its Bulk Export job (the POST sent, its answer
 * never heard): Twilio made the job all the same, and the run recorded none. Run again, it
 * finds the job in Twilio's list of the account's jobs by the run's name and takes it up: no
 * second job for the same days. Built CLI (`npm run build`), emulator over HTTP.
 */

import { describe, expect, it } from 'vitest';

import { requestLog } from '../support/emulator.js';
import { seededStop, useCliWorkspaceEach } from '../support/migration.js';
import { cliEnv, ledgerDump, pollUntil, runCli, startCli } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const N1 = '+14155550101';
const R1 = '+16505550001';
const R2 = '+16505550002';

describe('snapshot killed while its Bulk Export job was being created (built CLI)', () => {
  const ws = useCliWorkspaceEach(
    // STOPs older than the Messages API shows: only Bulk Export has them.
    {
      numbers: [{ phone_number: N1 }],
      messages: [seededStop(R1, N1, NOW - 500 * DAY), seededStop(R2, N1, NOW - 450 * DAY)],
    },
    NOW,
  );

  const jobs = () => ws.env.emulator.state.exports.jobsOf(ws.env.parentSid);
  const held = async () =>
    (await ws.env.control<{ held_requests: number }>('GET', '/__emulator/health')).held_requests;

  it('the resumed run takes up the job Twilio made, and creates none for its days', async () => {
    const dbPath = ws.dir.file('s.db');
    // A snapshot makes no other write: with one POST let through (the test's own), the next
    // one, its job's creation, is held unanswered, and the run killed while it waits.
    await ws.env.control('POST', '/__emulator/faults', { hold_after: 1, hold_methods: ['POST'] });
    await ws.env.parent.api.v2010.accounts(ws.env.parentSid).update({ friendlyName: 'Parent' });
    const first = startCli(['snapshot', '--db', dbPath], cliEnv(ws.env));
    await pollUntil('the job creation held', async () => ((await held()) > 0 ? true : undefined));
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    // The hold lifted, Twilio makes the job whose answer nobody hears.
    await ws.env.control('POST', '/__emulator/faults', { hold_after: 0 });
    await pollUntil('the job made', () => (jobs().length === 1 ? true : undefined));

    await ws.env.control('DELETE', '/__emulator/requests');
    const again = await runCli(['snapshot', '--db', dbPath], cliEnv(ws.env));
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^snapshot run 1 \(resumed\)/);
    const log = await requestLog(ws.env);
    // The job made for the killed run is the only one for its days. (The days the API's
    // window turns out not to show, read once it has been, get a job of their own, as in a
    // run never stopped.)
    const [unheard, ...later] = jobs();
    expect(unheard!.friendlyName).toBe('submigrate snapshot 1');
    for (const job of later) {
      expect(job.startDay > unheard!.endDay || job.endDay < unheard!.startDay, job.sid).toBe(true);
    }
    expect(log.filter((r) => r.method === 'POST')).toHaveLength(later.length);
    // Found in Twilio's list of the account's jobs.
    expect(log.some((r) => r.method === 'GET' && r.path === '/v1/Exports/Messages/Jobs')).toBe(
      true,
    );
    // Its days were read: both STOPs are in the ledger.
    const events = ledgerDump(dbPath).events as { recipient?: string }[];
    expect(JSON.stringify(events)).toContain(R1);
    expect(JSON.stringify(events)).toContain(R2);
  });
});
