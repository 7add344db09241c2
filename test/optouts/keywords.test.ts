import { describe, expect, it } from 'vitest';

import {
  isTollFree,
  KEYWORD_LISTS,
  matchKeyword,
  type KeywordKind,
} from '../../src/optouts/keywords.js';

type Expected = { keyword: string; kind: KeywordKind } | null;

const optOut = (keyword: string): Expected => ({ keyword, kind: 'opt-out' });
const optIn = (keyword: string): Expected => ({ keyword, kind: 'opt-in' });
const help = (keyword: string): Expected => ({ keyword, kind: 'help' });

/** Every keyword in upper, lower, title and alternating case. */
function casings(word: string): string[] {
  const lower = word.toLowerCase();
  const title = word.charAt(0) + lower.slice(1);
  const alternating = [...lower].map((c, i) => (i % 2 === 1 ? c.toUpperCase() : c)).join('');
  return [...new Set([word, lower, title, alternating])];
}

const allKeywords = (Object.entries(KEYWORD_LISTS) as [KeywordKind, readonly string[]][]).flatMap(
  ([kind, words]) => words.map((word) => ({ kind, word })),
);

describe('KEYWORD_LISTS', () => {
  it('holds exactly the documented lists', () => {
    expect(KEYWORD_LISTS).toEqual({
      'opt-out': ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'],
      'opt-in': ['START', 'YES', 'UNSTOP'],
      help: ['HELP', 'INFO'],
    });
  });
});

describe('matchKeyword: every keyword in every case', () => {
  const cases = allKeywords.flatMap(({ kind, word }) =>
    casings(word).map((body) => ({ body, kind, word })),
  );

  it.each(cases)('$body on a local number → $kind $word', ({ body, kind, word }) => {
    expect(matchKeyword(body, false)).toEqual({ keyword: word, kind });
  });

  it.each(cases.filter(({ word }) => word !== 'YES'))(
    '$body on a toll-free number → $kind $word',
    ({ body, kind, word }) => {
      expect(matchKeyword(body, true)).toEqual({ keyword: word, kind });
    },
  );
});

describe('matchKeyword: bodies', () => {
  const table: { name: string; body: string; tollFree: boolean; expected: Expected }[] = [
    { name: 'bare STOP', body: 'STOP', tollFree: false, expected: optOut('STOP') },
    { name: 'lower stop', body: 'stop', tollFree: false, expected: optOut('STOP') },
    { name: 'title Stop', body: 'Stop', tollFree: false, expected: optOut('STOP') },
    { name: 'mixed sToP', body: 'sToP', tollFree: false, expected: optOut('STOP') },
    {
      name: 'leading/trailing spaces',
      body: '  stop  ',
      tollFree: false,
      expected: optOut('STOP'),
    },
    { name: 'tabs', body: '\tStop\t', tollFree: false, expected: optOut('STOP') },
    { name: 'trailing newline', body: 'STOP\n', tollFree: false, expected: optOut('STOP') },
    { name: 'CRLF', body: '\r\nstop\r\n', tollFree: false, expected: optOut('STOP') },
    {
      name: 'non-breaking space',
      body: '\u00a0STOP\u00a0',
      tollFree: false,
      expected: optOut('STOP'),
    },
    {
      name: 'ideographic space',
      body: '\u3000stop\u3000',
      tollFree: false,
      expected: optOut('STOP'),
    },
    {
      name: 'mixed whitespace',
      body: ' \t\r\n\u00a0UnSubScribe \u3000\n',
      tollFree: false,
      expected: optOut('UNSUBSCRIBE'),
    },
    { name: 'OPTOUT', body: 'OPTOUT', tollFree: false, expected: optOut('OPTOUT') },
    { name: 'optout', body: 'optout', tollFree: true, expected: optOut('OPTOUT') },
    { name: 'REVOKE', body: 'REVOKE', tollFree: false, expected: optOut('REVOKE') },
    { name: 'revoke on toll-free', body: ' revoke ', tollFree: true, expected: optOut('REVOKE') },
    { name: 'STOPALL', body: 'StopAll', tollFree: false, expected: optOut('STOPALL') },
    { name: 'STOP PLEASE', body: 'STOP PLEASE', tollFree: false, expected: null },
    { name: 'OPT OUT with a space', body: 'OPT OUT', tollFree: false, expected: null },
    { name: 'stop.', body: 'stop.', tollFree: false, expected: null },
    { name: 'Stop!', body: 'Stop!', tollFree: false, expected: null },
    { name: 'quoted "STOP"', body: '"STOP"', tollFree: false, expected: null },
    { name: 'S TOP', body: 'S TOP', tollFree: false, expected: null },
    { name: 'STOP STOP', body: 'STOP STOP', tollFree: false, expected: null },
    {
      name: 'STOP inside a sentence',
      body: 'please stop texting me',
      tollFree: false,
      expected: null,
    },
    { name: 'empty body', body: '', tollFree: false, expected: null },
    { name: 'spaces only', body: '   ', tollFree: false, expected: null },
    { name: 'whitespace only', body: ' \t\r\n\u00a0\u3000', tollFree: true, expected: null },
    { name: 'YES on a local number', body: 'YES', tollFree: false, expected: optIn('YES') },
    { name: 'yes on a local number', body: ' yes\n', tollFree: false, expected: optIn('YES') },
    { name: 'YES on a toll-free number', body: 'YES', tollFree: true, expected: null },
    { name: 'Yes on a toll-free number', body: ' Yes ', tollFree: true, expected: null },
    {
      name: 'START on a toll-free number',
      body: 'START',
      tollFree: true,
      expected: optIn('START'),
    },
    {
      name: 'unstop on a toll-free number',
      body: 'unstop',
      tollFree: true,
      expected: optIn('UNSTOP'),
    },
    { name: 'START on a local number', body: 'Start', tollFree: false, expected: optIn('START') },
    { name: 'HELP', body: 'HELP', tollFree: false, expected: help('HELP') },
    { name: 'info on toll-free', body: '\tinfo\r\n', tollFree: true, expected: help('INFO') },
    { name: 'YES PLEASE', body: 'YES PLEASE', tollFree: false, expected: null },
    { name: 'not a keyword', body: 'hello', tollFree: false, expected: null },
    // Bodies that upper-case onto a keyword only through letters outside ASCII (long s,
    // the st ligature, dotless i): ambiguous, so they keep a person on the list, never lift.
    { name: 'ſtop (long s)', body: 'ſtop', tollFree: false, expected: optOut('STOP') },
    { name: 'ﬆop (st ligature)', body: ' ﬆop ', tollFree: false, expected: optOut('STOP') },
    { name: 'ſtart (long s)', body: 'ſtart', tollFree: false, expected: null },
    { name: 'ﬆart (st ligature)', body: 'ﬆart', tollFree: false, expected: null },
    { name: 'unſtop', body: 'unſtop', tollFree: true, expected: null },
    { name: 'unﬆop', body: '\tunﬆop', tollFree: false, expected: null },
    { name: 'yeſ', body: 'yeſ', tollFree: false, expected: null },
    { name: 'ınfo (dotless i)', body: 'ınfo', tollFree: false, expected: null },
    // Compatibility forms (full-width from a CJK keyboard, mathematical bold, circled) fold
    // onto a keyword under NFKC: also ambiguous, so also opt-outs only.
    { name: 'fullwidth ＳＴＯＰ', body: 'ＳＴＯＰ', tollFree: false, expected: optOut('STOP') },
    {
      name: 'fullwidth ｓｔｏｐ',
      body: '\u3000ｓｔｏｐ\u3000',
      tollFree: true,
      expected: optOut('STOP'),
    },
    {
      name: 'fullwidth ＵＮＳＵＢＳＣＲＩＢＥ',
      body: 'ＵＮＳＵＢＳＣＲＩＢＥ',
      tollFree: false,
      expected: optOut('UNSUBSCRIBE'),
    },
    { name: 'bold 𝐒𝐓𝐎𝐏', body: '𝐒𝐓𝐎𝐏', tollFree: false, expected: optOut('STOP') },
    { name: 'circled Ⓢⓣⓞⓟ', body: 'Ⓢⓣⓞⓟ', tollFree: false, expected: optOut('STOP') },
    { name: 'fullwidth ＳＴＡＲＴ', body: 'ＳＴＡＲＴ', tollFree: false, expected: null },
    { name: 'fullwidth ＵＮＳＴＯＰ', body: 'ＵＮＳＴＯＰ', tollFree: false, expected: null },
    { name: 'fullwidth ＨＥＬＰ', body: 'ＨＥＬＰ', tollFree: false, expected: null },
    { name: 'fullwidth ＳＴＯＰ！', body: 'ＳＴＯＰ！', tollFree: false, expected: null },
    {
      name: 'fullwidth ＳＴＯＰ ＰＬＥＡＳＥ',
      body: 'ＳＴＯＰ ＰＬＥＡＳＥ',
      tollFree: false,
      expected: null,
    },
    // Characters that show nothing, in or around a keyword (a zero-width space pasted in, the
    // marks a right-to-left keyboard adds, next line): ambiguous, so opt-outs only.
    {
      name: 'STOP + zero-width space',
      body: 'STOP\u200b',
      tollFree: false,
      expected: optOut('STOP'),
    },
    { name: 'RLM + stop', body: '\u200fstop', tollFree: false, expected: optOut('STOP') },
    { name: 'LRM stop LRM', body: '\u200eStop\u200e', tollFree: true, expected: optOut('STOP') },
    { name: 'STOP + next line', body: 'STOP\u0085', tollFree: false, expected: optOut('STOP') },
    {
      name: 'soft hyphen in UNSUB­SCRIBE',
      body: 'UNSUB\u00adSCRIBE',
      tollFree: false,
      expected: optOut('UNSUBSCRIBE'),
    },
    {
      name: 'BOM + word joiner + QUIT',
      body: '\ufeff\u2060QUIT',
      tollFree: false,
      expected: optOut('QUIT'),
    },
    {
      name: 'ＳＴＯＰ + variation selector',
      body: 'ＳＴＯＰ\ufe0f',
      tollFree: false,
      expected: optOut('STOP'),
    },
    {
      name: 'Hangul filler, braille blank, grapheme joiner',
      body: '\u3164ST\u034fOP\u2800',
      tollFree: false,
      expected: optOut('STOP'),
    },
    // A Turkish keyboard's dotted capital I (the dotless ı upper-cases to I already).
    { name: 'Turkish QUİT', body: 'QUİT', tollFree: false, expected: optOut('QUIT') },
    {
      name: 'Turkish UNSUBSCRİBE',
      body: 'UNSUBSCRİBE',
      tollFree: false,
      expected: optOut('UNSUBSCRIBE'),
    },
    {
      name: 'qui + combining dot + t',
      body: 'qui\u0307t',
      tollFree: false,
      expected: optOut('QUIT'),
    },
    { name: 'Turkish quıt', body: 'quıt', tollFree: false, expected: optOut('QUIT') },
    { name: 'Turkish İNFO', body: 'İNFO', tollFree: false, expected: null },
    { name: 'START + zero-width space', body: 'START\u200b', tollFree: false, expected: null },
    { name: 'RLM + unstop', body: '\u200fUNSTOP', tollFree: true, expected: null },
    { name: 'HELP + zero-width space', body: 'HELP\u200b', tollFree: false, expected: null },
    {
      name: 'STOP + zero-width space + PLEASE',
      body: 'STOP\u200b PLEASE',
      tollFree: false,
      expected: null,
    },
  ];

  it('has at least 30 bodies', () => {
    expect(table.length).toBeGreaterThanOrEqual(30);
  });

  it.each(table)('$name', ({ body, tollFree, expected }) => {
    expect(matchKeyword(body, tollFree)).toEqual(expected);
  });

  it('returns the keyword upper-case and trimmed, never the body as sent', () => {
    const match = matchKeyword('\u00a0\t uNsToP \r\n', false);
    expect(match?.keyword).toBe('UNSTOP');
    expect(match?.keyword).toBe(match?.keyword.trim().toUpperCase());
  });
});

describe('isTollFree', () => {
  it.each(['800', '833', '844', '855', '866', '877', '888'])('+1%s… is toll-free', (code) => {
    expect(isTollFree(`+1${code}5550100`)).toBe(true);
    expect(isTollFree(`+1${code}5550100`, null)).toBe(true);
  });

  it.each([
    '+14155550100', // San Francisco
    '+18005550', // too short
    '+180055501000', // too long
    '+448005550100', // UK freephone is not NANP toll-free
    '18005550100', // not E.164
  ])('%s is not toll-free', (phoneNumber) => {
    expect(isTollFree(phoneNumber)).toBe(false);
  });

  it.each(['toll-free', 'tollfree', 'Toll-Free', 'TOLLFREE'])(
    'a reported type %s makes any number toll-free',
    (type) => {
      expect(isTollFree('+14155550100', type)).toBe(true);
    },
  );

  it.each(['local', 'mobile', 'short-code'])('a reported type %s does not', (type) => {
    expect(isTollFree('+14155550100', type)).toBe(false);
  });

  it('the prefix still counts when the reported type says otherwise', () => {
    expect(isTollFree('+18885550100', 'local')).toBe(true);
  });
});
