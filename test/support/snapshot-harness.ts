/**
 * Shared pieces of the snapshot integration and CLI tests: a temp directory per test file, a
 * snapshot into a real SQLite file, read-only views of that file (ledger, numbers, slices),
 * pair keys and request counts to hold against the emulator (whose control plane
 * ./emulator.js reads), an independent oracle of the opt-out state computed from raw message
 * history, and a runner for the built CLI.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';

import type { Clock } from '../../src/clock.js';
import { withDb, type Db } from '../../src/db/open.js';
import type { RequestLogEntry } from '../../src/emulator/control.js';
import type { MessageRecord } from '../../src/emulator/message-store.js';
import type { SeedDocument } from '../../src/emulator/seed.js';
import type { OptOutExportRow } from '../../src/optouts/export.js';
import {
  DEFAULT_PARTITIONS,
  takeSnapshot,
  type SnapshotDeps,
  type SnapshotInput,
  type SnapshotResult,
} from '../../src/optouts/snapshot.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import type { TestEmulator } from './emulator.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
export const BIN = join(ROOT, 'bin', 'submigrate.js');

// ── files and clocks ────────────────────────────────────────────────────────────────────────

export interface TempDir {
  path: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(prefix = 'submigrate-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

export const fixedClock = (ms: number): Clock => ({ now: () => new Date(ms) });

/** This process as the snapshot's runner; nobody else is alive on the host "vitest". */
export const TEST_RUNNER = {
  pid: process.pid,
  hostname: 'vitest',
  token: 'vitest-runner',
  isAlive: () => false,
};

// ── snapshot and ledger ─────────────────────────────────────────────────────────────────────

/**
 * `takeSnapshot` into a real SQLite file, as the CLI does it but with an injected clock; as
 * `runner` (default `TEST_RUNNER`, on the host "vitest": a run another host recorded running
 * is refused unless `takeOverRun`).
 */
export function snapshotInto(
  dbPath: string,
  twilio: TwilioPort,
  clock: Clock,
  input: Partial<SnapshotInput> = {},
  runner: SnapshotDeps['runner'] = TEST_RUNNER,
): Promise<SnapshotResult> {
  return withDb({ path: dbPath, migrationsDir: MIGRATIONS_DIR, clock }, (db) =>
    takeSnapshot(
      { accounts: [], since: null, until: null, partitions: DEFAULT_PARTITIONS, ...input },
      { twilio, db, clock, runner },
    ),
  );
}

/** Opens the database through the tool's own `withDb` (migrations already applied). */
export function withLedger<T>(dbPath: string, fn: (db: Db) => T): Promise<T> {
  return withDb({ path: dbPath, migrationsDir: MIGRATIONS_DIR, clock: fixedClock(0) }, fn);
}

/** Opens the file read-only (another process may be writing it); closes it after `fn`. */
export function readOnly<T>(dbPath: string, fn: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return fn(db);
  } finally {
    db.close();
  }
}

type Row = Record<string, unknown>;

function without(rows: Row[], columns: readonly string[]): Row[] {
  return rows.map((row) =>
    Object.fromEntries(Object.entries(row).filter(([key]) => !columns.includes(key))),
  );
}

/**
 * The ledger as evidence: every column of `ledger_events` but `run_id` (whichever run found
 * it), and the numbers table without `run_id` and, unless asked, `observed_at` (the wall clock
 * of a CLI run). `SELECT *` on purpose: a column added later is compared too.
 */
export function ledgerDump(dbPath: string, options: { observedAt?: boolean } = {}) {
  return readOnly(dbPath, (db) => ({
    events: without(db.prepare('SELECT * FROM ledger_events ORDER BY message_sid').all() as Row[], [
      'run_id',
    ]),
    numbers: without(
      db.prepare('SELECT * FROM numbers ORDER BY number_sid').all() as Row[],
      options.observedAt === true ? ['run_id'] : ['run_id', 'observed_at'],
    ),
  }));
}

export interface SliceProgress {
  runs: { id: number; status: string; pid: number }[];
  slices: { status: string; pages_read: number; messages_read: number }[];
}

/** Runs and slices as they stand, or null while the file or its tables do not exist yet. */
export function sliceProgress(dbPath: string): SliceProgress | null {
  try {
    return readOnly(dbPath, (db) => ({
      runs: db.prepare('SELECT id, status, pid FROM snapshot_runs ORDER BY id').all() as never,
      slices: db
        .prepare(
          'SELECT status, pages_read, messages_read FROM snapshot_slices ORDER BY run_id, account_sid, slice_index',
        )
        .all() as never,
    }));
  } catch {
    return null;
  }
}

// ── the emulator's side ─────────────────────────────────────────────────────────────────────

/**
 * One outbound message a day from `from` (no keyword: traffic, so that the Messages API shows
 * records), for `days` days starting at `startMs`, each at midday.
 */
export const dailyTraffic = (from: string, startMs: number, days: number) =>
  Array.from({ length: days }, (_, i) => ({
    from,
    to: '+16505559999',
    body: 'promo',
    direction: 'outbound-api' as const,
    date_sent: new Date(startMs + (i + 0.5) * 86_400_000).toISOString(),
  }));

/** The pair an opt-out belongs to: account + (service, else number) + end user. */
export const pairKey = (p: {
  account_sid: string;
  messaging_service_sid: string | null;
  sender_number: string | null;
  recipient: string | null;
}) => `${p.account_sid}|${p.messaging_service_sid ?? p.sender_number}|${p.recipient}`;

/** `pairKey` of a row of our export, where every column may be null. */
export const exportPairKey = (row: OptOutExportRow) =>
  pairKey({ ...row, account_sid: row.account_sid ?? '' });

export interface MessageRequestCounts {
  /** Single-message pages: the binary search for the oldest message. */
  probes: number;
  /** The first page of a slice. */
  firstPages: number;
  /** Pages reached through next_page_uri. */
  nextPages: number;
  total: number;
  /** Every other Twilio request (numbers, services, accounts). */
  other: number;
}

/** Message-list GETs in the request log, by what they were for. */
export function countMessageRequests(log: readonly RequestLogEntry[]): MessageRequestCounts {
  const counts = { probes: 0, firstPages: 0, nextPages: 0, total: 0, other: 0 };
  for (const entry of log) {
    if (entry.method !== 'GET' || !entry.path.endsWith('/Messages.json')) {
      counts.other += 1;
      continue;
    }
    counts.total += 1;
    const query = new URLSearchParams(entry.query);
    if (query.has('PageToken')) counts.nextPages += 1;
    else if (query.get('PageSize') === '1') counts.probes += 1;
    else counts.firstPages += 1;
  }
  return counts;
}

/** Every message an account holds in the emulator, oldest first. */
export function historyOf(env: TestEmulator, accountSid: string): MessageRecord[] {
  return env.emulator.state.messages
    .page(accountSid, {}, { kind: 'first' }, Number.MAX_SAFE_INTEGER)
    .items.slice()
    .sort((a, b) => a.dateSent - b.dateSent || a.seq - b.seq);
}

// ── an independent oracle ───────────────────────────────────────────────────────────────────

const OPT_OUT = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
]);
const OPT_IN = new Set(['START', 'YES', 'UNSTOP']);
const HELP = new Set(['HELP', 'INFO']);

/** docs/opt-out-rules.md, written out a third time (after src/optouts and the emulator) for tests. */
export function keywordKind(body: string, tollFree: boolean): 'opt-out' | 'opt-in' | 'help' | null {
  const word = body.trim().toUpperCase();
  if (OPT_OUT.has(word)) return 'opt-out';
  if (OPT_IN.has(word)) return word === 'YES' && tollFree ? null : 'opt-in';
  if (HELP.has(word)) return 'help';
  return null;
}

/** Whether the message is evidence the ledger must hold: a keyword, or a 21610 refusal. */
export function isEvidence(m: MessageRecord, tollFree: (phone: string) => boolean): boolean {
  if (m.direction === 'inbound') return keywordKind(m.body, tollFree(m.to)) !== null;
  return m.errorCode === 21610;
}

/**
 * Pair → the evidence that it is opted out, for every pair whose latest observation (by
 * date_sent) is an opt-out keyword or a send refused with 21610: the latest STOP since the
 * pair's last opt-in, else the first refusal since then. A refusal's pair is the service the
 * send went through, else its sending number. Observations of one pair in one second have no
 * defined order, except a STOP and a refusal (the STOP is the evidence either way): the oracle
 * refuses such a history rather than guess.
 */
export function optedOutFromHistory(
  messages: readonly MessageRecord[],
  tollFree: (phone: string) => boolean,
): Map<string, MessageRecord> {
  type Kind = 'opt-out' | 'opt-in' | 'refused';
  const state = new Map<
    string,
    { evidence: MessageRecord | null; last: MessageRecord; kind: Kind }
  >();
  for (const m of [...messages].sort((a, b) => a.dateSent - b.dateSent || a.seq - b.seq)) {
    let kind: Kind;
    let key: string;
    if (m.direction === 'inbound') {
      const k = keywordKind(m.body, tollFree(m.to));
      if (k !== 'opt-out' && k !== 'opt-in') continue;
      kind = k;
      key = pairKey({
        account_sid: m.accountSid,
        messaging_service_sid: m.messagingServiceSid,
        sender_number: m.to,
        recipient: m.from,
      });
    } else {
      if (m.errorCode !== 21610) continue;
      kind = 'refused';
      key = pairKey({
        account_sid: m.accountSid,
        messaging_service_sid: m.messagingServiceSid,
        sender_number: m.from,
        recipient: m.to,
      });
    }
    const current = state.get(key);
    if (current !== undefined && current.last.dateSent === m.dateSent) {
      const kinds = new Set([current.kind, kind]);
      if (!(kinds.size === 2 && kinds.has('opt-out') && kinds.has('refused'))) {
        throw new Error(
          `two observations of ${key} in the same second: the test data is ambiguous`,
        );
      }
    }
    const evidence = kind === 'opt-in' ? null : kind === 'opt-out' ? m : (current?.evidence ?? m); // a STOP stands; else the first refusal since the opt-in
    state.set(key, { evidence, last: m, kind });
  }
  return new Map(
    [...state]
      .filter(
        (entry): entry is [string, { evidence: MessageRecord; last: MessageRecord; kind: Kind }] =>
          entry[1].evidence !== null,
      )
      .map(([key, s]) => [key, s.evidence]),
  );
}

// ── the built CLI ───────────────────────────────────────────────────────────────────────────

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/**
 * The environment a CLI run sees: PATH and what is given, nothing inherited (no stray
 * TWILIO_* or SUBMIGRATE_DB from the developer's shell). `undefined` leaves a key out.
 */
export function cliEnv(
  env: TestEmulator,
  extra: Record<string, string | undefined> = {},
): Record<string, string> {
  const all: Record<string, string | undefined> = {
    PATH: process.env['PATH'],
    SUBMIGRATE_API_URL: env.url,
    TWILIO_ACCOUNT_SID: env.parentSid,
    TWILIO_AUTH_TOKEN: env.parentToken,
    ...extra,
  };
  return Object.fromEntries(
    Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/**
 * Starts `node bin/submigrate.js ARGS` (stdin closed, stdout and stderr piped: not a TTY), in
 * the repository root unless told otherwise (apply writes `reports/` under its cwd).
 * `ownSession`: in a session of its own (setsid), so that a hangup of the terminal or process
 * group the tests run in (SIGHUP, which ends submigrate at once, as a closed terminal does)
 * does not reach it: only the test ends it.
 */
export function startCli(
  args: readonly string[],
  env: Record<string, string>,
  cwd: string = ROOT,
  ownSession = false,
): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env,
    detached: ownSession,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, done: outcome(child) };
}

/** What the process printed, and how it ended. */
function outcome(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export const runCli = (args: readonly string[], env: Record<string, string>, cwd?: string) =>
  startCli(args, env, cwd).done;

/**
 * The built CLI, in `cwd`, with no file it writes allowed past `limitKib` KiB (`ulimit -f`,
 * which Node answers with EFBIG rather than being killed): a disk that fills, without root.
 */
export function runCliLimited(
  limitKib: number,
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
): Promise<CliResult> {
  const child = spawn(
    'sh',
    ['-c', `ulimit -f ${limitKib} && exec "$0" "$@"`, process.execPath, BIN, ...args],
    { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return outcome(child);
}

// ── waiting ─────────────────────────────────────────────────────────────────────────────────

/**
 * Calls `probe` until it returns something other than undefined. The timeout is a generous
 * guard against a hang, not a measurement.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 45_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
}

// ── stopping a run at an exact request ─────────────────────────────────────────────────────

/**
 * Starts the built CLI (`args`, in `cwd`) with the emulator holding every request of
 * `hold.methods` after the first `hold.after`, and answers it once one is held: a run part way,
 * at a known request. The hold stays until `releaseHeld`. A run that ends before, or a wait that
 * fails, is killed, the hold lifted, and the error says so (with what the run printed to stderr).
 */
export async function startCliHeld(
  env: TestEmulator,
  args: readonly string[],
  cwd: string,
  hold: { after: number; methods: readonly string[] },
): Promise<RunningCli> {
  await env.control('POST', '/__emulator/faults', {
    hold_after: hold.after,
    hold_methods: hold.methods,
  });
  const run = startCli(args, cliEnv(env), cwd);
  try {
    await pollUntil(`${args[0]}'s request after the ${hold.after}th to be held`, async () => {
      if (run.child.exitCode !== null) {
        const early = await run.done;
        throw new Error(`${args[0]} ended before a request was held: ${early.stderr}`);
      }
      const health = await env.control<{ held_requests: number }>('GET', '/__emulator/health');
      return health.held_requests > 0 ? true : undefined;
    });
  } catch (error) {
    run.child.kill('SIGKILL');
    await env.control('POST', '/__emulator/faults', { hold_after: 0, hold_methods: [] });
    throw error;
  }
  return run;
}

/**
 * Starts `apply PLAN --db DB` (one request at a time, no rate cap) with the emulator holding
 * every write (`methods`) after the first `holdAfter`, and answers it once a write is held.
 */
export function startApplyHeldAtWrite(
  env: TestEmulator,
  cwd: string,
  plan: string,
  db: string,
  holdAfter: number,
  methods: readonly string[] = ['POST', 'DELETE'],
): Promise<RunningCli> {
  const args = ['apply', plan, '--db', db, '--rate', '1000', '--concurrency', '1'];
  return startCliHeld(env, args, cwd, { after: holdAfter, methods });
}

/**
 * Runs `apply PLAN --db DB` one write at a time; the emulator lets `holdAfter` writes (of
 * `methods`) through and holds the next; the process is killed there. Returns how it ended
 * (a test asserts the SIGKILL) and its pid. The hold stays until `releaseHeld`.
 */
export async function killApplyAtHeldWrite(
  env: TestEmulator,
  cwd: string,
  plan: string,
  db: string,
  holdAfter: number,
  methods: readonly string[] = ['POST', 'DELETE'],
): Promise<CliResult & { pid: number }> {
  const run = await startApplyHeldAtWrite(env, cwd, plan, db, holdAfter, methods);
  run.child.kill('SIGKILL');
  return { ...(await run.done), pid: run.child.pid! };
}

/** Lifts the hold and waits until the held writes reached the emulator's state. */
export async function releaseHeld(env: TestEmulator): Promise<void> {
  await env.control('POST', '/__emulator/faults', { hold_after: 0, hold_methods: [] });
  await pollUntil('the held writes to be processed', async () => {
    const health = await env.control<{ held_requests: number }>('GET', '/__emulator/health');
    return health.held_requests === 0 ? true : undefined;
  });
}

/** The subaccount of `oldStopInSubaccount`, and its two numbers: N1 in the parent, N2 in it. */
export const LONE_SUB = `AC${'5'.repeat(32)}`;
export const LONE_N1 = '+14155550001';
export const LONE_N2 = '+14155550002';

/**
 * One subaccount (Acme, `LONE_SUB`) holding `LONE_N2`, to which +12065550002 said STOP 50 days
 * before `now`; `LONE_N1` stays in the parent: what a snapshot of the subaccount alone reads.
 */
export const oldStopInSubaccount = (now: number): SeedDocument => ({
  subaccounts: [{ friendly_name: 'Acme', sid: LONE_SUB }],
  numbers: [{ phone_number: LONE_N1 }, { phone_number: LONE_N2, account_sid: LONE_SUB }],
  messages: [
    {
      from: '+12065550002',
      to: LONE_N2,
      body: 'STOP',
      direction: 'inbound',
      date_sent: new Date(now - 50 * 86_400_000).toISOString(),
    },
  ],
});
