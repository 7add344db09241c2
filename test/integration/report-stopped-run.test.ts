/**
 * The reports of an apply run written while it is not complete, by `report`: killed (SIGKILL)
 * half way, its run is `stopped`, as `status` says — the reports said `running`, so a reviewer
 * read a dead run as one still being applied; written elsewhere (`--out`) while its apply runs,
 * it is `running`. Once the run is continued, its reports say `completed`. Built CLI, emulator
 * over HTTP.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { seededStop, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startApplyHeldAtWrite } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const [P1, P2] = ['+14155550401', '+14155550402'];

/** The value of one of report.html's summary figures, and its label. */
function figure(page: string, id: string): { value: number; label: string } {
  const found = new RegExp(
    `data-figure="${id}">\\s*<span class="value">(\\d+)</span><span class="label">([^<]*)</span>`,
  ).exec(page);
  expect(found, id).not.toBeNull();
  return { value: Number(found![1]), label: found![2]! };
}

/** A report folder's run status, as audit.json and report.html give it, and the page. */
function shownStatus(dir: string): { json: string; html: string; page: string } {
  const audit = JSON.parse(readFileSync(join(dir, 'audit.json'), 'utf8')) as {
    run: { status: string };
  };
  const page = readFileSync(join(dir, 'report.html'), 'utf8');
  const html = /<b data-run-status>([^<]*)<\/b>/.exec(page)?.[1] ?? '';
  return { json: audit.run.status, html, page };
}

describe('the reports of a run its apply no longer runs', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: P1 }, { phone_number: P2 }],
      messages: [seededStop('+16505550401', P1, NOW - 86_400_000)],
    },
    NOW,
  );

  it('say stopped, not running; running only while an apply runs it', async () => {
    const { env, dir } = ws;
    const db = dir.file('s.db');
    const plan = dir.file('s.plan.json');
    writeFileSync(
      dir.file('s.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${P1}\nbeta,Beta,${P2}\n`,
    );
    expect((await ws.cli(['snapshot', '--db', db])).code).toBe(0);
    const planned = await ws.cli([
      'plan',
      '--mapping',
      dir.file('s.csv'),
      '--db',
      db,
      '--out',
      plan,
    ]);
    expect(planned.code, planned.stderr).toBe(0);

    // While the apply runs (held at its third write), a report written elsewhere says running.
    const running = await startApplyHeldAtWrite(env, dir.path, plan, db, 2);
    const during = await ws.cli(['report', '--run', '1', '--db', db, '--out', dir.file('during')]);
    expect(during.stderr).toMatch(
      /^warning: apply run 1 is under way .*: these reports show it part way, not its result;/m,
    );
    expect(during.code).toBe(3);
    const whileRunning = shownStatus(dir.file('during'));
    expect([whileRunning.json, whileRunning.html]).toEqual(['running', 'running']);
    expect(whileRunning.page).toMatch(/This apply run is under way/);

    // Killed there: nothing runs it any more.
    running.child.kill('SIGKILL');
    expect((await running.done).signal).toBe('SIGKILL');
    const report = await ws.cli(['report', '--run', '1', '--db', db]);
    expect(report.stderr).toContain(
      `warning: apply run 1 stopped before it finished (no process is running it): these reports show it part way, not its result; \`submigrate apply s.plan.json --db ${db}\` (s.plan.json as its apply named its plan) continues it and writes its reports`,
    );
    expect(report.code).toBe(3);
    const stopped = shownStatus(dir.file('reports/1'));
    expect([stopped.json, stopped.html]).toEqual(['stopped', 'stopped']);
    expect(stopped.page).toMatch(/This apply run stopped before it finished/);
    expect(stopped.page).not.toMatch(/under way/);
    // Its numbers, each counted once: those whose steps were pending or in flight when it was
    // killed are not finished, and the figures add up to them all.
    const moved = figure(stopped.page, 'numbers-moved');
    const failed = figure(stopped.page, 'numbers-not-moved');
    const unfinished = figure(stopped.page, 'numbers-not-finished');
    expect(moved.label).toMatch(/^numbers moved \(of 2[;)]/);
    expect(unfinished.label).toBe('numbers not moved: not finished');
    expect(unfinished.value).toBeGreaterThan(0);
    expect(moved.value + failed.value + unfinished.value).toBe(2);
    const status = await ws.cli(['status', '--db', db]);
    expect(status.stdout).toMatch(/^run 1 {2}stopped /m);

    await releaseHeld(env);
    const resumed = await ws.cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const finished = await ws.cli(['report', '--run', '1', '--db', db]);
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stderr).not.toMatch(/part way/);
    const done = shownStatus(dir.file('reports/1'));
    expect([done.json, done.html]).toEqual(['completed', 'completed']);
    expect(done.page).not.toMatch(/This apply run/);
    expect(figure(done.page, 'numbers-moved').value).toBe(2);
    expect(figure(done.page, 'numbers-not-finished').value).toBe(0);
  }, 90_000);
});
