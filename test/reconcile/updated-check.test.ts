/**
 * `checkUpdated` (number-updated): what it reads of the family for a span, and what it takes
 * for the number's own messages there. On a port that answers only what a test gives it.
 */

import { describe, expect, it } from 'vitest';

import type { MovedNumber } from '../../src/db/reconcile.js';
import type { NotChecked } from '../../src/reconcile/result.js';
import { checkUpdated, vouchedUpTo } from '../../src/reconcile/updated-check.js';
import { TwilioError } from '../../src/errors.js';
import type {
  Account,
  Message,
  MessageFilter,
  MessagePage,
  TwilioPort,
} from '../../src/twilio/port.js';

const PARENT = 'ACparent';
const SUB = 'ACacme';
const BETA = 'ACbeta';
const OTHER = 'ACother';
const A = '+14155550101';
const moved: MovedNumber = {
  numberSid: 'PN1',
  phoneNumber: A,
  customerId: 'acme',
  subaccountSid: SUB,
  sourceAccountSid: PARENT,
  sourceServiceSid: null,
  movedAt: '2026-12-03T10:00:05Z',
  moveBegan: '2026-12-03T10:00:00Z',
  subaccountCreatedAt: null,
};
const span: NotChecked = {
  accountSid: SUB,
  start: '2026-12-03T10:00:00Z',
  end: '2026-12-05T08:00:00Z',
  reason: 'number-updated',
  customerId: 'acme',
  phoneNumber: A,
  subaccountSid: SUB,
};
const NOW = new Date('2026-12-06T00:00:00Z');

const account = (sid: string, created: string | null = '2026-01-01T00:00:00Z'): Account => ({
  sid,
  friendlyName: sid,
  status: 'active',
  ownerAccountSid: PARENT,
  dateCreated: created === null ? null : new Date(created),
});

const message = (accountSid: string, fields: Partial<Message> & { at: string }): Message => ({
  sid: `SM${accountSid}${fields.at}`,
  accountSid,
  from: fields.from ?? A,
  to: fields.to ?? '+12065550101',
  body: 'Sale!',
  direction: fields.direction ?? 'outbound-api',
  status: 'delivered',
  dateSent: new Date(fields.at),
  errorCode: null,
  messagingServiceSid: null,
});

/** A port over these accounts' messages; `refuse` answers 403 for an account's messages. */
function portOver(
  subaccounts: Account[],
  messages: Message[],
  refuse: ReadonlySet<string> = new Set(),
) {
  const asked: { accountSid: string; filter: MessageFilter }[] = [];
  const port = {
    parentAccountSid: PARENT,
    listSubaccounts: async () => subaccounts,
    readMessagesPage: async (
      accountSid: string,
      request: { filter: MessageFilter; pageSize: number },
    ): Promise<MessagePage> => {
      asked.push({ accountSid, filter: request.filter });
      if (refuse.has(accountSid)) {
        throw new TwilioError({ status: 403, code: 20403, message: 'no', retryable: false });
      }
      const { from, to, sentAfter, sentBefore } = request.filter;
      const kept = messages.filter(
        (m) =>
          m.accountSid === accountSid &&
          (from === undefined || m.from === from) &&
          (to === undefined || m.to === to) &&
          m.dateSent! >= sentAfter! &&
          m.dateSent! <= sentBefore!,
      );
      return {
        messages: kept,
        scanned: kept.length,
        sent: kept.map((m) => m.dateSent),
        nextPageUrl: null,
        lastDateSent: kept.at(-1)?.dateSent ?? null,
      };
    },
  } as unknown as TwilioPort;
  return { port, asked };
}

/** The six listings of an account for the number. */
const six = (accountSid: string) => Array<string>(6).fill(accountSid);

const check = (
  port: TwilioPort,
  readable: (sid: string) => Date = () => new Date('2025-11-01T00:00:00Z'),
  more: Pick<Parameters<typeof checkUpdated>[1], 'refused'> = {},
) =>
  checkUpdated(port, { updated: [span], numbers: [moved], kept: [], readable, now: NOW, ...more });

describe('checkUpdated', () => {
  it('asks each other account for the whole UTC days from the span to now, and a day more', async () => {
    const { port, asked } = portOver([account(SUB), account(BETA)], []);
    const checked = await check(port);
    expect(checked.notChecked).toEqual([]);
    expect(checked.checks).toEqual([
      expect.objectContaining({ outcome: 'vouched', accountsRead: 2, requests: 12 }),
    ]);
    expect(asked.map((a) => a.accountSid).sort()).toEqual([...six(BETA), ...six(PARENT)]);
    // From and To the number, and its RCS and WhatsApp addresses.
    expect(
      asked.filter((a) => a.accountSid === BETA).map((a) => a.filter.from ?? a.filter.to),
    ).toEqual([A, A, `rcs:${A}`, `rcs:${A}`, `whatsapp:${A}`, `whatsapp:${A}`]);
    for (const { filter } of asked) {
      expect(filter.sentAfter).toEqual(new Date('2026-12-03T00:00:00Z'));
      // To now's day, and one more: a send queued before the change may go out after it.
      expect(filter.sentBefore).toEqual(new Date('2026-12-07T23:59:59Z'));
    }
  });

  it("takes the source account's messages up to the transfer's answer and the allowance for before the move", async () => {
    const before = [
      message(PARENT, { at: '2026-12-03T10:02:05Z' }),
      message(PARENT, { at: '2026-12-03T09:59:00Z', direction: 'inbound', from: '+1206', to: A }),
    ];
    expect((await check(portOver([], before).port)).notChecked).toEqual([]);
    const after = message(PARENT, { at: '2026-12-03T10:02:06Z' });
    expect((await check(portOver([], [...before, after]).port)).notChecked).toEqual([
      {
        ...span,
        updatedCheck: {
          outcome: 'found',
          accountSid: PARENT,
          messageSid: after.sid,
          sentAt: '2026-12-03T10:02:06Z',
        },
      },
    ]);
  });

  it("takes the source account's messages from a refused transfer itself, with no allowance after it", async () => {
    // Apply's transfer refused at 10:00:05 (the number had been moved by hand): a send of it
    // in the source a minute later, which the allowance after a transfer made passes over.
    const send = message(PARENT, { at: '2026-12-03T10:01:05Z' });
    const refused = { refused: new Map([['PN1', moved.movedAt]]) };
    expect((await check(portOver([], [send]).port)).notChecked).toEqual([]);
    expect((await check(portOver([], [send]).port, undefined, refused)).notChecked).toEqual([
      {
        ...span,
        updatedCheck: {
          outcome: 'found',
          accountSid: PARENT,
          messageSid: send.sid,
          sentAt: '2026-12-03T10:01:05Z',
        },
      },
    ]);
    // Before the refusal, within the allowance before the move: the number was still there.
    const earlier = message(PARENT, { at: '2026-12-03T09:59:05Z' });
    expect((await check(portOver([], [earlier]).port, undefined, refused)).notChecked).toEqual([]);
  });

  it("takes the source account's messages from when a transfer a later apply settled was sent, not from the settling", async () => {
    // Sent at 10:00:00, in flight when apply was killed, settled by the next apply at 16:00: a
    // send of the number in the source at 12:00 came after Twilio made the transfer.
    const send = message(PARENT, { at: '2026-12-03T12:00:00Z' });
    const found = (m: Message) => ({
      ...span,
      updatedCheck: {
        outcome: 'found',
        accountSid: m.accountSid,
        messageSid: m.sid,
        sentAt: '2026-12-03T12:00:00Z',
      },
    });
    const read = (m: MovedNumber, messages: Message[], options = {}) =>
      checkUpdated(portOver([account(OTHER)], messages).port, {
        updated: [span],
        numbers: [m],
        kept: [],
        readable: () => new Date('2025-11-01T00:00:00Z'),
        now: NOW,
        ...options,
      });
    const late = { ...moved, movedAt: '2026-12-03T16:00:00Z', settledLate: true as const };
    expect((await read(late, [send])).notChecked).toEqual([found(send)]);
    // A later wave's transfer out of another customer's subaccount, settled so: the same.
    const inOther = message(OTHER, { at: '2026-12-03T12:00:00Z' });
    const first = { ...moved, moveBegan: '2026-12-02T10:00:00Z', movedAt: '2026-12-02T10:00:05Z' };
    const movedOn = (leftAt: string) => ({
      movedOn: new Map([['PN1', [{ accountSid: OTHER, began: span.start, leftAt }]]]),
    });
    expect((await read(first, [inOther], movedOn('2026-12-03T10:00:05Z'))).notChecked).toEqual([
      found(inOther),
    ]);
    expect((await read(first, [inOther], movedOn('2026-12-03T16:00:00Z'))).notChecked).toEqual([
      found(inOther),
    ]);
  });

  it.each([
    ['read alone', Infinity],
    ['listed once for many spans', 1],
  ])(
    'takes an opt-out the source account heard within the allowance of the transfer, unless the ledger holds it (%s)',
    async (_, batchFrom) => {
      const inbound = (at: string, body: string) => ({
        ...message(PARENT, { at, direction: 'inbound', from: '+1206', to: `rcs:${A}` }),
        body,
      });
      // Before the allowance before the move; a send and a message heard within it.
      const ordinary = [
        inbound('2026-12-03T09:57:59Z', 'STOP'),
        message(PARENT, { at: '2026-12-03T10:01:00Z' }),
        inbound('2026-12-03T10:01:00Z', 'Thanks'),
      ];
      const stop = inbound('2026-12-03T10:02:05Z', ' stop ');
      const read = (messages: Message[], onLedger?: (sid: string) => boolean) =>
        checkUpdated(
          portOver([], messages).port,
          {
            updated: [span],
            numbers: [moved],
            kept: [],
            readable: () => new Date('2025-11-01T00:00:00Z'),
            now: NOW,
            ...(onLedger === undefined ? {} : { onLedger }),
          },
          { batchFrom },
        );
      expect((await read(ordinary)).notChecked).toEqual([]);
      expect((await read([...ordinary, stop])).notChecked).toEqual([
        {
          ...span,
          updatedCheck: {
            outcome: 'found',
            accountSid: PARENT,
            messageSid: stop.sid,
            sentAt: '2026-12-03T10:02:05Z',
          },
        },
      ]);
      const held = await read([...ordinary, stop], (sid) => sid === stop.sid);
      expect(held.notChecked).toEqual([]);
      expect(held.checks).toEqual([expect.objectContaining({ outcome: 'vouched' })]);
    },
  );

  it("takes another account's message of the number from the allowance before the arrival", async () => {
    const inBeta = (at: string) =>
      message(BETA, { at, direction: 'inbound', from: '+1206', to: A });
    const outside = [inBeta('2026-12-03T09:57:59Z'), inBeta('2026-12-06T00:02:01Z')];
    expect((await check(portOver([account(BETA)], outside).port)).notChecked).toEqual([]);
    const within = inBeta('2026-12-03T09:58:00Z');
    expect((await check(portOver([account(BETA)], [within]).port)).notChecked).toEqual([
      expect.objectContaining({
        updatedCheck: expect.objectContaining({ outcome: 'found', accountSid: BETA }),
      }),
    ]);
  });

  it('takes a send of the number elsewhere dated after the change, up to now, for one that went out from there', async () => {
    // Queued in the parent while the number was there, sent once it was back in its subaccount:
    // Twilio dates the send when it leaves the queue, after the change.
    const queued = message(PARENT, { at: '2026-12-05T11:00:00Z', to: '+12065550199' });
    const checked = await check(portOver([account(BETA)], [queued]).port);
    expect(checked.notChecked).toEqual([
      {
        ...span,
        updatedCheck: {
          outcome: 'found',
          accountSid: PARENT,
          messageSid: queued.sid,
          sentAt: '2026-12-05T11:00:00Z',
        },
      },
    ]);
    expect(checked.checks).toEqual([expect.objectContaining({ outcome: 'found' })]);
  });

  it("does not take an account's own messages to the number, or the number's to it, for the number's", async () => {
    const beta = [
      message(BETA, { at: '2026-12-04T00:00:00Z', from: '+14155550202', to: A }),
      message(BETA, { at: '2026-12-04T00:00:00Z', direction: 'inbound', to: '+14155550202' }),
    ];
    expect((await check(portOver([account(BETA)], beta).port)).notChecked).toEqual([]);
  });

  it.each([
    ['an RCS STOP it heard', { direction: 'inbound' as const, from: 'rcs:+1206', to: `rcs:${A}` }],
    ['a WhatsApp send it made', { from: `whatsapp:${A}`, to: 'whatsapp:+1206' }],
    [
      'a WhatsApp message it heard',
      { direction: 'inbound' as const, from: 'whatsapp:+1206', to: `whatsapp:${A}` },
    ],
    ['an RCS send it made', { from: `rcs:${A}`, to: 'rcs:+1206' }],
  ])("takes %s elsewhere, under its channel address, for the number's", async (_, fields) => {
    // Twilio's From and To filters match an address exactly: `From=+1…` lists no `rcs:+1…`.
    const held = message(BETA, { at: '2026-12-04T00:00:00Z', ...fields });
    const checked = await check(portOver([account(BETA)], [held]).port);
    expect(checked.notChecked).toEqual([
      {
        ...span,
        updatedCheck: {
          outcome: 'found',
          accountSid: BETA,
          messageSid: held.sid,
          sentAt: '2026-12-04T00:00:00Z',
        },
      },
    ]);
    expect(checked.checks).toEqual([expect.objectContaining({ outcome: 'found' })]);
  });

  it("does not take an account's own channel messages to the number, or the number's to it, for the number's", async () => {
    const beta = [
      message(BETA, { at: '2026-12-04T00:00:00Z', from: 'rcs:+14155550202', to: `rcs:${A}` }),
      message(BETA, {
        at: '2026-12-04T00:00:00Z',
        direction: 'inbound',
        from: `whatsapp:${A}`,
        to: 'whatsapp:+14155550202',
      }),
    ];
    expect((await check(portOver([account(BETA)], beta).port)).notChecked).toEqual([]);
  });

  it('reads no subaccount created after the change', async () => {
    const { port, asked } = portOver([account(BETA, '2026-12-05T08:00:01Z')], []);
    expect((await check(port)).notChecked).toEqual([]);
    expect(asked.map((a) => a.accountSid)).toEqual(six(PARENT));
  });

  it('passes over a subaccount suspended or closed, and unchanged since, from before the span when it refuses, and reads it when it answers', async () => {
    const idle = (status: 'suspended' | 'closed', updated: string) => ({
      ...account(BETA),
      status,
      dateUpdated: new Date(updated),
    });
    for (const status of ['suspended', 'closed'] as const) {
      const before = idle(status, '2026-12-03T09:57:59Z');
      // Its own credentials refused (an API key): passed over, the span vouched for.
      const refused = portOver([before], [], new Set([BETA]));
      const passed = await check(refused.port);
      expect(passed.notChecked).toEqual([]);
      expect(passed.checks).toEqual([expect.objectContaining({ outcome: 'vouched' })]);
      // Nor does a window that does not reach back keep it not checked.
      const old = await check(portOver([before], []).port, (sid) =>
        sid === BETA ? new Date('2026-12-04T00:00:00Z') : new Date('2025-11-01T00:00:00Z'),
      );
      expect(old.notChecked).toEqual([]);
      // Readable, it is read: a status change Twilio did not date would hide a message there.
      const held = message(BETA, {
        at: '2026-12-04T00:00:00Z',
        direction: 'inbound',
        from: '+1206',
        to: A,
      });
      const read = portOver([before], [held]);
      expect((await check(read.port)).notChecked).toEqual([
        expect.objectContaining({
          updatedCheck: expect.objectContaining({
            outcome: 'found',
            accountSid: BETA,
            messageSid: held.sid,
          }),
        }),
      ]);
      // Changed since the span began: a refusal keeps the span not checked.
      const since = portOver([idle(status, '2026-12-03T09:58:00Z')], [], new Set([BETA]));
      expect((await check(since.port)).notChecked).toEqual([
        expect.objectContaining({
          updatedCheck: expect.objectContaining({ outcome: 'unreadable' }),
        }),
      ]);
    }
  });

  it("reads every page of an account's listing, and vouches for nothing when its last page fails", async () => {
    const held = message(BETA, { at: '2026-12-04T00:00:00Z' });
    const other = message(BETA, { at: '2026-12-04T00:00:01Z', from: '+14155550202' });
    /** Beta's first listing answers `other` and names a next page; that page answers `last`. */
    const paged = (last: () => MessagePage) => {
      const { port } = portOver([account(BETA)], []);
      const read = port.readMessagesPage.bind(port);
      port.readMessagesPage = async (accountSid, request) => {
        if (accountSid !== BETA) return read(accountSid, request);
        if ('pageUrl' in request) return last();
        return {
          messages: [other],
          scanned: 1,
          sent: [other.dateSent],
          nextPageUrl: 'https://api.twilio.com/next',
          lastDateSent: other.dateSent,
        };
      };
      return port;
    };
    const onSecond = await check(
      paged(() => ({
        messages: [held],
        scanned: 1,
        sent: [held.dateSent],
        nextPageUrl: null,
        lastDateSent: held.dateSent,
      })),
    );
    expect(onSecond.notChecked).toEqual([
      expect.objectContaining({
        updatedCheck: expect.objectContaining({ outcome: 'found', messageSid: held.sid }),
      }),
    ]);
    // A 503 (or a 429) its retries did not outlast: the pass fails, nothing kept as vouched.
    const failing = paged(() => {
      throw new TwilioError({ status: 503, code: null, message: 'HTTP 503', retryable: true });
    });
    await expect(check(failing)).rejects.toThrow('HTTP 503');
  });

  it('vouches for nothing when an account refuses, or the span is older than a window, and keeps each unvouched', async () => {
    const refused = await check(portOver([account(BETA)], [], new Set([BETA])).port);
    expect(refused.notChecked).toEqual([
      {
        ...span,
        updatedCheck: {
          outcome: 'unreadable',
          accounts: [{ accountSid: BETA, status: 403, code: 20403 }],
        },
      },
    ]);
    const unvouched = {
      numberSid: 'PN1',
      subaccountSid: SUB,
      spanStart: span.start,
      dateUpdated: span.end,
      outcome: 'unvouched',
      found: null,
      checkedAt: expect.any(String),
    };
    expect(refused.checks).toEqual([
      { ...unvouched, accountsRead: expect.any(Number), requests: expect.any(Number) },
    ]);
    const { port, asked } = portOver([account(BETA)], []);
    const old = await check(port, () => new Date('2026-12-03T09:58:01Z'));
    expect(old.notChecked).toEqual([
      {
        ...span,
        updatedCheck: {
          outcome: 'retention',
          accountSid: PARENT,
          readableFrom: '2026-12-03T09:58:01Z',
        },
      },
    ]);
    expect(old.checks).toEqual([{ ...unvouched, accountsRead: 0, requests: 0 }]);
    expect(asked).toEqual([]);
  });

  it('says a span found held elsewhere again without reading, and takes the latest change vouched for', async () => {
    const found = { accountSid: BETA, messageSid: 'SM1', sentAt: '2026-12-04T00:00:00Z' };
    const kept = {
      numberSid: 'PN1',
      subaccountSid: SUB,
      spanStart: span.start,
      dateUpdated: span.end,
      outcome: 'found' as const,
      accountsRead: 2,
      requests: 4,
      found,
      checkedAt: '2026-12-05T09:00:00Z',
    };
    const { port, asked } = portOver([account(BETA)], []);
    const again = await checkUpdated(port, {
      updated: [span],
      numbers: [moved],
      kept: [kept],
      readable: () => new Date(0),
      now: NOW,
    });
    expect(again.notChecked).toEqual([{ ...span, updatedCheck: { outcome: 'found', ...found } }]);
    expect(asked).toEqual([]);
    const vouched = { ...kept, outcome: 'vouched' as const, found: null };
    expect(
      vouchedUpTo([kept, vouched, { ...vouched, dateUpdated: '2026-12-01T00:00:00Z' }]),
    ).toEqual(new Map([['PN1 ACacme', span.end]]));
  });
});

describe('checkUpdated, many flagged numbers: one listing an account for them all', () => {
  const GAMMA = 'ACgamma';
  // Five numbers, each moved into its own subaccount, each flagged for the same span: every
  // account is read for four of them or more (BATCH_FROM).
  const phones = ['+14155550101', '+14155550102', '+14155550103', '+14155550104', '+14155550105'];
  const subs = ['ACacme', 'ACbeta', 'ACgamma', 'ACdelta', 'ACepsilon'];
  const many: MovedNumber[] = phones.map((phoneNumber, i) => ({
    ...moved,
    numberSid: `PN${i}`,
    phoneNumber,
    customerId: `c${i}`,
    subaccountSid: subs[i]!,
  }));
  const spans: NotChecked[] = many.map((m) => ({
    ...span,
    accountSid: m.subaccountSid,
    customerId: m.customerId,
    phoneNumber: m.phoneNumber,
    subaccountSid: m.subaccountSid,
  }));
  const family = subs.map((sid) => account(sid));
  const checkMany = (port: TwilioPort, batchFrom?: number) =>
    checkUpdated(
      port,
      {
        updated: spans,
        numbers: many,
        kept: [],
        readable: () => new Date('2025-11-01T00:00:00Z'),
        now: NOW,
      },
      batchFrom === undefined ? {} : { batchFrom },
    );
  /** Each account's own traffic in the span: its own number's sends and what it heard. */
  const traffic = subs.flatMap((sid, i) => [
    message(sid, { at: '2026-12-04T01:00:00Z', from: phones[i]!, to: '+12065550100' }),
    message(sid, {
      at: '2026-12-04T02:00:00Z',
      direction: 'inbound',
      from: '+12065550100',
      to: phones[i]!,
    }),
  ]);

  it('lists each account once, not by number, and finds a STOP one of them heard there in its span', async () => {
    // The third number, moved by hand into Beta's subaccount, heard a STOP there.
    const stop = message(BETA, {
      at: '2026-12-04T00:00:00Z',
      direction: 'inbound',
      from: '+12065550199',
      to: phones[2]!,
    });
    const { port, asked } = portOver(family, [...traffic, stop]);
    const checked = await checkMany(port);
    // The parent and the five subaccounts, once each, with no From or To.
    expect(asked.map((a) => a.accountSid).sort()).toEqual([...subs, PARENT].sort());
    for (const { filter } of asked) {
      expect(filter).toEqual({
        sentAfter: new Date('2026-12-03T00:00:00Z'),
        sentBefore: new Date('2026-12-07T23:59:59Z'),
      });
    }
    expect(checked.requests).toBe(1 + 6);
    expect(checked.notChecked).toEqual([
      {
        ...spans[2],
        updatedCheck: {
          outcome: 'found',
          accountSid: BETA,
          messageSid: stop.sid,
          sentAt: '2026-12-04T00:00:00Z',
        },
      },
    ]);
    expect(checked.checks.map((c) => [c.numberSid, c.outcome])).toEqual([
      ['PN0', 'vouched'],
      ['PN1', 'vouched'],
      ['PN2', 'found'],
      ['PN3', 'vouched'],
      ['PN4', 'vouched'],
    ]);
  });

  it('finds what each number would have been found by read alone, and nothing more', async () => {
    const A0 = phones[0]!;
    const held = [
      // Not the number's: the account's own message to it, its own to the account.
      message(BETA, { at: '2026-12-04T00:00:00Z', from: '+14155550202', to: A0 }),
      message(BETA, { at: '2026-12-04T00:00:00Z', direction: 'inbound', to: '+14155550202' }),
      // In the parent (its source) before the transfer's answer and the allowance: not counted.
      message(PARENT, { at: '2026-12-03T10:02:05Z', from: phones[1]! }),
      // Before the span's start, less the allowance: not counted.
      message(GAMMA, { at: '2026-12-03T09:57:59Z', direction: 'inbound', from: '+1206', to: A0 }),
      // Counted: an RCS STOP heard in Gamma; a WhatsApp send from the parent after the move.
      message(GAMMA, {
        at: '2026-12-05T00:00:00Z',
        direction: 'inbound',
        from: 'rcs:+1206',
        to: `rcs:${phones[3]!}`,
      }),
      message(PARENT, {
        at: '2026-12-03T10:02:06Z',
        from: `whatsapp:${phones[1]!}`,
        to: 'whatsapp:+1206',
      }),
      // Two of the fourth number's sends in the parent: the one From its own address first.
      message(PARENT, { at: '2026-12-05T03:00:00Z', from: `rcs:${phones[3]!}`, to: 'rcs:+1206' }),
      message(PARENT, { at: '2026-12-05T04:00:00Z', from: phones[3]!, to: '+1206' }),
    ];
    const alone = await checkMany(portOver(family, [...traffic, ...held]).port, Infinity);
    const shared = await checkMany(portOver(family, [...traffic, ...held]).port);
    expect(shared.notChecked).toEqual(alone.notChecked);
    expect(shared.checks.map(({ accountsRead, requests, ...c }) => c)).toEqual(
      alone.checks.map(({ accountsRead, requests, ...c }) => c),
    );
    expect(shared.notChecked.map((s) => [s.phoneNumber, s.updatedCheck])).toEqual([
      [phones[1], expect.objectContaining({ accountSid: PARENT, sentAt: '2026-12-03T10:02:06Z' })],
      [phones[3], expect.objectContaining({ accountSid: PARENT, sentAt: '2026-12-05T04:00:00Z' })],
    ]);
    expect(shared.requests).toBeLessThan(alone.requests);
  });

  it('reads an account with more messages than a page for every two spans number by number', async () => {
    const stop = message(BETA, {
      at: '2026-12-04T00:00:00Z',
      direction: 'inbound',
      from: '+12065550199',
      to: phones[2]!,
    });
    const { port, asked } = portOver(family, [...traffic, stop]);
    // Beta's listing of everything goes on page after page: past two pages (a page for every
    // two of the four spans that read it), it is left.
    const read = port.readMessagesPage.bind(port);
    port.readMessagesPage = async (accountSid, request) => {
      const unfiltered =
        'pageUrl' in request ||
        (request.filter.from === undefined && request.filter.to === undefined);
      if (accountSid !== BETA || !unfiltered) return read(accountSid, request);
      asked.push({ accountSid, filter: 'pageUrl' in request ? {} : request.filter });
      return {
        messages: [],
        scanned: 0,
        sent: [],
        nextPageUrl: `https://api.twilio.com/2010-04-01/Accounts/${BETA}/Messages.json?Page=${asked.length}`,
        lastDateSent: null,
      };
    };
    const checked = await checkMany(port);
    expect(
      asked.filter(
        (a) => a.accountSid === BETA && a.filter.from === undefined && a.filter.to === undefined,
      ),
    ).toHaveLength(2);
    expect(checked.notChecked).toEqual([
      expect.objectContaining({
        phoneNumber: phones[2],
        updatedCheck: expect.objectContaining({ outcome: 'found', messageSid: stop.sid }),
      }),
    ]);
    // Then each number reads Beta by itself.
    expect(asked.filter((a) => a.accountSid === BETA && a.filter.from !== undefined)).not.toEqual(
      [],
    );
  });
});

describe('checkUpdated, an account of the family that refuses its messages', () => {
  /** A port whose `sid` answers its Messages with this error. */
  const refusing = (subaccounts: Account[], sid: string, error: TwilioError) => {
    const { port, asked } = portOver(subaccounts, []);
    const read = port.readMessagesPage.bind(port);
    port.readMessagesPage = async (accountSid, request) => {
      if (accountSid === sid) throw error;
      return read(accountSid, request);
    };
    return { port, asked };
  };
  const closed = (sid: string, updated: string): Account => ({
    ...account(sid),
    status: 'closed',
    dateUpdated: new Date(updated),
  });

  it.each([
    ['gone (404, 20404)', 404, 20404],
    ['refusing the credentials (401, 20003)', 401, 20003],
    ['closed (403, 20403)', 403, 20403],
  ])(
    'keeps the span not vouched for, naming it, when one is %s, read by number or once for many',
    async (_, status, code) => {
      const error = new TwilioError({ status, code, message: 'no', retryable: false });
      const refused = {
        outcome: 'unreadable',
        accounts: [{ accountSid: BETA, status, code }],
      };
      // Closed during the span (its date_updated after the span began): it may have held it.
      const family = [account(SUB), closed(BETA, '2026-12-04T00:00:00Z')];
      for (const batchFrom of [Infinity, 1]) {
        const checked = await checkUpdated(
          refusing(family, BETA, error).port,
          {
            updated: [span],
            numbers: [moved],
            kept: [],
            readable: () => new Date('2025-11-01T00:00:00Z'),
            now: NOW,
          },
          { batchFrom },
        );
        expect(checked.notChecked).toEqual([{ ...span, updatedCheck: refused }]);
        expect(checked.checks).toEqual([expect.objectContaining({ outcome: 'unvouched' })]);
      }
    },
  );

  it('passes over one closed since before the span that is gone, read by number or once for many', async () => {
    const error = new TwilioError({ status: 404, code: 20404, message: 'no', retryable: false });
    const family = [account(SUB), closed(BETA, '2026-12-03T09:57:59Z')];
    for (const batchFrom of [Infinity, 1]) {
      const checked = await checkUpdated(
        refusing(family, BETA, error).port,
        {
          updated: [span],
          numbers: [moved],
          kept: [],
          readable: () => new Date('2025-11-01T00:00:00Z'),
          now: NOW,
        },
        { batchFrom },
      );
      expect(checked.notChecked).toEqual([]);
      expect(checked.checks).toEqual([expect.objectContaining({ outcome: 'vouched' })]);
    }
  });
});

describe('checkUpdated, a subaccount the database knows that Twilio no longer lists', () => {
  const GONE = 'ACgone';
  /** The family as listed now (Gone deleted): its Messages answer 404 / 20404. */
  const listedNow = () => {
    const { port, asked } = portOver([account(SUB)], []);
    const read = port.readMessagesPage.bind(port);
    port.readMessagesPage = async (accountSid, request) => {
      if (accountSid === GONE) {
        asked.push({ accountSid, filter: 'pageUrl' in request ? {} : request.filter });
        throw new TwilioError({ status: 404, code: 20404, message: 'gone', retryable: false });
      }
      return read(accountSid, request);
    };
    return { port, asked };
  };
  /** What an earlier pass kept for the span: not vouched for (an account unreadable then). */
  const unvouched = {
    numberSid: 'PN1',
    subaccountSid: SUB,
    spanStart: span.start,
    dateUpdated: span.end,
    outcome: 'unvouched' as const,
    accountsRead: 2,
    requests: 7,
    found: null,
    checkedAt: '2026-12-05T09:00:00Z',
  };
  const checkGone = (port: TwilioPort, now: Date, batchFrom: number, kept = [unvouched]) =>
    checkUpdated(
      port,
      {
        updated: [span],
        numbers: [moved],
        kept,
        readable: () => new Date('2025-11-01T00:00:00Z'),
        now,
        known: [PARENT, SUB, GONE],
      },
      { batchFrom },
    );

  /** `asked` is kept not vouched for, not checked: Gone's messages unreadable (404). */
  const expectKeptUnreadableInGone = (
    checked: Awaited<ReturnType<typeof checkUpdated>>,
    asked: NotChecked,
  ) => {
    expect(checked.notChecked).toEqual([
      {
        ...asked,
        updatedCheck: {
          outcome: 'unreadable',
          accounts: [{ accountSid: GONE, status: 404, code: 20404 }],
        },
      },
    ]);
    expect(checked.checks).toEqual([expect.objectContaining({ outcome: 'unvouched' })]);
  };

  it('reads it for a span an earlier pass could not vouch for, and keeps that span not vouched for, naming it', async () => {
    // Twilio deletes a closed subaccount 30 days after: by now it may have closed after the
    // span began (2026-12-03), the number in it then, and been what the earlier pass could not
    // read.
    const now = new Date('2027-01-10T00:00:00Z');
    for (const batchFrom of [Infinity, 1]) {
      const { port, asked } = listedNow();
      const checked = await checkGone(port, now, batchFrom);
      expect(asked.map((a) => a.accountSid)).toContain(GONE);
      expectKeptUnreadableInGone(checked, span);
    }
  });

  it('reads it for a later change of the number read from the same start as a span an earlier pass could not vouch for, which a vouched span would cover', async () => {
    // The earlier pass kept [start, 12-05] unvouched; the number was edited again on 12-20, so
    // this pass is asked [start, 12-20]. Vouched for with Gone passed over, it would cover the
    // kept span (updatedSpansKept) and the pass would stop naming it, exit 0, over what the
    // number did in Gone, never read.
    const later = { ...span, end: '2026-12-20T08:00:00Z' };
    const now = new Date('2027-01-10T00:00:00Z');
    for (const batchFrom of [Infinity, 1]) {
      const { port, asked } = listedNow();
      const checked = await checkUpdated(
        port,
        {
          updated: [later],
          numbers: [moved],
          kept: [unvouched],
          readable: () => new Date('2025-11-01T00:00:00Z'),
          now,
          known: [PARENT, SUB, GONE],
        },
        { batchFrom },
      );
      expect(asked.map((a) => a.accountSid)).toContain(GONE);
      expectKeptUnreadableInGone(checked, later);
    }
  });

  it('passes over its refusal for a span begun within the 30 days before now, or one no pass kept unvouched', async () => {
    for (const batchFrom of [Infinity, 1]) {
      for (const [now, kept] of [
        [NOW, [unvouched]],
        [new Date('2027-01-10T00:00:00Z'), []],
      ] as const) {
        const checked = await checkGone(listedNow().port, now, batchFrom, [...kept]);
        expect(checked.notChecked).toEqual([]);
        expect(checked.checks).toEqual([expect.objectContaining({ outcome: 'vouched' })]);
      }
    }
  });
});
