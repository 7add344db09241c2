/**
 * The apply lock as `status` prints it: who holds it, since when, when it last renewed it, and
 * whether that makes it live, dead-process or stale, with the one command to run, in text and in
 * `--json` (`lock`, with that command). Before, `status` showed no lock at all: one left by a
 * process gone from this machine, or one of another machine with its renewal, went unsaid.
 */

import { describe, expect, it } from 'vitest';

import type { LockStatus } from '../../../src/apply/lock-status.js';
import { renderStatus, statusJson, type StatusView } from '../../../src/cli/render/status.js';

const asked = {
  run: undefined,
  db: 'my db.sqlite',
  dbShown: 'my db.sqlite',
  pid: 7,
  hostname: 'h',
};

const RUN = { planPath: 'plans/a.plan.json', optionsJson: '{}' };

function lock(overrides: Partial<LockStatus>): LockStatus {
  return {
    runId: 2,
    pid: 4242,
    hostname: 'ops-3f2a',
    acquiredAt: '2026-01-01T00:00:00Z',
    renewedAt: '2026-01-01T00:59:48Z',
    thisMachine: false,
    ownPid: false,
    state: 'live',
    reason: 'renewed',
    checkedAt: '2026-01-01T01:00:00Z',
    renewedSecondsAgo: 12,
    takeOverFrom: '2026-01-01T01:00:18Z',
    run: RUN,
    ...overrides,
  };
}

const view = (held: LockStatus): StatusView => ({
  runs: [],
  steps: null,
  starting: null,
  snapshot: null,
  lock: held,
});

/** The lock's line (the last one: no run, no snapshot in these views). */
const line = (held: LockStatus) => renderStatus(view(held), asked).at(-1);

describe("status: the apply lock's line", () => {
  // From when, by this machine's clock, and after the 11 s watch --take-over-lock makes first:
  // the line said "takes it over from T" alone, where apply's refusal (and the stale line) said
  // it watches the lock 11 s for a renewal before it takes it.
  it('another machine, renewed 12 s ago: live, wait, and from when --take-over-lock would take it', () => {
    expect(line(lock({}))).toBe(
      "apply lock: held by pid 4242 on ops-3f2a (another machine, whose processes this one cannot see), run 2, since 2026-01-01T00:00:00Z; last renewed 2026-01-01T00:59:48Z, 12 s ago: live, renewed within the last 30 s, so that apply still runs there; `apply --take-over-lock` is refused meanwhile. Wait for it to finish there; should it in fact have stopped, `submigrate apply plans/a.plan.json --take-over-lock --db 'my db.sqlite'` takes it over from 2026-01-01T01:00:18Z by this machine's clock, after watching the lock 11 s for a renewal",
    );
  });

  it('another machine, renewed 95 s ago: stale, and the command that takes it over', () => {
    const stale = lock({
      renewedAt: '2026-01-01T00:58:25Z',
      renewedSecondsAgo: 95,
      takeOverFrom: '2026-01-01T00:58:55Z',
      state: 'stale',
      reason: 'not-renewed',
    });
    expect(line(stale)).toBe(
      "apply lock: held by pid 4242 on ops-3f2a (another machine, whose processes this one cannot see), run 2, since 2026-01-01T00:00:00Z; last renewed 2026-01-01T00:58:25Z, 95 s ago: stale, not renewed for 30 s or more by this machine's clock, so that apply has most likely stopped (killed, its machine suspended or gone), which this machine cannot see. Once you know it no longer runs on ops-3f2a, `submigrate apply plans/a.plan.json --take-over-lock --db 'my db.sqlite'` takes it over, after watching the lock 11 s for a renewal (renewed meanwhile, as by an apply whose clock is behind this one's, it is refused)",
    );
  });

  it("this host under status's own pid: another process's, whose process cannot be seen", () => {
    const unseen = lock({ hostname: 'h', pid: 7, ownPid: true });
    expect(line(unseen)).toMatch(
      /^apply lock: held by pid 7 on h \(this process's own pid and hostname, but another process's: another container sharing the hostname, or one from before this machine restarted, whose processes this one cannot see\), run 2, .*: live, renewed within the last 30 s, so that apply still runs there; `apply --take-over-lock` is refused meanwhile\./,
    );
  });

  it('this machine, its process gone: dead-process, the next apply takes it over', () => {
    const dead = lock({
      hostname: 'h',
      thisMachine: true,
      state: 'dead-process',
      reason: 'process-gone',
      takeOverFrom: null,
    });
    expect(line(dead)).toBe(
      "apply lock: held by pid 4242 on h (this machine), run 2, since 2026-01-01T00:00:00Z; last renewed 2026-01-01T00:59:48Z, 12 s ago: dead-process, no process 4242 runs on this machine any more. The next apply takes the lock over, with a note in the audit: `submigrate apply plans/a.plan.json --db 'my db.sqlite'` continues run 2",
    );
    // Stopped before it began a run: the plan is not known, and said to be the user's.
    expect(line({ ...dead, runId: null, run: null })).toContain(
      "no run begun yet, since 2026-01-01T00:00:00Z; last renewed 2026-01-01T00:59:48Z, 12 s ago: dead-process, no process 4242 runs on this machine any more. The next apply takes the lock over, with a note in the audit: `submigrate apply PLAN --db 'my db.sqlite'` (PLAN: the plan to apply)",
    );
  });

  it('this machine, its process running: live, and status to follow it', () => {
    const live = lock({
      hostname: 'h',
      thisMachine: true,
      reason: 'process-runs',
      takeOverFrom: null,
    });
    expect(line(live)).toMatch(
      /\(this machine\), run 2, .*: live, its process runs on this machine \(another apply is refused meanwhile\)\. Wait for it to finish; `submigrate status --db 'my db\.sqlite'` shows its progress$/,
    );
  });

  it('renewed ahead of this clock, or unreadable, or never: said as such', () => {
    const ahead = line(
      lock({ renewedAt: '2026-01-01T01:00:40Z', renewedSecondsAgo: -40, reason: 'renewed-ahead' }),
    );
    expect(ahead).toContain(
      "last renewed 2026-01-01T01:00:40Z, 40 s ahead of this machine's clock: live, renewed later than this machine's now (the two clocks differ), so taken to run there still",
    );
    // Taken over only after the 11 s watch, as apply's refusal says (the line left it out).
    expect(ahead).toMatch(/by this machine's clock, after watching the lock 11 s for a renewal$/);
    const unreadable = line(
      lock({
        renewedAt: 'soon',
        renewedSecondsAgo: null,
        takeOverFrom: null,
        reason: 'renewal-unreadable',
      }),
    );
    expect(unreadable).toContain(
      'last renewal reads "soon", not a time: live, a renewal this submigrate cannot read is taken to run there still',
    );
    expect(unreadable).toContain(
      `clear it (\`sqlite3 'my db.sqlite' "UPDATE apply_lock SET renewed_at = NULL WHERE id = 1"\`), and \`submigrate apply plans/a.plan.json --take-over-lock --db 'my db.sqlite'\` takes it over`,
    );
    const never = line(
      lock({
        renewedAt: null,
        renewedSecondsAgo: null,
        takeOverFrom: null,
        state: 'stale',
        reason: 'never-renewed',
      }),
    );
    expect(never).toContain(
      'since 2026-01-01T00:00:00Z; never renewed: stale, a lock never renewed',
    );
  });

  it('no lock, no line', () => {
    expect(renderStatus({ ...view(lock({})), lock: null }, asked)).toEqual(['No apply run yet.']);
  });

  it("--json: the lock with its state, its run's plan and the command (not its token)", () => {
    const json = JSON.parse(statusJson(view(lock({ token: 'its-own' })), asked.db)) as {
      lock: unknown;
    };
    expect(json.lock).toEqual({
      runId: 2,
      pid: 4242,
      hostname: 'ops-3f2a',
      acquiredAt: '2026-01-01T00:00:00Z',
      renewedAt: '2026-01-01T00:59:48Z',
      thisMachine: false,
      ownPid: false,
      state: 'live',
      reason: 'renewed',
      checkedAt: '2026-01-01T01:00:00Z',
      renewedSecondsAgo: 12,
      takeOverFrom: '2026-01-01T01:00:18Z',
      planPath: 'plans/a.plan.json',
      command: "submigrate apply plans/a.plan.json --take-over-lock --db 'my db.sqlite'",
    });
    const none = JSON.parse(statusJson({ ...view(lock({})), lock: null }, asked.db)) as object;
    expect(none).toMatchObject({ lock: null });
  });
});
