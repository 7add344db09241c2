/**
 * The note of a lock taken over from an apply that had begun no run: of one on this machine,
 * seen to be gone, it says the apply stopped; of one on another machine (--take-over-lock),
 * which cannot be seen, it does not, in the audit nor in report.html.
 */

import { describe, expect, it } from 'vitest';

import { noteOpening } from '../../src/apply/run-opening.js';
import type { ApplyRun } from '../../src/db/journal.js';
import { noteInWords } from '../../src/report/page-alarms.js';

function opened(
  hostname: string,
  runId: number | null = null,
  existing?: number,
  pid = 4242,
): string[] {
  const notes: string[] = [];
  noteOpening((text) => notes.push(text), {
    tookOverFrom: {
      pid,
      hostname,
      runId,
      acquiredAt: '2026-01-01T00:00:00Z',
      renewedAt: null,
    },
    runner: { pid: 7, hostname: 'ops-laptop' },
    existing:
      existing === undefined ? undefined : ({ id: existing, optionsJson: '{}' } as ApplyRun),
    triedAgain: [],
    options: '{}',
    uncarried: [],
    uncovered: [],
  });
  return notes;
}

describe('the note of a lock taken over from an apply that had begun no run', () => {
  it('says one on this machine stopped', () => {
    const [note] = opened('ops-laptop');
    expect(note).toBe(
      'took over the lock of pid 4242 on ops-laptop, which is no longer running: it had begun no run (stopped while it checked its plan), so nothing of this run was its',
    );
    expect(noteInWords(note!)).toMatch(/^An earlier apply, stopped before it began any run/);
  });

  it('does not say one on another machine stopped', () => {
    const [note] = opened('ops-container-3f2a');
    expect(note).toMatch(/, another machine, as --take-over-lock asked/);
    expect(note).toMatch(
      /: it had begun no run \(it was checking its plan; should it still run there, it is refused as it would begin one\), so nothing of this run was its$/,
    );
    expect(note).not.toMatch(/stopped/);
    const words = noteInWords(note!);
    expect(words).toMatch(/^An apply on another machine, which had begun no run/);
    expect(words).not.toMatch(/stopped/);
  });

  it('report.html does not say an apply on another machine no longer ran', () => {
    // Of another run, and of this run's own: taken over on the word of the person running apply.
    for (const [runId, existing] of [
      [3, 5],
      [5, 5],
    ] as const) {
      const [note] = opened('ops-container-3f2a', runId, existing);
      expect(note).toMatch(/whether it still ran there could not be seen from here/);
      const words = noteInWords(note!)!;
      expect(words).toMatch(/on another machine/);
      expect(words).toMatch(/whether or not that apply still ran there/);
      expect(words).not.toMatch(/no longer ran|stopped/);
    }
    // On this machine, seen gone: said so.
    expect(noteInWords(opened('ops-laptop', 3, 5)[0]!)).toMatch(/which no longer ran/);
    expect(noteInWords(opened('ops-laptop', 5, 5)[0]!)).toBe(
      'The run was taken over from an earlier apply that no longer ran.',
    );
  });

  it("does not say one of this host under the taker's own pid stopped", () => {
    // Another container sharing the hostname (node pid 1 in each), its lock taken over with
    // --take-over-lock: its process could not be seen from here, as another machine's.
    const [note] = opened('ops-laptop', null, undefined, 7);
    expect(note).toBe(
      "took over the lock of pid 7 on ops-laptop, this process's own pid and hostname but another process's lock (another container sharing the hostname, or a process from before a restart), as --take-over-lock asked (whether it still ran could not be seen from here): it had begun no run (it was checking its plan; should it still run there, it is refused as it would begin one), so nothing of this run was its",
    );
    expect(noteInWords(note!)).toMatch(/^An apply on another machine, which had begun no run/);
    const [ofRun] = opened('ops-laptop', 5, 5, 7);
    expect(noteInWords(ofRun!)).toMatch(/whether or not that apply still ran there/);
  });
});
