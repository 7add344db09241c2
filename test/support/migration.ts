/**
 * Shared pieces of the plan/apply integration tests: an emulator and a folder the CLI works
 * in; the end state a mapping asks for, held against the emulator's own state; and every
 * secret the emulator holds, to look for where none may be.
 */

import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { thisProcess } from '../../src/cli/runtime.js';
import { systemClock } from '../../src/clock.js';
import { withDb } from '../../src/db/open.js';
import { loadOwlie } from '../../src/emulator/scenarios/owlie.js';
import type { SeedDocument } from '../../src/emulator/seed.js';
import type { EmulatorOptions } from '../../src/emulator/server.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { Plan } from '../../src/plan/types.js';
import { ownClient, startTestEmulator, type TestEmulator } from './emulator.js';
import { applyInputOf } from './plan-builders.js';
import {
  cliEnv,
  MIGRATIONS_DIR,
  readOnly,
  ROOT,
  runCli,
  snapshotInto,
  tempDir,
  type CliResult,
  type TempDir,
} from './snapshot-harness.js';

export interface MappedCustomer {
  id: string;
  name: string;
  service: string | null;
  numbers: string[];
}

/** The customers of a mapping CSV's text. */
export function customersOf(mappingText: string): MappedCustomer[] {
  const rows = parse(mappingText, { columns: true, bom: true }) as Record<string, string>[];
  const customers = new Map<string, MappedCustomer>();
  for (const row of rows) {
    const id = row['customer_id']!;
    const customer = customers.get(id) ?? {
      id,
      name: row['customer_name']!,
      service: row['messaging_service'] || null,
      numbers: [],
    };
    customer.numbers.push(row['phone_number']!);
    customers.set(id, customer);
  }
  return [...customers.values()];
}

/**
 * The emulator's state is exactly what the mapping asks: one active subaccount per customer
 * (and no other), every number in its customer's subaccount and service, one service per
 * customer that wants one (and no other in its subaccount), no parent service holding a
 * moved number.
 */
export async function expectMigrated(
  env: TestEmulator,
  customers: readonly MappedCustomer[],
  otherSubaccounts = 0,
): Promise<void> {
  const state = await env.state();
  const subaccounts = state.accounts.filter((a) => a.sid !== state.parent_account_sid);
  expect(subaccounts).toHaveLength(customers.length + otherSubaccounts);
  const moved = new Set(customers.flatMap((c) => c.numbers));
  for (const customer of customers) {
    const named = subaccounts.filter((a) => a.friendly_name === customer.name);
    expect(named, customer.name).toHaveLength(1);
    const account = named[0]!;
    expect(account.status).toBe('active');
    expect(account.owner_account_sid).toBe(state.parent_account_sid);
    const services = state.services.filter((s) => s.account_sid === account.sid);
    expect(services.map((s) => s.friendly_name)).toEqual(
      customer.service === null ? [] : [customer.service],
    );
    for (const phone of customer.numbers) {
      const number = state.numbers.find((n) => n.phone_number === phone);
      expect(number?.account_sid, phone).toBe(account.sid);
      expect(number?.messaging_service_sid ?? null, phone).toBe(services[0]?.sid ?? null);
    }
  }
  for (const service of state.services.filter((s) => s.account_sid === state.parent_account_sid)) {
    const holding = state.numbers.filter(
      (n) => service.phone_numbers.includes(n.sid) && moved.has(n.phone_number),
    );
    expect(holding).toEqual([]);
  }
}

/** Every Auth Token the emulator holds: the parent's and each subaccount's. */
export function authTokens(env: TestEmulator): string[] {
  return [...env.emulator.state.accounts.values()].map((a) => a.authToken);
}

/** Every file under a folder, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** No secret appears in any of these texts or files (a database file is read as bytes). */
export function expectNoSecret(
  secrets: readonly string[],
  texts: Record<string, string>,
  files: readonly string[],
): void {
  expect(secrets.length).toBeGreaterThan(1);
  for (const secret of secrets) {
    for (const [what, text] of Object.entries(texts)) expect(text, what).not.toContain(secret);
    for (const file of files) {
      expect(readFileSync(file).includes(secret), file).toBe(false);
    }
  }
}

export const modeOf = (path: string) => statSync(path).mode & 0o777;

/** An inbound STOP, as `env.seed` takes a message: from the end user to the Twilio number. */
export const seededStop = (from: string, to: string, at: number, accountSid?: string) => ({
  from,
  to,
  body: 'STOP',
  direction: 'inbound' as const,
  date_sent: new Date(at).toISOString(),
  ...(accountSid === undefined ? {} : { account_sid: accountSid }),
});

/**
 * Each opt-out event of the ledger in `db` `copies` times more, from new recipients (`+1` and
 * ten digits from 3000000001 on, distinct for up to 1,000 copies of each), as a snapshot
 * records them: a very large suppression list.
 */
export function copyOptOuts(db: string, copies: number): void {
  const d = new Database(db);
  try {
    const columns = (d.prepare('PRAGMA table_info(ledger_events)').all() as { name: string }[]).map(
      (c) => c.name,
    );
    const copied = columns.map((c) =>
      c === 'message_sid'
        ? `'SM' || printf('%016x%016x', t.r, n)`
        : c === 'end_user'
          ? `'+1' || printf('%010d', 3000000000 + (t.i - 1) * 1000 + n)`
          : c,
    );
    d.prepare(
      `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?)
       INSERT INTO ledger_events (${columns.join(', ')})
       SELECT ${copied.join(', ')} FROM s
         JOIN (SELECT rowid AS r, ROW_NUMBER() OVER (ORDER BY rowid) AS i, *
               FROM ledger_events WHERE kind = 'opt-out') t`,
    ).run(copies);
  } finally {
    d.close();
  }
}

/** A CSV file's rows, by column name. */
export const readCsv = (path: string) =>
  parse(readFileSync(path, 'utf8'), { columns: true }) as Record<string, string>[];

/** `plan --mapping … --db … --out …` with `plan`'s extra flags, which must exit 0. */
export async function makePlan(
  cli: (args: string[]) => Promise<CliResult>,
  options: { mapping: string; db: string; out: string; plan?: string[] },
): Promise<CliResult> {
  const { mapping, db, out } = options;
  const planned = await cli([
    'plan',
    '--mapping',
    mapping,
    '--db',
    db,
    '--out',
    out,
    ...(options.plan ?? []),
  ]);
  expect(planned.code, planned.stderr).toBe(0);
  return planned;
}

/**
 * `plan --mapping MAPPING --out OUT` then `apply OUT` through the CLI (at a rate that does not
 * slow a test), each expected to succeed.
 */
export async function planAndApply(
  cli: (args: string[]) => Promise<CliResult>,
  options: { mapping: string; db: string; out: string; plan?: string[]; apply?: string[] },
): Promise<{ planned: CliResult; applied: CliResult }> {
  const { db, out } = options;
  const planned = await makePlan(cli, options);
  const applied = await cli(['apply', out, '--db', db, '--rate', '1000', ...(options.apply ?? [])]);
  expect(applied.code, applied.stderr).toBe(0);
  return { planned, applied };
}

/**
 * `snapshot --db DB` as the CLI runs it (the real clock, this process and host), in-process:
 * for a test whose subject is not the snapshot, a spawn of the CLI saved.
 */
export async function snapshotInProcess(env: TestEmulator, db: string): Promise<void> {
  await snapshotInto(db, env.port(), systemClock, {}, thisProcess);
}

/**
 * `plan --mapping MAPPING --db DB` as the CLI runs it (its refresh of the ledger, the auth
 * token), in-process: the plan, which no file is written for.
 */
export function planInProcess(
  env: TestEmulator,
  options: { mapping: string; db: string },
): Promise<Plan> {
  const mapping = parseMapping(options.mapping, readFileSync(options.mapping, 'utf8'));
  return withDb(inProcessLocation(options.db), async (db) => {
    const { plan } = await runPlan(
      { mapping, snapshot: true, credentials: 'auth-token' },
      { twilio: env.port(), db, clock: systemClock, runner: thisProcess },
    );
    return plan;
  });
}

/**
 * `snapshot`, `plan --mapping` and `apply` as the CLI runs them, in-process: for a test whose
 * subject comes after the migration, three spawns of the CLI were most of its time. The apply
 * must complete; no plan file or reports are written.
 */
export async function migrateInProcess(
  env: TestEmulator,
  options: { mapping: string; db: string },
): Promise<void> {
  await snapshotInProcess(env, options.db);
  const plan = await planInProcess(env, options);
  const applied = await withDb(inProcessLocation(options.db), (db) =>
    runApply(applyInputOf(plan), {
      twilio: env.port(),
      db,
      clock: systemClock,
      runner: thisProcess,
      sleep: (ms) => delay(ms),
    }),
  );
  expect(applied.failures).toEqual([]);
  expect(applied.status).toBe('completed');
}

const inProcessLocation = (path: string) => ({
  path,
  migrationsDir: MIGRATIONS_DIR,
  clock: systemClock,
});

/**
 * `apply PLAN --db DB --rate 1000 --concurrency 8` (and `extra`) through the CLI, as a whole
 * scenario is applied: it must exit 0 and write nothing on stderr.
 */
export async function applyCleanly(
  cli: (args: string[]) => Promise<CliResult>,
  plan: string,
  db: string,
  extra: readonly string[] = [],
): Promise<CliResult> {
  const applied = await cli([
    'apply',
    plan,
    '--db',
    db,
    '--rate',
    '1000',
    '--concurrency',
    '8',
    ...extra,
  ]);
  expect(applied.stderr).toBe('');
  expect(applied.code).toBe(0);
  return applied;
}

/**
 * Snapshot, plan and apply a mapping of one customer into `db`, each expected to succeed; the
 * SID of the subaccount it moved to.
 */
export async function migrateOneCustomer(
  cli: (args: string[]) => Promise<CliResult>,
  options: { mapping: string; db: string; out: string },
): Promise<string> {
  const snapshot = await cli(['snapshot', '--db', options.db]);
  expect(snapshot.code, snapshot.stderr).toBe(0);
  await planAndApply(cli, options);
  return readOnly(
    options.db,
    (d) =>
      d.prepare('SELECT subaccount_sid AS sid FROM customer_subaccounts').get() as { sid: string },
  ).sid;
}

/**
 * An apply journal as the database holds it (one run's, or every run's): its steps by state,
 * the steps still in flight, the steps of its `done` results and settlements (one entry each),
 * and the steps it settled after a crash.
 */
export function readJournal(db: string, run?: number) {
  const args = run === undefined ? [] : [run];
  const ofRun = run === undefined ? '' : ' AND run_id = ?';
  return readOnly(db, (d) => {
    const rows = d
      .prepare(`SELECT step_id, state FROM apply_steps WHERE 1${ofRun}`)
      .all(...args) as {
      step_id: string;
      state: string;
    }[];
    const states: Record<string, number> = {};
    for (const row of rows) states[row.state] = (states[row.state] ?? 0) + 1;
    const events = d
      .prepare(
        `SELECT step_id, kind, detail_json FROM apply_events WHERE kind IN ('result', 'settled')${ofRun}`,
      )
      .all(...args) as { step_id: string; kind: string; detail_json: string }[];
    return {
      states,
      inFlight: rows.filter((r) => r.state === 'in_flight').map((r) => r.step_id),
      doneEvents: events
        .filter((e) => (JSON.parse(e.detail_json) as { state: string }).state === 'done')
        .map((e) => e.step_id),
      settled: events.filter((e) => e.kind === 'settled').map((e) => e.step_id),
    };
  });
}

/** An emulator seeded so, a temporary folder, and the built CLI run in it against them. */
export interface CliWorkspace {
  readonly env: TestEmulator;
  readonly dir: TempDir;
  cli(args: string[]): Promise<CliResult>;
}

/**
 * A workspace for the tests of one `describe`: started (at business time `now`, or on the
 * real clock when none is given: messages sent later are dated later) and seeded before its
 * own `beforeAll` hooks run, closed and removed after its tests. `now` may be the emulator's
 * options whole instead: a clock the test moves, or a world `load`ed before it listens. With
 * no seed, nothing is seeded.
 */
export function useCliWorkspace(seed?: SeedDocument, now?: number | EmulatorOptions): CliWorkspace {
  return cliWorkspaceHooks(beforeAll, afterAll, seed, now);
}

/**
 * As useCliWorkspace, but a fresh workspace for each test of the `describe`: started and
 * seeded before its own `beforeEach` hooks run, closed and removed after the test. For tests
 * that each move numbers another test's plan would find moved, or seed a world of their own.
 */
export function useCliWorkspaceEach(
  seed?: SeedDocument,
  now?: number | EmulatorOptions,
): CliWorkspace {
  return cliWorkspaceHooks(beforeEach, afterEach, seed, now);
}

/** The workspace, set up and closed by this pair of hooks (all tests', or each test's). */
function cliWorkspaceHooks(
  before: typeof beforeAll,
  after: typeof afterAll,
  seed: SeedDocument | undefined,
  now: number | EmulatorOptions | undefined,
): CliWorkspace {
  let env: TestEmulator | undefined;
  let dir: TempDir | undefined;
  before(async () => {
    env = await startTestEmulator(emulatorOptions(now));
    if (seed !== undefined) await env.seed(seed);
    dir = tempDir();
  });
  after(async () => {
    // Forgotten once closed: a later test whose start fails must not close this one again.
    await env?.close();
    dir?.remove();
    env = undefined;
    dir = undefined;
  });
  return {
    get env() {
      return env!;
    },
    get dir() {
      return dir!;
    },
    cli: (args) => runCli(args, cliEnv(env!), dir!.path),
  };
}

/**
 * The Owlie scenario (seed 9, 5,000 messages) loaded into a workspace for one `describe`, the
 * hour `now` frozen: its mapping, the database and plan file the tests move it with, and a cli
 * that keeps every output, so that the describe's last test can look for tokens in them all.
 */
export function useOwlieWorkspace(now: number) {
  const ws = useCliWorkspace(undefined, {
    now: () => now,
    load: (state) => loadOwlie(state, { seed: 9, messages: 5_000, now }),
  });
  const outputs: CliResult[] = [];
  const db = () => ws.dir.file('owlie.db');
  const plan = () => ws.dir.file('owlie.plan.json');
  return {
    ws,
    MAPPING: join(ROOT, 'plans', 'owlie-customers.csv'),
    db,
    plan,
    cli: async (args: string[]) => {
      const result = await ws.cli(args);
      outputs.push(result);
      return result;
    },
    /** No Auth Token in any output so far, the database, the plan or run 1's reports. */
    expectNoTokenLeft: () =>
      expectNoSecret(
        authTokens(ws.env),
        Object.fromEntries(
          outputs.flatMap((o, i) => [
            [`stdout ${i}`, o.stdout],
            [`stderr ${i}`, o.stderr],
          ]),
        ),
        [db(), `${db()}-wal`, plan(), ...filesUnder(join(ws.dir.path, 'reports', '1'))].filter(
          (f) => existsSync(f),
        ),
      ),
  };
}

/**
 * A workspace for one `describe` one short of Twilio's 1,000-subaccount limit (999 open
 * subaccounts), frozen at `now`, and two parent numbers. `planAcmeAndBeta` maps the first to
 * acme and the second to beta, snapshots into m.db and plans to m.plan.json: applied one step
 * at a time, acme's subaccount is the 1,000th and beta's is refused (21480).
 */
export function useSubaccountLimit(numbers: readonly [string, string], now: number) {
  const ws = useCliWorkspace(
    {
      subaccounts: Array.from({ length: 999 }, (_, i) => ({ friendly_name: `filler ${i}` })),
      numbers: numbers.map((phone) => ({ phone_number: phone })),
    },
    now,
  );
  return {
    ws,
    async planAcmeAndBeta(): Promise<{ db: string; plan: string }> {
      const db = ws.dir.file('m.db');
      writeFileSync(
        ws.dir.file('m.csv'),
        `customer_id,customer_name,phone_number\nacme,Acme,${numbers[0]}\nbeta,Beta,${numbers[1]}\n`,
      );
      expect((await ws.cli(['snapshot', '--db', db])).code).toBe(0);
      const plan = ws.dir.file('m.plan.json');
      await makePlan(ws.cli, { mapping: ws.dir.file('m.csv'), db, out: plan });
      return { db, plan };
    },
  };
}

/** A business time stands for an emulator frozen at it. */
const emulatorOptions = (now: number | EmulatorOptions | undefined): EmulatorOptions =>
  typeof now === 'number' ? { now: () => now } : (now ?? {});

/**
 * The flow once in a workspace: `mapping` written to m.csv, a snapshot into `db`, then plan
 * (to m.plan.json) and apply, each expected to succeed.
 */
export async function migrateOnce(ws: CliWorkspace, db: string, mapping: string) {
  writeFileSync(ws.dir.file('m.csv'), mapping);
  const snapshot = await ws.cli(['snapshot', '--db', db]);
  expect(snapshot.code, snapshot.stderr).toBe(0);
  return planAndApply(ws.cli, {
    mapping: ws.dir.file('m.csv'),
    db,
    out: ws.dir.file('m.plan.json'),
  });
}

/**
 * `m.csv` mapping `numbers` to one customer (acme, "Acme"), the ledger filled into `a.db`,
 * and `a.plan.json` made from them, in the workspace's folder.
 */
export async function planOneCustomer(ws: CliWorkspace, numbers: readonly string[]): Promise<void> {
  writeFileSync(
    ws.dir.file('m.csv'),
    `customer_id,customer_name,phone_number\n${numbers.map((p) => `acme,Acme,${p}`).join('\n')}\n`,
  );
  expect((await ws.cli(['snapshot', '--db', 'a.db'])).code).toBe(0);
  await makePlan(ws.cli, { mapping: 'm.csv', db: 'a.db', out: 'a.plan.json' });
}

/**
 * By hand in the console: `phone` out of the parent's one Messaging Service (Shared), then into a
 * new subaccount, Acme, as no apply moved it: the subaccount.
 */
export async function moveOutOfSharedByHand(env: TestEmulator, phone: string) {
  const sub = await env.parent.api.v2010.accounts.create({ friendlyName: 'Acme' });
  const [number] = await env.parent.incomingPhoneNumbers.list({ phoneNumber: phone });
  const [shared] = await env.parent.messaging.v1.services.list();
  await env.parent.messaging.v1.services(shared!.sid).phoneNumbers(number!.sid).remove();
  await env.parent.incomingPhoneNumbers(number!.sid).update({ accountSid: sub.sid });
  return sub;
}

/**
 * acme (`from` alone) migrated once into `db` (`migrateOnce`), then, a second later, a text
 * from `from` to `to` in acme's subaccount (a violation when `to` is on its list), and a
 * second more: the subaccount's SID.
 */
export async function migrateAcmeThenText(ws: CliWorkspace, db: string, from: string, to: string) {
  await migrateOnce(ws, db, `customer_id,customer_name,phone_number\nacme,Acme,${from}\n`);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const state = await ws.env.state();
  const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
  await ownClient(ws.env, sub).messages.create({ to, from, body: 'Sale!' });
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  return sub;
}
