/**
 * submigrate's keyword rules (docs/opt-out-rules.md): a keyword message is an inbound message whose
 * whole body, trimmed of whitespace and compared case-insensitively, is a keyword.
 * `STOP PLEASE`, `OPT OUT` and `stop.` are not keywords. These lists are part of every
 * report's coverage statement.
 */

export type KeywordKind = 'opt-out' | 'opt-in' | 'help';

/**
 * The version of these rules, recorded with every snapshot run: a window read under an older
 * version is read again (the ledger keeps only what a run took for evidence). Raise it whenever
 * a change makes a message count that did not before.
 * 1: the keywords as typed (case and surrounding whitespace aside).
 * 2: compatibility forms folded by NFKC (full-width `ＳＴＯＰ`, `𝐒𝐓𝐎𝐏`) count as opt-outs.
 * 3: a send a Messaging Service refused before it chose a sender (`from` null) counts; an
 *    opt-out with invisible characters in or around it (`STOP` and a zero-width space, a
 *    right-to-left mark, a next-line character) counts as an opt-out; so does one typed with a
 *    Turkish dotted capital I (`QUİT`).
 */
export const RULES_VERSION = 3;

export const KEYWORD_LISTS: Readonly<Record<KeywordKind, readonly string[]>> = {
  'opt-out': ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'],
  'opt-in': ['START', 'YES', 'UNSTOP'],
  help: ['HELP', 'INFO'],
};

/** On US/CA toll-free numbers the carrier's block is lifted only by START and UNSTOP. */
const NOT_OPT_IN_ON_TOLL_FREE = new Set(['YES']);

const BY_WORD = new Map<string, KeywordKind>(
  (Object.entries(KEYWORD_LISTS) as [KeywordKind, readonly string[]][]).flatMap(([kind, words]) =>
    words.map((word) => [word, kind] as const),
  ),
);

/** NANP toll-free area codes: 800, 833, 844, 855, 866, 877, 888. */
const TOLL_FREE = /^\+1(800|833|844|855|866|877|888)\d{7}$/;

/** Whether the type Twilio reports for a number says toll-free. */
export const reportsTollFree = (reportedType: string | null): boolean =>
  reportedType !== null && /toll.?free/i.test(reportedType);

/** A number is toll-free when Twilio reports it so, or else by its area code. */
export function isTollFree(phoneNumber: string, reportedType: string | null = null): boolean {
  return reportsTollFree(reportedType) || TOLL_FREE.test(phoneNumber);
}

export interface KeywordMatch {
  /** The keyword, upper case. */
  keyword: string;
  kind: KeywordKind;
}

/** A keyword spelled in ASCII letters only, as Twilio's lists spell them. */
const ASCII_WORD = /^[A-Za-z]+$/;

const NOT_ASCII = /[^\x00-\x7f]/;

/** Longer than any keyword in its widest compatibility form (two UTF-16 units a letter). */
const LONGEST_FORM = 2 * Math.max(...[...BY_WORD.keys()].map((word) => word.length));

/**
 * Characters that show nothing: format characters (zero-width space and joiners, the left-to-
 * right and right-to-left marks a right-to-left keyboard adds, word joiner, soft hyphen, byte
 * order mark), variation selectors (after an emoji-styled letter), next line (U+0085), which
 * Unicode counts as whitespace and `trim` does not, and the letters and marks drawn as nothing
 * (combining grapheme joiner, the Hangul fillers, the blank braille pattern).
 */
const INVISIBLE = /[\p{Cf}\u0085\u034f\u115f\u1160\u180e\u2800\u3164\ufe00-\ufe0f\uffa0]/gu;

/**
 * The capital I with a dot a Turkish or Azerbaijani keyboard types (`QUİT`), composed or as I
 * and a combining dot (what upper-casing a dotted `i̇` gives): upper-casing leaves it a letter
 * of its own, where the dotless `ı` already upper-cases to I.
 */
const DOTTED_CAPITAL_I = /\u0130|I\u0307/g;

/**
 * An opt-out spelled in compatibility forms of its letters: full-width `ＳＴＯＰ` (what a
 * Chinese or Japanese keyboard types in full-width mode), `𝐒𝐓𝐎𝐏`, `Ⓢⓣⓞⓟ`, or with characters
 * that show nothing in or around it (`STOP` and a zero-width space). NFKC folds the letters
 * onto the keyword. Only for bodies not plain ASCII and, once the invisible characters are
 * out, short enough: most bodies are neither, and are never normalized.
 */
function foldedOptOut(word: string): string | null {
  // Bounded before the scan, so a long message is never scanned: a handful of invisible
  // characters is what a keyboard adds, not dozens.
  if (word.length > 4 * LONGEST_FORM || !NOT_ASCII.test(word)) return null;
  const visible = word.replace(INVISIBLE, '').trim();
  if (visible.length > LONGEST_FORM) return null;
  const folded = visible.normalize('NFKC').toUpperCase().replace(DOTTED_CAPITAL_I, 'I');
  return BY_WORD.get(folded) === 'opt-out' ? folded : null;
}

export function matchKeyword(body: string, tollFree: boolean): KeywordMatch | null {
  const word = body.trim();
  let keyword = word.toUpperCase();
  let kind = BY_WORD.get(keyword);
  if (kind === undefined) {
    // Whether Twilio reads a folded form as its keyword is not known: the person meant it,
    // so it keeps them on the list (an opt-out), as the letters below do; it never lifts one.
    const folded = foldedOptOut(word);
    if (folded === null) return null;
    [keyword, kind] = [folded, 'opt-out'];
  }
  // Upper-casing maps some other letters onto the keywords' (`ſtart` and `ﬆart` become START).
  // Whether Twilio reads those as its keywords is not known: such a body is ambiguous, so it
  // counts only where that keeps the person on the list (an opt-out), never to take them off.
  if (kind !== 'opt-out' && !ASCII_WORD.test(word)) return null;
  if (tollFree && kind === 'opt-in' && NOT_OPT_IN_ON_TOLL_FREE.has(keyword)) return null;
  return { keyword, kind };
}
