/**
 * status as printed: a database with no run says so; one run's steps are grouped by state in
 * the order apply's summary gives them, a stopped run's in-flight steps with what becomes of
 * them, and a stopped snapshot run with the command that takes it up.
 */

import { describe, expect, it } from 'vitest';

import { renderStatus, statusJson, type StatusView } from '../../../src/cli/render/status.js';
import type { StepRecord } from '../../../src/db/journal.js';

const asked = {
  run: undefined,
  db: 'my db.sqlite',
  dbShown: 'my db.sqlite',
  pid: 7,
  hostname: 'h',
};

function step(stepId: string, state: StepRecord['state']): StatusView['steps'] & object {
  return [
    {
      stepId,
      position: 0,
      action: 'x',
      customerId: 'acme',
      state,
      attempts: 1,
      startedAt: null,
      finishedAt: null,
      result: state === 'done' ? { written: '3' } : null,
      errorStatus: null,
      errorCode: null,
      errorMessage: null,
      phoneNumber: null,
    },
  ];
}

describe('renderStatus', () => {
  it('no run: one line', () => {
    const view = { runs: [], steps: null, starting: null, snapshot: null, lock: null };
    expect(renderStatus(view, asked)).toEqual(['No apply run yet.']);
  });

  it("a stopped run's steps by state, done first, in flight with its note", () => {
    const view: StatusView = {
      runs: [
        {
          run: {
            id: 2,
            planPath: 'plans/a.plan.json',
            planIntegrity: '',
            planFingerprint: '',
            parentAccountSid: '',
            status: 'running',
            startedAt: 'S',
            finishedAt: null,
            optionsJson: '{}',
            notesJson: '[]',
          },
          counts: { pending: 0, in_flight: 1, done: 1, skipped: 0, failed: 0, not_run: 0 },
          process: null,
          followedBy: null,
          routesLost: 0,
        },
      ],
      steps: [...step('b', 'in_flight'), ...step('a', 'done')],
      starting: null,
      lock: null,
      snapshot: null,
    };
    const lines = renderStatus(view, { ...asked, run: 2 });
    expect(lines[0]).toContain(
      "run 2  stopped    S → …  plans/a.plan.json  (1 done, 1 in flight)  no process is running it: `submigrate apply plans/a.plan.json --db 'my db.sqlite'`",
    );
    expect(lines.slice(1)).toEqual([
      '\ndone (1):',
      '  a  attempts 1  written=3',
      expect.stringMatching(/^\nin flight \(1\): begun by the apply that stopped/),
      '  b  attempts 1',
    ]);
  });

  it("a run whose lock another machine holds: --take-over-lock named, not on this machine's", () => {
    const view = (hostname: string): StatusView => ({
      runs: [
        {
          run: {
            id: 2,
            planPath: 'plans/a.plan.json',
            planIntegrity: '',
            planFingerprint: '',
            parentAccountSid: '',
            status: 'running',
            startedAt: 'S',
            finishedAt: null,
            optionsJson: '{"allow_missing_snapshot":true}',
            notesJson: '[]',
          },
          counts: { pending: 1, in_flight: 0, done: 1, skipped: 0, failed: 0, not_run: 0 },
          process: { runId: 2, pid: 77, hostname, acquiredAt: 'A', renewedAt: null },
          followedBy: null,
          routesLost: 0,
        },
      ],
      steps: null,
      starting: null,
      lock: null,
      snapshot: null,
    });
    expect(renderStatus(view('ops-container-3f2a'), asked)).toEqual([
      "run 2  running    S → …  plans/a.plan.json  (1 done, 1 not sent yet)  pid 77 on ops-container-3f2a since A: ops-container-3f2a is another machine (or container), whose processes this one cannot see: if that apply still runs there, wait for it to finish; if it no longer runs (it was stopped, its machine or container is gone), take the run over with `submigrate apply plans/a.plan.json --take-over-lock --db 'my db.sqlite' --allow-missing-snapshot` (plans/a.plan.json as that apply named its plan), which finishes the run and writes its reports.",
    ]);
    expect(renderStatus(view('h'), asked)).toEqual([
      'run 2  running    S → …  plans/a.plan.json  (1 done, 1 not sent yet)  pid 77 on h since A',
    ]);
  });

  it('a stopped snapshot run: the command that takes it up, quoted', () => {
    const view: StatusView = {
      runs: [],
      steps: null,
      starting: null,
      lock: null,
      snapshot: {
        id: 4,
        state: 'stopped',
        pid: 9,
        hostname: 'h',
        startedAt: 'S',
        finishedAt: null,
        resumeArguments: ['--since', '2026-01-01'],
        madeBy: 'snapshot',
        reconcilePass: null,
      },
    };
    expect(renderStatus(view, asked)[1]).toContain(
      "`submigrate snapshot --since 2026-01-01 --db 'my db.sqlite'` takes it up",
    );
  });

  it('a reconcile pass killed before it recorded its pass: reconcile runs it again, no snapshot takes it up', () => {
    // Its windows are the subaccounts' alone: the `snapshot` command its arguments made
    // abandoned it ("was for other accounts"), though the line said that command took it up.
    const view: StatusView = {
      runs: [],
      steps: null,
      starting: null,
      lock: null,
      snapshot: {
        id: 7,
        state: 'stopped',
        pid: 9,
        hostname: 'h',
        startedAt: 'S',
        finishedAt: null,
        resumeArguments: null,
        madeBy: 'reconcile',
        reconcilePass: null,
        reconcileRun: true,
      },
    };
    const line = renderStatus(view, asked)[1]!;
    expect(line).toContain(
      "snapshot run 7 (a reconcile pass, not recorded: the subaccounts' messages, not the parent's history)  stopped  started S",
    );
    expect(line).toContain("`submigrate reconcile --db 'my db.sqlite'` runs the pass again");
    expect(line).not.toContain('submigrate snapshot');
    // Killed between making its run and keeping its evidence, it left nothing in the ledger:
    // the line never says it did, only that it may have, and that the next pass reads it again.
    expect(line).not.toContain('what it read is in the ledger,');
    expect(line).toContain(
      'what it read is in the ledger if it stopped after keeping it, and the next pass reads the span again either way',
    );
  });

  it('a reconcile pass, recorded as a snapshot run, is said to be one', () => {
    // It read the subaccounts since the move: shown bare, it read as the snapshot of the
    // parent's history the engineer had run (or not) before a plan.
    const view: StatusView = {
      runs: [],
      steps: null,
      starting: null,
      lock: null,
      snapshot: {
        id: 6,
        state: 'completed',
        pid: 9,
        hostname: 'h',
        startedAt: 'S',
        finishedAt: 'F',
        resumeArguments: null,
        madeBy: 'reconcile',
        reconcilePass: 4,
      },
    };
    expect(renderStatus(view, asked)[1]).toBe(
      "snapshot run 6 (reconcile pass 4: the subaccounts' messages, not the parent's history)  completed  S → F",
    );
  });
  it("plan's refresh and apply's read, recorded as snapshot runs, say what they read", () => {
    // Bare, plan's refresh read as a completed snapshot of the whole history, just after
    // apply refused the plan because no completed snapshot covers it.
    const view = (madeBy: 'plan' | 'apply' | 'snapshot'): StatusView => ({
      runs: [],
      steps: null,
      starting: null,
      lock: null,
      snapshot: {
        id: 1,
        state: 'completed',
        pid: 9,
        hostname: 'h',
        startedAt: 'S',
        finishedAt: 'F',
        resumeArguments: null,
        madeBy,
        reconcilePass: null,
      },
    });
    expect(renderStatus(view('plan'), asked)[1]).toBe(
      "snapshot run 1 (plan's refresh of the ledger: the Messages API's window only, not the history before it, which `submigrate snapshot` reads)  completed  S → F",
    );
    expect(renderStatus(view('apply'), asked)[1]).toBe(
      "snapshot run 1 (apply's read of the history its numbers left, up to their moves)  completed  S → F",
    );
    expect(renderStatus(view('snapshot'), asked)[1]).toBe('snapshot run 1  completed  S → F');
  });
  it('--json gives each run its options and notes as JSON, not only as text to parse again', () => {
    const notes = [
      { at: 'T', note: 'took over the lock of pid 9 on h, which is no longer running' },
    ];
    const optionsJson = '{"concurrency":4,"rate":10}';
    const view: StatusView = {
      runs: [
        {
          run: {
            id: 1,
            planPath: 'a.plan.json',
            planIntegrity: '',
            planFingerprint: '',
            parentAccountSid: '',
            status: 'completed',
            startedAt: 'S',
            finishedAt: 'F',
            optionsJson,
            notesJson: JSON.stringify(notes),
          },
          counts: { pending: 0, in_flight: 0, done: 1, skipped: 0, failed: 0, not_run: 0 },
          process: null,
          followedBy: null,
          routesLost: 0,
        },
      ],
      steps: null,
      starting: null,
      lock: null,
      snapshot: null,
    };
    const json = JSON.parse(statusJson(view, asked.db)) as {
      runs: { run: Record<string, unknown>; counts: unknown }[];
    };
    expect(json.runs[0]!.run).toMatchObject({
      id: 1,
      options: { concurrency: 4, rate: 10 },
      notes,
      // As they were, for a script that reads them.
      optionsJson,
      notesJson: JSON.stringify(notes),
    });
    expect(json.runs[0]!.counts).toEqual(view.runs[0]!.counts);
    expect(json).toMatchObject({ steps: null, starting: null, snapshot: null });
  });
});

/**
 * A run given up for a plan made again (run 3, of another plan, sent steps for its customers
 * after it stopped): its steps in flight and not sent stay so for good. `status` said of them
 * what it says of any stopped run's ("an apply that continues the run settles each from
 * Twilio's state first", "not sent yet"), though no apply continues it any more: now its line
 * and its steps' headings say that none is sent nor settled again, why, and where to look.
 */
describe('renderStatus of a run given up for a plan made again', () => {
  const view = (counts: Partial<Record<StepRecord['state'], number>>): StatusView => ({
    runs: [
      {
        run: {
          id: 2,
          planPath: 'plans/a.plan.json',
          planIntegrity: '',
          planFingerprint: '',
          parentAccountSid: '',
          status: 'running',
          startedAt: 'S',
          finishedAt: null,
          optionsJson: '{}',
          notesJson: '[]',
        },
        counts: {
          pending: 0,
          in_flight: 0,
          done: 0,
          skipped: 0,
          failed: 0,
          not_run: 0,
          ...counts,
        },
        process: null,
        followedBy: 3,
        routesLost: 0,
      },
    ],
    steps: [...step('c', 'pending'), ...step('b', 'in_flight'), ...step('a', 'done')],
    starting: null,
    lock: null,
    snapshot: null,
  });

  it('says its steps left are never sent nor settled, and why', () => {
    const lines = renderStatus(view({ done: 1, in_flight: 1, pending: 1 }), { ...asked, run: 2 });
    expect(lines[0]).toBe(
      'run 2  stopped    S → …  plans/a.plan.json  (1 done, 1 in flight, 1 not sent)  no process is running it, and run 3 (another plan) came after it: its steps left (1 in flight, 1 not sent) are never sent nor settled by any apply, since applying its plan no longer continues it; run 3 sent steps for its customers since, and `submigrate status --run 3` shows what it did',
    );
    const text = lines.slice(1).join('\n');
    expect(text).toContain(
      'in flight (1): begun by the apply that stopped, whether Twilio took them not known; none is settled or sent again: run 3 (another plan) came after this run, and applying its plan no longer continues it (`submigrate status --run 3` shows what that run did)',
    );
    expect(text).toContain(
      'not sent (1): none will be sent: run 3 (another plan) came after this run',
    );
    expect(text).not.toContain('an apply that continues the run');
  });

  it('says nothing more of one that left no step', () => {
    const lines = renderStatus(view({ done: 3 }), asked);
    expect(lines[0]).toMatch(/no process is running it, and run 3 \(another plan\) came after it$/);
  });
});
