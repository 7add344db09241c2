/**
 * `changedSince`: a moved number listed in its subaccount with a `date_updated` later than
 * anything the database knows of it there, by more than the clocks' allowance, is named
 * `number-updated`; apply's own later steps on it (its webhook, its attach) are not.
 */

import { describe, expect, it } from 'vitest';

import type { MovedNumber } from '../../src/db/reconcile.js';
import { changedSince } from '../../src/reconcile/away-search.js';

const SUB = 'ACacme';
const moved: MovedNumber = {
  numberSid: 'PN1',
  phoneNumber: '+14155550101',
  customerId: 'acme',
  subaccountSid: SUB,
  sourceAccountSid: 'ACparent',
  sourceServiceSid: null,
  movedAt: '2026-12-03T10:00:05Z',
  moveBegan: '2026-12-03T10:00:00Z',
  subaccountCreatedAt: null,
};
const listedAt = (at: string) =>
  [[SUB, [{ sid: 'PN1', phoneNumber: moved.phoneNumber, dateUpdated: new Date(at) }]]] as const;

describe('changedSince', () => {
  it('names a change more than two minutes after the move', () => {
    expect(changedSince([moved], listedAt('2026-12-03T10:02:06Z'), [], new Map())).toEqual([
      {
        accountSid: SUB,
        start: '2026-12-03T10:00:00Z',
        end: '2026-12-03T10:02:06Z',
        reason: 'number-updated',
        customerId: 'acme',
        phoneNumber: moved.phoneNumber,
        subaccountSid: SUB,
      },
    ]);
  });

  it("takes none within two minutes of the move, or of apply's last step on the number", () => {
    expect(changedSince([moved], listedAt('2026-12-03T10:02:05Z'), [], new Map())).toEqual([]);
    // (Its run begun before the move: the run that moved it.)
    const touched = new Map([
      ['PN1', [{ at: '2026-12-03T11:00:00Z', runBegan: '2026-12-03T09:00:00Z' }]],
    ]);
    expect(changedSince([moved], listedAt('2026-12-03T11:01:00Z'), [], touched)).toEqual([]);
    expect(changedSince([moved], listedAt('2026-12-03T11:02:01Z'), [], touched)).toHaveLength(1);
  });

  it("names a change no later than a later run's step on the number, begun after the move", () => {
    // Moved by hand away and back before 11:00, a later run begun at 10:30 (its attach to a
    // service at 11:00): Twilio dates only the attach.
    const touched = new Map([
      [
        'PN1',
        [
          { at: '2026-12-03T10:00:05Z', runBegan: '2026-12-03T09:00:00Z' },
          { at: '2026-12-03T11:00:00Z', runBegan: '2026-12-03T10:30:00Z' },
        ],
      ],
    ]);
    expect(changedSince([moved], listedAt('2026-12-03T11:00:00Z'), [], touched)).toEqual([
      expect.objectContaining({ start: '2026-12-03T10:00:00Z', end: '2026-12-03T11:00:00Z' }),
    ]);
    // A run begun by the end of the move counts: the one that moved it.
    const own = new Map([['PN1', [{ at: '2026-12-03T11:00:00Z', runBegan: moved.movedAt }]]]);
    expect(changedSince([moved], listedAt('2026-12-03T11:00:00Z'), [], own)).toEqual([]);
  });

  it('names a change after the move a later apply settled, however much later it settled it, and whatever it did since', () => {
    // Sent at 10:00:00, settled at 16:00 by the next apply, which set its webhook at 16:00:10.
    const late: MovedNumber = { ...moved, movedAt: '2026-12-03T16:00:00Z', settledLate: true };
    const touched = new Map([
      ['PN1', [{ at: '2026-12-03T16:00:10Z', runBegan: '2026-12-03T09:00:00Z' }]],
    ]);
    expect(changedSince([late], listedAt('2026-12-03T13:00:00Z'), [], touched)).toEqual([
      expect.objectContaining({ start: '2026-12-03T10:00:00Z', end: '2026-12-03T13:00:00Z' }),
    ]);
    expect(changedSince([late], listedAt('2026-12-03T10:02:00Z'), [], touched)).toEqual([]);
    // A later arrival (a wave's transfer answered in time) is known as before.
    const stays = [
      { numberSid: 'PN1', accountSid: SUB, began: '2026-12-04T10:00:00Z', left: null },
    ];
    expect(changedSince([late], listedAt('2026-12-04T10:01:00Z'), stays, touched)).toEqual([]);
  });

  it("names a change after a later wave's transfer a later apply settled, from when it was sent", () => {
    // The first transfer answered in time; a second wave's, into this subaccount, sent at
    // 10:00:00 the next day and settled at 16:00, which then set the webhook at 16:00:10.
    const touched = new Map([
      ['PN1', [{ at: '2026-12-04T16:00:10Z', runBegan: '2026-12-04T09:00:00Z' }]],
    ]);
    const stay = { numberSid: 'PN1', accountSid: SUB, began: '2026-12-04T10:00:00Z', left: null };
    const late = [{ ...stay, settledLate: true as const }];
    expect(changedSince([moved], listedAt('2026-12-04T13:00:00Z'), late, touched)).toEqual([
      expect.objectContaining({ start: '2026-12-04T10:00:00Z', end: '2026-12-04T13:00:00Z' }),
    ]);
    expect(changedSince([moved], listedAt('2026-12-04T10:02:00Z'), late, touched)).toEqual([]);
    // Answered in time: known up to apply's last step.
    expect(changedSince([moved], listedAt('2026-12-04T13:00:00Z'), [stay], touched)).toEqual([]);
    // Settled late into another subaccount, and listed back in this one: that run began after
    // the number came here, and its steps hide no change here before them.
    const beta = [{ ...late[0]!, accountSid: 'ACbeta' }];
    expect(changedSince([moved], listedAt('2026-12-04T13:00:00Z'), beta, touched)).toEqual([
      expect.objectContaining({ start: '2026-12-03T10:00:00Z', end: '2026-12-04T13:00:00Z' }),
    ]);
  });

  it('says nothing of a number listed without a date, or not in its subaccount', () => {
    const undated = [[SUB, [{ sid: 'PN1', phoneNumber: moved.phoneNumber }]]] as const;
    expect(changedSince([moved], undated, [], new Map())).toEqual([]);
    const elsewhere = [
      ['ACbeta', [{ sid: 'PN1', phoneNumber: moved.phoneNumber, dateUpdated: new Date() }]],
    ] as const;
    expect(changedSince([moved], elsewhere, [], new Map())).toEqual([]);
  });
});

describe('changedSince over a change vouched for', () => {
  const vouched = new Map([['PN1 ACacme', '2026-12-04T09:00:00Z']]);
  it('takes none no later than it, and names a later one from it', () => {
    expect(changedSince([moved], listedAt('2026-12-04T09:00:00Z'), [], new Map(), vouched)).toEqual(
      [],
    );
    expect(changedSince([moved], listedAt('2026-12-04T09:00:01Z'), [], new Map(), vouched)).toEqual(
      [
        expect.objectContaining({
          start: '2026-12-04T09:00:00Z',
          end: '2026-12-04T09:00:01Z',
          reason: 'number-updated',
        }),
      ],
    );
    // Vouched in another subaccount: not this one's.
    const elsewhere = new Map([['PN1 ACbeta', '2026-12-04T09:00:00Z']]);
    expect(
      changedSince([moved], listedAt('2026-12-04T09:00:00Z'), [], new Map(), elsewhere),
    ).toEqual([expect.objectContaining({ start: moved.moveBegan })]);
  });
});
