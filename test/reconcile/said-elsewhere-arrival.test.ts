/**
 * A send Twilio refused (21610) from a moved number in another account says the person had
 * opted out there no later than then, and nothing of when: read from a real SQLite file, it
 * holds the number's sends from its own subaccount from when the number may have come to that
 * account, the STOP could only have been said to it there; and since the move, the number may
 * have been there at any time the ledger did not see it elsewhere (away and back by hand,
 * unseen), so it holds every send since the move. Not known, it holds them all, as before.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Db } from '../../src/db/open.js';
import { insertEvents, type LedgerEvent } from '../../src/db/ledger.js';
import { suppressionLists } from '../../src/reconcile/suppression-lists.js';
import { findViolations, type SentMessage } from '../../src/reconcile/violations.js';
import {
  ACME,
  BETA,
  MOVE_BEGAN,
  moved,
  N,
  PARENT,
  R,
  completedPass,
} from '../support/one-moved-number.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const R2 = '+12065550002';
const at = (hhmm: string) => `2026-11-01T${hhmm}:00Z`;
// Apply put it in Acme's subaccount; someone moved it by hand into Beta's and back.
const placedIn = new Map([
  [moved[0]!.numberSid, [{ accountSid: ACME, began: MOVE_BEGAN, left: null }]],
]);

let seq = 0;
const sid = () => `SM${String(++seq).padStart(32, '0')}`;
/** `endUser` said STOP to N in `accountSid`. */
const stopIn = (accountSid: string, endUser: string, dateSent: string): LedgerEvent => ({
  messageSid: sid(),
  accountSid,
  kind: 'opt-out',
  keyword: 'STOP',
  twilioNumber: N,
  endUser,
  channel: null,
  messagingServiceSid: null,
  direction: 'inbound',
  body: 'STOP',
  dateSent,
  errorCode: null,
});
/** A send from N to R in `accountSid` that Twilio refused with 21610. */
const refusedIn = (accountSid: string, dateSent: string): LedgerEvent => ({
  ...stopIn(accountSid, R, dateSent),
  kind: 'refused',
  keyword: null,
  direction: 'outbound-api',
  body: 'Sale today!',
  errorCode: 21610,
});
const sendFrom = (accountSid: string, sentAt: string): SentMessage => ({
  sid: sid(),
  accountSid,
  from: N,
  to: R,
  status: 'delivered',
  errorCode: null,
  messagingServiceSid: null,
  sentAt,
});

/** Acme's subaccount read from the move to 13:00, holding `events`. */
function ledgerOf(db: Db, events: LedgerEvent[]): void {
  const run = completedPass(db, [ACME], MOVE_BEGAN, at('13:00'));
  insertEvents(db, run, events);
}

/** The violations of `sends`, each as its SID and the STOP it names (null: a refusal). */
function violationsOf(db: Db, sends: SentMessage[]) {
  const found = findViolations(moved, suppressionLists(db, moved), sends, [], () => [], placedIn);
  return found.violations.map((v) => [v.violatingMessageSid, v.stopMessageSid]);
}

describe('suppressionLists: a refusal in another account, held from when the number may have come there', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('holds a send its subaccount made before the number was last seen there: it may have been in Beta before, unseen', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      // At 10:20 R2 says STOP to N in Acme's subaccount: N is there then. By noon it is in
      // Beta's, whose send to R Twilio refuses: R opted out of N there. Back in Acme's by hand,
      // it texts R at 12:30. It may have been in Beta's at 10:05 too (moved by hand and back,
      // nothing of its own said there), when R said STOP in words the ledger does not read (a
      // keyword of Beta's service's own), and texted R from Acme's at 10:10: both are held.
      ledgerOf(db, [stopIn(ACME, R2, at('10:20')), refusedIn(BETA, at('12:00'))]);
      const before = sendFrom(ACME, at('10:10'));
      const after = sendFrom(ACME, at('12:30'));
      expect(violationsOf(db, [before, after])).toEqual([
        [before.sid, null],
        [after.sid, null],
      ]);
    });
  });

  it('holds every send when nothing tells when the number came there, or it was there before it moved', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      // Nothing seen of N since the move but the refusals: in Beta's subaccount, from the
      // move on; in the parent, which held it before the move, at any time.
      ledgerOf(db, [refusedIn(BETA, at('12:00'))]);
      const early = sendFrom(ACME, at('10:10'));
      expect(violationsOf(db, [early])).toEqual([[early.sid, null]]);
    });
    await withLedger(dir.file('m.db'), (db) => {
      ledgerOf(db, [stopIn(ACME, R2, at('10:20')), refusedIn(PARENT, at('12:00'))]);
      const early = sendFrom(ACME, at('10:10'));
      expect(violationsOf(db, [early])).toEqual([[early.sid, null]]);
    });
  });
});
