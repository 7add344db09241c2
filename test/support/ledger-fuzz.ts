/**
 * A seeded randomized differential trial of the opt-out ledger: a random message history is
 * played into the emulator in date order (seeded history, live inbound routed as Twilio routes
 * it, live sends refused with 21610, numbers moved between Messaging Services), snapshots are
 * taken between batches (plain, `--since`, with faults, cut short and resumed), and after each
 * plain snapshot what `optouts` exports is held against
 *
 * - an oracle written here from docs/opt-out-rules.md and Twilio's keyword text, sharing no
 *   code with src/optouts or the emulator (a shared bug in keyword matching would hide from a
 *   comparison of those two), exactly: same pairs, same evidence;
 * - the emulator's hidden opt-out store (ground truth): every pair Twilio blocks must be on
 *   the list (a missing row is the worst defect), unless the evidence of it is in no history
 *   (a STOP a service dropped, with no refused send after it). A pair on the list that Twilio
 *   does not block must be one of the fail-safe kinds the rules name (a tie kept as opted out,
 *   a refusal whose STOP was read as something else, YES to a NANP toll-free number), else it
 *   is reported.
 */

import { writeFileSync } from 'node:fs';

import type { Credentials } from '../../src/config.js';
import type { MessageRecord } from '../../src/emulator/message-store.js';
import { createRandom } from '../../src/emulator/random.js';
import { exportOptOuts, type OptOutExportRow } from '../../src/optouts/export.js';
import { createTwilioPort } from '../../src/twilio/adapter.js';
import { createAccountClient, createParentClient } from '../../src/twilio/client.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import {
  emulatorOptOuts,
  NO_LIMITS,
  NO_RETRY,
  startTestEmulator,
  ValidatingHttpClient,
  type TestEmulator,
} from './emulator.js';
import {
  cliEnv,
  historyOf,
  pollUntil,
  runCli,
  snapshotInto,
  startCli,
  tempDir,
  withLedger,
  type RunningCli,
} from './snapshot-harness.js';

const DAY = 86_400_000;

// ── a seeded random source ──────────────────────────────────────────────────────────────────

export class Rng {
  /** The emulator's mulberry32 stream; seed 0 gets a fixed other seed. */
  readonly next: () => number;
  constructor(seed: number) {
    this.next = createRandom(seed >>> 0 || 0x9e3779b9);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ── the oracle's keyword rules, from the reference text alone ───────────────────────────────

/**
 * Twilio's default lists (reference §7.1; docs/opt-out-rules.md): only a whole single-word
 * body counts, case-insensitive, surrounding whitespace ignored. Spelled out here on purpose.
 */
const ORACLE_OPT_OUT = 'STOP STOPALL UNSUBSCRIBE CANCEL END QUIT REVOKE OPTOUT'.split(' ');
const ORACLE_OPT_IN = 'START YES UNSTOP'.split(' ');
const ORACLE_HELP = 'HELP INFO'.split(' ');

/** Whitespace the oracle strips: ASCII blanks and the Unicode spaces a phone may send. */
const EDGE_SPACE =
  /^[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$/g;

export type OracleKind = 'opt-out' | 'opt-in' | 'help' | null;

/**
 * docs/opt-out-rules.md's characters that show nothing: format characters (zero-width space,
 * LRM/RLM, word joiner, soft hyphen, BOM), variation selectors, next line, the Hangul fillers,
 * the blank braille pattern and the combining grapheme joiner.
 */
const SHOWS_NOTHING = /[\p{Cf}\u0085\u034f\u115f\u1160\u180e\u2800\u3164\ufe00-\ufe0f\uffa0]/gu;

/** A non-ASCII body as the keyword it may stand for: what shows, folded, upper case. */
const oracleFolded = (word: string): string =>
  word.replace(SHOWS_NOTHING, '').replace(EDGE_SPACE, '').normalize('NFKC').toUpperCase();

/**
 * What a body is, by the letter of the rules and the fail-safe reading where the letter is
 * unclear: a body that is a keyword only once letters outside ASCII are case-mapped onto it
 * (`ſtart`, `ﬆop`), or once its compatibility forms are folded (NFKC: `ＳＴＯＰ`), is
 * ambiguous, so it counts when that keeps the person on the list (an opt-out) and does not
 * when it would take them off (an opt-in).
 */
export function oracleKeyword(body: string, tollFree: boolean): OracleKind {
  const word = body.replace(EDGE_SPACE, '');
  const ascii = /^[A-Za-z]+$/.test(word);
  const upper = ascii
    ? word.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 32))
    : word.toUpperCase();
  if (ORACLE_OPT_OUT.includes(upper)) return 'opt-out';
  if (!ascii) {
    // Compatibility forms (full-width ＳＴＯＰ, bold 𝐒𝐓𝐎𝐏) fold onto a keyword under NFKC,
    // and characters that show nothing (`STOP` and a zero-width space) hide one: ambiguous
    // too, so an opt-out only.
    return ORACLE_OPT_OUT.includes(oracleFolded(word)) ? 'opt-out' : null;
  }
  if (ORACLE_OPT_IN.includes(upper)) return upper === 'YES' && tollFree ? null : 'opt-in';
  if (ORACLE_HELP.includes(upper)) return 'help';
  return null;
}

const NANP_TOLL_FREE = ['800', '833', '844', '855', '866', '877', '888'];
export const oracleTollFree = (phone: string, reportedType: string | null) =>
  reportedType === 'toll-free' ||
  (phone.startsWith('+1') && phone.length === 12 && NANP_TOLL_FREE.includes(phone.slice(2, 5)));

// ── the oracle's opt-out state ──────────────────────────────────────────────────────────────

export interface OracleRow {
  key: string;
  scope: 'number' | 'service';
  evidence: 'keyword' | 'refusal';
  keyword: string | null;
  body: string | null;
  opted_out_at: string;
  stop_message_sid: string | null;
  evidence_message_sid: string;
  /** Whether the pair's latest second held an opt-in too (a tie kept as opted out). */
  tie: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * docs/opt-out-rules.md, "State of a pair", computed per pair from the messages read: the
 * latest second decides, an opt-out or refusal beats an opt-in in it; the evidence is the
 * latest STOP at or after the last opt-in (the larger SID in a second), else the first refusal
 * since then (the smaller SID in a second).
 */
export function oracleOptOuts(
  messages: readonly MessageRecord[],
  typeOf: (phone: string) => string | null,
): Map<string, OracleRow> {
  type Obs = { kind: 'opt-out' | 'opt-in' | 'refused'; m: MessageRecord; keyword: string | null };
  const byPair = new Map<string, { scope: 'number' | 'service'; obs: Obs[] }>();
  for (const m of messages) {
    let obs: Obs;
    let sender: string;
    let user: string;
    if (m.direction === 'inbound') {
      const kind = oracleKeyword(m.body, oracleTollFree(m.to, typeOf(m.to)));
      if (kind !== 'opt-out' && kind !== 'opt-in') continue;
      const upper = m.body.replace(EDGE_SPACE, '').toUpperCase();
      // A folded form (ＳＴＯＰ) is listed under the keyword it folds onto.
      const folded = kind === 'opt-out' && !ORACLE_OPT_OUT.includes(upper);
      obs = { kind, m, keyword: folded ? oracleFolded(m.body) : upper };
      sender = m.to;
      user = m.from;
    } else {
      if (m.errorCode !== 21610) continue;
      obs = { kind: 'refused', m, keyword: null };
      sender = m.from;
      user = m.to;
    }
    const key = `${m.accountSid}|${m.messagingServiceSid ?? sender}|${user}`;
    const pair = byPair.get(key) ?? {
      scope: m.messagingServiceSid === null ? ('number' as const) : ('service' as const),
      obs: [],
    };
    pair.obs.push(obs);
    byPair.set(key, pair);
  }
  const out = new Map<string, OracleRow>();
  for (const [key, { scope, obs }] of byPair) {
    const optIns = obs.filter((o) => o.kind === 'opt-in').map((o) => o.m.dateSent);
    const lastOptIn = optIns.length === 0 ? -Infinity : Math.max(...optIns);
    const after = obs.filter((o) => o.kind !== 'opt-in' && o.m.dateSent >= lastOptIn);
    if (after.length === 0) continue;
    const stops = after.filter((o) => o.kind === 'opt-out');
    const sid = (a: Obs, b: Obs) => (a.m.sid < b.m.sid ? -1 : a.m.sid > b.m.sid ? 1 : 0);
    const lastStop = stops.sort((a, b) => b.m.dateSent - a.m.dateSent || -sid(a, b))[0];
    const refusals = after.filter((o) => o.kind === 'refused');
    const firstRefusal = refusals.sort((a, b) => a.m.dateSent - b.m.dateSent || sid(a, b))[0];
    const ev = lastStop ?? firstRefusal!;
    const latest = Math.max(...obs.map((o) => o.m.dateSent));
    out.set(key, {
      key,
      scope,
      evidence: lastStop !== undefined ? 'keyword' : 'refusal',
      keyword: lastStop !== undefined ? lastStop.keyword : null,
      body: lastStop !== undefined ? lastStop.m.body : null,
      opted_out_at: iso(ev.m.dateSent),
      stop_message_sid: lastStop !== undefined ? lastStop.m.sid : null,
      evidence_message_sid: ev.m.sid,
      tie: lastOptIn === latest,
    });
  }
  return out;
}

// ── bodies ──────────────────────────────────────────────────────────────────────────────────

const SPACES = [' ', '  ', '\t', '\n', '\r\n', '\u00a0', ' \n '];
const NEAR_MISSES = [
  'STOP PLEASE',
  'please stop',
  'PLEASE CANCEL',
  'OPT OUT',
  'opt-out',
  'stop.',
  'Stop!',
  'STOP?',
  '"STOP"',
  'S TOP',
  'STOPP',
  'ST0P',
  'STARTT',
  'start now',
  'yes please',
  'Y',
  'UN STOP',
  'QUITE',
  'END.',
  'cancel my order',
  'ARRET',
  'unsubscribe me',
  'HELP ME',
  'info?',
  'yes!',
  'Start.',
  'STOP\u200b',
  '\u200bSTART',
  'ＳＴＯＰ',
  'ＳＴＡＲＴ',
];
/** Bodies that are keywords only once non-ASCII letters are case-mapped (ambiguous). */
const EXOTIC = ['ſtop', 'ﬆop', 'ſtart', 'ﬆart', 'unſtop', 'yeſ', 'ınfo', 'ſtopall', 'unﬆop'];

function randomCase(rng: Rng, word: string): string {
  switch (rng.int(4)) {
    case 0:
      return word;
    case 1:
      return word.toLowerCase();
    case 2:
      return word[0] + word.slice(1).toLowerCase();
    default:
      return [...word].map((c) => (rng.chance(0.5) ? c.toLowerCase() : c)).join('');
  }
}

function keywordBody(rng: Rng, words: readonly string[]): string {
  let body = randomCase(rng, rng.pick(words));
  if (rng.chance(0.3)) body = rng.pick(SPACES) + body;
  if (rng.chance(0.3)) body = body + rng.pick(SPACES);
  return body;
}

export function randomBody(rng: Rng, exotic: boolean): string {
  const r = rng.next();
  if (r < 0.36) return keywordBody(rng, ORACLE_OPT_OUT);
  if (r < 0.62) return keywordBody(rng, ORACLE_OPT_IN);
  if (r < 0.7) return keywordBody(rng, ORACLE_HELP);
  if (r < 0.9) return rng.pick(NEAR_MISSES);
  if (exotic && r < 0.95) return rng.pick(EXOTIC);
  return rng.pick(['thanks', 'what time do you open?', 'ok', 'see you tomorrow', ' ']);
}

// ── one trial ───────────────────────────────────────────────────────────────────────────────

export interface TrialOptions {
  seed: number;
  /** Events in the history (default 120). */
  events?: number;
  /** Bodies that are keywords only once non-ASCII letters are case-mapped. */
  exotic?: boolean;
}

export interface Finding {
  seed: number;
  checkpoint: number;
  kind: 'ledger-vs-oracle' | 'missing-vs-truth' | 'unexplained-extra' | 'error';
  detail: string;
}

export interface TrialResult {
  seed: number;
  findings: Finding[];
  /** Counted differences from the truth judged fail-safe, by reason. */
  failSafe: Record<string, number>;
  /** Pairs Twilio blocks whose evidence is in no history (a dropped STOP, no refusal after). */
  invisible: number;
  truthPairs: number;
  ledgerRows: number;
  snapshots: number;
  description: string[];
}

const phone = (prefix: string, n: number) => `${prefix}${String(n).padStart(4, '0')}`;

/**
 * Builds the world, plays the history in date order with snapshots at checkpoints, and
 * compares after each plain snapshot. Never throws for a difference: it returns findings (the
 * test asserts there are none, naming the seed).
 */
export async function runTrial(options: TrialOptions): Promise<TrialResult> {
  const rng = new Rng(options.seed);
  const events = options.events ?? (Number(process.env['FUZZ_EVENTS']) || 120);
  const exotic = options.exotic ?? process.env['FUZZ_EXOTIC'] !== '0';
  const NOW0 = Date.UTC(2025, 5, 1, 12, 0, 0) + rng.int(86_400) * 1000;
  let now = NOW0 - 700 * DAY;
  const env = await startTestEmulator({ now: () => now, seed: options.seed });
  const dir = tempDir('submigrate-fuzz-');
  const findings: Finding[] = [];
  const failSafe: Record<string, number> = {};
  const description: string[] = [];
  let invisible = 0;
  let snapshots = 0;
  let truthPairs = 0;
  let ledgerRows = 0;
  try {
    // The world: the parent's numbers (two local in no service, two in S1 which routes
    // inbound, two in S2 which drops it, a toll-free typed so, a NANP toll-free typed local),
    // and a subaccount with two numbers and a service.
    const P = Array.from({ length: 6 }, (_, i) => phone('+1415555', 100 + i));
    const TF = '+18005550100';
    const TFL = '+18885550111';
    const S = Array.from({ length: 2 }, (_, i) => phone('+1628555', 300 + i));
    const users = Array.from({ length: 5 + rng.int(4) }, (_, i) => phone('+1650555', 200 + i));
    const useSub = rng.chance(0.6);
    const seeded = await env.seed({
      subaccounts: useSub ? [{ friendly_name: 'Sub One' }] : [],
      numbers: [
        ...P.map((p) => ({ phone_number: p })),
        { phone_number: TF, type: 'toll-free' as const },
        { phone_number: TFL, type: 'local' as const },
      ],
      services: [
        {
          friendly_name: 'S1',
          phone_numbers: [P[2]!, P[3]!],
          inbound_request_url: 'https://hooks.example/s1',
        },
        { friendly_name: 'S2', phone_numbers: [P[4]!, P[5]!] },
      ],
    });
    const [s1, s2] = seeded.services.map((s) => s.sid) as [string, string];
    const sub = seeded.subaccounts[0];
    let subService: string | null = null;
    if (sub !== undefined) {
      const more = await env.seed({
        numbers: S.map((p) => ({ phone_number: p, account_sid: sub.sid })),
        services: [
          {
            friendly_name: 'SA',
            account_sid: sub.sid,
            phone_numbers: [S[0]!],
            inbound_request_url: 'https://hooks.example/sa',
          },
        ],
      });
      subService = more.services[0]!.sid;
    }
    const parentNumbers = [...P, TF, TFL];
    const allNumbers = [...parentNumbers, ...(sub === undefined ? [] : S)];
    const accountOf = (p: string) => env.emulator.state.numberByPhone(p)!.accountSid;
    const clientOf = (accountSid: string) =>
      sub !== undefined && accountSid === sub.sid
        ? env.clientFor(sub.sid, sub.auth_token)
        : env.parent;

    // Retention and how snapshots read: most trials with Bulk Export; the window told, or not.
    const retention = rng.pick([400, 400, 120, 30, 10, 7]);
    const subRetention = rng.pick([400, 60]);
    await env.control('POST', '/__emulator/settings', { message_retention_days: retention });
    if (sub !== undefined) {
      await env.control('POST', '/__emulator/settings', {
        account_sid: sub.sid,
        message_retention_days: subRetention,
      });
    }
    const tellRetention = rng.chance(0.5);
    // A quarter of the trials never use Bulk Export (as plan's refresh reads): a separate
    // stream, so that the other trials' histories stay as they were.
    const noExport = new Rng(options.seed ^ 0x5eed).chance(0.25);
    if (noExport) description.push('no Bulk Export');
    description.push(
      `retention ${retention}${sub ? `/${subRetention}` : ''} ${tellRetention ? 'told' : 'not told'}; ${users.length} users; ${sub ? 'with' : 'no'} subaccount`,
    );

    // The timeline: event times over 700 days up to NOW0, many sharing a second.
    const times: number[] = [];
    for (let i = 0; i < events; i++) {
      if (times.length > 0 && rng.chance(0.25)) times.push(rng.pick(times));
      else if (times.length > 0 && rng.chance(0.15))
        times.push(rng.pick(times) + 1000 * (1 + rng.int(3)));
      else times.push(NOW0 - 700 * DAY + Math.floor((rng.next() * 700 * DAY) / 1000) * 1000);
    }
    // Evidence at the edge of the Messages API's window at the end (a second, an hour, a day
    // either side), where the Bulk Export days meet the API's.
    for (let i = 0; i < 6; i++) {
      const edge = NOW0 - retention * DAY;
      times.push(
        edge + rng.pick([-DAY, -3_600_000, -2000, -1000, 0, 1000, 2000, 3_600_000, DAY, 2 * DAY]),
      );
    }
    times.sort((a, b) => a - b);
    // Checkpoints: snapshots between batches, the last at NOW0.
    const cps = new Set<number>();
    const nCps = 1 + rng.int(3);
    for (let i = 0; i < nCps - 1; i++) cps.add(times[Math.floor(((i + 1) * times.length) / nCps)]!);
    const checkpoints = [...cps].sort((a, b) => a - b).concat([NOW0]);

    const port = env.port();
    const dbPath = dir.file('ledger.db');
    const accounts = sub === undefined ? [] : [sub.sid];
    let cpIndex = 0;
    const seenAt: number[] = [];
    let later: NonNullable<Parameters<typeof env.seed>[0]['messages']> = [];

    const snapshotAt = async (at: number, index: number) => {
      now = at;
      const clock = { now: () => new Date(now) };
      const input = {
        accounts,
        useExport: !noExport,
        partitions: 1 + rng.int(12),
        inFlight: 1 + rng.int(8),
        ...(tellRetention ? { retentionDays: retention } : {}),
      };
      // Sometimes a --since run first (from a random earlier point), then the plain run.
      if (rng.chance(0.25)) {
        const since = new Date(at - rng.int(200) * DAY);
        await snapshotInto(dbPath, port, clock, { ...input, since });
        snapshots += 1;
        description.push(`cp${index}: --since ${iso(since.getTime())}`);
      }
      const mode = rng.pick(['plain', 'plain', 'faults', 'cut']);
      description.push(`cp${index} at ${iso(at)}: ${mode}`);
      if (mode === 'faults') {
        // 5xx and dropped connections, with the client's retries.
        const faulty = new ValidatingHttpClient({
          apiUrl: env.url,
          retry: { maxAttempts: 12, baseDelayMs: 1, maxDelayMs: 5 },
          consentRetry: NO_RETRY,
          limits: NO_LIMITS,
        });
        await env.control('POST', '/__emulator/faults', {
          error_rate: 0.15,
          error_status: rng.pick([500, 502, 503]),
          reset_rate: 0.1,
        });
        let tries = 0;
        for (;;) {
          try {
            tries += 1;
            await snapshotInto(
              dbPath,
              createTwilioPort(env.parentCredentials, faulty),
              clock,
              input,
            );
            break;
          } catch (error) {
            // A POST (the export job) is not retried on a 5xx: run again, as a person would.
            if (tries >= 6) {
              await env.control('POST', '/__emulator/faults', { error_rate: 0, reset_rate: 0 });
            }
            if (tries >= 10) throw error;
          }
        }
        await env.control('POST', '/__emulator/faults', { error_rate: 0, reset_rate: 0 });
      } else if (mode === 'cut') {
        // Cut short: every request fails after a few have been answered (no retries), then
        // run again on the same database: it must take up the run where it stopped.
        const brittle = new ValidatingHttpClient({
          apiUrl: env.url,
          retry: NO_RETRY,
          consentRetry: NO_RETRY,
          limits: NO_LIMITS,
        });
        await env.control('POST', '/__emulator/faults', { error_rate: 0.35, error_status: 503 });
        for (let i = 0; i < 3; i++) {
          try {
            await snapshotInto(
              dbPath,
              createTwilioPort(env.parentCredentials, brittle),
              clock,
              input,
            );
            break;
          } catch {
            snapshots += 1;
          }
        }
        await env.control('POST', '/__emulator/faults', { error_rate: 0 });
        await snapshotInto(dbPath, port, clock, input);
      } else {
        await snapshotInto(dbPath, port, clock, input);
      }
      snapshots += 1;
      await compare(index);
    };

    const compare = async (index: number) => {
      const exported = await withLedger(dbPath, (db) => exportOptOuts(db));
      // What the API showed: the account's window, or the shorter one the runs were told.
      const retentionOf = (account: string) => {
        const actual = sub !== undefined && account === sub.sid ? subRetention : retention;
        return tellRetention ? Math.min(actual, retention) : actual;
      };
      // Each plain snapshot so far, and the messages there were when it read.
      seenAt[index] = Math.max(
        0,
        ...[env.parentSid, ...accounts].flatMap((a) => historyOf(env, a).map((m) => m.seq)),
      );
      const taken = checkpoints.slice(0, index + 1).map((cp, i) => ({ cp, seq: seenAt[i]! }));
      const visibility = noExport
        ? (m: MessageRecord): boolean | 'edge' => {
            const r = retentionOf(m.accountSid) * DAY;
            if (taken.some(({ cp }) => Math.abs(m.dateSent - (cp - r)) <= DAY)) return 'edge';
            return taken.some(
              ({ cp, seq }) => m.dateSent >= cp - r && m.dateSent <= cp && m.seq <= seq,
            );
          }
        : undefined;
      const verdict = await judge(
        env,
        accounts,
        exported.optouts,
        options.seed,
        index,
        visibility,
        // Not told the window, or told a longer one than an account keeps, a run without Bulk
        // Export takes it on trust (documented: docs/commands.md, "The window checked"); told
        // no more than every account keeps, its coverage must hold.
        noExport && !(tellRetention && (sub === undefined || subRetention >= retention))
          ? undefined
          : exported.coverage.windows,
      );
      findings.push(...verdict.findings);
      for (const [k, n] of Object.entries(verdict.failSafe)) failSafe[k] = (failSafe[k] ?? 0) + n;
      invisible += verdict.invisible;
      truthPairs = verdict.truthPairs;
      ledgerRows = verdict.ledgerRows;
    };

    // Bulk: thousands of messages that are no evidence, some in bursts of one second, so that
    // slices take many pages and are cut while read; keyword events land inside the bursts.
    const bulk = rng.chance(0.5);
    const burstTimes: number[] = [];
    if (bulk) {
      const traffic: NonNullable<Parameters<typeof env.seed>[0]['messages']> = [];
      const n = 2000 + rng.int(4000);
      for (let i = 0; i < n; i++) {
        const at =
          burstTimes.length > 0 && rng.chance(0.5)
            ? rng.pick(burstTimes)
            : NOW0 - 700 * DAY + Math.floor((rng.next() * 700 * DAY) / 1000) * 1000;
        if (burstTimes.length < 4 && rng.chance(0.002)) burstTimes.push(at);
        const from = rng.pick(parentNumbers);
        traffic.push({
          from,
          to: rng.pick(users),
          body: 'promo',
          direction: 'outbound-api',
          date_sent: at,
        });
      }
      description.push(`bulk ${n} (${burstTimes.length} bursts)`);
      // Only history before the first checkpoint: later messages arrive with their batch.
      const first = checkpoints[0]!;
      await env.seed({ messages: traffic.filter((m) => (m.date_sent as number) < first) });
      later = traffic.filter((m) => (m.date_sent as number) >= first);
      for (const b of burstTimes) times.push(b, b);
      times.sort((a, b) => a - b);
    }
    const flushLater = async (upTo: number) => {
      const due = later.filter((m) => (m.date_sent as number) < upTo);
      if (due.length === 0) return;
      later = later.filter((m) => (m.date_sent as number) >= upTo);
      await env.seed({ messages: due });
    };

    // Play the history.
    for (const t of times) {
      while (cpIndex < checkpoints.length - 1 && checkpoints[cpIndex]! <= t) {
        await flushLater(checkpoints[cpIndex]!);
        await snapshotAt(checkpoints[cpIndex]!, cpIndex);
        cpIndex += 1;
      }
      now = t;
      const r = rng.next();
      const user = rng.pick(users);
      const number = rng.pick(allNumbers);
      if (r < 0.45) {
        // Seeded history: as given, with the number's service now, or another.
        const current = env.emulator.state.numberByPhone(number)!.serviceSid;
        const ms = rng.chance(0.15)
          ? rng.pick(
              [null, s1, s2].filter((s) => accountOf(number) === env.parentSid || s === null),
            )
          : current;
        await env.seed({
          messages: [
            {
              from: user,
              to: number,
              body: randomBody(rng, exotic),
              direction: 'inbound',
              date_sent: t,
              messaging_service_sid: ms,
            },
          ],
        });
      } else if (r < 0.7) {
        // Live inbound, routed now: a number in S2 drops it (Twilio still applies a STOP).
        await env.control('POST', '/__emulator/inbound', {
          from: user,
          to: number,
          body: randomBody(rng, exotic),
          date_sent: new Date(t).toISOString(),
        });
      } else if (r < 0.93) {
        // A send: refused with 21610 when the recipient opted out of the sender or its service.
        const account = accountOf(number);
        const viaService = env.emulator.state.numberByPhone(number)!.serviceSid;
        const init =
          viaService !== null && rng.chance(0.4)
            ? { messagingServiceSid: viaService, to: user, body: 'promo' }
            : { from: number, to: user, body: 'promo' };
        await clientOf(account)
          .messages.create(init)
          .catch((error: { code?: number }) => {
            if (error.code !== 21610) throw error;
          });
      } else {
        // A parent number moves: into S1 or S2, or out of its service.
        const n = rng.pick(parentNumbers);
        const record = env.emulator.state.numberByPhone(n)!;
        const target = rng.pick([s1, s2, null]);
        if (record.serviceSid !== null && record.serviceSid !== target) {
          await env.parent.messaging.v1
            .services(record.serviceSid)
            .phoneNumbers(record.sid)
            .remove();
        }
        if (target !== null && record.serviceSid !== target) {
          await env.parent.messaging.v1
            .services(target)
            .phoneNumbers.create({ phoneNumberSid: record.sid });
        }
      }
    }
    while (cpIndex < checkpoints.length) {
      await flushLater(checkpoints[cpIndex]! + 1);
      await snapshotAt(checkpoints[cpIndex]!, cpIndex);
      cpIndex += 1;
    }
    void subService;
  } catch (error) {
    findings.push({
      seed: options.seed,
      checkpoint: -1,
      kind: 'error',
      detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  } finally {
    await env.close();
    dir.remove();
  }
  return {
    seed: options.seed,
    findings,
    failSafe,
    invisible,
    truthPairs,
    ledgerRows,
    snapshots,
    description,
  };
}

/**
 * Holds an export (`optouts` rows) against the oracle (exactly) and the emulator's opt-out
 * store (no pair Twilio blocks may be missing; a pair it does not block must be fail-safe).
 */
export async function judge(
  env: TestEmulator,
  accounts: readonly string[],
  rows: readonly OptOutExportRow[],
  seed: number,
  index: number,
  /**
   * Without Bulk Export: which messages the snapshots could read ('edge' for those within a
   * day of a window's start, where the pair is not judged). Default: every stored message.
   */
  visibility?: (m: MessageRecord) => boolean | 'edge',
  /** The export's coverage: a STOP not read must lie outside every window it claims read. */
  windows?: readonly { account_sid: string; start: string; end: string }[],
): Promise<{
  findings: Finding[];
  failSafe: Record<string, number>;
  invisible: number;
  truthPairs: number;
  ledgerRows: number;
}> {
  const findings: Finding[] = [];
  const failSafe: Record<string, number> = {};
  let invisible = 0;
  let truthPairs = 0;
  let ledgerRows = 0;
  const options = { seed };
  const exported = { optouts: rows };
  const typeOf = (p: string) => env.emulator.state.numberByPhone(p)?.type ?? null;
  const history = [env.parentSid, ...accounts].flatMap((a) => historyOf(env, a));
  const visible = visibility ?? (() => true);
  const read = history.filter((m) => visible(m) === true);
  const readSids = new Set(read.map((m) => m.sid));
  const expected = oracleOptOuts(read, typeOf);
  // Pairs with evidence at a window's edge are not judged: whether Twilio showed it is a
  // matter of the second.
  const unjudged = new Set(
    history
      .filter((m) => visible(m) === 'edge')
      .map((m) =>
        m.direction === 'inbound'
          ? `${m.accountSid}|${m.messagingServiceSid ?? m.to}|${m.from}`
          : `${m.accountSid}|${m.messagingServiceSid ?? m.from}|${m.to}`,
      ),
  );
  const ours = new Map<string, OptOutExportRow>();
  for (const row of exported.optouts) {
    const key = `${row.account_sid}|${row.messaging_service_sid ?? row.sender_number}|${row.recipient}`;
    if (ours.has(key)) {
      findings.push({
        seed: options.seed,
        checkpoint: index,
        kind: 'ledger-vs-oracle',
        detail: `two rows for ${key}`,
      });
    }
    ours.set(key, row);
  }
  ledgerRows = ours.size;
  for (const key of unjudged) {
    expected.delete(key);
    ours.delete(key);
  }
  for (const [key, want] of expected) {
    const got = ours.get(key);
    const gotShape = got && {
      scope: got.scope,
      evidence: got.evidence,
      keyword: got.keyword,
      body: got.body,
      opted_out_at: got.opted_out_at,
      stop_message_sid: got.stop_message_sid,
      evidence_message_sid: got.evidence_message_sid,
    };
    const { key: _k, tie: _t, ...wantShape } = want;
    if (JSON.stringify(gotShape) !== JSON.stringify(wantShape)) {
      findings.push({
        seed: options.seed,
        checkpoint: index,
        kind: 'ledger-vs-oracle',
        detail: `${key}: oracle ${JSON.stringify(wantShape)} ledger ${JSON.stringify(gotShape ?? null)} | ${pairHistory(history, key)}`,
      });
    }
  }
  for (const key of ours.keys()) {
    if (!expected.has(key)) {
      findings.push({
        seed: options.seed,
        checkpoint: index,
        kind: 'ledger-vs-oracle',
        detail: `${key}: on the ledger's list, not the oracle's: ${JSON.stringify(ours.get(key))} | ${pairHistory(history, key)}`,
      });
    }
  }
  // Against ground truth.
  const truth = await emulatorOptOuts(env);
  truthPairs = truth.length;
  const allTruth = await emulatorOptOuts(env, { all: true });
  const stored = new Set(history.map((m) => m.sid));
  const truthKeys = new Set<string>();
  for (const t of truth) {
    const key = `${t.account_sid}|${t.messaging_service_sid ?? t.sender_number}|${t.recipient}`;
    truthKeys.add(key);
    if (ours.has(key)) continue;
    if (t.message_sid !== null && !stored.has(t.message_sid)) {
      invisible += 1;
      continue;
    }
    if (unjudged.has(key)) continue;
    if (t.message_sid !== null && !readSids.has(t.message_sid)) {
      const claimed = (windows ?? []).find(
        (w) => w.account_sid === t.account_sid && w.start < t.date_sent && t.date_sent < w.end,
      );
      if (claimed !== undefined) {
        findings.push({
          seed: options.seed,
          checkpoint: index,
          kind: 'missing-vs-truth',
          detail: `${key}: Twilio blocks (${t.keyword} ${t.message_sid} ${t.date_sent}); not read, yet inside a window the coverage says was read (${claimed.start} → ${claimed.end})`,
        });
        continue;
      }
      // Older than the Messages API showed, no Bulk Export: coverage says `not read`.
      failSafe['STOP in a span not read (no Bulk Export)'] =
        (failSafe['STOP in a span not read (no Bulk Export)'] ?? 0) + 1;
      continue;
    }
    findings.push({
      seed: options.seed,
      checkpoint: index,
      kind: 'missing-vs-truth',
      detail: `${key}: Twilio blocks (${t.keyword} ${JSON.stringify(t.body)} ${t.message_sid} ${t.date_sent}), not on our list | ${pairHistory(history, key)}`,
    });
  }
  for (const [key, row] of ours) {
    if (truthKeys.has(key)) continue;
    const want = expected.get(key);
    const seen = allTruth.find(
      (t) =>
        `${t.account_sid}|${t.messaging_service_sid ?? t.sender_number}|${t.recipient}` === key,
    );
    const reason =
      want === undefined
        ? null
        : seen !== undefined && seen.message_sid !== null && !stored.has(seen.message_sid)
          ? 'opt-in in no history (a service dropped it)'
          : seen !== undefined && seen.message_sid !== null && !readSids.has(seen.message_sid)
            ? 'opt-in in a span not read (no Bulk Export)'
            : want.tie
              ? 'tie kept as opted out'
              : row.evidence === 'refusal' || latestIsRefusal(read, key)
                ? 'refusal scoped by the service the send went through (Twilio blocked the number)'
                : explainExtra(history, key, typeOf);
    if (reason === null) {
      findings.push({
        seed: options.seed,
        checkpoint: index,
        kind: 'unexplained-extra',
        detail: `${key}: on our list, Twilio does not block | ${pairHistory(history, key)} | truth for the recipient: ${JSON.stringify(allTruth.filter((t) => t.recipient === row.recipient && t.account_sid === row.account_sid).map((t) => [t.scope, t.messaging_service_sid ?? t.sender_number, t.opted_out, t.body, t.date_sent, t.message_sid]))}`,
      });
    } else {
      failSafe[reason] = (failSafe[reason] ?? 0) + 1;
    }
  }

  return { findings, failSafe, invisible, truthPairs, ledgerRows };
}

/** Why an extra row is fail-safe, when the pair's own history says so; null if it does not. */
function explainExtra(
  history: readonly MessageRecord[],
  key: string,
  typeOf: (phone: string) => string | null,
): string | null {
  const events = pairEvents(history, key);
  const inbound = events.filter((m) => m.direction === 'inbound');
  if (inbound.length === 0) return null;
  if (
    inbound.some((m) => m.body.trim().toUpperCase() === 'YES' && oracleTollFree(m.to, typeOf(m.to)))
  ) {
    return 'YES to a NANP toll-free number';
  }
  if (
    inbound.some(
      (m) =>
        oracleKeyword(m.body, false) === null &&
        /^(START|UNSTOP|YES)$/.test(m.body.trim().toUpperCase()),
    )
  ) {
    return 'ambiguous non-ASCII opt-in not honoured';
  }
  if (
    inbound.some(
      (m) =>
        oracleKeyword(m.body, false) === 'opt-out' &&
        !ORACLE_OPT_OUT.includes(m.body.replace(EDGE_SPACE, '').toUpperCase()),
    )
  ) {
    return 'ambiguous folded opt-out kept';
  }
  // Twilio applies a STOP and a START of the same second in the order it saw them.
  const optedOutIn = events.filter((m) => m.dateSent === events[events.length - 1]!.dateSent);
  if (optedOutIn.length > 1) return 'tie kept as opted out';
  return null;
}

/** Whether the pair's latest observation is a refused send (Twilio's block was elsewhere). */
function latestIsRefusal(history: readonly MessageRecord[], key: string): boolean {
  const observations = pairEvents(history, key).filter(
    (m) =>
      m.errorCode === 21610 ||
      (m.direction === 'inbound' &&
        ['opt-out', 'opt-in'].includes(oracleKeyword(m.body, false) ?? '')),
  );
  const last = observations[observations.length - 1];
  return last !== undefined && last.direction !== 'inbound';
}

function pairEvents(history: readonly MessageRecord[], key: string): MessageRecord[] {
  const [account, scope, user] = key.split('|');
  return history.filter((m) => {
    if (m.accountSid !== account) return false;
    const inbound = m.direction === 'inbound';
    const sender = inbound ? m.to : m.from;
    const other = inbound ? m.from : m.to;
    return other === user && (m.messagingServiceSid ?? sender) === scope;
  });
}

function pairHistory(history: readonly MessageRecord[], key: string): string {
  return pairEvents(history, key)
    .filter((m) => m.direction === 'inbound' || m.errorCode !== null)
    .map(
      (m) =>
        `${iso(m.dateSent)} ${m.sid.slice(0, 8)} ${m.direction === 'inbound' ? JSON.stringify(m.body) : `refused ${m.errorCode}`}`,
    )
    .join('; ');
}

export type { Credentials, TwilioPort, TestEmulator };
export { createAccountClient, createParentClient };

/**
 * The built CLI, killed with SIGKILL mid-snapshot at a random request (the emulator answers
 * that many GETs and holds the rest), then run again on the same database: what `optouts`
 * exports then is judged as above. Needs `npm run build`.
 */
export async function runKillTrial(seed: number): Promise<TrialResult> {
  const rng = new Rng(seed);
  // The CLI reads the real clock: the emulator's hour is this one.
  const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const env = await startTestEmulator({ now: () => NOW, seed });
  const dir = tempDir('submigrate-fuzz-kill-');
  const description: string[] = [];
  let findings: Finding[] = [];
  let failSafe: Record<string, number> = {};
  let invisible = 0;
  let truthPairs = 0;
  let ledgerRows = 0;
  const running: RunningCli[] = [];
  try {
    const P = Array.from({ length: 4 }, (_, i) => phone('+1415555', 100 + i));
    const users = Array.from({ length: 6 }, (_, i) => phone('+1650555', 200 + i));
    const { subaccounts, services } = await env.seed({
      subaccounts: [{ friendly_name: 'Sub Kill' }],
      numbers: [
        ...P.map((p) => ({ phone_number: p })),
        { phone_number: '+18005550100', type: 'toll-free' as const },
      ],
      services: [
        {
          friendly_name: 'S1',
          phone_numbers: [P[2]!, P[3]!],
          inbound_request_url: 'https://hooks.example/s1',
        },
      ],
    });
    const sub = subaccounts[0]!;
    const S = phone('+1628555', 300);
    await env.seed({ numbers: [{ phone_number: S, account_sid: sub.sid }] });
    const numbers = [...P, '+18005550100', S];
    const times: number[] = [];
    const messages: NonNullable<Parameters<typeof env.seed>[0]['messages']> = [];
    for (let i = 0; i < 150; i++) {
      const t =
        times.length > 0 && rng.chance(0.3)
          ? rng.pick(times)
          : NOW - 2 * DAY - Math.floor((rng.next() * 700 * DAY) / 1000) * 1000;
      times.push(t);
      messages.push({
        from: rng.pick(users),
        to: rng.pick(numbers),
        body: randomBody(rng, true),
        direction: 'inbound',
        date_sent: t,
        ...(rng.chance(0.1) ? { messaging_service_sid: services[0]!.sid } : {}),
      });
    }
    const traffic = 10_000 + rng.int(20_000);
    for (let i = 0; i < traffic; i++) {
      messages.push({
        from: rng.pick(P),
        to: rng.pick(users),
        body: 'promo',
        direction: 'outbound-api',
        date_sent: NOW - 2 * DAY - Math.floor((rng.next() * 700 * DAY) / 1000) * 1000,
      });
    }
    await env.seed({ messages });
    // Numbers move between services after their history: P0 joins S1, P2 leaves it.
    if (rng.chance(0.7)) {
      const s1 = services[0]!.sid;
      const p0 = env.emulator.state.numberByPhone(P[0]!)!.sid;
      const p2 = env.emulator.state.numberByPhone(P[2]!)!.sid;
      await env.parent.messaging.v1.services(s1).phoneNumbers(p2).remove();
      await env.parent.messaging.v1.services(s1).phoneNumbers.create({ phoneNumberSid: p0 });
      description.push('P0 joined S1, P2 left it');
    }
    // Sends now: refused (21610) where Twilio blocks.
    for (const user of users) {
      for (const from of numbers) {
        if (!rng.chance(0.3)) continue;
        const client = from === S ? env.clientFor(sub.sid, sub.auth_token) : env.parent;
        await client.messages
          .create({ from, to: user, body: 'promo' })
          .catch((error: { code?: number }) => {
            if (error.code !== 21610) throw error;
          });
      }
    }
    const retention = rng.pick([400, 90, 30]);
    await env.control('POST', '/__emulator/settings', { message_retention_days: retention });
    const holdAfter = 4 + rng.int(30);
    const partitions = 1 + rng.int(8);
    description.push(
      `kill: ${traffic} traffic, retention ${retention}, hold after ${holdAfter} GETs, ${partitions} partitions`,
    );
    await env.control('POST', '/__emulator/faults', {
      latency_ms: 2,
      hold_after: holdAfter,
      hold_methods: ['GET'],
    });
    const db = dir.file('ledger.db');
    const args = ['snapshot', '--db', db, '--account', sub.sid, '--partitions', String(partitions)];
    const first = startCli(args, cliEnv(env));
    running.push(first);
    const held = await pollUntil('a held request, or the end', async () => {
      if (first.child.exitCode !== null) return false;
      const health = await env.control<{ held_requests: number }>('GET', '/__emulator/health');
      return health.held_requests > 0 ? true : undefined;
    });
    if (held) first.child.kill('SIGKILL');
    const killed = await first.done;
    description.push(held ? `killed (${killed.signal})` : `ended before the hold (${killed.code})`);
    await env.control('POST', '/__emulator/faults', {
      hold_after: 0,
      hold_methods: [],
      latency_ms: 0,
    });
    const again = await runCli(args, cliEnv(env));
    if (again.code !== 0)
      throw new Error(`snapshot run again: exit ${again.code}: ${again.stderr}`);
    description.push(again.stdout.split('\n')[0] ?? '');
    const out = await runCli(['optouts', '--db', db, '--format', 'json'], cliEnv(env));
    if (out.code !== 0) throw new Error(`optouts: exit ${out.code}: ${out.stderr}`);
    const exported = JSON.parse(out.stdout) as { optouts: OptOutExportRow[] };
    ({ findings, failSafe, invisible, truthPairs, ledgerRows } = await judge(
      env,
      [sub.sid],
      exported.optouts,
      seed,
      0,
    ));
    // Each customer's list (a plan's mapping: a number's own opt-outs and those of the service
    // it is in): every recipient Twilio refuses from one of its numbers must be on it, unless
    // the STOP behind the refusal is in no history.
    const customerOf = new Map([...P, '+18005550100'].map((n) => [n, `c${rng.int(3)}`]));
    writeFileSync(
      dir.file('m.csv'),
      `customer_id,customer_name,phone_number\n${[...customerOf].map(([n, c]) => `${c},Customer ${c},${n}`).join('\n')}\n`,
    );
    const planned = await runCli(
      ['plan', '--mapping', dir.file('m.csv'), '--db', db, '--out', dir.file('p.json')],
      cliEnv(env),
      dir.path,
    );
    if (planned.code !== 0) throw new Error(`plan: exit ${planned.code}: ${planned.stderr}`);
    const stored = new Set(historyOf(env, env.parentSid).map((m) => m.sid));
    for (const customer of new Set(customerOf.values())) {
      const listed = await runCli(
        ['optouts', '--db', db, '--customer', customer, '--format', 'json'],
        cliEnv(env),
      );
      if (listed.code !== 0)
        throw new Error(`optouts --customer: exit ${listed.code}: ${listed.stderr}`);
      const rows = (JSON.parse(listed.stdout) as { optouts: OptOutExportRow[] }).optouts;
      for (const [number, owner] of customerOf) {
        if (owner !== customer) continue;
        const record = env.emulator.state.numberByPhone(number)!;
        for (const user of users) {
          const blocked = env.emulator.state.optOuts.blocking(
            env.parentSid,
            number,
            record.serviceSid,
            user,
          );
          if (blocked === undefined) continue;
          const onList = rows.some(
            (r) =>
              r.recipient === user &&
              ((r.scope === 'number' && r.sender_number === number) ||
                (r.scope === 'service' && r.messaging_service_sid === record.serviceSid)),
          );
          if (onList) continue;
          if (blocked.messageSid !== null && !stored.has(blocked.messageSid)) {
            invisible += 1;
            continue;
          }
          findings.push({
            seed,
            checkpoint: 1,
            kind: 'missing-vs-truth',
            detail: `${customer}'s list: Twilio refuses ${user} from ${number} (${blocked.scope} ${blocked.scopeId}, ${JSON.stringify(blocked.body)} ${blocked.messageSid}), not on the list`,
          });
        }
      }
    }
  } catch (error) {
    findings.push({
      seed,
      checkpoint: -1,
      kind: 'error',
      detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  } finally {
    for (const cli of running) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await Promise.all(running.map((cli) => cli.done));
    await env.close();
    dir.remove();
  }
  return { seed, findings, failSafe, invisible, truthPairs, ledgerRows, snapshots: 2, description };
}
