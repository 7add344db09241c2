/**
 * Text in the order of its UTF-16 code units, as `Array.prototype.sort` puts it and, for the
 * ASCII of SIDs, phone numbers and customer ids, SQLite's ORDER BY: the same on every machine.
 * `localeCompare` follows the ICU locale Node takes from LANG or LC_ALL (Danish sorts `aa`
 * after `z`, and every locale puts `Zeta` after `abel`), so a list sorted with it came out in
 * another order on another machine, and in another order than the reports SQLite sorted.
 */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
