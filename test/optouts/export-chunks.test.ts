/**
 * `optouts --format json` writes its document a chunk of rows at a time: the text must be what
 * `JSON.stringify({ coverage, optouts }, null, 2)` and a newline was, byte for byte, whatever
 * the rows hold (no rows, a chunk's worth exactly, bodies with newlines, quotes and emoji).
 */

import { describe, expect, it } from 'vitest';

import {
  CHANNEL_COLUMN,
  OPTOUT_COLUMNS,
  optOutsJsonChunks,
  type Coverage,
  type OptOutExportRow,
} from '../../src/optouts/export.js';

const coverage = {
  windows: [
    {
      account_sid: 'AC1',
      start: '2026-01-01T00:00:00Z',
      end: '2026-02-01T00:00:00Z',
      source: 'api',
    },
  ],
  not_read: [],
  never_read: [{ account_sid: 'AC2', customer_ids: ['a', 'b'] }],
  keyword_lists: { 'opt-out': ['STOP'], 'opt-in': ['START'], help: ['HELP'] },
  snapshot_runs: [1, 2],
  older_rules_runs: 0,
  ties_resolved_as_opt_out: 0,
  undated_evidence: [],
  services_not_known: [],
  not_placed: [],
} as unknown as Coverage;

function row(i: number): OptOutExportRow {
  const values = Object.fromEntries(
    [...OPTOUT_COLUMNS, CHANNEL_COLUMN].map((column, k) => [
      column,
      k % 5 === 4 ? null : `${column}-${i}`,
    ]),
  ) as OptOutExportRow;
  values.body = i % 3 === 0 ? `stop\nplease "now" 🙏 ${i}` : 'STOP';
  return values;
}

describe('optOutsJsonChunks', () => {
  for (const count of [0, 1, 2, 999, 1000, 1001, 2500]) {
    it(`is JSON.stringify's document for ${count} row(s)`, () => {
      const rows = Array.from({ length: count }, (_, i) => row(i));
      const chunks = [...optOutsJsonChunks(coverage, rows)];
      expect(chunks.join('')).toBe(`${JSON.stringify({ coverage, optouts: rows }, null, 2)}\n`);
      // Never the whole document in one chunk once it is more than a chunk's rows.
      expect(chunks.length).toBe(Math.floor(count / 1000) + 1);
    });
  }
});
