import { describe, expect, it } from 'vitest';

import { iso8601, rfc2822 } from '../../src/emulator/render.js';

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
