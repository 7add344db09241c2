/**
 * The number-updated check (`checkUpdated`) over many flagged numbers at once, through the real
 * SDK and the port against the emulator: a Console edit touched every moved number of five
 * subaccounts, so each account of the family is read for four spans or more, and is listed once
 * for them all (no From or To), not six times a number. A STOP one of them heard in another
 * subaccount during its span is still found; a subaccount closed during the spans that refuses
 * (on a Main API key, a subaccount is read with its own credentials) keeps every span it could
 * hold not vouched for, named.
 */

import { describe, expect, it } from 'vitest';

import type { MovedNumber } from '../../src/db/reconcile.js';
import type { NotChecked } from '../../src/reconcile/result.js';
import { checkUpdated } from '../../src/reconcile/updated-check.js';
import { clearRequestLog, requestLog, useEmulator } from '../support/emulator.js';

const DAY = 86_400_000;
const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const phone = (i: number) => `+1415555${String(1000 + i)}`;
const R = '+12065550177';

describe('checkUpdated over many flagged numbers (real SDK, emulator)', () => {
  const env = useEmulator();

  async function family({ key = false } = {}) {
    const now = Date.now();
    const moveAt = now - 5 * DAY;
    const { subaccounts, keys } = await env.seed({
      subaccounts: ['c0', 'c1', 'c2', 'c3', 'c4'].map((friendly_name) => ({ friendly_name })),
      ...(key ? { keys: [{ kind: 'main' as const }] } : {}),
    });
    const subs = subaccounts.map((s) => s.sid);
    const phones = subs.map((_, i) => phone(i));
    await env.seed({
      numbers: phones.map((phone_number, i) => ({ phone_number, account_sid: subs[i] })),
      // Each subaccount's own traffic in the spans: its number's sends and what it heard.
      messages: subs.flatMap((sid, i) => [
        {
          account_sid: sid,
          from: phones[i]!,
          to: '+12065550100',
          body: 'Sale!',
          direction: 'outbound-api' as const,
          date_sent: at(moveAt + DAY),
        },
        {
          account_sid: sid,
          from: '+12065550100',
          to: phones[i]!,
          body: 'Hi',
          direction: 'inbound' as const,
          date_sent: at(moveAt + DAY + 60_000),
        },
      ]),
    });
    const moved: MovedNumber[] = phones.map((phoneNumber, i) => ({
      numberSid: `PN${String(i).padStart(32, '0')}`,
      phoneNumber,
      customerId: `c${i}`,
      subaccountSid: subs[i]!,
      sourceAccountSid: env.parentSid,
      sourceServiceSid: null,
      movedAt: at(moveAt + 5000),
      moveBegan: at(moveAt),
      subaccountCreatedAt: null,
    }));
    const updated: NotChecked[] = moved.map((m) => ({
      accountSid: m.subaccountSid,
      start: at(moveAt),
      end: at(now - DAY),
      reason: 'number-updated',
      customerId: m.customerId,
      phoneNumber: m.phoneNumber,
      subaccountSid: m.subaccountSid,
    }));
    const port =
      keys[0] === undefined
        ? env.port()
        : env.port({
            kind: 'api-key',
            accountSid: env.parentSid,
            apiKey: keys[0].sid,
            apiSecret: keys[0].secret,
          });
    const check = () =>
      checkUpdated(port, {
        updated,
        numbers: moved,
        kept: [],
        readable: () => new Date(0),
        now: new Date(),
      });
    return { subs, phones, moveAt, check };
  }

  /** The Messages listings the emulator was asked for: each one's account, and whether by number. */
  const listings = async () =>
    (await requestLog(env))
      .filter((r) => r.method === 'GET' && r.path.endsWith('/Messages.json'))
      .map((r) => ({
        account: /Accounts\/(AC[0-9a-f]+)\//.exec(r.path)![1],
        byNumber: /(^|&)(From|To)=/.test(r.query),
      }));

  it('lists each account once for all its spans, and still finds the STOP one number heard in another subaccount', async () => {
    const { subs, phones, moveAt, check } = await family();
    // The third number, moved by hand into c1's subaccount and back, heard a STOP there.
    const { messages } = await env.seed({
      messages: [
        {
          account_sid: subs[1],
          from: R,
          to: phones[2]!,
          body: 'STOP',
          direction: 'inbound',
          date_sent: at(moveAt + 2 * DAY),
        },
      ],
    });
    await clearRequestLog(env);
    const checked = await check();
    expect(checked.notChecked).toEqual([
      expect.objectContaining({
        phoneNumber: phones[2],
        updatedCheck: {
          outcome: 'found',
          accountSid: subs[1],
          messageSid: messages[0]!.sid,
          sentAt: at(moveAt + 2 * DAY),
        },
      }),
    ]);
    expect(checked.checks.map((c) => c.outcome)).toEqual([
      'vouched',
      'vouched',
      'found',
      'vouched',
      'vouched',
    ]);
    // The parent and the five subaccounts, once each, none by number (6 × 5 × 5 by number).
    const asked = await listings();
    expect(asked.map((l) => l.account).sort()).toEqual([env.parentSid, ...subs].sort());
    expect(asked.filter((l) => l.byNumber)).toEqual([]);
  });

  it('keeps every span a subaccount closed during them could hold not vouched for, naming it, when it refuses', async () => {
    const { subs, phones, check } = await family({ key: true });
    await env.parent.api.v2010.accounts(subs[3]!).update({ status: 'closed' });
    const checked = await check();
    const refused = {
      outcome: 'unreadable',
      accounts: [{ accountSid: subs[3], status: 403, code: 20403 }],
    };
    expect(checked.notChecked.map((s) => [s.phoneNumber, s.updatedCheck])).toEqual([
      [phones[0], refused],
      [phones[1], refused],
      [phones[2], refused],
      [phones[4], refused],
    ]);
    // Its own number's span is read elsewhere only: vouched.
    expect(checked.checks.map((c) => c.outcome)).toEqual([
      'unvouched',
      'unvouched',
      'unvouched',
      'vouched',
      'unvouched',
    ]);
  });
});
