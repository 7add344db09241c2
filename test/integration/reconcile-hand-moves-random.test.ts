/**
 * Numbers moved by hand around a migration, against an oracle that sees the whole history
 * (test/support/hand-move-fuzz.ts): per seed, hand moves between the parent and two
 * customers' subaccounts and in and out of a shared Messaging Service, STOP / START / other
 * inbound, sends, snapshots, one plan and apply, reconcile passes. Every true violation of a
 * moved number (in its customer's subaccount, or anywhere after the apply) must be named by
 * the last pass, or that pass must say it cannot vouch for it (exit 3 with
 * `--fail-on-violation`, or a refusal); violations the tool names and the oracle does not are
 * printed with their seed (fail-safe over-reporting, allowed).
 *
 * The fixed seeds pass, and seeds 10, 68, 174, 196, 340, 533, 734, 2358 and 2433 with them.
 * Seed 10: a STOP said to a moved number in its subaccount after the move, the number then moved by hand into
 * another customer's one, which texts the person (held since to the STOPs a number took in another
 * account since it moved; test/integration/reconcile-stop-then-moved-by-hand.test.ts tells the
 * story by hand). Seeds 68 and 174: a moved number moved by hand into the parent or a
 * subaccount no pass reads and back between two passes, sending from there (68) or hearing a
 * STOP there (174); the pass that lists it back in its subaccount reads its `date_updated`,
 * later than apply last changed it, and reads the family's messages of the number since it
 * came in: one it sent or heard elsewhere keeps it `number-updated` (exit 3), naming the account
 * (reconcile-number-away-and-back.test.ts), and a span with none is vouched for. Seed
 * 340: a mapped number the plan found already in its customer's subaccount (no step of apply's
 * moved it, no listing saw it elsewhere), moved by hand after the apply into another customer's
 * subaccount, which texts someone who said STOP to it in its own; each pass now looks for such
 * a number as for a moved one, and names it `number-away`. (test/integration/
 * reconcile-number-away-and-back.test.ts tells 68, 174 and 340 by hand.) Seed 196 passes only
 * because its number, found in place like 340's, is moved by hand into the parent after the
 * apply and named away (exit 3): its misses are sends before the plan, of the kind below.
 * Seed 900: a number moved by hand into another customer's subaccount before any listing, found
 * there by the plan (its source) and moved on by apply, then moved back there by hand, texting
 * someone who said STOP to it in the parent since; its sends from the account it came from were
 * passed over as its source's (test/integration/reconcile-number-back-where-it-came-from.test.ts
 * tells it by hand). Seed 662: a number a snapshot saw in another customer's subaccount (moved
 * there by hand), told STOP there after it, moved back by hand into the parent where the plan
 * found it (recorded as coming from that subaccount) and moved by apply into its own, which
 * texts the person; that subaccount, read only up to the snapshot, counted as read, and the
 * list as whole. It now counts as read only up to the plan's listing that saw the number
 * elsewhere: the list is not whole (exit 3) until a snapshot reads it
 * (test/integration/reconcile-source-left-by-hand.test.ts). The fix was backed out once
 * (29c3ce0): it also took a number a killed apply had begun to transfer out of its source (the
 * step in flight, the run given up for a plan made again) for one left by hand, and the
 * finished run's lists for not whole (apply-again-after-replan). A departure whose transfer
 * an apply of the same database began (its intent in the journal, whatever became of the step
 * or the run) is now never taken for a hand's (test/db/departures-by-hand.test.ts), and 662 is
 * a fixed seed again.
 *
 * Seeds 1–1000 (601–1000 first run, and 1–1000 again, after 900 and 662 were fixed; 318 and
 * 492, moved away and back between two passes, pass since 7c015f4) missed true violations in
 * four, 221, 533, 734 and 844, all of one kind, which 196 shares: a number that was in the
 * parent's Shared only before any listing — moved by hand out of the parent, and so out of the
 * service, before the first listing (221, 533, 734), or put in Shared by hand and taken out
 * again before it (844) — that sent from its customer's subaccount (221: before the plan; 533,
 * 734, 844: after the apply) to someone who had said STOP through Shared, to another number,
 * while it was in it. No listing saw the number in Shared (734's first listing saw it in
 * another customer's subaccount, the plan's back in the parent, neither in Shared). 533 and
 * 734 pass since a message of the number's own through Shared, which a snapshot read, counts
 * as evidence it was in it (a send from it in the parent while still in Shared: 533's at step
 * 8, 734's at step 4; docs/opt-out-rules.md, "A number's suppression list";
 * reconcile-service-sent-through.test.ts tells it by hand, where reconcile names the send): its
 * list carries Shared, and both run with --carry-optouts, so Twilio now refuses the send (no
 * violation left) as the carry wrote the STOP for its customer's service.
 * 221 and 844 still miss: 844's number sent from the parent only after it was taken out of
 * Shared, and 221's only from a subaccount before the move, which no pass reads; nothing of its
 * own came through Shared. Knowing it was in the parent would not put Shared's STOP on its
 * list either: holding every number to every service's STOPs said before its first listing
 * would put a year of the parent's service-wide STOPs on every list. The evidence names one
 * send the oracle does not hold, fail-safe: fixed seed 5500, a number that sent through Shared
 * and was moved out by hand before someone's STOP through it, no listing between (it may have
 * been in Shared then).
 *
 * Seeds 1001–1600 miss in two more, of that kind alone: 1225 (a number moved by hand out of
 * the parent before any listing, texting from its customer's subaccount before the plan someone
 * who had said STOP through Shared to another number while it was in it, as 221) and 1177 (the
 * same, from its subaccount before the plan and after the apply, as 221; it sent nothing through
 * Shared). They name three sends the oracle does not hold, all fail-safe: 1082 and 1599, a
 * number put in Shared by hand after someone's STOP through it, no listing before that STOP (it
 * may have been in Shared then); 1236, a send of another number refused while both were in
 * Shared, the refusal's STOP said to that number alone, taken as said through the service.
 *
 * Seeds 1601–2000 miss nothing. They name two sends the oracle does not hold, both fail-safe, a
 * STOP said through Shared to another number after the number had left it by hand: 1635, taken
 * out of Shared between the snapshot that saw it there and the plan's listing that saw it out
 * (when it left, nobody knows); 1672, a snapshot saw it out of Shared before the STOP, which
 * its list keeps all the same (docs/opt-out-rules.md: a STOP said to a service after the
 * number left it stays on its list, the safe reading).
 *
 * Seeds 2001–2400 (first run) missed in two. 2282: a moved number moved by hand out of its
 * subaccount into the parent, told STOP there, then moved on by hand into the other customer's
 * subaccount (one passes read), texting the person from there; the pass held its sends there
 * to its list and to the STOPs said to it in accounts passes read, and exited 0. Each pass now
 * reads the family's messages from when it last came into its subaccount to its arrival there
 * (`number-updated`; test/integration/reconcile-number-away-and-back.test.ts), and 2282 is
 * flagged. 2358 missed: a number moved by hand out of the parent (after a STOP said to it
 * through Shared) into its customer's subaccount before any listing, texting the person from
 * there, then moved by hand into the other customer's, where the plan found it (a snapshot
 * between listed only the parent and that one): apply moved it into its own, and its sends there
 * before the plan, seen by no listing, were judged by no pass. A pass now reads its
 * subaccount from the last it was known elsewhere before it was first seen in its source, and
 * holds its sends there before the transfer to its list: 2358 is named, a fixed seed
 * (test/integration/reconcile-number-there-before-its-source.test.ts tells it by hand).
 * Seeds 2001–2400 name one send the oracle does not hold, fail-safe: 2022, a number put in
 * Shared by hand after a STOP through it, no listing before that STOP (1082's). With the 2282
 * fix, 6 of the 800 seeds 1601–2400 more end with the last pass exit 3, 2282 among them
 * (1601–2000: 236, was 234; 2001–2400: 238, was 234), and none misses more.
 *
 * Seeds 2401–2600 (first run, with that fix) miss in two. 2537 is of the kind above (a number in
 * Shared only before any listing, the plan's the first). 2433 is not: the only mapped number was
 * moved by hand into its customer's subaccount before any listing, so the plan found it in place
 * and apply moved nothing; told STOP there after the apply, moved out by hand into the parent,
 * it texts the person from there, and the pass refused with "no number has been moved"
 * (movedToReconcile counted moved numbers only, not those found in place: not exit 0, but no
 * span named). Both missed before the fix too. A pass now runs when an applied plan found a
 * mapped number in place though none moved, and names 2433's `number-away` (exit 3;
 * test/integration/reconcile-found-in-place-only.test.ts tells it by hand).
 *
 * Seeds 2601–2800 (first run, in chunks of 30) miss nothing: 78 true violations, 65 of moved
 * numbers (39 named, 26 not named under exit 3), 129 last passes exit 3. They name eight sends
 * the oracle does not hold, all fail-safe. 2668 and 2671 (two each) are 1635's: a STOP said
 * through Shared after the number was taken out of it by hand, between a snapshot that saw it
 * there and the plan's listing that saw it out. 2689 (three) and 2743 (one) are of one kind
 * not named above: a STOP and then a START said to the number through Shared, which no listing
 * ever saw it in, the START its last message through Shared before it left by hand
 * (docs/opt-out-rules.md, "A service's opt-outs after the number left it": a START from that
 * message's second on may have come after it left, and lifts nothing), so its sends to that
 * person from its customer's subaccount are named.
 *
 * Seeds 1–120 (run again after the day's reconcile changes, 8cc885e–8cdc4fe: the two minutes
 * after a transfer, later waves, migration 035) and 2801–2900 (first run), in chunks of 30, miss
 * nothing, and every pass of every seed says the same as at eff3a6e, before them (its new
 * findings, pending, unread, not checked and exit code). 1–120: 57 true violations, 41 of moved
 * numbers (24 named, 17 not named under exit 3), 82 last passes exit 3, none named that the
 * oracle does not hold. 2801–2900: 40 true violations, 30 of moved numbers (24 named, 6 not
 * named under exit 3), 58 last passes exit 3, and one send named that the oracle does not hold,
 * fail-safe, of a kind not named above: 2822, a STOP said through Shared to the number itself
 * (its own evidence, no listing ever saw it in Shared), the number taken out of Shared by hand,
 * then a START to it in the parent through no service; docs/opt-out-rules.md holds that only an
 * opt-in to the number in the same scope (through the service) lifts its own STOP through it, so
 * its send to that person from its customer's subaccount is named (at eff3a6e too).
 *
 * Seeds from 10000 on also meet apply's transfer of a number with a hand move as it arrives
 * (Twilio refuses it, the apply ends failed, the history goes on) and make a later wave (one
 * number's customer changed, or an unmapped number given one), each now and then, drawn from
 * dice of their own (test/support/hand-move-fuzz.ts): the seeds below tell the same stories
 * as before. Seed 10062 missed: the only number of the first wave (beta's; a snapshot saw it in
 * the parent, then it was moved by hand into Beta's subaccount and on into Acme's, where R1 said
 * STOP to it and the plan found it) was moved by hand into the parent as apply's transfer of it
 * arrived (refused, the apply failed), and texted R1 from there; the pass after it refused with
 * "no number has been moved" (exit 1, no span named), as 2433's did. A pass now runs for a
 * number whose transfer failed or was not run though none moved
 * (test/integration/reconcile-transfer-failed-only.test.ts tells it by hand, into Other). The pass
 * then ran and exited 0, the last pass alone flagging the number: the plan had recorded it as
 * coming from the parent (a snapshot saw it there) and found it in Acme's, where the STOP was
 * said; back in the parent, it was taken for still where it comes from. A number whose transfer
 * failed is now named away in either account when the two differ (that file's last case).
 *
 * Seeds 10001–11200 (first run, with both fixes, in chunks of 30: 312 first applies had a
 * transfer refused and 142 met by a move into the transfer's own target, and 612 second waves
 * were applied, 121 with a transfer refused): 509 true violations, 426 of mapped numbers in
 * scope (282 named, 137 not named under exit 3), 965 last passes exit 3. Seven sends in four
 * seeds missed, all of the kind above (221, 844, 1177: a number in Shared only before any
 * listing, which it left by hand, texting from its customer's subaccount someone who said STOP
 * through Shared while it was in it): 10161, 10409 (neither a refusal nor a later wave in its
 * story), 10553 and 11154. They name 25 sends in 20 seeds the oracle does not hold, fail-safe;
 * of those in 10001–10600, 1635's and 1082's kind (a STOP through Shared, no listing dating
 * when the number left or joined it: 10233, 10235, 10332, 10479, 10526, 10532), 1236's (10244),
 * and one of later waves: a START said to the number itself in its first wave's subaccount,
 * after a STOP in the parent, the second wave then moving it on, its list still holding the
 * STOP (10034, 10084). Seeds 1–30 tell the same stories as before, pass for pass. 11186 is
 * 1082's kind, reached through a refusal: R said STOP through Shared to one number before any
 * listing; another, moved into its customer's subaccount by apply, was moved by hand into the
 * parent, put in Shared and refused there when it texted R (the refusal its only sign of
 * Shared), then moved back: the pass holds its sends to R since the move, before the refusal
 * and after it left Shared (docs/opt-out-rules.md, "A STOP said after the move, in another
 * account"); with the refused send taken out of the story, neither is named.
 *
 * Seeds 11201–12400 (first run, in chunks of 30) miss nothing. 11201–11800: 253 true
 * violations, 213 of mapped numbers in scope (137 named, 76 not named under exit 3), 477 last
 * passes exit 3; 11801–12400: 247, 207 (141 named, 66 not named under exit 3), 460. They name
 * 23 sends in 18 seeds the oracle does not hold, fail-safe, all of kinds above: 1635's (11710,
 * 11785, 12195), 1672's (11228, 11369, 12190: a message of its own through no service saw it
 * out), 1082's (11275, 11541, 11729, 11908, 12195, 12373), 1236's (11382, the number out of
 * Shared by hand unseen before the refusal; 12284), 2689's (11557, 11577; 11700's START was
 * said through Shared to another number after the last time the ledger saw it there, over its
 * own STOP through Shared), 2822's (11925, the START to it in the subaccount it was moved into
 * by hand as its transfer arrived) and 10034's (11741, the number found in place by the first
 * wave).
 *
 * Seeds 12401–12700 (first run, in chunks of 30: 125 true violations, 102 in scope, 78 named,
 * 22 not named under exit 3, 238 last passes exit 3) miss in two. 12517 is of the kind above (a
 * number in Shared only before any listing). 12586 was not: R said STOP to A in the parent; A,
 * moved by hand into Acme's subaccount before any listing, texted R from there; the first wave's
 * plan found it in place, and a second wave moved it on into Beta's before any pass: no pass
 * judged its span in Acme's before the first plan (nothing named, nothing not checked, exit 0;
 * with a pass between the waves the send was named). Each pass now reads that stay
 * (reconcile-found-in-place-later-wave), and 12586 is a fixed seed. They name four sends the
 * oracle does not hold, fail-safe: 1082's (12438), 1672's (12447, 12516), and 12561, a STOP
 * through Shared after the number left it at the apply (moved by hand as its transfer arrived,
 * Twilio refusing the transfer): a number whose transfer failed is held to its source's list as
 * it stands now, as the journal cannot date when it left by hand.
 *
 * Seeds 12701–14020 (first run, in chunks of 120: 498 true violations, 385 in scope, 247 named,
 * 126 not named under exit 3, 1,039 last passes exit 3) missed in nine. Six are of the kind
 * above, a number in Shared only before any listing (12991, 13124, 13338, 13674, 13784, 13893;
 * 13674's earlier pass at exit 0 was caught by the every-pass check too). 12940 and 13169 (fixed
 * seeds) were of a new kind: a number moved by hand into another customer's subaccount the
 * mapping does not name, before any listing, where someone said STOP to it, then by hand into
 * its own customer's, where the plan found it in place; no snapshot read that subaccount, and its
 * own texted the person (exit 0, nothing named). Its `date_updated`, later than where the
 * ledger's history of its subaccount begins, now has a pass read the family's messages of it
 * from there (a STOP heard elsewhere before the plan counts, its other traffic then does not):
 * both name it under exit 3 (reconcile-found-in-place-arrived-by-hand tells 12940 by hand).
 * 13537 (a fixed seed) was 12586's kind, still missed after its fix: a snapshot had listed the
 * number in the parent before it was moved by hand, so the plans recorded the parent as its
 * source and the later wave's transfer, out of Acme's, its only one, was taken for a move out of
 * the parent; the transfer's journaled request now says whose it was
 * (reconcile-found-in-place-later-wave's third case). Seeds 1-60 and 10001-10120 end as before,
 * but for 10096, whose Beta's stay (found in place, moved on by the second wave, no pass
 * between, no number left there) is now not checked, exit 3 for good, as a moved number's is.
 * They name 17 sends the oracle does not hold, fail-safe.
 *
 * More seeds: `SEEDS=1-300 npx vitest run test/integration/reconcile-hand-moves-random.test.ts`
 * (`HAND_MOVE_SEEDS` too; `HAND_MOVE_STORIES=1` prints every history, `HAND_MOVE_DUMP=1` the
 * violations table and plan sources). In-process (no build needed).
 */

import { describe, expect, it } from 'vitest';

import { runHandMoveTrial, type HandMoveTrialResult } from '../support/hand-move-fuzz.js';
import { seedsFromEnv } from '../support/prng.js';

const FIXED_SEEDS = [
  ...Array.from({ length: 29 }, (_, i) => 5500 + i),
  10,
  68,
  174,
  196,
  340,
  533,
  662,
  734,
  900,
  2358,
  2433,
  10062,
  12586,
  13537,
  12940,
  13169,
];
const SEEDS = seedsFromEnv('HAND_MOVE_SEEDS') ?? seedsFromEnv('SEEDS') ?? FIXED_SEEDS;

describe('reconcile over numbers moved by hand, against an oracle of the whole history', () => {
  it(`misses no violation of a moved number over ${SEEDS.length} random histories`, async () => {
    const results: HandMoveTrialResult[] = [];
    for (const seed of SEEDS) {
      const r = await runHandMoveTrial(seed);
      results.push(r);
      if (
        r.missed.length > 0 ||
        r.errors.length > 0 ||
        r.falseOnes.length > 0 ||
        process.env['HAND_MOVE_STORIES'] !== undefined
      ) {
        console.log(
          [
            `seed ${seed}:`,
            ...r.story.map((s) => `  ${s}`),
            ...r.missed.map((m) => `  MISSED ${m}`),
            ...r.falseOnes.map((m) => `  not a violation to the oracle: ${m}`),
            ...r.errors.map((m) => `  ERROR ${m}`),
          ].join('\n'),
        );
      }
    }
    const sum = (key: 'trueViolations' | 'inScope' | 'named' | 'flagged' | 'earlierExit0') =>
      results.reduce((n, r) => n + r[key], 0);
    const skipped = results.filter((r) => r.skipped !== null);
    console.log(
      `${results.length} seeds (${skipped.length} plan/apply refused): ${sum('trueViolations')} true violations, ` +
        `${sum('inScope')} of moved numbers: ${sum('named')} named, ${sum('flagged')} not named under exit 3, ` +
        `${results.reduce((n, r) => n + r.missed.length, 0)} missed; ` +
        `${results.reduce((n, r) => n + r.falseOnes.length, 0)} named that the oracle does not know; ` +
        `${results.filter((r) => r.exit3).length} last passes exit 3; ` +
        `${sum('earlierExit0')} earlier passes exit 0`,
    );
    for (const r of skipped) console.log(`seed ${r.seed} skipped: ${r.skipped}`);
    const failed = results
      .filter((r) => r.missed.length > 0 || r.errors.length > 0)
      .map((r) => r.seed);
    expect(failed, `failing seeds: ${failed.join(', ')} (rerun with SEEDS=<seed>)`).toEqual([]);
    if (SEEDS === FIXED_SEEDS) expect(sum('named')).toBeGreaterThan(0);
  }, 600_000);
});
