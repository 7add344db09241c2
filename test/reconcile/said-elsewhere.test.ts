import { describe, expect, it } from 'vitest';

import type { NumberEvidence } from '../../src/db/ledger.js';
import type { MovedNumber } from '../../src/db/reconcile.js';
import { pairsSaidElsewhere } from '../../src/reconcile/said-elsewhere.js';
import { findViolations, type SentMessage } from '../../src/reconcile/violations.js';

const ACME = 'AC' + '1'.repeat(32);
const BETA = 'AC' + '2'.repeat(32);
const N = '+15550000001';
const R = '+15557770001';
const at = (minute: number, second = 0) =>
  `2026-11-01T10:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}Z`;

let seq = 0;
const said = (
  kind: NumberEvidence['kind'],
  dateSent: string,
  accountSid = ACME,
  through: { scopeKey?: string; channel?: string | null } = {},
): NumberEvidence => ({
  phoneNumber: N,
  accountSid,
  scopeKey: through.scopeKey ?? N,
  channel: through.channel ?? null,
  recipient: R,
  kind,
  dateSent,
  messageSid: `SM${String(++seq).padStart(32, '0')}`,
});

const moved: MovedNumber[] = [
  {
    numberSid: 'PN' + '1'.repeat(32),
    phoneNumber: N,
    customerId: 'acme',
    subaccountSid: ACME,
    sourceAccountSid: 'AC' + '0'.repeat(32),
    sourceServiceSid: null,
    movedAt: at(0),
    moveBegan: at(0),
    subaccountCreatedAt: null,
  },
];
const placedIn = new Map([[moved[0]!.numberSid, [{ accountSid: ACME, began: at(0), left: null }]]]);

const send = (
  accountSid: string,
  sentAt: string,
  messagingServiceSid: string | null = null,
): SentMessage => ({
  sid: `SM${String(++seq).padStart(32, '0')}`,
  accountSid,
  from: N,
  to: R,
  status: 'delivered',
  errorCode: null,
  messagingServiceSid,
  sentAt,
});

/** The sends `evidence` (in `numberEvidenceSince`'s order) makes violations. */
const violating = (evidence: NumberEvidence[], sends: SentMessage[]) =>
  findViolations(moved, pairsSaidElsewhere(evidence), sends, [], () => [], placedIn).violations.map(
    (v) => [v.violatingMessageSid, v.stopMessageSid],
  );

describe('pairsSaidElsewhere', () => {
  it("holds another account's send after the STOP, not its own account's, and none after a START there", () => {
    const stop = said('opt-out', at(1));
    const start = said('opt-in', at(5));
    const before = send(BETA, at(0, 30));
    const there = send(ACME, at(2));
    const elsewhere = send(BETA, at(3));
    const lifted = send(BETA, at(6));
    expect(violating([stop, start], [before, there, elsewhere, lifted])).toEqual([
      [elsewhere.sid, stop.messageSid],
    ]);
  });

  it('keeps the person held on a START in the second of the STOP, and names the latest STOP by the send', () => {
    const first = said('opt-out', at(1));
    const again = said('opt-out', at(4));
    const start = said('opt-in', at(4));
    const between = send(BETA, at(2));
    const after = send(BETA, at(9));
    expect(violating([first, again, start], [between, after])).toEqual([
      [between.sid, first.messageSid],
      [after.sid, again.messageSid],
    ]);
  });

  it('holds a send from before a refusal there, up to the START that lifted it', () => {
    const refused = said('refused', at(3));
    const start = said('opt-in', at(5));
    const early = send(BETA, at(1));
    const inItsSecond = send(BETA, at(5));
    const later = send(BETA, at(6));
    expect(violating([refused, start], [early, inItsSecond, later])).toEqual([
      [early.sid, null],
      [inItsSecond.sid, null],
    ]);
  });

  it("holds its own account's send that did not go through the service a STOP there came through", () => {
    // Through Acme's service: Twilio keeps it on the service, and refuses only that service's
    // sends. The number taken out of it (or moved away and back by hand, which takes it out)
    // sends on its own, and Twilio delivers.
    const SERVICE = 'MG' + '1'.repeat(32);
    const stop = said('opt-out', at(1), ACME, { scopeKey: SERVICE });
    const throughIt = send(ACME, at(2), SERVICE);
    const outOfIt = send(ACME, at(3));
    const throughAnother = send(ACME, at(4), 'MG' + '2'.repeat(32));
    expect(violating([stop], [throughIt, outOfIt, throughAnother])).toEqual([
      [outOfIt.sid, stop.messageSid],
      [throughAnother.sid, stop.messageSid],
    ]);
    // Under a SID not known as a service (its number with it), the same: the SID is the scope.
    const unknown = said('opt-out', at(1), ACME, { scopeKey: `${SERVICE} ${N}` });
    expect(violating([unknown], [throughIt, outOfIt])).toEqual([[outOfIt.sid, unknown.messageSid]]);
    // Over WhatsApp through the service: not held against its own account's SMS (Channels).
    const whatsapp = said('opt-out', at(1), ACME, { scopeKey: SERVICE, channel: 'whatsapp' });
    expect(violating([whatsapp], [throughIt, outOfIt])).toEqual([]);
  });
});
