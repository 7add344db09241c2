/**
 * reconcile's number-updated check (src/reconcile/updated-check.ts) at the scale of a Console
 * edit that touched every moved number: 200 moved numbers over 20 subaccounts, each flagged
 * (Twilio's `date_updated` later than apply's last change), so each span is read in the parent
 * and the 19 other subaccounts. The emulator runs in its own process, every answer held back
 * `--updated-latency` ms (a real API's round trip), and the check goes through the real SDK
 * and the port with a pass's limiter (8 in flight, 100 a second). Each account holds
 * `--updated-traffic` messages of its own numbers in the window (background), and one number
 * heard a STOP in another subaccount during its span (the check must find it).
 *
 * The baseline, in the same run over the same emulator: the check with no listing shared
 * (`batchFrom` Infinity), each flagged number read in each account by itself (six listings:
 * From and To each of its addresses), as before the shared listing (which read the spans one
 * after another: 23,973 requests, 277-284 s at this scale; the limiter's 100 requests a second
 * is most of it). Both must give the same outcomes.
 * Flags: --updated-subaccounts N, --updated-numbers N (per subaccount), --updated-traffic N,
 * --updated-latency MS.
 */

import { isDeepStrictEqual } from 'node:util';

import type { MovedNumber } from '../../src/db/reconcile.js';
import type { NotChecked } from '../../src/reconcile/result.js';
import { checkUpdated } from '../../src/reconcile/updated-check.js';
import { createTwilioPort } from '../../src/twilio/adapter.js';
import { TwilioHttpClient } from '../../src/twilio/http-client.js';
import { DEFAULT_LIMITS } from '../../src/twilio/limiter.js';

import { flag, log, n, setLatency, startEmulator, TOKEN } from './support.js';

const SUBACCOUNTS = flag('updated-subaccounts', 20);
const PER_SUBACCOUNT = flag('updated-numbers', 10);
const TRAFFIC = flag('updated-traffic', 1_000);
const LATENCY = flag('updated-latency', 50);

const DAY = 86_400_000;
const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const phone = (i: number) => `+1${String(3_000_000_000 + i).padStart(10, '0')}`;
const person = (i: number) => `+1${String(5_000_000_000 + i).padStart(10, '0')}`;

async function control(url: string, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function benchUpdatedCheck(): Promise<string> {
  const emulator = await startEmulator([]);
  try {
    const now = new Date();
    const moveAt = now.getTime() - 10 * DAY;
    const changedAt = now.getTime() - DAY;
    log(`number-updated: seeding ${SUBACCOUNTS} subaccounts…`);
    const seeded = (await control(emulator.url, '/__emulator/seed', {
      subaccounts: Array.from({ length: SUBACCOUNTS }, (_, s) => ({ friendly_name: `c${s}` })),
    })) as { subaccounts: { sid: string }[] };
    const subs = seeded.subaccounts.map((s) => s.sid);
    const numbers: { phone: string; sub: string }[] = [];
    const messages: Record<string, unknown>[] = [];
    subs.forEach((sub, s) => {
      for (let i = 0; i < PER_SUBACCOUNT; i++) {
        numbers.push({ phone: phone(s * PER_SUBACCOUNT + i), sub });
      }
      for (let i = 0; i < TRAFFIC; i++) {
        messages.push({
          account_sid: sub,
          from: phone(s * PER_SUBACCOUNT + (i % PER_SUBACCOUNT)),
          to: person(s * TRAFFIC + i),
          body: 'Sale!',
          direction: 'outbound-api',
          date_sent: at(moveAt + Math.floor(((i + 0.5) / TRAFFIC) * (now.getTime() - moveAt))),
        });
      }
    });
    // Number 0 (in c0) heard a STOP in c1's subaccount during its span: moved there by hand.
    messages.push({
      account_sid: subs[1],
      from: person(9_999_999),
      to: phone(0),
      body: 'STOP',
      direction: 'inbound',
      date_sent: at(moveAt + 3 * DAY),
    });
    await control(emulator.url, '/__emulator/seed', {
      numbers: numbers.map((x) => ({ phone_number: x.phone, account_sid: x.sub })),
      messages,
    });
    const moved: MovedNumber[] = numbers.map((x, i) => ({
      numberSid: `PN${String(i).padStart(32, '0')}`,
      phoneNumber: x.phone,
      customerId: x.sub,
      subaccountSid: x.sub,
      sourceAccountSid: emulator.accountSid,
      sourceServiceSid: null,
      movedAt: at(moveAt + 5000),
      moveBegan: at(moveAt),
      subaccountCreatedAt: null,
    }));
    const updated: NotChecked[] = moved.map((m) => ({
      accountSid: m.subaccountSid,
      start: at(moveAt),
      end: at(changedAt),
      reason: 'number-updated',
      customerId: m.customerId,
      phoneNumber: m.phoneNumber,
      subaccountSid: m.subaccountSid,
    }));
    await setLatency(emulator.url, LATENCY);

    const measure = async (batchFrom: number | undefined) => {
      const http = new TwilioHttpClient({ apiUrl: emulator.url, limits: DEFAULT_LIMITS });
      const port = createTwilioPort(
        { kind: 'auth-token', accountSid: emulator.accountSid, authToken: TOKEN },
        http,
      );
      const started = performance.now();
      const checked = await checkUpdated(
        port,
        { updated, numbers: moved, kept: [], readable: () => new Date(0), now },
        batchFrom === undefined ? {} : { batchFrom },
      );
      const seconds = (performance.now() - started) / 1000;
      const outcomes = checked.checks.map((c) => [c.numberSid, c.outcome, c.found?.accountSid]);
      return { seconds, requests: http.stats.requests, outcomes, checked };
    };
    log('number-updated: baseline, six listings a number an account…');
    const baseline = await measure(Number.POSITIVE_INFINITY);
    log('number-updated: the check…');
    const now2 = await measure(undefined);
    const same = isDeepStrictEqual(baseline.outcomes, now2.outcomes);
    const found = now2.checked.checks.filter((c) => c.outcome === 'found').length;
    return [
      `number-updated bench: ${n(moved.length)} flagged numbers over ${n(SUBACCOUNTS)} subaccounts ` +
        `(the parent and ${n(SUBACCOUNTS - 1)} others read for each), ${n(TRAFFIC)} messages an account, ` +
        `${n(LATENCY)} ms an answer`,
      `  outcomes: ${n(found)} found, ${n(moved.length - found)} vouched; the same as the baseline's: ${same ? 'yes' : 'NO'}`,
      `  number-updated-check: ${n(now2.requests)} requests, ${n(now2.seconds, 1)} s`,
      `  baseline, same run: ${n(baseline.requests)} requests, ${n(baseline.seconds, 1)} s; ` +
        `the check takes ${n(now2.requests / baseline.requests, 3)}x the requests, ` +
        `${n(now2.seconds / baseline.seconds, 3)}x the time`,
    ].join('\n');
  } finally {
    emulator.stop();
  }
}
