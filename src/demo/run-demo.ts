/**
 * `submigrate demo`: the whole product on a local emulator, unattended. It snapshots the
 * opt-out history and checks the ledger against the emulator's ground truth; shows the parent
 * refusing a text to someone who said STOP; plans the Owlie migration with --carry-optouts
 * and applies it; then plays the customers' side: one customer's app texting people on its
 * suppression list (refused: the opt-outs were carried), another's doing the same from a
 * subaccount without Consent API access (sent: violations), and an end user texting a moved
 * number (same webhook as before, now signed with the subaccount's token). Reconcile finds the
 * violations, and the report page shows it all.
 */

import { basename, join } from 'node:path';

import type { Clock } from '../clock.js';
import { previousSubaccounts } from '../db/customers.js';
import { listRunConsentItems } from '../db/consent-journal.js';
import { listSteps, type LockRunner } from '../db/journal.js';
import { reconcileTotals } from '../db/reconcile.js';
import type { Db } from '../db/open.js';
import { TwilioError } from '../errors.js';
import { exportOptOuts, optOutsCsv, type OptOutExportRow } from '../optouts/export.js';
import { isTollFree } from '../optouts/keywords.js';
import { DEFAULT_RETENTION_DAYS, takeSnapshot } from '../optouts/snapshot.js';
import { runApply } from '../apply/run-apply.js';
import { parseMapping, type Mapping } from '../plan/mapping.js';
import { readSealedPlan, serializePlan } from '../plan/plan-file.js';
import { carryLine, planSummaryLine, renderPlan } from '../plan/render.js';
import { runPlan } from '../plan/run-plan.js';
import { runReconcile } from '../reconcile/run-reconcile.js';
import type { FileContent } from '../files.js';
import { compareText } from '../text-order.js';
import type { TwilioPort } from '../twilio/port.js';
import type { DemoApp, ReceivedWebhook } from './demo-app.js';

/** One opted-out pair as the emulator's hidden store has it. */
export interface GroundTruthPair {
  account_sid: string;
  scope: string;
  sender_number: string;
  messaging_service_sid: string | null;
  recipient: string;
  message_sid: string;
}

/** What the demo asks of the emulator beyond Twilio's API: its control plane. */
export interface DemoEmulator {
  /** The emulator's own opt-out store (real Twilio never shows it). */
  groundTruth(): Promise<GroundTruthPair[]>;
  /** Twilio's side of a setting no API shows: this account has no Consent API access. */
  denyConsentApi(accountSid: string): Promise<void>;
  /** An end user's phone texting a Twilio number. */
  textIn(from: string, to: string, body: string): Promise<void>;
  /** The Auth Token an account's owner (the customer's app) holds. Never printed. */
  authTokenOf(accountSid: string): string;
}

export interface DemoDeps {
  twilio: TwilioPort;
  /** The Owlie mapping (plans/owlie-customers.csv) and where it was read from. */
  mapping: { path: string; text: string };
  db: Db;
  clock: Clock;
  runner: LockRunner;
  emulator: DemoEmulator;
  /** Owlie's application, receiving the webhooks. */
  app: DemoApp;
  writeFile(path: string, text: FileContent): void;
  /** Writes an apply run's reports; returns their folder. */
  writeReports(runId: number): string;
  print(line: string): void;
  sleep(ms: number): Promise<void>;
}

export interface DemoResult {
  messagesRead: number;
  optedOutPairs: number;
  matchingPairs: number;
  /** Opted-out people whose STOP is older than the Messages API's window (Bulk Export only). */
  onlyExport: number;
  /** The campaign's sends Twilio refused (carried opt-outs) and those it let through. */
  refused: number;
  violations: number;
  /** Whether the end user's text reached the same URL, signed with the subaccount's token. */
  webhookKept: boolean;
  reportPage: string;
  files: string[];
}

const n = (value: number) => value.toLocaleString('en-US');
const pairKey = (p: {
  account_sid: string;
  messaging_service_sid: string | null;
  sender_number: string;
  recipient: string;
}) => `${p.account_sid}|${p.messaging_service_sid ?? p.sender_number}|${p.recipient}`;

/** How many lines of the printed plan the demo shows before pointing at the file. */
const PLAN_LINES_SHOWN = 12;
/** People on a list each customer's campaign tries to text. */
const CAMPAIGN_OPTED_OUT = 3;

export async function runDemo(outDir: string, deps: DemoDeps): Promise<DemoResult> {
  const { print } = deps;
  // Read as the copy the demo writes beside the plan and names in step 5, the mapping a reader
  // has: the plan file, and the reports after it, name it (they named the package's
  // plans/owlie-customers.csv, a path relative to no folder the demo told of).
  const mappingCopy = join(outDir, basename(deps.mapping.path));
  const mapping = parseMapping(mappingCopy, deps.mapping.text);
  const customerOfNumber = new Map(mapping.rows.map((r) => [r.phoneNumber, r]));

  // 2. Snapshot, checked against the emulator's own store.
  const started = deps.clock.now().getTime();
  const snapshot = await takeSnapshot(
    { accounts: [], since: null, until: null, partitions: 8, madeBy: 'demo' },
    { twilio: deps.twilio, db: deps.db, clock: deps.clock, runner: deps.runner },
  );
  const seconds = Math.max((deps.clock.now().getTime() - started) / 1000, 0.001);
  const { ledger } = snapshot;
  print(
    `2. Snapshot: read ${n(snapshot.messagesRead)} messages in ${seconds.toFixed(1)} s ` +
      `(${n(Math.round(snapshot.messagesRead / seconds))}/s; ${n(snapshot.exportMessagesRead)} of them from ` +
      `${n(snapshot.exportDays)} Bulk Export day files, older than the Messages API's 400 days) into the ledger: ` +
      `${n(ledger.optOut)} opt-out keywords, ${n(ledger.optIn)} opt-ins, ${n(ledger.help)} HELP, ` +
      `${n(ledger.refused)} sends refused with 21610.`,
  );
  const exported = exportOptOuts(deps.db);
  // Opted out by a message the Messages API no longer shows: only the day files had it.
  const apiBoundary = deps.clock.now().getTime() - DEFAULT_RETENTION_DAYS * 86_400_000;
  const onlyExport = exported.optouts.filter(
    (row) => row.opted_out_at !== null && Date.parse(row.opted_out_at) < apiBoundary,
  ).length;
  const truth = await deps.emulator.groundTruth();
  const ours = new Map(
    exported.optouts.map((row) => [pairKey(rowAsPair(row)), row.stop_message_sid]),
  );
  const matching = truth.filter((pair) => ours.get(pairKey(pair)) === pair.message_sid).length;
  print(
    `   ${n(exported.optouts.length)} people are opted out right now. Against the emulator's own store ` +
      `(which real Twilio never shows): ${n(matching)} of ${n(truth.length)} pairs match, each with its latest STOP as evidence.`,
  );
  print(
    `   ${n(onlyExport)} of them opted out more than 400 days ago: the Messages API no longer shows ` +
      `those STOPs, Twilio still enforces them, and only Bulk Export revealed them.`,
  );

  // Two customers to follow: A, whose opt-outs will be carried; B, whose will not.
  const numberScope = exported.optouts.filter(
    (row) => row.scope === 'number' && customerOfNumber.has(row.sender_number ?? ''),
  );
  const [a, b] = busiestCustomers(mapping, numberScope);
  const pair = numberScope.find(
    (row) => customerOfNumber.get(row.sender_number!)?.customerId === a.customerId,
  )!;

  // 3. Trap one: the parent refuses the text; it will forget once the number moves.
  const body = 'Reminder: your appointment is tomorrow at 10:00.';
  print(
    `3. The trap, on one number: ${pair.recipient} replied "${pair.body?.trim()}" to ${pair.sender_number} (${a.customerId}) on ${pair.opted_out_at}.`,
  );
  print(`   From the parent account, a text is ${await outcome(deps, null, pair, body)}.`);
  await deps.emulator.textIn('+12025550199', pair.sender_number!, 'What time is my appointment?');
  const before = deps.app.received.at(-1);
  print(
    `   An end user texts ${pair.sender_number}: Owlie's app receives it at ${before?.url ?? 'nothing (no webhook!)'}` +
      `${before === undefined ? '' : `, signed with the parent's Auth Token (valid: ${yes(deps.app.signedWith(before, deps.emulator.authTokenOf(deps.twilio.parentAccountSid)))})`}.`,
  );

  // 4. A subaccount someone made by hand, without Consent API access.
  const handMade = await deps.twilio.createSubaccount(b.customerName);
  await deps.emulator.denyConsentApi(handMade.sid);
  print(
    `4. ${b.customerId} already has a subaccount, made by hand (${handMade.sid}), and Twilio has not given it Consent API access. The plan will use it.`,
  );

  // 5. The plan, with the opt-outs carried.
  const planPath = join(outDir, 'owlie-customers.plan.json');
  const { plan } = await runPlan(
    { mapping, snapshot: true, credentials: 'auth-token', carry: { batchSize: 25 } },
    { twilio: deps.twilio, db: deps.db, clock: deps.clock, runner: deps.runner },
  );
  const planText = serializePlan(plan);
  deps.writeFile(planPath, planText);
  const printed = [...renderPlan(plan)];
  const listing = join(outDir, 'owlie-customers.plan.txt');
  deps.writeFile(listing, `${printed.join('\n')}\n`);
  // The mapping beside the plan, so that the command shown names a file the reader has.
  deps.writeFile(mappingCopy, deps.mapping.text);
  print(
    `5. The plan, as \`submigrate plan --mapping ${mappingCopy} --carry-optouts\` prints it (GET requests only, nothing written to Twilio):`,
  );
  for (const line of printed.slice(0, PLAN_LINES_SHOWN)) print(`   ${line}`);
  print(`   … ${n(printed.length - PLAN_LINES_SHOWN)} more lines in ${listing}`);
  print(`   ${planSummaryLine(plan)}`);
  print(`   ${carryLine(plan) ?? ''}`);
  print(`   Plan file: ${planPath}`);

  // 6. Apply.
  const { plan: sealed, integrity } = readSealedPlan(planPath, planText);
  const applyStarted = deps.clock.now().getTime();
  const applied = await runApply(
    {
      plan: sealed,
      planPath,
      planIntegrity: integrity,
      planText,
      concurrency: 8,
      rate: 200,
      allowMissingSnapshot: false,
    },
    {
      twilio: deps.twilio,
      db: deps.db,
      clock: deps.clock,
      runner: deps.runner,
      sleep: deps.sleep,
    },
  );
  const c = applied.counts;
  const applySeconds = (deps.clock.now().getTime() - applyStarted) / 1000;
  print(
    `6. Apply (journaled before and after every request, rate-limited) in ${applySeconds.toFixed(0)} s: ${c.done} steps done, ${c.failed} failed. ` +
      `Inbound routes checked: ${applied.routes.length - applied.routeFailures.length} of ${applied.routes.length} numbers reach where they did.`,
  );
  for (const failure of applied.failures)
    print(`   failed as expected — ${failure.step}: ${failure.error}`);

  // 7. The customers' apps, sending from their subaccounts.
  const subaccounts = previousSubaccounts(deps.db);
  const steps = new Map(listSteps(deps.db, applied.runId).map((r) => [r.stepId, r]));
  const serviceOf = (customerId: string): string | null => {
    const created = steps.get(`create_service:${customerId}`)?.result?.['service_sid'];
    if (typeof created === 'string') return created;
    return plan.customers.find((cu) => cu.customer_id === customerId)?.service_sid ?? null;
  };
  print(
    `7. The customers' apps go live on their subaccounts and send a campaign (${CAMPAIGN_OPTED_OUT} people on each list, 2 who never opted out):`,
  );
  let refused = 0;
  for (const customer of [a, b]) {
    const account = subaccounts.get(customer.customerId)!;
    // Senders the Consent API covers first: a toll-free one it does not (the plan warns).
    const listed = [
      ...(customer === a ? [pair] : []),
      ...numberScope
        .filter(
          (row) =>
            customerOfNumber.get(row.sender_number!)?.customerId === customer.customerId &&
            row !== pair,
        )
        .sort(
          (x, y) => Number(isTollFree(x.sender_number!)) - Number(isTollFree(y.sender_number!)),
        ),
    ].slice(0, CAMPAIGN_OPTED_OUT);
    const outcomes: string[] = [];
    for (const row of listed) {
      const said = await outcome(deps, account, row, body, serviceOf(customer.customerId));
      if (said.startsWith('refused')) refused += 1;
      outcomes.push(
        said.startsWith('refused')
          ? 'refused 21610'
          : isTollFree(row.sender_number!) && customer === a
            ? 'SENT (from a toll-free number, which the Consent API does not cover: the plan warned)'
            : 'SENT',
      );
    }
    for (const stranger of ['+12025550101', '+12025550102']) {
      await deps.twilio.sendMessage(account, {
        from: listed[0]!.sender_number!,
        to: stranger,
        body,
      });
    }
    const carried = customer === a ? 'opt-outs carried' : 'no Consent API access';
    print(
      `   ${customer.customerId} (${carried}): to people on its list ${outcomes.join(', ')}; to the 2 others, sent.`,
    );
  }

  // 8. The end user again, after the move.
  await deps.emulator.textIn('+12025550199', pair.sender_number!, 'And is parking free?');
  const after = deps.app.received.at(-1);
  const webhookKept = after !== undefined && after !== before && sameUrl(after, before);
  const subaccountA = subaccounts.get(a.customerId)!;
  print(
    `8. The end user texts ${pair.sender_number} again: Owlie's app receives it at ${after?.url ?? 'nothing'}` +
      `${webhookKept ? ' — the same webhook as before the move' : ' — NOT the webhook it reached before'}` +
      `${
        after === undefined
          ? ''
          : `, now signed with the subaccount's token (valid with it: ${yes(deps.app.signedWith(after, deps.emulator.authTokenOf(subaccountA)))}; ` +
            `with the parent's: ${yes(deps.app.signedWith(after, deps.emulator.authTokenOf(deps.twilio.parentAccountSid)))}). The plan warned: the app must validate with the subaccount's token.`
      }`,
  );

  // 9. Reconcile, then the reports.
  await deps.sleep(1100); // the campaign's last second is over before reconcile reads it
  const pass = await runReconcile(
    { since: null },
    { twilio: deps.twilio, db: deps.db, clock: deps.clock, runner: deps.runner },
  );
  const totals = reconcileTotals(deps.db);
  print(
    `9. Reconcile: read ${n(pass.messagesRead)} messages in ${pass.subaccounts} subaccounts since the move; ` +
      `${n(pass.sendsChecked)} sends from moved numbers checked: ${totals.violations} violation(s) (${b.customerId}, each with its STOP), ${totals.blocked} refused by Twilio.`,
  );
  const reports = deps.writeReports(applied.runId);
  const reportPage = join(reports, 'report.html');

  const withCustomers = exportOptOuts(deps.db);
  const csvPath = join(outDir, 'optouts.csv');
  const jsonPath = join(outDir, 'optouts.json');
  deps.writeFile(csvPath, optOutsCsv(withCustomers.optouts));
  deps.writeFile(jsonPath, `${JSON.stringify(withCustomers, null, 2)}\n`);
  print(
    `10. Reports in ${reports}: audit.csv/json, carry.csv, violations.csv, a suppression list per customer, coverage.txt; ` +
      `all of them on one page for compliance: ${reportPage}`,
  );
  const written = [...listRunConsentItems(deps.db, applied.runId).values()]
    .flat()
    .filter((item) => item.errorCode === 0).length;
  print('');
  print(
    `In short: ${n(exported.optouts.length)} opted-out pairs found in the history, on ${n(withCustomers.optouts.length)} rows of the customers' suppression lists ` +
      `(a service-wide STOP is on the list of every customer that was in the service); ${n(written)} of ${n(plan.summary.optouts_to_carry ?? 0)} opt-out records written into the subaccounts for Twilio to enforce (except on toll-free numbers, which the Consent API does not cover); ` +
      `${c.done} steps done; ${refused} texts to opted-out people refused by Twilio; ${totals.violations} sent anyway and caught by reconcile.`,
  );
  print(`Open the report: ${reportPage}`);
  return {
    messagesRead: snapshot.messagesRead,
    optedOutPairs: exported.optouts.length,
    matchingPairs: matching,
    onlyExport,
    refused,
    violations: totals.violations,
    webhookKept,
    reportPage,
    files: [csvPath, jsonPath, planPath, reportPage],
  };
}

/** Sends the text and says how Twilio answered: `sent (SM…)` or `refused: Twilio error 21610 (…)`. */
async function outcome(
  deps: DemoDeps,
  account: string | null,
  row: OptOutExportRow,
  body: string,
  service: string | null = null,
): Promise<string> {
  try {
    const message = await deps.twilio.sendMessage(account ?? deps.twilio.parentAccountSid, {
      from: row.sender_number!,
      to: row.recipient!,
      body,
      ...(service === null ? {} : { messagingServiceSid: service }),
    });
    return `sent (${message.sid})`;
  } catch (error) {
    if (!(error instanceof TwilioError) || error.code !== 21610) throw error;
    return `refused: Twilio error 21610 (${error.message})`;
  }
}

/** The two customers with the most people opted out of their own numbers. */
function busiestCustomers(mapping: Mapping, rows: readonly OptOutExportRow[]) {
  const byNumber = new Map(mapping.rows.map((r) => [r.phoneNumber, r]));
  const counts = new Map<string, number>();
  for (const row of rows) {
    const customer = byNumber.get(row.sender_number ?? '');
    if (customer !== undefined) {
      counts.set(customer.customerId, (counts.get(customer.customerId) ?? 0) + 1);
    }
  }
  const ranked = [...counts].sort((x, y) => y[1] - x[1] || compareText(x[0], y[0]));
  if (ranked.length < 2) throw new Error('the scenario has too few opted-out people for the demo');
  const row = (id: string) => mapping.rows.find((r) => r.customerId === id)!;
  return [row(ranked[0]![0]), row(ranked[1]![0])] as const;
}

const yes = (value: boolean) => (value ? 'yes' : 'no');

const sameUrl = (x: ReceivedWebhook, y: ReceivedWebhook | undefined) =>
  y !== undefined && x.url === y.url;

function rowAsPair(row: OptOutExportRow) {
  return {
    account_sid: row.account_sid ?? '',
    messaging_service_sid: row.messaging_service_sid,
    sender_number: row.sender_number ?? '',
    recipient: row.recipient ?? '',
  };
}
