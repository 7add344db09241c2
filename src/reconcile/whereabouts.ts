/**
 * When a moved number may have been in an account, from what the ledger saw of it (`numberSightings`): what bounds the opt-outs it took there since its move
 * (docs/opt-out-rules.md, A STOP said after the move, in another account). Pure.
 */

import { saidAfterBy, saidBeforeBy } from '../clock.js';
import type { NumberSighting } from '../db/whereabouts.js';

/** The earliest and the latest date Twilio may give a message said at the sighting. */
const earliest = (s: NumberSighting) => (s.listed ? saidAfterBy(s.at) : s.at);
const latest = (s: NumberSighting) => (s.listed ? saidBeforeBy(s.at) : s.at);

/**
 * The earliest date Twilio may have given an opt-out said in `accountSid` to the number (or to a
 * Messaging Service there it was in), as far as the ledger knows: the last time it was seen in
 * another account before it was first seen there (`arrivedBy`, when given, is the earliest it may
 * have come there, a transfer's start: a sighting too). The safe side: the first stay it is known
 * to have had there, an earlier sighting elsewhere only when certainly before it (two minutes
 * apart when a listing's clock is this machine's), and its earliest date. Null when nothing seen
 * elsewhere came before it: it may have been there all along (the account it came from).
 */
export function earliestThere(
  sightings: readonly NumberSighting[],
  accountSid: string,
  arrivedBy?: string,
): string | null {
  let first = arrivedBy === undefined ? null : saidAfterBy(arrivedBy);
  for (const s of sightings) {
    if (s.accountSid !== accountSid || s.outOfService !== undefined) continue;
    const at = earliest(s);
    if (first === null || at < first) first = at;
  }
  if (first === null) return null;
  let since: string | null = null;
  for (const s of sightings) {
    if (s.accountSid === accountSid || s.outOfService !== undefined) continue;
    if (latest(s) >= first) continue;
    const at = earliest(s);
    if (since === null || at > since) since = at;
  }
  return since;
}
