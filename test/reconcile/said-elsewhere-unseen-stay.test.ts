/**
 * A moved number's stay in another account the ledger never saw: moved by hand from its
 * subaccount into Beta's Messaging Service and back, between two passes, with nothing of its own
 * said there. The STOP someone said to Beta's service then (to another of its numbers) opted
 * them out of the number too, and Twilio keeps it in Beta: the number's sends from its own
 * subaccount after it came back are violations. That the ledger saw the number in Acme's
 * subaccount later (a STOP said to it there) and in Beta's service later still does not tell
 * when it first came to Beta. Read from a real SQLite file.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Db } from '../../src/db/open.js';
import { insertEvents, recordServices, type LedgerEvent } from '../../src/db/ledger.js';
import { suppressionLists } from '../../src/reconcile/suppression-lists.js';
import { findViolations, type SentMessage } from '../../src/reconcile/violations.js';
import { ACME, BETA, MOVE_BEGAN, moved, N, R, completedPass } from '../support/one-moved-number.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const BETA_SERVICE = 'MG' + '2'.repeat(32);
const B1 = '+14155550201';
const R2 = '+12065550002';
const R3 = '+12065550003';
const at = (hhmm: string) => `2026-11-01T${hhmm}:00Z`;
const placedIn = new Map([
  [moved[0]!.numberSid, [{ accountSid: ACME, began: MOVE_BEGAN, left: null }]],
]);

let seq = 0;
const sid = () => `SM${String(++seq).padStart(32, '0')}`;
/** `endUser` said STOP to `to` in `accountSid`, through `service` (null: none). */
const stop = (
  accountSid: string,
  to: string,
  endUser: string,
  service: string | null,
  dateSent: string,
): LedgerEvent => ({
  messageSid: sid(),
  accountSid,
  kind: 'opt-out',
  keyword: 'STOP',
  twilioNumber: to,
  endUser,
  channel: null,
  messagingServiceSid: service,
  direction: 'inbound',
  body: 'STOP',
  dateSent,
  errorCode: null,
});

/** `endUser` said START to `to` in `accountSid`, through `service`. */
const start = (
  accountSid: string,
  to: string,
  endUser: string,
  service: string | null,
  dateSent: string,
): LedgerEvent => ({
  ...stop(accountSid, to, endUser, service, dateSent),
  kind: 'opt-in',
  keyword: 'START',
  body: 'START',
});
const sendToR = (sentAt: string): SentMessage => ({
  sid: sid(),
  accountSid: ACME,
  from: N,
  to: R,
  status: 'delivered',
  errorCode: null,
  messagingServiceSid: null,
  sentAt,
});
const violationsOf = (db: Db, sends: SentMessage[]) =>
  findViolations(moved, suppressionLists(db, moved), sends, [], () => [], placedIn).violations.map(
    (v) => [v.violatingMessageSid, v.recipient],
  );

/** Acme's and Beta's subaccounts read from the move to 17:00, holding `events`. */
function ledgerOf(db: Db, events: LedgerEvent[]): void {
  const run = completedPass(db, [ACME, BETA], MOVE_BEGAN, at('17:00'));
  recordServices(db, BETA, at('09:00'), [BETA_SERVICE]);
  insertEvents(db, run, events);
}

describe('suppressionLists: a STOP said to a service in another account while the number was there unseen', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('holds the sends the number made after it came back, though the ledger saw it elsewhere later', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      // 10:30 N moved by hand into Beta's service; 10:40 R says STOP to B1 through it; 10:50 N
      // back in Acme's subaccount by hand, which texts R at 11:00 (Twilio delivers). 15:00 R2
      // says STOP to N in Acme's; 16:00 N into Beta's service again, where R3 says STOP to it.
      ledgerOf(db, [
        stop(BETA, B1, R, BETA_SERVICE, at('10:40')),
        stop(ACME, N, R2, null, at('15:00')),
        stop(BETA, N, R3, BETA_SERVICE, at('16:30')),
      ]);
      const send: SentMessage = {
        sid: 'SM' + 'f'.repeat(32),
        accountSid: ACME,
        from: N,
        to: R,
        status: 'delivered',
        errorCode: null,
        messagingServiceSid: null,
        sentAt: at('11:00'),
      };
      const found = findViolations(
        moved,
        suppressionLists(db, moved),
        [send],
        [],
        () => [],
        placedIn,
      );
      expect(found.violations.map((v) => [v.violatingMessageSid, v.recipient])).toEqual([
        [send.sid, R],
      ]);
    });
  });

  it('lifts it by no START said through the service before the ledger first saw the number there', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      // As above, and R says START through Beta's service at 12:00, while N is back in Acme's:
      // not said to N (a START to a service a number has left), which texts R at 13:00.
      ledgerOf(db, [
        stop(BETA, B1, R, BETA_SERVICE, at('10:40')),
        start(BETA, B1, R, BETA_SERVICE, at('12:00')),
        stop(ACME, N, R2, null, at('15:00')),
        stop(BETA, N, R3, BETA_SERVICE, at('16:30')),
      ]);
      const send = sendToR(at('13:00'));
      expect(violationsOf(db, [send])).toEqual([[send.sid, R]]);
    });
  });
});
