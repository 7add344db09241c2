/**
 * A seeded randomized end-to-end trial of numbers moved by hand around a migration
 * (test/integration/reconcile-hand-moves-random.test.ts).
 *
 * For each seed: two or three numbers in the parent (some in its Messaging Service Shared),
 * two or three recipients, two customers (acme, beta) in a mapping. Then a short history on
 * one clock, five minutes a step: numbers moved by hand (the real SDK, with the parent's
 * credentials) between the parent, Acme's and Beta's subaccounts, in and out of Shared; STOP,
 * START and other inbound (the emulator's control plane: routed to where the number is then);
 * sends from where the number is (the real SDK, with that account's own credentials: Twilio
 * refuses what that account knows of); snapshots of the parent, or of the parent and the
 * subaccounts; one plan (with its refresh, now and then `--carry-optouts`) and apply
 * somewhere in it; now and then a reconcile pass after the apply; and a last pass. All
 * in-process on a real SQLite file, each given the step's clock (the emulator's is the same).
 *
 * Seeds from 10000 on add two things, drawn from dice of their own (`prng(seed ^ 0x5eed)`: the
 * histories of the seeds below are the same as before). Now and then, just before apply's
 * transfer of one of the plan's numbers is sent, someone moves the number by hand (the real
 * SDK, the parent's credentials) into a third account, and Twilio refuses the transfer: the
 * apply ends failed and the trial goes on (now and then into the transfer's own target, which
 * apply takes for done). And now and then a later wave, at its own step after the apply: one
 * number's customer changed (acme ↔ beta) or an unmapped number given one, planned and
 * applied alone or with the mapping's other rows, its transfer now and then met the same way.
 * Where each number is is read from the emulator after every apply.
 *
 * The oracle knows the whole history, as the tool never does, and is written from
 * docs/opt-out-rules.md and Twilio's behaviour alone: a STOP said to a number, or through a
 * Messaging Service the number was in at that moment, opts that person out of the number until
 * a START in the same scope (through that service while the number is in it), or one said to
 * the number itself in no service (which lifts them all). A send that went out (Twilio did not
 * refuse it) from a number its person had opted out of is a true violation. One the last pass
 * must account for is a send of a mapped number made in its customer's subaccount, or anywhere
 * after the (first) apply (of a number a later wave maps for the first time: after that wave,
 * or in that customer's subaccount): each must be named a violation, or the pass must say why
 * it cannot vouch for it (exit 3 with `--fail-on-violation`: pending, not read, not checked, a
 * list not whole). A pass that would exit 0 over one, or says no number has been moved, missed
 * it; so did any pass before the last that exited 0 over one sent before it (of a number
 * mapped by then), as a scheduled job alerts on every pass. Violations the tool names that the oracle does not know are counted (fail-safe), with
 * the seed and the send.
 */

import Database from 'better-sqlite3';

import { runApply } from '../../src/apply/run-apply.js';
import { withDb } from '../../src/db/open.js';
import { reconcileTotals } from '../../src/db/reconcile.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import { failsOnViolation, type ReconcileResult } from '../../src/reconcile/result.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { ownClient, startTestEmulator, type TestEmulator } from './emulator.js';
import { applyInputOf } from './plan-builders.js';
import { prng } from './prng.js';
import {
  fixedClock,
  MIGRATIONS_DIR,
  snapshotInto,
  TEST_RUNNER,
  tempDir,
} from './snapshot-harness.js';

const STEP = 5 * 60_000;

export interface HandMoveTrialResult {
  seed: number;
  /** The history, one line a step, to judge a case by. */
  story: string[];
  /** Plan or apply refused (the trial then checks nothing after it). */
  skipped: string | null;
  trueViolations: number;
  /** True violations the last pass must account for (of moved numbers, in scope). */
  inScope: number;
  named: number;
  /** Passes before the last that exited 0 (each checked as the last is). */
  earlierExit0: number;
  /** In scope, not named, but the pass said it could not vouch (exit 3, or refused). */
  flagged: number;
  missed: string[];
  /** Named by the tool, unknown to the oracle: fail-safe over-reporting, to be judged. */
  falseOnes: string[];
  /** Anything else that went wrong (a pass that threw, say). */
  errors: string[];
  exit3: boolean;
}

type Account = 'parent' | 'acme' | 'beta';

interface Keyword {
  at: number;
  from: string;
  to: string;
  service: string | null;
  kind: 'out' | 'in' | 'other';
  account: Account;
}

interface Send {
  at: number;
  sid: string;
  from: string;
  to: string;
  account: Account;
  refused: boolean;
}

/** A second wave's change: `number` given to `customer` at `at`. */
interface LaterWave {
  number: string;
  customer: 'acme' | 'beta';
  at: number;
}

interface Place {
  at: number;
  account: Account;
  service: string | null;
}

const phone = (area: string, n: number) => `+1${area}555${String(n).padStart(4, '0')}`;
const short = (p: string) => p.slice(-2);

/**
 * The oracle: was `recipient` opted out of `number` at `at`, given every keyword said and
 * where the number was (`places`, in order)? Per scope — the number itself (a keyword with no
 * service), or a service the number was in when the keyword came through it — the latest
 * keyword before `at` decides; steps never share a second.
 */
export function optedOut(
  keywords: readonly Keyword[],
  places: readonly Place[],
  number: string,
  recipient: string,
  at: number,
): boolean {
  const serviceAt = (t: number) => {
    let service: string | null = null;
    for (const p of places) if (p.at <= t) service = p.service;
    return service;
  };
  const latest = new Map<string, Keyword>();
  for (const k of keywords) {
    if (k.from !== recipient || k.at >= at || k.kind === 'other') continue;
    let scope: string;
    if (k.service === null) {
      if (k.to !== number) continue;
      scope = 'number';
    } else {
      if (serviceAt(k.at) !== k.service) continue;
      scope = `service ${k.service}`;
    }
    const before = latest.get(scope);
    if (before === undefined || before.at < k.at) latest.set(scope, k);
  }
  // A START said to the number itself (in no service) is said to it: it lifts every opt-out
  // of the number said before it, whatever the scope (docs/commands.md#reconcile: opted back
  // in "to that number, or through the service").
  const toNumber = latest.get('number');
  const liftedAt = toNumber?.kind === 'in' ? toNumber.at : Number.NEGATIVE_INFINITY;
  return [...latest.values()].some((k) => k.kind === 'out' && k.at > liftedAt);
}

export async function runHandMoveTrial(seed: number): Promise<HandMoveTrialResult> {
  const rng = prng(seed);
  const story: string[] = [];
  const result: HandMoveTrialResult = {
    seed,
    story,
    skipped: null,
    trueViolations: 0,
    inScope: 0,
    earlierExit0: 0,
    named: 0,
    flagged: 0,
    missed: [],
    falseOnes: [],
    errors: [],
    exit3: false,
  };
  let t = Math.floor((Date.now() - 12 * 3_600_000) / 60_000) * 60_000;
  const env: TestEmulator = await startTestEmulator({ now: () => t });
  const dir = tempDir('submigrate-hand-move-fuzz-');
  const db = dir.file('h.db');
  const clock = () => fixedClock(t);
  try {
    const numbers = Array.from({ length: 2 + rng.int(0, 1) }, (_, i) => phone('415', 950 + i));
    const recipients = Array.from({ length: 2 + rng.int(0, 1) }, (_, i) => phone('206', 950 + i));
    const customerOf = new Map<string, 'acme' | 'beta' | null>(
      numbers.map((n) => [n, rng.pick(['acme', 'beta', 'acme', 'beta', null] as const)]),
    );
    if (![...customerOf.values()].some((c) => c !== null)) customerOf.set(numbers[0]!, 'acme');
    const inShared = numbers.filter(() => rng.chance(0.6));
    const subsFirst = rng.chance(0.75);
    const carry = rng.chance(0.3);
    // Seeds from 10000 on: a transfer refused (the number moved by hand as it arrived) and a
    // later wave, drawn from dice of their own.
    const extra = seed >= 10_000;
    const rng2 = prng(seed ^ 0x5eed);
    const refuseFirst = extra && rng2.chance(0.4) ? rng2.next() : null;
    const refuseSecond = extra && rng2.chance(0.3) ? rng2.next() : null;
    story.push(
      `numbers ${numbers.map((n) => `${short(n)}→${customerOf.get(n) ?? 'stays'}${inShared.includes(n) ? ' (Shared)' : ''}`).join(', ')}; recipients ${recipients.map(short).join(', ')}; subaccounts ${subsFirst ? 'there from the start' : "apply's"}${carry ? '; --carry-optouts' : ''}`,
    );

    const seeded = await env.seed({
      ...(subsFirst ? { subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }] } : {}),
      numbers: numbers.map((n) => ({ phone_number: n, sms_url: 'https://app.example/sms' })),
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: inShared,
          inbound_request_url: 'https://app.example/inbound',
        },
      ],
    });
    const parentSid = env.parentSid;
    const sharedSid = seeded.services[0]!.sid;
    const accountSids = new Map<Account, string>([['parent', parentSid]]);
    const refreshAccounts = async () => {
      for (const a of (await env.state()).accounts) {
        if (a.friendly_name === 'Acme') accountSids.set('acme', a.sid);
        if (a.friendly_name === 'Beta') accountSids.set('beta', a.sid);
      }
    };
    await refreshAccounts();
    const nameOf = (sid: string): Account =>
      [...accountSids].find(([, s]) => s === sid)?.[0] ?? ('?' as Account);

    const places = new Map<string, Place[]>(
      numbers.map((n) => [
        n,
        [{ at: t, account: 'parent', service: inShared.includes(n) ? sharedSid : null }],
      ]),
    );
    const where = (n: string) => places.get(n)!.at(-1)!;
    const keywords: Keyword[] = [];
    const sends: Send[] = [];
    let applyAt: number | null = null;
    let subOfCustomer = new Map<string, string>();
    /** The second wave's change, once applied (its apply may have failed as the first's). */
    let laterWave = null as LaterWave | null;
    /** Each pass that ran: when, its result, and the sends named violations by its end. */
    const passes: { at: number; result: ReconcileResult; exit3: boolean; named: Set<string> }[] =
      [];
    let noMoveSaid = false;
    let refusedPass: string | null = null;

    const moveTo = async (n: string, to: Account) => {
      const from = accountSids.get(where(n).account)!;
      const [number] = await ownClient(env, from).incomingPhoneNumbers.list({ phoneNumber: n });
      await env.parent.api.v2010
        .accounts(from)
        .incomingPhoneNumbers(number!.sid)
        .update({ accountSid: accountSids.get(to)! });
      places.get(n)!.push({ at: t, account: to, service: null });
    };
    const pass = async () => {
      try {
        const out = await withDb(
          { path: db, migrationsDir: MIGRATIONS_DIR, clock: clock() },
          async (d) => {
            const r = await runReconcile(
              { since: null },
              { twilio: env.port(), db: d, clock: clock(), runner: TEST_RUNNER },
            );
            const named = d
              .prepare('SELECT violating_message_sid AS sid FROM violations')
              .all() as { sid: string }[];
            return {
              at: t,
              result: r,
              exit3: failsOnViolation(r, reconcileTotals(d).violations),
              named: new Set(named.map((v) => v.sid)),
            };
          },
        );
        passes.push(out);
        const r = out.result;
        return `reconcile: ${r.newViolations} new, pending ${r.pending}, unread ${r.unread.length}, notChecked ${r.notChecked.map((c) => c.reason).join('/') || 0}, notWhole ${r.notWhole?.customerIds.join('/') ?? '-'}, exit ${out.exit3 ? 3 : 0}`;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (message.startsWith('no number has been moved')) {
          noMoveSaid = true;
          return 'reconcile: no number has been moved';
        }
        if (message.startsWith('no completed snapshot has read')) {
          refusedPass = message;
          return `reconcile refused: ${message.slice(0, 80)}`;
        }
        result.errors.push(`reconcile threw: ${message}`);
        return `reconcile threw: ${message}`;
      }
    };

    /**
     * Plan (with its refresh) and apply `rows` (number, customer). `refuse` (a draw in [0, 1),
     * or null): just before apply's transfer of one of the plan's numbers (that draw picks
     * which) is sent, someone moves it by hand into another account, and Twilio refuses the
     * transfer (the apply ends failed). `places` is then read from the emulator.
     */
    const planAndApply = async (
      rows: readonly (readonly [string, 'acme' | 'beta'])[],
      refuse: number | null,
    ) => {
      const mapping = [
        'customer_id,customer_name,phone_number',
        ...rows.map(([n, c]) => `${c},${c === 'acme' ? 'Acme' : 'Beta'},${n}`),
        '',
      ].join('\n');
      let note = '';
      let refused = false;
      let failure: string | null = null;
      let applying = false;
      try {
        await withDb({ path: db, migrationsDir: MIGRATIONS_DIR, clock: clock() }, async (d) => {
          const { plan } = await runPlan(
            {
              mapping: parseMapping('m.csv', mapping),
              snapshot: true,
              credentials: 'auth-token',
              ...(carry ? { carry: { batchSize: 25 } } : {}),
            },
            { twilio: env.port(), db: d, clock: clock(), runner: TEST_RUNNER },
          );
          const real = env.port();
          let port = real;
          const transfers = plan.steps.filter((s) => s.action === 'transfer_number');
          const target =
            refuse === null ? undefined : transfers[Math.floor(refuse * transfers.length)];
          if (refuse !== null && target === undefined) note = ' (no transfer to meet)';
          if (target !== undefined) {
            port = Object.create(real) as TwilioPort;
            port.transferPhoneNumber = async (from, sid, to) => {
              if (sid === target.number_sid && !refused) {
                refused = true;
                await refreshAccounts();
                // Mostly into a third account (Twilio refuses the transfer); now and then
                // into the transfer's own target (Twilio finds it there, and answers as done).
                const away = (['parent', 'acme', 'beta'] as const).filter(
                  (a) => accountSids.has(a) && ![from, to].includes(accountSids.get(a)!),
                );
                const into = away.length > 0 && rng2.chance(0.8) ? rng2.pick(away) : nameOf(to);
                await env.parent.api.v2010
                  .accounts(from)
                  .incomingPhoneNumbers(sid)
                  .update({ accountSid: accountSids.get(into)! });
                places.get(target.phone_number)!.push({ at: t, account: into, service: null });
                note = ` (${short(target.phone_number)} moved by hand ${nameOf(from)} → ${into} as its transfer to ${nameOf(to)} arrived)`;
              }
              return real.transferPhoneNumber(from, sid, to);
            };
          }
          applying = true;
          const done = await runApply(applyInputOf(plan), {
            twilio: port,
            db: d,
            clock: clock(),
            runner: TEST_RUNNER,
            sleep: async () => undefined,
          });
          if (done.status !== 'completed') throw new Error(`apply ${done.status}`);
        });
      } catch (error) {
        failure = error instanceof Error ? error.message.split('\n')[0]! : String(error);
        if (refused) note += `, ${failure}`;
      }
      // Where each number is now, whatever became of the apply.
      await refreshAccounts();
      const state = await env.state();
      for (const n of numbers) {
        const now = state.numbers.find((x) => x.phone_number === n)!;
        const place = {
          at: t,
          account: nameOf(now.account_sid),
          service: now.messaging_service_sid,
        };
        const last = where(n);
        if (last.account !== place.account || last.service !== place.service)
          places.get(n)!.push(place);
      }
      subOfCustomer = new Map(
        (['acme', 'beta'] as const)
          .filter((c) => accountSids.has(c))
          .map((c) => [c, accountSids.get(c)!]),
      );
      return { failure, refused, applying, note };
    };
    /**
     * A later wave (seeds from 10000 on): one number's customer changed (or an unmapped number
     * given one), planned and applied as the first, with the mapping's other rows or alone.
     */
    const secondWave = async () => {
      const n = numbers[Math.floor(wave2Pick * numbers.length)]!;
      const before = customerOf.get(n) ?? null;
      const customer =
        before === 'acme' ? 'beta' : before === 'beta' ? 'acme' : wave2Pick < 0.5 ? 'acme' : 'beta';
      const others = wave2Whole
        ? numbers
            .filter((m) => m !== n && customerOf.get(m) !== null)
            .map((m) => [m, customerOf.get(m)!] as const)
        : [];
      const wave = await planAndApply([...others, [n, customer]], refuseSecond);
      if (!wave.applying) return `second wave (${short(n)} → ${customer}) refused: ${wave.failure}`;
      laterWave = { number: n, customer, at: t };
      return `second wave${wave2Whole ? ' (whole mapping)' : ''}: ${short(n)} ${before ?? 'stays'} → ${customer}${wave.note}${wave.failure !== null && !wave.refused ? ` (${wave.failure})` : ''}: ${numbers.map((m) => `${short(m)} in ${where(m).account}${where(m).service === null ? '' : ' (Shared)'}`).join(', ')}`;
    };

    const steps = 14 + rng.int(0, 8);
    const applyStep = rng.int(4, steps - 4);
    // Seeds from 10000 on only (drawn from their own dice: the main dice's draws, and so the
    // histories of the seeds below, are the same as without them).
    const wave2Step = extra && rng2.chance(0.5) ? rng2.int(applyStep + 1, steps - 1) : -1;
    const wave2Pick = rng2.next();
    const wave2Whole = rng2.chance(0.5);
    for (let k = 0; k < steps; k++) {
      if (k === wave2Step && applyAt !== null) {
        t += STEP;
        story.push(`${k}: ${await secondWave()}`);
      }
      t += STEP;
      const applied = applyAt !== null;
      let line: string;
      if (k === applyStep) {
        // ── plan (with its refresh) and apply ──
        const mapped = numbers.filter((n) => customerOf.get(n) !== null);
        const wave = await planAndApply(
          mapped.map((n) => [n, customerOf.get(n)!] as const),
          refuseFirst,
        );
        if (wave.failure !== null && !wave.refused) {
          result.skipped = `plan/apply at step ${k}: ${wave.failure}`;
          story.push(`${k}: ${result.skipped}`);
          return result;
        }
        applyAt = t;
        line = `plan and apply${wave.note}: ${numbers.map((n) => `${short(n)} in ${where(n).account}${where(n).service === null ? '' : ' (Shared)'}`).join(', ')}`;
      } else {
        const r = rng.next();
        const n = rng.pick(numbers);
        const person = rng.pick(recipients);
        const here = where(n);
        if (r < 0.3) {
          const body = rng.pick(['STOP', 'STOP', 'STOP', 'START', 'START', 'HELP']);
          const said = await env.control<{
            sid: string;
            messaging_service_sid: string | null;
            account_sid: string;
          }>('POST', '/__emulator/inbound', { from: person, to: n, body });
          keywords.push({
            at: t,
            from: person,
            to: n,
            service: said.messaging_service_sid,
            kind: body === 'STOP' ? 'out' : body === 'START' ? 'in' : 'other',
            account: here.account,
          });
          line = `${person.slice(-2)} says ${body} to ${short(n)} in ${here.account}${said.messaging_service_sid === null ? '' : ' through Shared'}`;
        } else if (r < 0.62) {
          const account = accountSids.get(here.account)!;
          let sid: string;
          let refused = false;
          try {
            const sent = await ownClient(env, account).messages.create({
              to: person,
              from: n,
              body: 'Sale!',
            });
            sid = sent.sid;
          } catch (error) {
            refused = true;
            sid = `refused ${String((error as { code?: number }).code)}`;
          }
          sends.push({ at: t, sid, from: n, to: person, account: here.account, refused });
          line = `${short(n)} texts ${person.slice(-2)} from ${here.account}${refused ? ' (refused)' : ''}`;
        } else if (r < 0.8) {
          const choices = (['parent', 'acme', 'beta'] as const).filter(
            (a) => accountSids.has(a) && a !== here.account,
          );
          if (choices.length === 0) {
            line = 'nothing';
          } else {
            const to = rng.pick(choices);
            await moveTo(n, to);
            line = `${short(n)} moved by hand ${here.account} → ${to}`;
          }
        } else if (r < 0.88) {
          if (here.account !== 'parent') {
            line = 'nothing';
          } else {
            const [number] = await env.parent.incomingPhoneNumbers.list({ phoneNumber: n });
            if (here.service === null) {
              await env.parent.messaging.v1
                .services(sharedSid)
                .phoneNumbers.create({ phoneNumberSid: number!.sid });
              places.get(n)!.push({ at: t, account: 'parent', service: sharedSid });
              line = `${short(n)} put in Shared by hand`;
            } else {
              await env.parent.messaging.v1.services(sharedSid).phoneNumbers(number!.sid).remove();
              places.get(n)!.push({ at: t, account: 'parent', service: null });
              line = `${short(n)} taken out of Shared by hand`;
            }
          }
        } else if (applied && r < 0.93) {
          line = await pass();
        } else {
          const subs = rng.chance(0.5)
            ? (['acme', 'beta'] as const).filter((a) => accountSids.has(a) && rng.chance(0.7))
            : [];
          await snapshotInto(db, env.port(), clock(), {
            accounts: subs.map((a) => accountSids.get(a)!),
          });
          line = `snapshot of the parent${subs.map((s) => ` and ${s}`).join('')}`;
        }
      }
      story.push(`${k}: ${line}`);
    }
    t += STEP;
    const last = await pass();
    story.push(`end: ${last}`);

    // ── the oracle ──
    const named = new Set<string>();
    const conn = new Database(db, { readonly: true });
    try {
      if (process.env['HAND_MOVE_DUMP'] !== undefined)
        console.log(
          JSON.stringify(conn.prepare('SELECT * FROM violations').all(), null, 1),
          JSON.stringify(
            conn
              .prepare(
                'SELECT phone_number, customer_id, source_account_sid, source_service_sid FROM customer_numbers',
              )
              .all(),
          ),
          JSON.stringify(
            await env
              .state()
              .then((s) => [
                s.parent_account_sid,
                s.accounts.map((a) => [a.friendly_name, a.sid]),
                s.services.map((x) => x.sid),
              ]),
          ),
        );
      for (const row of conn
        .prepare('SELECT violating_message_sid AS sid FROM violations')
        .all() as { sid: string }[])
        named.add(row.sid);
    } finally {
      conn.close();
    }
    const final = passes.at(-1);
    const lastPassOk = final !== undefined && last.startsWith('reconcile:');
    result.exit3 = lastPassOk && final.exit3;
    const truth = new Set<string>();
    /**
     * A send a pass at `by` must account for: before it, of a mapped number in its customer's
     * subaccount, or anywhere after the first apply (before the pass); of a number a second wave
     * before the pass maps for the first time, after that wave, or in that customer's subaccount.
     */
    const inScopeBy = (s: Send, by: number) => {
      if (applyAt === null || !(applyAt < by) || !(s.at < by)) return false;
      const customer = customerOf.get(s.from) ?? null;
      const account = accountSids.get(s.account);
      const later = laterWave?.number === s.from && laterWave.at < by ? laterWave : null;
      return (
        (customer !== null && (s.at > applyAt || account === subOfCustomer.get(customer))) ||
        (later !== null && (s.at > later.at || account === subOfCustomer.get(later.customer)))
      );
    };
    const violations = sends.filter(
      (s) => !s.refused && optedOut(keywords, places.get(s.from)!, s.from, s.to, s.at),
    );
    // Every pass before the last that would exit 0 has named each violation it must account for
    // (a scheduled job alerts on each pass, not only the last).
    // (Any violation known makes a pass exit 3: one that exits 0 must have none before it.)
    for (const p of passes.slice(0, -1)) {
      if (p.exit3) continue;
      result.earlierExit0 += 1;
      for (const s of violations) {
        if (inScopeBy(s, p.at) && !p.named.has(s.sid))
          result.missed.push(
            `by the pass at step ${Math.round((p.at - (applyAt ?? 0)) / STEP)} from the apply (exit 0): ${short(s.from)} → ${s.to.slice(-2)} from ${s.account} at step ${Math.round((s.at - (applyAt ?? 0)) / STEP)} (${s.sid})`,
          );
      }
    }
    for (const s of violations) {
      truth.add(s.sid);
      result.trueViolations += 1;
      if (!inScopeBy(s, Infinity)) continue;
      result.inScope += 1;
      const what = `${short(s.from)} → ${s.to.slice(-2)} from ${s.account} at step ${Math.round((s.at - (applyAt ?? 0)) / STEP)} from the apply (${s.sid})`;
      if (named.has(s.sid)) result.named += 1;
      else if (lastPassOk && final.exit3 && !noMoveSaid) result.flagged += 1;
      else if (refusedPass !== null && !lastPassOk) result.flagged += 1;
      else result.missed.push(what);
    }
    for (const sid of named) {
      if (truth.has(sid)) continue;
      const s = sends.find((x) => x.sid === sid);
      result.falseOnes.push(
        s === undefined
          ? `${sid} (not a send of the trial)`
          : `${short(s.from)} → ${s.to.slice(-2)} from ${s.account} at ${Math.round((s.at - (applyAt ?? 0)) / STEP)} steps from the apply (${sid})`,
      );
    }
    return result;
  } finally {
    await env.close();
    dir.remove();
  }
}
