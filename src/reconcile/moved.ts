/** The moved numbers grouped by the subaccount each is in now, and when they began to move. */

import type { MovedNumber } from '../db/reconcile.js';

/** Each moved number's subaccount now, by its SID. */
export function subaccountsNow(moved: readonly MovedNumber[]): Map<string, string> {
  return new Map(moved.map((m) => [m.numberSid, m.subaccountSid]));
}

/** The moved numbers by the subaccount each is in now. */
export function bySubaccount(moved: readonly MovedNumber[]): Map<string, MovedNumber[]> {
  const bySub = new Map<string, MovedNumber[]>();
  for (const m of moved) {
    const numbers = bySub.get(m.subaccountSid);
    if (numbers === undefined) bySub.set(m.subaccountSid, [m]);
    else numbers.push(m);
  }
  return bySub;
}

/** When the first of a subaccount's numbers began to move. */
export const movedSince = (numbers: readonly MovedNumber[]) =>
  new Date(Math.min(...numbers.map((n) => new Date(n.moveBegan).getTime())));

/**
 * `bySub` with each number found to have come into its subaccount before its move began
 * (`since`, by number SID) dated from then: the spans no pass can read any more begin there.
 */
export function arrivedSince(
  bySub: ReadonlyMap<string, readonly MovedNumber[]>,
  since: ReadonlyMap<string, Pick<MovedNumber, 'moveBegan'>>,
): Map<string, MovedNumber[]> {
  return new Map(
    [...bySub].map(([sid, numbers]) => [
      sid,
      numbers.map((n) => {
        const came = since.get(n.numberSid);
        return came === undefined ? n : { ...n, moveBegan: came.moveBegan };
      }),
    ]),
  );
}
