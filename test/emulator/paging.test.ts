/**
 * Messages paging through the real SDK over HTTP: 2,500 seeded messages come back in
 * exactly three pages of at most 1,000, newest first, with no gap and no repeat, even while
 * new messages arrive between page reads. Plus Twilio's paging errors and the PageSize cap.
 */

import { beforeEach, describe, expect, it } from 'vitest';

import { createParentClient } from '../../src/twilio/client.js';
import type { RequestOptions, Response } from '../../src/twilio/http-client.js';
import { useEmulator, ValidatingHttpClient } from '../support/emulator.js';

const NUMBER = '+14155550100';
const SEEDED = 2_500;
const BASE = Date.UTC(2024, 0, 1);
/** The emulator's clock, a day after the seeded history: new traffic is newer than all of it. */
const NOW = BASE + 86_400_000;

interface RawPage {
  messages: { sid: string; date_sent: string }[];
  next_page_uri: string | null;
  previous_page_uri: string | null;
  page: number;
  page_size: number;
}

interface FailedCall {
  status: unknown;
  code: unknown;
}

async function failure(promise: Promise<unknown>): Promise<FailedCall> {
  try {
    await promise;
  } catch (error) {
    const { status, code } = error as { status?: unknown; code?: unknown };
    return { status, code };
  }
  throw new Error('expected the call to fail');
}

/** Distinct seconds, given out of order: the store must sort them itself. */
function seedMessages() {
  const messages = [];
  for (let i = 0; i < SEEDED; i++) {
    const n = (i * 7919) % SEEDED; // a permutation of 0..2499
    const user = `+1650555${String(1000 + (n % 50)).padStart(4, '0')}`;
    const inbound = n % 3 === 0;
    messages.push({
      from: inbound ? user : NUMBER,
      to: inbound ? NUMBER : user,
      body: `message ${n}`,
      direction: inbound ? ('inbound' as const) : ('outbound-api' as const),
      date_sent: new Date(BASE + n * 1000).toISOString(),
    });
  }
  return messages;
}

function expectNewestFirst(dates: readonly Date[]): void {
  for (let i = 1; i < dates.length; i++) {
    expect(dates[i]!.getTime()).toBeLessThanOrEqual(dates[i - 1]!.getTime());
  }
}

describe('Messages paging', () => {
  const env = useEmulator({ checkSchema: false, now: () => NOW });
  let seeded: Set<string>;
  let added: string[];

  beforeEach(async () => {
    await env.seed({ numbers: [{ phone_number: NUMBER }] });
    const result = await env.seed({ messages: seedMessages() });
    seeded = new Set(result.messages.map((m) => m.sid));
    expect(seeded.size).toBe(SEEDED);
    added = [];
  });

  /** New traffic, newer than everything seeded: one inbound text and one API send. */
  async function addTraffic(): Promise<void> {
    const inbound = await env.control<{ sid: string }>('POST', '/__emulator/inbound', {
      from: '+16505559999',
      to: NUMBER,
      body: `arrived while paging ${added.length}`,
    });
    added.push(inbound.sid);
    const sent = await env.parent.messages.create({
      from: NUMBER,
      to: '+16505559998',
      body: `sent while paging ${added.length}`,
    });
    added.push(sent.sid);
  }

  async function rawGet(pathAndQuery: string): Promise<{ status: number; body: unknown }> {
    const auth = Buffer.from(`${env.parentSid}:${env.parentToken}`).toString('base64');
    const response = await fetch(`${env.url}${pathAndQuery}`, {
      headers: { authorization: `Basic ${auth}` },
    });
    return { status: response.status, body: await response.json() };
  }

  it('page() then getPage(nextPageUrl): 1000, 1000, 500, newest first, no gap, no repeat', async () => {
    const page0 = await env.parent.messages.page({ pageSize: 1000 });
    await addTraffic();
    expect(page0.nextPageUrl).toBeDefined();
    const token0 = new URL(page0.nextPageUrl!).searchParams.get('PageToken');
    expect(token0).toMatch(/^PASM[0-9a-f]{32}$/);
    expect(token0).toBe(`PA${page0.instances[999]!.sid}`);

    const page1 = await env.parent.messages.getPage(page0.nextPageUrl!);
    await addTraffic();
    await addTraffic();
    const page2 = await env.parent.messages.getPage(page1.nextPageUrl!);
    await addTraffic();

    expect([page0, page1, page2].map((p) => p.instances.length)).toEqual([1000, 1000, 500]);
    expect(page2.nextPageUrl).toBeUndefined();

    const all = [...page0.instances, ...page1.instances, ...page2.instances];
    expectNewestFirst(all.map((m) => m.dateSent));
    const sids = all.map((m) => m.sid);
    expect(new Set(sids).size).toBe(sids.length);
    expect(new Set(sids)).toEqual(seeded);
    expect(all[0]!.dateSent.toISOString()).toBe(new Date(BASE + (SEEDED - 1) * 1000).toISOString());
    expect(all[SEEDED - 1]!.dateSent.toISOString()).toBe(new Date(BASE).toISOString());

    // The traffic really went in, and it sits at the top of a fresh first page.
    expect(added).toHaveLength(8);
    const fresh = await env.parent.messages.page({ pageSize: 8 });
    expect(new Set(fresh.instances.map((m) => m.sid))).toEqual(new Set(added));

    // The last page says so in the raw JSON too.
    const last = await rawGet(
      new URL(page1.nextPageUrl!).pathname + new URL(page1.nextPageUrl!).search,
    );
    expect(last.status).toBe(200);
    expect((last.body as RawPage).next_page_uri).toBeNull();
    expect((last.body as RawPage).messages.map((m) => m.sid)).toEqual(
      page2.instances.map((m) => m.sid),
    );
    expect(env.httpClient.violations).toEqual([]);
  });

  it('previous_page_uri of page 1 leads back to exactly page 0, even after new traffic', async () => {
    const page0 = await env.parent.messages.page({ pageSize: 1000 });
    expect(page0.previousPageUrl).toBeUndefined();
    const page1 = await env.parent.messages.getPage(page0.nextPageUrl!);
    await addTraffic();
    expect(page1.previousPageUrl).toBeDefined();
    expect(new URL(page1.previousPageUrl!).searchParams.get('Page')).toBe('0');

    const back = await env.parent.messages.getPage(page1.previousPageUrl!);
    expect(back.instances.map((m) => m.sid)).toEqual(page0.instances.map((m) => m.sid));
    expect(back.previousPageUrl).toBeUndefined();

    // …and forward again from there reaches page 1 again.
    const forward = await env.parent.messages.getPage(back.nextPageUrl!);
    expect(forward.instances.map((m) => m.sid)).toEqual(page1.instances.map((m) => m.sid));
    expect(env.httpClient.violations).toEqual([]);
  });

  /** An SDK client whose every follow-up page request first adds traffic, then goes out. */
  function clientAddingTrafficBetweenPages() {
    const pages: number[] = [];
    class AddingClient extends ValidatingHttpClient {
      override async request<TData>(opts: RequestOptions<TData>): Promise<Response<TData>> {
        const isList = opts.method.toLowerCase() === 'get' && /\/Messages\.json/.test(opts.uri);
        if (isList && opts.uri.includes('PageToken=')) await addTraffic();
        const response = await super.request(opts);
        if (isList) {
          const body: unknown =
            typeof response.body === 'string' ? JSON.parse(response.body) : response.body;
          pages.push((body as RawPage).messages.length);
        }
        return response;
      }
    }
    const httpClient = new AddingClient({ apiUrl: env.url });
    return { client: createParentClient(env.parentCredentials, httpClient), httpClient, pages };
  }

  it('each({pageSize: 1000}) streams every seeded message once while messages arrive', async () => {
    const { client, httpClient, pages } = clientAddingTrafficBetweenPages();
    const seen: { sid: string; dateSent: Date }[] = [];
    await client.messages.each({ pageSize: 1000 }, (message) => {
      seen.push({ sid: message.sid, dateSent: message.dateSent });
    });
    expect(pages).toEqual([1000, 1000, 500]);
    expect(added).toHaveLength(4);
    expect(seen).toHaveLength(SEEDED);
    expectNewestFirst(seen.map((m) => m.dateSent));
    expect(new Set(seen.map((m) => m.sid))).toEqual(seeded);
    expect(httpClient.violations).toEqual([]);
    expect(env.httpClient.violations).toEqual([]);
  });

  it('list({pageSize: 1000}) returns every seeded message once while messages arrive', async () => {
    const { client, httpClient, pages } = clientAddingTrafficBetweenPages();
    const all = await client.messages.list({ pageSize: 1000 });
    expect(pages).toEqual([1000, 1000, 500]);
    expect(added).toHaveLength(4);
    expect(all).toHaveLength(SEEDED);
    expectNewestFirst(all.map((m) => m.dateSent));
    expect(new Set(all.map((m) => m.sid))).toEqual(seeded);
    expect(httpClient.violations).toEqual([]);
    expect(env.httpClient.violations).toEqual([]);
  });

  it('clamps PageSize=5000 to 1000', async () => {
    const path = `/2010-04-01/Accounts/${env.parentSid}/Messages.json`;
    const { status, body } = await rawGet(`${path}?PageSize=5000`);
    expect(status).toBe(200);
    const page = body as RawPage;
    expect(page.page_size).toBe(1000);
    expect(page.page).toBe(0);
    expect(page.messages).toHaveLength(1000);
    expect(page.previous_page_uri).toBeNull();
    const next = new URL(page.next_page_uri!, env.url);
    expect(next.pathname).toBe(path);
    expect(next.searchParams.get('PageSize')).toBe('1000');
    expect(next.searchParams.get('Page')).toBe('1');
    expect(next.searchParams.get('PageToken')).toBe(`PA${page.messages[999]!.sid}`);
  });

  it('refuses Page>0 without a PageToken (70002) and a bad PageToken (21481)', async () => {
    expect(await failure(env.parent.messages.page({ pageSize: 10, pageNumber: 1 }))).toEqual({
      status: 400,
      code: 70002,
    });
    expect(
      await failure(env.parent.messages.page({ pageSize: 10, pageNumber: 1, pageToken: 'bogus' })),
    ).toEqual({ status: 400, code: 21481 });
    // Well formed, but no such message.
    expect(
      await failure(
        env.parent.messages.page({
          pageSize: 10,
          pageNumber: 1,
          pageToken: `PASM${'0'.repeat(32)}`,
        }),
      ),
    ).toEqual({ status: 400, code: 21481 });

    const path = `/2010-04-01/Accounts/${env.parentSid}/Messages.json`;
    const raw = await rawGet(`${path}?PageSize=10&Page=1`);
    expect(raw.status).toBe(400);
    expect(raw.body).toMatchObject({ status: 400, code: 70002 });
    const bogus = await rawGet(`${path}?PageSize=10&Page=1&PageToken=PAnot-a-token`);
    expect(bogus.status).toBe(400);
    expect(bogus.body).toMatchObject({ status: 400, code: 21481 });
    expect(env.httpClient.violations).toEqual([]);
  });

  it("does not accept another account's message as a page token", async () => {
    const { subaccounts } = await env.seed({ subaccounts: [{ friendly_name: 'Other' }] });
    const sub = subaccounts[0]!;
    const page0 = await env.parent.messages.page({ pageSize: 5 });
    const token = new URL(page0.nextPageUrl!).searchParams.get('PageToken')!;
    const subClient = env.clientFor(sub.sid, sub.auth_token);
    expect(
      await failure(subClient.messages.page({ pageSize: 5, pageNumber: 1, pageToken: token })),
    ).toEqual({ status: 400, code: 21481 });
    expect(env.httpClient.violations).toEqual([]);
  });
});
