/**
 * A STOP said through the parent's shared Messaging Service, to another of its numbers, just
 * before apply took a number out of it and moved it, may carry a date Twilio gave it up to two
 * minutes after the move was journaled (Twilio's clock ahead of this machine's): the person
 * opted out of the whole service while the number was in it, and the number's sends from its
 * subaccount are held to that opt-out. Read from a real SQLite file.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Db } from '../../src/db/open.js';
import {
  insertEvents,
  recordServices,
  replaceNumbers,
  type LedgerEvent,
} from '../../src/db/ledger.js';
import type { MovedNumber } from '../../src/db/reconcile.js';
import { createRun, finishRun } from '../../src/db/snapshot-runs.js';
import { suppressionLists } from '../../src/reconcile/suppression-lists.js';
import { findViolations, type SentMessage } from '../../src/reconcile/violations.js';
import {
  ACME,
  MOVE_BEGAN,
  moved as movedAlone,
  N,
  PARENT,
  R,
} from '../support/one-moved-number.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const SHARED = 'MG' + '5'.repeat(32);
const M = '+14155550199';
const at = (hms: string) => `2026-11-01T${hms}Z`;
// N left the parent's shared service with its move (journaled 10:00:00 to 10:00:01).
const moved: MovedNumber[] = [{ ...movedAlone[0]!, sourceServiceSid: SHARED }];
const placedIn = new Map([
  [moved[0]!.numberSid, [{ accountSid: ACME, began: MOVE_BEGAN, left: null }]],
]);

/** R said STOP through the shared service, to its other number M, dated `dateSent`. */
const stopToShared = (dateSent: string): LedgerEvent => ({
  messageSid: 'SM' + '7'.repeat(32),
  accountSid: PARENT,
  kind: 'opt-out',
  keyword: 'STOP',
  twilioNumber: M,
  endUser: R,
  channel: null,
  messagingServiceSid: SHARED,
  direction: 'inbound',
  body: 'STOP',
  dateSent,
  errorCode: null,
});
const send: SentMessage = {
  sid: 'SM' + '8'.repeat(32),
  accountSid: ACME,
  from: N,
  to: R,
  status: 'delivered',
  errorCode: null,
  messagingServiceSid: null,
  sentAt: at('10:30:00'),
};

/** The plan's refresh listed the parent at 09:59:30, N and M in the shared service. */
function ledgerOf(db: Db, events: LedgerEvent[]): void {
  const run = createRun(
    db,
    {
      parentAccountSid: PARENT,
      startedAt: at('09:59:30'),
      pid: 1,
      hostname: 'test',
      partitions: 1,
      keywordsJson: '{}',
      explicitWindow: false,
      madeBy: 'plan',
    },
    [{ accountSid: PARENT, windowStart: at('00:00:00'), windowEnd: at('11:00:00') }],
    [],
  );
  recordServices(db, PARENT, at('09:59:30'), [SHARED]);
  replaceNumbers(
    db,
    run,
    PARENT,
    at('09:59:30'),
    [N, M].map((phoneNumber, i) => ({
      accountSid: PARENT,
      numberSid: i === 0 ? moved[0]!.numberSid : 'PN' + '9'.repeat(32),
      phoneNumber,
      numberType: 'local',
      messagingServiceSid: SHARED,
      serviceName: 'Owlie Shared',
    })),
  );
  finishRun(db, run, 'completed', at('11:00:01'));
  insertEvents(db, run, events);
}

function violationsOf(db: Db) {
  const found = findViolations(moved, suppressionLists(db, moved), [send], [], () => [], placedIn);
  return found.violations.map((v) => [v.violatingMessageSid, v.stopMessageSid]);
}

describe("suppressionLists: a STOP through the service a move took the number out of, within Twilio's two minutes", () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('holds the send to a STOP Twilio dated up to two minutes after the move, not one dated later', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      // Said at 09:59:50 by this machine's clock, before the detach; Twilio 90 s ahead.
      ledgerOf(db, [stopToShared(at('10:01:20'))]);
      expect(violationsOf(db)).toEqual([[send.sid, 'SM' + '7'.repeat(32)]]);
    });
    await withLedger(dir.file('m.db'), (db) => {
      // Dated more than two minutes after the move finished: said after N left the service.
      ledgerOf(db, [stopToShared(at('10:02:02'))]);
      expect(violationsOf(db)).toEqual([]);
    });
  });
});
