/**
 * What commands need from the outside world, assembled in one place: credentials from the
 * environment, the Twilio port on one shared http client (limiter + retry), the database
 * location, the clock and the identity of this process.
 */

import {
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  lstatSync,
  openSync,
} from 'node:fs';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

import { systemClock } from '../clock.js';
import { packageRoot } from '../package.js';
import { processRuns } from '../processes.js';
import {
  apiUrlWarning,
  readApiUrl,
  readCredentials,
  readProxyUrl,
  refuseHeaderPrintingDebug,
  type Credentials,
} from '../config.js';
import { UserError } from '../errors.js';
import { refuseForeignFile, requireFolder } from '../files.js';
import type { LockRunner } from '../db/journal.js';
import type { DbLocation } from '../db/open.js';
import type { TwilioHttpClient, TwilioHttpClientOptions } from '../twilio/http-client.js';
import { DEFAULT_LIMITS, type LimiterOptions } from '../twilio/limiter.js';
import type { TwilioPort } from '../twilio/port.js';
import type { CommandContext, GlobalOptions } from './context.js';

export { packageRoot } from '../package.js';

export function dbLocation(args: GlobalOptions, context: CommandContext): DbLocation {
  // A --db typed with no value is refused before the command runs; one left blank here came
  // from SUBMIGRATE_DB set to nothing (`export SUBMIGRATE_DB=$DB`, DB unset), which read as
  // the folder the command runs in and was refused as '--db <folder> is a folder', naming a
  // flag the user never gave.
  if (args.db.trim() === '') {
    throw new UserError(
      'SUBMIGRATE_DB is set but empty; nothing was read or written. Set it to the database file, give --db FILE, or unset it for ./submigrate.db.',
    );
  }
  return dbAt(resolve(context.cwd, args.db));
}

/**
 * What a command that reads an apply's journal says of a database that is not there: most
 * often the command was run from another folder than `plan` and `apply` were, or without the
 * --db they were given, so the way on is named first.
 */
export const NOTHING_APPLIED =
  'Nothing has been applied with it: name the database apply used with --db, or run `submigrate snapshot`, `submigrate plan` and `submigrate apply` first.';

/** A database file with this package's migrations and the system clock. */
export function dbAt(path: string): DbLocation {
  return { path, migrationsDir: join(packageRoot(), 'migrations'), clock: systemClock };
}

export interface TwilioAccess {
  port: TwilioPort;
  http: TwilioHttpClient;
  /** How the parent authenticates (never the secret itself). */
  credentialsKind: Credentials['kind'];
}

/**
 * The most requests in flight `--concurrency` may ask for. Twilio limits how many an account
 * has in flight and answers more with 429: a larger number buys refusals and retries, not
 * speed (and each request in flight holds a socket).
 */
export const MAX_CONCURRENCY = 64;

export function connectTwilio(
  args: GlobalOptions,
  context: CommandContext,
  limits: Partial<LimiterOptions> = {},
): Promise<TwilioAccess> {
  const env = context.env;
  // Before anything else: Node would print the first request's Authorization header.
  refuseHeaderPrintingDebug(env);
  const concurrency = limits.concurrency ?? DEFAULT_LIMITS.concurrency;
  const rate = limits.ratePerSecond ?? DEFAULT_LIMITS.ratePerSecond;
  requireWholeNumber('concurrency', concurrency, {
    min: 1,
    max: MAX_CONCURRENCY,
    why: 'Twilio limits the requests in flight per account and answers more with 429',
  });
  // `--rate Infinity` (or 1e999) would read as no cap: 0 says that, and is the only way to.
  if (!(rate >= 0) || !Number.isFinite(rate)) {
    throw new UserError(`--rate must be a finite number ≥ 0 (0 = no cap), got ${rate}`);
  }
  const consentRate = limits.consentPerMinute;
  if (consentRate !== undefined && (!(consentRate > 0) || !Number.isFinite(consentRate))) {
    throw new UserError(
      `--consent-rate must be a number of requests a minute > 0, got ${consentRate}`,
    );
  }
  const credentials = readCredentials(env);
  const apiUrl = readApiUrl(args['api-url'], env);
  const warning = apiUrlWarning(apiUrl);
  if (warning !== null) context.output.err(warning);
  return twilioAccess(credentials, {
    apiUrl,
    limits: { ...DEFAULT_LIMITS, ...limits },
    proxyUrl: readProxyUrl(env),
    ...traceTo(env['SUBMIGRATE_TRACE'], context),
  });
}

/** Whether a file begins as a trace: empty, or a line of `traceTo`'s. */
const isTraceText = (head: string): boolean => head === '' || head.startsWith('{"started_at":"');

/** Whether `path` is a symbolic link itself (to anything, or to nowhere). */
function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * `look` at the trace's path, or one line saying it cannot be made there (a folder the user may
 * not write into, a read-only disk, a name too long): thrown raw, it was an internal error.
 */
function examined<T>(file: string, look: () => T): T {
  try {
    return look();
  } catch (error) {
    throw new UserError(
      `SUBMIGRATE_TRACE ${file}: cannot make it (${(error as Error).message}); nothing was sent to Twilio. Name a file in a folder you may write into, or leave SUBMIGRATE_TRACE unset.`,
    );
  }
}

/** Appends, creating the file 0600: never through a link put at the path meanwhile. */
const TRACE_FLAGS =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/**
 * SUBMIGRATE_TRACE=FILE: one JSON line per request attempt (when it left, method, URL without
 * query, status, milliseconds) appended to FILE, created 0600. Never a header or a credential.
 */
function traceTo(
  path: string | undefined,
  context: CommandContext,
): Pick<TwilioHttpClientOptions, 'trace'> {
  if (path === undefined || path === '') return {};
  const file = resolve(context.cwd, path);
  requireFolder(file, 'SUBMIGRATE_TRACE');
  // A link (to an earlier trace elsewhere, or to where no file is yet) would have the lines
  // written, or a file created, where it leads: somewhere the user did not name.
  // Only a link: a folder or any other thing there is refused below as not a trace file.
  if (examined(file, () => isLink(file))) {
    throw new UserError(
      `SUBMIGRATE_TRACE ${file} is a link; refusing to write through it (nothing was written). Name the trace file itself.`,
    );
  }
  // Lines are appended to an earlier trace only: never to the database, a plan or notes.
  refuseForeignFile(file, 'SUBMIGRATE_TRACE', 'a trace file', isTraceText);
  // Made now, 0600 whatever the umask: one such as 0277 would make it 0400, a file the next
  // run takes for one made read-only and refuses.
  if (!existsSync(file)) {
    const fd = examined(file, () => openSync(file, TRACE_FLAGS, 0o600));
    try {
      fchmodSync(fd, 0o600);
    } finally {
      closeSync(fd);
    }
  }
  let stopped = false;
  return {
    trace: (attempt) => {
      if (stopped) return;
      try {
        const fd = openSync(file, TRACE_FLAGS, 0o600);
        try {
          appendFileSync(fd, `${JSON.stringify(attempt)}\n`);
        } finally {
          closeSync(fd);
        }
      } catch (error) {
        // The trace is for reading afterwards; the request it records was made, and its answer
        // is the command's. Thrown, the failed write read as the request's own (the network
        // blamed, an apply's write left in doubt): it is said once, and the command goes on.
        stopped = true;
        context.output.err(
          `warning: SUBMIGRATE_TRACE ${file}: cannot write it (${(error as Error).message}); it holds no request from here on. The command goes on.`,
        );
      }
    },
  };
}

/**
 * The port on one shared http client (limiter, retry), for given credentials. The twilio SDK
 * is loaded here, not with the CLI: it was about 60% of the start-up of every command (0.3 s
 * of 0.5 s), and status, report, optouts and --help send Twilio nothing.
 */
export async function twilioAccess(
  credentials: Credentials,
  options: TwilioHttpClientOptions,
): Promise<TwilioAccess> {
  const [{ TwilioHttpClient }, { createTwilioPort }] = await Promise.all([
    import('../twilio/http-client.js'),
    import('../twilio/adapter.js'),
  ]);
  const http = new TwilioHttpClient(options);
  return { port: createTwilioPort(credentials, http), http, credentialsKind: credentials.kind };
}

/**
 * This process as the apply lock names it: its pid and host, and a token of its own (random,
 * chosen as it starts), which alone tells its lock from that of another process with the same
 * pid and host (another container sharing the hostname, node pid 1 in each).
 */
export const thisProcess: LockRunner = {
  pid: process.pid,
  hostname: hostname(),
  token: randomUUID(),
  isAlive: processRuns,
};

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * `--since 2025-01-01` (00:00:00 UTC) or an ISO 8601 datetime with its offset (`Z` or
 * `+02:00`). Nothing else: `Date.parse` would roll 2025-02-30 over into March, read `1` as
 * the year 2001, and a datetime without an offset in the machine's own time zone — each a
 * window quietly starting somewhere else.
 */
export function parseInstant(flag: string, value: string | undefined): Date | null {
  if (value === undefined) return null;
  const refuse = (why: string) =>
    new UserError(
      `--${flag}: "${value}" ${why} (e.g. 2025-01-31, 2025-01-31T12:00:00Z or 2025-01-31T12:00:00+02:00)`,
    );
  const date = DATE.exec(value);
  const datetime = date === null ? DATETIME.exec(value) : null;
  const parts = date ?? datetime;
  if (parts === null) {
    throw refuse(
      /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(value)
        ? 'has no time zone offset: add Z for UTC, or the offset'
        : 'is not a date or an ISO 8601 datetime',
    );
  }
  const [, year, month, day, hour, minute, second, offsetHours, offsetMinutes] = parts;
  const n = (text: string | undefined) => Number(text ?? 0);
  const calendar = new Date(Date.UTC(n(year), n(month) - 1, n(day)));
  const valid =
    calendar.getUTCFullYear() === n(year) &&
    calendar.getUTCMonth() === n(month) - 1 &&
    calendar.getUTCDate() === n(day) &&
    n(hour) < 24 &&
    n(minute) < 60 &&
    n(second) < 60 &&
    n(offsetHours) < 24 &&
    n(offsetMinutes) < 60;
  if (!valid) throw refuse('is not a date on the calendar, or not a time of day');
  return new Date(Date.parse(date === null ? value : `${value}T00:00:00Z`));
}

/**
 * `--run ID` of status, report and routes: a run id as `submigrate status` lists them, or one
 * line naming what was typed (yargs' own number type turns `--run abc` into NaN, `--run ''`
 * into 0). Given twice, it is left to the refusal of repeated flags.
 */
export function runOption(describe: string) {
  return {
    type: 'string' as const,
    describe,
    coerce: (text: string | string[]): number => {
      // Handed on as given: the refusal of repeated flags names it before any command runs.
      if (Array.isArray(text)) return text as unknown as number;
      if (!/^[1-9][0-9]{0,14}$/.test(text.trim())) {
        throw new UserError(
          `--run ${JSON.stringify(text)}: not a run id (a whole number, as \`submigrate status\` lists them)`,
        );
      }
      return Number(text);
    },
  };
}

/** A flag's number, or one line saying what it must be (`why`: Twilio's reason, if any). */
export function requireWholeNumber(
  flag: string,
  value: number,
  range: { min?: number; max?: number; why?: string } = {},
): void {
  const { min = -Infinity, max = Infinity, why } = range;
  if (Number.isInteger(value) && value >= min && value <= max) return;
  const bounds =
    range.min === undefined || range.max === undefined
      ? 'a whole number'
      : `a whole number from ${min} to ${max.toLocaleString('en-US')}`;
  throw new UserError(`--${flag} must be ${bounds}${why ? ` (${why})` : ''}, got ${value}`);
}
