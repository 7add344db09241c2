/**
 * The suppression list as compliance reads it (docs/file-formats.md): one row per currently
 * opted-out pair, with the evidence, and the coverage it was derived from (the windows
 * scanned and the keyword lists used).
 */

import { distance } from 'fastest-levenshtein';

import { CLOCK_SKEW_MS, isoSeconds } from '../clock.js';
import { csvChunks } from '../csv.js';
import { fileText } from '../files.js';
import {
  listCustomerNumbers,
  listCustomers,
  numbersStillHeld,
  previousSubaccounts,
  sourceAccounts,
  sourceStays,
} from '../db/customers.js';
import {
  countTiesResolvedAsOptOut,
  optInsUnderUnknownServices,
  optOutsNotPlaced,
  eachListedOptOut,
  eachOptOutDate,
  eachOptOutKeptAfterLeaving,
  keepListedOptOuts,
  listUndatedEvidence,
  servicesLeftByNumber,
  servicesSeenByNumber,
  type ListClaim,
  type OptOutDate,
  type OptOutRow,
} from '../db/ledger.js';
import type { Db } from '../db/open.js';
import {
  departuresByNumber,
  lastDepartures,
  numbersLeft,
  type NumberLeft,
} from '../db/reconcile.js';
import {
  completedWindows,
  historyStarts,
  olderRulesWindows,
  parentAccountSids,
  type WindowSource,
} from '../db/snapshot-runs.js';
import { UserError } from '../errors.js';
import { compareText } from '../text-order.js';
import { KEYWORD_LISTS } from './keywords.js';
import { mergeRanges, uncoveredSpans, type TimeRange } from './windows.js';

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
  'evidence',
  'evidence_message_sid',
] as const;

/**
 * The channel the evidence came over (`rcs`, `whatsapp`; empty for SMS): the last column of
 * every file with the list's rows, after any a report adds, so that a script reading the
 * columns before it by position reads what it always did.
 */
export const CHANNEL_COLUMN = 'channel';

export type OptOutExportRow = Record<
  (typeof OPTOUT_COLUMNS)[number] | typeof CHANNEL_COLUMN,
  string | null
>;

export interface CoverageWindow {
  account_sid: string;
  start: string;
  end: string;
}

/** A window read, and where from: `api` (the Messages API) or `export` (Bulk Export days). */
export interface SourcedWindow extends CoverageWindow {
  source: WindowSource;
}

export interface Coverage {
  /** Per account and source, the merged windows of every completed snapshot. */
  windows: SourcedWindow[];
  /**
   * Per account, spans nobody read between the start of its history and its last window, or
   * the last time a number moved out of it if that is later.
   */
  not_read: CoverageWindow[];
  /**
   * Accounts the mapping's numbers came from that no completed snapshot has read at all, each
   * with the customers whose numbers did: their opt-outs are on no list.
   */
  never_read: { account_sid: string; customer_ids: string[] }[];
  keyword_lists: typeof KEYWORD_LISTS;
  snapshot_runs: number[];
  /**
   * Completed snapshot runs an older submigrate read, under older keyword rules, that read
   * history no run under the current rules has read again: that history is not among
   * `windows` (it shows as `not_read`, or the account as `never_read`).
   */
  older_rules_runs: number;
  /** Pairs whose latest second held both an opt-in and an opt-out or refusal: kept as opted out. */
  ties_resolved_as_opt_out: number;
  /** Keyword messages and refused sends that carried no date, so could not be ordered. */
  undated_evidence: { message_sid: string; account_sid: string; kind: string }[];
  /**
   * SIDs opt-ins came through that no snapshot or plan saw as a Messaging Service of their
   * account (Twilio may write one on messages sent without a service): those opt-ins lift only
   * what their own number took, not the SID's opt-outs.
   */
  services_not_known: { account_sid: string; messaging_service_sid: string; opt_ins: number }[];
  /**
   * Opted-out pairs whose sender is no phone number (an RCS agent, a short code, an
   * alphanumeric sender ID) and whose evidence came through no Messaging Service known in the
   * account: no number's suppression list carries them.
   */
  not_placed: {
    account_sid: string;
    sender: string;
    messaging_service_sid: string | null;
    recipient: string;
    channel: string | null;
    evidence_message_sid: string;
  }[];
}

export interface OptOutExport {
  coverage: Coverage;
  optouts: OptOutExportRow[];
}

const asCoverage = (accountSid: string, range: TimeRange): CoverageWindow => ({
  account_sid: accountSid,
  start: isoSeconds(range.start),
  end: isoSeconds(range.end),
});

/**
 * Per account, the merged windows completed snapshots read (`merged`, by source) and the spans
 * nobody read between the start of its history and its last window, or the last time a number
 * moved out of it if that is later and `throughMoves` (`Coverage.not_read`).
 */
function readSpans(
  db: Db,
  windows: ReturnType<typeof completedWindows>,
  throughMoves: boolean,
): { byAccount: Map<string, TimeRange[]>; merged: SourcedWindow[]; notRead: CoverageWindow[] } {
  const starts = historyStarts(db);
  const departures = throughMoves ? lastDepartures(db) : new Map<string, string>();
  const byAccount = new Map<string, TimeRange[]>();
  const bySource = new Map<string, TimeRange[]>();
  for (const w of windows) {
    const range = { start: new Date(w.windowStart), end: new Date(w.windowEnd) };
    const ranges = byAccount.get(w.accountSid) ?? [];
    ranges.push(range);
    byAccount.set(w.accountSid, ranges);
    const key = `${w.accountSid}|${w.source}`;
    const sourced = bySource.get(key);
    if (sourced === undefined) bySource.set(key, [{ ...range }]);
    else sourced.push({ ...range });
  }
  const merged: SourcedWindow[] = [];
  const notRead: CoverageWindow[] = [];
  for (const accountSid of [...byAccount.keys()].sort()) {
    const sourced = (['export', 'api'] as const).flatMap((source) =>
      mergeRanges(bySource.get(`${accountSid}|${source}`) ?? []).map((range) => ({
        ...asCoverage(accountSid, range),
        source,
      })),
    );
    merged.push(...sourced.sort((a, b) => compareText(a.start, b.start)));
    const ranges = mergeRanges(byAccount.get(accountSid)!);
    const start = starts.get(accountSid);
    // History is read up to its last window, or, when numbers moved out of the account since,
    // up to their last move: a STOP said to a number in between (after a plan's refresh, before
    // the move) is on no list and the subaccount it went to never saw it.
    const left = departures.get(accountSid);
    const lastRead = ranges[ranges.length - 1]!.end;
    const end =
      left !== undefined && Date.parse(left) > lastRead.getTime() ? new Date(left) : lastRead;
    const from = start === undefined ? ranges[0]!.start : new Date(start);
    for (const gap of uncoveredSpans({ start: from, end }, ranges)) {
      notRead.push(asCoverage(accountSid, gap));
    }
  }
  return { byAccount, merged, notRead };
}

/** The spans of history nobody read (`Coverage.not_read`), without the rest of the coverage. */
export function notReadSpans(db: Db): CoverageWindow[] {
  return readSpans(db, completedWindows(db), true).notRead;
}

/**
 * `sources`: the accounts the numbers came from, each with the customers whose numbers did
 * (default: as the mapping last recorded them); those no completed snapshot read are
 * `never_read`. `throughMoves`: whether an account numbers moved out of after its last window
 * counts as not read up to the last move (every list does); the opt-out gate, which judges the
 * numbers still to move, says no: apply reads that span itself once its numbers have moved.
 */
export function readCoverage(
  db: Db,
  sources: ReadonlyMap<string, ReadonlySet<string>> = sourceAccounts(db),
  throughMoves = true,
): Coverage {
  const windows = completedWindows(db);
  const { byAccount, merged, notRead } = readSpans(db, windows, throughMoves);
  const neverRead = [...sources]
    .filter(([account]) => !byAccount.has(account))
    .sort(([a], [b]) => compareText(a, b))
    .map(([account, customers]) => ({
      account_sid: account,
      customer_ids: [...customers].sort(compareText),
    }));
  return {
    windows: merged,
    not_read: notRead,
    never_read: neverRead,
    keyword_lists: KEYWORD_LISTS,
    snapshot_runs: [...new Set(windows.map((w) => w.runId))].sort((a, b) => a - b),
    older_rules_runs: olderRulesRunsUnread(db, byAccount),
    ties_resolved_as_opt_out: countTiesResolvedAsOptOut(db),
    undated_evidence: listUndatedEvidence(db).map((e) => ({
      message_sid: e.messageSid,
      account_sid: e.accountSid,
      kind: e.kind,
    })),
    services_not_known: optInsUnderUnknownServices(db).map((u) => ({
      account_sid: u.accountSid,
      messaging_service_sid: u.messagingServiceSid,
      opt_ins: u.optIns,
    })),
    not_placed: optOutsNotPlaced(db).map((n) => ({
      account_sid: n.accountSid,
      sender: n.senderNumber,
      messaging_service_sid: n.messagingServiceSid,
      recipient: n.recipient,
      channel: n.channel,
      evidence_message_sid: n.evidenceMessageSid,
    })),
  };
}

/**
 * Without a completed snapshot there is nothing to vouch for: an empty list would read as
 * "nobody opted out". That is an error, never an empty export.
 */
export function requireCoverage(
  db: Db,
  dbPath: string,
  sources?: ReadonlyMap<string, ReadonlySet<string>>,
): Coverage {
  const coverage = readCoverage(db, sources);
  if (coverage.windows.length === 0) {
    const older = coverage.older_rules_runs;
    const why =
      older === 0
        ? 'holds no completed snapshot'
        : `holds no snapshot read under the current keyword rules (its ${older} completed run(s) were read by an older submigrate, whose rules missed some opt-outs, ${MISSED_BY_OLDER_RULES}: what they read no longer counts as read)`;
    throw new UserError(
      `${dbPath} ${why}, so there is no suppression list to vouch for. Run \`submigrate snapshot\` first.`,
    );
  }
  return coverage;
}

export interface ExportOptions {
  /** Only this customer's suppression list (needs a mapping recorded by `plan`). */
  customer?: string;
  /**
   * Refuse a list that misses the opt-outs of an account the (chosen) customers' numbers came
   * from and nobody read, rather than present it as whole. The reports instead mark those
   * customers unknown, one by one.
   */
  wholeOnly?: boolean;
  /**
   * Which customer each opt-out binds, when not the mapping last recorded: a run's reports
   * take them from the plan the run applied, so that a later plan changes nothing they say.
   */
  claims?: ExportClaims;
}

/** Which customer a currently opted-out pair binds. */
export interface ExportClaims {
  /** Each number's customer, and the services whose service-wide opt-outs are on its list. */
  numbers: readonly { phoneNumber: string; customerId: string; services: readonly string[] }[];
  /** A subaccount an apply moved a customer into → that customer. */
  subaccounts: ReadonlyMap<string, string>;
  /**
   * The accounts these customers' numbers came from, each with the customers whose numbers
   * did (default: as the mapping last recorded them): a customer of one no completed snapshot
   * read is in `never_read`, its list unknown.
   */
  sources?: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * Up to when each customer's list needs each of its accounts read (`listHorizons`); without
   * it, every span of an account its numbers came from counts against its list.
   */
  horizons?: ListHorizons;
}

/**
 * Each Messaging Service a number has left (`servicesLeftByNumber`), by listing or by a move of
 * apply's out of the account: number → service → the time from which an opt-in through the
 * service does not lift what the number carried out of it.
 */
export function servicesLeft(db: Db): Map<string, Map<string, string>> {
  const phones = new Map(listCustomerNumbers(db).map((n) => [n.numberSid, n.phoneNumber]));
  return servicesLeftByNumber(
    db,
    numbersLeft(db).flatMap((d) => {
      const phoneNumber = phones.get(d.numberSid);
      return phoneNumber === undefined ? [] : [{ ...d, phoneNumber }];
    }),
  );
}

/**
 * The ledger's opted-out pairs as a list's lookup reads them (`eachOptOutDate`), then, for each
 * of `numbers` that has left a Messaging Service, the pairs it keeps of that service though an
 * opt-in through it lifted them after it left (`eachOptOutKeptAfterLeaving`): as the export
 * lists them. Read one statement after the other.
 */
export function* eachListedOptOutDate(db: Db, numbers: ReadonlySet<string>): Generator<OptOutDate> {
  yield* eachOptOutDate(db);
  const left = [...servicesLeft(db)].flatMap(([phoneNumber, services]) =>
    numbers.has(phoneNumber)
      ? [...services].map(([service, optInsBefore]) => ({ phoneNumber, service, optInsBefore }))
      : [],
  );
  yield* eachOptOutKeptAfterLeaving(db, left);
}

/** The claims of the mapping last recorded and of the subaccounts applies moved customers into. */
function recordedClaims(db: Db): ExportClaims {
  const seen = servicesSeenByNumber(db);
  // The services an apply took each number out of: a number a later wave moved on left the
  // parent's service first, and the last plan recorded only the service it left after.
  const departed = departuresByNumber(db);
  const numbers = listCustomerNumbers(db).map((n) => ({
    numberSid: n.numberSid,
    phoneNumber: n.phoneNumber,
    customerId: n.customerId,
    // The service it started in, those it was moved out of, and those its own opt-outs
    // came through (a STOP it took in a service it had left before any snapshot saw it
    // there).
    services: [
      ...new Set([
        ...(n.sourceServiceSid === null ? [] : [n.sourceServiceSid]),
        ...(departed.get(n.numberSid) ?? []).flatMap((d) =>
          d.serviceSid === null ? [] : [d.serviceSid],
        ),
        ...(seen.get(n.phoneNumber) ?? []),
      ]),
    ],
  }));
  // A number a later plan gives to another customer, not applied yet, is still in the
  // subaccount of the customer the last run moved it for, who sends from it: its opt-outs
  // stay on that customer's list too (and are on the new customer's already).
  const servicesOf = new Map(numbers.map((n) => [n.numberSid, n.services]));
  const held = numbersStillHeld(db).map((n) => ({
    phoneNumber: n.phoneNumber,
    customerId: n.customerId,
    services: servicesOf.get(n.numberSid) ?? [],
  }));
  return {
    numbers: [...numbers, ...held],
    subaccounts: new Map([...previousSubaccounts(db)].map(([customer, sub]) => [sub, customer])),
  };
}

/**
 * One row per currently opted-out pair and customer whose numbers it binds: a number-scope
 * pair binds the customer of that number; a service-scope pair binds every customer with a
 * number that was in the service, and the customer whose subaccount the service is in (each
 * customer's list is whole on its own). A pair no mapped customer claims is listed once with
 * empty customer columns. In the list's order (`eachListedOptOut`).
 */
export function exportOptOuts(
  db: Db,
  dbPath = 'the database',
  options: ExportOptions = {},
): OptOutExport {
  const { coverage, claims, exportRow } = prepareExport(db, dbPath, options);
  // What the rows repeat (numbers, accounts, services, keywords, bodies) kept as one string
  // each, and a STOP's SID once where it is the evidence too: SQLite hands every row's values
  // over as strings of their own, and a list held whole may be hundreds of thousands of rows
  // (300,000 rows: 160 MB of heap without this, 88 MB with it).
  const known = new Map<string, string>();
  const shared = (value: string | null): string | null => {
    if (value === null) return null;
    const first = known.get(value);
    if (first !== undefined) return first;
    known.set(value, value);
    return value;
  };
  const optouts: OptOutExportRow[] = [];
  for (const row of eachListedOptOut(db, claims, options.customer)) {
    optouts.push(exportRow(row, shared));
  }
  return { coverage, optouts };
}

/** `exportOptOuts`' list read a row at a time as it is written out (`streamOptOutExport`). */
export interface StreamedExport {
  coverage: Coverage;
  /**
   * The rows in the list's order, read from SQLite one at a time as they are asked for (once:
   * the connection runs no other statement until they are all read).
   */
  rows: Iterable<OptOutExportRow>;
  /** How many rows `rows` has handed over so far. */
  rowsRead(): number;
  /** The parent accounts the snapshots read (`describeCoverage`'s advice). */
  parents: ReadonlySet<string>;
}

/**
 * `exportOptOuts` for `optouts`, whose list may be millions of rows (a service's opt-out is on
 * the list of every customer with a number in the service): SQLite sorts the rows and hands
 * them over one at a time, to be written as they come. Refused as `exportOptOuts` refuses,
 * before any row is read.
 */
export function streamOptOutExport(
  db: Db,
  dbPath = 'the database',
  options: ExportOptions = {},
): StreamedExport {
  const { coverage, claims, exportRow } = prepareExport(db, dbPath, options);
  let read = 0;
  return {
    coverage,
    rows: {
      *[Symbol.iterator]() {
        for (const row of eachListedOptOut(db, claims, options.customer)) {
          read++;
          yield exportRow(row, (value) => value);
        }
      },
    },
    rowsRead: () => read,
    parents: parentAccountSids(db),
  };
}

/** `exportOptOuts`' list kept by SQLite (`keepListedOptOuts`), to be read a row at a time. */
export interface KeptExport {
  coverage: Coverage;
  /** The parent accounts the snapshots read (`describeCoverage`'s advice). */
  parents: ReadonlySet<string>;
  /** The rows in the list's order, each with its place: whole, or places `first` to `last`. */
  rows(first?: number, last?: number): Generator<{ position: number; row: OptOutExportRow }>;
}

/**
 * `exportOptOuts` for a list too large to hold (a report of millions of opt-outs): SQLite
 * keeps it, sorted, and hands it over a row at a time as often as it is read.
 */
export function keepOptOutExport(
  db: Db,
  dbPath = 'the database',
  options: Omit<ExportOptions, 'customer'> = {},
): KeptExport {
  const { coverage, claims, exportRow } = prepareExport(db, dbPath, options);
  const read = keepListedOptOuts(db, claims);
  return {
    coverage,
    parents: parentAccountSids(db),
    *rows(first, last) {
      for (const row of read(first, last)) {
        yield { position: row.position, row: exportRow(row, (value) => value) };
      }
    },
  };
}

/**
 * `; did you mean harbor-yoga?`: the customer_id meant by one typed in other case or with a
 * letter or two wrong (customer_ids are matched exactly), else nothing. Ids equally near are
 * all named (`acme-2 or acme-4`): one of them picked would name a customer's list, to export
 * and hand over, that may not be the one meant.
 */
export function nearestCustomer(typed: string, ids: Iterable<string>): string {
  let best: { ids: string[]; distance: number } | undefined;
  for (const id of ids) {
    const d = id.toLowerCase() === typed.toLowerCase() ? 0 : distance(id, typed);
    if (d > 2 || (best !== undefined && d > best.distance)) continue;
    if (best === undefined || d < best.distance) best = { ids: [id], distance: d };
    else best.ids.push(id);
  }
  if (best === undefined) return '';
  const named = [...best.ids].sort(compareText);
  const shown =
    named.length <= 3
      ? named.join(' or ')
      : `${named.slice(0, 3).join(', ')} or ${named.length - 3} more as near`;
  return `; did you mean ${shown}?`;
}

/**
 * What an export needs before its rows: the coverage (refused as `exportOptOuts` says), the
 * claims of each customer (`ListClaim`), and how a pair becomes a row of the list.
 */
function prepareExport(db: Db, dbPath: string, options: ExportOptions) {
  const coverage = requireCoverage(db, dbPath, options.claims?.sources);
  if (options.wholeOnly) refuseUnread(coverage, options.customer);
  const customers = new Map(listCustomers(db).map((c) => [c.customerId, c]));
  if (options.customer !== undefined && !customers.has(options.customer)) {
    throw new UserError(
      customers.size === 0
        ? '--customer needs a mapping of customers to numbers, which `submigrate plan --mapping FILE` records; no mapping has been planned yet.'
        : `--customer ${options.customer}: no such customer_id in the mappings planned with this database (${customers.size} customers${nearestCustomer(options.customer, customers.keys())})`,
    );
  }
  const given = options.claims ?? recordedClaims(db);
  const left = servicesLeft(db);
  const claims: ListClaim[] = [
    ...given.numbers.flatMap((number) => [
      ['number', number.phoneNumber, number.customerId] as ListClaim,
      ...number.services.map((service): ListClaim => {
        // A service the number has left: a START said to it since is not the number's.
        const before = left.get(number.phoneNumber)?.get(service);
        return before === undefined
          ? ['service', service, number.customerId]
          : ['service', service, number.customerId, before];
      }),
    ]),
    // A subaccount an apply moved a customer into is that customer's alone: every service in
    // it (the one apply created, or one made since) binds that customer.
    ...[...given.subaccounts].map(([account, id]): ListClaim => ['account', account, id]),
  ];
  const exportRow = (
    row: OptOutRow & { customerId: string | null },
    shared: (value: string | null) => string | null,
  ): OptOutExportRow => ({
    customer_id: row.customerId,
    customer_name:
      row.customerId === null ? null : (customers.get(row.customerId)?.customerName ?? null),
    recipient: row.recipient,
    sender_number: shared(row.senderNumber),
    messaging_service_sid: shared(row.messagingServiceSid),
    scope: shared(row.scope),
    keyword: shared(row.keyword),
    body: shared(row.body),
    opted_out_at: row.optedOutAt,
    stop_message_sid: row.stopMessageSid,
    account_sid: shared(row.accountSid),
    evidence: shared(row.evidence),
    evidence_message_sid:
      row.evidenceMessageSid === row.stopMessageSid ? row.stopMessageSid : row.evidenceMessageSid,
    channel: shared(row.channel),
  });
  return { coverage, claims, exportRow };
}

/**
 * The list as CSV; a report may add columns of its own after the export's, and `channel`
 * comes last of all (`CHANNEL_COLUMN`).
 */
export function optOutsCsv<Extra extends string = never>(
  rows: readonly (OptOutExportRow & Record<Extra, string | null>)[],
  extra: readonly Extra[] = [],
): string {
  return fileText((write) => writeOptOutsCsv(rows, extra, write));
}

/** `optOutsCsv`, handed to `write` a chunk of rows at a time (`writeCsv`). */
export function writeOptOutsCsv<Extra extends string = never>(
  rows: Iterable<OptOutExportRow & Record<Extra, string | null>>,
  extra: readonly Extra[],
  write: (chunk: string) => void,
): void {
  for (const chunk of optOutsCsvChunks(rows, extra)) write(chunk);
}

/** `optOutsCsv`'s text, a chunk of rows at a time, each made only when asked for (`csvChunks`). */
export function optOutsCsvChunks<Extra extends string = never>(
  rows: Iterable<OptOutExportRow & Record<Extra, string | null>>,
  extra: readonly Extra[] = [],
): Generator<string> {
  return csvChunks([...OPTOUT_COLUMNS, ...extra, CHANNEL_COLUMN], rows, [
    'customer_name',
    'body',
    'keyword',
  ]);
}

/** Rows of the JSON export put in one chunk. */
const JSON_CHUNK_ROWS = 1000;

/**
 * `JSON.stringify({ coverage, optouts }, null, 2)` and a newline, byte for byte (the export
 * `optouts --format json` writes), a chunk of rows at a time, each made only when asked for:
 * the rows are never all in memory, nor the text. Each row is stringified alone and indented
 * as it would be inside the document (no JSON string holds a raw newline, so every newline in
 * a row's text begins one of its lines).
 */
export function* optOutsJsonChunks(
  coverage: Coverage,
  rows: Iterable<OptOutExportRow>,
): Generator<string> {
  const indented = (value: unknown, indent: string) =>
    JSON.stringify(value, null, 2).split('\n').join(`\n${indent}`);
  let chunk = `{\n  "coverage": ${indented(coverage, '  ')},\n  "optouts": [`;
  let count = 0;
  for (const row of rows) {
    chunk += `${count === 0 ? '' : ','}\n    ${indented(row, '    ')}`;
    if (++count % JSON_CHUNK_ROWS === 0) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}${count === 0 ? '' : '\n  '}]\n}\n`;
}

/**
 * Whether a file begins as an export `optouts` writes (CSV or JSON): one it may replace. An
 * older submigrate's CSV ends its header before `channel`.
 */
export function isOptOutExportText(head: string): boolean {
  const header = OPTOUT_COLUMNS.join(',');
  return (
    [header, `${header},${CHANNEL_COLUMN}`].some(
      (line) => head.startsWith(`${line}\n`) || head.startsWith(`${line}\r\n`),
    ) || head.startsWith('{\n  "coverage": {')
  );
}

/** A list missing the opt-outs of an account nobody read is not handed out as if whole. */
function refuseUnread(coverage: Coverage, customer: string | undefined): void {
  const unread = coverage.never_read.filter(
    (w) => customer === undefined || w.customer_ids.includes(customer),
  );
  if (unread.length === 0) return;
  throw new UserError(
    `no completed snapshot has read ${unread.map((w) => w.account_sid).join(', ')}, where mapped numbers came from (customers ${[...new Set(unread.flatMap((w) => w.customer_ids))].join(', ')}): the opt-outs it received are on no list, so this list cannot be vouched for. Run \`submigrate snapshot${unread.map((w) => ` --account ${w.account_sid}`).join('')}\` first.`,
  );
}

/**
 * The spans of history not read that leave this export not whole: all of them, or, for one
 * customer, those of the accounts its numbers came from that lie before its numbers left them
 * (any, of an account one of them is still in), and of the subaccount it was moved into.
 * Opt-outs said in them are on no list, so `optouts` cannot vouch for the list it prints.
 */
export function spansLeavingListNotWhole(
  db: Db,
  coverage: Coverage,
  customer: string | undefined,
): CoverageWindow[] {
  if (customer === undefined) return coverage.not_read;
  const stays = sourceStays(db).filter((s) => s.customerId === customer);
  const horizons = listHorizons(stays, numbersLeft(db));
  const accounts = new Set(stays.map((s) => s.accountSid));
  // The subaccount an apply moved it into: a span of that one's history not read holds
  // opt-outs its list would carry too, whenever it lies.
  const subaccount = previousSubaccounts(db).get(customer);
  return coverage.not_read.filter(
    (w) =>
      w.account_sid === subaccount ||
      (accounts.has(w.account_sid) &&
        unreadBefore([w], horizons.get(w.account_sid)?.get(customer))),
  );
}

/**
 * Up to when each customer's list needs each account its numbers came from read: account →
 * customer → the latest time one of its numbers left the account (a finished transfer out of
 * it, in a run up to `upToRun`). A customer with a number still in the account, or not known to
 * have left it (its move failed, was not run or is not finished), has no entry there: its list
 * needs every span of that account read, up to the last move of any number out of it, as
 * `not_read` has them. `stays`: each number, an account it came from, and whose list it is on.
 */
export type ListHorizons = ReadonlyMap<string, ReadonlyMap<string, string>>;

export function listHorizons(
  stays: Iterable<{ numberSid: string; customerId: string; accountSid: string }>,
  left: readonly NumberLeft[],
  upToRun = Number.POSITIVE_INFINITY,
): ListHorizons {
  // When each number last left each account (a number may leave one twice: the later counts).
  const leftAt = new Map<string, string>();
  for (const d of left) {
    if (d.runId > upToRun) continue;
    const key = `${d.numberSid}|${d.accountSid}`;
    const before = leftAt.get(key);
    if (before === undefined || Date.parse(d.leftAt) > Date.parse(before))
      leftAt.set(key, d.leftAt);
  }
  const horizons = new Map<string, Map<string, string>>();
  // A number still in an account (not known to have left it) takes its customer's horizon
  // there away: every span counts, whatever its other numbers did.
  const stillThere: { accountSid: string; customerId: string }[] = [];
  for (const { numberSid, customerId, accountSid } of stays) {
    const at = leftAt.get(`${numberSid}|${accountSid}`);
    if (at === undefined) {
      stillThere.push({ accountSid, customerId });
      continue;
    }
    let customers = horizons.get(accountSid);
    if (customers === undefined) horizons.set(accountSid, (customers = new Map()));
    const before = customers.get(customerId);
    if (before === undefined || Date.parse(at) > Date.parse(before)) customers.set(customerId, at);
  }
  for (const { accountSid, customerId } of stillThere) horizons.get(accountSid)?.delete(customerId);
  return horizons;
}

/** The journal's and the ledger's times are whole seconds. */
const SECOND_MS = 1_000;

/**
 * Whether any of these spans not read (of one account) lies before `horizon`, when the last of
 * a customer's numbers left the account: a STOP said in it, while a number was there, is on no
 * list. A span after it is the history of the accounts its numbers went to. Without a horizon
 * (a number is still there, or not known to have left), every span counts. The journal keeps
 * the move to the second, and the number left some time in that second: a span that begins in
 * it (a read that ended in the second of the move, then none) may hold a STOP said before the
 * move, so it counts. So does one that begins up to CLOCK_SKEW_MS later: the move's time is
 * this machine's, a STOP's `date_sent` Twilio's, and a read that ended just after the move by
 * our clock may have stopped short of a STOP said just before it by Twilio's.
 */
function unreadBefore(spans: readonly CoverageWindow[], horizon: string | undefined): boolean {
  if (horizon === undefined) return spans.length > 0;
  const leftBy = Date.parse(horizon) + SECOND_MS + CLOCK_SKEW_MS;
  return spans.some((w) => Date.parse(w.start) < leftBy);
}

/**
 * The customers whose lists are not whole as the database stands (the mapping last recorded,
 * every move the journal knows): `partialCustomers`, judged as `optouts --customer` judges each.
 */
export function listsNotWhole(db: Db, coverage: Coverage): Set<string> {
  const stays = sourceStays(db);
  const sources = new Map<string, Set<string>>();
  for (const { accountSid, customerId } of stays) {
    const customers = sources.get(accountSid);
    if (customers === undefined) sources.set(accountSid, new Set([customerId]));
    else customers.add(customerId);
  }
  const subaccounts = new Map([...previousSubaccounts(db)].map(([c, sub]) => [sub, c]));
  return partialCustomers(coverage, sources, subaccounts, listHorizons(stays, numbersLeft(db)));
}

/** Customers whose numbers came from an account no completed snapshot has read. */
export function unvouchedCustomers(coverage: Coverage): Set<string> {
  return new Set(coverage.never_read.flatMap((w) => w.customer_ids));
}

/**
 * The customers whose lists are not whole: a span of history no completed snapshot read
 * (`not_read`) in an account their numbers came from, before the last of them left it (any
 * span, while one is still there: `horizons`, as `listHorizons` makes them; without horizons,
 * any span at all), or in the subaccount they were moved into. Their lists hold the opt-outs
 * of what was read only. `sources` maps each account to the customers whose numbers came from
 * it.
 */
export function partialCustomers(
  coverage: Coverage,
  sources: ReadonlyMap<string, ReadonlySet<string>> | undefined,
  subaccounts: ReadonlyMap<string, string> = new Map(),
  horizons: ListHorizons = new Map(),
): Set<string> {
  const gaps = new Map<string, CoverageWindow[]>();
  for (const w of coverage.not_read) {
    const spans = gaps.get(w.account_sid);
    if (spans === undefined) gaps.set(w.account_sid, [w]);
    else spans.push(w);
  }
  return new Set([
    ...[...(sources ?? [])].flatMap(([account, customers]) => {
      const spans = gaps.get(account);
      if (spans === undefined) return [];
      return [...customers].filter((c) => unreadBefore(spans, horizons.get(account)?.get(c)));
    }),
    // A subaccount a customer was moved into that held history before (one made by hand): a
    // span of it not read holds opt-outs that customer's list carries too.
    ...[...subaccounts].flatMap(([subaccount, customer]) =>
      gaps.has(subaccount) ? [customer] : [],
    ),
  ]);
}

/**
 * How many completed runs an older submigrate read hold history that no run under the current
 * rules has read again (`current`: each account's windows read under them).
 */
function olderRulesRunsUnread(db: Db, current: ReadonlyMap<string, readonly TimeRange[]>): number {
  const runs = new Set<number>();
  for (const w of olderRulesWindows(db)) {
    const span = { start: new Date(w.windowStart), end: new Date(w.windowEnd) };
    if (uncoveredSpans(span, current.get(w.accountSid) ?? []).length > 0) runs.add(w.runId);
  }
  return runs.size;
}

/**
 * Why history read may count as unread, for the opt-out gates' messages ("no completed
 * snapshot covers …"): a sentence naming the runs an older submigrate read, whose windows no
 * longer count; '' when there are none.
 */
/**
 * What every older version of the keyword rules missed (version 3's additions): a full-width
 * ＳＴＯＰ, the usual example, was counted by version 2, so it told a database read under
 * version 2 (most of them) that it had missed what it had not.
 */
export const MISSED_BY_OLDER_RULES =
  'such as a STOP with an invisible character in it, or a send a Messaging Service refused before it chose a sender';

/**
 * Why a run's reports hold no suppression list: no completed snapshot, or only runs an older
 * submigrate read (whose windows no longer count): said so, not as if nothing had been read.
 */
export function noListReason(olderRuns: number): string {
  return olderRuns === 0
    ? 'No completed snapshot'
    : `No snapshot read under the current keyword rules (${olderRulesRuns(olderRuns)}: what they read no longer counts as read)`;
}

/** The runs an older submigrate read, and why they matter, as every message names them. */
export const olderRulesRuns = (runs: number): string =>
  `${runs} completed snapshot run(s) of this database were read by an older submigrate, whose keyword rules missed some opt-outs (${MISSED_BY_OLDER_RULES})`;

export function olderRulesNote(db: Db): string {
  const current = new Map<string, TimeRange[]>();
  for (const w of completedWindows(db)) {
    const range = { start: new Date(w.windowStart), end: new Date(w.windowEnd) };
    const ranges = current.get(w.accountSid);
    if (ranges === undefined) current.set(w.accountSid, [range]);
    else ranges.push(range);
  }
  const older = olderRulesRunsUnread(db, current);
  return older === 0
    ? ''
    : ` (${olderRulesRuns(older)}: what they read no longer counts as read, and the snapshot reads it again)`;
}

/** The snapshot that reads a span of `account` not read, as `describeCoverage` names it. */
function readsSpan(account: string, parents: ReadonlySet<string>): string {
  if (parents.has(account)) return 'run `submigrate snapshot` with Bulk Export';
  if (parents.size > 0) return `run \`submigrate snapshot --account ${account}\` with Bulk Export`;
  return `run \`submigrate snapshot\` with Bulk Export; for a subaccount, \`submigrate snapshot --account ${account}\``;
}

/**
 * The coverage statement, a line per fact. `parents`: the parent accounts the database's
 * snapshots read, so that a span not read names the command that reads it: `snapshot` reads the
 * parent's history, and a subaccount's only with `--account`. Unknown (empty), both are named.
 */
export function describeCoverage(
  coverage: Coverage,
  parents: ReadonlySet<string> = new Set(),
): string[] {
  if (coverage.windows.length === 0) {
    return ['coverage: no completed snapshot yet — this list is empty because nothing was read'];
  }
  return [
    ...coverage.windows.map(
      (w) =>
        `coverage: ${w.account_sid} ${w.start} → ${w.end} from ${w.source === 'api' ? 'the Messages API' : 'Bulk Export day files'}`,
    ),
    ...coverage.not_read.map(
      (w) =>
        `not read: ${w.account_sid} ${w.start} → ${w.end} (older than the Messages API shows, never snapshotted, or after the last snapshot and before a number moved out of the account: ${readsSpan(w.account_sid, parents)})`,
    ),
    ...coverage.never_read.map(
      (w) =>
        `never read: ${w.account_sid}, where numbers of ${w.customer_ids.length} customer(s) came from (${w.customer_ids.join(' ')}): opt-outs it received are on no list; run \`submigrate snapshot --account ${w.account_sid}\``,
    ),
    ...(coverage.older_rules_runs === 0
      ? []
      : [
          `older rules: ${olderRulesRuns(coverage.older_rules_runs)}: what only they read counts as not read above, and the next \`submigrate snapshot\` reads it again`,
        ]),
    `keywords: opt-out ${coverage.keyword_lists['opt-out'].join(' ')}; opt-in ${coverage.keyword_lists['opt-in'].join(' ')} (YES not on toll-free); help ${coverage.keyword_lists.help.join(' ')}`,
    `ties: ${coverage.ties_resolved_as_opt_out} pair(s) had an opt-out (keyword or refusal) and an opt-in in the same second; kept as opted out`,
    ...(coverage.undated_evidence.length === 0
      ? []
      : [
          `undated: ${coverage.undated_evidence.length} keyword message(s) or refused send(s) carried no date and could not be ordered: ${coverage.undated_evidence.map((e) => e.message_sid).join(' ')}`,
        ]),
    ...coverage.not_placed.map(
      (n) =>
        `not placed: ${n.account_sid} ${n.sender} → ${n.recipient} (${n.channel ?? 'sms'}, ${n.evidence_message_sid}): the sender is no phone number and the evidence came through ${n.messaging_service_sid === null ? 'no Messaging Service' : `${n.messaging_service_sid}, no Messaging Service a snapshot listed in that account`}, so no number's suppression list carries it; if that sender sends for a customer's numbers, put the person on that customer's list by hand`,
    ),
    ...coverage.services_not_known.map(
      (u) =>
        `not known as a service: ${u.account_sid} ${u.messaging_service_sid}, which ${u.opt_ins} opt-in(s) came through, is no Messaging Service a snapshot listed in that account (Twilio may write such a SID on messages sent without one): each lifts only what its own number took, so people it may have opted back in stay on the list; if it is a service of the account, the next \`submigrate snapshot\` lists it (for a subaccount, \`submigrate snapshot --account ${u.account_sid}\`)`,
    ),
  ];
}
