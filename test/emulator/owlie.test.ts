import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  loadOwlie,
  NEAR_MISS,
  owlieCustomers,
  owlieMapping,
  type OwlieOptions,
} from '../../src/emulator/scenarios/owlie.js';
import { classifyBody } from '../../src/emulator/keywords.js';
import { EmulatorState } from '../../src/emulator/state.js';

const fixedNow = Date.UTC(2025, 5, 1, 12, 0, 0);
const DAY = 86_400_000;
const options: OwlieOptions = { seed: 42, messages: 5_000, now: fixedNow };
const NEAR_MISSES = new Set(NEAR_MISS);
const tollFree = new Set(
  owlieCustomers()
    .flatMap((c) => c.numbers)
    .filter((n) => n.type === 'toll-free')
    .map((n) => n.phoneNumber),
);

function newState(): EmulatorState {
  return new EmulatorState({
    seed: 7,
    parentSid: 'AC' + 'a'.repeat(32),
    parentToken: 't'.repeat(32),
    now: () => fixedNow,
  });
}

function history(state: EmulatorState) {
  return state.messages.page(state.parentSid, {}, { kind: 'first' }, 100_000).items;
}

describe('owlie scenario: customers and mapping', () => {
  const customers = owlieCustomers();
  const numbers = customers.flatMap((c) => c.numbers);

  it('has 50 customers with 1–5 unique E.164 numbers each', () => {
    expect(customers).toHaveLength(50);
    for (const c of customers) {
      expect(c.numbers.length).toBeGreaterThanOrEqual(1);
      expect(c.numbers.length).toBeLessThanOrEqual(5);
      expect(c.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(c.name.length).toBeLessThanOrEqual(64);
    }
    expect(new Set(customers.map((c) => c.id)).size).toBe(50);
    expect(new Set(numbers.map((n) => n.phoneNumber)).size).toBe(numbers.length);
    for (const n of numbers) expect(n.phoneNumber).toMatch(/^\+1[2-9]\d{9}$/);
    expect(numbers.length).toBeGreaterThanOrEqual(120);
    expect(numbers.length).toBeLessThanOrEqual(160);
    const tollFree = numbers.filter((n) => n.type === 'toll-free');
    for (const n of tollFree) expect(n.phoneNumber).toMatch(/^\+18(33|44|55)/);
    expect(tollFree.length / numbers.length).toBeGreaterThan(0.07);
    expect(tollFree.length / numbers.length).toBeLessThan(0.11);
  });

  it('is deterministic', () => {
    expect(owlieCustomers()).toEqual(customers);
  });

  it('ships plans/owlie-customers.csv equal to owlieMapping()', () => {
    const shipped = readFileSync(
      new URL('../../plans/owlie-customers.csv', import.meta.url),
      'utf8',
    );
    const mapping = owlieMapping();
    expect(shipped).toBe(mapping);
    const lines = mapping.split('\n');
    expect(lines[0]).toBe(
      'customer_id,customer_name,phone_number,messaging_service,subaccount_sid',
    );
    expect(mapping).not.toContain('\r');
    expect(lines).toHaveLength(numbers.length + 2); // header + rows + the final newline
    expect(mapping).toContain('"Smith, Ortega & Associates"');
    expect(mapping).toContain('Café Lumière');
  });
});

describe('owlie scenario: loadOwlie', () => {
  const state = newState();
  const result = loadOwlie(state, options);
  const messages = history(state);

  it('creates the numbers and the two shared services', () => {
    const expectedNumbers = owlieCustomers().reduce((sum, c) => sum + c.numbers.length, 0);
    expect(result).toEqual({
      customers: 50,
      numbers: expectedNumbers,
      services: 2,
      messages: 5_000,
    });
    expect(state.numbers.size).toBe(expectedNumbers);
    const services = [...state.services.values()];
    expect(services.map((s) => s.friendlyName).sort()).toEqual(['Owlie Alerts', 'Owlie Shared']);
    for (const s of services) {
      expect(s.accountSid).toBe(state.parentSid);
      expect(s.numbers.size).toBeGreaterThan(0);
    }
  });

  it('spreads the history over the last 300 days', () => {
    expect(messages).toHaveLength(5_000);
    for (const m of messages) {
      expect(m.dateSent).toBeGreaterThanOrEqual(fixedNow - 300 * DAY);
      expect(m.dateSent).toBeLessThanOrEqual(fixedNow);
    }
  });

  it('leaves opt-outs at number and service scope, and 21610 evidence', () => {
    const optedOut = state.optOuts.list().filter((e) => e.optedOut);
    expect(optedOut.some((e) => e.scope === 'number')).toBe(true);
    expect(optedOut.some((e) => e.scope === 'service')).toBe(true);
    expect(messages.some((m) => m.errorCode === 21610 && m.status === 'failed')).toBe(true);
  });

  it('has near-miss bodies and YES sent to a toll-free number', () => {
    const inbound = messages.filter((m) => m.direction === 'inbound');
    expect(inbound.some((m) => NEAR_MISSES.has(m.body))).toBe(true);
    expect(inbound.some((m) => /^yes$/i.test(m.body.trim()) && tollFree.has(m.to))).toBe(true);
  });

  it('gives the shared services an inbound URL and a status callback, and every number an sms_url', () => {
    const byPhone = new Map(
      owlieCustomers().flatMap((c) => c.numbers.map((n) => [n.phoneNumber, c.id])),
    );
    for (const n of state.numbers.values()) {
      expect(n.settings.sms_url).toBe(
        `https://hooks.owlie.example/customers/${byPhone.get(n.phoneNumber)}/sms`,
      );
    }
    for (const s of state.services.values()) {
      expect(s.settings).toMatchObject({
        inbound_request_url: 'https://hooks.owlie.example/owlie/inbound',
        status_callback: 'https://hooks.owlie.example/owlie/status',
        use_inbound_webhook_on_number: false,
      });
    }
    const local = newState();
    loadOwlie(local, { ...options, messages: 10, webhookBaseUrl: 'http://127.0.0.1:9999/' });
    const [service] = [...local.services.values()];
    expect(service!.settings.inbound_request_url).toBe('http://127.0.0.1:9999/owlie/inbound');
    const [number] = [...local.numbers.values()];
    expect(number!.settings.sms_url).toBe('http://127.0.0.1:9999/customers/falcon-flights/sms');
  });

  it('opened the account, numbers and services before the first message', () => {
    const first = Math.min(...messages.map((m) => m.dateSent));
    const parent = state.account(state.parentSid)!;
    expect(parent.dateCreated).toBeLessThan(first);
    expect(parent.dateCreated).toBeGreaterThanOrEqual(fixedNow - 330 * DAY);
    for (const n of state.numbers.values()) expect(n.dateCreated).toBe(parent.dateCreated);
    for (const s of state.services.values()) expect(s.dateCreated).toBe(parent.dateCreated);
  });

  it('gives the same history for the same options', () => {
    const again = newState();
    loadOwlie(again, options);
    const view = (s: EmulatorState) =>
      history(s).map((m) => [m.sid, m.body, m.dateSent, m.status] as const);
    expect(view(again)).toEqual(view(state));
  });
});

describe('owlie scenario: three years of history', () => {
  const state = newState();
  const historyDays = 1095;
  loadOwlie(state, { ...options, messages: 20_000, historyDays });
  const messages = history(state);
  /** The Messages API's default window, and the last year. */
  const windowStart = fixedNow - 400 * DAY;
  const lastYear = fixedNow - 365 * DAY;

  it('spreads the history over three years, after the account was opened', () => {
    expect(messages).toHaveLength(20_000);
    const first = Math.min(...messages.map((m) => m.dateSent));
    expect(first).toBeGreaterThanOrEqual(fixedNow - historyDays * DAY);
    expect(first).toBeLessThan(fixedNow - 1000 * DAY);
    expect(state.account(state.parentSid)!.dateCreated).toBeLessThan(first);
  });

  it('has opt-outs older than 400 days, and pairs whose old STOP shows only as a recent 21610', () => {
    const optOutsBeforeWindow = state.optOuts
      .list()
      .filter((e) => e.optedOut && e.dateSent < windowStart);
    expect(optOutsBeforeWindow.length).toBeGreaterThan(50); // 115 with this seed

    // Replay: the latest keyword per (scope, end user) before each refused send of the last year.
    const latest = new Map<string, { kind: 'opt-out' | 'opt-in'; at: number }>();
    const pairsSeenOnlyByRefusal = new Set<string>();
    const oldestFirst = [...messages].sort((a, b) => a.dateSent - b.dateSent || a.seq - b.seq);
    for (const m of oldestFirst) {
      if (m.direction === 'inbound') {
        const keyword = classifyBody(m.body, tollFree.has(m.to) ? 'toll-free' : 'local');
        if (keyword === null || keyword.kind === 'help') continue;
        latest.set(`${m.messagingServiceSid ?? m.to}|${m.from}`, {
          kind: keyword.kind,
          at: m.dateSent,
        });
        continue;
      }
      if (m.errorCode !== 21610 || m.dateSent < lastYear) continue;
      const stop = [`${m.from}|${m.to}`, `${m.messagingServiceSid}|${m.to}`]
        .map((k) => [k, latest.get(k)] as const)
        .find(([, e]) => e?.kind === 'opt-out');
      expect(stop).toBeDefined(); // every refusal has its STOP somewhere in the history
      if (stop![1]!.at < windowStart) pairsSeenOnlyByRefusal.add(stop![0]);
    }
    expect(pairsSeenOnlyByRefusal.size).toBeGreaterThan(25); // 83 with this seed
  });
});
