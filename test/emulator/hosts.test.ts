/**
 * Each Twilio product lives on its own host (reference/twilio-api.md §1 "Hosts": 2010 API on
 * `api.twilio.com`, Messaging v1 on `messaging.twilio.com`, Bulk Export on
 * `bulkexports.twilio.com`; §2 C1: the Consent Management API on `accounts.twilio.com`). The
 * emulator serves them all on one origin, so it answers as the host the request was meant for
 * (§10.1: "keeping the host information in a header"): a path asked of the wrong host is a
 * 404, as at Twilio, and a client that builds a URL on the wrong host fails here too, not
 * first in production.
 */

import { describe, expect, it } from 'vitest';

import { useEmulator } from '../support/emulator.js';

describe('Twilio hosts', () => {
  const env = useEmulator();

  /** A GET through submigrate's http client (the rewrite to the emulator included). */
  const get = (uri: string) =>
    env.httpClient.request({
      method: 'get',
      uri,
      username: env.parentSid,
      password: env.parentToken,
    });

  it('serves each product on its own host', async () => {
    expect((await get('https://messaging.twilio.com/v1/Services')).statusCode).toBe(200);
    expect((await get('https://api.twilio.com/2010-04-01/Accounts.json')).statusCode).toBe(200);
    expect((await get('https://bulkexports.twilio.com/v1/Exports/Messages/Days')).statusCode).toBe(
      200,
    );
  });

  it('answers 404 / 20404 for a path asked of another product’s host', async () => {
    for (const uri of [
      'https://api.twilio.com/v1/Services',
      'https://messaging.twilio.com/2010-04-01/Accounts.json',
      'https://messaging.twilio.com/v1/Exports/Messages/Days',
      'https://bulkexports.twilio.com/v1/Services',
      'https://api.twilio.com/v1/Exports/Messages/Days',
    ]) {
      const answer = await get(uri);
      expect({ uri, status: answer.statusCode, body: answer.body }).toMatchObject({
        uri,
        status: 404,
        body: { status: 404, code: 20404 },
      });
    }
  });

  it('writes nothing when a write goes to the wrong host', async () => {
    const answer = await env.httpClient.request({
      method: 'post',
      uri: 'https://api.twilio.com/v1/Services',
      username: env.parentSid,
      password: env.parentToken,
      data: { FriendlyName: 'wrong host' },
    });
    expect(answer.statusCode).toBe(404);
    expect((await env.state()).services).toEqual([]);
  });

  it('serves any path to a request made to its own address, as before', async () => {
    const response = await fetch(`${env.url}/v1/Services`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${env.parentSid}:${env.parentToken}`).toString('base64')}`,
      },
    });
    expect(response.status).toBe(200);
  });
});
