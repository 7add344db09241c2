/**
 * Explicit SIDs in a seed (`POST /__emulator/seed`) and the SIDs the emulator makes from its
 * seed: a scenario that copies SIDs from an earlier run with the same seed must not have them
 * made again for new resources (one would overwrite or alias the other), and a seed whose
 * explicit SID is already in use is refused with 400, seeding nothing.
 */

import { describe, expect, it } from 'vitest';

import type { SeedDocument } from '../../src/emulator/seed.js';
import { useEmulator, type TestEmulator } from '../support/emulator.js';

/**
 * The SID the emulator makes first after a reset for what `document` seeds (one resource):
 * what an earlier run with the same seed showed. Reset again after.
 */
async function firstMadeSid(env: TestEmulator, document: SeedDocument) {
  const made = await env.seed(document);
  await env.control('POST', '/__emulator/reset');
  const [first] = [...made.subaccounts, ...made.numbers, ...made.services];
  return first!.sid;
}

/** The seed's answer as it comes: status and body, refusals included. */
async function postSeed(env: TestEmulator, document: unknown) {
  const response = await fetch(`${env.url}/__emulator/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(document),
  });
  return { status: response.status, body: (await response.json()) as { error?: string } };
}

describe('seeded SIDs and generated SIDs', () => {
  const env = useEmulator();

  it('a SID made later skips one a seed gave explicitly (API-created resources too)', async () => {
    // A number: seeded with the SID the earlier run made first, then one the emulator makes.
    const number = await firstMadeSid(env, { numbers: [{ phone_number: '+14155550100' }] });
    await env.seed({ numbers: [{ phone_number: '+14155550101', sid: number }] });
    const made = await env.seed({ numbers: [{ phone_number: '+14155550102' }] });
    expect(made.numbers[0]!.sid).not.toBe(number);
    // Nothing overwritten or aliased: each number under its own SID.
    const numbers = new Map((await env.state()).numbers.map((n) => [n.sid, n.phone_number]));
    expect(numbers).toEqual(
      new Map([
        [number, '+14155550101'],
        [made.numbers[0]!.sid, '+14155550102'],
      ]),
    );
    await env.control('POST', '/__emulator/reset');

    // A service, then one created through the Services API.
    const service = await firstMadeSid(env, { services: [{ friendly_name: 'Earlier' }] });
    await env.seed({ services: [{ friendly_name: 'Copied Service', sid: service }] });
    const created = await env.parent.messaging.v1.services.create({ friendlyName: 'New Service' });
    expect(created.sid).not.toBe(service);
    expect((await env.parent.messaging.v1.services(service).fetch()).friendlyName).toBe(
      'Copied Service',
    );
    await env.control('POST', '/__emulator/reset');

    // A subaccount (its token given too, so the stream is where the earlier run's was), then
    // one created through the Accounts API.
    const account = await firstMadeSid(env, { subaccounts: [{ friendly_name: 'Earlier' }] });
    await env.seed({
      subaccounts: [
        {
          friendly_name: 'Copied Customer',
          sid: account,
          auth_token: '0123456789abcdef0123456789abcdef',
        },
      ],
    });
    const sub = await env.parent.api.v2010.accounts.create({ friendlyName: 'New Customer' });
    expect(sub.sid).not.toBe(account);
    expect((await env.parent.api.v2010.accounts(account).fetch()).friendlyName).toBe(
      'Copied Customer',
    );
  });

  it('within one seed, a SID made for one resource skips one given to a later one', async () => {
    const earlier = await firstMadeSid(env, { numbers: [{ phone_number: '+14155550100' }] });
    const seeded = await env.seed({
      numbers: [{ phone_number: '+14155550103' }, { phone_number: '+14155550104', sid: earlier }],
    });
    expect(seeded.numbers.map((n) => n.phone_number)).toEqual(['+14155550103', '+14155550104']);
    expect(seeded.numbers[0]!.sid).not.toBe(earlier);
    expect(seeded.numbers[1]!.sid).toBe(earlier);
    expect((await env.state()).numbers).toHaveLength(2);
  });

  it('a seed whose explicit SID another resource uses is refused with 400, seeding nothing', async () => {
    const { numbers } = await env.seed({ numbers: [{ phone_number: '+14155550105' }] });
    const taken = numbers[0]!.sid;
    const before = await env.state();

    const refused = await postSeed(env, {
      subaccounts: [{ friendly_name: 'Not Seeded' }],
      numbers: [{ phone_number: '+14155550106', sid: taken }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe(
      `numbers[0]: SID ${taken} is already used by number +14155550105; leave "sid" out to have a new one made, or give one nothing else uses. Nothing was seeded.`,
    );
    expect(await env.state()).toEqual(before);

    // The same SID given twice in one document.
    const twice = await postSeed(env, {
      services: [
        { friendly_name: 'First', sid: 'MG00000000000000000000000000000001' },
        { friendly_name: 'Second', sid: 'MG00000000000000000000000000000001' },
      ],
    });
    expect(twice.status).toBe(400);
    expect(twice.body.error).toMatch(
      /^services\[1\]: SID MG0+1 is already used by services\[0\]; leave "sid" out/,
    );
    expect(await env.state()).toEqual(before);

    // The parent account's SID for a subaccount.
    const parent = await postSeed(env, {
      subaccounts: [{ friendly_name: 'Impostor', sid: env.parentSid }],
    });
    expect(parent.status).toBe(400);
    expect(parent.body.error).toMatch(
      /^subaccounts\[0\]: SID AC[0-9a-f]{32} is already used by the parent account "/,
    );
  });
});
