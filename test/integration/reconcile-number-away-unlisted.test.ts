/**
 * A moved number missing from its subaccount, looked for in the family's other subaccounts
 * (built CLI, real SDK, emulator over HTTP, real SQLite):
 * - read with an API key, a suspended subaccount refuses its own credentials (403, 20403): the
 *   pass failed (exit 1) for as long as the number stayed missing. It now completes, names the
 *   number not checked (`number-not-found`) with the subaccounts it could not list and Twilio's
 *   status and code, and exits 3 with --fail-on-violation; it says nowhere where the number is
 *   not. With the parent's Auth Token the same subaccount is listed and the number found there.
 * - such a span is kept: once the number is back in its subaccount, later passes, apply's
 *   warnings and report.html still name it (what it sent then no pass read), not "0 violations".
 * - the search stops once every missing number is found, and lists a few subaccounts at a time
 *   (each request through the limiter); a number found nowhere is looked for in every
 *   subaccount that is not closed, each listed once.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

import { describe, expect, it } from 'vitest';

import { LISTINGS_AT_ONCE } from '../../src/reconcile/away-search.js';
import type { NotChecked } from '../../src/reconcile/result.js';
import { DEFAULT_LIMITS } from '../../src/twilio/limiter.js';
import { clearRequestLog, ownClient, requestLog } from '../support/emulator.js';
import { planAndApply, seededStop, useCliWorkspaceEach } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const A = '+14155550981';
const R1 = '+12065550981';
const DAY = 86_400_000;

describe('reconcile: a moved number missing from its subaccount, looked for elsewhere', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  /** A moved into Acme's subaccount by snapshot, plan and apply; Acme's SID. */
  async function moveAIntoAcme(): Promise<string> {
    await ws.env.seed({
      numbers: [{ phone_number: A }],
      messages: [seededStop(R1, A, Date.now() - DAY)],
    });
    writeFileSync(
      ws.dir.file('map.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(cli, {
      mapping: ws.dir.file('map.csv'),
      db: db(),
      out: ws.dir.file('p.json'),
    });
    return (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
  }

  /** Someone moves A in the console out of account `from` into account `to`. */
  async function moveAByHand(from: string, to: string) {
    const [number] = await ownClient(ws.env, from).incomingPhoneNumbers.list({ phoneNumber: A });
    await ws.env.parent.api.v2010
      .accounts(from)
      .incomingPhoneNumbers(number!.sid)
      .update({ accountSid: to });
  }

  const pass = async (env: Record<string, string>) => {
    const ran = await runCli(
      ['reconcile', '--db', db(), '--fail-on-violation', '--json'],
      env,
      ws.dir.path,
    );
    const result = JSON.parse(ran.stdout === '' ? '{}' : ran.stdout) as {
      notChecked?: NotChecked[];
    };
    return { ...ran, notChecked: result.notChecked ?? [] };
  };

  /**
   * A moved into Acme's subaccount, then by hand into a new subaccount Other (`whileThere`
   * runs then), which is suspended; the CLI's environment with a Main API key, with which a
   * suspended subaccount's numbers cannot be listed.
   */
  async function awayInSuspendedOther(
    whileThere: (other: string) => Promise<unknown> = async () => {},
  ) {
    const { keys } = await ws.env.seed({ keys: [{ kind: 'main' }] });
    const key = keys[0]!;
    const acme = await moveAIntoAcme();
    const other = (await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'Other' })).sid;
    await moveAByHand(acme, other);
    await whileThere(other);
    await ws.env.parent.api.v2010.accounts(other).update({ status: 'suspended' });
    const withKey = cliEnv(ws.env, {
      TWILIO_AUTH_TOKEN: undefined,
      TWILIO_API_KEY: key.sid,
      TWILIO_API_SECRET: key.secret,
    });
    return { key, acme, other, withKey };
  }

  it('names a number it could not find while a suspended subaccount refused to be listed, and exits 3', async () => {
    const { key, acme, other, withKey } = await awayInSuspendedOther();

    const keyed = await pass(withKey);
    expect(keyed.code, keyed.stderr).toBe(3);
    expect(keyed.notChecked).toEqual([
      expect.objectContaining({
        accountSid: acme,
        reason: 'number-not-found',
        phoneNumber: A,
        customerId: 'acme',
        subaccountSid: acme,
        unlisted: [{ accountSid: other, status: 403, code: 20403 }],
      }),
    ]);
    expect(keyed.stderr).toContain(`not checked: moved number ${A} of acme, from `);
    expect(keyed.stderr).toContain(
      `1 subaccount(s) of the family could not be listed, and it may be in any of them: ${other} (HTTP 403, code 20403)`,
    );
    // It names no account as where the number is, nor says it is in none.
    expect(keyed.notChecked.filter((s) => s.reason === 'number-away')).toEqual([]);
    const secrets = [
      key.secret,
      ws.env.parentToken,
      ...[acme, other].map((sid) => ws.env.emulator.state.accounts.get(sid)!.authToken),
    ];
    for (const secret of secrets) {
      expect(keyed.stdout + keyed.stderr).not.toContain(secret);
    }

    // The parent's Auth Token lists the suspended subaccount's numbers: A is found there.
    const tokened = await pass(cliEnv(ws.env));
    expect(tokened.code, tokened.stderr).toBe(3);
    expect(tokened.notChecked).toEqual([
      expect.objectContaining({
        accountSid: other,
        reason: 'number-away',
        phoneNumber: A,
        subaccountSid: acme,
      }),
    ]);
  }, 60_000);

  it('keeps naming the span a number was found nowhere, once it is back in its subaccount', async () => {
    // From Other, Twilio knows of no STOP of R1's: the text goes out, read by no pass.
    const { acme, other, withKey } = await awayInSuspendedOther((other) =>
      ownClient(ws.env, other).messages.create({ from: A, to: R1, body: 'back soon' }),
    );
    const missing = await pass(withKey);
    expect(missing.code, missing.stderr).toBe(3);
    const [span] = missing.notChecked;
    expect(span).toEqual(
      expect.objectContaining({ reason: 'number-not-found', phoneNumber: A, accountSid: acme }),
    );

    // Other let go of, A moved back into Acme's subaccount by hand: every account is listed
    // again, and A is where apply put it. What it sent while no pass could find it was still
    // read by none.
    await ws.env.parent.api.v2010.accounts(other).update({ status: 'active' });
    await moveAByHand(other, acme);
    // The pass begins in a later second than A came back: one that came in the second a pass's
    // read ends may have come after it began, and the reports would name the second since as
    // not read yet (spansNotJudged, the safe side), which is not what this test is about.
    await delay(1_100);
    const back = await pass(withKey);
    expect(back.code, back.stderr).toBe(3);
    expect(back.notChecked).toEqual([
      expect.objectContaining({
        reason: 'number-not-found',
        phoneNumber: A,
        customerId: 'acme',
        subaccountSid: acme,
        start: span!.start,
      }),
    ]);
    expect(Date.parse(back.notChecked[0]!.end)).toBeGreaterThanOrEqual(Date.parse(span!.end));
    expect(back.stderr).toContain(
      `not checked: moved number ${A} of acme, from ${span!.start} to ${back.notChecked[0]!.end}: a pass found it neither in its subaccount ${acme} nor in any account it could list`,
    );
    // The reports send it to the customer, not round to reconcile, which cannot read it.
    const report = await runCli(['report', '--db', db()], withKey, ws.dir.path);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).toContain(
      `span(s) while a number of the mapping was where no step of apply's put it, moved there by hand (${A} in no account a pass could list ${span!.start} → `,
    );
    expect(report.stderr).not.toContain('no reconcile pass has read');
    // As a browser shows it: the page's text wraps where its source does.
    const page = readFileSync(ws.dir.file('reports/1/report.html'), 'utf8').replace(/\s+/g, ' ');
    expect(page).toContain('data-signoff="not-ready"');
    expect(page).toContain(`${A} in no account a pass could list ${span!.start} → `);
  }, 60_000);

  it('stops once every missing number is found, lists a few at a time, and misses no subaccount', async () => {
    // Forty subaccounts no apply puts a number in (created before Acme: listed first), one
    // closed.
    const { subaccounts } = await ws.env.seed({
      subaccounts: Array.from({ length: 40 }, (_, i) => ({
        friendly_name: `S${i}`,
        ...(i === 39 ? { status: 'closed' } : {}),
      })),
    });
    const acme = await moveAIntoAcme();
    const first = subaccounts[0]!.sid;
    await moveAByHand(acme, first);
    // Each answer takes 30 ms: listings one after another never overlap.
    await ws.env.control('POST', '/__emulator/faults', { latency_ms: 30 });
    const others = new Set(subaccounts.map((s) => s.sid));
    const listings = async () =>
      (await requestLog(ws.env))
        .filter((r) => r.method === 'GET' && r.path.endsWith('/IncomingPhoneNumbers.json'))
        .filter((r) => others.has(/Accounts\/(AC[0-9a-f]{32})\//.exec(r.path)![1]!));

    await clearRequestLog(ws.env);
    const found = await pass(cliEnv(ws.env));
    expect(found.code, found.stderr).toBe(3);
    expect(found.notChecked).toEqual([
      expect.objectContaining({ accountSid: first, reason: 'number-away', phoneNumber: A }),
    ]);
    const searched = await listings();
    expect(searched.length).toBeGreaterThan(0);
    // Those begun before it was found, of the 39 it would list: the listings begun at once
    // (twice the requests a pass lets be in flight: away-search.ts), and at most one for each
    // other request in flight whose answer came in the same turn of the event loop as the
    // one that found it and was handled before it (the bound was once the first term alone,
    // which a loaded machine went over).
    expect(searched.length).toBeLessThanOrEqual(LISTINGS_AT_ONCE + DEFAULT_LIMITS.concurrency - 1);
    expect(searched.length).toBeLessThan(39);
    const at = (r: { time: string }) => Date.parse(r.time);
    const overlapping = searched.some((r) =>
      searched.some((s) => s !== r && at(s) >= at(r) && at(s) < at(r) + r.duration_ms),
    );
    expect(overlapping).toBe(true);

    // Released: found nowhere, it is looked for in each subaccount not closed, once.
    const [number] = await ownClient(ws.env, first).incomingPhoneNumbers.list({ phoneNumber: A });
    await ws.env.parent.api.v2010.accounts(first).incomingPhoneNumbers(number!.sid).remove();
    await clearRequestLog(ws.env);
    const nowhere = await pass(cliEnv(ws.env));
    expect(nowhere.code, nowhere.stderr).toBe(3);
    const all = (await listings()).map((r) => /Accounts\/(AC[0-9a-f]{32})\//.exec(r.path)![1]!);
    expect(all.sort()).toEqual(
      subaccounts
        .slice(0, 39)
        .map((s) => s.sid)
        .sort(),
    );
  }, 60_000);
});
