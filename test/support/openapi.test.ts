import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasSpecifiedBody } from './emulator.js';
import { checkResponse, expectValidResponse, SPEC_DIR } from './openapi.js';

type JsonObject = Record<string, unknown>;

const specs = new Map<string, JsonObject>();

function obj(value: unknown): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`expected an object, got ${JSON.stringify(value)}`);
  }
  return value as JsonObject;
}

function arr(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new Error(`expected an array, got ${JSON.stringify(value)}`);
  return value;
}

/** A deep copy of an example embedded in a spec's response definition. */
function specExample(
  file: string,
  path: string,
  method: string,
  status: number,
  name: string,
): JsonObject {
  let spec = specs.get(file);
  if (!spec) {
    spec = obj(JSON.parse(readFileSync(new URL(file, SPEC_DIR), 'utf8')));
    specs.set(file, spec);
  }
  const response = obj(obj(obj(obj(spec.paths)[path])[method])['responses'])[String(status)];
  const examples = obj(obj(obj(obj(response).content)['application/json']).examples);
  return obj(structuredClone(obj(examples[name]).value));
}

const V2010 = 'twilio_api_v2010.json';
const MESSAGING = 'twilio_messaging_v1.json';
const AC = 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const MESSAGES_URL = `https://api.twilio.com/2010-04-01/Accounts/${AC}/Messages.json?PageSize=2`;
const MESSAGES_OP = 'GET /2010-04-01/Accounts/{AccountSid}/Messages.json 200';

function messageList(): JsonObject {
  return specExample(
    V2010,
    '/2010-04-01/Accounts/{AccountSid}/Messages.json',
    'get',
    200,
    'readFullPage1',
  );
}

function firstMessage(list: JsonObject): JsonObject {
  return obj(arr(list.messages)[0]);
}

describe('checkResponse — api.twilio.com (2010-04-01)', () => {
  it('accepts the spec example of a message list page', () => {
    expect(checkResponse('GET', MESSAGES_URL, 200, messageList())).toEqual({
      ok: true,
      operation: MESSAGES_OP,
      errors: [],
    });
  });

  it('accepts host-relative paging URIs but validates absolute ones elsewhere', () => {
    const list = messageList();
    expect(list.first_page_uri).toMatch(/^\/2010-04-01\//); // `format: uri` in the spec
    list.first_page_uri = 'not a path';
    expect(checkResponse('GET', MESSAGES_URL, 200, list).errors).toEqual([
      '/first_page_uri must match format "twilio-relative-uri"',
    ]);
  });

  it('requires every declared property: a missing price fails and names it', () => {
    const list = messageList();
    delete firstMessage(list).price;
    const result = checkResponse('GET', MESSAGES_URL, 200, list);
    expect(result.ok).toBe(false);
    expect(result.operation).toBe(MESSAGES_OP);
    expect(result.errors).toEqual(["/messages/0 must have required property 'price'"]);
  });

  it('requires every declared property of the list envelope too', () => {
    const list = messageList();
    delete list.next_page_uri;
    expect(checkResponse('GET', MESSAGES_URL, 200, list).errors).toEqual([
      "must have required property 'next_page_uri'",
    ]);
  });

  it('rejects an ISO date where RFC 2822 is specified', () => {
    const list = messageList();
    firstMessage(list).date_sent = '2019-05-24T17:44:50Z';
    expect(checkResponse('GET', MESSAGES_URL, 200, list).errors).toEqual([
      '/messages/0/date_sent must match format "date-time-rfc-2822"',
    ]);
  });

  it('accepts null for nullable properties (plain, with format, and object-typed)', () => {
    const list = messageList();
    const message = firstMessage(list);
    message.price = null;
    message.date_sent = null;
    message.subresource_uris = null;
    expect(checkResponse('GET', MESSAGES_URL, 200, list).errors).toEqual([]);
  });

  it('still checks the type of a non-null value of a nullable property', () => {
    const list = messageList();
    firstMessage(list).price = -0.0075;
    expect(checkResponse('GET', MESSAGES_URL, 200, list).errors).toEqual([
      '/messages/0/price must be string',
    ]);
  });

  it('checks enums (referenced via $ref) and lists the allowed values', () => {
    const list = messageList();
    firstMessage(list).status = 'bogus';
    const [error] = checkResponse('GET', MESSAGES_URL, 200, list).errors;
    expect(error).toMatch(/^\/messages\/0\/status must be equal to one of the allowed values: /);
    expect(error).toContain('"delivered"');
  });

  it('validates a single-message fetch against the {Sid}.json template', () => {
    const message = firstMessage(messageList());
    const url = `https://api.twilio.com/2010-04-01/Accounts/${AC}/Messages/${String(message.sid)}.json`;
    expect(checkResponse('GET', url, 200, message)).toEqual({
      ok: true,
      operation: 'GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json 200',
      errors: [],
    });
  });

  it('prefers the literal template over a {Sid}.json one', () => {
    const url = `https://api.twilio.com/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers/Local.json`;
    expect(checkResponse('GET', url, 200, {}).operation).toBe(
      'GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/Local.json 200',
    );
  });

  describe('incoming phone number capabilities (nested object, nullable)', () => {
    const path = '/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json';
    const url = `https://api.twilio.com/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers/PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json`;

    it("the spec's own fetch example fails: it uses '' for unset URLs and SIDs", () => {
      const errors = checkResponse(
        'GET',
        url,
        200,
        specExample(V2010, path, 'get', 200, 'fetch'),
      ).errors;
      expect(errors).toContain('/sms_url must match format "uri"');
      expect(errors).toContain('/sms_application_sid must match pattern "^AP[0-9a-fA-F]{32}$"');
    });

    /** The fetch example with the '' placeholders replaced by null, as the schema allows. */
    function completeNumber(): JsonObject {
      const number = specExample(V2010, path, 'get', 200, 'fetch');
      for (const [key, value] of Object.entries(number)) if (value === '') number[key] = null;
      return number;
    }

    it('accepts a complete body, including all four capabilities', () => {
      const number = completeNumber();
      expect(Object.keys(obj(number.capabilities)).sort()).toEqual(['fax', 'mms', 'sms', 'voice']);
      expect(checkResponse('GET', url, 200, number).errors).toEqual([]);
    });

    it('requires every declared capability', () => {
      const number = completeNumber();
      delete obj(number.capabilities).fax;
      expect(checkResponse('GET', url, 200, number).errors).toEqual([
        "/capabilities must have required property 'fax'",
      ]);
    });

    it('accepts null capabilities', () => {
      const number = completeNumber();
      number.capabilities = null;
      expect(checkResponse('GET', url, 200, number).errors).toEqual([]);
    });
  });
});

describe('checkResponse — messaging.twilio.com (v1)', () => {
  const SERVICE_SID = 'MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const serviceUrl = `https://messaging.twilio.com/v1/Services/${SERVICE_SID}`;

  function service(): JsonObject {
    return specExample(MESSAGING, '/v1/Services/{Sid}', 'get', 200, 'fetch');
  }

  it('accepts the spec example of a service fetch', () => {
    expect(checkResponse('GET', serviceUrl, 200, service())).toEqual({
      ok: true,
      operation: 'GET /v1/Services/{Sid} 200',
      errors: [],
    });
  });

  it('keeps `format: uri` strict (absolute URI) for v1 URLs', () => {
    const body = service();
    body.inbound_request_url = '/relative';
    expect(checkResponse('GET', serviceUrl, 200, body).errors).toEqual([
      '/inbound_request_url must match format "uri"',
    ]);
  });

  it('checks ISO date-times strictly', () => {
    const body = service();
    body.date_created = 'Thu, 30 Jul 2015 20:12:31 +0000';
    expect(checkResponse('GET', serviceUrl, 200, body).errors).toEqual([
      '/date_created must match format "date-time"',
    ]);
  });

  it('requires every key of the list envelope meta object', () => {
    const list = specExample(MESSAGING, '/v1/Services', 'get', 200, 'readFull');
    const url = 'https://messaging.twilio.com/v1/Services?PageSize=50';
    expect(checkResponse('GET', url, 200, list).errors).toEqual([]);
    delete obj(list.meta).key;
    expect(checkResponse('GET', url, 200, list).errors).toEqual([
      "/meta must have required property 'key'",
    ]);
  });
});

describe('checkResponse — bulkexports.twilio.com (v1)', () => {
  const DAY_URL = 'https://bulkexports.twilio.com/v1/Exports/Messages/Days/2025-02-28';

  it('validates the 307 redirect body the spec declares', () => {
    const storage = 'http://127.0.0.1:4010/__storage/bulkexports/AC1/Messages/2025-02-28.json.gz';
    expect(checkResponse('GET', DAY_URL, 307, { redirect_to: storage }).ok).toBe(true);
    const missing = checkResponse('GET', DAY_URL, 307, {});
    expect(missing.ok).toBe(false);
    expect(missing.errors.join('\n')).toContain('redirect_to');
    expect(checkResponse('GET', DAY_URL, 307, { redirect_to: 'not a url' }).ok).toBe(false);
  });

  it('fails a 307 where the operation declares none', () => {
    const check = checkResponse('GET', 'https://bulkexports.twilio.com/v1/Exports/Jobs/JS1', 307, {
      redirect_to: 'http://127.0.0.1/x',
    });
    expect(check.ok).toBe(false);
    expect(check.errors.join('\n')).toContain('no 307 response');
  });
});

describe('hasSpecifiedBody: which answers the validating client checks', () => {
  it('is every 2xx with a body, and 307', () => {
    expect([200, 201, 202, 307].map(hasSpecifiedBody)).toEqual([true, true, true, true]);
    expect([204, 301, 302, 304, 400, 404, 429, 500].map(hasSpecifiedBody)).toEqual(
      Array(8).fill(false),
    );
  });
});

describe('checkResponse — what is not in the spec', () => {
  it('fails an unknown path', () => {
    const result = checkResponse('GET', 'https://api.twilio.com/2010-04-01/Nope.json', 200, {});
    expect(result.ok).toBe(false);
    expect(result.operation).toBeNull();
    expect(result.errors[0]).toMatch(/no path in the spec .* matches \/2010-04-01\/Nope\.json/);
  });

  it('fails an unknown host', () => {
    const result = checkResponse('GET', 'https://example.com/v1/Services', 200, {});
    expect(result).toMatchObject({ ok: false, operation: null });
    expect(result.errors[0]).toContain('example.com');
  });

  it('fails a method the path does not define', () => {
    const result = checkResponse('PUT', MESSAGES_URL, 200, messageList());
    expect(result).toMatchObject({ ok: false, operation: null });
    expect(result.errors[0]).toContain('no PUT operation');
  });

  it('fails a status the operation does not document', () => {
    const result = checkResponse('GET', MESSAGES_URL, 201, messageList());
    expect(result).toMatchObject({ ok: false, operation: null });
    expect(result.errors[0]).toMatch(
      /no 201 response for GET .*Messages\.json \(documented: 200\)/,
    );
  });

  it('accepts an empty body for a documented 204 and rejects a non-empty one', () => {
    const url = `https://api.twilio.com/2010-04-01/Accounts/${AC}/Messages/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json`;
    const operation = 'DELETE /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json 204';
    expect(checkResponse('DELETE', url, 204, undefined)).toEqual({
      ok: true,
      operation,
      errors: [],
    });
    expect(checkResponse('DELETE', url, 204, { sid: 'x' })).toMatchObject({
      ok: false,
      operation,
    });
  });
});

describe('expectValidResponse', () => {
  it('passes silently for a valid response', () => {
    expect(() => expectValidResponse('GET', MESSAGES_URL, 200, messageList())).not.toThrow();
  });

  it('throws listing every error', () => {
    const list = messageList();
    delete firstMessage(list).price;
    firstMessage(list).date_sent = 'yesterday';
    expect(() => expectValidResponse('GET', MESSAGES_URL, 200, list)).toThrow(
      [
        `response does not match the Twilio OpenAPI spec (${MESSAGES_OP}):`,
        "  - /messages/0 must have required property 'price'",
        '  - /messages/0/date_sent must match format "date-time-rfc-2822"',
      ].join('\n'),
    );
  });
});

describe('the pinned copy of the specs', () => {
  it('is byte for byte the revision test/twilio-oai/SHA256SUMS records', async () => {
    const { createHash } = await import('node:crypto');
    const sums = readFileSync(new URL('SHA256SUMS', SPEC_DIR), 'utf8').trim().split('\n');
    expect(sums.length).toBe(5);
    for (const line of sums) {
      const [sum, file] = line.split(/\s+/);
      const bytes = readFileSync(new URL(file!, SPEC_DIR));
      expect(createHash('sha256').update(bytes).digest('hex'), file).toBe(sum);
    }
  });
});
