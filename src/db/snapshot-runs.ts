/**
 * Snapshot runs, their per-account windows and their time slices. A slice's progress (the
 * next page URL) is committed in the same transaction as the evidence from the page that
 * led to it, so a killed run resumes exactly after the last page it recorded.
 */

import { RULES_VERSION } from '../optouts/keywords.js';
import { insertEvents, type LedgerEvent } from './ledger.js';
import type { Db } from './open.js';
import { statement } from './statements.js';

/**
 * The command that started a run: `snapshot`, `plan` (its refresh), `apply` (its read up to
 * the moves), `demo`, or `reconcile` (a pass records what it read as a run of the
 * subaccounts). Runs recorded before migration 025 were told by their shape (025 says how).
 */
export type RunMaker = 'snapshot' | 'plan' | 'apply' | 'demo' | 'reconcile';

export interface SnapshotRun {
  id: number;
  parentAccountSid: string;
  status: 'running' | 'completed' | 'abandoned';
  startedAt: string;
  finishedAt: string | null;
  pid: number;
  hostname: string;
  partitions: number;
  keywordsJson: string;
  explicitWindow: boolean;
  /** The Messages API's retention window assumed, in days. */
  retentionDays: number;
  /** Whether history older than that window is read from Bulk Export. */
  useExport: boolean;
  /** The keyword rules (RULES_VERSION) the run classified messages by. */
  rulesVersion: number;
  /** The command that started it (one that takes it up later does not change it). */
  madeBy: RunMaker;
}

/** Where a window's messages were read: the Messages API, or Bulk Export day files. */
export type WindowSource = 'api' | 'export';

export interface SnapshotWindow {
  accountSid: string;
  source: WindowSource;
  windowStart: string;
  windowEnd: string;
}

export interface SnapshotSlice {
  accountSid: string;
  sliceIndex: number;
  sliceStart: string;
  sliceEnd: string;
  status: 'pending' | 'done';
  nextPageUrl: string | null;
  pagesRead: number;
  messagesRead: number;
  /** The oldest message the API showed in this slice so far. */
  oldestSent: string | null;
}

/** Twilio's default for how long the Messages API shows a record: 13 months. */
export const DEFAULT_RETENTION_DAYS = 400;

const RUN_COLUMNS = `id, parent_account_sid AS parentAccountSid, status, started_at AS startedAt,
  finished_at AS finishedAt, pid, hostname, partitions, keywords_json AS keywordsJson,
  explicit_window AS explicitWindow, retention_days AS retentionDays, use_export AS useExport,
  rules_version AS rulesVersion, made_by AS madeBy`;

function toRun(
  row:
    | (Omit<SnapshotRun, 'explicitWindow' | 'useExport'> & {
        explicitWindow: number;
        useExport: number;
      })
    | undefined,
) {
  return row === undefined
    ? undefined
    : { ...row, explicitWindow: row.explicitWindow === 1, useExport: row.useExport === 1 };
}

/**
 * `fn` in one write-locked transaction (`BEGIN IMMEDIATE`): the look for a running run and
 * the start of a new one (or the take-over of a stale one) are one step, so two snapshots
 * started in the same instant cannot both start a run. The second waits for the first's
 * lock (the database's busy timeout) and then sees the first's run.
 */
export function claimingRun<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

export function findRunningRun(db: Db, parentAccountSid: string): SnapshotRun | undefined {
  return toRun(
    db
      .prepare(
        `SELECT ${RUN_COLUMNS} FROM snapshot_runs
         WHERE parent_account_sid = ? AND status = 'running' ORDER BY id DESC LIMIT 1`,
      )
      .get(parentAccountSid) as never,
  );
}

/** Every run recorded running (of any maker), newest first. */
export function listRunningRuns(db: Db, parentAccountSid: string): SnapshotRun[] {
  return (
    db
      .prepare(
        `SELECT ${RUN_COLUMNS} FROM snapshot_runs
         WHERE parent_account_sid = ? AND status = 'running' ORDER BY id DESC`,
      )
      .all(parentAccountSid) as never[]
  ).map((row) => toRun(row)!);
}

/**
 * The latest run recorded running that no reconcile pass made, older than `beforeId`: the
 * snapshot a pass's run left stopped after it hides from a look at the latest run alone.
 */
export function findRunningSnapshotBefore(
  db: Db,
  parentAccountSid: string,
  beforeId: number,
): SnapshotRun | undefined {
  return toRun(
    db
      .prepare(
        `SELECT ${RUN_COLUMNS} FROM snapshot_runs
         WHERE parent_account_sid = ? AND status = 'running' AND made_by <> 'reconcile' AND id < ?
         ORDER BY id DESC LIMIT 1`,
      )
      .get(parentAccountSid, beforeId) as never,
  );
}

/** Reconcile passes' runs recorded running with no pass recorded: judging, or left stopped. */
export function unrecordedPassRuns(db: Db, parentAccountSid: string): SnapshotRun[] {
  return (
    db
      .prepare(
        `SELECT ${RUN_COLUMNS} FROM snapshot_runs
         WHERE parent_account_sid = ? AND status = 'running' AND made_by = 'reconcile'
           AND id NOT IN (SELECT snapshot_run_id FROM reconcile_passes) ORDER BY id`,
      )
      .all(parentAccountSid) as never[]
  ).map((row) => toRun(row)!);
}

/** The parent accounts the database's snapshot runs (and reconcile passes) were made for. */
export function parentAccountSids(db: Db): Set<string> {
  const rows = db.prepare(`SELECT DISTINCT parent_account_sid AS sid FROM snapshot_runs`).all() as {
    sid: string;
  }[];
  return new Set(rows.map((row) => row.sid));
}

/** The database's latest snapshot run, of any parent account (what `status` tells of). */
export function latestRun(db: Db): SnapshotRun | undefined {
  return toRun(
    db.prepare(`SELECT ${RUN_COLUMNS} FROM snapshot_runs ORDER BY id DESC LIMIT 1`).get() as never,
  );
}

/**
 * The reconcile pass a snapshot run records, when it is one: a pass is recorded like a snapshot
 * run (its windows are the subaccounts' since the move), so the latest run may be one.
 */
export function reconcilePassOf(db: Db, snapshotRunId: number): number | null {
  const row = db
    .prepare(`SELECT id FROM reconcile_passes WHERE snapshot_run_id = ?`)
    .get(snapshotRunId) as { id: number } | undefined;
  return row?.id ?? null;
}

/** Completed runs that read the Messages API alone (no Bulk Export), oldest first. */
export function completedRunsWithoutExport(db: Db, parentAccountSid: string): SnapshotRun[] {
  return (
    db
      .prepare(
        `SELECT ${RUN_COLUMNS} FROM snapshot_runs
         WHERE parent_account_sid = ? AND status = 'completed' AND use_export = 0 ORDER BY id`,
      )
      .all(parentAccountSid) as never[]
  ).map((row) => toRun(row)!);
}

export function getRun(db: Db, id: number): SnapshotRun | undefined {
  return toRun(
    db.prepare(`SELECT ${RUN_COLUMNS} FROM snapshot_runs WHERE id = ?`).get(id) as never,
  );
}

export type NewSlice = Omit<
  SnapshotSlice,
  'status' | 'nextPageUrl' | 'pagesRead' | 'messagesRead' | 'oldestSent'
>;

/** A window to record; without a source, one read through the Messages API. */
export type NewWindow = Omit<SnapshotWindow, 'source'> & { source?: WindowSource };

function addWindows(db: Db, runId: number, windows: readonly NewWindow[]): void {
  const window = statement(
    db,
    `INSERT OR IGNORE INTO snapshot_windows (run_id, account_sid, source, window_start, window_end)
     VALUES (?, ?, ?, ?, ?)`,
  );
  for (const w of windows) {
    window.run(runId, w.accountSid, w.source ?? 'api', w.windowStart, w.windowEnd);
  }
}

function addExportDays(
  db: Db,
  runId: number,
  days: readonly { accountSid: string; day: string }[],
): void {
  const insert = statement(
    db,
    `INSERT OR IGNORE INTO snapshot_export_days (run_id, account_sid, day, status)
     VALUES (?, ?, ?, 'pending')`,
  );
  for (const d of days) insert.run(runId, d.accountSid, d.day);
}

export function createRun(
  db: Db,
  run: Omit<
    SnapshotRun,
    'id' | 'status' | 'finishedAt' | 'retentionDays' | 'useExport' | 'rulesVersion'
  > &
    Partial<Pick<SnapshotRun, 'retentionDays' | 'useExport'>>,
  windows: readonly NewWindow[],
  slices: readonly NewSlice[],
  exportDays: readonly { accountSid: string; day: string }[] = [],
): number {
  return db.transaction(() => {
    const id = Number(
      db
        .prepare(
          `INSERT INTO snapshot_runs (parent_account_sid, status, started_at, pid, hostname,
             partitions, keywords_json, explicit_window, retention_days, use_export,
             rules_version, made_by)
           VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          run.parentAccountSid,
          run.startedAt,
          run.pid,
          run.hostname,
          run.partitions,
          run.keywordsJson,
          run.explicitWindow ? 1 : 0,
          run.retentionDays ?? DEFAULT_RETENTION_DAYS,
          run.useExport === true ? 1 : 0,
          RULES_VERSION,
          run.madeBy,
        ).lastInsertRowid,
    );
    addWindows(db, id, windows);
    const slice = db.prepare(
      `INSERT INTO snapshot_slices (run_id, account_sid, slice_index, slice_start, slice_end, status)
       VALUES (?, ?, ?, ?, ?, 'pending')`,
    );
    for (const s of slices) slice.run(id, s.accountSid, s.sliceIndex, s.sliceStart, s.sliceEnd);
    addExportDays(db, id, exportDays);
    return id;
  })();
}

/** A run taken over by this process after the one that started it died. */
export function adoptRun(db: Db, id: number, pid: number, hostname: string): void {
  db.prepare('UPDATE snapshot_runs SET pid = ?, hostname = ? WHERE id = ?').run(pid, hostname, id);
}

export function finishRun(db: Db, id: number, status: 'completed' | 'abandoned', at: string): void {
  db.prepare('UPDATE snapshot_runs SET status = ?, finished_at = ? WHERE id = ?').run(
    status,
    at,
    id,
  );
}

export function listWindows(db: Db, runId: number): SnapshotWindow[] {
  return db
    .prepare(
      `SELECT account_sid AS accountSid, source, window_start AS windowStart,
              window_end AS windowEnd
       FROM snapshot_windows WHERE run_id = ? ORDER BY account_sid, window_start, source`,
    )
    .all(runId) as SnapshotWindow[];
}

export function listSlices(db: Db, runId: number): SnapshotSlice[] {
  return db
    .prepare(
      `SELECT account_sid AS accountSid, slice_index AS sliceIndex, slice_start AS sliceStart,
              slice_end AS sliceEnd, status, next_page_url AS nextPageUrl,
              pages_read AS pagesRead, messages_read AS messagesRead, oldest_sent AS oldestSent
       FROM snapshot_slices WHERE run_id = ? ORDER BY account_sid, slice_index`,
    )
    .all(runId) as SnapshotSlice[];
}

export interface PageRecord {
  slice: Pick<SnapshotSlice, 'accountSid' | 'sliceIndex'>;
  messagesRead: number;
  nextPageUrl: string | null;
  /** The page's oldest message (its last), ISO; null on an empty page. */
  oldestSent: string | null;
  events: readonly LedgerEvent[];
  /** The page's messages of each number through each service SID (`recordServiceMessages`). */
  services?: readonly ServiceMessageRow[];
}

/** A number's messages in an account through one service SID: the first and last date_sent. */
export interface ServiceMessageRow {
  phoneNumber: string;
  accountSid: string;
  serviceSid: string;
  /** ISO 8601 UTC. */
  first: string;
  last: string;
}

/**
 * Keeps, for each number, account and service SID, the first and last message of the number's
 * through it (`number_service_messages`, migration 034): the rows of a batch of pages merged
 * first, so a sender of a thousand messages is one write.
 */
export function recordServiceMessages(db: Db, rows: readonly ServiceMessageRow[]): void {
  if (rows.length === 0) return;
  const merged = new Map<string, ServiceMessageRow>();
  for (const row of rows) {
    const key = `${row.phoneNumber} ${row.accountSid} ${row.serviceSid}`;
    const known = merged.get(key);
    if (known === undefined) merged.set(key, { ...row });
    else {
      if (row.first < known.first) known.first = row.first;
      if (row.last > known.last) known.last = row.last;
    }
  }
  const upsert = statement(
    db,
    `INSERT INTO number_service_messages
       (phone_number, account_sid, messaging_service_sid, first_sent, last_sent)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (phone_number, account_sid, messaging_service_sid) DO UPDATE SET
       first_sent = MIN(first_sent, excluded.first_sent),
       last_sent = MAX(last_sent, excluded.last_sent)`,
  );
  for (const row of merged.values()) {
    upsert.run(row.phoneNumber, row.accountSid, row.serviceSid, row.first, row.last);
  }
}

/**
 * The evidence from some pages, and where each slice goes on from, in one transaction:
 * a slice never records progress past evidence that is not in the ledger.
 */
export function recordPages(db: Db, runId: number, pages: readonly PageRecord[]): number {
  const advance = statement(
    db,
    `UPDATE snapshot_slices
     SET next_page_url = ?, status = ?, pages_read = pages_read + 1,
         messages_read = messages_read + ?,
         oldest_sent = CASE WHEN ? IS NULL THEN oldest_sent
                            WHEN oldest_sent IS NULL OR ? < oldest_sent THEN ?
                            ELSE oldest_sent END
     WHERE run_id = ? AND account_sid = ? AND slice_index = ?`,
  );
  // Inserting in SID order touches the primary-key index page by page, not at random.
  const events = pages.flatMap((page) => page.events);
  events.sort((a, b) => (a.messageSid < b.messageSid ? -1 : a.messageSid > b.messageSid ? 1 : 0));
  return db.transaction(() => {
    const added = insertEvents(db, runId, events);
    recordServiceMessages(
      db,
      pages.flatMap((page) => page.services ?? []),
    );
    for (const page of pages) {
      advance.run(
        page.nextPageUrl,
        page.nextPageUrl === null ? 'done' : 'pending',
        page.messagesRead,
        page.oldestSent,
        page.oldestSent,
        page.oldestSent,
        runId,
        page.slice.accountSid,
        page.slice.sliceIndex,
      );
    }
    return added;
  })();
}

/** Where an account's history begins, once found out; null while unknown. */
export function knownHistoryStart(db: Db, accountSid: string): string | null {
  const row = db
    .prepare('SELECT history_start AS start FROM account_history WHERE account_sid = ?')
    .get(accountSid) as { start: string } | undefined;
  return row?.start ?? null;
}

export function recordHistoryStart(
  db: Db,
  accountSid: string,
  start: string,
  source: string,
  observedAt: string,
): void {
  db.prepare(
    `INSERT INTO account_history (account_sid, history_start, source, observed_at)
     VALUES (?, ?, ?, ?)
     ON CONFLICT (account_sid) DO UPDATE SET
       history_start = excluded.history_start, source = excluded.source,
       observed_at = excluded.observed_at`,
  ).run(accountSid, start, source, observedAt);
}

export function historyStarts(db: Db): Map<string, string> {
  const rows = db
    .prepare('SELECT account_sid AS accountSid, history_start AS start FROM account_history')
    .all() as { accountSid: string; start: string }[];
  return new Map(rows.map((row) => [row.accountSid, row.start]));
}

/**
 * Every completed window (of one account, or all), oldest first: what has been read. A window
 * read under older keyword rules is not among them: what it held that the current rules count
 * (and the older did not) is not in the ledger, so it is to be read again.
 */
export function completedWindows(
  db: Db,
  accountSid: string | null = null,
): (SnapshotWindow & { runId: number })[] {
  return db
    .prepare(
      `SELECT w.run_id AS runId, w.account_sid AS accountSid, w.source,
              w.window_start AS windowStart, w.window_end AS windowEnd
       FROM snapshot_windows w JOIN snapshot_runs r ON r.id = w.run_id
       WHERE r.status = 'completed' AND r.rules_version >= ? AND (? IS NULL OR w.account_sid = ?)
       ORDER BY w.window_start, w.account_sid`,
    )
    .all(RULES_VERSION, accountSid, accountSid) as (SnapshotWindow & { runId: number })[];
}

/**
 * The windows of the completed snapshot runs read under keyword rules older than the current
 * ones (reconcile passes, which are runs too, left out): read, but no longer counted.
 */
export function olderRulesWindows(db: Db): (SnapshotWindow & { runId: number })[] {
  return db
    .prepare(
      `SELECT w.run_id AS runId, w.account_sid AS accountSid, w.source,
              w.window_start AS windowStart, w.window_end AS windowEnd
       FROM snapshot_windows w JOIN snapshot_runs r ON r.id = w.run_id
       WHERE r.status = 'completed' AND r.rules_version < ?
         AND r.id NOT IN (SELECT snapshot_run_id FROM reconcile_passes)
       ORDER BY w.run_id, w.window_start`,
    )
    .all(RULES_VERSION) as (SnapshotWindow & { runId: number })[];
}

// ── Retention ───────────────────────────────────────────────────────────────────────────

/** The Messages API window recorded for each account, in days (as last given). */
export function recordedRetention(db: Db): Map<string, number> {
  const rows = db
    .prepare('SELECT account_sid AS accountSid, retention_days AS days FROM account_retention')
    .all() as { accountSid: string; days: number }[];
  return new Map(rows.map((row) => [row.accountSid, row.days]));
}

/** What the user said (`--retention-days`): it replaces what was recorded, larger or not. */
export function recordToldRetention(
  db: Db,
  runId: number,
  accountSids: readonly string[],
  days: number,
  at: string,
): void {
  const upsert = db.prepare(
    `INSERT INTO account_retention (account_sid, retention_days, source, run_id, observed_at)
     VALUES (?, ?, 'told', ?, ?)
     ON CONFLICT (account_sid) DO UPDATE SET
       retention_days = excluded.retention_days, source = excluded.source,
       run_id = excluded.run_id, observed_at = excluded.observed_at`,
  );
  db.transaction(() => {
    for (const sid of accountSids) upsert.run(sid, days, runId, at);
  })();
}

// ── Bulk Export ─────────────────────────────────────────────────────────────────────────

export interface ExportDay {
  accountSid: string;
  day: string;
  status: 'pending' | 'done';
  hadFile: boolean | null;
  messagesRead: number;
}

export function listExportDays(db: Db, runId: number): ExportDay[] {
  const rows = db
    .prepare(
      `SELECT account_sid AS accountSid, day, status, had_file AS hadFile,
              messages_read AS messagesRead
       FROM snapshot_export_days WHERE run_id = ? ORDER BY account_sid, day`,
    )
    .all(runId) as (Omit<ExportDay, 'hadFile'> & { hadFile: number | null })[];
  return rows.map((row) => ({ ...row, hadFile: row.hadFile === null ? null : row.hadFile === 1 }));
}

/** A day read (or reported empty), with its evidence, in one transaction. */
export function recordExportDay(
  db: Db,
  runId: number,
  day: { accountSid: string; day: string; hadFile: boolean; messagesRead: number },
  events: readonly LedgerEvent[],
  services: readonly ServiceMessageRow[] = [],
): number {
  return db.transaction(() => {
    const added = insertEvents(db, runId, events);
    recordServiceMessages(db, services);
    statement(
      db,
      `UPDATE snapshot_export_days SET status = 'done', had_file = ?, messages_read = ?
       WHERE run_id = ? AND account_sid = ? AND day = ?`,
    ).run(day.hadFile ? 1 : 0, day.messagesRead, runId, day.accountSid, day.day);
    return added;
  })();
}

export interface ExportJobRow {
  accountSid: string;
  jobSid: string;
  startDay: string;
  endDay: string;
  /** When the run created it (ISO): its files do not outlive it by much. */
  createdAt?: string;
}

export function recordExportJob(db: Db, runId: number, job: ExportJobRow, createdAt: string): void {
  db.prepare(
    `INSERT OR IGNORE INTO snapshot_export_jobs
       (run_id, account_sid, job_sid, start_day, end_day, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(runId, job.accountSid, job.jobSid, job.startDay, job.endDay, createdAt);
}

/**
 * The Bulk Export jobs any run created for an account: this run's first (oldest first), then
 * those of earlier runs, newest first. A run killed while it waited for its job and then
 * abandoned (a `plan`'s refresh in between, a snapshot asked for other accounts) leaves a job
 * Twilio is still making: the next run takes it up rather than create another.
 */
export function listExportJobs(db: Db, runId: number, accountSid: string): ExportJobRow[] {
  return db
    .prepare(
      `SELECT account_sid AS accountSid, job_sid AS jobSid, start_day AS startDay,
              end_day AS endDay, created_at AS createdAt
       FROM snapshot_export_jobs WHERE account_sid = ?
       ORDER BY run_id = ? DESC,
                CASE WHEN run_id = ? THEN created_at END ASC,
                created_at DESC, run_id DESC`,
    )
    .all(accountSid, runId, runId) as ExportJobRow[];
}

/**
 * The Messages API showed nothing before `apiStart` in a window planned from an earlier
 * start: the window now starts there, the days before it are read from Bulk Export (an
 * `export` window and its days), all in one transaction.
 */
export function narrowApiWindow(
  db: Db,
  runId: number,
  change: {
    accountSid: string;
    plannedStart: string;
    apiStart: string;
    exportWindow: SnapshotWindow | null;
    exportDays: readonly string[];
  },
): void {
  db.transaction(() => {
    db.prepare(
      `UPDATE snapshot_windows SET window_start = ?
       WHERE run_id = ? AND account_sid = ? AND source = 'api' AND window_start = ?`,
    ).run(change.apiStart, runId, change.accountSid, change.plannedStart);
    if (change.exportWindow !== null) addWindows(db, runId, [change.exportWindow]);
    addExportDays(
      db,
      runId,
      change.exportDays.map((day) => ({ accountSid: change.accountSid, day })),
    );
  })();
}

/**
 * A slice cut in two while it is read: what it has not read yet (`start`…`last`) is shared
 * between itself (the newer half, read afresh from its first page) and a new pending slice
 * (the older half). One transaction: a killed run resumes both halves. `recounted`: messages
 * of the `last` second the slice had counted, which its newer half reads and counts again.
 */
export function splitSlice(
  db: Db,
  runId: number,
  slice: Pick<SnapshotSlice, 'accountSid' | 'sliceIndex'>,
  at: { start: string; mid: string; last: string },
  recounted = 0,
): SnapshotSlice {
  return db.transaction(() => {
    const { next } = db
      .prepare(
        `SELECT MAX(slice_index) + 1 AS next FROM snapshot_slices
         WHERE run_id = ? AND account_sid = ?`,
      )
      .get(runId, slice.accountSid) as { next: number };
    db.prepare(
      `UPDATE snapshot_slices SET slice_start = ?, slice_end = ?, next_page_url = NULL,
         messages_read = messages_read - ?
       WHERE run_id = ? AND account_sid = ? AND slice_index = ?`,
    ).run(at.mid, at.last, recounted, runId, slice.accountSid, slice.sliceIndex);
    db.prepare(
      `INSERT INTO snapshot_slices (run_id, account_sid, slice_index, slice_start, slice_end, status)
       VALUES (?, ?, ?, ?, ?, 'pending')`,
    ).run(runId, slice.accountSid, next, at.start, at.mid);
    return {
      accountSid: slice.accountSid,
      sliceIndex: next,
      sliceStart: at.start,
      sliceEnd: at.mid,
      status: 'pending' as const,
      nextPageUrl: null,
      pagesRead: 0,
      messagesRead: 0,
      oldestSent: null,
    };
  })();
}
