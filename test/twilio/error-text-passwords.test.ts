/**
 * A webhook URL may carry HTTP basic-auth credentials (`https://user:password@host/sms`), and
 * an error Twilio answers about such a URL quotes it, password and all. The password is masked
 * where Twilio's error text enters the tool (the TwilioError, and a Consent API item's
 * error_messages), before stderr, the journal's error_message or audit.csv can see it.
 */

import { describe, expect, it } from 'vitest';

import { maskUrlPasswords, TwilioError } from '../../src/errors.js';
import { toTwilioError } from '../../src/twilio/error-mapping.js';
import { twilioFailure, useEmulator } from '../support/emulator.js';

const PASSWORD = 'Hook5ecret';

describe('maskUrlPasswords', () => {
  it.each([
    [
      `Invalid SmsUrl: ftp://owlie:${PASSWORD}@hooks.example/sms`,
      'Invalid SmsUrl: ftp://owlie:***@hooks.example/sms',
    ],
    [
      `The URL 'https://owlie:${PASSWORD}@hooks.example:8443/a?b=c' is not valid.`,
      "The URL 'https://owlie:***@hooks.example:8443/a?b=c' is not valid.",
    ],
    // Read as a URL parser reads it: the password ends at the last "@" of the authority.
    [`https://owlie:p@ss:${PASSWORD}@hooks.example/sms`, 'https://owlie:***@hooks.example/sms'],
    // An unencoded "/" or "#" in the password: a URL Twilio would refuse, and quote.
    [`"https://owlie:${PASSWORD}/x#y@hooks.example/sms"`, '"https://owlie:***@hooks.example/sms"'],
    // Every URL in the text, and one inside another's query.
    [
      `a https://u:${PASSWORD}@one.example/x and http://v:${PASSWORD}@two.example`,
      'a https://u:***@one.example/x and http://v:***@two.example',
    ],
    [
      `https://app.example/cb?next=https://u:${PASSWORD}@three.example/x`,
      'https://app.example/cb?next=https://u:***@three.example/x',
    ],
  ])('%s', (text, shown) => {
    expect(maskUrlPasswords(text)).toBe(shown);
    expect(maskUrlPasswords(text)).not.toContain(PASSWORD);
  });

  // A password holding a character that ends a URL's authority (Twilio's error text quotes
  // the URL as it was given, unencoded), and a URL percent-encoded inside another one's query.
  it.each([
    // A space: the password runs on to the "@" of the next word.
    [
      `Invalid SmsUrl: https://owlie:my ${PASSWORD}@hooks.example/sms`,
      'Invalid SmsUrl: https://owlie:***@hooks.example/sms',
    ],
    [
      `The URL 'https://owlie:my ${PASSWORD} x@hooks.example/sms' is not valid.`,
      "The URL 'https://owlie:***@hooks.example/sms' is not valid.",
    ],
    // Quoted whole, a password may hold a space and an "@": it ends at the authority's last "@".
    [`"https://owlie:a@b ${PASSWORD}@hooks.example/sms"`, '"https://owlie:***@hooks.example/sms"'],
    [`<https://owlie:a@b ${PASSWORD}@hooks.example/sms>`, '<https://owlie:***@hooks.example/sms>'],
    // "#", "?", "/" and "@", each alone, unquoted and at the end of the text.
    [`https://owlie:${PASSWORD}#1@hooks.example/sms`, 'https://owlie:***@hooks.example/sms'],
    [`https://owlie:${PASSWORD}?1@hooks.example/sms`, 'https://owlie:***@hooks.example/sms'],
    [`https://owlie:${PASSWORD}/1@hooks.example/sms`, 'https://owlie:***@hooks.example/sms'],
    [`https://owlie:${PASSWORD}@1@hooks.example`, 'https://owlie:***@hooks.example'],
    [`https://owlie:/${PASSWORD}@hooks.example/sms`, 'https://owlie:***@hooks.example/sms'],
    // Percent-encoded, in either case, alone or in another URL's query.
    [
      `https%3A%2F%2Fowlie%3A${PASSWORD}%40hooks.example%2Fsms`,
      'https%3A%2F%2Fowlie%3A***%40hooks.example%2Fsms',
    ],
    [
      `https://app.example/cb?next=https%3a%2f%2fowlie%3a${PASSWORD}%40hooks.example&x=1`,
      'https://app.example/cb?next=https%3a%2f%2fowlie%3a***%40hooks.example&x=1',
    ],
    [
      `next=https%3A%2F%2Fowlie%3Amy%20${PASSWORD}%2F1%40hooks.example%2Fsms`,
      'next=https%3A%2F%2Fowlie%3A***%40hooks.example%2Fsms',
    ],
    // A URL encoded twice (in the query of a URL that is itself in another's query), or three
    // times: read as decoded as often as it takes.
    [
      `next=https%253A%252F%252Fowlie%253A${PASSWORD}%2540hooks.example%252Fsms`,
      'next=https%253A%252F%252Fowlie%253A***%2540hooks.example%252Fsms',
    ],
    [
      `next=https%25253A%25252F%25252Fowlie%25253A${PASSWORD}%252540hooks.example`,
      'next=https%25253A%25252F%25252Fowlie%25253A***%252540hooks.example',
    ],
    // A password that begins with digits, then a space: not a port, the word after it ends
    // in "@" and a host. Quoted and not.
    [
      `The URL 'https://owlie:2024 ${PASSWORD}@hooks.example/sms' is not valid.`,
      "The URL 'https://owlie:***@hooks.example/sms' is not valid.",
    ],
    [`"https://owlie:2024 @hooks.example/sms"`, '"https://owlie:***@hooks.example/sms"'],
    [
      `Invalid SmsUrl: https://owlie:8443 ${PASSWORD}@hooks.example:8443/sms`,
      'Invalid SmsUrl: https://owlie:***@hooks.example:8443/sms',
    ],
    // A valid URL whose password is percent-encoded, beginning with digits: the "%20" or
    // "%2F" in it is part of the password, not the end of a port.
    [
      `Invalid SmsUrl: https://owlie:2024%20${PASSWORD}@hooks.example/sms`,
      'Invalid SmsUrl: https://owlie:***@hooks.example/sms',
    ],
    [
      `Invalid SmsUrl: https://owlie:8%2F${PASSWORD}@hooks.example/sms`,
      'Invalid SmsUrl: https://owlie:***@hooks.example/sms',
    ],
  ])('masks a password an authority cannot hold: %s', (text, shown) => {
    expect(maskUrlPasswords(text)).toBe(shown);
    expect(maskUrlPasswords(text)).not.toContain(PASSWORD);
  });

  it.each([
    'The requested resource /2010-04-01/Accounts/AC1/IncomingPhoneNumbers/PN1.json was not found',
    'https://hooks.example/sms is unreachable',
    'https://owlie@hooks.example/sms (a user alone)',
    'https://hooks.example:8443/sms, https://www.twilio.com/docs/errors/21610',
    'write to ops@example.com: https://hooks.example/sms',
    // A port, then a path or text holding an "@": not a password.
    'https://hooks.example:8443/x@y',
    'https://hooks.example:8443/sms failed; write to ops@example.com',
    "'https://hooks.example:8443/sms' failed; write to ops@example.com",
    "'https://hooks.example:8443 (write to ops@example.com)'",
    'http://[::1]:8080/sms failed; write to ops@example.com',
    'https://ops@hooks.example:8443/sms (a user alone, and a port)',
    'https%3A%2F%2Fhooks.example%3A8443%2Fsms%40x, 100% sure, 50%3A50',
    'https://hooks.example/a:b@c and https://hooks.example/?u=a:b@c',
    // A port, a space, then text: more than one word, or an address not ending the word.
    "'https://hooks.example:8443 failed; write to ops@example.com'",
    'https://hooks.example:8443 (ops@example.com)',
    'https://hooks.example:8443 ops@example.com, or call',
    // A URL with no path, then a colon and a space: the text goes on, no password begins.
    'Invalid URL https://hooks.example: timed out; write to ops@example.com',
    "'https://hooks.example: timed out; write to ops@example.com'",
  ])('leaves text with no password as it is: %s', (text) => {
    expect(maskUrlPasswords(text)).toBe(text);
  });
});

describe('a Twilio error quoting a webhook URL with a password', () => {
  // Only error answers here: no success body to hold to the schema.
  const env = useEmulator({ checkSchema: false });

  it('the emulator quotes the URL it refuses; the TwilioError shows it masked', async () => {
    const { numbers } = await env.seed({ numbers: [{ phone_number: '+14155550101' }] });
    const numberSid = numbers[0]!.sid;
    const url = `ftp://owlie:${PASSWORD}@hooks.example/sms`;
    // As Twilio answers it: the URL whole, password included.
    const raw = await twilioFailure(
      env.parent.api.v2010
        .accounts(env.parentSid)
        .incomingPhoneNumbers(numberSid)
        .update({ smsUrl: url }),
    );
    expect(raw.message).toContain(PASSWORD);

    const failure = await env
      .port()
      .setNumberWebhook(env.parentSid, numberSid, {
        smsUrl: url,
        smsMethod: 'POST',
        smsFallbackUrl: null,
        smsFallbackMethod: null,
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(TwilioError);
    const error = failure as TwilioError;
    expect(error.status).toBe(400);
    expect(error.message).toBe('Invalid SmsUrl: ftp://owlie:***@hooks.example/sms');
    expect(String(error.stack)).not.toContain(PASSWORD);
  });

  it('masks whatever builds the TwilioError: the SDK error mapping, and the constructor', () => {
    const sdkError = Object.assign(new Error(`Invalid SmsUrl: https://o:${PASSWORD}@h.example/`), {
      status: 400,
      code: 20001,
      moreInfo: `https://www.twilio.com/docs/errors/20001?u=https://o:${PASSWORD}@h.example`,
    });
    const mapped = toTwilioError(sdkError, false) as TwilioError;
    expect(mapped.message).toBe('Invalid SmsUrl: https://o:***@h.example/');
    expect(mapped.moreInfo).not.toContain(PASSWORD);
  });
});
