/**
 * A `carry_optouts` step against a scripted Consent API (a TwilioPort whose writeConsents
 * answers what each test says, everything else failing loudly) on a real SQLite journal: the
 * batches it sends, every per-item answer Twilio can give (each 30646 reason is a result kept
 * on the list, INTERNAL_SERVER_ERROR is sent again), a refused or unanswered batch, and a
 * re-run that sends only what has no answer, with the same correlation_ids. The emulator's
 * own answers are covered by test/integration/carry-*.test.ts.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { carryOptOuts } from '../../src/apply/carry.js';
import { targetsFrom } from '../../src/apply/targets.js';
import {
  listConsentBatches,
  listConsentItems,
  listRunConsentItems,
} from '../../src/db/consent-journal.js';
import {
  acquireLock,
  createApplyRun,
  LockLostError,
  type StepRecord,
} from '../../src/db/journal.js';
import { openDatabase, type Db } from '../../src/db/open.js';
import { TwilioError } from '../../src/errors.js';
import { correlationId } from '../../src/plan/carry.js';
import type { CarryItem, CarryOptOutsStep, Plan } from '../../src/plan/types.js';
import { carryAudit } from '../../src/report/carry.js';
import { subaccountRefused } from '../../src/twilio/client.js';
import type { ConsentRecord, ConsentResult, TwilioPort } from '../../src/twilio/port.js';
import { PARENT, planOf, sid, SUB } from '../support/plan-builders.js';
import { fixedClock, MIGRATIONS_DIR, tempDir, type TempDir } from '../support/snapshot-harness.js';

const SERVICE = sid('MG', 1);
const contact = (i: number) => `+1206${String(i).padStart(7, '0')}`;

function planFor(count: number, batchSize = 25): { plan: Plan; step: CarryOptOutsStep } {
  const step: CarryOptOutsStep = {
    id: 'carry_optouts:acme',
    action: 'carry_optouts',
    customer_id: 'acme',
    depends_on: [],
    account_sid: SUB,
    sender: 'service',
    service_sid: SERVICE,
    service_name: 'acmeAlerts',
    optouts: count,
    batch_size: batchSize,
    requests: Math.ceil(count / batchSize),
    already_carried: 0,
  };
  const items: CarryItem[] = Array.from({ length: count }, (_, i) => ({
    step: step.id,
    contact_id: contact(i),
    sender_number: null,
    date_of_consent: '2025-01-01T00:00:00Z',
  }));
  const plan = planOf({
    options: { snapshot: true, carry_optouts: true },
    summary: { ...planOf().summary, unchanged: 1, optouts_to_carry: count },
    customers: [
      {
        customer_id: 'acme',
        customer_name: 'Acme',
        subaccount_sid: SUB,
        subaccount_source: 'name',
        messaging_service: 'acmeAlerts',
        service_sid: SERVICE,
        numbers: [],
        optouts: count,
      },
    ],
    steps: [step],
    carry: { batch_size: batchSize, requests: step.requests, requests_per_minute: 100, seconds: 1 },
    carry_items: items,
  });
  return { plan, step };
}

type Answer = (records: readonly ConsentRecord[], call: number) => ConsentResult[] | TwilioError;

/** A port whose only operation is writeConsents, answering as `answer` says. */
/** `status`: the subaccount's, as fetching it with the parent's credentials answers. */
function scriptedPort(answer: Answer, status = 'active') {
  const calls: { account: string; records: ConsentRecord[] }[] = [];
  const unexpected = (name: string) => () => {
    throw new Error(`unexpected call: ${name}`);
  };
  const port = new Proxy({} as TwilioPort, {
    get(_target, key) {
      if (key === 'parentAccountSid') return PARENT;
      if (key === 'fetchAccount') return async (sid: string) => ({ sid, status });
      if (key !== 'writeConsents') return unexpected(String(key));
      return async (account: string, records: readonly ConsentRecord[]) => {
        calls.push({ account, records: [...records] });
        const result = answer(records, calls.length);
        if (result instanceof TwilioError) throw result;
        return result;
      };
    },
  });
  return { port, calls };
}

const ok = (records: readonly ConsentRecord[]): ConsentResult[] =>
  records.map((r) => ({ correlationId: r.correlationId, errorCode: 0, errorMessages: [] }));

describe('carryOptOuts (scripted Consent API, real journal)', () => {
  let dir: TempDir;
  let db: Db;
  let runId: number | undefined;

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase({
      path: dir.file('carry.db'),
      migrationsDir: MIGRATIONS_DIR,
      clock: fixedClock(0),
    });
  });
  afterEach(() => {
    db.close();
    dir.remove();
    runId = undefined;
  });

  function run(
    plan: Plan,
    step: CarryOptOutsStep,
    port: TwilioPort,
    lockedBy?: { pid: number; hostname: string; token: string },
  ) {
    runId ??= createApplyRun(
      db,
      {
        planPath: 'p.json',
        planIntegrity: `sha256:${Math.random()}`,
        planFingerprint: plan.fingerprint,
        parentAccountSid: PARENT,
        startedAt: '2025-06-01T00:00:00Z',
        optionsJson: '{}',
        planJson: JSON.stringify(plan),
      },
      plan.steps.map((s) => ({ id: s.id, action: s.action, customerId: s.customer_id })),
    );
    const targets = targetsFrom(plan, new Map<string, StepRecord>());
    return carryOptOuts(plan, step, targets, {
      db,
      twilio: port,
      clock: fixedClock(Date.UTC(2025, 5, 1, 12)),
      runId: runId!,
      ...(lockedBy === undefined ? {} : { lockedBy }),
    });
  }

  it('sends no batch more once another apply took the lock over, and marks none sent', async () => {
    const me = { pid: 7, hostname: 'old-container', token: 'old', isAlive: () => true };
    const taker = { pid: 8, hostname: 'new-container', token: 'new', isAlive: () => true };
    acquireLock(db, me, '2025-06-01T00:00:00Z');
    const { plan, step } = planFor(60);
    // While the first batch is in flight, an apply on another machine takes the lock over.
    const { port, calls } = scriptedPort((records) => {
      acquireLock(db, taker, '2025-06-01T01:00:00Z', true);
      return ok(records);
    });
    await expect(run(plan, step, port, me)).rejects.toBeInstanceOf(LockLostError);
    expect(calls).toHaveLength(1);
    // The first batch answered and journaled; the others neither sent nor marked sent: the
    // apply that holds the lock sends them, with the same correlation_ids.
    expect(
      listConsentBatches(db, runId!, step.id).map((b) => [b.batch, b.sends, b.status]),
    ).toEqual([
      [0, 1, 201],
      [1, 0, null],
      [2, 0, null],
    ]);
    const again = scriptedPort(ok);
    const outcome = await run(plan, step, again.port, taker);
    expect(outcome.state).toBe('done');
    expect(again.calls.map((c) => c.records.length)).toEqual([25, 10]);
  });

  it('sends the records 25 to a request, as opt-outs from opt-out messages, as the subaccount', async () => {
    const { plan, step } = planFor(60);
    const { port, calls } = scriptedPort(ok);
    const outcome = await run(plan, step, port);
    expect(outcome).toEqual({
      state: 'done',
      result: { subaccount_sid: SUB, sender_id: SERVICE, written: '60', rejected: '0' },
    });
    expect(calls.map((c) => c.records.length)).toEqual([25, 25, 10]);
    expect(calls.every((c) => c.account === SUB)).toBe(true);
    expect(calls[0]!.records[0]).toEqual({
      contactId: contact(0),
      correlationId: correlationId(SUB, SERVICE, contact(0)),
      senderId: SERVICE,
      status: 'opt-out',
      source: 'opt-out-message',
      dateOfConsent: '2025-01-01T00:00:00Z',
    });
    const items = listConsentItems(db, runId!, step.id);
    expect(items).toHaveLength(60);
    expect(items.every((i) => i.errorCode === 0 && i.answeredAt !== null)).toBe(true);
    expect(
      listConsentBatches(db, runId!, step.id).map((b) => [b.batch, b.sends, b.status]),
    ).toEqual([
      [0, 1, 201],
      [1, 1, 201],
      [2, 1, 201],
    ]);
  });

  const REASONS = [
    'INVALID_CORRELATION_ID',
    'INVALID_SENDER_ID',
    'INVALID_CONTACT_ID',
    'INVALID_STATUS',
    'INVALID_SOURCE',
    'INVALID_DATE_OF_CONSENT',
  ];

  it('each 30646 reason is a result: the record is journaled rejected, the step is done', async () => {
    const { plan, step } = planFor(REASONS.length + 1);
    const { port, calls } = scriptedPort((records) =>
      records.map((r, i) => ({
        correlationId: r.correlationId,
        errorCode: i < REASONS.length ? 30646 : 0,
        errorMessages: i < REASONS.length ? [REASONS[i]!] : [],
      })),
    );
    const outcome = await run(plan, step, port);
    expect(outcome).toMatchObject({
      state: 'done',
      result: { written: '1', rejected: String(REASONS.length) },
      how: `${REASONS.length} of ${REASONS.length + 1} opt-out record(s) rejected by Twilio (30646): they stay on the suppression list, listed in the audit`,
    });
    expect(calls).toHaveLength(1);
    const items = listConsentItems(db, runId!, step.id);
    expect(items.map((i) => [i.errorCode, i.errorMessages])).toEqual([
      ...REASONS.map((reason) => [30646, [reason]]),
      [0, []],
    ]);
    // The audit lists every record with its result and reasons.
    const audit = carryAudit(
      plan,
      [{ customer_id: 'acme', subaccount_sid: SUB, messaging_service_sid: SERVICE }],
      new Map([[step.id, { state: 'done' } as StepRecord]]),
      listRunConsentItems(db, runId!),
      null,
    );
    expect(audit.items.map((i) => [i.result, i.error_messages])).toEqual([
      ...REASONS.map((reason) => ['rejected', [reason]]),
      ['written', []],
    ]);
    expect(audit.customers[0]).toMatchObject({ written: 1, rejected: 6, not_written: 0 });
  });

  it('INTERNAL_SERVER_ERROR is sent again, with the same correlation_id', async () => {
    const { plan, step } = planFor(3);
    const { port, calls } = scriptedPort((records, call) =>
      records.map((r, i) => ({
        correlationId: r.correlationId,
        errorCode: call === 1 && i === 1 ? 30646 : 0,
        errorMessages: call === 1 && i === 1 ? ['INTERNAL_SERVER_ERROR'] : [],
      })),
    );
    expect(await run(plan, step, port)).toMatchObject({
      state: 'done',
      result: { written: '3', rejected: '0' },
    });
    expect(calls.map((c) => c.records.map((r) => r.contactId))).toEqual([
      [contact(0), contact(1), contact(2)],
      [contact(1)],
    ]);
    expect(calls[1]!.records[0]!.correlationId).toBe(calls[0]!.records[1]!.correlationId);
    expect(listConsentBatches(db, runId!, step.id)[0]!.sends).toBe(2);
  });

  it('INTERNAL_SERVER_ERROR every time: the step fails, and a re-run sends only those records', async () => {
    const { plan, step } = planFor(2);
    const flaky = scriptedPort((records) =>
      records.map((r) => ({
        correlationId: r.correlationId,
        errorCode: r.contactId === contact(0) ? 0 : 30646,
        errorMessages: r.contactId === contact(0) ? [] : ['INTERNAL_SERVER_ERROR'],
      })),
    );
    expect(await run(plan, step, flaky.port)).toMatchObject({
      state: 'failed',
      message: expect.stringMatching(
        /^1 of 2 opt-out\(s\) got no result from Twilio after 3 tries/,
      ),
    });
    expect(flaky.calls.map((c) => c.records.length)).toEqual([2, 1, 1]);
    const fixed = scriptedPort(ok);
    expect(await run(plan, step, fixed.port)).toMatchObject({ state: 'done' });
    expect(fixed.calls.map((c) => c.records.map((r) => r.correlationId))).toEqual([
      [correlationId(SUB, SERVICE, contact(1))],
    ]);
  });

  it('no access (403): the step fails saying so, and no record counts as written', async () => {
    const { plan, step } = planFor(30);
    const { port } = scriptedPort(
      () =>
        new TwilioError({
          status: 403,
          code: 20403,
          message: 'This account does not have access to the Consent Management API.',
          retryable: false,
        }),
    );
    const outcome = await run(plan, step, port);
    expect(outcome).toEqual({
      state: 'failed',
      status: 403,
      code: 20403,
      message:
        `subaccount ${SUB} has no access to Twilio's Consent Management API (HTTP 403, Twilio 20403: This account does not have access to the Consent Management API.): ` +
        '30 opt-out(s) of the customer are not written into it, and its suppression list is their only protection. The moves stand. Ask Twilio for Consent Management API access for the subaccount, then run apply again.',
    });
    expect(listConsentItems(db, runId!, step.id).every((i) => i.errorCode === null)).toBe(true);
    expect(listConsentBatches(db, runId!, step.id)[0]).toMatchObject({
      sends: 1,
      status: 403,
      errorCode: 20403,
      answeredAt: null,
    });
  });

  it('403 from a suspended subaccount: the step says it is suspended, not that it lacks access', async () => {
    const { plan, step } = planFor(30);
    const { port, calls } = scriptedPort(
      () =>
        new TwilioError({
          status: 403,
          code: 20403,
          message:
            'The account lacks permission to access the Twilio API. Typically this means the account has been suspended or closed.',
          retryable: false,
        }),
      'suspended',
    );
    const outcome = await run(plan, step, port);
    expect(outcome).toEqual({
      state: 'failed',
      status: 403,
      code: 20403,
      message:
        `subaccount ${SUB} is suspended, and Twilio refuses its credentials (HTTP 403, Twilio 20403: The account lacks permission to access the Twilio API. Typically this means the account has been suspended or closed.): ` +
        "30 opt-out(s) of the customer are not written into it, and its suppression list is their only protection. The moves stand. Make the subaccount active again (Status=active, with the parent's credentials; a closed one cannot be), then run apply again.",
    });
    expect(calls).toHaveLength(1);
    expect(listConsentItems(db, runId!, step.id).every((i) => i.errorCode === null)).toBe(true);
  });

  // The error as the client makes it for a 403 to a subaccount's own credentials: Twilio's words
  // and the client's own advice. The carry says what to do once, in its own words.
  it.each([
    [
      'suspended',
      'The account lacks permission to access the Twilio API. Typically this means the account has been suspended or closed.',
      `is suspended, and Twilio refuses its credentials`,
      "Make the subaccount active again (Status=active, with the parent's credentials; a closed one cannot be), then run apply again.",
    ],
    [
      'active',
      'This account does not have access to the Consent Management API.',
      "has no access to Twilio's Consent Management API",
      'Ask Twilio for Consent Management API access for the subaccount, then run apply again.',
    ],
  ])(
    'a 403 as the client tells it, subaccount %s: one thing to do, not two',
    async (status, said, what, todo) => {
      const { plan, step } = planFor(30);
      const refused = subaccountRefused(SUB, { code: 20403, message: said, status: 403 });
      const { port } = scriptedPort(() => refused, status);
      const outcome = await run(plan, step, port);
      expect(outcome).toEqual({
        state: 'failed',
        status: 403,
        code: 20403,
        message:
          `subaccount ${SUB} ${what} (HTTP 403, Twilio 20403: ${said}): ` +
          `30 opt-out(s) of the customer are not written into it, and its suppression list is their only protection. The moves stand. ${todo}`,
      });
    },
  );

  it('a batch with no answer fails the step as uncertain; the re-run sends it and what follows, same ids', async () => {
    const { plan, step } = planFor(60);
    const lost = scriptedPort((records, call) =>
      call === 2
        ? new TwilioError({
            status: 0,
            code: null,
            message: 'POST https://accounts.twilio.com/v1/Consents/Bulk: no answer (ECONNRESET)',
            retryable: true,
          })
        : ok(records),
    );
    expect(await run(plan, step, lost.port)).toMatchObject({
      state: 'failed',
      status: 0,
      message: expect.stringContaining('batch 2 of 3 got no certain answer'),
    });
    const before = listConsentItems(db, runId!, step.id).map((i) => i.correlationId);
    const again = scriptedPort(ok);
    expect(await run(plan, step, again.port)).toMatchObject({ state: 'done' });
    expect(again.calls.map((c) => c.records.length)).toEqual([25, 10]);
    expect(again.calls.flatMap((c) => c.records.map((r) => r.correlationId))).toEqual(
      before.slice(25),
    );
    expect(listConsentItems(db, runId!, step.id).map((i) => i.correlationId)).toEqual(before);
    expect(listConsentBatches(db, runId!, step.id).map((b) => b.sends)).toEqual([1, 2, 1]);
  });

  it('matches results by their place when Twilio leaves correlation_id out', async () => {
    const { plan, step } = planFor(2);
    const { port } = scriptedPort((records) =>
      records.map((_, i) => ({
        correlationId: null,
        errorCode: i === 0 ? 0 : 30646,
        errorMessages: i === 0 ? [] : ['INVALID_CONTACT_ID'],
      })),
    );
    expect(await run(plan, step, port)).toMatchObject({
      state: 'done',
      result: { written: '1', rejected: '1' },
    });
  });
});
