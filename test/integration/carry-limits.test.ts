/**
 * The carry in-process (runPlan and runApply on a real SQLite file, the real SDK over real
 * HTTP to the emulator), where the test holds the clocks and every Consent API answer the SDK
 * receives is validated against twilio_accounts_v1.json:
 * - Twilio's 100 requests a minute: 3,000 opt-outs (120 requests) with the emulator's clock
 *   running ten times as fast and the limiter's minute as short; no request draws a 429 and
 *   no minute holds more than 100 of them, as the emulator saw them arrive;
 * - records Twilio rejects (a contact that is not E.164, an opt-out dated after Twilio's now,
 *   a sender the subaccount no longer owns): results journaled with their reasons, kept on
 *   the suppression list and marked not enforced, listed in the audit; the rest written.
 */

import { parse } from 'csv-parse/sync';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { runReport } from '../../src/apply/reports.js';
import type { ApplyResult } from '../../src/apply/apply-types.js';
import { runApply } from '../../src/apply/run-apply.js';
import type { Clock } from '../../src/clock.js';
import { listRunConsentItems } from '../../src/db/consent-journal.js';
import { withDb } from '../../src/db/open.js';
import { fileText } from '../../src/files.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { Plan } from '../../src/plan/types.js';
import {
  clearRequestLog,
  emulatorOptOuts,
  ownClient,
  requestLog,
  startTestEmulator,
  type TestEmulator,
} from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { applyInputOf } from '../support/plan-builders.js';
import { MIGRATIONS_DIR, TEST_RUNNER, tempDir, type TempDir } from '../support/snapshot-harness.js';

const BASE = Date.UTC(2025, 5, 1, 12, 0, 0);
const N1 = '+14155550101';
const N2 = '+14155550102';
const recipient = (i: number) => `+1206${String(i).padStart(7, '0')}`;

const stop = (from: string, to: string, date: string) => ({
  from,
  to,
  body: 'STOP',
  direction: 'inbound' as const,
  date_sent: date,
});

/** plan --carry-optouts, then apply, in-process on `dbPath`, as of `clock`. */
async function planAndApply(
  env: TestEmulator,
  dbPath: string,
  mappingText: string,
  clock: Clock,
  between: (plan: Plan) => Promise<void> = async () => undefined,
  concurrency = 4,
): Promise<{ plan: Plan; result: ApplyResult }> {
  return withDb({ path: dbPath, migrationsDir: MIGRATIONS_DIR, clock }, async (db) => {
    const twilio = env.port();
    const { plan } = await runPlan(
      {
        mapping: parseMapping('m.csv', mappingText),
        snapshot: true,
        credentials: 'auth-token',
        carry: { batchSize: 25 },
      },
      { twilio, db, clock, runner: TEST_RUNNER },
    );
    const input = applyInputOf(plan, { concurrency });
    await between(plan);
    const result = await runApply(input, {
      twilio,
      db,
      clock,
      runner: TEST_RUNNER,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    return { plan, result };
  });
}

const consentRequests = <Entry extends { method: string; path: string }>(log: Entry[]) =>
  log.filter((e) => e.method === 'POST' && e.path === '/v1/Consents/Bulk');

describe('100 Consent API requests a minute: 3,000 opt-outs at a clock ten times as fast', () => {
  const SCALE = 10;
  const MINUTE_MS = 60_000 / SCALE;
  let env: TestEmulator;
  let dir: TempDir;
  let t0 = Date.now();
  const emulatorNow = () => BASE + (Date.now() - t0) * SCALE;

  beforeAll(async () => {
    env = await startTestEmulator(
      { now: emulatorNow },
      // The limiter as apply builds it (the default 100 a minute), its minute as short.
      { limits: { concurrency: 8, ratePerSecond: 0, minuteMs: MINUTE_MS } },
    );
    dir = tempDir();
  });
  afterAll(async () => {
    await env.close();
    dir.remove();
  });

  it('no request draws a 429; no minute holds more than 100; every answer fits the spec', async () => {
    await env.seed({
      numbers: [{ phone_number: N1 }],
      messages: Array.from({ length: 3000 }, (_, i) =>
        stop(recipient(i), N1, new Date(BASE - 86_400_000 - i * 1000).toISOString()),
      ),
    });
    t0 = Date.now();
    const validated = () =>
      env.httpClient.validatedByOperation.get('POST /v1/Consents/Bulk 201') ?? 0;
    const validatedBefore = validated();
    const { plan, result } = await planAndApply(
      env,
      dir.file('rate.db'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N1},acmeAlerts\n`,
      { now: () => new Date(emulatorNow()) },
      async () => {
        await clearRequestLog(env);
      },
    );
    expect(plan.summary.optouts_to_carry).toBe(3000);
    expect(plan.carry).toEqual({
      batch_size: 25,
      requests: 120,
      requests_per_minute: 100,
      seconds: 72,
    });
    expect(result.status).toBe('completed');

    const log = await requestLog(env);
    expect(log.filter((e) => e.status === 429)).toEqual([]);
    const consent = consentRequests(log);
    expect(consent).toHaveLength(120);
    expect(consent.every((e) => e.status === 201)).toBe(true);
    // As the emulator saw them arrive (wall clock; its own clock, ten times as fast, agreed:
    // it answered no 429): never more than 100 in any minute.
    const times = consent.map((e) => Date.parse(e.time)).sort((a, b) => a - b);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= MINUTE_MS) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(busiest).toBeLessThanOrEqual(100);
    expect(busiest).toBeGreaterThan(80);
    const took = times.at(-1)! - times[0]!;
    console.log(
      `carry limits: 3,000 opt-outs in 120 Consent requests took ${took} ms at a ${MINUTE_MS} ms minute, ` +
        `${((took * SCALE) / 1000).toFixed(1)} s at Twilio's; the plan said ${plan.carry!.seconds} s at 100 a minute; busiest minute ${busiest}`,
    );
    // At most 100 a minute, 120 requests cannot all start within one minute.
    expect(took).toBeGreaterThanOrEqual(MINUTE_MS);

    const stored = (await emulatorOptOuts(env)).filter((o) => o.source === 'consent-api');
    expect(stored).toHaveLength(3000);
    // Every one of the 120 answers was checked against twilio_accounts_v1.json.
    expect(validated() - validatedBefore).toBe(120);
    expect(env.httpClient.violations).toEqual([]);
  });
});

describe('records Twilio rejects stay on the list, marked, and are listed in the audit', () => {
  const T = BASE;
  let clock = T;
  const ws = useCliWorkspace(undefined, { now: () => clock });
  const toolClock: Clock = { now: () => new Date(clock) };
  afterEach(() => {
    // Every answer, the 30646 ones included, fits twilio_accounts_v1.json.
    expect(
      ws.env.httpClient.validatedByOperation.get('POST /v1/Consents/Bulk 201'),
    ).toBeGreaterThan(0);
    expect(ws.env.httpClient.violations).toEqual([]);
  });

  it('INVALID_CONTACT_ID and INVALID_DATE_OF_CONSENT: rejected, the others written', async () => {
    await ws.env.control('POST', '/__emulator/reset');
    const good = '+12065550001';
    const short = '+120655';
    const later = '+12065550002';
    // Planned two hours ahead of the clock Twilio then keeps (clock skew, say): the STOP an
    // hour ahead lies after Twilio's now when the record reaches it.
    clock = T + 2 * 3_600_000;
    await ws.env.seed({
      numbers: [{ phone_number: N1 }],
      messages: [
        stop(good, N1, '2025-05-01T00:00:00Z'),
        stop(short, N1, '2025-05-02T00:00:00Z'),
        stop(later, N1, new Date(T + 3_600_000).toISOString()),
      ],
    });
    const db = ws.dir.file('contact-date.db');
    const { plan, result } = await planAndApply(
      ws.env,
      db,
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N1},acmeAlerts\n`,
      toolClock,
      async () => {
        clock = T;
      },
    );
    expect(plan.summary.optouts_to_carry).toBe(3);
    expect(result.status).toBe('completed');
    expect(result.notes).toEqual([
      "carry_optouts:acme: Twilio rejected 2 of 3 opt-out record(s) (30646); they stay on the customer's suppression list, and the audit lists each with its reasons",
    ]);
    const { items, files } = await withDb(
      { path: db, migrationsDir: MIGRATIONS_DIR, clock: toolClock },
      // Each report file reads the list from the database as it is written: read while open.
      (d) => ({
        items: listRunConsentItems(d, result.runId).get('carry_optouts:acme')!,
        files: runReport(d, result.runId).files.map((f) => ({
          path: f.path,
          content: f.content === null ? null : fileText(f.content),
        })),
      }),
    );
    expect(items.map((i) => [i.contactId, i.errorCode, i.errorMessages])).toEqual([
      [short, 30646, ['INVALID_CONTACT_ID']],
      [good, 0, []],
      [later, 30646, ['INVALID_DATE_OF_CONSENT']],
    ]);
    const file = (path: string) => files.find((f) => f.path === path)!.content!;
    const audit = JSON.parse(file('audit.json')) as {
      carry: { items: { contact_id: string; result: string; error_messages: string[] }[] };
    };
    expect(audit.carry.items.map((i) => [i.contact_id, i.result, i.error_messages])).toEqual([
      [short, 'rejected', ['INVALID_CONTACT_ID']],
      [good, 'written', []],
      [later, 'rejected', ['INVALID_DATE_OF_CONSENT']],
    ]);
    // Still on the list, marked: Twilio enforces only the one it wrote.
    const rows = (path: string) => parse(file(path), { columns: true }) as Record<string, string>[];
    expect(rows('optouts/acme.csv').map((r) => [r['recipient'], r['twilio_enforces']])).toEqual([
      [short, 'no'],
      [good, 'yes'],
      [later, 'no'],
    ]);
    expect(rows('carry.csv')).toEqual([
      expect.objectContaining({
        customer_id: 'acme',
        carry_step: 'done',
        optouts_to_carry: '3',
        written: '1',
        rejected: '2',
        not_written: '0',
        list_rows: '3',
        twilio_enforces_rows: '1',
        protection:
          'Twilio refuses sends to 1 of the 3 rows of its suppression list; for the other 2, the list is the only protection (Twilio rejected 2 of them)',
      }),
    ]);
    // And Twilio really does: refused for the one, not for the other.
    const state = await ws.env.state();
    const service = state.services.find((s) => s.friendly_name === 'acmeAlerts')!;
    const client = ownClient(ws.env, service.account_sid);
    const sendTo = (to: string) =>
      client.messages.create({ messagingServiceSid: service.sid, to, body: 'hi' }).then(
        () => 201,
        (error: { code: number }) => error.code,
      );
    expect(await sendTo(good)).toBe(21610);
    expect(await sendTo(later)).toBe(201);
  });

  it('INVALID_SENDER_ID: a number the subaccount no longer owns when its records arrive', async () => {
    await ws.env.control('POST', '/__emulator/reset');
    clock = T;
    await ws.env.seed({
      numbers: [{ phone_number: N2 }],
      messages: [stop('+12065550003', N2, '2025-05-01T00:00:00Z')],
    });
    const db = ws.dir.file('sender.db');
    let released = false;
    const { result } = await planAndApply(
      ws.env,
      db,
      `customer_id,customer_name,phone_number\nbirch,Birch,${N2}\n`,
      toolClock,
      async () => {
        // Hold the write after the subaccount's creation and the transfer: the carry's.
        await ws.env.control('POST', '/__emulator/faults', {
          hold_after: 2,
          hold_methods: ['POST'],
        });
        void (async () => {
          for (;;) {
            const health = await ws.env.control<{ held_requests: number }>(
              'GET',
              '/__emulator/health',
            );
            if (health.held_requests > 0) break;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          // Someone releases the number in between (a DELETE: not held).
          const number = (await ws.env.state()).numbers.find((n) => n.phone_number === N2)!;
          await ws.env.parent.api.v2010
            .accounts(number.account_sid)
            .incomingPhoneNumbers(number.sid)
            .remove();
          released = true;
          await ws.env.control('POST', '/__emulator/faults', { hold_after: 0, hold_methods: [] });
        })();
      },
      1,
    );
    expect(released).toBe(true);
    // Every step did its part; the routing check after the move finds the number gone.
    expect(result.failures).toEqual([]);
    expect(result.counts.failed).toBe(0);
    expect(result.routeFailures.map((c) => [c.phoneNumber, c.verdict])).toEqual([[N2, 'missing']]);
    expect(result.status).toBe('failed');
    const items = await withDb({ path: db, migrationsDir: MIGRATIONS_DIR, clock: toolClock }, (d) =>
      listRunConsentItems(d, result.runId).get('carry_optouts:birch')!,
    );
    expect(items.map((i) => [i.senderId, i.errorCode, i.errorMessages])).toEqual([
      [N2, 30646, ['INVALID_SENDER_ID']],
    ]);
  });
});
