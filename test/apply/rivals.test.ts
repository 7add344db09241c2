/**
 * After a subaccount is created and journaled, the parent's subaccounts with its name are read
 * again: a rival is an active one the run did not create and the plan did not know (another
 * apply of the plan, from another database). Closed ones, the kept one, one the plan saw and
 * other names are not rivals.
 */

import { describe, expect, it } from 'vitest';

import { describeRivals, describeUnchecked, findRivals } from '../../src/apply/rivals.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import type { CreateSubaccountStep } from '../../src/plan/types.js';
import type { Account } from '../../src/twilio/port.js';
import {
  account,
  mapping,
  N1,
  number,
  PARENT,
  planOptions,
  sid,
  state,
} from '../support/plan-builders.js';

const KEPT = sid('AC', 0xa1);
const RIVAL = sid('AC', 0xa2);
const CLOSED = sid('AC', 0xa3);
const CLOSED_SINCE = sid('AC', 0xa4);

// A new customer Acme; a closed subaccount of the same name was there already.
const plan = buildPlan(
  state({ subaccounts: [account(CLOSED, 'Acme', 'closed')], numbers: [number(N1, 1)] }),
  mapping({}),
  planOptions(),
);
const step = plan.steps.find((s): s is CreateSubaccountStep => s.action === 'create_subaccount')!;

const subaccount = (s: string, name: string, status: Account['status'] = 'active'): Account => ({
  sid: s,
  friendlyName: name,
  status,
  ownerAccountSid: PARENT,
  dateCreated: null,
});

function twilio(subaccounts: Account[]) {
  const asked: string[] = [];
  return {
    asked,
    listSubaccountsNamed: (name: string) => {
      asked.push(name);
      return Promise.resolve(subaccounts);
    },
  };
}

describe('findRivals', () => {
  it('reads the subaccounts with the step’s name, and names the active one not kept', async () => {
    const port = twilio([
      subaccount(KEPT, 'Acme'),
      subaccount(RIVAL, 'Acme'),
      subaccount(CLOSED, 'Acme', 'closed'),
      subaccount(CLOSED_SINCE, 'Acme', 'closed'),
      // Twilio filters by name; one that is not the name is not taken for it.
      subaccount(sid('AC', 0xc1), 'Acme Two'),
    ]);
    expect((await findRivals(plan, step, KEPT, port)).map((a) => a.sid)).toEqual([RIVAL]);
    expect(port.asked).toEqual(['Acme']);
  });

  it('the kept one alone: no rival', async () => {
    expect(await findRivals(plan, step, KEPT, twilio([subaccount(KEPT, 'Acme')]))).toEqual([]);
  });

  it('an active one the plan saw when it was made is not a rival', async () => {
    // As a plan records one it found (and still creates: the mapping pinned none of them).
    const observed = new Map(plan.observed).set('subaccounts-named:Acme', [RIVAL]);
    const port = twilio([subaccount(KEPT, 'Acme'), subaccount(RIVAL, 'Acme')]);
    expect(await findRivals({ ...plan, observed }, step, KEPT, port)).toEqual([]);
  });
});

describe('describeRivals', () => {
  it('names both subaccounts, what was left, and never to close one holding numbers', () => {
    const text = describeRivals(step, KEPT, [subaccount(RIVAL, 'Acme')], 1);
    expect(text).toBe(
      `create_subaccount:acme: this run created subaccount ${KEPT} "Acme", and ${RIVAL} "Acme" was also created since the plan was made, not by this database: this plan is being applied from another database too. This run moved none of customer acme's numbers (its steps after the create were not run). Stop one of the two applies. Keep the subaccount the numbers moved into and close the other (closing a subaccount releases the numbers in it, so close only one that holds none); if neither holds any, keep either. Then run apply again from the database that created the one you kept; this database's run is refused while ${KEPT} and another subaccount "Acme" are both open`,
    );
  });

  it('a create sent more than once: its own late send is named as the other cause', () => {
    expect(describeRivals(step, KEPT, [subaccount(RIVAL, 'Acme')], 2)).toContain(
      'this plan is being applied from another database too (or, as this create was sent 2 times, Twilio carried out an earlier send of it late). This run moved none',
    );
  });

  it('the subaccounts could not be read: the numbers wait, and apply again looks first', () => {
    expect(describeUnchecked(step, KEPT, 'no answer from Twilio in time')).toBe(
      `create_subaccount:acme: this run created subaccount ${KEPT} "Acme" but could not read the parent's subaccounts to see whether another apply of this plan made one too (no answer from Twilio in time); it moved none of customer acme's numbers (its steps after the create were not run). Run apply again: it checks before it sends anything`,
    );
  });
});
