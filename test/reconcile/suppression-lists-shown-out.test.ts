/**
 * The list reconcile holds a moved number's sends to, of a shared Messaging Service it left by
 * hand: a STOP said through the service (to another of its numbers) more than two minutes after
 * a listing showed the number out of it was said to a service it had left, and is not on its
 * list (a send to that person is no violation). One said within those two minutes may have come
 * first, and one said while it was away from the service and back again is on it (the safe
 * readings). On a real SQLite file.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { recordMapping } from '../../src/db/customers.js';
import { insertEvents, recordServices, replaceNumbers } from '../../src/db/ledger.js';
import type { Db } from '../../src/db/open.js';
import { createRun, finishRun } from '../../src/db/snapshot-runs.js';
import { suppressionLists } from '../../src/reconcile/suppression-lists.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const ACCOUNT = `AC${'a'.repeat(32)}`;
const SUB = `AC${'6'.repeat(32)}`;
const SHARED = `MG${'5'.repeat(32)}`;
const A = '+14155550401';
const B = '+14155550402';
const sidOf = (phone: string) => `PN${phone.slice(2).padStart(32, '0')}`;

let sid = 0;
/** `recipient`'s STOP through Shared to B at `at`. */
const stop = (recipient: string, at: string) => ({
  messageSid: `SM${String(++sid).padStart(32, '0')}`,
  accountSid: ACCOUNT,
  kind: 'opt-out' as const,
  keyword: 'STOP',
  twilioNumber: B,
  endUser: recipient,
  channel: null,
  messagingServiceSid: SHARED,
  direction: 'inbound',
  body: 'STOP',
  dateSent: at,
  errorCode: null,
});

/**
 * A (acme, recorded as come from the parent in no service) and B (beta) mapped; the parent
 * listed at each of `listings` with A in Shared or in none (B in Shared throughout); A moved
 * into acme's subaccount on 20 May: the recipients on A's list.
 */
function listOfA(db: Db, listings: [string, boolean][], stops: [string, string][]): string[] {
  recordMapping(
    db,
    'sha',
    '2025-05-01T00:00:00Z',
    [
      { customerId: 'acme', customerName: 'Acme', messagingService: null },
      { customerId: 'beta', customerName: 'Beta', messagingService: null },
    ],
    (
      [
        [A, 'acme', null],
        [B, 'beta', SHARED],
      ] as const
    ).map(([phoneNumber, customerId, service]) => ({
      numberSid: sidOf(phoneNumber),
      phoneNumber,
      customerId,
      sourceAccountSid: ACCOUNT,
      sourceServiceSid: service,
      atSource: true,
    })),
  );
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
    [
      {
        accountSid: ACCOUNT,
        windowStart: '2025-01-01T00:00:00Z',
        windowEnd: '2025-06-01T00:00:00Z',
      },
    ],
    [],
  );
  finishRun(db, id, 'completed', '2025-06-01T00:00:01Z');
  recordServices(db, ACCOUNT, '2025-05-01T00:00:00Z', [SHARED]);
  const listed = (phoneNumber: string, service: string | null) => ({
    accountSid: ACCOUNT,
    numberSid: sidOf(phoneNumber),
    phoneNumber,
    numberType: 'local',
    messagingServiceSid: service,
    serviceName: service === null ? null : 'Shared',
  });
  for (const [at, inShared] of listings) {
    replaceNumbers(db, id, ACCOUNT, at, [listed(A, inShared ? SHARED : null), listed(B, SHARED)]);
  }
  insertEvents(
    db,
    id,
    stops.map(([recipient, at]) => stop(recipient, at)),
  );
  const lists = suppressionLists(db, [
    {
      numberSid: sidOf(A),
      phoneNumber: A,
      customerId: 'acme',
      subaccountSid: SUB,
      sourceAccountSid: ACCOUNT,
      sourceServiceSid: null,
      movedAt: '2025-05-20T00:00:00Z',
      moveBegan: '2025-05-20T00:00:00Z',
      subaccountCreatedAt: null,
    },
  ]);
  return lists.get(A)!.map((pair) => pair.recipient);
}

describe("reconcile's list of a number that left a shared service by hand", () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('leaves out a STOP said through the service more than two minutes after a listing showed the number out of it', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const recipients = listOfA(
        db,
        // In Shared on 1 May, out of it on 10 May.
        [
          ['2025-05-01T00:00:00Z', true],
          ['2025-05-10T00:00:00Z', false],
        ],
        [
          // While A was in Shared.
          ['+12065550001', '2025-04-01T00:00:00Z'],
          // Between the two listings: nobody knows whether A was still there.
          ['+12065550002', '2025-05-05T00:00:00Z'],
          // Two minutes after the listing that showed A out, by Twilio's clock: maybe before.
          ['+12065550003', '2025-05-10T00:02:00Z'],
          // Later: said to a service A had left.
          ['+12065550004', '2025-05-10T00:02:01Z'],
          ['+12065550005', '2025-05-15T00:00:00Z'],
        ],
      );
      expect(recipients.sort()).toEqual(['+12065550001', '+12065550002', '+12065550003']);
    });
  });

  it('keeps a STOP said while the number was away from the service, once it came back and left again', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const recipients = listOfA(
        db,
        // In Shared on 1 May, out on 5 May, back on 8 May, out again on 10 May.
        [
          ['2025-05-01T00:00:00Z', true],
          ['2025-05-05T00:00:00Z', false],
          ['2025-05-08T00:00:00Z', true],
          ['2025-05-10T00:00:00Z', false],
        ],
        [
          // While it was away the first time, and after it left for good.
          ['+12065550001', '2025-05-06T00:00:00Z'],
          ['+12065550002', '2025-05-11T00:00:00Z'],
        ],
      );
      expect(recipients).toEqual(['+12065550001']);
    });
  });
});
