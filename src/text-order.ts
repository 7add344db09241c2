/**
 * Text in the order of its characters' code points, as SQLite's ORDER BY puts it (its UTF-8
 * bytes): the same on every machine. `localeCompare` follows the ICU locale Node takes from
 * LANG or LC_ALL (Danish sorts `aa` after `z`, and every locale puts `Zeta` after `abel`), so
 * a list sorted with it came out in another order on another machine, and in another order
 * than the reports SQLite sorted. Comparing UTF-16 code units (`<`) is not that order either:
 * a character beyond U+FFFF (an emoji, written as two surrogates, U+D800–U+DFFF) would come
 * before U+E000–U+FFFF (full-width `Ａ`), where SQLite puts it after.
 */
export const compareText = (a: string, b: string): number => {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
};

/**
 * A UTF-16 code unit's place in code point order, at the first unit two strings differ in:
 * surrogates (a character beyond U+FFFF) after every other unit; the rest keep their order.
 */
const codePointRank = (unit: number): number =>
  unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit;
