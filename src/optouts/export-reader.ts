/**
 * Reading the history the Messages API no longer shows from Bulk Export day files. For each
 * account, the days a run still has to read: those whose file already exists are read at once;
 * for the rest one custom job is created (or the job an earlier, killed run created is taken
 * up again), polled, and its days read as they complete. A day's evidence and its `done` mark
 * are committed together, so a resumed run never reads a finished day again.
 */

import pLimit from 'p-limit';

import { isoSeconds, type Clock } from '../clock.js';
import type { LedgerEvent } from '../db/ledger.js';
import type { Db } from '../db/open.js';
import {
  getRun,
  listExportDays,
  listExportJobs,
  listWindows,
  recordExportDay,
  recordExportJob,
  type ExportDay,
} from '../db/snapshot-runs.js';
import { TwilioError, UserError } from '../errors.js';
import type { ExportJobStatus, ServiceSighting, TwilioPort } from '../twilio/port.js';
import { classifyMessage, serviceSighting } from './classify.js';
import { serviceMessages, type SnapshotProgress } from './slice-reader.js';
import { countedFromExport } from './windows.js';

/** Day files read side by side (each is gunzipped and parsed on the main thread). */
const FILES_AT_ONCE = 4;
/** Polling a job: never more often than this, never less often than the longest wait. */
const POLL_MIN_MS = 250;
const POLL_MAX_MS = 10_000;
/** Asking a day again for a fresh URL (an expired one, a broken download) before giving up. */
const FILE_ATTEMPTS = 3;
/** Jobs created for one account in one run at most (a job's files may expire meanwhile). */
const JOBS_PER_ACCOUNT = 3;
/** The failed days an error names one by one (the rest it counts). */
const FAILURES_NAMED = 10;
/**
 * Twilio removes a job's day files 7 days after it completes: a run resumed later than this
 * after creating its job makes a new one rather than wait on files that are gone.
 */
const JOB_REUSE_MS = 6 * 86_400_000;

export interface ExportContext {
  twilio: TwilioPort;
  db: Db;
  runId: number;
  /**
   * The run was begun by an earlier process: one that may have been stopped while it asked
   * Twilio for a job, which Twilio then made without the run hearing of it.
   */
  resumed?: boolean;
  clock: Clock;
  /** Phone number → its type, once the snapshot has listed the numbers. */
  numberTypes: Promise<ReadonlyMap<string, string | null>>;
  progress: SnapshotProgress;
  onProgress?(progress: SnapshotProgress): void;
  /** Told once per job that the run is waiting for it, and for how long Twilio thinks. */
  onNotice?(text: string): void;
  sleep(ms: number): Promise<void>;
  /**
   * How long the run waits in all for Twilio to make the files (`--export-wait`): `until`, on
   * `clock`, after which a job still making them stops the run rather than be polled forever.
   */
  waitLimit: { minutes: number; until: number };
}

/** Reads every pending export day of the run, account by account side by side. */
export async function readExportDays(context: ExportContext): Promise<void> {
  const pending = listExportDays(context.db, context.runId).filter((d) => d.status === 'pending');
  const byAccount = new Map<string, ExportDay[]>();
  for (const day of pending) {
    const days = byAccount.get(day.accountSid) ?? [];
    days.push(day);
    byAccount.set(day.accountSid, days);
  }
  const files = pLimit(FILES_AT_ONCE);
  const outcomes = await Promise.allSettled(
    [...byAccount].map(([accountSid, days]) =>
      readAccountDays(
        accountSid,
        days.map((d) => d.day),
        context,
        files,
      ),
    ),
  );
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}

async function readAccountDays(
  accountSid: string,
  days: readonly string[],
  context: ExportContext,
  files: ReturnType<typeof pLimit>,
): Promise<void> {
  const remaining = new Set(days);
  const reads: Promise<void>[] = [];
  let readFailed = false;
  const read = (day: string) => {
    remaining.delete(day);
    const reading = files(() => readDay(accountSid, day, context));
    // Its failure is read below, once the polling is over; until then it must not count as
    // unhandled (Node would end the process on it, mid-run, with a raw stack). A failed day
    // fails the run: no use waiting for Twilio to make the other files.
    reading.catch(() => (readFailed = true));
    reads.push(reading);
  };

  let polling: { error: unknown } | null = null;
  try {
    await readAsTwilioHasThem(accountSid, remaining, read, context, () => readFailed);
  } catch (error) {
    polling = { error };
  }
  // Never leave a download writing after the run has given up (its database closes then).
  const outcomes = await Promise.allSettled(reads);
  if (polling !== null) throw polling.error;
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}

/**
 * The days Twilio already has files for are read at once; for the rest, the jobs this run
 * created (or new ones) are polled and each day read as it completes. A day a job will never
 * make (Twilio marked it failed, or deleted) is asked for again at once, in a new job for the
 * days no job is still making, within JOBS_PER_ACCOUNT.
 */
async function readAsTwilioHasThem(
  accountSid: string,
  remaining: Set<string>,
  read: (day: string) => void,
  context: ExportContext,
  failed: () => boolean,
): Promise<void> {
  const { twilio, db, runId } = context;
  // What Twilio already has (a job of an earlier run, or of anyone in the last 7 days).
  for (const day of await twilio.listExportDays(accountSid)) {
    if (remaining.has(day)) read(day);
  }

  const now = context.clock.now().getTime();
  let jobs = listExportJobs(db, runId, accountSid)
    .filter((job) => job.createdAt !== undefined && now - Date.parse(job.createdAt) < JOB_REUSE_MS)
    .map((job) => job.jobSid);
  let created = 0;
  let lookedForUnheard = context.resumed !== true;
  const announced = new Set<string>();
  /** Day → how Twilio last marked it failed, and in which job: for the error if it stays so. */
  const failures = new Map<string, { status: string; jobSid: string }>();
  /** What a job has made is read (or recorded empty); what it failed, noted. */
  const take = (job: ExportJobStatus) => {
    for (const day of job.emptyDays) {
      if (!remaining.has(day)) continue;
      remaining.delete(day);
      recordEmptyDay(accountSid, day, context);
    }
    for (const day of job.completedDays) if (remaining.has(day)) read(day);
    for (const { day, status } of job.failedDays) {
      if (remaining.has(day)) failures.set(day, { status, jobSid: job.jobSid });
    }
  };
  /** Polls in a row with no estimate ahead, since a day was last read: each waits longer. */
  let overdue = 0;
  let left = remaining.size;
  while (remaining.size > 0 && !failed()) {
    // Every job that may still make a day left: this run's, or one an earlier run created
    // (killed while it waited, and abandoned since) that Twilio is still making.
    const live: ExportJobStatus[] = [];
    for (const jobSid of jobs) {
      const found = await twilio.fetchExportJob(accountSid, jobSid);
      if (found === null) continue; // gone (deleted, or Twilio no longer has it)
      take(found);
      live.push(found);
    }
    let unanswered = unansweredDays(live, remaining);
    if (unanswered.size > 0 && !lookedForUnheard) {
      lookedForUnheard = true;
      const unheard = await unheardJob(accountSid, unanswered, jobs, context);
      if (unheard !== null) {
        take(unheard);
        live.push(unheard);
        unanswered = unansweredDays(live, remaining);
      }
    }
    // Days no job will make (each job gone, or it failed them): asked for again at once.
    while (unanswered.size > 0) {
      if (created >= JOBS_PER_ACCOUNT) throw notMade(accountSid, unanswered, created, failures);
      const sorted = [...unanswered].sort();
      const job = askedFor(
        await twilio.createExportJob(accountSid, {
          startDay: sorted[0]!,
          endDay: sorted.at(-1)!,
          friendlyName: jobName(runId),
        }),
        sorted,
      );
      created += 1;
      recordExportJob(
        db,
        runId,
        { accountSid, jobSid: job.jobSid, startDay: sorted[0]!, endDay: sorted.at(-1)! },
        isoSeconds(context.clock.now()),
      );
      take(job);
      // The newest job is polled first from now on.
      live.unshift(job);
      unanswered = unansweredDays(live, remaining);
    }
    if (remaining.size === 0 || failed()) break;
    // Only the jobs still making a day left are polled again.
    const making = live.filter((job) => job.pendingDays.some((day) => remaining.has(day)));
    jobs = making.map((job) => job.jobSid);
    const now = context.clock.now().getTime();
    if (now >= context.waitLimit.until) {
      throw waitedTooLong(accountSid, making, remaining, context);
    }
    for (const job of making) {
      if (announced.has(job.jobSid)) continue;
      announced.add(job.jobSid);
      const days = job.pendingDays.filter((day) => remaining.has(day)).length;
      context.onNotice?.(waitingNotice(accountSid, job, days, context));
    }
    const wait = pollWait(making, now, remaining.size < left ? 0 : overdue);
    overdue = wait.overdue;
    left = remaining.size;
    // The last poll falls on the limit: a job done just before it is read, not given up on.
    await context.sleep(Math.max(0, Math.min(wait.ms, context.waitLimit.until - now)));
  }
}

/**
 * How long to wait before polling again: until the soonest estimate Twilio gives, within
 * POLL_MIN_MS..POLL_MAX_MS. With no estimate ahead (none given, or the job late on it), the
 * wait doubles from POLL_MIN_MS with each such poll (`overdue` of them so far) up to
 * POLL_MAX_MS, so a job hours late is asked about every few seconds, not four times a second.
 */
export function pollWait(
  making: readonly ExportJobStatus[],
  now: number,
  overdue: number,
): { ms: number; overdue: number } {
  const etas = making
    .map((job) => job.estimatedCompletion?.getTime())
    .filter((eta): eta is number => eta !== undefined && eta > now);
  if (etas.length > 0) {
    return { ms: Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, Math.min(...etas) - now)), overdue };
  }
  return { ms: Math.min(POLL_MAX_MS, POLL_MIN_MS * 2 ** overdue), overdue: overdue + 1 };
}

/**
 * A job as Twilio answered its creation, making the days it was asked for: one its answer does
 * not list yet (Twilio's definition does not say the answer lists them) counts as pending in
 * it until the job is polled, rather than be asked for again in the same breath.
 */
function askedFor(job: ExportJobStatus, days: readonly string[]): ExportJobStatus {
  const listed = new Set([
    ...job.completedDays,
    ...job.emptyDays,
    ...job.pendingDays,
    ...job.failedDays.map((failure) => failure.day),
  ]);
  const unlisted = days.filter((day) => !listed.has(day));
  return unlisted.length === 0 ? job : { ...job, pendingDays: [...job.pendingDays, ...unlisted] };
}

/** The days left that none of `jobs` is still making. */
function unansweredDays(
  jobs: readonly ExportJobStatus[],
  remaining: ReadonlySet<string>,
): Set<string> {
  const made = new Set(jobs.flatMap((job) => job.pendingDays));
  return new Set([...remaining].filter((day) => !made.has(day)));
}

/**
 * The run has made as many jobs for the account as it may, and Twilio made none of these days
 * (each job gone, no longer answering for them, or failing them): Twilio's doing, not a bug.
 */
function notMade(
  accountSid: string,
  days: ReadonlySet<string>,
  created: number,
  failures: ReadonlyMap<string, { status: string; jobSid: string }>,
): UserError {
  const marked = [...days]
    .sort()
    .filter((day) => failures.has(day))
    .map((day) => `${day} ${failures.get(day)!.status} in ${failures.get(day)!.jobSid}`);
  const shown = marked.slice(0, FAILURES_NAMED);
  const more = marked.length > shown.length ? ` and ${marked.length - shown.length} more` : '';
  const reasons: string[] = [];
  if (marked.length > 0) {
    const which = marked.length === days.size ? 'them' : `${marked.length} of them`;
    reasons.push(`Twilio marking ${which} failed (the last time: ${shown.join(', ')}${more})`);
  }
  if (marked.length < days.size) {
    reasons.push(
      marked.length === 0
        ? 'each gone or no longer answering for them'
        : 'the jobs for the others gone or no longer answering for them',
    );
  }
  const why = reasons.join('; ');
  return new UserError(
    `Bulk Export did not make the files of ${accountSid} for ${describeDays(days)} after ${created} jobs, ${why}: those days are not read, and no coverage counts them as read. Run the same snapshot again to ask Twilio anew.`,
  );
}

/** The name a run's jobs are created with: how Twilio's list of jobs tells them. */
const jobName = (runId: number) => `submigrate snapshot ${runId}`;

/**
 * A job a resumed run asked Twilio for whose answer it never heard (stopped while the POST was
 * in flight): not recorded, but made all the same. Twilio's list of the account's jobs shows
 * it by the run's name; one that answers for every day no other job is making is taken up and
 * recorded, rather than a second job made for the same days. Only while the run is young
 * enough for such a job's files to be there (JOB_REUSE_MS): it was created after the run
 * began, and is recorded as created then. `known` are the jobs already recorded (and found not to answer). Another
 * database's run of the same number may have made a job of that name for the account: its
 * day files are the account's all the same, the ones this run would have asked for.
 */
async function unheardJob(
  accountSid: string,
  remaining: ReadonlySet<string>,
  known: readonly string[],
  context: ExportContext,
): Promise<ExportJobStatus | null> {
  const run = getRun(context.db, context.runId);
  if (run === undefined) return null;
  if (context.clock.now().getTime() - Date.parse(run.startedAt) >= JOB_REUSE_MS) return null;
  const name = jobName(context.runId);
  const found = (await context.twilio.listExportCustomJobs(accountSid)).find(
    (job) => job.friendlyName === name && !known.includes(job.jobSid) && covers(job, remaining),
  );
  if (found === undefined) return null;
  const days = [
    ...found.completedDays,
    ...found.emptyDays,
    ...found.pendingDays,
    ...found.failedDays.map((failure) => failure.day),
  ].sort();
  recordExportJob(
    context.db,
    context.runId,
    { accountSid, jobSid: found.jobSid, startDay: days[0]!, endDay: days.at(-1)! },
    run.startedAt,
  );
  return found;
}

/**
 * A job can take Twilio minutes or hours: the person watching is told what the run waits for,
 * and that stopping is safe.
 */
function waitingNotice(
  accountSid: string,
  status: ExportJobStatus,
  days: number,
  context: ExportContext,
): string {
  const eta =
    status.estimatedCompletion === null
      ? 'Twilio gives no estimate of when'
      : `Twilio expects it done by ${isoSeconds(status.estimatedCompletion)}`;
  return (
    `waiting for Twilio's Bulk Export job ${status.jobSid} to make ${days} day file(s) of ${accountSid}; ${eta}; ` +
    `the run waits until ${isoSeconds(new Date(context.waitLimit.until))} at most (--export-wait ${context.waitLimit.minutes} minutes). ` +
    `Stopping now is safe: ${TAKEN_UP}.`
  );
}

/** `12 day file(s) (2024-01-02 … 2024-01-13)`: how many, and from which to which. */
function describeDays(remaining: ReadonlySet<string>): string {
  const days = [...remaining].sort();
  return `${days.length} day file(s) (${days[0]} … ${days.at(-1)})`;
}

/** What running the snapshot again does with a job it stopped waiting for. */
const TAKEN_UP = 'the same snapshot run again within 6 days takes the job up where it is';

/**
 * The run waited as long as it was told to (`--export-wait`) and its jobs have not made every
 * file: it stops, the days it has not read not counted as read (the run is not completed).
 * Each job still making a day left is named (a day asked for again after it failed is in a
 * newer job than the others), with how many of them it makes when there are more than one.
 */
function waitedTooLong(
  accountSid: string,
  making: readonly ExportJobStatus[],
  remaining: ReadonlySet<string>,
  context: ExportContext,
): UserError {
  const jobs =
    making.length === 1
      ? `job ${making[0]!.jobSid} has`
      : `jobs ${making
          .map((job) => {
            const days = job.pendingDays.filter((day) => remaining.has(day)).length;
            return `${job.jobSid} (${days} of them)`;
          })
          .join(', ')} have`;
  return new UserError(
    `Twilio's Bulk Export ${jobs} not made ${describeDays(remaining)} of ${accountSid} after the snapshot waited ${context.waitLimit.minutes} minutes for its jobs (--export-wait): ` +
      `those days are not read, and no coverage counts them as read. What was read is kept: ${TAKEN_UP}; give a larger --export-wait to wait longer.`,
  );
}

/** Whether a job still answers for every day left (each in one of its states). */
function covers(status: ExportJobStatus, remaining: ReadonlySet<string>): boolean {
  const known = new Set([...status.completedDays, ...status.emptyDays, ...status.pendingDays]);
  return [...remaining].every((day) => known.has(day));
}

function recordEmptyDay(accountSid: string, day: string, context: ExportContext): void {
  recordExportDay(
    context.db,
    context.runId,
    { accountSid, day, hadFile: false, messagesRead: 0 },
    [],
  );
  context.progress.daysDone += 1;
  context.onProgress?.({ ...context.progress });
}

async function readDay(accountSid: string, day: string, context: ExportContext): Promise<void> {
  const types = await context.numberTypes;
  let lastError: unknown = null;
  for (let attempt = 1; attempt <= FILE_ATTEMPTS; attempt++) {
    const events: LedgerEvent[] = [];
    const sightings: ServiceSighting[] = [];
    // The windows as they stand now: a run that narrowed an API window reads its days after.
    const counted = countedFromExport(
      listWindows(context.db, context.runId).filter((w) => w.accountSid === accountSid),
    );
    let messages = 0;
    try {
      await context.twilio.readExportDay(accountSid, day, (message) => {
        // Every message of the file is evidence; the count is of those the API did not read.
        if (counted(message.dateSent)) messages += 1;
        const event = classifyMessage(message, types);
        if (event !== null) events.push(event);
        const sighting = serviceSighting(message);
        if (sighting !== null) sightings.push(sighting);
      });
      context.progress.eventsAdded += recordExportDay(
        context.db,
        context.runId,
        { accountSid, day, hadFile: true, messagesRead: messages },
        events,
        serviceMessages(accountSid, sightings),
      );
      context.progress.messagesRead += messages;
      context.progress.exportMessagesRead += messages;
      context.progress.daysDone += 1;
      context.onProgress?.({ ...context.progress });
      return;
    } catch (error) {
      lastError = error;
      // A Twilio refusal of the day itself (not found, no access) will not change by asking again.
      if (error instanceof TwilioError && !error.retryable) throw error;
    }
  }
  throw lastError;
}
