import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { describe, expect, it } from 'vitest';

import { TwilioError } from '../../src/errors.js';
import {
  describeRequest,
  isListingRefused,
  isRetryableStatus,
  toTwilioError,
} from '../../src/twilio/error-mapping.js';
import {
  isConsentRequest,
  isIdempotent,
  rewriteTwilioUrl,
  TwilioHttpClient,
} from '../../src/twilio/http-client.js';

const BASE = 'http://127.0.0.1:4010';
const ACCOUNT = 'AC00000000000000000000000000000001';

describe('rewriteTwilioUrl', () => {
  it.each([
    [
      `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Messages.json?PageSize=1&DateSent%3C=2024-01-01`,
      `${BASE}/2010-04-01/Accounts/${ACCOUNT}/Messages.json?PageSize=1&DateSent%3C=2024-01-01`,
    ],
    ['https://messaging.twilio.com/v1/Services?PageSize=50', `${BASE}/v1/Services?PageSize=50`],
    [
      'https://messaging.twilio.com/v1/Services/MG00000000000000000000000000000001/PhoneNumbers',
      `${BASE}/v1/Services/MG00000000000000000000000000000001/PhoneNumbers`,
    ],
    ['https://accounts.twilio.com/v1/Credentials/PublicKeys', `${BASE}/v1/Credentials/PublicKeys`],
    ['https://bulkexports.twilio.com/v1/Exports/Messages', `${BASE}/v1/Exports/Messages`],
    [
      `https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/${ACCOUNT}.json`,
      `${BASE}/2010-04-01/Accounts/${ACCOUNT}.json`,
    ],
    ['https://API.Twilio.COM/2010-04-01/Accounts.json', `${BASE}/2010-04-01/Accounts.json`],
    ['https://api.twilio.com', BASE],
  ])('%s → the base URL', (uri, expected) => {
    expect(rewriteTwilioUrl(uri, BASE)).toBe(expected);
  });

  it.each([
    'https://example.org/2010-04-01/Accounts.json',
    'https://evil.twilio.com.example.org/2010-04-01/Accounts.json',
    'https://evil.twilio.com.example.org',
    'https://eviltwilio.com/2010-04-01/Accounts.json',
    'https://api.twilio.com@evil.example.org/2010-04-01/Accounts.json',
    'https://example.org/redirect?to=https://api.twilio.com/2010-04-01',
    'http://localhost:4010/2010-04-01/Accounts.json',
  ])('leaves %s alone', (uri) => {
    expect(rewriteTwilioUrl(uri, BASE)).toBe(uri);
  });

  it('changes nothing without an API URL', () => {
    const uri = `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Messages.json?PageSize=1`;
    expect(rewriteTwilioUrl(uri, null)).toBe(uri);
    expect(rewriteTwilioUrl('https://messaging.twilio.com/v1/Services', null)).toBe(
      'https://messaging.twilio.com/v1/Services',
    );
  });
});

describe('isIdempotent', () => {
  it.each(['GET', 'get', 'HEAD', 'OPTIONS', 'DELETE', 'delete'])('%s is idempotent', (method) => {
    expect(isIdempotent(method)).toBe(true);
  });

  it.each(['POST', 'post', 'PATCH', 'PUT', ''])('%j is not', (method) => {
    expect(isIdempotent(method)).toBe(false);
  });

  it('POST …/v1/Consents/Bulk is: Twilio upserts each record by its correlation_id', () => {
    expect(isIdempotent('POST', 'https://accounts.twilio.com/v1/Consents/Bulk')).toBe(true);
    expect(isIdempotent('post', 'https://Accounts.Twilio.com/v1/Consents/Bulk')).toBe(true);
  });

  it('POST …/v1/Exports/Messages/Jobs is: a job sent twice makes the same day files', () => {
    expect(isIdempotent('POST', 'https://bulkexports.twilio.com/v1/Exports/Messages/Jobs')).toBe(
      true,
    );
  });

  it.each([
    'https://bulkexports.twilio.com/v1/Exports/Messages/JobsX',
    'https://bulkexports.twilio.com/v1/Exports/Jobs/JS123',
    'https://accounts.twilio.com/v1/Consents/BulkX',
    'https://accounts.twilio.com/v1/Contacts/Bulk',
    'https://messaging.twilio.com/v1/Services',
    `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Messages.json`,
    'https://evil.example.org/v1/Consents/Bulk',
  ])('POST %s is not', (uri) => {
    expect(isIdempotent('POST', uri)).toBe(false);
  });
});

describe('isConsentRequest: the limiter bucket of the Consent Management API', () => {
  it.each([
    ['https://accounts.twilio.com/v1/Consents/Bulk', true],
    ['https://accounts.twilio.com/v1/Consents', true],
    ['https://accounts.twilio.com/v1/Consents?PageSize=1', true],
    ['https://accounts.twilio.com/v1/ConsentsX', false],
    ['https://accounts.twilio.com/v1/Credentials/PublicKeys', false],
    ['https://messaging.twilio.com/v1/Services', false],
    ['https://api.twilio.com/v1/Consents/Bulk', false],
  ])('%s → %s', (uri, expected) => {
    expect(isConsentRequest(uri)).toBe(expected);
  });
});

describe('describeRequest', () => {
  it('keeps method, origin and path, and drops the query string', () => {
    expect(
      describeRequest(
        'get',
        `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Messages.json?To=%2B14155550100&PageSize=1`,
      ),
    ).toBe(`GET https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
  });

  it('drops credentials and the fragment', () => {
    expect(
      describeRequest('post', `https://${ACCOUNT}:secret@messaging.twilio.com/v1/Services#x`),
    ).toBe('POST https://messaging.twilio.com/v1/Services');
  });

  it('keeps the port of a local base URL', () => {
    expect(describeRequest('DELETE', `${BASE}/v1/Services/MG1?a=b`)).toBe(
      'DELETE http://127.0.0.1:4010/v1/Services/MG1',
    );
  });

  it('is just the method when the URL does not parse', () => {
    expect(describeRequest('get', 'not a url?token=secret')).toBe('GET');
  });
});

describe('isRetryableStatus', () => {
  it.each([
    [429, true, true],
    [429, false, true],
    [500, true, true],
    [500, false, false],
    [502, true, true],
    [503, true, true],
    [503, false, false],
    [0, true, true],
    [0, false, false],
    [400, true, false],
    [401, true, false],
    [403, true, false],
    [404, true, false],
    [409, true, false],
    [409, false, false],
  ])('status %d, idempotent %s → %s', (status, idempotent, expected) => {
    expect(isRetryableStatus(status, idempotent)).toBe(expected);
  });
});

describe('isListingRefused', () => {
  const answer = (status: number) =>
    new TwilioError({ status, code: null, message: `HTTP ${status}`, retryable: status >= 500 });
  it.each([
    [401, true],
    [403, true],
    [404, true],
    [400, false],
    [429, false],
    [500, false],
    [503, false],
  ])('Twilio answering %d: the listing refused %s', (status, expected) => {
    expect(isListingRefused(answer(status))).toBe(expected);
  });

  it('is not a refusal when the error is not an answer of Twilio (a socket error, say)', () => {
    expect(isListingRefused(Object.assign(new Error('socket hang up'), { status: 403 }))).toBe(
      false,
    );
  });
});

/** Shaped like the SDK's RestException: an Error with status, code and moreInfo. */
class FakeRestException extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: unknown,
    readonly moreInfo?: string,
  ) {
    super(message);
  }
}

describe('toTwilioError', () => {
  it('maps a RestException to a TwilioError with status, code, message and moreInfo', () => {
    const mapped = toTwilioError(
      new FakeRestException(
        404,
        'The requested resource was not found',
        20404,
        'https://www.twilio.com/docs/errors/20404',
      ),
      true,
    );
    expect(mapped).toBeInstanceOf(TwilioError);
    expect(mapped).toMatchObject({
      name: 'TwilioError',
      status: 404,
      code: 20404,
      message: 'The requested resource was not found',
      moreInfo: 'https://www.twilio.com/docs/errors/20404',
      retryable: false,
      retryAfterSeconds: null,
    });
  });

  it.each([
    [429, false, true],
    [429, true, true],
    [500, true, true],
    [500, false, false],
    [503, true, true],
    [400, true, false],
    [401, false, false],
  ])('status %d, idempotent %s → retryable %s', (status, idempotent, retryable) => {
    const mapped = toTwilioError(new FakeRestException(status, 'x', 20001), idempotent);
    expect(mapped).toMatchObject({ status, retryable });
  });

  it('a missing or non-numeric code and a missing moreInfo become null', () => {
    expect(toTwilioError(new FakeRestException(500, 'x'), true)).toMatchObject({
      code: null,
      moreInfo: null,
    });
    expect(toTwilioError(new FakeRestException(500, 'x', '20500'), true)).toMatchObject({
      code: null,
    });
  });

  it('returns a TwilioError as it is', () => {
    const error = new TwilioError({ status: 0, code: null, message: 'gone', retryable: true });
    expect(toTwilioError(error, false)).toBe(error);
  });

  it.each([
    ['a plain Error', new Error('boom')],
    ['an Error whose status is a string', Object.assign(new Error('x'), { status: '500' })],
    ['a RestException-shaped object that is not an Error', { status: 500, message: 'x' }],
    ['a string', 'boom'],
    ['undefined', undefined],
  ])('returns %s unchanged', (_name, error) => {
    expect(toTwilioError(error, true)).toBe(error);
  });
});

describe('TwilioHttpClient retry waits (a local server answering 429 three times)', () => {
  /** The waits the client took before it got its 201, for a request to `uri`. */
  async function waitsFor(uri: string): Promise<number[]> {
    let answered = 0;
    const server = createServer((_req, res) => {
      answered += 1;
      res.writeHead(answered <= 3 ? 429 : 201, { 'content-type': 'application/json' });
      res.end(answered <= 3 ? '{"code":20429,"status":429}' : '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const waits: number[] = [];
    const client = new TwilioHttpClient({
      apiUrl: `http://127.0.0.1:${port}`,
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
    });
    try {
      const answer = await client.request({ method: 'post', uri, data: { Items: '{}' } });
      expect(answer.statusCode).toBe(201);
    } finally {
      server.close();
    }
    return waits;
  }

  it('an ordinary request backs off from a tenth of a second', async () => {
    expect(await waitsFor(`https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}.json`)).toEqual([
      50, 100, 200,
    ]);
  });

  it('the Consent Management API, limited per minute, backs off from a second', async () => {
    expect(await waitsFor('https://accounts.twilio.com/v1/Consents/Bulk')).toEqual([
      500, 1000, 2000,
    ]);
  });
});

describe('TwilioHttpClient with an API URL: the host it names', () => {
  it("keeps the API URL's own Host (a proxy routes by it, TLS names the server by it) and names the Twilio host apart", async () => {
    const seen: { host?: string; twilio?: string | string[] }[] = [];
    const server = createServer((req, res) => {
      seen.push({ host: req.headers.host, twilio: req.headers['x-twilio-host'] });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = new TwilioHttpClient({ apiUrl: `http://127.0.0.1:${port}` });
    try {
      await client.request({ method: 'get', uri: 'https://messaging.twilio.com/v1/Services' });
    } finally {
      server.close();
    }
    expect(seen).toEqual([{ host: `127.0.0.1:${port}`, twilio: 'messaging.twilio.com' }]);
  });
});
