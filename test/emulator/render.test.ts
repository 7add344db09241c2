import { describe, expect, it } from 'vitest';

import type { NumberRecord } from '../../src/emulator/records.js';
import { iso8601, numberJson, renderNumber, rfc2822 } from '../../src/emulator/render.js';
import {
  DEFAULT_NUMBER_SETTINGS,
  NUMBER_FIELDS,
  readFormFields,
  readSeedFields,
} from '../../src/emulator/resource-settings.js';

describe('emulator date formats', () => {
  it.each([
    0,
    Date.UTC(2015, 6, 30, 20, 0, 0),
    Date.UTC(2024, 1, 29, 23, 59, 59),
    Date.UTC(1999, 11, 31, 1, 2, 3),
    Date.UTC(2026, 10, 28, 9, 5, 7),
  ])('writes RFC 2822 exactly as Date#toUTCString would, with +0000 (%i)', (ms) => {
    expect(rfc2822(ms)).toBe(new Date(ms).toUTCString().replace(/GMT$/, '+0000'));
  });

  it('matches the shape Twilio documents', () => {
    expect(rfc2822(Date.UTC(2015, 6, 30, 20, 0, 0))).toBe('Thu, 30 Jul 2015 20:00:00 +0000');
    expect(iso8601(Date.UTC(2015, 6, 30, 20, 12, 31))).toBe('2015-07-30T20:12:31Z');
  });
});

describe('emulator number JSON, kept between requests', () => {
  const record = (): NumberRecord => ({
    sid: `PN${'1'.repeat(32)}`,
    accountSid: `AC${'a'.repeat(32)}`,
    phoneNumber: '+14155550100',
    friendlyName: '(415) 555-0100',
    type: 'local',
    settings: { ...DEFAULT_NUMBER_SETTINGS },
    serviceSid: null,
    serviceJoinedAt: null,
    dateCreated: Date.UTC(2026, 0, 1),
    dateUpdated: Date.UTC(2026, 0, 1),
  });
  const json = (n: NumberRecord) => JSON.parse(numberJson(n).toString()) as Record<string, unknown>;

  it('is the rendered number, and the same bytes while nothing changes', () => {
    const number = record();
    expect(json(number)).toEqual(renderNumber(number));
    expect(numberJson(number)).toBe(numberJson(number));
  });

  it('is made again after any change, even one that leaves date_updated as it was', () => {
    const number = record();
    numberJson(number);
    number.settings.sms_url = 'https://app.example.com/sms';
    expect(json(number)['sms_url']).toBe('https://app.example.com/sms');
    number.accountSid = `AC${'b'.repeat(32)}`;
    expect(json(number)['account_sid']).toBe(number.accountSid);
    number.friendlyName = 'Front desk';
    expect(json(number)['friendly_name']).toBe('Front desk');
    number.dateCreated = Date.UTC(2020, 0, 1);
    expect(json(number)['date_created']).toBe(rfc2822(Date.UTC(2020, 0, 1)));
    expect(json(number)).toEqual(renderNumber(number));
  });
});

describe("a number's TwiML App SIDs, read as Twilio's spec reads them", () => {
  // The 2010 spec's pattern for SmsApplicationSid / VoiceApplicationSid: ^AP[0-9a-fA-F]{32}$.
  const UPPER = `AP${'A1'.repeat(16)}`;

  it('takes hex digits in either case, from a form and from a seed', () => {
    const form = new URLSearchParams({ SmsApplicationSid: UPPER, VoiceApplicationSid: '' });
    expect(readFormFields(NUMBER_FIELDS, form)).toMatchObject({
      sms_application_sid: UPPER,
      voice_application_sid: null,
    });
    expect(
      readSeedFields(NUMBER_FIELDS, { voice_application_sid: UPPER }, 'numbers[0]'),
    ).toMatchObject({ voice_application_sid: UPPER });
  });

  it('refuses one that is not an AP SID', () => {
    for (const bad of ['AP123', `PN${'a1'.repeat(16)}`, `AP${'g1'.repeat(16)}`]) {
      expect(() =>
        readFormFields(NUMBER_FIELDS, new URLSearchParams({ SmsApplicationSid: bad })),
      ).toThrow(/Invalid SmsApplicationSid/);
    }
  });
});
