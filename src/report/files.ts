/**
 * The report files of an apply run, as text (docs/file-formats.md): the audit as CSV and
 * JSON, what protects each customer now (carry.csv), every moved number's suppression list for
 * all customers and per customer (each row marked with whether Twilio itself enforces it), and
 * the snapshot's coverage statement beside them. Pure: the caller writes them.
 */

import { toCsv, writeCsv } from '../csv.js';
import type { FileContent } from '../files.js';
import {
  describeCoverage,
  noListReason,
  writeOptOutsCsv,
  unvouchedCustomers,
  type Coverage,
  type OptOutExportRow,
} from '../optouts/export.js';
import { AUDIT_COLUMNS, type AuditDocument, type AuditRow } from './audit.js';
import { CARRY_COLUMNS, type CarryAudit } from './carry.js';

/**
 * A list row marked with whether Twilio itself now refuses sends to it (`yes`/`no`), and with
 * what is known of the customer's list it is on (`customer_list`).
 */
export type MarkedOptOutRow = OptOutExportRow & {
  twilio_enforces: string;
  customer_list: CustomerList;
};

/**
 * What is known of a customer's suppression list, on each of its rows: `whole`; `not_whole`
 * (an account its numbers came from has spans of history no completed snapshot read: carry.csv
 * says the list is not whole); `not_known` (an account its numbers came from was never read:
 * the row is part of a list that is not known, which gets no `optouts/<customer_id>.csv` and
 * is `unknown` in carry.csv).
 */
export type CustomerList = 'whole' | 'not_whole' | 'not_known';

export function customerList(
  customerId: string,
  unknown: ReadonlySet<string>,
  partial: ReadonlySet<string>,
): CustomerList {
  return unknown.has(customerId) ? 'not_known' : partial.has(customerId) ? 'not_whole' : 'whole';
}

export interface ReportFile {
  /** Relative to the run's report folder, `/`-separated. */
  path: string;
  /**
   * Null: the run has no such file now (a customer's list not known, or not whole and empty;
   * no list at all). One an earlier writing of the run's reports left there is removed: it
   * would read as the list. A list of rows is handed over a chunk at a time when written
   * (`FileContent`): a million rows' text is never in memory at once.
   */
  content: FileContent | null;
}

export const VIOLATION_COLUMNS = [
  'recipient',
  'sender_number',
  'messaging_service_sid',
  'customer_id',
  'stop_message_sid',
  'opted_out_at',
  'violating_message_sid',
  'sent_at',
  'account_sid',
  'status',
  'evidence',
  'evidence_message_sid',
] as const;

export type ViolationRow = Record<(typeof VIOLATION_COLUMNS)[number], string | null>;

/** The names a run's report files have had, in any version. */
const REPORT_NAMES = new Set([
  'audit.csv',
  'audit.json',
  'carry.csv',
  'coverage.txt',
  'optouts.csv',
  'report.html',
  'violations.csv',
  'optouts',
]);

/**
 * Whether a path in a report folder is one a run's reports write: a report file, a customer's
 * list (`optouts/<customer_id>.csv`), or the temporary file of a write that was killed.
 */
export function isReportPath(path: string): boolean {
  const temporary = /^(.*\/)?\.([^/]+)\.\d+\.tmp$/.exec(path);
  const real = temporary === null ? path : `${temporary[1] ?? ''}${temporary[2]}`;
  return REPORT_NAMES.has(real) || /^optouts\/[^/]+\.csv$/.test(real);
}

/**
 * A suppression list as the report files take it: never held whole (a run may list millions of
 * opt-outs), but counted per customer and read again, a row at a time, for each file.
 */
export interface ReportList {
  coverage: Coverage;
  /** The parent accounts the snapshots read: coverage.txt's advice names --account for the rest. */
  parents?: ReadonlySet<string>;
  /** Customers whose list is not whole (`not_whole`), rows or none. */
  partial: ReadonlySet<string>;
  /** Each customer's rows, counted, in the list's order. */
  counts: ReadonlyMap<string | null, number>;
  /** The rows in the list's order, all of them or one customer's, read anew at each call. */
  rows(customerId?: string): Iterable<MarkedOptOutRow>;
}

export function reportFileWriters(
  rows: readonly AuditRow[],
  document: AuditDocument & { carry: CarryAudit },
  optouts: ReportList | null,
  violations: readonly ViolationRow[] | null,
  /** Completed snapshot runs an older submigrate read: why there may be no list. */
  olderRulesRuns = 0,
): ReportFile[] {
  const files: ReportFile[] = [
    {
      path: 'audit.csv',
      content: toCsv([...AUDIT_COLUMNS], rows, [
        'customer_name',
        'error_message',
        'inbound_route_before',
        'inbound_route_after',
      ]),
    },
    { path: 'audit.json', content: `${JSON.stringify(document, null, 2)}\n` },
    {
      path: 'carry.csv',
      content: toCsv([...CARRY_COLUMNS], document.carry.customers, ['customer_name', 'protection']),
    },
  ];
  if (violations !== null) {
    files.push({
      path: 'violations.csv',
      content: (write) => writeCsv([...VIOLATION_COLUMNS], violations, [], write),
    });
  }
  if (optouts === null) {
    // Lists an earlier writing had (the snapshot it read no longer counts: older rules).
    files.push({ path: 'optouts.csv', content: null });
    for (const customer of document.customers)
      files.push({ path: `optouts/${customer.customer_id}.csv`, content: null });
    files.push({
      path: 'coverage.txt',
      content: `${noListReason(olderRulesRuns)}: there is no suppression list this tool can vouch for. Run \`submigrate snapshot\`, then \`submigrate report\`.\n`,
    });
    return files;
  }
  const marked = ['twilio_enforces', 'customer_list'] as const;
  files.push({
    path: 'optouts.csv',
    content: (write) => writeOptOutsCsv(optouts.rows(), marked, write),
  });
  // A customer whose numbers came from an account nobody read gets no file: a header-only
  // list would read as "nobody opted out". coverage.txt names the account. Nor does one whose
  // list is not whole and holds nobody: what was read found no opt-out, which does not say
  // that nobody opted out (coverage.txt names the spans not read, carry.csv the customer).
  const unknown = unvouchedCustomers(optouts.coverage);
  for (const customer of document.customers) {
    const id = customer.customer_id;
    if (unknown.has(id) || (!optouts.counts.has(id) && optouts.partial.has(id))) {
      files.push({ path: `optouts/${id}.csv`, content: null });
      continue;
    }
    files.push({
      path: `optouts/${id}.csv`,
      content: (write) => writeOptOutsCsv(optouts.rows(id), marked, write),
    });
  }
  files.push({
    path: 'coverage.txt',
    content: `${describeCoverage(optouts.coverage, optouts.parents).join('\n')}\n`,
  });
  return files;
}
