/**
 * reconcile's verdicts at the scale of a big ISV: `findViolations` alone (no SQLite, no Twilio),
 * in this process, over generated inputs — moved numbers in shared Messaging Services whose
 * service-wide opt-outs are on the list of each of their numbers, sends after the move (some to
 * listed people, some of those refused with 21610, some with no sender or from an RCS agent,
 * some from numbers that did not move) and opt-ins back (to a number, or through a service).
 * The baseline, timed in the same run over the same inputs, is the algorithm it replaced
 * (test/support/violations-by-scan.ts: each send scans its list, each listed send the opt-ins);
 * both must give the same verdicts. At the default scale (a big ISV's: 200 numbers, lists of
 * 50,000, 100,000 sends) the baseline alone takes minutes; `--reconcile-sends 10000` a tenth.
 * Flags: --reconcile-numbers N, --reconcile-list N (pairs per list), --reconcile-sends N,
 * --reconcile-optins N.
 */

import { isDeepStrictEqual } from 'node:util';

import type { MovedNumber } from '../../src/db/reconcile.js';
import {
  findViolations,
  type OptIn,
  type SentMessage,
  type SuppressedPair,
  type Verdicts,
} from '../../src/reconcile/violations.js';
import { prng } from '../support/prng.js';
import { violationsByScan } from '../support/violations-by-scan.js';

import { flag, log, n } from './support.js';

const NUMBERS = flag('reconcile-numbers', 200);
const LIST = flag('reconcile-list', 50_000);
const SENDS = flag('reconcile-sends', 100_000);
const OPT_INS = flag('reconcile-optins', 5_000);
const PER_SERVICE = 20;
/** Of each list, the part its service's opt-outs make (the rest: the number's own). */
const SERVICE_SHARE = 0.9;

const MOVE = '2026-11-01T10:00:00Z';
const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const T0 = Date.parse('2026-01-01T00:00:00Z');
const T_MOVE = Date.parse(MOVE);
const sid = (prefix: string, i: number) => `${prefix}${String(i).padStart(32, '0')}`;
const person = (i: number) => `+1${String(3_000_000_000 + i).padStart(10, '0')}`;

interface Inputs {
  moved: MovedNumber[];
  lists: Map<string, SuppressedPair[]>;
  sends: SentMessage[];
  optIns: OptIn[];
  sendersOf: (send: SentMessage) => readonly MovedNumber[];
  entries: number;
}

function inputs(): Inputs {
  const r = prng(7);
  const services = Math.ceil(NUMBERS / PER_SERVICE);
  const people = Math.max(1_000_000, LIST * 4);
  const pair = (): SuppressedPair => ({
    recipient: person(r.int(0, people - 1)),
    stopMessageSid: r.chance(0.1) ? null : sid('SM', r.int(0, 1e9)),
    optedOutAt: at(r.int(T0, T_MOVE - 1)),
  });
  const serviceSid = (s: number) => sid('MG', s);
  const servicePairs = Array.from({ length: services }, () =>
    Array.from({ length: Math.round(LIST * SERVICE_SHARE) }, pair),
  );
  const moved: MovedNumber[] = [];
  const lists = new Map<string, SuppressedPair[]>();
  const inService = new Map<string, MovedNumber[]>();
  for (let i = 0; i < NUMBERS; i++) {
    const s = Math.floor(i / PER_SERVICE);
    const m: MovedNumber = {
      numberSid: sid('PN', i),
      phoneNumber: `+1${String(2_000_000_000 + i)}`,
      customerId: `c${s}`,
      subaccountSid: sid('AC', 1 + s),
      sourceAccountSid: sid('AC', 0),
      sourceServiceSid: serviceSid(s),
      movedAt: MOVE,
      moveBegan: MOVE,
      subaccountCreatedAt: null,
    };
    moved.push(m);
    inService.set(serviceSid(s), [...(inService.get(serviceSid(s)) ?? []), m]);
    const own = Array.from({ length: LIST - servicePairs[s]!.length }, pair);
    // Interleaved as SQLite hands them over (by recipient, not by scope).
    lists.set(m.phoneNumber, r.shuffle([...servicePairs[s]!, ...own]));
  }
  const sends: SentMessage[] = [];
  for (let i = 0; i < SENDS; i++) {
    const m = r.pick(moved);
    const list = lists.get(m.phoneNumber)!;
    const listed = r.chance(0.1);
    const to = listed ? r.pick(list).recipient : person(r.int(0, people - 1));
    const kind = r.next();
    sends.push({
      sid: sid('SM', 1e9 + i),
      accountSid: m.subaccountSid,
      from:
        kind < 0.01
          ? ''
          : kind < 0.03
            ? 'rcs:brand_agent'
            : kind < 0.05
              ? `+1${String(4_000_000_000 + i)}`
              : m.phoneNumber,
      to,
      status: 'delivered',
      errorCode: listed && r.chance(0.6) ? 21610 : null,
      messagingServiceSid: m.sourceServiceSid,
      sentAt: at(T_MOVE + r.int(0, 30 * 86_400_000)),
    });
  }
  const optIns: OptIn[] = Array.from({ length: OPT_INS }, () => {
    const m = r.pick(moved);
    return {
      recipient: r.pick(lists.get(m.phoneNumber)!).recipient,
      twilioNumber: m.phoneNumber,
      messagingServiceSid: r.chance(0.5) ? m.sourceServiceSid : null,
      at: at(r.int(T0, T_MOVE + 30 * 86_400_000)),
    };
  });
  const sendersOf = (send: SentMessage) =>
    send.messagingServiceSid === null ? [] : (inService.get(send.messagingServiceSid) ?? []);
  return { moved, lists, sends, optIns, sendersOf, entries: NUMBERS * LIST };
}

function timed(judge: () => Verdicts): { verdicts: Verdicts; seconds: number } {
  const started = performance.now();
  const verdicts = judge();
  return { verdicts, seconds: (performance.now() - started) / 1000 };
}

export async function benchReconcile(): Promise<string> {
  log('reconcile: building the inputs…');
  const input = inputs();
  const args = [input.moved, input.lists, input.sends, input.optIns, input.sendersOf] as const;
  log('reconcile: baseline, the verdicts by scanning each list…');
  const baseline = timed(() => violationsByScan(...args));
  log('reconcile: the verdicts…');
  const runs = [1, 2, 3].map(() => timed(() => findViolations(...args)));
  const seconds = runs.map((run) => run.seconds).sort((a, b) => a - b)[1]!;
  const same = runs.every((run) => isDeepStrictEqual(run.verdicts, baseline.verdicts));
  const { verdicts } = baseline;
  return [
    `reconcile bench: ${n(NUMBERS)} moved numbers in ${n(Math.ceil(NUMBERS / PER_SERVICE))} services, ` +
      `lists of ${n(LIST)} pairs (${n(input.entries)} entries), ${n(SENDS)} sends, ${n(OPT_INS)} opt-ins`,
    `  verdicts: ${n(verdicts.checked)} sends checked, ${n(verdicts.violations.length)} violations, ` +
      `${n(verdicts.blocked.length)} blocked; the same as the baseline's: ${same ? 'yes' : 'NO'}`,
    `  reconcile-verdicts: findViolations ${n(seconds, 3)} s (median of 3)`,
    `  baseline, same run: scanning each list for each send ${n(baseline.seconds, 2)} s; ` +
      `findViolations takes ${n(seconds / baseline.seconds, 4)}x that (${n(baseline.seconds / seconds, 0)}x faster)`,
  ].join('\n');
}
