/**
 * Moving phone numbers between accounts of one family, through the real SDK over HTTP
 * against the emulator (reference/twilio-api.md §4.4): parent credentials only, the path names
 * the current owner, the target is related and active, and Messaging Service membership does
 * not travel with the number.
 */

import { beforeEach, describe, expect, it } from 'vitest';

import {
  seedSiblings,
  twilioFailure,
  useEmulator,
  type SeededSubaccount,
} from '../support/emulator.js';

const NOT_ACTIVE = {
  status: 400,
  code: 21472,
  message:
    'Account is not active. To transfer a phone number you must supply an Active 34 character AccountSid',
};
const UNRELATED = {
  status: 400,
  code: 21473,
  message:
    'AccountSid you are transferring to is not related to the originating owner of the phone number',
};

describe('number transfers', () => {
  const env = useEmulator();
  let acme: SeededSubaccount;
  let birch: SeededSubaccount;
  let cobalt: SeededSubaccount;
  let dune: SeededSubaccount;
  /** Owned by the parent, Acme and Birch. */
  let parentNumber: string;
  let acmeNumber: string;
  let birchNumber: string;

  const ownerOf = async (numberSid: string) =>
    (await env.state()).numbers.find((n) => n.sid === numberSid)?.account_sid;
  const listed = async (accountSid: string) =>
    (await env.parent.api.v2010.accounts(accountSid).incomingPhoneNumbers.list()).map((n) => n.sid);
  const transfer = (pathAccount: string, numberSid: string, target: string) =>
    env.parent.api.v2010
      .accounts(pathAccount)
      .incomingPhoneNumbers(numberSid)
      .update({ accountSid: target });

  beforeEach(async () => {
    [acme, birch, cobalt, dune] = await seedSiblings(env);
    const { numbers } = await env.seed({
      numbers: [
        { phone_number: '+14155550100', sms_url: 'https://app.example.com/sms' },
        { phone_number: '+14155550101', account_sid: acme.sid },
        { phone_number: '+14155550102', account_sid: birch.sid },
      ],
    });
    [parentNumber, acmeNumber, birchNumber] = numbers.map((n) => n.sid) as [string, string, string];
  });

  it('parent credentials move a number parent → sub → sibling → parent', async () => {
    const before = await env.parent.api.v2010
      .accounts(env.parentSid)
      .incomingPhoneNumbers(parentNumber)
      .fetch();
    expect(before.accountSid).toBe(env.parentSid);

    // parent → Acme (path = the parent, the current owner)
    const toAcme = await transfer(env.parentSid, parentNumber, acme.sid);
    expect(toAcme.sid).toBe(parentNumber);
    expect(toAcme.phoneNumber).toBe('+14155550100');
    expect(toAcme.accountSid).toBe(acme.sid);
    expect(toAcme.uri).toBe(
      `/2010-04-01/Accounts/${acme.sid}/IncomingPhoneNumbers/${parentNumber}.json`,
    );
    expect(toAcme.smsUrl).toBe('https://app.example.com/sms');
    expect(await listed(env.parentSid)).toEqual([]);
    expect((await listed(acme.sid)).sort()).toEqual([acmeNumber, parentNumber].sort());
    // Acme's own credentials now see it in Acme.
    const acmeOwn = env.clientFor(acme.sid, acme.auth_token);
    expect((await acmeOwn.incomingPhoneNumbers(parentNumber).fetch()).accountSid).toBe(acme.sid);

    // Acme → Birch (sub → sibling sub, path = Acme)
    const toBirch = await transfer(acme.sid, parentNumber, birch.sid);
    expect(toBirch.sid).toBe(parentNumber);
    expect(toBirch.accountSid).toBe(birch.sid);
    expect(toBirch.uri).toBe(
      `/2010-04-01/Accounts/${birch.sid}/IncomingPhoneNumbers/${parentNumber}.json`,
    );
    expect(await listed(acme.sid)).toEqual([acmeNumber]);
    expect((await listed(birch.sid)).sort()).toEqual([birchNumber, parentNumber].sort());

    // Birch → parent (sub → parent, path = Birch)
    const home = await transfer(birch.sid, parentNumber, env.parentSid);
    expect(home.sid).toBe(parentNumber);
    expect(home.accountSid).toBe(env.parentSid);
    expect(home.uri).toBe(
      `/2010-04-01/Accounts/${env.parentSid}/IncomingPhoneNumbers/${parentNumber}.json`,
    );
    expect(await listed(birch.sid)).toEqual([birchNumber]);
    expect(await listed(env.parentSid)).toEqual([parentNumber]);
    expect(await ownerOf(parentNumber)).toBe(env.parentSid);

    // A transfer out of a suspended subaccount is fine: only the target must be active.
    await env.seed({ numbers: [{ phone_number: '+14155550103', account_sid: cobalt.sid }] });
    const cobaltNumber = (await env.state()).numbers.find((n) => n.account_sid === cobalt.sid)!.sid;
    expect((await transfer(cobalt.sid, cobaltNumber, acme.sid)).accountSid).toBe(acme.sid);
  });

  it("a subaccount's own credentials cannot transfer its number: 400 / 21474", async () => {
    const acmeOwn = env.clientFor(acme.sid, acme.auth_token);
    for (const target of [birch.sid, env.parentSid]) {
      const attempt = acmeOwn.api.v2010
        .accounts(acme.sid)
        .incomingPhoneNumbers(acmeNumber)
        .update({ accountSid: target });
      expect(await twilioFailure(attempt)).toEqual({
        status: 400,
        code: 21474,
        message: 'API User must be the parent account to transfer phone numbers.',
      });
    }
    expect(await ownerOf(acmeNumber)).toBe(acme.sid);
    // Other updates with its own credentials are fine.
    const renamed = await acmeOwn
      .incomingPhoneNumbers(acmeNumber)
      .update({ friendlyName: 'Front desk' });
    expect(renamed.friendlyName).toBe('Front desk');
    expect(renamed.accountSid).toBe(acme.sid);
  });

  it('a path that is not the current owner is 404 / 20404 naming the path', async () => {
    // The parent's SID in the path for a number Acme owns.
    const viaParent = `/2010-04-01/Accounts/${env.parentSid}/IncomingPhoneNumbers/${acmeNumber}.json`;
    expect(await twilioFailure(transfer(env.parentSid, acmeNumber, birch.sid))).toEqual({
      status: 404,
      code: 20404,
      message: `The requested resource ${viaParent} was not found`,
    });
    // A sibling's SID in the path.
    const viaBirch = `/2010-04-01/Accounts/${birch.sid}/IncomingPhoneNumbers/${acmeNumber}.json`;
    expect(await twilioFailure(transfer(birch.sid, acmeNumber, env.parentSid))).toEqual({
      status: 404,
      code: 20404,
      message: `The requested resource ${viaBirch} was not found`,
    });
    // Even when the "target" is the number's current owner.
    expect(await twilioFailure(transfer(env.parentSid, acmeNumber, acme.sid))).toMatchObject({
      status: 404,
      code: 20404,
    });
    // A plain fetch through the wrong owner is the same 404.
    expect(
      await twilioFailure(
        env.parent.api.v2010.accounts(env.parentSid).incomingPhoneNumbers(acmeNumber).fetch(),
      ),
    ).toEqual({
      status: 404,
      code: 20404,
      message: `The requested resource ${viaParent} was not found`,
    });
    expect(await ownerOf(acmeNumber)).toBe(acme.sid);
  });

  it('an unrelated target is 400 / 21473', async () => {
    const nobody = `AC${'0123456789abcdef'.repeat(2)}`;
    expect(await twilioFailure(transfer(env.parentSid, parentNumber, nobody))).toEqual(UNRELATED);
    expect(await twilioFailure(transfer(acme.sid, acmeNumber, nobody))).toEqual(UNRELATED);
    expect(await ownerOf(parentNumber)).toBe(env.parentSid);
    expect(await ownerOf(acmeNumber)).toBe(acme.sid);
  });

  it('a suspended or closed target is 400 / 21472', async () => {
    for (const target of [cobalt.sid, dune.sid]) {
      expect(await twilioFailure(transfer(env.parentSid, parentNumber, target))).toEqual(
        NOT_ACTIVE,
      );
      expect(await twilioFailure(transfer(acme.sid, acmeNumber, target))).toEqual(NOT_ACTIVE);
    }
    expect(await ownerOf(parentNumber)).toBe(env.parentSid);
    expect(await ownerOf(acmeNumber)).toBe(acme.sid);
    expect(await listed(cobalt.sid)).toEqual([]);

    // Reactivated, the same target takes the number.
    await env.parent.api.v2010.accounts(cobalt.sid).update({ status: 'active' });
    expect((await transfer(env.parentSid, parentNumber, cobalt.sid)).accountSid).toBe(cobalt.sid);
  });

  it('a transferred number leaves the Messaging Service of its old account', async () => {
    const service = await env.parent.messaging.v1.services.create({ friendlyName: 'Parent SMS' });
    await env.seed({ numbers: [{ phone_number: '+14155550104' }] });
    const stays = (await env.state()).numbers.find(
      (n) => n.account_sid === env.parentSid && n.sid !== parentNumber,
    )!.sid;
    for (const sid of [parentNumber, stays]) {
      await env.parent.messaging.v1
        .services(service.sid)
        .phoneNumbers.create({ phoneNumberSid: sid });
    }
    const members = async () =>
      (await env.parent.messaging.v1.services(service.sid).phoneNumbers.list())
        .map((m) => m.sid)
        .sort();
    expect(await members()).toEqual([parentNumber, stays].sort());

    await transfer(env.parentSid, parentNumber, acme.sid);

    expect(await members()).toEqual([stays]);
    expect(
      await twilioFailure(
        env.parent.messaging.v1.services(service.sid).phoneNumbers(parentNumber).fetch(),
      ),
    ).toMatchObject({ status: 404, code: 20404 });
    const after = await env.state();
    expect(after.numbers.find((n) => n.sid === parentNumber)).toMatchObject({
      account_sid: acme.sid,
      messaging_service_sid: null,
    });
    expect(after.services.find((s) => s.sid === service.sid)?.phone_numbers).toEqual([stays]);

    // In its new account it is free to join a service of Acme's.
    const acmeOwn = env.clientFor(acme.sid, acme.auth_token);
    const acmeService = await acmeOwn.messaging.v1.services.create({ friendlyName: 'Acme SMS' });
    const joined = await acmeOwn.messaging.v1.services(acmeService.sid).phoneNumbers.create({
      phoneNumberSid: parentNumber,
    });
    expect(joined.accountSid).toBe(acme.sid);
    expect(joined.serviceSid).toBe(acmeService.sid);
  });
});
