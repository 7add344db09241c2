import { describe, expect, it } from 'vitest';

import type { NumberSighting } from '../../src/db/whereabouts.js';
import { earliestThere, serviceStaysSince } from '../../src/reconcile/whereabouts.js';

const ACME = 'AC' + '1'.repeat(32);
const BETA = 'AC' + '2'.repeat(32);
const SERVICE = 'MG' + '1'.repeat(32);
const at = (hhmm: string) => `2026-11-01T${hhmm}:00Z`;
const listed = (accountSid: string, hhmm: string, service?: string | null): NumberSighting => ({
  accountSid,
  at: at(hhmm),
  listed: true,
  ...(service === undefined ? {} : { service }),
});
const message = (accountSid: string, hhmm: string, service: string | null): NumberSighting => ({
  accountSid,
  service,
  at: at(hhmm),
  listed: false,
});

describe('earliestThere', () => {
  it('is the last sighting elsewhere certainly before the first there, less two minutes for a listing', () => {
    const seen = [
      listed(ACME, '10:00'),
      message(ACME, '10:20', null),
      message(BETA, '12:00', null),
    ];
    expect(earliestThere(seen, BETA)).toBe(at('10:20'));
    // A listing of Acme's at 11:59 may be after a message Twilio dated 12:00: not before it.
    expect(earliestThere([...seen, listed(ACME, '11:59')], BETA)).toBe(at('10:20'));
    expect(earliestThere([...seen, listed(ACME, '11:30')], BETA)).toBe(at('11:28'));
    // Nothing seen elsewhere before: not known.
    expect(earliestThere([message(BETA, '09:00', null), ...seen], BETA)).toBeNull();
    // No later than the move (09:58, less two minutes): since, it may have been in Beta's
    // before 10:20, away and back unseen.
    expect(earliestThere(seen, BETA, undefined, at('09:58'))).toBe(at('09:58'));
    expect(earliestThere(seen, BETA, undefined, at('10:30'))).toBe(at('10:20'));
  });
});

describe('serviceStaysSince', () => {
  it('keeps a stay until the first sighting out of the service after every one in it', () => {
    const attached = listed(ACME, '10:00', SERVICE);
    expect(serviceStaysSince([attached], at('09:58'))).toEqual([
      {
        accountSid: ACME,
        service: SERVICE,
        until: null,
        optInsBy: at('09:58'),
        // An opt-in through it is the number's only once it was surely there.
        optInsFrom: at('10:02'),
      },
    ]);
    // Listed in Beta's subaccount at 11:00: out by then (two minutes' room for Twilio's dates).
    const stays = serviceStaysSince([attached, listed(BETA, '11:00')], at('09:58'));
    expect(stays.map((s) => s.until)).toEqual(['2026-11-01T11:02:00Z']);
    // A message of its own through the service at 11:30 (after that listing): back in it.
    const back = serviceStaysSince(
      [attached, listed(BETA, '11:00'), message(ACME, '11:30', SERVICE)],
      at('09:58'),
    );
    expect(back.map((s) => [s.until, s.optInsBy])).toEqual([[null, at('11:30')]]);
    // A move of apply's out of Acme's subaccount at 10:30 (this machine's clock) ends it: a STOP
    // said before it may carry a date Twilio gave it up to two minutes later.
    const left = serviceStaysSince([attached], at('09:58'), [
      { accountSid: ACME, leftAt: at('10:30') },
    ]);
    expect(left.map((s) => s.until)).toEqual([at('10:32')]);
    // None seen since the move: not a stay since.
    expect(serviceStaysSince([listed(ACME, '09:00', SERVICE)], at('09:58'))).toEqual([]);
  });
});
