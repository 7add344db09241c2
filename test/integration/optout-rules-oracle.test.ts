/**
 * The opt-out rules held against a second, independent oracle, on histories made to hit their
 * hard cases: keyword forms (case, surrounding whitespace, full-width and other compatibility
 * forms, letters that upper-case onto a keyword, a keyword with more words or punctuation),
 * every keyword of each list, STOP and START in one second, a refusal (21610) as the only
 * evidence (one Twilio recorded without a sender among them), service scope against number
 * scope, a number that moved from the parent's service to a subaccount's, a short code and an
 * alphanumeric sender, evidence on the seconds where the reading is cut (the API window's
 * start, its slices') and amid crowds of more than a page in a few seconds, and history older
 * than the Messages API's 400 days (read from Bulk Export, or shown as not read without it).
 *
 * The oracle is written here from docs/opt-out-rules.md alone and shares no code with
 * src/optouts, src/db or the emulator (nor with test/support/ledger-fuzz.ts's oracle). The
 * real path: the history seeded into the emulator, `takeSnapshot` over HTTP through the real
 * SDK into a real SQLite file, and `exportOptOuts`, compared pair by pair with the oracle.
 *
 * Deterministic by default (fixed seeds); other seeds: `ORACLE_SEEDS=1-200 npx vitest run
 * test/integration/optout-rules-oracle.test.ts`. A failure names its seed.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exportOptOuts, type OptOutExport } from '../../src/optouts/export.js';
import type { SeedDocument } from '../../src/emulator/seed.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { prng, seedsFromEnv } from '../support/prng.js';
import {
  fixedClock,
  snapshotInto,
  tempDir,
  withLedger,
  type TempDir,
} from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
/** The parent (and so every account) was created 600 days back: history older than 400 days. */
const CREATED = NOW - 600 * DAY;
/** Messages API's default window (docs: "about the last 400 days"). */
const API_DAYS = 400;

const SEEDS = seedsFromEnv('ORACLE_SEEDS') ?? [1, 2, 3, 4, 5, 6, 7, 8];

// ── the oracle's keyword rules (docs/opt-out-rules.md, "What counts as a keyword") ───────────

const OPT_OUT = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'];
const OPT_IN = ['START', 'YES', 'UNSTOP'];
const HELP = ['HELP', 'INFO'];

type Kind = 'opt-out' | 'opt-in' | 'help';

/**
 * The whole body, surrounding white space off, compared without case. Plain ASCII letters are
 * read as typed. Any other body is ambiguous: it counts only as an opt-out, and only when its
 * letters upper-case, or fold by NFKC, onto an opt-out keyword. YES to a toll-free number is no
 * opt-in.
 */
function oracleKeyword(body: string, tollFree: boolean): { kind: Kind; keyword: string } | null {
  const word = body.replace(/^\s+/u, '').replace(/\s+$/u, '');
  if (/^[a-zA-Z]+$/.test(word)) {
    let upper = '';
    for (const c of word)
      upper += c >= 'a' && c <= 'z' ? String.fromCharCode(c.charCodeAt(0) - 32) : c;
    if (OPT_OUT.includes(upper)) return { kind: 'opt-out', keyword: upper };
    if (OPT_IN.includes(upper)) {
      return upper === 'YES' && tollFree ? null : { kind: 'opt-in', keyword: upper };
    }
    if (HELP.includes(upper)) return { kind: 'help', keyword: upper };
    return null;
  }
  for (const candidate of [word.toUpperCase(), word.normalize('NFKC').toUpperCase()]) {
    if (OPT_OUT.includes(candidate)) return { kind: 'opt-out', keyword: candidate };
  }
  return null;
}

const isTollFree = (phone: string, type: string | undefined) =>
  type === 'toll-free' || /^\+18(00|33|44|55|66|77|88)\d{7}$/.test(phone);

// ── the oracle's state of a pair (docs/opt-out-rules.md, "State of a pair") ─────────────────

interface Msg {
  sid: string;
  account: string;
  from: string;
  to: string;
  body: string;
  direction: 'inbound' | 'outbound-api';
  errorCode: number | null;
  service: string | null;
  /** Whole seconds, ms. */
  at: number;
}

interface Expected {
  account_sid: string;
  scope: 'number' | 'service';
  messaging_service_sid: string | null;
  recipient: string;
  sender_number: string;
  evidence: 'keyword' | 'refusal';
  keyword: string | null;
  body: string | null;
  opted_out_at: string;
  stop_message_sid: string | null;
  evidence_message_sid: string;
}

const isoSec = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';

function oracle(
  messages: readonly Msg[],
  typeOf: (phone: string) => string | undefined,
): { rows: Map<string, Expected>; ties: number } {
  type Obs = { kind: 'stop' | 'start' | 'refused'; m: Msg; keyword: string | null };
  const pairs = new Map<string, Obs[]>();
  for (const m of messages) {
    let obs: Obs;
    if (m.direction === 'inbound') {
      const match = oracleKeyword(m.body, isTollFree(m.to, typeOf(m.to)));
      if (match === null || match.kind === 'help') continue;
      obs = { kind: match.kind === 'opt-out' ? 'stop' : 'start', m, keyword: match.keyword };
    } else if (m.errorCode === 21610) {
      obs = { kind: 'refused', m, keyword: null };
    } else {
      continue;
    }
    const twilioSide = m.direction === 'inbound' ? m.to : m.from;
    const user = m.direction === 'inbound' ? m.from : m.to;
    const key = `${m.account}|${m.service ?? twilioSide}|${user}`;
    pairs.set(key, [...(pairs.get(key) ?? []), obs]);
  }
  const rows = new Map<string, Expected>();
  let ties = 0;
  for (const [key, all] of pairs) {
    const latest = Math.max(...all.map((o) => o.m.at));
    const atLatest = all.filter((o) => o.m.at === latest);
    if (atLatest.some((o) => o.kind === 'start') && atLatest.some((o) => o.kind !== 'start')) {
      ties += 1;
    }
    const starts = all.filter((o) => o.kind === 'start');
    const lastStart = starts.length === 0 ? -Infinity : Math.max(...starts.map((o) => o.m.at));
    const standing = all.filter((o) => o.kind !== 'start' && o.m.at >= lastStart);
    if (standing.length === 0) continue;
    // The latest STOP (the larger SID in its second), else the first refusal (the smaller).
    let stop: Obs | undefined;
    let refusal: Obs | undefined;
    for (const o of standing) {
      if (o.kind === 'stop') {
        if (
          stop === undefined ||
          o.m.at > stop.m.at ||
          (o.m.at === stop.m.at && o.m.sid > stop.m.sid)
        )
          stop = o;
      } else if (
        refusal === undefined ||
        o.m.at < refusal.m.at ||
        (o.m.at === refusal.m.at && o.m.sid < refusal.m.sid)
      ) {
        refusal = o;
      }
    }
    const evidence = (stop ?? refusal)!;
    const m = evidence.m;
    rows.set(key, {
      account_sid: m.account,
      scope: m.service === null ? 'number' : 'service',
      messaging_service_sid: m.service,
      recipient: m.direction === 'inbound' ? m.from : m.to,
      sender_number: m.direction === 'inbound' ? m.to : m.from,
      evidence: stop === undefined ? 'refusal' : 'keyword',
      keyword: stop?.keyword ?? null,
      body: stop === undefined ? null : m.body,
      opted_out_at: isoSec(m.at),
      stop_message_sid: stop === undefined ? null : m.sid,
      evidence_message_sid: m.sid,
    });
  }
  return { rows, ties };
}

// ── the hard cases, as bodies ───────────────────────────────────────────────────────────────

const fullWidth = (s: string) =>
  [...s].map((c) => String.fromCodePoint(c.codePointAt(0)! - 0x41 + 0xff21)).join('');
const mathBold = (s: string) =>
  [...s].map((c) => String.fromCodePoint(c.codePointAt(0)! - 0x41 + 0x1d400)).join('');
const circledSmall = (s: string) =>
  [...s].map((c) => String.fromCodePoint(c.codePointAt(0)! - 0x41 + 0x24d0)).join('');

const SPACES = [' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '\u2003', '\ufeff'];

type Rng = ReturnType<typeof prng>;

function randomCase(rng: Rng, word: string): string {
  return [...word].map((c) => (rng.chance(0.5) ? c.toLowerCase() : c)).join('');
}

/** A body meant as `word`, in one of the forms a phone may send, or a near miss. */
function bodyFor(rng: Rng, word: string): string {
  const pad = () => (rng.chance(0.5) ? rng.pick(SPACES) : '');
  switch (rng.int(0, 11)) {
    case 0:
    case 1:
      return word;
    case 2:
      return word.toLowerCase();
    case 3:
      return word[0] + word.slice(1).toLowerCase();
    case 4:
      return pad() + randomCase(rng, word) + pad() + rng.pick(SPACES);
    case 5:
      return fullWidth(rng.chance(0.5) ? word : word.toLowerCase());
    case 6:
      return rng.pick([mathBold(word), circledSmall(word), pad() + fullWidth(word) + '\u3000']);
    case 7:
      // Letters outside ASCII that upper-case onto the keyword's: long s, dotless i, ﬆ.
      return word.replace(/S/g, 'ſ').replace(/I/g, 'ı').replace(/^ST/, 'ﬆ').toLowerCase();
    case 8:
      // A keyword with more words or punctuation: no keyword at all.
      return rng.pick([`${word} PLEASE`, `please ${word.toLowerCase()}`, `${word}.`, `${word}!`]);
    case 9:
      return rng.pick([`${word}\n${word}`, `"${word}"`, word.split('').join(' ')]);
    case 10:
      return rng.pick(['OPT OUT', 'Opt-out', 'STOP ALL', 'stopp', 'S T O P', 'un subscribe']);
    default:
      return randomCase(rng, word);
  }
}

// ── the world and its history ───────────────────────────────────────────────────────────────

const SUB_SID = 'AC' + 'b'.repeat(32);
const S1 = 'MG' + '1'.repeat(32);
const SA = 'MG' + 'a'.repeat(32);

const NUMBERS = [
  { phone_number: '+12025550101', type: 'local' as const },
  { phone_number: '+12025550102', type: 'local' as const },
  { phone_number: '+12025550103', type: 'local' as const },
  { phone_number: '+18885550104', type: 'toll-free' as const },
  { phone_number: '+18445550105', type: 'toll-free' as const },
  // Moved: its history lies in the parent (bare, then in S1); it is in the subaccount now.
  { phone_number: '+12025550106', type: 'local' as const, account_sid: SUB_SID },
  { phone_number: '+13125550107', type: 'local' as const, account_sid: SUB_SID },
  // A Canadian toll-free number Twilio reports as local: the area code decides.
  { phone_number: '+18775550108', type: 'local' as const },
];

/** Where a message is sent or received: the account, the Twilio side, the service if any. */
interface Sender {
  account: 'parent' | 'sub';
  address: string;
  service: string | null;
  /** Only sends (an alphanumeric sender receives nothing). */
  sendOnly?: boolean;
}

const SENDERS: Sender[] = [
  { account: 'parent', address: '+12025550101', service: null },
  { account: 'parent', address: '+12025550102', service: S1 },
  { account: 'parent', address: '+12025550103', service: S1 },
  { account: 'parent', address: '+18885550104', service: null },
  { account: 'parent', address: '+18445550105', service: S1 },
  { account: 'parent', address: '+18775550108', service: null },
  { account: 'parent', address: '+12025550106', service: null },
  { account: 'parent', address: '+12025550106', service: S1 },
  { account: 'sub', address: '+12025550106', service: SA },
  { account: 'sub', address: '+13125550107', service: SA },
  // A short code (Twilio keeps no list for it: the customer must) and an alphanumeric sender.
  { account: 'parent', address: '+55555', service: null },
  { account: 'parent', address: 'OWLIE', service: S1, sendOnly: true },
  // A send S1 refused before it chose a sender: Twilio leaves `from` null.
  { account: 'parent', address: '', service: S1, sendOnly: true },
];

const USERS = ['+14155550001', '+14155550002', '+447700900003', '+61412345004'];

type Step = 'opt-out' | 'opt-in' | 'help' | 'refused' | 'chatter' | 'outbound';

interface Planned {
  sender: Sender;
  user: string;
  step: Step;
  body: string;
  at: number;
}

/**
 * Pairs with a few observations each, close in time: ties and same-second pairs are common.
 * Some start on a second where the tool cuts its reading: the API window's first second
 * (with `partitions`, each slice's) or beside it; some amid a crowd of other messages in a few
 * seconds, more than a page (1000) holds.
 */
function history(rng: Rng, partitions: number): Planned[] {
  const out: Planned[] = [];
  const apiStart = NOW - API_DAYS * DAY;
  const cuts = Array.from(
    { length: partitions + 1 },
    (_, i) => Math.floor((apiStart + ((NOW - apiStart) * i) / partitions) / 1000) * 1000,
  );
  const crowd = Math.floor((NOW - rng.int(20, 200) * DAY) / 1000) * 1000;
  const crowded = rng.chance(0.5) ? rng.int(1000, 2500) : 0;
  for (let i = 0; i < crowded; i++) {
    const outbound = rng.chance(0.7);
    out.push({
      sender: SENDERS[rng.int(0, 2)]!,
      user: `+1999555${String(i).padStart(4, '0')}`,
      step: outbound ? 'outbound' : 'chatter',
      body: outbound ? 'Your code is 1234' : 'ok',
      at: crowd + 1000 * rng.int(-2, 2),
    });
  }
  for (const user of USERS) {
    for (const sender of SENDERS) {
      if (!rng.chance(0.7)) continue;
      // Some pairs live wholly beyond the API's window; the rest within it.
      const old = rng.chance(0.25);
      const span = old
        ? [CREATED + 5 * DAY, NOW - (API_DAYS + 20) * DAY]
        : [NOW - 300 * DAY, NOW - 3 * DAY];
      let at = Math.floor((span[0]! + rng.next() * (span[1]! - span[0]! - 5 * DAY)) / 1000) * 1000;
      if (rng.chance(0.15)) at = rng.pick(cuts.slice(0, -1)) + 1000 * rng.int(-1, 1);
      else if (rng.chance(0.15)) at = crowd + 1000 * rng.int(-2, 2);
      const steps = rng.int(1, 6);
      for (let i = 0; i < steps; i++) {
        let step: Step = rng.pick([
          'opt-out',
          'opt-out',
          'opt-in',
          'opt-in',
          'help',
          'refused',
          'chatter',
          'outbound',
        ]);
        // Twilio records a send without a sender only when it refused it.
        if (sender.sendOnly && step !== 'refused')
          step = sender.address === '' ? 'refused' : 'outbound';
        const word =
          step === 'opt-out'
            ? rng.pick(OPT_OUT)
            : step === 'opt-in'
              ? rng.pick(OPT_IN)
              : rng.pick(HELP);
        const body =
          step === 'chatter'
            ? rng.pick(['Thanks!', 'what time?', 'Stop by at 5', 'no', 'END of story'])
            : step === 'outbound' || step === 'refused'
              ? 'Your table is ready'
              : bodyFor(rng, word);
        out.push({ sender, user, step, body, at });
        // Same second, the next second, or later.
        at += rng.pick([0, 0, 1000, 1000 * rng.int(2, 600), DAY * rng.int(1, 3)]);
      }
    }
  }
  return out;
}

function seedDocument(planned: readonly Planned[], parentSid: string): SeedDocument {
  return {
    subaccounts: [{ friendly_name: 'Acme Dental', sid: SUB_SID }],
    numbers: NUMBERS.map((n) => ({ ...n })),
    services: [
      {
        friendly_name: 'Owlie reminders',
        sid: S1,
        phone_numbers: ['+12025550102', '+12025550103', '+18445550105'],
      },
      {
        friendly_name: 'Acme',
        sid: SA,
        account_sid: SUB_SID,
        phone_numbers: ['+12025550106', '+13125550107'],
      },
    ],
    messages: planned.map((p) => {
      const inbound =
        p.step === 'opt-out' || p.step === 'opt-in' || p.step === 'help' || p.step === 'chatter';
      return {
        from: inbound
          ? p.user
          : p.sender.address === ''
            ? (null as unknown as string)
            : p.sender.address,
        to: inbound ? p.sender.address : p.user,
        body: p.body,
        direction: inbound ? ('inbound' as const) : ('outbound-api' as const),
        date_sent: p.at,
        status: inbound ? 'received' : p.step === 'refused' ? 'failed' : 'delivered',
        error_code:
          p.step === 'refused' ? 21610 : p.step === 'outbound' && p.at % 3000 === 0 ? 30003 : null,
        account_sid: p.sender.account === 'parent' ? parentSid : SUB_SID,
        messaging_service_sid: p.sender.service,
      };
    }),
  };
}

// ── the trial ───────────────────────────────────────────────────────────────────────────────

interface Trial {
  messages: Msg[];
  withExport: OptOutExport;
  apiOnly: OptOutExport;
}

async function runTrial(
  env: TestEmulator,
  dir: TempDir,
  seed: number,
  setNow: (ms: number) => void,
): Promise<Trial> {
  const rng = prng(seed);
  const partitions = rng.int(1, 8);
  const planned = history(rng, partitions);
  // The accounts are made at CREATED (history starts there); the snapshots run at NOW.
  setNow(CREATED);
  await env.control('POST', '/__emulator/reset');
  const seeded = await env.seed(seedDocument(planned, env.parentSid));
  setNow(NOW);
  const messages: Msg[] = planned.map((p, i) => {
    const inbound =
      p.step === 'opt-out' || p.step === 'opt-in' || p.step === 'help' || p.step === 'chatter';
    return {
      sid: seeded.messages[i]!.sid,
      account: p.sender.account === 'parent' ? env.parentSid : SUB_SID,
      from: inbound ? p.user : p.sender.address,
      to: inbound ? p.sender.address : p.user,
      body: p.body,
      direction: inbound ? 'inbound' : 'outbound-api',
      errorCode: p.step === 'refused' ? 21610 : null,
      service: p.sender.service,
      at: p.at,
    };
  });
  // More slots than slices: a slice that turns out large is cut in two while it is read.
  const inFlight = partitions + rng.int(0, 6);
  const clock = fixedClock(NOW);
  const full = dir.file(`full-${seed}.db`);
  await snapshotInto(full, env.port(), clock, { accounts: [SUB_SID], partitions, inFlight });
  const apiOnlyPath = dir.file(`api-${seed}.db`);
  await snapshotInto(apiOnlyPath, env.port(), clock, {
    accounts: [SUB_SID],
    partitions,
    inFlight,
    useExport: false,
  });
  return {
    messages,
    withExport: await withLedger(full, (db) => exportOptOuts(db)),
    apiOnly: await withLedger(apiOnlyPath, (db) => exportOptOuts(db)),
  };
}

const typeOf = (phone: string) => NUMBERS.find((n) => n.phone_number === phone)?.type;

function keyOf(row: {
  account_sid: string | null;
  messaging_service_sid: string | null;
  sender_number: string | null;
  recipient: string | null;
}) {
  return `${row.account_sid}|${row.messaging_service_sid ?? row.sender_number}|${row.recipient}`;
}

function listed(exported: OptOutExport): Map<string, Expected> {
  const rows = new Map<string, Expected>();
  for (const r of exported.optouts) {
    const key = keyOf(r);
    expect(rows.has(key), `one row per pair: ${key}`).toBe(false);
    rows.set(key, {
      account_sid: r.account_sid!,
      scope: r.scope as Expected['scope'],
      messaging_service_sid: r.messaging_service_sid,
      recipient: r.recipient!,
      sender_number: r.sender_number!,
      evidence: r.evidence as Expected['evidence'],
      keyword: r.keyword,
      body: r.body,
      opted_out_at: r.opted_out_at!,
      stop_message_sid: r.stop_message_sid,
      evidence_message_sid: r.evidence_message_sid!,
    });
  }
  return rows;
}

/** What the fixed seeds' histories held between them: each hard case must have come up. */
const seen = {
  pairs: 0,
  ties: 0,
  refusalOnly: 0,
  serviceScope: 0,
  subaccount: 0,
  notAscii: 0,
  olderThanApi: 0,
  withoutSender: 0,
  crowded: 0,
};

function tally(expected: ReturnType<typeof oracle>, messages: readonly Msg[]): void {
  const rows = [...expected.rows.values()];
  seen.pairs += rows.length;
  seen.ties += expected.ties;
  seen.refusalOnly += rows.filter((r) => r.evidence === 'refusal').length;
  seen.serviceScope += rows.filter((r) => r.scope === 'service').length;
  seen.subaccount += rows.filter((r) => r.account_sid === SUB_SID).length;
  seen.notAscii += rows.filter((r) => r.body !== null && /[^\x00-\x7f]/.test(r.body)).length;
  seen.olderThanApi += rows.filter((r) => Date.parse(r.opted_out_at) < NOW - API_DAYS * DAY).length;
  seen.withoutSender += rows.filter((r) => r.sender_number === '').length;
  seen.crowded += messages.length > 1000 ? 1 : 0;
}

function sorted<T>(map: Map<string, T>): [string, T][] {
  return [...map].sort(([a], [b]) => a.localeCompare(b));
}

describe('opt-out rules against an independent oracle, on hard-case histories', () => {
  let env: TestEmulator;
  let dir: TempDir;
  let now = CREATED;

  beforeAll(async () => {
    env = await startTestEmulator({ now: () => now });
    dir = tempDir('submigrate-oracle-');
  });
  afterAll(async () => {
    await env?.close();
    dir?.remove();
  });

  it.each(SEEDS)(
    'seed %i: the list is exactly the oracle’s, evidence and ties too',
    async (seed) => {
      const trial = await runTrial(env, dir, seed, (ms) => (now = ms));
      const expected = oracle(trial.messages, typeOf);
      const where = `seed ${seed} (ORACLE_SEEDS=${seed} to run it alone)`;
      tally(expected, trial.messages);

      // With Bulk Export, all of history is read: the list is the oracle's over all of it.
      expect(sorted(listed(trial.withExport)), where).toEqual(sorted(expected.rows));
      expect(trial.withExport.coverage.ties_resolved_as_opt_out, where).toBe(expected.ties);
      expect(trial.withExport.coverage.not_read, where).toEqual([]);

      // Without it, only the API's 400 days are read: the list is the oracle's over those, and
      // the coverage says, for each account, that the time before was not read.
      const recent = trial.messages.filter((m) => m.at >= NOW - API_DAYS * DAY);
      const expectedRecent = oracle(recent, typeOf);
      expect(sorted(listed(trial.apiOnly)), where).toEqual(sorted(expectedRecent.rows));
      const notRead = trial.apiOnly.coverage.not_read;
      expect(notRead.map((w) => w.account_sid).sort(), where).toEqual(
        [env.parentSid, SUB_SID].sort(),
      );
      for (const span of notRead) {
        expect(span.start, where).toBe(isoSec(CREATED));
        expect(Date.parse(span.end), where).toBeGreaterThanOrEqual(NOW - (API_DAYS + 1) * DAY);
      }
    },
  );

  it.runIf(seedsFromEnv('ORACLE_SEEDS') === null)(
    'the fixed seeds’ histories held every hard case',
    () => {
      for (const [what, count] of Object.entries(seen)) expect(count, what).toBeGreaterThan(0);
    },
  );
});
