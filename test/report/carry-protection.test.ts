/**
 * carry.csv's `protection`: why the opt-outs Twilio does not enforce are not enforced. A row
 * sent from a toll-free number is beyond any Consent API record; a row an earlier run wrote
 * is enforced whatever this run's plan said. The reason given must be the true one: a run of
 * a plan made without --carry-optouts does not make toll-free rows, or rows an earlier run
 * carried, "the plan was made without --carry-optouts".
 */

import { describe, expect, it } from 'vitest';

import type { StepState } from '../../src/db/journal.js';
import { OPTOUT_COLUMNS, type OptOutExportRow } from '../../src/optouts/export.js';
import type { PlanNumber } from '../../src/plan/types.js';
import { correlationId } from '../../src/plan/carry.js';
import { carryAudit, inServiceKey, twilioEnforces } from '../../src/report/carry.js';
import { planOf, sid, SUB } from '../support/plan-builders.js';

const LOCAL = '+14155550101';
const TOLL_FREE = '+18335550102';

const number = (phone: string, n: number): PlanNumber => ({
  line: n + 1,
  phone_number: phone,
  number_sid: sid('PN', n),
  unchanged: true,
  route_before: { via: 'none' },
  route_after: { via: 'none' },
  optout_services: [],
});

/** A plan of nothing to do, made without --carry-optouts: an apply after the migration. */
const plan = planOf({
  mapping: { path: 'm.csv', sha256: 'x', rows: 2 },
  customers: [
    {
      customer_id: 'acme',
      customer_name: 'Acme',
      subaccount_sid: SUB,
      subaccount_source: 'previous-apply',
      messaging_service: null,
      service_sid: null,
      numbers: [number(LOCAL, 1), number(TOLL_FREE, 2)],
      optouts: 3,
    },
  ],
});

const row = (sender: string, recipient: string): OptOutExportRow => ({
  ...(Object.fromEntries(OPTOUT_COLUMNS.map((c) => [c, null])) as OptOutExportRow),
  customer_id: 'acme',
  recipient,
  sender_number: sender,
  scope: 'number',
});

function protectionOf(rows: OptOutExportRow[], enforced: (r: OptOutExportRow) => boolean) {
  const audit = carryAudit(
    plan,
    [{ customer_id: 'acme', subaccount_sid: SUB, messaging_service_sid: null }],
    new Map(),
    new Map(),
    { rows, enforced },
  );
  return audit.customers[0]!.protection;
}

describe('carry.csv protection', () => {
  it('an earlier run carried every row it could: the toll-free rows are the only reason', () => {
    const rows = [row(LOCAL, '+12065550001'), row(TOLL_FREE, '+12065550002')];
    expect(protectionOf(rows, (r) => r.sender_number === LOCAL)).toBe(
      'Twilio refuses sends to 1 of the 2 rows of its suppression list; for the other 1, the list is the only protection (the Consent Management API does not cover its toll-free numbers)',
    );
  });

  it('rows nobody carried are this plan’s doing, and an earlier run’s writes are said', () => {
    const rows = [
      row(LOCAL, '+12065550001'),
      row(LOCAL, '+12065550003'),
      row(TOLL_FREE, '+12065550002'),
    ];
    expect(protectionOf(rows, (r) => r.recipient === '+12065550001')).toBe(
      'Twilio refuses sends to 1 of the 3 rows of its suppression list; for the other 2, the list is the only protection (the plan was made without --carry-optouts (an earlier run wrote the others); and the Consent Management API does not cover its toll-free numbers)',
    );
  });

  it('nothing carried by any run: the plan is the reason, toll-free besides', () => {
    const rows = [row(LOCAL, '+12065550001'), row(TOLL_FREE, '+12065550002')];
    expect(protectionOf(rows, () => false)).toBe(
      'the suppression list is its only protection (the plan was made without --carry-optouts; and the Consent Management API does not cover its toll-free numbers)',
    );
  });
});

describe('a service-wide row of a customer with a toll-free number', () => {
  const SHARED_SID = sid('MG', 1);
  const OWN_SERVICE = sid('MG', 2);
  const R = '+12065550001';
  // Its local number was in the shared service, its toll-free number never was.
  const customer = (service: string | null) =>
    planOf({
      options: { snapshot: true, carry_optouts: true },
      customers: [
        {
          customer_id: 'acme',
          customer_name: 'Acme',
          subaccount_sid: SUB,
          subaccount_source: 'previous-apply',
          messaging_service: service === null ? null : 'acmeAlerts',
          service_sid: service,
          numbers: [
            { ...number(LOCAL, 1), optout_services: [SHARED_SID] },
            { ...number(TOLL_FREE, 2), optout_services: [] },
          ],
          optouts: 1,
        },
      ],
    });
  const serviceRow: OptOutExportRow = {
    ...row('+14155550999', R),
    scope: 'service',
    messaging_service_sid: SHARED_SID,
  };

  it('without a Messaging Service: enforced once written for the numbers that were in that service', () => {
    const plan = customer(null);
    const targets = [{ customer_id: 'acme', subaccount_sid: SUB, messaging_service_sid: null }];
    const enforced = twilioEnforces(
      plan,
      targets,
      new Set([correlationId(SUB, LOCAL, R)]),
      new Set(),
    );
    // Twilio refuses the local number's sends to R (the record was written for it); the
    // toll-free number was never in the service, so R never opted out of it.
    expect(enforced(serviceRow)).toBe(true);
    expect(
      carryAudit(plan, targets, new Map(), new Map(), { rows: [serviceRow], enforced })
        .customers[0]!.protection,
    ).toBe(
      'Twilio refuses sends to every opt-out on its suppression list (written through the Consent Management API)',
    );
  });

  it('with a Messaging Service: not enforced, since a send through it may go out from the toll-free number', () => {
    const plan = customer(OWN_SERVICE);
    const enforced = twilioEnforces(
      plan,
      [{ customer_id: 'acme', subaccount_sid: SUB, messaging_service_sid: OWN_SERVICE }],
      new Set([correlationId(SUB, OWN_SERVICE, R)]),
      new Set([inServiceKey('acme', LOCAL), inServiceKey('acme', TOLL_FREE)]),
    );
    expect(enforced(serviceRow)).toBe(false);
  });

  // The service-wide row stands for the local number too: a record written for the service
  // makes Twilio refuse its sends. Whether one was is part of why the row is not enforced.
  const withService = (carry: boolean) => ({
    ...customer(OWN_SERVICE),
    options: { snapshot: true, carry_optouts: carry },
  });
  const targets = [
    { customer_id: 'acme', subaccount_sid: SUB, messaging_service_sid: OWN_SERVICE },
  ];
  const inService = new Set([inServiceKey('acme', LOCAL), inServiceKey('acme', TOLL_FREE)]);
  const protectionWith = (carry: boolean, written: ReadonlySet<string>) => {
    const plan = withService(carry);
    return carryAudit(plan, targets, new Map(), new Map(), {
      rows: [serviceRow],
      enforced: twilioEnforces(plan, targets, written, inService),
      writtenApartFromTollFree: twilioEnforces(plan, targets, written, inService, {
        apartFromTollFree: true,
      }),
    }).customers[0]!.protection;
  };

  it('with a Messaging Service, of a plan made without --carry-optouts: the plan is the reason, not the toll-free number alone', () => {
    expect(protectionWith(false, new Set())).toBe(
      'the suppression list is its only protection (the plan was made without --carry-optouts; and the Consent Management API does not cover its toll-free numbers)',
    );
  });

  it('with a Messaging Service, its record written by an earlier run: the toll-free number is the only reason', () => {
    expect(protectionWith(false, new Set([correlationId(SUB, OWN_SERVICE, R)]))).toBe(
      'the suppression list is its only protection (the Consent Management API does not cover its toll-free numbers)',
    );
  });
});

describe('carry.csv protection of a carry not finished', () => {
  const carried = planOf({
    ...plan,
    options: { snapshot: true, carry_optouts: true },
    steps: [
      {
        id: 'carry_optouts:acme',
        action: 'carry_optouts',
        customer_id: 'acme',
        depends_on: [],
        account_sid: SUB,
        sender: 'number',
        service_sid: null,
        service_name: null,
        optouts: 1,
        batch_size: 25,
        requests: 1,
        already_carried: 0,
      },
    ],
  });
  const protectionAt = (
    state: StepState,
    errorMessage: string | null = null,
    rows = [row(LOCAL, '+12065550001')],
  ) =>
    carryAudit(
      carried,
      [{ customer_id: 'acme', subaccount_sid: SUB, messaging_service_sid: null }],
      new Map([
        [
          'carry_optouts:acme',
          {
            stepId: 'carry_optouts:acme',
            position: 0,
            action: 'carry_optouts',
            customerId: 'acme',
            state,
            attempts: 0,
            startedAt: null,
            finishedAt: null,
            result: null,
            errorStatus: null,
            errorCode: null,
            errorMessage,
          },
        ],
      ]),
      new Map(),
      { rows, enforced: () => false },
    ).customers[0]!.protection;

  // Its state in the words `status` and apply's summary use: the journal's names (`not_run`,
  // `pending`) stay in the carry_step column.
  it.each([
    ['not_run', 'not run'],
    ['in_flight', 'in flight'],
    ['pending', 'not sent yet'],
  ] as const)('says a carry step %s is %s', (state, words) => {
    expect(protectionAt(state)).toBe(
      `the suppression list is its only protection (carry_optouts is ${words})`,
    );
  });

  // The step's error is Twilio's sentences, ending in a full stop: joined to the toll-free
  // reason it read "… then run apply again.; and the Consent Management API …" in the demo's
  // carry.csv and report.html.
  it('a failed step: its error, then the toll-free reason, joined without a stray full stop', () => {
    const error =
      "subaccount AC1 has no access to Twilio's Consent Management API. Ask Twilio for Consent Management API access for the subaccount, then run apply again.";
    expect(
      protectionAt('failed', error, [row(LOCAL, '+12065550001'), row(TOLL_FREE, '+12065550002')]),
    ).toBe(
      "the suppression list is its only protection (carry_optouts failed: subaccount AC1 has no access to Twilio's Consent Management API. Ask Twilio for Consent Management API access for the subaccount, then run apply again; and the Consent Management API does not cover its toll-free numbers)",
    );
    expect(protectionAt('failed', error)).toBe(
      "the suppression list is its only protection (carry_optouts failed: subaccount AC1 has no access to Twilio's Consent Management API. Ask Twilio for Consent Management API access for the subaccount, then run apply again)",
    );
  });
});
