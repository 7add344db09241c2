/**
 * A number already in its customer's subaccount, moved by apply only from one Messaging
 * Service of that subaccount (Old) into the customer's (Acme svc), with --carry-optouts. Its
 * list is Old's: the person who said STOP to Old's other number is carried into Acme svc.
 * Planning again after the finished apply must give no step, and the list must still be
 * Old's. Before, the plan made again took the number as coming from Acme svc, where it is now
 * (the recorded source was read only when the number had left its account): Old's opt-out
 * fell off the customer's list and count, and Acme svc's own opt-out (of a number the
 * mapping does not name) was planned to be carried into Acme svc, a `carry_optouts` step
 * after a finished migration. Needs `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { readPlan } from '../../src/plan/plan-file.js';
import { makePlan, planAndApply, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const ACME = 'AC0000000000000000000000000000ac01';
const OLD = 'MG000000000000000000000000000000d1';
const ACME_SVC = 'MG000000000000000000000000000000a1';
/** Mapped: in Old, goes to Acme svc in the same subaccount. */
const N = '+14155550111';
/** Old's other number, not mapped: P said STOP to it. */
const M = '+14155550112';
/** Acme svc's number, not mapped: Q said STOP to it. */
const K = '+14155550113';
const P = '+12065550011';
const Q = '+12065550012';

describe('planning again after a carry into a service of the same subaccount', () => {
  const ws = useCliWorkspace(
    {
      subaccounts: [{ friendly_name: 'Acme', sid: ACME }],
      numbers: [
        { phone_number: N, account_sid: ACME },
        { phone_number: M, account_sid: ACME },
        { phone_number: K, account_sid: ACME },
      ],
      services: [
        { friendly_name: 'Old', sid: OLD, account_sid: ACME, phone_numbers: [N, M] },
        { friendly_name: 'Acme svc', sid: ACME_SVC, account_sid: ACME, phone_numbers: [K] },
      ],
      messages: [
        {
          from: P,
          to: M,
          body: 'STOP',
          direction: 'inbound',
          account_sid: ACME,
          messaging_service_sid: OLD,
          date_sent: new Date(NOW - 20 * DAY).toISOString(),
        },
        {
          from: Q,
          to: K,
          body: 'STOP',
          direction: 'inbound',
          account_sid: ACME,
          messaging_service_sid: ACME_SVC,
          date_sent: new Date(NOW - 10 * DAY).toISOString(),
        },
      ],
    },
    NOW,
  );

  it("gives no step, and the number's list is still Old's", async () => {
    const { cli, dir } = ws;
    const db = dir.file('s.db');
    writeFileSync(
      dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N},Acme svc\n`,
    );
    const snapshot = await cli(['snapshot', '--no-export', '--db', db, '--account', ACME]);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    const first = dir.file('first.plan.json');
    await planAndApply(cli, { mapping: 'm.csv', db, out: first, plan: ['--carry-optouts'] });
    const planned = readPlan(first, readFileSync(first, 'utf8'));
    expect(planned.steps.map((s) => s.action)).toEqual([
      'detach_number',
      'attach_number',
      'carry_optouts',
    ]);
    expect(planned.customers[0]!.numbers[0]!.optout_services).toEqual([OLD]);
    expect(planned.carry_items!.map((i) => i.contact_id)).toEqual([P]);
    const state = await ws.env.state();
    expect(state.numbers.find((n) => n.phone_number === N)!.messaging_service_sid).toBe(ACME_SVC);

    const again = dir.file('again.plan.json');
    await makePlan(cli, { mapping: 'm.csv', db, out: again, plan: ['--carry-optouts'] });
    const replanned = readPlan(again, readFileSync(again, 'utf8'));
    expect(replanned.steps).toEqual([]);
    expect(replanned.carry_items).toEqual([]);
    // P, who said STOP to Old while the number was in it, is still on the customer's list.
    expect(replanned.customers[0]!.optouts).toBe(1);
    expect(replanned.customers[0]!.numbers[0]!.optout_services).toEqual([OLD]);
    const listed = await cli(['optouts', '--db', db, '--customer', 'acme', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = (JSON.parse(listed.stdout) as { optouts: { recipient: string }[] }).optouts;
    // Q too: Acme svc is a service of Acme's subaccount, whose opt-outs are Acme's own.
    expect(rows.map((r) => r.recipient).sort()).toEqual([P, Q]);
    expect(
      replanned.warnings.filter((w) => w.code === 'optouts_on_numbers').map((w) => w.message),
    ).toEqual([
      expect.stringMatching(
        /^1 opted-out recipient\(s\) on its numbers, all written into its subaccount .*: nothing is left to carry\./,
      ),
    ]);
  });
});
