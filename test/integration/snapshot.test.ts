/**
 * `takeSnapshot` then `exportOptOuts`, through the real SDK over HTTP into a real SQLite file,
 * compared with the emulator's own opt-out store (ground truth Twilio never shows) and with an
 * oracle computed here from the raw message history.
 */

import { beforeAll, describe, expect, it } from 'vitest';

import { isoSeconds } from '../../src/clock.js';
import { listNumbers } from '../../src/db/ledger.js';
import { loadOwlie } from '../../src/emulator/scenarios/owlie.js';
import {
  exportOptOuts,
  readCoverage,
  type OptOutExportRow,
  type SourcedWindow,
} from '../../src/optouts/export.js';
import type { SnapshotResult } from '../../src/optouts/snapshot.js';
import { emulatorOptOuts, type EmulatorOptOut, type TestEmulator } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  exportPairKey,
  fixedClock,
  historyOf,
  isEvidence,
  ledgerDump,
  optedOutFromHistory,
  pairKey,
  snapshotInto,
  withLedger,
} from '../support/snapshot-harness.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const DAY = 86_400_000;

/** docs/opt-out-rules.md, spelled out: the coverage statement must carry exactly these lists. */
const KEYWORD_LISTS = {
  'opt-out': ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'],
  'opt-in': ['START', 'YES', 'UNSTOP'],
  help: ['HELP', 'INFO'],
};

/** Our export and the emulator's store, keyed by pair, each as the same comparable shape. */
function byPair(rows: readonly OptOutExportRow[]) {
  return new Map(
    rows.map((row) => [
      exportPairKey(row),
      {
        account_sid: row.account_sid,
        scope: row.scope,
        sender_number: row.sender_number,
        messaging_service_sid: row.messaging_service_sid,
        recipient: row.recipient,
        keyword: row.keyword,
        body: row.body,
        opted_out_at: row.opted_out_at,
        stop_message_sid: row.stop_message_sid,
      },
    ]),
  );
}

function truthByPair(optouts: readonly EmulatorOptOut[]) {
  return new Map(
    optouts.map((o) => [
      pairKey(o),
      {
        account_sid: o.account_sid,
        scope: o.scope,
        sender_number: o.sender_number,
        messaging_service_sid: o.messaging_service_sid,
        recipient: o.recipient,
        keyword: o.keyword,
        body: o.body,
        opted_out_at: o.date_sent,
        stop_message_sid: o.message_sid,
      },
    ]),
  );
}

/** Numbers as the emulator holds them now, in the shape of the ledger's numbers table. */
async function numbersOfEmulator(env: TestEmulator, accounts: readonly string[]) {
  const state = await env.state();
  const names = new Map(state.services.map((s) => [s.sid, s.friendly_name]));
  return state.numbers
    .filter((n) => accounts.includes(n.account_sid))
    .map((n) => ({
      accountSid: n.account_sid,
      numberSid: n.sid,
      phoneNumber: n.phone_number,
      numberType: n.type,
      messagingServiceSid: n.messaging_service_sid,
      serviceName: n.messaging_service_sid === null ? null : names.get(n.messaging_service_sid),
    }))
    .sort((a, b) => a.numberSid.localeCompare(b.numberSid));
}

describe('snapshot of the Owlie history (12,000 messages)', () => {
  const ws = useCliWorkspace(undefined, {
    now: () => NOW,
    load: (state) => loadOwlie(state, { seed: 11, messages: 12_000, now: NOW }),
  });
  let result: SnapshotResult;
  let exported: Awaited<ReturnType<typeof exportOptOuts>>;
  const dbPath = () => ws.dir.file('ledger.db');
  const tollFree = (phone: string) =>
    ws.env.emulator.state.numberByPhone(phone)?.type === 'toll-free';

  beforeAll(async () => {
    result = await snapshotInto(dbPath(), ws.env.port(), fixedClock(NOW));
    exported = await withLedger(dbPath(), exportOptOuts);
  });

  it('reads the whole history once', () => {
    expect(result.resumed).toBe(false);
    // Every message once through the API; the day files only add the day of the oldest one.
    // Through the API, every message once, but for the second a slice was cut at when it
    // freed a slot for another (both halves read it): a handful at most per slice.
    const fromApi = result.messagesRead - result.exportMessagesRead;
    expect(fromApi).toBeGreaterThanOrEqual(12_000);
    expect(fromApi).toBeLessThan(12_000 + 10 * result.slices);
    expect(ws.env.httpClient.violations).toEqual([]);
  });

  it('exports exactly the emulator’s opt-out store, pair for pair, with the same evidence', async () => {
    const truth = await emulatorOptOuts(ws.env);
    // The scenario has a realistic share of opt-outs, service and number scope both.
    expect(truth.length).toBeGreaterThan(100);
    expect(new Set(truth.map((o) => o.scope))).toEqual(new Set(['number', 'service']));
    expect(exported.optouts).toHaveLength(truth.length);
    const ours = byPair(exported.optouts);
    expect(ours.size).toBe(exported.optouts.length); // one row per pair
    const theirs = truthByPair(truth);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [key, row] of ours) expect({ key, ...row }).toEqual({ key, ...theirs.get(key) });
  });

  it('names, for every pair, the latest opt-out message of that pair in the raw history', () => {
    const history = historyOf(ws.env, ws.env.parentSid);
    expect(history).toHaveLength(12_000);
    const expected = optedOutFromHistory(history, tollFree);
    const bySid = new Map(history.map((m) => [m.sid, m]));
    const ours = new Map(exported.optouts.map((row) => [exportPairKey(row), row]));
    expect([...ours.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, row] of ours) {
      const stop = bySid.get(row.stop_message_sid!);
      expect(stop?.sid, key).toBe(expected.get(key)?.sid);
      expect(stop?.direction).toBe('inbound');
      expect(stop?.from).toBe(row.recipient);
      expect(stop?.to).toBe(row.sender_number);
      expect(stop?.messagingServiceSid ?? null).toBe(row.messaging_service_sid);
      expect(isoSeconds(new Date(stop!.dateSent))).toBe(row.opted_out_at);
      expect(stop?.body).toBe(row.body);
      expect(row.keyword).toBe(stop?.body.trim().toUpperCase());
    }
  });

  it('holds every keyword message and every 21610 refusal as evidence, and nothing else', () => {
    const history = historyOf(ws.env, ws.env.parentSid);
    const evidence = history.filter((m) => isEvidence(m, tollFree));
    const { events } = ledgerDump(dbPath());
    expect(events.map((e) => e['message_sid'])).toEqual(evidence.map((m) => m.sid).sort());
    const refused = events.filter((e) => e['kind'] === 'refused');
    expect(refused.length).toBe(history.filter((m) => m.errorCode === 21610).length);
    expect(refused.length).toBeGreaterThan(0);
    expect(result.ledger.refused).toBe(refused.length);
    // Near-misses are in the history and nowhere in the ledger.
    const nearMisses = history.filter((m) => /^(STOP PLEASE|stop\.|OPT OUT|Stop!)$/.test(m.body));
    expect(nearMisses.length).toBeGreaterThan(0);
    const sids = new Set(events.map((e) => e['message_sid']));
    for (const m of nearMisses) expect(sids.has(m.sid)).toBe(false);
  });

  it('records each number with the Messaging Service it is in now', async () => {
    const numbers = await withLedger(dbPath(), listNumbers);
    const expected = await numbersOfEmulator(ws.env, [ws.env.parentSid]);
    expect(expected.length).toBeGreaterThan(100);
    expect(expected.some((n) => n.messagingServiceSid !== null)).toBe(true);
    expect(expected.some((n) => n.messagingServiceSid === null)).toBe(true);
    expect([...numbers].sort((a, b) => a.numberSid.localeCompare(b.numberSid))).toEqual(expected);
  });

  it('records its window and keyword lists as coverage', async () => {
    const coverage = await withLedger(dbPath(), readCoverage);
    const oldest = historyOf(ws.env, ws.env.parentSid)[0]!.dateSent;
    expect(coverage.snapshot_runs).toEqual([result.runId]);
    expect(coverage.keyword_lists).toEqual(KEYWORD_LISTS);
    // History starts when the account was created (days before its first message). The API
    // showed nothing before the oldest message, which is where its window is said to start:
    // the days before, Bulk Export read.
    expect(coverage.windows.map((w) => [w.account_sid, w.source])).toEqual([
      [ws.env.parentSid, 'export'],
      [ws.env.parentSid, 'api'],
    ]);
    const [older, api] = coverage.windows as [SourcedWindow, SourcedWindow];
    expect(older.start).toBe(
      isoSeconds(new Date(ws.env.emulator.state.account(ws.env.parentSid)!.dateCreated)),
    );
    expect(Date.parse(older.start)).toBeLessThan(oldest - DAY);
    expect(older.end).toBe(api.start);
    expect(Date.parse(api.start)).toBe(oldest);
    expect(api.end).toBe(isoSeconds(new Date(NOW)));
    expect(coverage.not_read).toEqual([]);
    expect(exported.coverage).toEqual(coverage);
  });
});

// ── a small history written by hand: every rule of docs/opt-out-rules.md once ──────────────────────────

const SUB = `AC${'5'.repeat(32)}`;
const SUB_TOKEN = 'd'.repeat(32);
const A = '+14155550101'; // parent, in "Owlie Shared"
const B = '+14155550102'; // parent, in "Owlie Shared"
const C = '+14155550103'; // parent, no service
const TF = '+18445550104'; // parent, toll-free
const D = '+14155550105'; // parent, no service: near-misses only
const E = '+14155550106'; // subaccount, in "Sub Alerts"
const F = '+14155550107'; // subaccount, no service
const user = (n: number) => `+1206555${String(n).padStart(4, '0')}`;
const at = (day: number) => new Date(Date.UTC(2025, 2, day, 10, 0, 0)).toISOString();
const inbound = (from: string, to: string, body: string, day: number, extra = {}) => ({
  from,
  to,
  body,
  direction: 'inbound' as const,
  date_sent: at(day),
  ...extra,
});
const refused = (from: string, to: string, day: number) => ({
  from,
  to,
  body: 'Your appointment is tomorrow.',
  direction: 'outbound-api' as const,
  date_sent: at(day),
  status: 'failed',
  error_code: 21610,
});

// Index in this list = index in the seed result's `messages`.
const MESSAGES = [
  /* 0 */ inbound(user(1), A, 'STOP', 1), // service scope
  /* 1 */ inbound(user(1), B, 'start', 2), // same service, other number: opts back in
  /* 2 */ inbound(user(1), A, ' stop\n', 3), // …and out again
  /* 3 */ inbound(user(1), C, 'STOP', 1), // number scope: another pair, same person
  /* 4 */ inbound(user(2), C, 'Stop', 1),
  /* 5 */ inbound(user(2), C, 'UNSTOP', 2),
  /* 6 */ inbound(user(2), C, 'QUIT', 4), // STOP/START/STOP on a number
  /* 7 */ inbound(user(3), C, 'cancel', 1),
  /* 8 */ inbound(user(3), C, 'Start', 5), // opted back in: not exported
  /* 9 */ inbound(user(4), TF, 'STOP', 1),
  /* 10 */ inbound(user(4), TF, 'YES', 2), // YES does not opt in on toll-free
  /* 11 */ inbound(user(5), TF, 'END', 1),
  /* 12 */ inbound(user(5), TF, 'UNSTOP', 2), // UNSTOP does
  /* 13 */ inbound(user(6), D, 'STOP PLEASE', 1),
  /* 14 */ inbound(user(6), D, 'stop.', 2),
  /* 15 */ inbound(user(6), D, 'OPT OUT', 3),
  /* 16 */ inbound(user(6), D, 'Stop!', 4),
  /* 17 */ inbound(user(6), D, 'please stop texting me', 5),
  /* 18 */ refused(C, user(2), 5), // after the QUIT: the QUIT stays the evidence
  /* 19 */ refused(D, user(7), 5), // Twilio's verdict alone: its STOP was never read
  /* 20 */ inbound(user(8), A, 'Revoke', 1, { messaging_service_sid: null }), // number scope on A
  /* 21 */ inbound(user(9), E, 'Quit', 1), // subaccount, service scope
  /* 22 */ inbound(user(9), F, 'STOPALL', 1), // subaccount, number scope
  /* 23 */ inbound(user(10), C, 'HELP', 1), // recorded, no state
  /* 24 */ inbound(user(11), C, 'END', 1),
  /* 25 */ inbound(user(11), C, 'INFO', 2), // help after an opt-out changes nothing
  /* 26 */ inbound(user(12), D, 'YES', 1), // an opt-in with nothing before it
  /* 27 */ inbound(user(13), A, '\tUNSUBSCRIBE', 6),
  /* 28 */ inbound(user(14), B, 'STOP', 8), // listed before the START it follows in time
  /* 29 */ inbound(user(14), B, 'START', 7),
  /* 30 */ refused(F, user(9), 5),
  /* 31 */ {
    from: A,
    to: user(1),
    body: 'Hello from Owlie',
    direction: 'outbound-api' as const,
    date_sent: at(0),
  },
  /* 32 */ inbound(user(1), A, 'Thanks!', 1),
];

describe('snapshot of a hand-made history with a subaccount', () => {
  const ws = useCliWorkspace(undefined, NOW);
  let sids: string[];
  let services: Map<string, string>;
  let result: SnapshotResult;
  let exported: Awaited<ReturnType<typeof exportOptOuts>>;
  const dbPath = () => ws.dir.file('ledger.db');

  beforeAll(async () => {
    const seeded = await ws.env.seed({
      subaccounts: [{ friendly_name: 'Falcon Flights', sid: SUB, auth_token: SUB_TOKEN }],
      numbers: [
        { phone_number: A },
        { phone_number: B },
        { phone_number: C },
        { phone_number: TF, type: 'toll-free' },
        { phone_number: D },
        { phone_number: E, account_sid: SUB },
        { phone_number: F, account_sid: SUB },
      ],
      services: [
        { friendly_name: 'Owlie Shared', phone_numbers: [A, B] },
        { friendly_name: 'Sub Alerts', account_sid: SUB, phone_numbers: [E] },
      ],
      messages: MESSAGES,
    });
    sids = seeded.messages.map((m) => m.sid);
    services = new Map(seeded.services.map((s) => [s.friendly_name, s.sid]));
    result = await snapshotInto(dbPath(), ws.env.port(), fixedClock(NOW), { accounts: [SUB] });
    exported = await withLedger(dbPath(), exportOptOuts);
  });

  it('exports exactly the opt-outs the rules give, with the last STOP or the refusal as evidence', () => {
    const shared = services.get('Owlie Shared')!;
    const subAlerts = services.get('Sub Alerts')!;
    const P = ws.env.parentSid;
    const expected = [
      [P, 'service', A, shared, user(1), 2],
      [P, 'number', C, null, user(1), 3],
      [P, 'number', C, null, user(2), 6],
      [P, 'number', TF, null, user(4), 9],
      [P, 'number', A, null, user(8), 20],
      [SUB, 'service', E, subAlerts, user(9), 21],
      [SUB, 'number', F, null, user(9), 22],
      [P, 'number', C, null, user(11), 24],
      [P, 'service', A, shared, user(13), 27],
      [P, 'service', B, shared, user(14), 28],
      [P, 'number', D, null, user(7), 19],
    ] as const;
    const rows = exported.optouts.map((r) =>
      JSON.stringify([
        r.account_sid,
        r.scope,
        r.sender_number,
        r.messaging_service_sid,
        r.recipient,
        r.evidence_message_sid,
        r.evidence,
        r.stop_message_sid,
      ]),
    );
    const want = expected.map(([account, scope, sender, service, recipient, index]) => {
      const refusal = MESSAGES[index]!.direction !== 'inbound';
      return JSON.stringify([
        account,
        scope,
        sender,
        service,
        recipient,
        sids[index],
        refusal ? 'refusal' : 'keyword',
        refusal ? null : sids[index],
      ]);
    });
    expect(rows.sort()).toEqual(want.sort());
    const tab = exported.optouts.find((r) => r.recipient === user(13));
    expect(tab?.body).toBe('\tUNSUBSCRIBE');
    expect(tab?.keyword).toBe('UNSUBSCRIBE');
    expect(tab?.opted_out_at).toBe('2025-03-06T10:00:00Z');
    const refusalOnly = exported.optouts.find((r) => r.recipient === user(7));
    expect(refusalOnly).toMatchObject({
      keyword: null,
      body: null,
      stop_message_sid: null,
      opted_out_at: '2025-03-05T10:00:00Z',
      evidence: 'refusal',
      evidence_message_sid: sids[19],
    });
  });

  it('equals the emulator’s opt-out store pair for pair, but for the pair known from a refusal', async () => {
    const truth = await emulatorOptOuts(ws.env);
    expect(truth).toHaveLength(10);
    // Seeded history is stored as given: the STOP behind refusal #19 never reached the store.
    const ours = byPair(exported.optouts.filter((row) => row.evidence === 'keyword'));
    expect(exported.optouts).toHaveLength(11);
    const theirs = truthByPair(truth);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [key, row] of ours) expect({ key, ...row }).toEqual({ key, ...theirs.get(key) });
  });

  it('agrees with the oracle computed from the seeded messages', () => {
    const history = [...historyOf(ws.env, ws.env.parentSid), ...historyOf(ws.env, SUB)];
    const expected = optedOutFromHistory(history, (phone) => phone === TF);
    const ours = new Map(exported.optouts.map((row) => [exportPairKey(row), row]));
    expect([...ours.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, row] of ours) {
      expect(row.evidence_message_sid, key).toBe(expected.get(key)?.sid);
    }
  });

  it('keeps keywords, help and refusals as evidence; near-misses and YES on toll-free not at all', () => {
    const { events } = ledgerDump(dbPath());
    const kinds = new Map(events.map((e) => [e['message_sid'], e['kind']]));
    const kindOf = (index: number) => kinds.get(sids[index]);
    for (const index of [13, 14, 15, 16, 17, 10, 31, 32])
      expect(kindOf(index), `#${index}`).toBe(undefined);
    expect(kindOf(18)).toBe('refused');
    expect(kindOf(19)).toBe('refused');
    expect(kindOf(30)).toBe('refused');
    expect(kindOf(23)).toBe('help');
    expect(kindOf(25)).toBe('help');
    expect(kindOf(26)).toBe('opt-in');
    expect(kindOf(12)).toBe('opt-in');
    expect(events).toHaveLength(MESSAGES.length - 8);
    expect(result.ledger).toEqual({ optOut: 14, optIn: 6, help: 2, refused: 3 });
    const refusal = events.find((e) => e['message_sid'] === sids[30]);
    expect(refusal).toMatchObject({
      account_sid: SUB,
      twilio_number: F,
      end_user: user(9),
      error_code: 21610,
      direction: 'outbound-api',
    });
  });

  it('records the numbers of both accounts with their current service', async () => {
    const numbers = await withLedger(dbPath(), listNumbers);
    const expected = await numbersOfEmulator(ws.env, [ws.env.parentSid, SUB]);
    expect(expected).toHaveLength(7);
    expect([...numbers].sort((a, b) => a.numberSid.localeCompare(b.numberSid))).toEqual(expected);
    const e = numbers.find((n) => n.phoneNumber === E);
    expect(e).toMatchObject({ accountSid: SUB, serviceName: 'Sub Alerts' });
    expect(numbers.find((n) => n.phoneNumber === TF)?.numberType).toBe('toll-free');
  });

  it('states a window per account and the keyword lists as coverage', async () => {
    const coverage = await withLedger(dbPath(), readCoverage);
    expect(coverage.keyword_lists).toEqual(KEYWORD_LISTS);
    expect(coverage.snapshot_runs).toEqual([result.runId]);
    const accounts = coverage.windows.map((w) => w.account_sid).sort();
    expect(accounts).toEqual([ws.env.parentSid, SUB].sort());
    for (const window of coverage.windows) {
      const oldest = historyOf(ws.env, window.account_sid)[0]!.dateSent;
      expect(window.end).toBe(isoSeconds(new Date(NOW)));
      expect(Date.parse(window.start)).toBeLessThanOrEqual(oldest);
      expect(Date.parse(window.start)).toBeGreaterThan(oldest - DAY);
    }
  });
});
