/**
 * Where each migrated subaccount's history begins, remembered for the coverage statement as a
 * snapshot remembers it.
 */

import { isoSeconds } from '../clock.js';
import type { Db } from '../db/open.js';
import type { MovedNumber } from '../db/reconcile.js';
import { historyStarts, recordHistoryStart } from '../db/snapshot-runs.js';
import type { TwilioPort } from '../twilio/port.js';

/**
 * Where each subaccount's history begins, remembered for the coverage statement as a snapshot
 * remembers it: for one an apply created, when that apply began to create it; for one that
 * existed before, its date_created as Twilio gives it (one GET, the first time).
 */
export async function historyBeginnings(
  db: Db,
  twilio: TwilioPort,
  bySub: ReadonlyMap<string, readonly MovedNumber[]>,
  now: Date,
): Promise<Map<string, Date>> {
  const known = historyStarts(db);
  const beginnings = new Map<string, Date>();
  await Promise.all(
    [...bySub].map(async ([accountSid, numbers]) => {
      const createdAt = numbers[0]!.subaccountCreatedAt;
      const recorded = known.get(accountSid);
      let start: Date | null = recorded === undefined ? null : new Date(recorded);
      if (start === null) {
        start =
          createdAt !== null
            ? new Date(createdAt)
            : ((await twilio.fetchAccount(accountSid)).dateCreated ?? null);
        if (start === null) return;
        start = new Date(Math.floor(start.getTime() / 1000) * 1000);
        recordHistoryStart(
          db,
          accountSid,
          isoSeconds(start),
          createdAt !== null ? 'created by apply' : 'account date_created',
          isoSeconds(now),
        );
      }
      beginnings.set(accountSid, start);
    }),
  );
  return beginnings;
}
