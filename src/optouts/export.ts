/**
 * The suppression list as compliance reads it (the README's export columns): one row per currently
 * opted-out pair, with the evidence, and the coverage it was derived from (the windows
 * scanned and the keyword lists used).
 */

import { toCsv } from '../csv.js';
import { currentOptOuts } from '../db/ledger.js';
import type { Db } from '../db/open.js';
import { completedWindows } from '../db/snapshot-runs.js';
import { KEYWORD_LISTS } from './keywords.js';

export const OPTOUT_COLUMNS = [
  'customer_id',
  'customer_name',
  'recipient',
  'sender_number',
  'messaging_service_sid',
  'scope',
  'keyword',
  'body',
  'opted_out_at',
  'stop_message_sid',
  'account_sid',
] as const;

export type OptOutExportRow = Record<(typeof OPTOUT_COLUMNS)[number], string | null>;

export interface CoverageWindow {
  account_sid: string;
  start: string;
  end: string;
}

export interface Coverage {
  /** Per account, the merged windows of every completed snapshot. */
  windows: CoverageWindow[];
  keyword_lists: typeof KEYWORD_LISTS;
  snapshot_runs: number[];
}

export interface OptOutExport {
  coverage: Coverage;
  optouts: OptOutExportRow[];
}

/** Merges overlapping or touching windows per account. */
function mergeWindows(
  windows: readonly { accountSid: string; windowStart: string; windowEnd: string }[],
) {
  const merged: CoverageWindow[] = [];
  const sorted = [...windows].sort(
    (a, b) =>
      a.accountSid.localeCompare(b.accountSid) || a.windowStart.localeCompare(b.windowStart),
  );
  for (const w of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.account_sid === w.accountSid && w.windowStart <= last.end) {
      if (w.windowEnd > last.end) last.end = w.windowEnd;
    } else {
      merged.push({ account_sid: w.accountSid, start: w.windowStart, end: w.windowEnd });
    }
  }
  return merged;
}

export function readCoverage(db: Db): Coverage {
  const windows = completedWindows(db);
  return {
    windows: mergeWindows(windows),
    keyword_lists: KEYWORD_LISTS,
    snapshot_runs: [...new Set(windows.map((w) => w.runId))],
  };
}

export function exportOptOuts(db: Db): OptOutExport {
  const optouts = currentOptOuts(db).map((row): OptOutExportRow => ({
    // Customers come from a mapping, which `plan` records; until then these stay empty.
    customer_id: null,
    customer_name: null,
    recipient: row.recipient,
    sender_number: row.senderNumber,
    messaging_service_sid: row.messagingServiceSid,
    scope: row.scope,
    keyword: row.keyword,
    body: row.body,
    opted_out_at: row.optedOutAt,
    stop_message_sid: row.stopMessageSid,
    account_sid: row.accountSid,
  }));
  return { coverage: readCoverage(db), optouts };
}

export function optOutsCsv(rows: readonly OptOutExportRow[]): string {
  return toCsv([...OPTOUT_COLUMNS], rows, ['customer_name', 'body', 'keyword']);
}

export function describeCoverage(coverage: Coverage): string[] {
  if (coverage.windows.length === 0) {
    return ['coverage: no completed snapshot yet — this list is empty because nothing was read'];
  }
  return [
    ...coverage.windows.map((w) => `coverage: ${w.account_sid} ${w.start} → ${w.end}`),
    `keywords: opt-out ${coverage.keyword_lists['opt-out'].join(' ')}; opt-in ${coverage.keyword_lists['opt-in'].join(' ')} (YES not on toll-free); help ${coverage.keyword_lists.help.join(' ')}`,
  ];
}
