/**
 * `DateSent`, `DateSent<` and `DateSent>` on the Messages list, alone and with `To`/`From`,
 * against messages sitting on day boundaries. Date-only values (raw HTTP, as curl sends them)
 * mean the whole UTC day, inclusive on both sides; datetimes (the SDK's `Date` parameters,
 * sent as `YYYY-MM-DDTHH:mm:ssZ`) are inclusive at the second.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

const NUMBER = '+14155550100';
const OTHER_NUMBER = '+14155550111';
const U1 = '+16505550001';
const U2 = '+16505550002';

/** The emulator's clock: every seeded message is well inside the retention window. */
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

type Label = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'x';

/** Label → [date_sent, from, to]; the body is the label. */
const MESSAGES: Record<Label, [string, string, string]> = {
  a: ['2025-02-28T00:00:00Z', U1, NUMBER],
  b: ['2025-02-28T23:59:59Z', NUMBER, U1],
  c: ['2025-03-01T00:00:00Z', U2, NUMBER],
  d: ['2025-03-01T00:00:01Z', NUMBER, U2],
  e: ['2025-03-01T12:00:00Z', U1, NUMBER],
  f: ['2025-03-01T23:59:59Z', NUMBER, U1],
  g: ['2025-03-02T00:00:00Z', U2, NUMBER],
  h: ['2025-03-02T00:00:01Z', NUMBER, U1],
  // Same day, other Twilio number: filtered out by To/From on NUMBER.
  x: ['2025-03-01T06:00:00Z', U1, OTHER_NUMBER],
};

interface RawPage {
  messages: { body: string; date_sent: string }[];
  next_page_uri: string | null;
}

describe('Messages date filters', () => {
  let env: TestEmulator;

  beforeAll(async () => {
    env = await startTestEmulator({ now: () => NOW });
    await env.seed({ numbers: [{ phone_number: NUMBER }, { phone_number: OTHER_NUMBER }] });
    // Given newest first: the store orders them itself.
    const entries = Object.entries(MESSAGES).reverse();
    await env.seed({
      messages: entries.map(([label, [date, from, to]]) => ({
        from,
        to,
        body: label,
        direction: from.startsWith('+1415') ? ('outbound-api' as const) : ('inbound' as const),
        date_sent: date,
      })),
    });
  });
  afterAll(() => env.close());

  const auth = () =>
    `Basic ${Buffer.from(`${env.parentSid}:${env.parentToken}`).toString('base64')}`;

  /** Every page of a raw list request, following next_page_uri; bodies newest first. */
  async function raw(filters: [string, string][]): Promise<string[]> {
    const query = new URLSearchParams([...filters, ['PageSize', '3']]);
    let next: string | null =
      `/2010-04-01/Accounts/${env.parentSid}/Messages.json?${query.toString()}`;
    const bodies: string[] = [];
    const dates: number[] = [];
    while (next !== null) {
      const response = await fetch(`${env.url}${next}`, { headers: { authorization: auth() } });
      expect(response.status).toBe(200);
      const page = (await response.json()) as RawPage;
      bodies.push(...page.messages.map((m) => m.body));
      dates.push(...page.messages.map((m) => Date.parse(m.date_sent)));
      next = page.next_page_uri;
    }
    for (let i = 1; i < dates.length; i++) expect(dates[i]!).toBeLessThanOrEqual(dates[i - 1]!);
    return bodies;
  }

  async function rawStatus(
    filters: [string, string][],
  ): Promise<{ status: number; body: unknown }> {
    const query = new URLSearchParams(filters);
    const response = await fetch(
      `${env.url}/2010-04-01/Accounts/${env.parentSid}/Messages.json?${query.toString()}`,
      { headers: { authorization: auth() } },
    );
    return { status: response.status, body: await response.json() };
  }

  const newestFirst = (labels: string) => [...labels].reverse();

  describe('date-only values (whole UTC day, inclusive)', () => {
    it('DateSent>=DAY includes 00:00:00 of that day and everything after', async () => {
      expect(await raw([['DateSent>', '2025-03-01']])).toEqual(newestFirst('cdxefgh'));
    });

    it('DateSent<=DAY includes 23:59:59 of that day and everything before', async () => {
      expect(await raw([['DateSent<', '2025-03-01']])).toEqual(newestFirst('abcdxef'));
    });

    it('DateSent=DAY is exactly that UTC day', async () => {
      expect(await raw([['DateSent', '2025-03-01']])).toEqual(newestFirst('cdxef'));
      expect(await raw([['DateSent', '2025-02-28']])).toEqual(newestFirst('ab'));
      expect(await raw([['DateSent', '2025-03-03']])).toEqual([]);
    });

    it('combines > and <', async () => {
      const window = (after: string, before: string) =>
        raw([
          ['DateSent>', after],
          ['DateSent<', before],
        ]);
      expect(await window('2025-03-01', '2025-03-01')).toEqual(newestFirst('cdxef'));
      expect(await window('2025-02-28', '2025-03-01')).toEqual(newestFirst('abcdxef'));
      expect(await window('2025-03-01', '2025-03-02')).toEqual(newestFirst('cdxefgh'));
      expect(await window('2025-03-02', '2025-02-28')).toEqual([]);
    });

    it('accepts the key unencoded on the wire, as curl writes it', async () => {
      const response = await fetch(
        `${env.url}/2010-04-01/Accounts/${env.parentSid}/Messages.json?DateSent>=2025-03-02`,
        { headers: { authorization: auth() } },
      );
      expect(response.status).toBe(200);
      const page = (await response.json()) as RawPage;
      expect(page.messages.map((m) => m.body)).toEqual(['h', 'g']);
    });

    it('combines with To and From', async () => {
      expect(
        await raw([
          ['From', U1],
          ['DateSent<', '2025-03-01'],
        ]),
      ).toEqual(newestFirst('axe'));
      expect(
        await raw([
          ['To', U1],
          ['DateSent>', '2025-03-01'],
        ]),
      ).toEqual(newestFirst('fh'));
      expect(
        await raw([
          ['To', NUMBER],
          ['From', U2],
          ['DateSent', '2025-03-01'],
        ]),
      ).toEqual(['c']);
      expect(
        await raw([
          ['From', NUMBER],
          ['DateSent>', '2025-03-01'],
          ['DateSent<', '2025-03-01'],
        ]),
      ).toEqual(newestFirst('df'));
      expect(
        await raw([
          ['To', OTHER_NUMBER],
          ['DateSent', '2025-03-01'],
        ]),
      ).toEqual(['x']);
    });

    it('accepts other datetime spellings Twilio documents', async () => {
      expect(await raw([['DateSent>', '2025-03-01 00:00:01']])).toEqual(newestFirst('dxefgh'));
      expect(await raw([['DateSent>', 'Sat, 01 Mar 2025 00:00:01 +0000']])).toEqual(
        newestFirst('dxefgh'),
      );
      expect(await raw([['DateSent<', '2025-03-01T00:00:00Z']])).toEqual(newestFirst('abc'));
    });
  });

  describe('datetimes through the SDK (inclusive at the second)', () => {
    const bodies = async (params: {
      to?: string;
      from?: string;
      dateSent?: Date;
      dateSentAfter?: Date;
      dateSentBefore?: Date;
    }) => (await env.parent.messages.list({ ...params, pageSize: 2 })).map((m) => m.body);

    it('dateSentAfter includes the exact second', async () => {
      expect(await bodies({ dateSentAfter: new Date('2025-03-01T00:00:00Z') })).toEqual(
        newestFirst('cdxefgh'),
      );
      expect(await bodies({ dateSentAfter: new Date('2025-03-01T00:00:01Z') })).toEqual(
        newestFirst('dxefgh'),
      );
      expect(await bodies({ dateSentAfter: new Date('2025-02-28T23:59:59Z') })).toEqual(
        newestFirst('bcdxefgh'),
      );
      expect(env.httpClient.violations).toEqual([]);
    });

    it('dateSentBefore includes the exact second', async () => {
      expect(await bodies({ dateSentBefore: new Date('2025-02-28T23:59:59Z') })).toEqual(
        newestFirst('ab'),
      );
      expect(await bodies({ dateSentBefore: new Date('2025-03-01T00:00:00Z') })).toEqual(
        newestFirst('abc'),
      );
      expect(await bodies({ dateSentBefore: new Date('2025-02-28T23:59:58Z') })).toEqual(['a']);
      expect(env.httpClient.violations).toEqual([]);
    });

    it('combines after and before, and with To/From', async () => {
      expect(
        await bodies({
          dateSentAfter: new Date('2025-02-28T23:59:59Z'),
          dateSentBefore: new Date('2025-03-02T00:00:00Z'),
        }),
      ).toEqual(newestFirst('bcdxefg'));
      expect(
        await bodies({
          dateSentAfter: new Date('2025-03-01T00:00:01Z'),
          dateSentBefore: new Date('2025-03-01T23:59:59Z'),
        }),
      ).toEqual(newestFirst('dxef'));
      expect(await bodies({ to: U1, dateSentAfter: new Date('2025-03-01T23:59:59Z') })).toEqual(
        newestFirst('fh'),
      );
      expect(
        await bodies({
          from: U1,
          to: NUMBER,
          dateSentBefore: new Date('2025-03-01T12:00:00Z'),
        }),
      ).toEqual(newestFirst('ae'));
      expect(env.httpClient.violations).toEqual([]);
    });

    it('dateSent with a datetime is that second', async () => {
      expect(await bodies({ dateSent: new Date('2025-03-01T12:00:00Z') })).toEqual(['e']);
      expect(await bodies({ dateSent: new Date('2025-03-01T12:00:01Z') })).toEqual([]);
      expect(env.httpClient.violations).toEqual([]);
    });
  });

  describe('unparsable dates', () => {
    it.each([
      ['DateSent>', 'not-a-date'],
      ['DateSent<', 'yesterday'],
      ['DateSent', ''],
      ['DateSent', '2025-13-01'],
      ['DateSent>', '2025-02-30'],
      ['DateSent>', '2025-02-30T10:00:00Z'],
      ['DateSent<', '2025-04-31 10:00:00'],
      ['DateSent<', '2025-03-01T25:00:00Z'],
    ])('%s=%s → 400', async (key, value) => {
      const { status, body } = await rawStatus([[key, value]]);
      expect(status).toBe(400);
      expect(body).toMatchObject({ status: 400, code: expect.any(Number) });
    });

    it('an Invalid Date through the SDK → 400', async () => {
      await expect(
        env.parent.messages.list({ dateSentAfter: new Date('nonsense') }),
      ).rejects.toMatchObject({ status: 400 });
      expect(env.httpClient.violations).toEqual([]);
    });
  });
});
