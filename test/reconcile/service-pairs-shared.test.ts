/**
 * A STOP said since the move through a Messaging Service the moved numbers are in is on the
 * list of each of them (Twilio opts the person out of the whole service), read from a real
 * SQLite file. Numbers that came to the account in different hours (their last messages in the
 * parent hours apart) are held to it from different times; a STOP holds no send before its own
 * date anyway, so each list holds the same pair object, not a copy of its own: a customer's
 * hundred numbers and 10,000 STOPs through its service were a million copies, a GB for ten
 * such customers (test/bench/suppression-lists-bench.ts). A refusal, whose STOP is not known,
 * is still held from when each number may have come there.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { insertEvents, recordServices, type LedgerEvent } from '../../src/db/ledger.js';
import type { MovedNumber } from '../../src/db/reconcile.js';
import { suppressionLists } from '../../src/reconcile/suppression-lists.js';
import { findViolations, type SentMessage } from '../../src/reconcile/violations.js';
import {
  ACME,
  BETA,
  MOVE_BEGAN,
  moved as one,
  PARENT,
  completedPass,
} from '../support/one-moved-number.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const SERVICE = 'MG' + 'a'.repeat(32);
const N1 = one[0]!.phoneNumber;
const N2 = '+14155550101';
const R = '+12065550001';
const R2 = '+12065550002';
const R3 = '+12065550003';
const at = (hhmm: string) => `2026-11-01T${hhmm}:00Z`;

const moved: MovedNumber[] = [
  one[0]!,
  { ...one[0]!, numberSid: 'PN' + '2'.repeat(32), phoneNumber: N2, movedAt: at('10:00') },
];

let seq = 0;
const said = (
  kind: 'opt-out' | 'help' | 'refused',
  accountSid: string,
  twilioNumber: string,
  endUser: string,
  dateSent: string,
  messagingServiceSid: string | null,
): LedgerEvent => ({
  messageSid: `SM${String(++seq).padStart(32, '0')}`,
  accountSid,
  kind,
  keyword: kind === 'opt-out' ? 'STOP' : kind === 'help' ? 'HELP' : null,
  twilioNumber,
  endUser,
  channel: null,
  messagingServiceSid,
  direction: kind === 'refused' ? 'outbound-api' : 'inbound',
  body: kind === 'refused' ? 'Sale today!' : 'STOP',
  dateSent,
  errorCode: kind === 'refused' ? 21610 : null,
});

describe("suppressionLists: a Messaging Service's STOPs since the move, on each of its numbers' lists", () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('holds one pair object for a STOP on every list, and a refusal from when each number may have come', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const run = completedPass(db, [PARENT, ACME], at('06:00'), at('13:00'));
      recordServices(db, ACME, at('13:00'), [SERVICE]);
      const stop = said('opt-out', ACME, N1, R, at('11:00'), SERVICE);
      const stop2 = said('opt-out', ACME, N2, R2, at('11:05'), SERVICE);
      const refused = said('refused', ACME, N1, R3, at('11:10'), SERVICE);
      insertEvents(db, run, [
        // Last seen in the parent in different hours: N1 from 07:00, N2 from 08:00.
        said('help', PARENT, N1, R2, at('07:10'), null),
        said('help', PARENT, N2, R2, at('08:20'), null),
        stop,
        stop2,
        refused,
      ]);
      const lists = suppressionLists(db, moved);
      const first = lists.get(N1)!;
      const second = lists.get(N2)!;
      const ofStop = second.filter((p) => p.stopMessageSid === stop.messageSid);
      expect(ofStop).toHaveLength(1);
      expect(ofStop[0]).toMatchObject({ recipient: R, saidIn: ACME, saidThrough: SERVICE });
      expect(first).toContain(ofStop[0]);
      const ofRefusal = (list: typeof first) =>
        list.filter((p) => p.recipient === R3 && p.stopMessageSid === null).map((p) => p.heldFrom);
      expect(ofRefusal(first)).toContain(at('07:00'));
      expect(ofRefusal(second)).toEqual([at('08:00')]);

      // And the verdicts: N2, moved on by hand into Beta's subaccount, texts R before and after
      // R's STOP through Acme's service, and R3 (refused through it at 11:10) before that.
      const send = (to: string, sentAt: string): SentMessage => ({
        sid: `SM${String(++seq).padStart(32, '0')}`,
        accountSid: BETA,
        from: N2,
        to,
        status: 'delivered',
        errorCode: null,
        messagingServiceSid: null,
        sentAt,
      });
      const early = send(R, at('10:30'));
      const late = send(R, at('12:00'));
      const refusedLater = send(R3, at('10:40'));
      const placedIn = new Map(
        moved.map((m) => [m.numberSid, [{ accountSid: ACME, began: MOVE_BEGAN, left: null }]]),
      );
      const found = findViolations(
        moved,
        lists,
        [early, late, refusedLater],
        [],
        () => [],
        placedIn,
      );
      expect(found.violations.map((v) => [v.violatingMessageSid, v.stopMessageSid])).toEqual([
        [late.sid, stop.messageSid],
        [refusedLater.sid, null],
      ]);
    });
  });
});
