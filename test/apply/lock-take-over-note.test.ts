/**
 * The note of a lock taken over from an apply that had begun no run: of one on this machine,
 * seen to be gone, it says the apply stopped; of one on another machine (--take-over-lock),
 * which cannot be seen, it does not, in the audit nor in report.html.
 */

import { describe, expect, it } from 'vitest';

import { noteOpening } from '../../src/apply/run-opening.js';
import { noteInWords } from '../../src/report/page-alarms.js';

function opened(hostname: string): string[] {
  const notes: string[] = [];
  noteOpening((text) => notes.push(text), {
    tookOverFrom: { pid: 4242, hostname, runId: null },
    hostname: 'ops-laptop',
    existing: undefined,
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
});
