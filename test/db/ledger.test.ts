/**
 * The ledger's verdicts on a real SQLite file: ties within a second go to the opt-out (and
 * are counted), evidence without a date is kept apart and reported, and coverage names the
 * spans of an account's history nobody read.
 */

import { readdirSync, readlinkSync } from 'node:fs';

import type { Statement } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  countTiesResolvedAsOptOut,
  currentOptOuts,
  eachOptOutAsOf,
  insertEvents,
  recordServices,
  replaceAccountsNumbers,
  replaceNumbers,
  servicesLeftByNumber,
  servicesSeenByNumber,
  tollFreeTypes,
  type LedgerEvent,
} from '../../src/db/ledger.js';
import { recordCustomerSubaccount, recordMapping } from '../../src/db/customers.js';
import type { Db } from '../../src/db/open.js';
import { createRun, finishRun, recordHistoryStart } from '../../src/db/snapshot-runs.js';
import { eachListedOptOutDate, exportOptOuts, readCoverage } from '../../src/optouts/export.js';
import { isTollFree } from '../../src/optouts/keywords.js';
import { optOutRowOrder } from '../support/list-order.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const ACCOUNT = `AC${'a'.repeat(32)}`;
const NUMBER = '+14155550100';

let sid = 0;
function event(overrides: Partial<LedgerEvent>): LedgerEvent {
  sid += 1;
  return {
    messageSid: `SM${String(sid).padStart(32, '0')}`,
    accountSid: ACCOUNT,
    kind: 'opt-out',
    keyword: 'STOP',
    twilioNumber: NUMBER,
    endUser: '+12065550001',
    channel: null,
    messagingServiceSid: null,
    direction: 'inbound',
    body: 'STOP',
    dateSent: '2025-03-01T10:00:00Z',
    errorCode: null,
    ...overrides,
  };
}

function run(db: Db, windows: [string, string][], status: 'completed' | 'running'): number {
  const id = createRun(
    db,
    {
      parentAccountSid: ACCOUNT,
      startedAt: '2025-06-01T00:00:00Z',
      pid: 1,
      hostname: 'test',
      partitions: 1,
      keywordsJson: '{}',
      explicitWindow: false,
      madeBy: 'snapshot',
    },
    windows.map(([windowStart, windowEnd]) => ({ accountSid: ACCOUNT, windowStart, windowEnd })),
    [],
  );
  if (status === 'completed') finishRun(db, id, 'completed', '2025-06-01T00:00:01Z');
  return id;
}

describe('the ledger on a real database', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('tollFreeTypes keeps only toll-free types, and gives isTollFree the verdict every type gives', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const numbers: [string, string | null][] = [
        ['+14155550101', 'toll-free'], // reported toll-free, local area code
        ['+14155550102', 'TollFree'],
        ['+14155550103', 'local'],
        ['+18005550104', 'local'], // a toll-free area code decides, whatever the type
        ['+18005550105', null],
        ['+14155550106', null],
        ['+14155550107', 'toll free'],
        ['+14155550108', 'tollfreeish-but-not'], // matches the same /toll.?free/ as before
        ['+14155550109', 'toll--free'], // LIKE matches, the type check does not
      ];
      replaceNumbers(
        db,
        id,
        ACCOUNT,
        '2025-06-01T00:00:00Z',
        numbers.map(([phoneNumber, numberType], i) => ({
          accountSid: ACCOUNT,
          numberSid: `PN${String(i).padStart(32, '0')}`,
          phoneNumber,
          numberType,
          messagingServiceSid: null,
          serviceName: null,
        })),
      );
      const types = tollFreeTypes(db);
      expect([...types.keys()].sort()).toEqual([
        '+14155550101',
        '+14155550102',
        '+14155550107',
        '+14155550108',
      ]);
      for (const [phone, type] of numbers) {
        expect(isTollFree(phone, types.get(phone) ?? null), phone).toBe(isTollFree(phone, type));
      }
    });
  });

  it('evidence read twice is one row; evidence it cannot hold is an error, never skipped', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const stop = event({});
      expect(insertEvents(db, id, [stop])).toBe(1);
      expect(insertEvents(db, id, [stop])).toBe(0);
      // A refusal without a sender number (as `null` slipped through a parser would be): the
      // pair would silently leave the list.
      const senderless = event({ kind: 'refused', twilioNumber: null as unknown as string });
      const undated = { ...senderless, messageSid: `${senderless.messageSid}u`, dateSent: null };
      expect(() => insertEvents(db, id, [senderless])).toThrow(/NOT NULL/);
      expect(() => insertEvents(db, id, [undated])).toThrow(/NOT NULL/);
      expect(currentOptOuts(db).map((row) => row.evidenceMessageSid)).toEqual([stop.messageSid]);
    });
  });

  it('a tie between an opt-out and an opt-in in one second is an opt-out, whatever the SIDs', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const users = ['+12065550001', '+12065550002'];
      // One pair with the START's SID larger, one with the STOP's: both must come out opted out.
      insertEvents(db, id, [
        event({ endUser: users[0], messageSid: `SM${'1'.repeat(32)}` }),
        event({
          endUser: users[0],
          kind: 'opt-in',
          keyword: 'START',
          body: 'START',
          messageSid: `SM${'f'.repeat(32)}`,
        }),
        event({ endUser: users[1], messageSid: `SM${'e'.repeat(32)}` }),
        event({
          endUser: users[1],
          kind: 'opt-in',
          keyword: 'START',
          body: 'START',
          messageSid: `SM${'2'.repeat(32)}`,
        }),
        // A later opt-in, a second after, still wins for a third person.
        event({ endUser: '+12065550003' }),
        event({
          endUser: '+12065550003',
          kind: 'opt-in',
          keyword: 'START',
          dateSent: '2025-03-01T10:00:01Z',
        }),
      ]);
      expect(currentOptOuts(db).map((row) => row.recipient)).toEqual(users);
      expect(countTiesResolvedAsOptOut(db)).toBe(2);
      expect(readCoverage(db).ties_resolved_as_opt_out).toBe(2);
    });
  });

  it('a scope as it stood at a moment: later evidence is left out, per moment asked', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      insertEvents(db, id, [
        event({ dateSent: '2025-02-01T00:00:00Z' }),
        event({
          kind: 'opt-in',
          keyword: 'START',
          body: 'START',
          dateSent: '2025-04-01T00:00:00Z',
        }),
      ]);
      expect(currentOptOuts(db)).toEqual([]);
      const rows = [
        ...eachOptOutAsOf(db, [
          { accountSid: ACCOUNT, scope: NUMBER, asOf: '2025-03-01T00:00:00Z' },
          { accountSid: ACCOUNT, scope: NUMBER, asOf: '2025-05-01T00:00:00Z' },
          { accountSid: ACCOUNT, scope: NUMBER, asOf: '2025-01-15T00:00:00Z' },
        ]),
      ];
      expect(rows.map((r) => [r.scopeIndex, r.recipient, r.optedOutAt])).toEqual([
        [0, '+12065550001', '2025-02-01T00:00:00Z'],
      ]);
    });
  });

  it('a scope as it stood at a moment: since when each pair has stood, its first opt-out or refusal since its last opt-in', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const [r1, r2, r3, r4] = ['+12065550001', '+12065550002', '+12065550003', '+12065550004'];
      const at = (day: number) => `2025-02-${String(day).padStart(2, '0')}T00:00:00Z`;
      const UNSEEN = `MG${'9'.repeat(32)}`;
      insertEvents(db, id, [
        // STOP, STOP again: since the first.
        event({ endUser: r1, dateSent: at(1) }),
        event({ endUser: r1, dateSent: at(3) }),
        // Refused, then STOP: since the refusal.
        event({
          endUser: r2,
          kind: 'refused',
          keyword: null,
          direction: 'outbound-api',
          dateSent: at(2),
        }),
        event({ endUser: r2, dateSent: at(4) }),
        // STOP, START, STOP, STOP: since the STOP after the START.
        event({ endUser: r3, dateSent: at(1) }),
        event({ endUser: r3, kind: 'opt-in', keyword: 'START', dateSent: at(2) }),
        event({ endUser: r3, dateSent: at(5) }),
        event({ endUser: r3, dateSent: at(6) }),
        // Through a SID no one saw as a service, to two numbers: one pair, since the earlier.
        event({ endUser: r4, messagingServiceSid: UNSEEN, dateSent: at(7) }),
        event({
          endUser: r4,
          messagingServiceSid: UNSEEN,
          twilioNumber: '+14155550101',
          dateSent: at(3),
        }),
      ]);
      const rows = [
        ...eachOptOutAsOf(db, [
          { accountSid: ACCOUNT, scope: NUMBER, asOf: '2025-05-01T00:00:00Z' },
          { accountSid: ACCOUNT, scope: UNSEEN, asOf: '2025-05-01T00:00:00Z' },
          // As of before the second STOPs: since the first, named by it.
          { accountSid: ACCOUNT, scope: NUMBER, asOf: at(2) },
        ]),
      ];
      expect(
        rows.map((r) => [r.scopeIndex, r.recipient, r.optedOutAt, r.standsSince, r.priorOptOutAt]),
      ).toEqual([
        // (and the STOP before the latest since the last opt-in: none after a refusal alone)
        [0, r1, at(3), at(1), at(1)],
        [0, r2, at(4), at(2), null],
        [0, r3, at(6), at(5), at(5)],
        [1, r4, at(7), at(3), at(3)],
        [2, r1, at(1), at(1), null],
        [2, r2, at(2), at(2), null],
      ]);
    });
  });

  it("a scope as it stood at a moment: each event's scope looked up, never every scope scanned for each event", async () => {
    // reconcile asks for every moved number's scopes at once: 3,000 numbers' scopes, each
    // scanned for each of 60,000 events, took minutes.
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      insertEvents(db, id, [event({}), event({ twilioNumber: '+14155550101' })]);
      const scopes = ['+14155550101', NUMBER].map((scope) => ({
        accountSid: ACCOUNT,
        scope,
        asOf: '2025-05-01T00:00:00Z',
      }));
      let sql = '';
      const prepare = db.prepare;
      db.prepare = ((text: string) => prepare.call(db, (sql = text))) as Db['prepare'];
      try {
        expect([...eachOptOutAsOf(db, scopes)].map((r) => r.scopeIndex)).toEqual([0, 1]);
      } finally {
        db.prepare = prepare;
      }
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(JSON.stringify(scopes)) as {
        id: number;
        parent: number;
        detail: string;
      }[];
      // A scan inside another loop of the same query (one before it, under the same parent)
      // runs once per row of that loop; a scan alone (the events once, the JSON once) does not.
      const nested = plan.filter(
        (row, i) =>
          /^SCAN /.test(row.detail) &&
          plan.slice(0, i).some((r) => r.parent === row.parent && /^(SCAN|SEARCH)/.test(r.detail)),
      );
      expect(nested.map((row) => row.detail)).toEqual([]);
    });
  });

  it('an opt-in through a SID not seen as a service of the account lifts only what its own number took', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const DEFAULT_SID = `MG${'d'.repeat(32)}`;
      const OTHER = '+14155550101';
      const P = '+12065550001';
      const Q = '+12065550002';
      const R = '+12065550003';
      const optIn = (overrides: Partial<LedgerEvent>) =>
        event({ kind: 'opt-in', keyword: 'START', body: 'START', ...overrides });
      const stopP = event({
        endUser: P,
        messagingServiceSid: DEFAULT_SID,
        dateSent: '2025-02-01T00:00:00Z',
      });
      const stopR = event({ endUser: R, twilioNumber: OTHER, dateSent: '2025-02-01T00:00:00Z' });
      insertEvents(db, id, [
        // P: STOP to NUMBER, START to OTHER, both under the SID. Twilio may hold the SID as
        // its default for numbers in no service: P is still opted out of NUMBER.
        stopP,
        optIn({
          endUser: P,
          twilioNumber: OTHER,
          messagingServiceSid: DEFAULT_SID,
          dateSent: '2025-03-01T00:00:00Z',
        }),
        // Q: STOP and START to NUMBER under the SID: lifted under either reading.
        event({ endUser: Q, messagingServiceSid: DEFAULT_SID, dateSent: '2025-02-01T00:00:00Z' }),
        optIn({ endUser: Q, messagingServiceSid: DEFAULT_SID, dateSent: '2025-03-01T00:00:00Z' }),
        // R: a STOP to OTHER with no SID, a START to OTHER under the SID: if the SID is a
        // service, its START does not lift the number's own opt-out.
        stopR,
        optIn({
          endUser: R,
          twilioNumber: OTHER,
          messagingServiceSid: DEFAULT_SID,
          dateSent: '2025-03-01T00:00:00Z',
        }),
      ]);
      const listed = () =>
        currentOptOuts(db).map((r) => [
          r.recipient,
          r.scope,
          r.messagingServiceSid,
          r.stopMessageSid,
        ]);
      expect(listed()).toEqual([
        [R, 'number', null, stopR.messageSid],
        [P, 'service', DEFAULT_SID, stopP.messageSid],
      ]);
      // As it stood after the START, for the SID's scope: P still listed.
      expect(
        [
          ...eachOptOutAsOf(db, [
            { accountSid: ACCOUNT, scope: DEFAULT_SID, asOf: '2025-04-01T00:00:00Z' },
          ]),
        ].map((r) => r.recipient),
      ).toEqual([P]);
      // Once a snapshot lists it as a service of the account, a START through it lifts the
      // service's opt-outs, as Twilio's does.
      recordServices(db, ACCOUNT, '2025-05-01T00:00:00Z', [DEFAULT_SID]);
      expect(listed()).toEqual([[R, 'number', null, stopR.messageSid]]);
    });
  });

  it('coverage lists its snapshot runs in the order they ran, not by the days they read', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      // The second run read days before the first one's (a backfill of older history).
      const first = run(db, [['2025-03-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const second = run(db, [['2025-01-01T00:00:00Z', '2025-03-01T00:00:00Z']], 'completed');
      expect(second).toBeGreaterThan(first);
      expect(readCoverage(db).snapshot_runs).toEqual([first, second]);
    });
  });

  it("gives the list in its order from SQLite: optOutRowOrder's, whatever the customer ids hold", async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const SERVICE = `MG${'7'.repeat(32)}`;
      const number = (n: number) => `+1415555070${n}`;
      // Four numbers of four customers, ids beyond U+FFFF and past 'z'; a service two of them
      // share; a fifth number nobody claims. Recipients and SIDs in no customer's order.
      const claims = {
        numbers: [
          { phoneNumber: number(1), customerId: '😀 Pizza', services: [SERVICE] },
          { phoneNumber: number(2), customerId: '\uffff', services: [] },
          { phoneNumber: number(3), customerId: 'acme', services: [SERVICE] },
          { phoneNumber: number(4), customerId: 'Ａcme', services: [] },
        ],
        subaccounts: new Map<string, string>(),
      };
      const events = [5, 4, 3, 2, 1].flatMap((n) =>
        ['+12065550003', '+12065550001', '+12065550002'].map((endUser) =>
          event({ twilioNumber: number(n), endUser }),
        ),
      );
      events.push(
        event({ twilioNumber: number(1), endUser: '+12065550002', messagingServiceSid: SERVICE }),
      );
      insertEvents(db, id, events);
      const { optouts } = exportOptOuts(db, 'l.db', { claims });
      const runs = (id: string | null, n: number) => Array<string | null>(n).fill(id);
      expect(optouts.map((r) => r.customer_id)).toEqual([
        ...runs('acme', 4),
        ...runs('Ａcme', 3),
        ...runs('\uffff', 3),
        ...runs('😀 Pizza', 4),
        ...runs(null, 3),
      ]);
      expect(optouts).toEqual([...optouts].sort(optOutRowOrder));
      // One recipient twice for a customer (its number's STOP and its service's): by evidence.
      const acme = optouts.filter((r) => r.customer_id === 'acme').map((r) => r.recipient);
      expect(acme).toEqual(['+12065550001', '+12065550002', '+12065550002', '+12065550003']);
    });
  });

  describe('a send Twilio refused with 21610 counts as an opt-out', () => {
    const SERVICE = `MG${'5'.repeat(32)}`;
    const OTHER_NUMBER = '+14155550199';
    const refused = (overrides: Partial<LedgerEvent>) =>
      event({
        kind: 'refused',
        keyword: null,
        direction: 'outbound-api',
        body: 'Your order shipped',
        errorCode: 21610,
        ...overrides,
      });
    const start = (overrides: Partial<LedgerEvent>) =>
      event({ kind: 'opt-in', keyword: 'START', body: 'START', ...overrides });

    it('a pair known only from refusals is listed from its first refusal after the last opt-in', async () => {
      await withLedger(dir.file('l.db'), (db) => {
        const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
        const before = refused({ dateSent: '2025-02-01T09:00:00Z' });
        const first = refused({ dateSent: '2025-04-01T09:00:00Z' });
        insertEvents(db, id, [
          // Refused, opted back in, then refused twice more: listed from the first after START.
          before,
          start({ dateSent: '2025-03-01T09:00:00Z' }),
          refused({ dateSent: '2025-05-01T09:00:00Z' }),
          first,
        ]);
        expect(currentOptOuts(db)).toEqual([
          {
            accountSid: ACCOUNT,
            scope: 'number',
            senderNumber: NUMBER,
            messagingServiceSid: null,
            recipient: '+12065550001',
            evidence: 'refusal',
            keyword: null,
            body: null,
            optedOutAt: '2025-04-01T09:00:00Z',
            stopMessageSid: null,
            evidenceMessageSid: first.messageSid,
            channel: null,
          },
        ]);
        const [row] = exportOptOuts(db).optouts;
        expect(row).toMatchObject({
          keyword: null,
          body: null,
          stop_message_sid: null,
          opted_out_at: '2025-04-01T09:00:00Z',
          evidence: 'refusal',
          evidence_message_sid: first.messageSid,
        });
        expect(countTiesResolvedAsOptOut(db)).toBe(0);
      });
    });

    it('a later START takes the pair off the list', async () => {
      await withLedger(dir.file('l.db'), (db) => {
        const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
        insertEvents(db, id, [
          refused({ dateSent: '2025-04-01T09:00:00Z' }),
          start({ dateSent: '2025-04-01T09:00:01Z' }),
        ]);
        expect(currentOptOuts(db)).toEqual([]);
        expect(countTiesResolvedAsOptOut(db)).toBe(0);
      });
    });

    it('a START and a refusal in one second keep the pair on the list, counted as a tie', async () => {
      await withLedger(dir.file('l.db'), (db) => {
        const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
        const refusal = refused({
          dateSent: '2025-04-01T09:00:00Z',
          messageSid: `SM${'1'.repeat(32)}`,
        });
        insertEvents(db, id, [
          refused({ dateSent: '2025-02-01T09:00:00Z' }),
          start({ dateSent: '2025-04-01T09:00:00Z', messageSid: `SM${'f'.repeat(32)}` }),
          refusal,
        ]);
        expect(currentOptOuts(db)).toMatchObject([
          {
            evidence: 'refusal',
            optedOutAt: '2025-04-01T09:00:00Z',
            evidenceMessageSid: refusal.messageSid,
          },
        ]);
        expect(countTiesResolvedAsOptOut(db)).toBe(1);
        expect(readCoverage(db).ties_resolved_as_opt_out).toBe(1);
      });
    });

    it('a STOP since the last opt-in stays the evidence when refusals follow it', async () => {
      await withLedger(dir.file('l.db'), (db) => {
        const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
        const stop = event({ keyword: 'QUIT', body: ' quit ', dateSent: '2025-03-01T09:00:00Z' });
        insertEvents(db, id, [
          // An older refusal, before the START: not this opt-out's evidence.
          refused({ dateSent: '2025-01-15T09:00:00Z' }),
          start({ dateSent: '2025-02-01T09:00:00Z' }),
          stop,
          refused({ dateSent: '2025-04-01T09:00:00Z' }),
          refused({ dateSent: '2025-05-01T09:00:00Z' }),
        ]);
        expect(currentOptOuts(db)).toEqual([
          {
            accountSid: ACCOUNT,
            scope: 'number',
            senderNumber: NUMBER,
            messagingServiceSid: null,
            recipient: '+12065550001',
            evidence: 'keyword',
            keyword: 'QUIT',
            body: ' quit ',
            optedOutAt: '2025-03-01T09:00:00Z',
            stopMessageSid: stop.messageSid,
            evidenceMessageSid: stop.messageSid,
            channel: null,
          },
        ]);
      });
    });

    it('a STOP before the last opt-in is not the evidence of a refusal after it', async () => {
      await withLedger(dir.file('l.db'), (db) => {
        const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
        const refusal = refused({ dateSent: '2025-04-01T09:00:00Z' });
        insertEvents(db, id, [
          event({ dateSent: '2025-02-01T09:00:00Z' }),
          start({ dateSent: '2025-03-01T09:00:00Z' }),
          refusal,
        ]);
        expect(currentOptOuts(db)).toMatchObject([
          { evidence: 'refusal', stopMessageSid: null, evidenceMessageSid: refusal.messageSid },
        ]);
      });
    });

    it('is scoped by the service the refused send went through, else by the sending number', async () => {
      await withLedger(dir.file('l.db'), (db) => {
        const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
        const viaService = refused({
          endUser: '+12065550002',
          messagingServiceSid: SERVICE,
          twilioNumber: OTHER_NUMBER,
          dateSent: '2025-04-01T09:00:00Z',
        });
        const direct = refused({ endUser: '+12065550003', dateSent: '2025-04-01T09:00:00Z' });
        insertEvents(db, id, [
          viaService,
          direct,
          // A START to the number alone does not lift the service-wide opt-out, nor a START
          // through the service the number-scope one.
          start({ endUser: '+12065550002', dateSent: '2025-05-01T09:00:00Z' }),
          start({
            endUser: '+12065550003',
            messagingServiceSid: SERVICE,
            dateSent: '2025-05-01T09:00:00Z',
          }),
        ]);
        expect(
          currentOptOuts(db).map((row) => [
            row.recipient,
            row.scope,
            row.senderNumber,
            row.messagingServiceSid,
            row.evidenceMessageSid,
          ]),
        ).toEqual([
          ['+12065550003', 'number', NUMBER, null, direct.messageSid],
          ['+12065550002', 'service', OTHER_NUMBER, SERVICE, viaService.messageSid],
        ]);
        // START through the service: the service-scope pair is lifted.
        insertEvents(db, id, [
          start({
            endUser: '+12065550002',
            messagingServiceSid: SERVICE,
            twilioNumber: OTHER_NUMBER,
            dateSent: '2025-05-02T09:00:00Z',
          }),
        ]);
        expect(currentOptOuts(db).map((row) => row.recipient)).toEqual(['+12065550003']);
      });
    });
  });

  // A SID no snapshot saw as a service of the account may be Twilio's default value for a
  // message without one, the same for every number in no service: its evidence is judged per
  // number (a START lifts only what its own number took), and its pairs are listed once.
  it.each([
    ['a service seen in the account', true],
    ['a SID never seen as a service', false],
  ])('agrees with the rules read plainly on a crowded random ledger: %s', async (_, known) => {
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const SERVICE = `MG${'1'.repeat(32)}`;
      if (known) recordServices(db, ACCOUNT, '2025-01-01T00:00:00Z', [SERVICE]);
      // Few seconds, senders and people: most pairs hold ties and every mix of kinds.
      let seed = 9;
      const pick = <T>(items: readonly T[]): T => {
        seed = (seed * 48271) % 2147483647;
        return items[seed % items.length]!;
      };
      const kinds = ['opt-out', 'opt-in', 'refused', 'help'] as const;
      const events = Array.from({ length: 3000 }, (_, i) => {
        const kind = pick(kinds);
        return event({
          messageSid: `SM${pick(['0', '7', 'f'])}${String(i).padStart(31, '0')}`,
          kind,
          keyword: kind === 'refused' ? null : 'STOP',
          twilioNumber: pick([NUMBER, '+14155550101']),
          messagingServiceSid: pick([null, SERVICE]),
          endUser: `+1206555${String(pick([...Array(40).keys()])).padStart(4, '0')}`,
          dateSent: `2025-03-01T10:00:0${pick([0, 1, 2, 3])}Z`,
        });
      });
      insertEvents(db, id, events);

      const pairs = new Map<string, LedgerEvent[]>();
      for (const e of events.filter((e) => e.kind !== 'help')) {
        const scope =
          e.messagingServiceSid === null
            ? e.twilioNumber
            : known
              ? e.messagingServiceSid
              : `${e.messagingServiceSid} ${e.twilioNumber}`;
        const key = [e.accountSid, scope, e.endUser].join(' ');
        pairs.set(key, [...(pairs.get(key) ?? []), e]);
      }
      // Per listed pair (scope as listed, end user): the evidence of each of its partitions.
      const listed = new Map<string, LedgerEvent[]>();
      // And every opt-out or refusal since the last opt-in of each of its partitions.
      const standing = new Map<string, LedgerEvent[]>();
      let ties = 0;
      for (const list of pairs.values()) {
        const latest = (kind: (k: string) => boolean) =>
          list
            .filter((e) => kind(e.kind))
            .reduce((a, e) => (e.dateSent! > a ? e.dateSent! : a), '');
        const lastIn = latest((k) => k === 'opt-in');
        const lastOut = latest((k) => k !== 'opt-in');
        if (lastIn !== '' && lastIn === lastOut) ties += 1;
        const since = list.filter((e) => e.kind !== 'opt-in' && e.dateSent! >= lastIn);
        if (since.length === 0) continue;
        const stop = since
          .filter((e) => e.kind === 'opt-out')
          .sort(
            (a, b) =>
              b.dateSent!.localeCompare(a.dateSent!) || b.messageSid.localeCompare(a.messageSid),
          )[0];
        const refusal = since.sort(
          (a, b) =>
            a.dateSent!.localeCompare(b.dateSent!) || a.messageSid.localeCompare(b.messageSid),
        )[0]!;
        const first = list[0]!;
        const key = [first.messagingServiceSid ?? first.twilioNumber, first.endUser].join(' ');
        listed.set(key, [...(listed.get(key) ?? []), stop ?? refusal]);
        standing.set(key, [...(standing.get(key) ?? []), ...since]);
      }
      // One row per listed pair: the latest STOP of its partitions, else the first refusal.
      const expected: [string, string][] = [...listed.values()].map((found) => {
        const stops = found
          .filter((e) => e.kind === 'opt-out')
          .sort(
            (a, b) =>
              b.dateSent!.localeCompare(a.dateSent!) || b.messageSid.localeCompare(a.messageSid),
          );
        if (stops.length > 0) return ['keyword', stops[0]!.messageSid];
        const refusals = found.sort(
          (a, b) =>
            a.dateSent!.localeCompare(b.dateSent!) || a.messageSid.localeCompare(b.messageSid),
        );
        return ['refusal', refusals[0]!.messageSid];
      });
      const rows = currentOptOuts(db);
      expect(rows.map((row) => [row.evidence, row.evidenceMessageSid]).sort()).toEqual(
        expected.sort(),
      );
      // As of a moment after all of it, the same pairs, each standing since its first opt-out
      // or refusal since its last opt-in, and with the STOP before its latest (none: null).
      const asOf = [
        ...eachOptOutAsOf(
          db,
          [NUMBER, '+14155550101', SERVICE].map((scope) => ({
            accountSid: ACCOUNT,
            scope,
            asOf: '2025-06-01T00:00:00Z',
          })),
        ),
      ];
      const byDate = (a: LedgerEvent, b: LedgerEvent) =>
        b.dateSent!.localeCompare(a.dateSent!) || b.messageSid.localeCompare(a.messageSid);
      const stood = [...standing.values()].map((since) => {
        const stops = since.filter((e) => e.kind === 'opt-out').sort(byDate);
        const first = since.map((e) => e.dateSent!).sort()[0]!;
        return [since[0]!.endUser, first, stops[1]?.dateSent ?? null];
      });
      expect(asOf.map((r) => [r.recipient, r.standsSince, r.priorOptOutAt]).sort()).toEqual(
        stood.sort(),
      );
      expect(stood.filter(([, , prior]) => prior !== null).length).toBeGreaterThan(10);
      expect(expected.filter(([evidence]) => evidence === 'refusal').length).toBeGreaterThan(10);
      expect(ties).toBeGreaterThan(10);
      expect(countTiesResolvedAsOptOut(db)).toBe(ties);
      if (!known) {
        // Some listed pair had partitions of both numbers: the case that collapses.
        expect([...listed.values()].some((found) => found.length > 1)).toBe(true);
      }
    });
  });

  it('binds a service-scope opt-out to the customer whose subaccount the service is in', async () => {
    // After the move a STOP arrives through the customer's new service, which no mapped number
    // was in before: it is still that customer's, in the export and under --customer.
    await withLedger(dir.file('l.db'), (db) => {
      recordMapping(
        db,
        'sha',
        '2025-05-01T00:00:00Z',
        [{ customerId: 'acme', customerName: 'Acme', messagingService: 'acmeAlerts' }],
        [
          {
            numberSid: `PN${'1'.repeat(32)}`,
            phoneNumber: NUMBER,
            customerId: 'acme',
            sourceAccountSid: `AC${'f'.repeat(32)}`,
            sourceServiceSid: null,
            atSource: false,
          },
        ],
      );
      recordCustomerSubaccount(db, 'acme', ACCOUNT, '2025-05-02T00:00:00Z');
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const NEW_SERVICE = `MG${'9'.repeat(32)}`;
      insertEvents(db, id, [
        event({ endUser: '+12065550001', messagingServiceSid: NEW_SERVICE }),
        // Another account's service, through a number acme never had: nobody's.
        event({
          endUser: '+12065550002',
          messagingServiceSid: `MG${'8'.repeat(32)}`,
          accountSid: `AC${'b'.repeat(32)}`,
          twilioNumber: '+14155550999',
        }),
      ]);
      const rows = exportOptOuts(db).optouts.map((r) => [r.recipient, r.customer_id, r.scope]);
      expect(rows).toEqual([
        ['+12065550001', 'acme', 'service'],
        ['+12065550002', null, 'service'],
      ]);
      expect(
        exportOptOuts(db, 'l.db', { customer: 'acme' }).optouts.map((r) => r.recipient),
      ).toEqual(['+12065550001']);
    });
  });

  it("keeps a service's opt-out on the list of a number that left it, whatever START came through it after the last listing that showed the number there", async () => {
    const SHARED = `MG${'5'.repeat(32)}`;
    const A = '+14155550401';
    const B = '+14155550402';
    const listed = (phoneNumber: string, messagingServiceSid: string | null) => ({
      accountSid: ACCOUNT,
      numberSid: `PN${phoneNumber.slice(2).padStart(32, '0')}`,
      phoneNumber,
      numberType: 'local',
      messagingServiceSid,
      serviceName: messagingServiceSid === null ? null : 'Shared',
    });
    await withLedger(dir.file('l.db'), (db) => {
      recordMapping(
        db,
        'sha',
        '2025-05-01T00:00:00Z',
        [
          { customerId: 'acme', customerName: 'Acme', messagingService: null },
          { customerId: 'beta', customerName: 'Beta', messagingService: null },
        ],
        [A, B].map((phoneNumber, i) => ({
          numberSid: listed(phoneNumber, null).numberSid,
          phoneNumber,
          customerId: i === 0 ? 'acme' : 'beta',
          sourceAccountSid: ACCOUNT,
          sourceServiceSid: SHARED,
          atSource: true,
        })),
      );
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      recordServices(db, ACCOUNT, '2025-05-01T00:00:00Z', [SHARED]);
      // Listed in Shared on 1 May; on 10 May A is in no service (moved out by hand).
      replaceNumbers(db, id, ACCOUNT, '2025-05-01T00:00:00Z', [
        listed(A, SHARED),
        listed(B, SHARED),
      ]);
      replaceNumbers(db, id, ACCOUNT, '2025-05-10T00:00:00Z', [listed(A, null), listed(B, SHARED)]);
      expect(servicesLeftByNumber(db, [])).toEqual(
        new Map([[A, new Map([[SHARED, '2025-04-30T23:58:00Z']])]]),
      );
      const through = (endUser: string, kind: 'opt-out' | 'opt-in', dateSent: string) =>
        event({
          endUser,
          kind,
          keyword: kind === 'opt-out' ? 'STOP' : 'START',
          body: kind === 'opt-out' ? 'STOP' : 'START',
          twilioNumber: B,
          messagingServiceSid: SHARED,
          dateSent,
        });
      insertEvents(db, id, [
        // R1: STOP while A was in Shared, START after the listing that last showed it there.
        through('+12065550001', 'opt-out', '2025-04-01T00:00:00Z'),
        through('+12065550001', 'opt-in', '2025-05-20T00:00:00Z'),
        // R2: STOP and START both before that listing: lifted for A too.
        through('+12065550002', 'opt-out', '2025-04-01T00:00:00Z'),
        through('+12065550002', 'opt-in', '2025-04-02T00:00:00Z'),
        // R3: START a minute before the listing by Twilio's clock: maybe after, kept.
        through('+12065550003', 'opt-out', '2025-04-01T00:00:00Z'),
        through('+12065550003', 'opt-in', '2025-04-30T23:59:00Z'),
        // R4: opted out now: listed once, as it stands (its latest STOP).
        through('+12065550004', 'opt-out', '2025-04-01T00:00:00Z'),
        through('+12065550004', 'opt-in', '2025-05-20T00:00:00Z'),
        through('+12065550004', 'opt-out', '2025-05-21T00:00:00Z'),
      ]);
      const rows = exportOptOuts(db).optouts.map((r) => [
        r.customer_id,
        r.recipient,
        r.opted_out_at,
      ]);
      expect(rows).toEqual([
        ['acme', '+12065550001', '2025-04-01T00:00:00Z'],
        ['acme', '+12065550003', '2025-04-01T00:00:00Z'],
        ['acme', '+12065550004', '2025-05-21T00:00:00Z'],
        // B is in Shared still: the START lifted R1 and R3 for it.
        ['beta', '+12065550004', '2025-05-21T00:00:00Z'],
      ]);
      // The plan's lookup: the pairs A keeps, as its own.
      const phones = new Set([A, B]);
      const kept = [...eachListedOptOutDate(db, phones)].filter((r) => r.scope === 'number');
      expect(kept.map((r) => [r.senderNumber, r.recipient, r.optedOutAt]).sort()).toEqual([
        [A, '+12065550001', '2025-04-01T00:00:00Z'],
        [A, '+12065550003', '2025-04-01T00:00:00Z'],
      ]);
    });
  });

  it("writes where a listing saw each number by one statement per table over the rows just written, never one per number, nor a scan of every account's", async () => {
    // 100,000 numbers were 120,000 upserts, a fifth of a plan's writes.
    const OTHER = `AC${'b'.repeat(32)}`;
    const SHARED = `MG${'6'.repeat(32)}`;
    const listed = (i: number, accountSid: string, messagingServiceSid: string | null) => ({
      accountSid,
      numberSid: `PN${String(i).padStart(32, '0')}`,
      phoneNumber: `+1415555${String(i).padStart(4, '0')}`,
      numberType: 'local',
      messagingServiceSid,
      serviceName: messagingServiceSid === null ? null : 'Shared',
    });
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const runs = new Map<string, number>();
      const prepare = db.prepare;
      db.prepare = ((text: string) => {
        const prepared = prepare.call(db, text) as Statement<unknown[]>;
        const once = prepared.run.bind(prepared);
        prepared.run = (...values: unknown[]) => {
          runs.set(text, (runs.get(text) ?? 0) + 1);
          return once(...values);
        };
        return prepared;
      }) as Db['prepare'];
      try {
        // 1 and 2 in ACCOUNT, 3 to 5 in OTHER; then ACCOUNT listed again: 2 has gone to OTHER
        // (moved by hand), 6 is new; then OTHER again, after ACCOUNT's rows took the highest
        // rowids, holding 2 now.
        const numbers = Array.from({ length: 40 }, (_, i) => listed(100 + i, ACCOUNT, null));
        replaceNumbers(db, id, ACCOUNT, '2025-05-01T00:00:00Z', [
          listed(1, ACCOUNT, SHARED),
          listed(2, ACCOUNT, null),
          ...numbers,
        ]);
        replaceNumbers(
          db,
          id,
          OTHER,
          '2025-05-02T00:00:00Z',
          [3, 4, 5].map((i) => listed(i, OTHER, null)),
        );
        replaceNumbers(db, id, ACCOUNT, '2025-05-03T00:00:00Z', [
          listed(1, ACCOUNT, null),
          listed(6, ACCOUNT, SHARED),
          ...numbers,
        ]);
        replaceNumbers(db, id, OTHER, '2025-05-04T00:00:00Z', [
          listed(2, OTHER, SHARED),
          ...[3, 4, 5].map((i) => listed(i, OTHER, null)),
        ]);
      } finally {
        db.prepare = prepare;
      }
      const seen = (table: string) =>
        [...runs].filter(([text]) => text.includes(`INTO ${table}`)).map(([, n]) => n);
      expect(seen('number_accounts_seen')).toEqual([4]);
      expect(seen('number_services_seen')).toEqual([4]);
      // Each reads the rows just written (by rowid, within the account's rows of its index since
      // migration 029), not every account's numbers.
      for (const text of runs.keys()) {
        if (!/INTO number_(accounts|services)_seen/.test(text)) continue;
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(1, JSON.stringify([ACCOUNT])) as {
          detail: string;
        }[];
        expect(plan.map((row) => row.detail)).toContainEqual(
          expect.stringMatching(
            /^SEARCH numbers USING (INTEGER PRIMARY KEY \(rowid>\?\)|INDEX numbers_by_account \(account_sid=\? AND rowid>\?\))/,
          ),
        );
        expect(plan.map((row) => row.detail)).not.toContainEqual(
          expect.stringMatching(/^SCAN numbers/),
        );
      }
      const sid = (i: number) => `PN${String(i).padStart(32, '0')}`;
      const accounts = db
        .prepare(
          `SELECT number_sid, account_sid, messaging_service_sid, first_seen, last_seen
           FROM number_accounts_seen WHERE number_sid IN (?, ?, ?, ?) ORDER BY number_sid, account_sid`,
        )
        .raw()
        .all(sid(1), sid(2), sid(3), sid(6));
      expect(accounts).toEqual([
        [sid(1), ACCOUNT, null, '2025-05-01T00:00:00Z', '2025-05-03T00:00:00Z'],
        [sid(2), ACCOUNT, null, '2025-05-01T00:00:00Z', '2025-05-01T00:00:00Z'],
        [sid(2), OTHER, SHARED, '2025-05-04T00:00:00Z', '2025-05-04T00:00:00Z'],
        [sid(3), OTHER, null, '2025-05-02T00:00:00Z', '2025-05-04T00:00:00Z'],
        [sid(6), ACCOUNT, SHARED, '2025-05-03T00:00:00Z', '2025-05-03T00:00:00Z'],
      ]);
      expect(db.prepare('SELECT COUNT(*) FROM number_accounts_seen').pluck().get()).toBe(
        40 + 6 + 1,
      );
      expect(
        db
          .prepare(
            `SELECT phone_number, account_sid, first_seen FROM number_services_seen
             ORDER BY phone_number, account_sid`,
          )
          .raw()
          .all(),
      ).toEqual([
        ['+14155550001', ACCOUNT, '2025-05-01T00:00:00Z'],
        ['+14155550002', OTHER, '2025-05-04T00:00:00Z'],
        ['+14155550006', ACCOUNT, '2025-05-03T00:00:00Z'],
      ]);
      expect(
        db
          .prepare('SELECT account_sid, COUNT(*) FROM numbers GROUP BY account_sid ORDER BY 1')
          .raw()
          .all(),
      ).toEqual([
        [ACCOUNT, 42],
        [OTHER, 4],
      ]);
    });
  });

  describe('a number that left a shared service, its listings kept (migration 028)', () => {
    const SHARED = `MG${'5'.repeat(32)}`;
    const SUB = `AC${'6'.repeat(32)}`;
    const A = '+14155550401';
    const B = '+14155550402';
    const listed = (
      phoneNumber: string,
      messagingServiceSid: string | null,
      accountSid = ACCOUNT,
    ) => ({
      accountSid,
      numberSid: `PN${phoneNumber.slice(2).padStart(32, '0')}`,
      phoneNumber,
      numberType: 'local',
      messagingServiceSid,
      serviceName: messagingServiceSid === null ? null : 'Shared',
    });
    /** A (acme) and B (beta) mapped from the parent's Shared; the run the listings are of. */
    function mapped(db: Db): number {
      recordMapping(
        db,
        'sha',
        '2025-05-01T00:00:00Z',
        [
          { customerId: 'acme', customerName: 'Acme', messagingService: null },
          { customerId: 'beta', customerName: 'Beta', messagingService: null },
        ],
        [A, B].map((phoneNumber, i) => ({
          numberSid: listed(phoneNumber, null).numberSid,
          phoneNumber,
          customerId: i === 0 ? 'acme' : 'beta',
          sourceAccountSid: ACCOUNT,
          sourceServiceSid: SHARED,
          atSource: true,
        })),
      );
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      recordServices(db, ACCOUNT, '2025-05-01T00:00:00Z', [SHARED]);
      return id;
    }
    /** The parent listed at `at` with A in `a` (B in Shared throughout). */
    const listing = (db: Db, id: number, at: string, a: string | null) =>
      replaceNumbers(db, id, ACCOUNT, at, [listed(A, a), listed(B, SHARED)]);
    /** R's STOP (1 April) and START (`startAt`) through Shared, both to B. */
    const stopThenStart = (recipient: string, startAt: string) =>
      (['opt-out', 'opt-in'] as const).map((kind) =>
        event({
          endUser: recipient,
          kind,
          keyword: kind === 'opt-out' ? 'STOP' : 'START',
          body: kind === 'opt-out' ? 'STOP' : 'START',
          twilioNumber: B,
          messagingServiceSid: SHARED,
          dateSent: kind === 'opt-out' ? '2025-04-01T00:00:00Z' : startAt,
        }),
      );
    const acmeList = (db: Db) =>
      exportOptOuts(db)
        .optouts.filter((r) => r.customer_id === 'acme')
        .map((r) => r.recipient);
    const seenRow = (db: Db, accountSid = ACCOUNT) =>
      db
        .prepare(
          `SELECT first_seen AS firstSeen, last_seen AS lastSeen, stayed_until AS stayedUntil,
                  left_seen AS leftSeen
           FROM number_services_seen WHERE phone_number = ? AND account_sid = ?`,
        )
        .get(A, accountSid);

    it('dates its leaving at the last listing that showed it there: a START said before it lifts the opt-out', async () => {
      await withLedger(dir.file('l.db'), (db) => {
        const id = mapped(db);
        // In Shared on 1 and 5 May; on 10 May in no service (moved out by hand).
        listing(db, id, '2025-05-01T00:00:00Z', SHARED);
        listing(db, id, '2025-05-05T00:00:00Z', SHARED);
        listing(db, id, '2025-05-10T00:00:00Z', null);
        expect(seenRow(db)).toEqual({
          firstSeen: '2025-05-01T00:00:00Z',
          lastSeen: '2025-05-05T00:00:00Z',
          stayedUntil: '2025-05-05T00:00:00Z',
          leftSeen: '2025-05-10T00:00:00Z',
        });
        expect(servicesLeftByNumber(db, [])).toEqual(
          new Map([[A, new Map([[SHARED, '2025-05-04T23:58:00Z']])]]),
        );
        insertEvents(db, id, [
          // R1: START between the two listings that showed A in Shared: lifted for A too.
          ...stopThenStart('+12065550001', '2025-05-03T00:00:00Z'),
          // R2: START a minute before the second by Twilio's clock: maybe after, kept.
          ...stopThenStart('+12065550002', '2025-05-04T23:59:00Z'),
          // R3: START after it: kept.
          ...stopThenStart('+12065550003', '2025-05-07T00:00:00Z'),
        ]);
        expect(acmeList(db)).toEqual(['+12065550002', '+12065550003']);
      });
    });

    it('a number that left and came back: a START while it was away never lifts the opt-out it carried out', async () => {
      await withLedger(dir.file('l.db'), (db) => {
        const id = mapped(db);
        // In Shared on 1 May, out on 5 May, back on 8 May, out again on 10 May.
        listing(db, id, '2025-05-01T00:00:00Z', SHARED);
        listing(db, id, '2025-05-05T00:00:00Z', null);
        listing(db, id, '2025-05-08T00:00:00Z', SHARED);
        // Back in it: its list holds the service as it stands.
        expect(servicesLeftByNumber(db, []).get(A)).toBeUndefined();
        listing(db, id, '2025-05-10T00:00:00Z', null);
        expect(seenRow(db)).toEqual({
          firstSeen: '2025-05-01T00:00:00Z',
          lastSeen: '2025-05-08T00:00:00Z',
          stayedUntil: '2025-05-01T00:00:00Z',
          leftSeen: '2025-05-10T00:00:00Z',
        });
        // From the end of its first stay, not its last.
        expect(servicesLeftByNumber(db, [])).toEqual(
          new Map([[A, new Map([[SHARED, '2025-04-30T23:58:00Z']])]]),
        );
        insertEvents(db, id, [
          // R1: START while A was away (between 5 and 8 May): not A's, kept.
          ...stopThenStart('+12065550001', '2025-05-06T00:00:00Z'),
          // R2: START before the first listing: lifted.
          ...stopThenStart('+12065550002', '2025-04-02T00:00:00Z'),
        ]);
        expect(acmeList(db)).toEqual(['+12065550001']);
      });
    });

    it('a listing of another account in the same second as the last that showed it there: it left, and a START while it was away never lifts the opt-out', async () => {
      await withLedger(dir.file('l.db'), (db) => {
        const id = mapped(db);
        // In Shared on 1 May; the subaccount listed in the same second (listings are dated to
        // the second: which came first cannot be told) holding A; back in Shared on 8 May, out
        // again on 10 May.
        listing(db, id, '2025-05-01T00:00:00Z', SHARED);
        replaceNumbers(db, id, SUB, '2025-05-01T00:00:00Z', [listed(A, null, SUB)]);
        expect(seenRow(db)).toEqual({
          firstSeen: '2025-05-01T00:00:00Z',
          lastSeen: '2025-05-01T00:00:00Z',
          stayedUntil: '2025-05-01T00:00:00Z',
          leftSeen: '2025-05-01T00:00:00Z',
        });
        listing(db, id, '2025-05-08T00:00:00Z', SHARED);
        listing(db, id, '2025-05-10T00:00:00Z', null);
        // Taken as gone from that second on, as if the subaccount's listing had come a second
        // later: not from its last stay's end (8 May), which let R1's START lift it.
        expect(servicesLeftByNumber(db, [])).toEqual(
          new Map([[A, new Map([[SHARED, '2025-04-30T23:58:00Z']])]]),
        );
        insertEvents(db, id, [...stopThenStart('+12065550001', '2025-05-06T00:00:00Z')]);
        expect(acmeList(db)).toEqual(['+12065550001']);
      });
    });

    it("a listing of another account holding the number shows it out of the parent's service (snapshot --account)", async () => {
      await withLedger(dir.file('l.db'), (db) => {
        const id = mapped(db);
        listing(db, id, '2025-05-01T00:00:00Z', SHARED);
        listing(db, id, '2025-05-05T00:00:00Z', SHARED);
        // Moved by hand into the subaccount, which alone is listed on 10 May.
        replaceNumbers(db, id, SUB, '2025-05-10T00:00:00Z', [listed(A, null, SUB)]);
        expect(seenRow(db)).toEqual({
          firstSeen: '2025-05-01T00:00:00Z',
          lastSeen: '2025-05-05T00:00:00Z',
          stayedUntil: '2025-05-05T00:00:00Z',
          leftSeen: '2025-05-10T00:00:00Z',
        });
        // The parent listed again, A no longer there: nothing changes.
        replaceNumbers(db, id, ACCOUNT, '2025-05-12T00:00:00Z', [listed(B, SHARED)]);
        expect(seenRow(db)).toMatchObject({ leftSeen: '2025-05-10T00:00:00Z' });
        expect(servicesLeftByNumber(db, [])).toEqual(
          new Map([[A, new Map([[SHARED, '2025-05-04T23:58:00Z']])]]),
        );
      });
    });
  });

  it('replaces the numbers of several accounts listed at once as one after another would, by one look through the numbers', async () => {
    // A plan's refresh after the move: 1,000 subaccounts of 100 numbers were 1,000 scans of
    // the 100,000 numbers listed (some 9 s of CPU), each to delete one account's rows.
    const OTHER = `AC${'b'.repeat(32)}`;
    const THIRD = `AC${'c'.repeat(32)}`;
    const SHARED = `MG${'6'.repeat(32)}`;
    const listed = (i: number, messagingServiceSid: string | null = null) => ({
      numberSid: `PN${String(i).padStart(32, '0')}`,
      phoneNumber: `+1415555${String(i).padStart(4, '0')}`,
      numberType: 'local',
      messagingServiceSid,
      serviceName: messagingServiceSid === null ? null : 'Shared',
    });
    const FOURTH = `AC${'d'.repeat(32)}`;
    const FIFTH = `AC${'e'.repeat(32)}`;
    const OWN = `MG${'8'.repeat(32)}`;
    const before = [
      {
        accountSid: ACCOUNT,
        numbers: [listed(1, SHARED), listed(2), listed(3), listed(8, SHARED)],
      },
      { accountSid: OTHER, numbers: [listed(4), listed(5, SHARED)] },
      { accountSid: FOURTH, numbers: [listed(9, OWN)] },
      { accountSid: FIFTH, numbers: [listed(10)] },
    ];
    // 2 moved to OTHER, 5 to THIRD (out of Shared), 1 left Shared; 6 is new in ACCOUNT. Moved
    // while the accounts were listed, so listed in two of them: 7, new, in ACCOUNT's Shared and
    // in THIRD; 8, in ACCOUNT's Shared before, there and in OTHER's OWN. FOURTH's listing is
    // empty (9 gone); 10 moved from FIFTH, not listed this time, into THIRD (its row in
    // \`numbers\`, of the same SID, goes as THIRD's is written).
    const after = [
      {
        accountSid: ACCOUNT,
        numbers: [listed(1), listed(3), listed(6, SHARED), listed(7, SHARED), listed(8, SHARED)],
      },
      { accountSid: OTHER, numbers: [listed(2, SHARED), listed(4), listed(8, OWN)] },
      { accountSid: THIRD, numbers: [listed(5), listed(7), listed(10)] },
      { accountSid: FOURTH, numbers: [] },
    ];
    const dump = (db: Db) =>
      ['numbers', 'number_accounts_seen', 'number_services_seen'].map((table) =>
        db
          .prepare(`SELECT * FROM ${table}`)
          .all()
          .map((row) => JSON.stringify({ ...(row as object), run_id: undefined }))
          .sort(),
      );
    const replaceEach = (db: Db, id: number, at: string, lists: typeof after) => {
      for (const { accountSid, numbers } of lists) {
        replaceNumbers(
          db,
          id,
          accountSid,
          at,
          numbers.map((n) => ({ ...n, accountSid })),
        );
      }
    };
    const oneByOne = await withLedger(dir.file('one.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      replaceEach(db, id, '2025-05-01T00:00:00Z', before);
      replaceEach(db, id, '2025-05-10T00:00:00Z', after);
      return dump(db);
    });
    await withLedger(dir.file('all.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      replaceAccountsNumbers(db, id, '2025-05-01T00:00:00Z', before);
      // Every statement's runs, the ones prepared by the first call too.
      const statements = Object.getPrototypeOf(db.prepare('SELECT 1')) as Statement<unknown[]>;
      const execute = statements.run;
      const deletes: string[] = [];
      statements.run = function (this: Statement<unknown[]>, ...values: unknown[]) {
        if (/^\s*DELETE FROM numbers WHERE account_sid/.test(this.source))
          deletes.push(this.source);
        return execute.apply(this, values);
      };
      try {
        replaceAccountsNumbers(db, id, '2025-05-10T00:00:00Z', after);
      } finally {
        statements.run = execute;
      }
      expect(dump(db)).toEqual(oneByOne);
      expect(deletes).toHaveLength(1);
    });
  });

  it("replaces one account's numbers (snapshot's listing) finding its old rows by the index of numbers by account, never by reading every number listed", async () => {
    // Migration 029: \`numbers\` is keyed by number SID; without an index by account, each
    // account's DELETE read the whole table (1,000 subaccounts of 100 numbers: 1,000 reads of
    // 100,000 rows, some 9 s of CPU in a snapshot).
    const OTHER = `AC${'b'.repeat(32)}`;
    const listed = (i: number, accountSid: string) => ({
      accountSid,
      numberSid: `PN${String(i).padStart(32, '0')}`,
      phoneNumber: `+1415555${String(i).padStart(4, '0')}`,
      numberType: 'local',
      messagingServiceSid: i % 2 === 0 ? `MG${'6'.repeat(32)}` : null,
      serviceName: i % 2 === 0 ? 'Shared' : null,
    });
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const ran = new Map<string, unknown[]>();
      // Every statement's runs, whenever it was prepared (they are prepared once a connection).
      const statements = Object.getPrototypeOf(db.prepare('SELECT 1')) as Statement<unknown[]>;
      const execute = statements.run;
      statements.run = function (this: Statement<unknown[]>, ...values: unknown[]) {
        if (/\bFROM numbers\b/.test(this.source)) ran.set(this.source, values);
        return execute.apply(this, values);
      };
      try {
        for (const at of ['2025-05-01T00:00:00Z', '2025-05-02T00:00:00Z']) {
          replaceNumbers(
            db,
            id,
            ACCOUNT,
            at,
            [1, 2, 3].map((i) => listed(i, ACCOUNT)),
          );
          replaceNumbers(
            db,
            id,
            OTHER,
            at,
            [4, 5].map((i) => listed(i, OTHER)),
          );
        }
      } finally {
        statements.run = execute;
      }
      expect(db.prepare('SELECT COUNT(*) FROM numbers').pluck().get()).toBe(5);
      const plans = [...ran].map(([text, values]) => ({
        text,
        plan: (db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...values) as { detail: string }[]).map(
          (row) => row.detail,
        ),
      }));
      const deletes = plans.filter(({ text }) =>
        /^\s*DELETE FROM numbers WHERE account_sid/.test(text),
      );
      expect(deletes).toHaveLength(1);
      expect(deletes[0]!.plan).toContainEqual(
        expect.stringMatching(
          /^SEARCH numbers USING (COVERING )?INDEX numbers_by_account \(account_sid=\?\)/,
        ),
      );
      // A row of the same number SID goes by its key, and the rows just written are read back
      // (number_accounts_seen, number_services_seen) by the index or by rowid: none of the
      // statements reads every account's numbers.
      expect(plans.length).toBeGreaterThan(1);
      for (const { text, plan } of plans) {
        expect(plan, text).not.toContainEqual(expect.stringMatching(/^SCAN numbers/));
      }
    });
  });

  it('writes a listing of 30,000 numbers with no temporary file of SQLite (no statement journal spilled)', async () => {
    // INSERT OR REPLACE INTO numbers, once migration 029 indexed it by account, kept a statement
    // journal for each row, and past ~20,000 rows in one transaction SQLite spilled it to a
    // temporary file (etilqs_…, removed as soon as it is opened: seen only among the open
    // files), writing each row's pages there again: 100,000 numbers took some 0.4 s more CPU.
    const SHARED = `MG${'6'.repeat(32)}`;
    const numbers = Array.from({ length: 30_000 }, (_, i) => ({
      numberSid: `PN${String(i).padStart(32, '0')}`,
      phoneNumber: `+1${2_000_000_000 + i}`,
      numberType: 'local',
      messagingServiceSid: i < 20 ? SHARED : null,
      serviceName: i < 20 ? 'Shared' : null,
    }));
    const temporary = () =>
      readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return /etilqs_/.test(target) ? [target] : [];
        } catch {
          return []; // closed since it was listed
        }
      });
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const open: string[][] = [];
      // Looked at once the numbers are written, still in the listing's transaction (the file
      // is closed with it): when number_accounts_seen is filled from them.
      const statements = Object.getPrototypeOf(db.prepare('SELECT 1')) as Statement<unknown[]>;
      const execute = statements.run;
      statements.run = function (this: Statement<unknown[]>, ...values: unknown[]) {
        if (/INTO number_accounts_seen/.test(this.source)) open.push(temporary());
        return execute.apply(this, values);
      };
      try {
        replaceAccountsNumbers(db, id, '2025-05-01T00:00:00Z', [{ accountSid: ACCOUNT, numbers }]);
      } finally {
        statements.run = execute;
      }
      expect(open).toEqual([[]]);
      expect(db.prepare('SELECT COUNT(*) FROM numbers').pluck().get()).toBe(30_000);
    });
  });

  it('finds where the latest listing showed a number in a service without indexing every number listed', async () => {
    // A join built an index of all of them (100,000) at each plan to find the few in a service.
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const SHARED = `MG${'7'.repeat(32)}`;
      replaceNumbers(db, id, ACCOUNT, '2025-05-01T00:00:00Z', [
        {
          accountSid: ACCOUNT,
          numberSid: `PN${'1'.repeat(32)}`,
          phoneNumber: NUMBER,
          numberType: 'local',
          messagingServiceSid: SHARED,
          serviceName: 'Shared',
        },
      ]);
      const texts: string[] = [];
      const prepare = db.prepare;
      db.prepare = ((text: string) => prepare.call(db, (texts.push(text), text))) as Db['prepare'];
      try {
        expect(servicesLeftByNumber(db, [])).toEqual(new Map());
      } finally {
        db.prepare = prepare;
      }
      expect(texts.length).toBeGreaterThan(0);
      for (const text of texts) {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${text}`).all() as { detail: string }[];
        expect(plan.map((row) => row.detail).filter((d) => d.includes('AUTOMATIC'))).toEqual([]);
      }
    });
  });

  it('binds a service-scope opt-out to the customer of the number that took it, whatever service that number is in now', async () => {
    // The STOP came to acme's number through a service it has since left (no snapshot saw it
    // there): the person told that number to stop.
    await withLedger(dir.file('l.db'), (db) => {
      recordMapping(
        db,
        'sha',
        '2025-05-01T00:00:00Z',
        [{ customerId: 'acme', customerName: 'Acme', messagingService: null }],
        [
          {
            numberSid: `PN${'1'.repeat(32)}`,
            phoneNumber: NUMBER,
            customerId: 'acme',
            sourceAccountSid: ACCOUNT,
            sourceServiceSid: null,
            atSource: true,
          },
        ],
      );
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const LEFT = `MG${'7'.repeat(32)}`;
      insertEvents(db, id, [
        event({ endUser: '+12065550001', messagingServiceSid: LEFT }),
        // Another number of that service: its list is acme's number's too, as the service's.
        event({ endUser: '+12065550002', messagingServiceSid: LEFT, twilioNumber: '+14155550998' }),
      ]);
      expect(servicesSeenByNumber(db)).toEqual(
        new Map([
          [NUMBER, [LEFT]],
          ['+14155550998', [LEFT]],
        ]),
      );
      expect(
        exportOptOuts(db, 'l.db', { customer: 'acme' }).optouts.map((r) => r.recipient),
      ).toEqual(['+12065550001', '+12065550002']);
    });
  });

  it('keeps evidence without a date apart and names it in the coverage', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const undated = event({ dateSent: null, endUser: '+12065550009' });
      expect(insertEvents(db, id, [undated, event({})])).toBe(2);
      // Read twice (a resumed run): counted once.
      expect(insertEvents(db, id, [undated])).toBe(0);
      const coverage = exportOptOuts(db).coverage;
      expect(coverage.undated_evidence).toEqual([
        { message_sid: undated.messageSid, account_sid: ACCOUNT, kind: 'opt-out' },
      ]);
    });
  });

  it('names the spans between the start of history and the last window that no completed run read', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      run(db, [['2025-04-01T00:00:00Z', '2025-05-01T00:00:00Z']], 'completed');
      // A plain run found where history begins, then died before it completed.
      recordHistoryStart(db, ACCOUNT, '2025-01-01T00:00:00Z', 'probe', '2025-06-01T00:00:00Z');
      run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'running');
      const coverage = readCoverage(db);
      expect(coverage.windows).toEqual([
        {
          account_sid: ACCOUNT,
          source: 'api',
          start: '2025-04-01T00:00:00Z',
          end: '2025-05-01T00:00:00Z',
        },
      ]);
      expect(coverage.not_read).toEqual([
        { account_sid: ACCOUNT, start: '2025-01-01T00:00:00Z', end: '2025-04-01T00:00:00Z' },
      ]);
    });
  });

  it('refuses to export from a database with no completed snapshot', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'running');
      expect(() => exportOptOuts(db, 'x.db')).toThrow(/x\.db holds no completed snapshot/);
    });
  });
});
