/**
 * `departuresByHand` on a real SQLite file: a mapped number the listings saw in the account its
 * plan records it came from (Acme's subaccount), then in another (the parent), left Acme's by
 * hand, up to the listing that saw it in the parent; unless an apply of this journal began to
 * transfer it out of Acme's (its intent recorded, the request apply sends), whatever became of
 * the step or its run: a transfer killed in flight and given up for a plan made again is the
 * tool's move, not a hand's (test/integration/apply-again-after-replan.test.ts told it; the
 * unnarrowed rule took it for one left by hand, and that run's lists for not whole). A
 * transfer out of another account (the parent, where the plan found it) is no departure from
 * Acme's.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { describeIntent } from '../../src/apply/perform.js';
import type { Targets } from '../../src/apply/targets.js';
import { recordMapping } from '../../src/db/customers.js';
import { createApplyRun, recordIntent, recordOutcome } from '../../src/db/journal.js';
import { replaceNumbers } from '../../src/db/ledger.js';
import type { Db } from '../../src/db/open.js';
import { departuresByHand } from '../../src/db/reconcile.js';
import { createRun, finishRun } from '../../src/db/snapshot-runs.js';
import type { TransferNumberStep } from '../../src/plan/types.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const PARENT = 'AC' + '0'.repeat(32);
const ACME = 'AC' + '1'.repeat(32);
const BETA = 'AC' + '2'.repeat(32);
const NUMBER_SID = 'PN' + '1'.repeat(32);
const PHONE = '+14155550100';
/** The listing that last saw the number in Acme's subaccount, and the next, in the parent. */
const IN_ACME = '2026-11-01T10:00:00Z';
const IN_PARENT = '2026-11-01T11:00:00Z';

/** A listing of `accountSid` at `at` that saw the number there. */
function listed(db: Db, accountSid: string, at: string): void {
  const run = createRun(
    db,
    {
      parentAccountSid: PARENT,
      startedAt: at,
      pid: 1,
      hostname: 'test',
      partitions: 1,
      keywordsJson: '{}',
      explicitWindow: false,
      madeBy: 'snapshot',
    },
    [{ accountSid, windowStart: '2026-10-01T00:00:00Z', windowEnd: at }],
    [],
  );
  replaceNumbers(db, run, accountSid, at, [
    {
      accountSid,
      numberSid: NUMBER_SID,
      phoneNumber: PHONE,
      numberType: 'local',
      messagingServiceSid: null,
      serviceName: null,
    },
  ]);
  finishRun(db, run, 'completed', at);
}

/** Seen in Acme's subaccount, then in the parent; mapped to Beta, recorded as from Acme's. */
function leftAcmeByHand(db: Db): void {
  listed(db, ACME, IN_ACME);
  listed(db, PARENT, IN_PARENT);
  recordMapping(
    db,
    'sha',
    IN_PARENT,
    [{ customerId: 'beta', customerName: 'Beta', messagingService: null }],
    [
      {
        numberSid: NUMBER_SID,
        phoneNumber: PHONE,
        customerId: 'beta',
        sourceAccountSid: ACME,
        sourceServiceSid: null,
        atSource: false,
      },
    ],
  );
}

const targets: Targets = {
  subaccountOf: () => BETA,
  serviceOf: () => null,
  customer: () => {
    throw new Error('not asked');
  },
};

/**
 * An apply run of a plan that transfers the number out of `from` into Beta's subaccount: its
 * intent recorded as apply records it (`describeIntent`), then `end` (nothing: killed in
 * flight, the run left running).
 */
function transferSent(
  db: Db,
  from: string,
  integrity: string,
  end: 'in flight' | 'failed' | 'done',
): void {
  const step: TransferNumberStep = {
    id: `transfer_number:${NUMBER_SID}`,
    customer_id: 'beta',
    depends_on: [],
    action: 'transfer_number',
    phone_number: PHONE,
    number_sid: NUMBER_SID,
    from_account_sid: from,
    to_account_sid: BETA,
  };
  const at = '2026-11-01T12:00:00Z';
  const run = createApplyRun(
    db,
    {
      planPath: 'p.json',
      planIntegrity: integrity,
      planFingerprint: integrity,
      parentAccountSid: PARENT,
      startedAt: at,
      optionsJson: '{}',
      planJson: JSON.stringify({ parent_account_sid: PARENT, steps: [step] }),
    },
    [{ id: step.id, action: step.action, customerId: 'beta' }],
  );
  recordIntent(db, run, step.id, at, describeIntent(step, targets));
  const finished = '2026-11-01T12:00:01Z';
  if (end === 'failed') {
    recordOutcome(db, run, step.id, finished, {
      state: 'failed',
      status: 404,
      code: 20404,
      message: 'not found',
    });
  } else if (end === 'done') {
    recordOutcome(db, run, step.id, finished, {
      state: 'done',
      result: { to_account_sid: BETA },
    });
  }
}

describe('departuresByHand on a real database', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  const byHand = [{ numberSid: NUMBER_SID, accountSid: ACME, leftAt: IN_PARENT }];

  it('a number no apply moved out of its recorded source left it by the next listing elsewhere', async () => {
    await withLedger(dir.file('d.db'), (db) => {
      leftAcmeByHand(db);
      expect(departuresByHand(db)).toEqual(byHand);
    });
  });

  it("apply's transfer out of the parent, where the plan found it, is no departure from Acme's", async () => {
    await withLedger(dir.file('d.db'), (db) => {
      leftAcmeByHand(db);
      transferSent(db, PARENT, 'p1', 'done');
      expect(departuresByHand(db)).toEqual(byHand);
    });
  });

  it.each(['in flight', 'failed', 'done'] as const)(
    "apply's transfer out of Acme's, its intent recorded, %s: the tool's move, not a hand's",
    async (end) => {
      await withLedger(dir.file('d.db'), (db) => {
        leftAcmeByHand(db);
        transferSent(db, ACME, 'p1', end);
        expect(departuresByHand(db)).toEqual([]);
      });
    },
  );

  it('a transfer killed in flight in a run given up for a plan made again (a second run)', async () => {
    await withLedger(dir.file('d.db'), (db) => {
      leftAcmeByHand(db);
      transferSent(db, ACME, 'p1', 'in flight');
      // The plan made again finds the number in Beta's subaccount: its run has no transfer.
      listed(db, BETA, '2026-11-01T13:00:00Z');
      expect(departuresByHand(db)).toEqual([]);
    });
  });
});
