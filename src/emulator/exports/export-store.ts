/**
 * Bulk Export jobs and the day files they leave, per account. A job completes
 * `export_job_seconds` after it was created, on the emulator clock; completion is worked out
 * lazily whenever an export route or the storage is asked (`settle`), so nothing runs in the
 * background and a test's injected clock decides everything.
 *
 * Decisions where Twilio says nothing:
 * - a day of the range without messages completes as `CompletedEmptyRecords` and leaves no
 *   file: it is not in the Days list, and fetching it is 404;
 * - a file lives 7 days after the job that made it completed (Twilio removes day files after
 *   7 days); a later job over the same day makes it anew;
 * - a file holds the day's messages as the store has them when it is read (history of a day at
 *   least two days old does not change, except by seeding);
 * - deleting a job removes it (fetch is then 404); files it already made stay, and a job
 *   deleted before completing makes none;
 * - a day made to fail (`POST /__emulator/export-failures`) is given to the next job(s) whose
 *   range holds it, as they are created: such a job runs as any other, and at completion shows
 *   the day in the failure's status (`Failed`, `ErrorDuringRun`, `RunningToBeDeleted` or
 *   `DeletedByUserRequest`) and makes no file for it. A file an earlier job made stays.
 */

import { DAY_MS, dayOf, parseDay } from './day-files.js';

export const FILE_LIFETIME_MS = 7 * DAY_MS;

/** The statuses Twilio gives a day that will not complete in its job. */
export const FAILED_STATUSES = [
  'Failed',
  'ErrorDuringRun',
  'RunningToBeDeleted',
  'DeletedByUserRequest',
] as const;
export type FailedStatus = (typeof FAILED_STATUSES)[number];

export type DayStatus =
  'Submitted' | 'Running' | 'Completed' | 'CompletedEmptyRecords' | FailedStatus;

/** A day set to fail in the account's next job(s) that hold it. */
export interface DayFailure {
  accountSid: string;
  day: string;
  status: FailedStatus;
  /** How many more jobs it fails in; null: every one. */
  jobsLeft: number | null;
}

export interface ExportJob {
  sid: string;
  accountSid: string;
  friendlyName: string;
  startDay: string;
  endDay: string;
  webhookUrl: string | null;
  webhookMethod: string | null;
  email: string | null;
  createdAt: number;
  completesAt: number;
  /** Every day of the range, oldest first. */
  days: string[];
  /** Filled at completion: the days that had no messages. */
  emptyDays: Set<string> | null;
  /** Days that fail in this job (no file), with the status they show once it completes. */
  failedDays: Map<string, FailedStatus>;
}

export interface DayFile {
  day: string;
  /** When the job that made it completed. */
  createdAt: number;
  /** The FriendlyName of that job. */
  friendlyName: string;
}

export type NewExportJob = Omit<ExportJob, 'days' | 'emptyDays' | 'failedDays'>;

/** Every `YYYY-MM-DD` from start to end, inclusive. */
function daysBetween(startDay: string, endDay: string): string[] {
  const days: string[] = [];
  const end = parseDay(endDay)!;
  for (let ms = parseDay(startDay)!; ms <= end; ms += DAY_MS) days.push(dayOf(ms));
  return days;
}

export class ExportStore {
  /** By SID, in creation order. */
  private readonly jobs = new Map<string, ExportJob>();
  /** Account → day → file. */
  private readonly files = new Map<string, Map<string, DayFile>>();
  /** `account|day` → the size of its file, for the message count it was measured at. */
  private readonly sizes = new Map<string, { messages: number; bytes: number }>();
  /** `account|day` → the failure the next job(s) holding the day are given. */
  private readonly failures = new Map<string, DayFailure>();

  createJob(init: NewExportJob): ExportJob {
    const job: ExportJob = {
      ...init,
      days: daysBetween(init.startDay, init.endDay),
      emptyDays: null,
      failedDays: new Map(),
    };
    for (const day of job.days) {
      const key = `${job.accountSid}|${day}`;
      const failure = this.failures.get(key);
      if (failure === undefined) continue;
      job.failedDays.set(day, failure.status);
      if (failure.jobsLeft === null) continue;
      failure.jobsLeft -= 1;
      if (failure.jobsLeft === 0) this.failures.delete(key);
    }
    this.jobs.set(job.sid, job);
    return job;
  }

  /** Sets a day to fail in the account's next `jobs` jobs holding it (null: every one). */
  failDay(failure: DayFailure): void {
    this.failures.set(`${failure.accountSid}|${failure.day}`, { ...failure });
  }

  /** The days still set to fail, by account and day. */
  dayFailures(): DayFailure[] {
    return [...this.failures.values()]
      .map((failure) => ({ ...failure }))
      .sort((a, b) =>
        a.accountSid !== b.accountSid
          ? a.accountSid < b.accountSid
            ? -1
            : 1
          : a.day < b.day
            ? -1
            : a.day > b.day
              ? 1
              : 0,
      );
  }

  clearDayFailures(): void {
    this.failures.clear();
  }

  job(sid: string): ExportJob | undefined {
    return this.jobs.get(sid);
  }

  jobsOf(accountSid: string): ExportJob[] {
    return [...this.jobs.values()].filter((job) => job.accountSid === accountSid);
  }

  deleteJob(job: ExportJob): void {
    this.jobs.delete(job.sid);
  }

  /** Completes every job whose time has come; `messagesOn` counts an account's day. */
  settle(now: number, messagesOn: (accountSid: string, day: string) => number): void {
    for (const job of this.jobs.values()) {
      if (job.emptyDays !== null || job.completesAt > now) continue;
      job.emptyDays = new Set();
      let files = this.files.get(job.accountSid);
      if (files === undefined) this.files.set(job.accountSid, (files = new Map()));
      for (const day of job.days) {
        if (job.failedDays.has(day)) continue;
        if (messagesOn(job.accountSid, day) === 0) job.emptyDays.add(day);
        else files.set(day, { day, createdAt: job.completesAt, friendlyName: job.friendlyName });
      }
    }
  }

  /** The account's day files still kept at `now`, oldest day first. */
  filesOf(accountSid: string, now: number): DayFile[] {
    return [...(this.files.get(accountSid)?.values() ?? [])]
      .filter((file) => file.createdAt + FILE_LIFETIME_MS > now)
      .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  }

  file(accountSid: string, day: string, now: number): DayFile | undefined {
    const file = this.files.get(accountSid)?.get(day);
    return file !== undefined && file.createdAt + FILE_LIFETIME_MS > now ? file : undefined;
  }

  /** A remembered file size, if the day still holds as many messages as when measured. */
  knownSize(accountSid: string, day: string, messages: number): number | undefined {
    const known = this.sizes.get(`${accountSid}|${day}`);
    return known?.messages === messages ? known.bytes : undefined;
  }

  rememberSize(accountSid: string, day: string, messages: number, bytes: number): void {
    this.sizes.set(`${accountSid}|${day}`, { messages, bytes });
  }

  clear(): void {
    this.jobs.clear();
    this.files.clear();
    this.sizes.clear();
    this.failures.clear();
  }
}

/** Each day's status at `now`. */
export function dayStatuses(job: ExportJob, now: number): Map<DayStatus, string[]> {
  const statuses = new Map<DayStatus, string[]>();
  const add = (status: DayStatus, day: string) => {
    const days = statuses.get(status);
    if (days === undefined) statuses.set(status, [day]);
    else days.push(day);
  };
  for (const day of job.days) {
    const failed = job.failedDays.get(day);
    if (job.emptyDays !== null && failed !== undefined) add(failed, day);
    else if (job.emptyDays !== null)
      add(job.emptyDays.has(day) ? 'CompletedEmptyRecords' : 'Completed', day);
    else add(now <= job.createdAt ? 'Submitted' : 'Running', day);
  }
  return statuses;
}
