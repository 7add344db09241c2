/**
 * A plan made again after an apply that stopped half way (killed, here, with its last write
 * taking effect): the numbers whose move is under way are planned from where it began — the
 * service-wide opt-outs of the service they left stay on their lists and are carried, and the
 * route to keep is the one they had. Then the new plan's apply finishes the move with every
 * route kept; and a finished move is planned from where the number is now (built CLI,
 * emulator over HTTP).
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { readPlan } from '../../src/plan/plan-file.js';
import { emulatorOptOuts, inbound } from '../support/emulator.js';
import { useCliWorkspace, useCliWorkspaceEach } from '../support/migration.js';
import { killApplyAtHeldWrite, releaseHeld } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';
const N2 = '+14155550102';
const SHARED_URL = 'https://app.example/shared';
const ANN = '+19995550001';

interface InboundAnswer {
  route: string;
  webhook: { url: string } | null;
}

describe('plan again after an apply that stopped half way', () => {
  const ws = useCliWorkspace(
    {
      // Each with its own sms_url, answering through the shared service's URL.
      numbers: [
        { phone_number: N1, sms_url: 'https://app.example/n1' },
        { phone_number: N2, sms_url: 'https://app.example/n2' },
      ],
      services: [
        { friendly_name: 'Shared', inbound_request_url: SHARED_URL, phone_numbers: [N1, N2] },
      ],
      // Through the service: a service-wide opt-out, on both numbers' lists.
      messages: [
        {
          from: ANN,
          to: N1,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 2 * 86_400_000).toISOString(),
        },
      ],
    },
    NOW,
  );
  const { cli } = ws;
  const planOf = (file: string) => readPlan(file, readFileSync(file, 'utf8'));
  const db = () => ws.dir.file('s.db');
  const mapping = () => ws.dir.file('map.csv');

  beforeAll(async () => {
    writeFileSync(
      mapping(),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N1},Acme SMS\nacme,Acme,${N2},Acme SMS\n`,
    );
  });

  it('keeps the opt-outs and the routes of the numbers it had begun to move', async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const first = ws.dir.file('p1.json');
    expect(
      (await cli(['plan', '--mapping', mapping(), '--db', db(), '--out', first, '--carry-optouts']))
        .code,
    ).toBe(0);
    expect(planOf(first).customers[0]!.optouts).toBe(1);

    // One write at a time; after the subaccount and both detaches, the next write (the
    // service) is held; the process is killed, and the held write then takes effect.
    await killApplyAtHeldWrite(ws.env, ws.dir.path, first, db(), 3);
    await releaseHeld(ws.env);
    // Half way: both numbers out of Shared, still in the parent; the service made (the held
    // write) in the subaccount.
    const state = await ws.env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    for (const phone of [N1, N2]) {
      const number = state.numbers.find((n) => n.phone_number === phone)!;
      expect([number.account_sid, number.messaging_service_sid], phone).toEqual([
        ws.env.parentSid,
        null,
      ]);
    }
    expect(state.services.filter((s) => s.account_sid === sub)).toHaveLength(1);

    const again = ws.dir.file('p2.json');
    const replanned = await cli([
      'plan',
      '--mapping',
      mapping(),
      '--db',
      db(),
      '--out',
      again,
      '--carry-optouts',
    ]);
    expect(replanned.stderr).toBe('');
    expect(replanned.code).toBe(0);
    const plan = planOf(again);
    const [customer] = plan.customers;
    expect(customer!.optouts).toBe(1);
    expect(plan.summary.optouts_to_carry).toBe(1);
    for (const number of customer!.numbers) {
      expect(number.route_before, number.phone_number).toMatchObject({
        via: 'service',
        url: SHARED_URL,
      });
    }
    const list = await cli(['optouts', '--db', db(), '--customer', 'acme']);
    expect(list.stdout).toContain(ANN);

    const applied = await cli(['apply', again, '--db', db(), '--rate', '1000']);
    // (It takes over the killed process's lock, and says so.)
    expect(applied.code, applied.stderr).toBe(0);
    for (const phone of [N1, N2]) {
      const answer = await ws.env.control<InboundAnswer>('POST', '/__emulator/inbound', {
        from: '+12065550000',
        to: phone,
        body: 'hello',
      });
      expect(answer.webhook?.url, phone).toBe(SHARED_URL);
    }
    const carried = (await emulatorOptOuts(ws.env)).filter(
      (o) => o.account_sid === sub && o.source === 'consent-api',
    );
    expect(carried.map((o) => o.recipient)).toEqual([ANN]);
  }, 60_000);
});

/**
 * One number, in Shared: a move killed before its sms_url step; a finished move and the
 * customer's later changes (theirs, not a move under way); a number moved to another service
 * of its subaccount keeping the old service's opt-outs; an in-place move that stopped half
 * way, planned from where it began, not from the first migration.
 */
describe('plan again, with one number', () => {
  const ws = useCliWorkspaceEach(
    {
      numbers: [{ phone_number: N1 }],
      services: [{ friendly_name: 'Shared', inbound_request_url: SHARED_URL, phone_numbers: [N1] }],
    },
    NOW,
  );
  const { cli } = ws;
  const planOf = (file: string) => readPlan(file, readFileSync(file, 'utf8'));
  const db = () => ws.dir.file('s.db');
  /** A one-row mapping of N1 to `customer` with `service` ('' = none). */
  const mapOf = (name: string, customer: string, service: string) => {
    const file = ws.dir.file(name);
    writeFileSync(
      file,
      `customer_id,customer_name,phone_number,messaging_service\n${customer},${customer},${N1},${service}\n`,
    );
    return file;
  };

  beforeEach(async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
  });

  it('after an apply killed before its sms_url step: the sms_url is planned again', async () => {
    const mapping = mapOf('m.csv', 'acme', '');
    const first = ws.dir.file('p1.json');
    expect((await cli(['plan', '--mapping', mapping, '--db', db(), '--out', first])).code).toBe(0);
    // The subaccount, the detach and the transfer go through; the sms_url write is held.
    await killApplyAtHeldWrite(ws.env, ws.dir.path, first, db(), 3);
    const again = ws.dir.file('p2.json');
    expect((await cli(['plan', '--mapping', mapping, '--db', db(), '--out', again])).code).toBe(0);
    const plan = planOf(again);
    expect(plan.steps.map((s) => s.action)).toEqual(['set_number_webhook']);
    expect(plan.customers[0]!.numbers[0]).toMatchObject({
      route_before: { via: 'service', url: SHARED_URL },
      route_after: { via: 'number', url: SHARED_URL },
      from_origin: true,
    });
    await releaseHeld(ws.env);
  }, 60_000);

  it('after a finished move, a new mapping plans the number from where it is now', async () => {
    const first = ws.dir.file('p1.json');
    const mapping = mapOf('m1.csv', 'acme', 'Acme SMS');
    expect((await cli(['plan', '--mapping', mapping, '--db', db(), '--out', first])).code).toBe(0);
    expect((await cli(['apply', first, '--db', db(), '--rate', '1000'])).code).toBe(0);

    // Later Acme's service gets a new inbound URL, and someone opts out through it.
    const state = await ws.env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'acme')!.sid;
    const service = state.services.find((s) => s.account_sid === sub)!;
    const token = ws.env.emulator.state.accounts.get(sub)!.authToken;
    await ws.env
      .clientFor(sub, token)
      .messaging.v1.services(service.sid)
      .update({ inboundRequestUrl: 'https://acme.example/new' });
    await inbound(ws.env, {
      from: ANN,
      to: N1,
      body: 'STOP',
      date_sent: new Date(NOW - 60_000).toISOString(),
    });

    // The number is mapped to another customer.
    const again = ws.dir.file('p2.json');
    const remapped = mapOf('m2.csv', 'beta', 'Beta SMS');
    const planned = await cli([
      'plan',
      '--mapping',
      remapped,
      '--db',
      db(),
      '--out',
      again,
      '--carry-optouts',
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = planOf(again);
    expect(plan.customers[0]!.numbers[0]).toMatchObject({
      route_before: { via: 'service', url: 'https://acme.example/new' },
      route_after: { url: 'https://acme.example/new' },
    });
    expect(plan.customers[0]!.numbers[0]!.from_origin).toBeUndefined();
    expect(plan.customers[0]!.optouts).toBe(1);
    expect(plan.summary.optouts_to_carry).toBe(1);
  }, 60_000);

  it("a move whose last write was in flight and took effect is over: a later plan leaves the customer's own sms_url alone", async () => {
    const mapping = mapOf('m.csv', 'acme', '');
    const first = ws.dir.file('p1.json');
    expect((await cli(['plan', '--mapping', mapping, '--db', db(), '--out', first])).code).toBe(0);
    // subaccount, detach, transfer go through; the set_number_webhook write is held; kill; it takes effect.
    await killApplyAtHeldWrite(ws.env, ws.dir.path, first, db(), 3);
    await releaseHeld(ws.env);

    const second = ws.dir.file('p2.json');
    expect((await cli(['plan', '--mapping', mapping, '--db', db(), '--out', second])).code).toBe(0);
    expect(planOf(second).steps).toEqual([]); // the migration is finished
    const applied = await cli(['apply', second, '--db', db(), '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);

    // After the migration, the customer points its number at its own new URL.
    const state = await ws.env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'acme')!.sid;
    const sid = state.numbers.find((n) => n.phone_number === N1)!.sid;
    const token = ws.env.emulator.state.accounts.get(sub)!.authToken;
    await ws.env
      .clientFor(sub, token)
      .incomingPhoneNumbers(sid)
      .update({ smsUrl: 'https://acme.example/new' });

    const third = ws.dir.file('p3.json');
    expect((await cli(['plan', '--mapping', mapping, '--db', db(), '--out', third])).code).toBe(0);
    const plan = planOf(third);
    // A finished migration plans nothing, and never plans the old URL back over the new one.
    expect(plan.customers[0]!.numbers[0]!.from_origin).toBeUndefined();
    expect(plan.steps).toEqual([]);
  }, 60_000);

  it("after a finished migration, moving the number to another service in its subaccount keeps the old service's service-wide opt-outs", async () => {
    const first = ws.dir.file('p1.json');
    const m1 = mapOf('m1.csv', 'acme', 'Acme SMS');
    expect((await cli(['plan', '--mapping', m1, '--db', db(), '--out', first])).code).toBe(0);
    expect((await cli(['apply', first, '--db', db(), '--rate', '1000'])).code).toBe(0);
    // Someone opts out through Acme SMS (service-wide).
    await inbound(ws.env, {
      from: ANN,
      to: N1,
      body: 'STOP',
      date_sent: new Date(NOW - 60_000).toISOString(),
    });

    const m2 = mapOf('m2.csv', 'acme', 'Acme Two');
    const second = ws.dir.file('p2.json');
    const planned = await cli([
      'plan',
      '--mapping',
      m2,
      '--db',
      db(),
      '--out',
      second,
      '--carry-optouts',
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = planOf(second);
    expect(plan.customers[0]!.optouts).toBe(1);
    expect(plan.summary.optouts_to_carry).toBe(1);
  }, 60_000);

  it('an in-place move after a finished migration, stopped half way, is planned again from where that move began', async () => {
    const first = ws.dir.file('p1.json');
    const m1 = mapOf('m1.csv', 'acme', 'Acme SMS');
    expect((await cli(['plan', '--mapping', m1, '--db', db(), '--out', first])).code).toBe(0);
    expect((await cli(['apply', first, '--db', db(), '--rate', '1000'])).code).toBe(0);
    // Acme points its service at its own URL.
    const state = await ws.env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'acme')!.sid;
    const acmeSms = state.services.find((s) => s.account_sid === sub)!;
    const token = ws.env.emulator.state.accounts.get(sub)!.authToken;
    await ws.env
      .clientFor(sub, token)
      .messaging.v1.services(acmeSms.sid)
      .update({ inboundRequestUrl: 'https://acme.example/new' });

    const m2 = mapOf('m2.csv', 'acme', 'Acme Two');
    const second = ws.dir.file('p2.json');
    expect((await cli(['plan', '--mapping', m2, '--db', db(), '--out', second])).code).toBe(0);
    // create_service and detach go through; the attach is held; kill; it takes effect.
    await killApplyAtHeldWrite(ws.env, ws.dir.path, second, db(), 2);
    await releaseHeld(ws.env);

    const third = ws.dir.file('p3.json');
    expect((await cli(['plan', '--mapping', m2, '--db', db(), '--out', third])).code).toBe(0);
    const plan = planOf(third);
    // The number now goes to another customer: its new service must route where it goes now.
    const m3 = mapOf('m3.csv', 'beta', 'Beta SMS');
    const fourth = ws.dir.file('p4.json');
    expect((await cli(['plan', '--mapping', m3, '--db', db(), '--out', fourth])).code).toBe(0);
    const remap = planOf(fourth);
    const create = remap.steps.find((s) => s.action === 'create_service');
    expect(create?.action === 'create_service' && create.settings.inbound_request_url).toBe(
      'https://acme.example/new',
    );
    expect(plan.customers[0]!.numbers[0]!.route_before).toMatchObject({
      url: 'https://acme.example/new',
    });
  }, 60_000);
});

/**
 * A number taken out of the mapping while its move was under way keeps its origin (a later
 * wave may map it again). When it is mapped again after someone gave it an sms_url by hand,
 * the plan restores the route it had when its move began, and says so.
 */
describe('a number mapped again after it was left half-moved', () => {
  const ws = useCliWorkspaceEach(
    {
      numbers: [{ phone_number: N1 }, { phone_number: N2 }],
      services: [
        { friendly_name: 'Shared', inbound_request_url: SHARED_URL, phone_numbers: [N1, N2] },
      ],
    },
    NOW,
  );
  const { cli } = ws;
  const planOf = (file: string) => readPlan(file, readFileSync(file, 'utf8'));
  const db = () => ws.dir.file('s.db');
  const mapOf = (name: string, lines: string[]) => {
    const file = ws.dir.file(name);
    writeFileSync(
      file,
      `customer_id,customer_name,phone_number,messaging_service\n${lines.join('\n')}\n`,
    );
    return file;
  };

  beforeEach(async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
  });

  it('warns that the sms_url set by hand since is replaced', async () => {
    const first = ws.dir.file('p1.json');
    const both = mapOf('m1.csv', [`acme,acme,${N1},`, `acme,acme,${N2},`]);
    expect((await cli(['plan', '--mapping', both, '--db', db(), '--out', first])).code).toBe(0);
    // The subaccount and N1's detach go through; the next write is held; killed.
    await killApplyAtHeldWrite(ws.env, ws.dir.path, first, db(), 2);
    await releaseHeld(ws.env);
    // N2 alone is planned and moved.
    const second = ws.dir.file('p2.json');
    const n2 = mapOf('m2.csv', [`acme,acme,${N2},`]);
    expect((await cli(['plan', '--mapping', n2, '--db', db(), '--out', second])).code).toBe(0);
    expect((await cli(['apply', second, '--db', db(), '--rate', '1000'])).code).toBe(0);
    // By hand, N1 (in the parent, in no service) answers at its own URL.
    const state = await ws.env.state();
    const sid = state.numbers.find((n) => n.phone_number === N1)!.sid;
    await ws.env.parent.incomingPhoneNumbers(sid).update({ smsUrl: 'https://own.example/n1' });

    const third = ws.dir.file('p3.json');
    const n1 = mapOf('m3.csv', [`beta,beta,${N1},`]);
    expect((await cli(['plan', '--mapping', n1, '--db', db(), '--out', third])).code).toBe(0);
    const plan = planOf(third);
    expect(plan.customers[0]!.numbers[0]!.from_origin).toBe(true);
    const step = plan.steps.find((s) => s.action === 'set_number_webhook');
    expect(step?.action === 'set_number_webhook' && step.sms_url).toBe(SHARED_URL);
    const warned = plan.warnings.filter((w) => w.code === 'inbound_route').map((w) => w.message);
    expect(warned).toEqual([
      expect.stringContaining(`its sms_url https://own.example/n1 is replaced by ${SHARED_URL}`),
    ]);
  }, 60_000);
});
