/**
 * An apply whose transfer of a number meets something as it arrives at Twilio (the number moved
 * by hand, its target suspended), for the reconcile tests of transfers that failed: apply run
 * through a proxy that does `arriving` once, when the transfer's POST arrives.
 */

import { writeFileSync } from 'node:fs';

import { expect } from 'vitest';

import { moveNumberByHand, ownClient } from './emulator.js';
import { makePlan, seededStop, type CliWorkspace } from './migration.js';
import { cliEnv, runCli } from './snapshot-harness.js';
import { startTamperingProxy } from './tampering-proxy.js';

export const A = '+14155550801';
export const B = '+14155550802';
export const R1 = '+12065550801';
/** Mapped to customer `other`, whose subaccount is Other, when `otherIsMapped`. */
export const C = '+14155550803';
const DAY = 86_400_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `submigrate apply PLAN` (one request at a time) through a proxy that runs `arriving` once, as
 * the POST transferring `numberSid` arrives (before it goes on to the emulator); its result.
 * Expects `arriving` to have run. The proxy is closed once apply has ended.
 */
export async function applyAsTransferArrives(
  ws: CliWorkspace,
  db: string,
  plan: string,
  numberSid: string,
  arriving: () => Promise<unknown>,
) {
  let ran = false;
  const proxy = await startTamperingProxy(
    ws.env.url,
    () => null,
    async (path, { method }) => {
      if (ran || method !== 'POST' || !path.endsWith(`/IncomingPhoneNumbers/${numberSid}.json`)) {
        return;
      }
      ran = true;
      await arriving();
    },
  );
  try {
    const applied = await runCli(
      ['apply', plan, '--db', db, '--rate', '1000', '--concurrency', '1'],
      cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url }),
      ws.dir.path,
    );
    expect(ran).toBe(true);
    return applied;
  } finally {
    await proxy.close();
  }
}

/**
 * `submigrate apply PLAN` through a proxy at which Twilio refuses (400) to create the
 * subaccount named `name`: that customer's transfers are not run. Its result.
 */
export async function applyRefusingSubaccount(
  ws: CliWorkspace,
  db: string,
  plan: string,
  name: string,
) {
  const proxy = await startTamperingProxy(ws.env.url, (path, _status, body, request) =>
    request.method === 'POST' && path.includes('/Accounts.json') && body.includes(`"${name}"`)
      ? {
          status: 400,
          type: 'application/json',
          body: JSON.stringify({ code: 20001, message: 'Invalid', status: 400 }),
        }
      : null,
  );
  try {
    return await runCli(
      ['apply', plan, '--db', db, '--rate', '1000'],
      cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url }),
      ws.dir.path,
    );
  } finally {
    await proxy.close();
  }
}

/**
 * Acme's subaccount and Other (no customer's, or, `otherIsMapped`, customer other's, with C
 * mapped to it) exist; A and B in the parent, mapped to acme; R1 said STOP to A a day ago.
 * Snapshot, plan, then apply while someone moves A by hand into `where(accounts)` as apply's
 * transfer of A arrives (or, given, `moving` moves it there from the parent as it will). A then
 * texts R1 (or `texts`) from there: `toR1`.
 */
export async function movedByHandDuringApply(
  ws: CliWorkspace,
  db: string,
  where: (sids: { acme: string; other: string }) => string,
  otherIsMapped = false,
  texts = R1,
  moving: (parent: string, into: string) => Promise<unknown> = (parent, into) =>
    moveNumberByHand(ws.env, A, parent, into),
) {
  await ws.env.seed({
    subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Other' }],
    numbers: [
      { phone_number: A },
      { phone_number: B },
      ...(otherIsMapped ? [{ phone_number: C }] : []),
    ],
    messages: [seededStop(R1, A, Date.now() - DAY)],
  });
  const { accounts, numbers } = await ws.env.state();
  const sidOf = (name: string) => accounts.find((a) => a.friendly_name === name)!.sid;
  const parent = ws.env.parentSid;
  const sids = { acme: sidOf('Acme'), other: sidOf('Other') };
  const into = where(sids);
  const numberA = numbers.find((n) => n.phone_number === A)!.sid;
  const mapping = ws.dir.file('map.csv');
  writeFileSync(
    mapping,
    `customer_id,customer_name,phone_number\nacme,Acme,${A}\nacme,Acme,${B}\n${otherIsMapped ? `other,Other,${C}\n` : ''}`,
  );
  expect((await ws.cli(['snapshot', '--db', db])).code).toBe(0);
  await makePlan(ws.cli, { mapping, db, out: ws.dir.file('p.json') });

  const applied = await applyAsTransferArrives(ws, db, ws.dir.file('p.json'), numberA, () =>
    moving(parent, into),
  );
  const state = await ws.env.state();
  expect(state.numbers.find((n) => n.phone_number === A)!.account_sid).toBe(into);
  expect(state.numbers.find((n) => n.phone_number === B)!.account_sid).toBe(sids.acme);
  if (otherIsMapped) {
    expect(state.numbers.find((n) => n.phone_number === C)!.account_sid).toBe(sids.other);
  }
  await sleep(1_100);
  const toR1 = await ownClient(ws.env, into).messages.create({ to: texts, from: A, body: 'Sale!' });
  expect(toR1.status).not.toBe('failed');
  await sleep(1_100);
  return { applied, parent, ...sids, toR1, mapping };
}
