/**
 * Snapshot runs, their per-account windows and their time slices. A slice's progress (the
 * next page URL) is committed in the same transaction as the evidence from the page that
 * led to it, so a killed run resumes exactly after the last page it recorded.
 */

import { insertEvents, type LedgerEvent } from './ledger.js';
import type { Db } from './open.js';
import { statement } from './statements.js';

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
}

export interface SnapshotWindow {
  accountSid: string;
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
}

const RUN_COLUMNS = `id, parent_account_sid AS parentAccountSid, status, started_at AS startedAt,
  finished_at AS finishedAt, pid, hostname, partitions, keywords_json AS keywordsJson,
  explicit_window AS explicitWindow`;

function toRun(
  row: (Omit<SnapshotRun, 'explicitWindow'> & { explicitWindow: number }) | undefined,
) {
  return row === undefined ? undefined : { ...row, explicitWindow: row.explicitWindow === 1 };
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

export function getRun(db: Db, id: number): SnapshotRun | undefined {
  return toRun(
    db.prepare(`SELECT ${RUN_COLUMNS} FROM snapshot_runs WHERE id = ?`).get(id) as never,
  );
}

export function createRun(
  db: Db,
  run: Omit<SnapshotRun, 'id' | 'status' | 'finishedAt'>,
  windows: readonly SnapshotWindow[],
  slices: readonly Omit<SnapshotSlice, 'status' | 'nextPageUrl' | 'pagesRead' | 'messagesRead'>[],
): number {
  return db.transaction(() => {
    const id = Number(
      db
        .prepare(
          `INSERT INTO snapshot_runs (parent_account_sid, status, started_at, pid, hostname,
             partitions, keywords_json, explicit_window)
           VALUES (?, 'running', ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          run.parentAccountSid,
          run.startedAt,
          run.pid,
          run.hostname,
          run.partitions,
          run.keywordsJson,
          run.explicitWindow ? 1 : 0,
        ).lastInsertRowid,
    );
    const window = db.prepare(
      'INSERT INTO snapshot_windows (run_id, account_sid, window_start, window_end) VALUES (?, ?, ?, ?)',
    );
    for (const w of windows) window.run(id, w.accountSid, w.windowStart, w.windowEnd);
    const slice = db.prepare(
      `INSERT INTO snapshot_slices (run_id, account_sid, slice_index, slice_start, slice_end, status)
       VALUES (?, ?, ?, ?, ?, 'pending')`,
    );
    for (const s of slices) slice.run(id, s.accountSid, s.sliceIndex, s.sliceStart, s.sliceEnd);
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
      `SELECT account_sid AS accountSid, window_start AS windowStart, window_end AS windowEnd
       FROM snapshot_windows WHERE run_id = ? ORDER BY account_sid, window_start`,
    )
    .all(runId) as SnapshotWindow[];
}

export function listSlices(db: Db, runId: number): SnapshotSlice[] {
  return db
    .prepare(
      `SELECT account_sid AS accountSid, slice_index AS sliceIndex, slice_start AS sliceStart,
              slice_end AS sliceEnd, status, next_page_url AS nextPageUrl,
              pages_read AS pagesRead, messages_read AS messagesRead
       FROM snapshot_slices WHERE run_id = ? ORDER BY account_sid, slice_index`,
    )
    .all(runId) as SnapshotSlice[];
}

export interface PageRecord {
  slice: Pick<SnapshotSlice, 'accountSid' | 'sliceIndex'>;
  messagesRead: number;
  nextPageUrl: string | null;
  events: readonly LedgerEvent[];
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
         messages_read = messages_read + ?
     WHERE run_id = ? AND account_sid = ? AND slice_index = ?`,
  );
  // Inserting in SID order touches the primary-key index page by page, not at random.
  const events = pages.flatMap((page) => page.events);
  events.sort((a, b) => (a.messageSid < b.messageSid ? -1 : a.messageSid > b.messageSid ? 1 : 0));
  return db.transaction(() => {
    const added = insertEvents(db, runId, events);
    for (const page of pages) {
      advance.run(
        page.nextPageUrl,
        page.nextPageUrl === null ? 'done' : 'pending',
        page.messagesRead,
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

/** Every completed window (of one account, or all), oldest first: what has been read. */
export function completedWindows(
  db: Db,
  accountSid: string | null = null,
): (SnapshotWindow & { runId: number })[] {
  return db
    .prepare(
      `SELECT w.run_id AS runId, w.account_sid AS accountSid, w.window_start AS windowStart,
              w.window_end AS windowEnd
       FROM snapshot_windows w JOIN snapshot_runs r ON r.id = w.run_id
       WHERE r.status = 'completed' AND (? IS NULL OR w.account_sid = ?)
       ORDER BY w.window_start, w.account_sid`,
    )
    .all(accountSid, accountSid) as (SnapshotWindow & { runId: number })[];
}
