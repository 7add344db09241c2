/**
 * The opt-outs a moved number took since its move, read from a real SQLite file: the move's
 * time is this machine's clock, a STOP's date Twilio's, which may run up to two minutes behind
 * (`CLOCK_SKEW_MS`). A STOP Twilio dated in those two minutes before the move was said after it
 * for all anyone knows, and is held like one dated after it.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { insertEvents, type LedgerEvent } from '../../src/db/ledger.js';
import { suppressionLists } from '../../src/reconcile/suppression-lists.js';
import { findViolations, type SentMessage } from '../../src/reconcile/violations.js';
import { ACME, BETA, MOVE_BEGAN, moved, N, R, completedPass } from '../support/one-moved-number.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

let seq = 0;
const stopIn = (accountSid: string, dateSent: string): LedgerEvent => ({
  messageSid: `SM${String(++seq).padStart(32, '0')}`,
  accountSid,
  kind: 'opt-out',
  keyword: 'STOP',
  twilioNumber: N,
  endUser: R,
  channel: null,
  messagingServiceSid: null,
  direction: 'inbound',
  body: 'STOP',
  dateSent,
  errorCode: null,
});

const sendFrom = (accountSid: string, sentAt: string): SentMessage => ({
  sid: `SM${String(++seq).padStart(32, '0')}`,
  accountSid,
  from: N,
  to: R,
  status: 'delivered',
  errorCode: null,
  messagingServiceSid: null,
  sentAt,
});

describe('suppressionLists: a STOP said to the moved number in another account, Twilio dating it behind this clock', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('holds the send from the account the number was moved on into to a STOP its subaccount heard, dated up to two minutes before the move', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const run = completedPass(db, [ACME], MOVE_BEGAN, '2026-11-01T11:00:00Z');
      // Twilio's clock 90 s behind this machine's: the STOP said in Acme's subaccount just after
      // the move is dated before it.
      const stop = stopIn(ACME, '2026-11-01T09:58:31Z');
      insertEvents(db, run, [stop]);
      const lists = suppressionLists(db, moved);
      const fromBeta = sendFrom(BETA, '2026-11-01T10:30:00Z');
      // Apply put it in Acme's subaccount; someone moved it on into Beta's by hand.
      const placedIn = new Map([
        [moved[0]!.numberSid, [{ accountSid: ACME, began: MOVE_BEGAN, left: null }]],
      ]);
      const found = findViolations(moved, lists, [fromBeta], [], () => [], placedIn);
      expect(found.violations.map((v) => [v.violatingMessageSid, v.stopMessageSid])).toEqual([
        [fromBeta.sid, stop.messageSid],
      ]);
    });
  });
});
