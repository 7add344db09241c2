/**
 * `--since`/`--until` take a date (00:00:00 UTC) or an ISO 8601 datetime with its offset, and
 * nothing else: Date.parse alone rolled an impossible date over, read a bare number as a year,
 * and a datetime without an offset in the machine's time zone.
 */

import { afterEach, describe, expect, it } from 'vitest';

import { parseInstant } from '../../src/cli/runtime.js';

describe('parseInstant', () => {
  const tz = process.env['TZ'];
  afterEach(() => {
    if (tz === undefined) delete process.env['TZ'];
    else process.env['TZ'] = tz;
  });

  it.each([
    ['2025-01-31', '2025-01-31T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2025-01-31T12:00:00Z', '2025-01-31T12:00:00.000Z'],
    ['2025-01-31T12:00Z', '2025-01-31T12:00:00.000Z'],
    ['2025-01-31T12:00:00.250z', '2025-01-31T12:00:00.250Z'],
    ['2025-01-31T12:00:00+02:00', '2025-01-31T10:00:00.000Z'],
    ['2025-01-31T23:30:00-05:30', '2025-02-01T05:00:00.000Z'],
  ])('reads %s as %s, whatever the time zone', (value, iso) => {
    process.env['TZ'] = 'America/New_York';
    expect(parseInstant('since', value)?.toISOString()).toBe(iso);
  });

  it.each([
    ['2025-02-30', /not a date on the calendar/],
    ['2025-02-29', /not a date on the calendar/],
    ['2025-13-01', /not a date on the calendar/],
    ['2025-01-31T24:00:00Z', /not a time of day/],
    ['2025-01-31T12:00:00+02:75', /not a time of day/],
    ['1', /is not a date or an ISO 8601 datetime/],
    ['31 Jan 2025', /is not a date or an ISO 8601 datetime/],
    ['2025-01-31T12:00:00', /has no time zone offset/],
    ['2025-1-31', /is not a date or an ISO 8601 datetime/],
  ])('refuses %s, naming the flag', (value, why) => {
    expect(() => parseInstant('until', value)).toThrow(/^--until: /);
    expect(() => parseInstant('until', value)).toThrow(why);
  });

  it('is null when the flag is not given', () => {
    expect(parseInstant('since', undefined)).toBeNull();
  });
});
