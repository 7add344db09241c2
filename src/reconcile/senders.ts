/**
 * The moved numbers a send with no sender, or from a sender that is no phone number, went
 * through its Messaging Service for.
 */

import type { Db } from '../db/open.js';
import { attachedServices, type MovedNumber } from '../db/reconcile.js';
import type { SentMessage } from './violations.js';

export function sendersThrough(
  db: Db,
  moved: readonly MovedNumber[],
): (send: SentMessage) => readonly MovedNumber[] {
  return sendersIn(moved, attachedServices(db));
}

/**
 * The moved numbers a send with no sender (a service refused it before it chose one), or from
 * a sender that is no phone number, went through its service for: those of its subaccount an
 * apply put in that service (`attached`: number SID → service SID); when none was, every moved
 * number in the subaccount (a service the customer made since), the safe reading. Worked out
 * once per subaccount and service, not per send: a pass may hold every RCS agent's send of a
 * large history, and walking every moved number for each cost seconds. Pure.
 */
export function sendersIn(
  moved: readonly MovedNumber[],
  attached: ReadonlyMap<string, string>,
): (send: Pick<SentMessage, 'accountSid' | 'messagingServiceSid'>) => readonly MovedNumber[] {
  const byAccount = new Map<string, MovedNumber[]>();
  for (const m of moved) {
    const account = m.subaccountSid;
    const numbers = byAccount.get(account);
    if (numbers === undefined) byAccount.set(account, [m]);
    else numbers.push(m);
  }
  const known = new Map<string, readonly MovedNumber[]>();
  return (send) => {
    const key = `${send.accountSid} ${send.messagingServiceSid ?? ''}`;
    const found = known.get(key);
    if (found !== undefined) return found;
    const inAccount = byAccount.get(send.accountSid) ?? [];
    const inService = inAccount.filter(
      (m) => attached.get(m.numberSid) === send.messagingServiceSid,
    );
    const senders = inService.length > 0 ? inService : inAccount;
    known.set(key, senders);
    return senders;
  };
}
