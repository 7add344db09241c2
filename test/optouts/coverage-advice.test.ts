/**
 * The coverage statement's advice for a span not read: `submigrate snapshot` reads only the
 * parent's history, so for a subaccount's span the line names `--account` with its SID.
 */

import { describe, expect, it } from 'vitest';

import { describeCoverage, type Coverage } from '../../src/optouts/export.js';
import { KEYWORD_LISTS } from '../../src/optouts/keywords.js';

const SUB = 'AC0000000000000000000000000000a001';

/** A coverage statement of SUB read from 2025-06-01 to 2026-06-01, with `parts` changed. */
const coverageOf = (parts: Partial<Coverage>): Coverage => ({
  windows: [
    { account_sid: SUB, source: 'api', start: '2025-06-01T00:00:00Z', end: '2026-06-01T00:00:00Z' },
  ],
  not_read: [],
  never_read: [],
  keyword_lists: KEYWORD_LISTS,
  snapshot_runs: [1],
  older_rules_runs: 0,
  ties_resolved_as_opt_out: 0,
  services_not_known: [],
  not_placed: [],
  undated_evidence: [],
  ...parts,
});

describe('describeCoverage', () => {
  it('names the snapshot that reads a span not read, --account included', () => {
    const coverage = coverageOf({
      not_read: [{ account_sid: SUB, start: '2025-01-01T00:00:00Z', end: '2025-06-01T00:00:00Z' }],
    });
    const line = describeCoverage(coverage).find((l) => l.startsWith('not read:'));
    expect(line).toContain(`submigrate snapshot --account ${SUB}`);
  });

  it("names --account only for a subaccount's span, not for the parent's", () => {
    // The parent's span read `for a subaccount, submigrate snapshot --account <parent SID>`:
    // a reviewer reading coverage.txt took the parent for a subaccount.
    const PARENT = 'AC0000000000000000000000000000b001';
    const coverage = coverageOf({
      not_read: [
        { account_sid: PARENT, start: '2024-01-01T00:00:00Z', end: '2024-06-01T00:00:00Z' },
        { account_sid: SUB, start: '2025-01-01T00:00:00Z', end: '2025-06-01T00:00:00Z' },
      ],
    });
    const lines = describeCoverage(coverage, new Set([PARENT])).filter((l) =>
      l.startsWith('not read:'),
    );
    const parent = lines.find((l) => l.includes(PARENT))!;
    expect(parent).toContain('run `submigrate snapshot` with Bulk Export');
    expect(parent).not.toContain('--account');
    expect(parent).not.toContain('subaccount');
    const sub = lines.find((l) => l.includes(SUB))!;
    expect(sub).toContain(`run \`submigrate snapshot --account ${SUB}\` with Bulk Export`);
  });

  it('names the snapshot that lists a SID not known as a service, --account included', () => {
    // `submigrate snapshot` lists the parent's services only: a subaccount's SID, under which
    // a customer's own service made after the move may come, needs --account to be listed.
    const coverage = coverageOf({
      services_not_known: [
        { account_sid: SUB, messaging_service_sid: `MG${'0'.repeat(31)}1`, opt_ins: 2 },
      ],
    });
    const line = describeCoverage(coverage).find((l) => l.startsWith('not known as a service:'));
    expect(line).toContain(`submigrate snapshot --account ${SUB}`);
  });

  it('says what an older submigrate missed in words true of a database rules version 2 read', () => {
    // Most databases an older submigrate read were read under version 2, which counted a
    // full-width ＳＴＯＰ: what it (and version 1) missed is version 3's.
    const coverage = coverageOf({ snapshot_runs: [2], older_rules_runs: 1 });
    const line = describeCoverage(coverage).find((l) => l.startsWith('older rules:'));
    expect(line).toContain('a STOP with an invisible character in it');
    expect(line).toContain('a send a Messaging Service refused before it chose a sender');
    expect(line).not.toContain('full-width');
  });
});
