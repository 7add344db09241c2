/**
 * What a real Twilio, or a proxy in front of it, may answer that the emulator never does: a
 * success whose body is HTML or nothing, a page without its list, a next-page link that points
 * at another account, another host or the page itself. Each is a TwilioError that says what
 * was answered, never a page read as the end of its list, a loop, a bare SyntaxError, or the
 * credentials sent somewhere that is not Twilio. A local server answers each crafted body.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

import { afterEach, describe, expect, it } from 'vitest';

import { TwilioError } from '../../src/errors.js';
import { createTwilioPort } from '../../src/twilio/adapter.js';
import { TwilioHttpClient } from '../../src/twilio/http-client.js';
import type { TwilioPort } from '../../src/twilio/port.js';

const ACCOUNT = `AC${'1'.repeat(32)}`;
const OTHER = `AC${'2'.repeat(32)}`;
const TOKEN = 'tok_never_shown_0123456789abcdef';
const MESSAGES = `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`;
const NUMBERS = `/2010-04-01/Accounts/${ACCOUNT}/IncomingPhoneNumbers.json`;

interface Crafted {
  port: TwilioPort;
  url: string;
  /** Each request as it arrived: method, path and query, and whether it carried credentials. */
  seen: { path: string; auth: boolean }[];
}

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: Crafted['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', auth: req.headers.authorization !== undefined });
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A port whose every request goes to a server that answers `answer(path)`. */
async function crafted(
  answer: (path: string) => { status?: number; type?: string; body: unknown },
): Promise<Crafted> {
  const { seen, url } = await listen((req, res) => {
    const { status = 200, type = 'application/json', body } = answer(req.url ?? '');
    res.writeHead(status, { 'content-type': type });
    res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
  });
  const client = new TwilioHttpClient({
    apiUrl: url,
    retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
  });
  const port = createTwilioPort(
    { kind: 'auth-token', accountSid: ACCOUNT, authToken: TOKEN },
    client,
  );
  return { port, url, seen };
}

async function failure(read: Promise<unknown>): Promise<TwilioError> {
  const error = await read.then(
    () => new Error('read as if it were well-formed'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TwilioError);
  expect((error as Error).message).not.toContain(TOKEN);
  return error as TwilioError;
}

const firstPage = { filter: {}, pageSize: 50 } as const;
const message = {
  sid: `SM${'a'.repeat(32)}`,
  account_sid: ACCOUNT,
  from: '+14155550100',
  to: '+14155550101',
  body: 'STOP',
  direction: 'inbound',
  status: 'received',
  date_sent: 'Mon, 06 Jan 2025 10:00:00 +0000',
  date_created: 'Mon, 06 Jan 2025 10:00:00 +0000',
  error_code: null,
  messaging_service_sid: null,
};

describe('a Messages page that is not one', () => {
  it.each([
    ['HTML from a proxy', { type: 'text/html', body: '<html><body>Gateway</body></html>' }],
    ['an empty body', { body: '' }],
    ['a page whose messages are null', { body: { messages: null, next_page_uri: null } }],
    ['a page without its messages', { body: { next_page_uri: null, page: 0 } }],
  ])('%s is an error naming the request, not the end of the list', async (_name, answer) => {
    const { port } = await crafted(() => answer);
    const error = await failure(port.readMessagesPage(ACCOUNT, firstPage));
    expect(error.message).toContain(`GET https://api.twilio.com${MESSAGES}: answered HTTP 200`);
    expect(error.message).toContain('not a Messages page');
  });

  it('a page that does not say whether another follows (no next_page_uri) is an error', async () => {
    const { port } = await crafted(() => ({ body: { messages: [message], page: 0 } }));
    const error = await failure(port.readMessagesPage(ACCOUNT, firstPage));
    expect(error.message).toContain('no next_page_uri');
  });

  it.each([
    ["another account's list", `/2010-04-01/Accounts/${OTHER}/Messages.json?Page=1&PageToken=PA1`],
    ['another list', `/2010-04-01/Accounts/${ACCOUNT}/Calls.json?Page=1`],
    ['a path out of this list', `${MESSAGES}/../../${OTHER}/Messages.json?Page=1`],
    ['another host, as a URL', 'https://evil.example/2010-04-01/Messages.json?Page=1'],
    ['another host, as a user@host', '@evil.example/x?Page=1'],
    ['another host, scheme-relative', '//evil.example/x?Page=1'],
  ])('a next page in %s is an error, and is not read', async (_name, next) => {
    const { port, seen } = await crafted(() => ({
      body: { messages: [message], next_page_uri: next },
    }));
    const error = await failure(port.readMessagesPage(ACCOUNT, firstPage));
    expect(error.message).toContain(`not more of ${MESSAGES}`);
    expect(seen).toHaveLength(1);
  });

  it('a page that names itself as the next is an error, not read for ever', async () => {
    const self = `${MESSAGES}?PageSize=50&Page=1&PageToken=PA1`;
    const { port } = await crafted(() => ({ body: { messages: [message], next_page_uri: self } }));
    const error = await failure(
      port.readMessagesPage(ACCOUNT, { pageUrl: `https://api.twilio.com${self}` }),
    );
    expect(error.message).toContain('names itself as the next one');
  });

  it('a short page with a next page, and a last page with null, read as Twilio means them', async () => {
    const next = `${MESSAGES}?PageSize=50&Page=1&PageToken=PA1`;
    const { port } = await crafted((path) => ({
      body: { messages: [message], next_page_uri: path.includes('Page=1') ? null : next },
    }));
    const first = await port.readMessagesPage(ACCOUNT, firstPage);
    expect(first).toMatchObject({ scanned: 1, nextPageUrl: `https://api.twilio.com${next}` });
    const last = await port.readMessagesPage(ACCOUNT, { pageUrl: first.nextPageUrl! });
    expect(last).toMatchObject({ scanned: 1, nextPageUrl: null });
  });
  it("a next page in the account's own list, its SID in another case, is read on", async () => {
    const lower = `AC${'abcdef0123456789'.repeat(2)}`;
    const next = `/2010-04-01/Accounts/${lower}/Messages.json?PageSize=50&Page=1&PageToken=PA1`;
    const { port } = await crafted(() => ({ body: { messages: [message], next_page_uri: next } }));
    const page = await port.readMessagesPage(`AC${lower.slice(2).toUpperCase()}`, firstPage);
    expect(page.nextPageUrl).toBe(`https://api.twilio.com${next}`);
  });
});

describe('a phone numbers page that is not one', () => {
  it.each([
    ['HTML from a proxy', { type: 'text/html', body: '<html>Gateway</html>' }],
    ['a page without its list', { body: { next_page_uri: null } }],
    ['a page whose list is null', { body: { incoming_phone_numbers: null, next_page_uri: null } }],
    ['a page that does not say whether another follows', { body: { incoming_phone_numbers: [] } }],
  ])('%s is an error, not an account without numbers', async (_name, answer) => {
    const { port } = await crafted(() => answer);
    const error = await failure(port.listPhoneNumbers(ACCOUNT));
    expect(error.message).toContain(`GET https://api.twilio.com${NUMBERS}: answered HTTP 200`);
  });

  it('a page whose next page is itself is an error after one request, not a loop', async () => {
    let answered = 0;
    const { port, seen } = await crafted(() => {
      answered += 1;
      // Without a check the loop would never end: the 21st answer ends it, as an error of
      // its own.
      if (answered > 20) return { status: 500, body: { code: 20500, message: 'enough' } };
      return {
        body: {
          incoming_phone_numbers: [],
          next_page_uri: `${NUMBERS}?PageSize=1000`,
        },
      };
    });
    const error = await failure(port.listPhoneNumbers(ACCOUNT));
    expect(error.message).toContain('names itself as the next one');
    expect(seen).toHaveLength(1);
  });

  it('a page whose next page is one read before (A→B→A) is an error, that page not asked for again', async () => {
    const second = `${NUMBERS}?PageSize=1000&Page=1&PageToken=PN1`;
    let answered = 0;
    const { port, seen } = await crafted((path) => {
      answered += 1;
      // Without a check the loop would never end: the 21st answer ends it, as an error of
      // its own.
      if (answered > 20) return { status: 500, body: { code: 20500, message: 'enough' } };
      // The first page names the second, and the second the first again.
      const next = path.includes('PageToken') ? `${NUMBERS}?PageSize=1000` : second;
      return { body: { incoming_phone_numbers: [], next_page_uri: next } };
    });
    const error = await failure(port.listPhoneNumbers(ACCOUNT));
    expect(error.message).toBe(
      `GET https://api.twilio.com${NUMBERS}: Twilio named a list page as the next one that was already read (the list loops back on itself); the list was not read through and what it holds after that page was not read. Run the command again; if it goes on, check the network or proxy between here and Twilio.`,
    );
    expect(seen.map((s) => s.path)).toEqual([`${NUMBERS}?PageSize=1000`, second]);
  });

  it("a next page in another account's list is an error, and is not read", async () => {
    const { port, seen } = await crafted(() => ({
      body: {
        incoming_phone_numbers: [],
        next_page_uri: `/2010-04-01/Accounts/${OTHER}/IncomingPhoneNumbers.json?Page=1`,
      },
    }));
    const error = await failure(port.listPhoneNumbers(ACCOUNT));
    expect(error.message).toContain(`not more of ${NUMBERS}`);
    expect(seen).toHaveLength(1);
  });
});

describe('the SDK lists and fetches', () => {
  it('a 200 with HTML is an error naming the request, not a bare SyntaxError', async () => {
    const { port } = await crafted(() => ({ type: 'text/html', body: '<html>Gateway</html>' }));
    for (const read of [port.fetchAccount(ACCOUNT), port.listSubaccounts()]) {
      const error = await failure(read);
      expect(error.message).toMatch(/answered HTTP 200 with a body that is not JSON \(text\/html/);
    }
  });

  it.each([
    ['without its list', { meta: { key: 'services', next_page_url: null } }],
    ['with a null list', { services: null, meta: { key: 'services', next_page_url: null } }],
  ])('a page %s is an error naming the list', async (_name, body) => {
    const { port } = await crafted(() => ({ body }));
    const error = await failure(port.listServices(ACCOUNT));
    expect(error.message).toContain(`listing the Messaging Services of ${ACCOUNT}`);
  });

  it('a page whose next page was read before ends the list with an error, not a loop', async () => {
    let answered = 0;
    const { port, seen } = await crafted(() => {
      answered += 1;
      // Without a check the SDK would read on for ever: the 21st answer ends it, as an error
      // of its own.
      if (answered > 20) return { status: 500, body: { code: 20500, message: 'enough' } };
      // A cache in between that ignores the query answers the first page for every page.
      const next = 'https://messaging.twilio.com/v1/Services?PageSize=1000&Page=1&PageToken=PA1';
      return { body: { services: [], meta: { key: 'services', next_page_url: next } } };
    });
    const error = await failure(port.listServices(ACCOUNT));
    expect(error.message).toContain('a page whose next page was read before');
    expect(seen).toHaveLength(2);
  });

  it('a next page on another host is not asked for: the credentials go to Twilio only', async () => {
    const elsewhere = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ services: [], meta: { key: 'services', next_page_url: null } }));
    });
    const { port } = await crafted(() => ({
      body: {
        services: [],
        meta: { key: 'services', next_page_url: `${elsewhere.url}/v1/Services?Page=1` },
      },
    }));
    const error = await failure(port.listServices(ACCOUNT));
    expect(error.message).toContain(`GET ${elsewhere.url}/v1/Services: not a Twilio address`);
    expect(elsewhere.seen).toEqual([]);
  });
});

describe('a Messages page whose message lacks what the ledger keeps', () => {
  it.each([
    ['direction', { ...message, direction: null }],
    ['account_sid', { ...message, account_sid: undefined }],
  ])('a message without %s is an error naming the page and the message', async (field, record) => {
    const { port } = await crafted(() => ({
      body: { messages: [message, record], next_page_uri: null },
    }));
    const error = await failure(port.readMessagesPage(ACCOUNT, firstPage));
    expect(error.message).toBe(
      `GET https://api.twilio.com${MESSAGES}: message 2 of the page (message ${message.sid}) has no ${field}; nothing of the page was used, and its slice counts as not read`,
    );
    expect(error.retryable).toBe(false);
  });
});

describe('a Bulk Export day file that is not one', () => {
  /** A day that redirects to `file` on the same server, which answers `answer`. */
  async function day(file: string, answer: { type: string; body: Buffer | string }) {
    let base = '';
    const { port, url } = await crafted((path) =>
      path.startsWith('/v1/Exports/Messages/Days/')
        ? { status: 307, body: { redirect_to: file.startsWith('/') ? `${base}${file}` : file } }
        : { type: answer.type, body: answer.body },
    );
    base = url;
    return port;
  }

  it.each([
    ['HTML from a proxy', { type: 'text/html', body: '<html>Sign in</html>' }],
    [
      'a line that is not JSON',
      { type: 'application/gzip', body: gzipSync(`${JSON.stringify(message)}\nnope\n`) },
    ],
    ['a line that is JSON but no record', { type: 'application/gzip', body: gzipSync('null\n') }],
  ])('%s is an error naming the file, asked for again', async (_name, answer) => {
    const port = await day('/file.json.gz?Signature=s', answer);
    const error = await failure(port.readExportDay(ACCOUNT, '2024-01-01', () => {}));
    expect(error.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/file\.json\.gz: /);
    expect(error.message).not.toContain('Signature');
    expect(error.retryable).toBe(true);
  });

  it.each([
    ['direction', { ...message, direction: undefined }],
    ['account_sid', { ...message, account_sid: null }],
    ['sid', { ...message, sid: '' }],
  ])(
    'a line without %s is an error naming the day, the line and the field, not asked for again',
    async (field, record) => {
      const lines = `${JSON.stringify({ ...message, sid: `SM${'b'.repeat(32)}` })}\n${JSON.stringify(record)}\n`;
      const port = await day('/file.json.gz?Signature=s', {
        type: 'application/gzip',
        body: gzipSync(lines),
      });
      const error = await failure(port.readExportDay(ACCOUNT, '2024-01-01', () => {}));
      expect(error.message).toMatch(
        new RegExp(
          `^GET http://127\\.0\\.0\\.1:\\d+/file\\.json\\.gz \\(the day file of ${ACCOUNT} for 2024-01-01\\): line 2 \\(${
            field === 'sid' ? 'a message without a sid' : `message ${message.sid}`
          }\\) has no ${field}; nothing of the day was used, and the day counts as not read$`,
        ),
      );
      expect(error.message).not.toContain('Signature');
      expect(error.retryable).toBe(false);
    },
  );

  it("a day answered without its file's address is an error naming the day", async () => {
    const { port } = await crafted(() => ({ body: { day: '2024-01-01', size: 10 } }));
    const error = await failure(port.readExportDay(ACCOUNT, '2024-01-01', () => {}));
    expect(error.message).toBe(
      "GET https://bulkexports.twilio.com/v1/Exports/Messages/Days/2024-01-01: answered HTTP 200 without the address of the day's file (redirect_to); nothing of the day was read",
    );
    expect(error.retryable).toBe(true);
  });

  it('an address that is not an http(s) URL is an error, not asked for again', async () => {
    const port = await day('file:///etc/passwd', { type: 'text/plain', body: '' });
    const error = await failure(port.readExportDay(ACCOUNT, '2024-01-01', () => {}));
    expect(error.message).toContain('not an http(s) URL (file:)');
    expect(error.retryable).toBe(false);
  });
});
