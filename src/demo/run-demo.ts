/**
 * `submigrate demo`: the flow as far as it is built, against an emulator the CLI started.
 * It snapshots the opt-out history and checks the ledger against the emulator's ground
 * truth; shows the parent refusing a text to someone who said STOP; plans and applies the
 * Owlie migration; shows the same text going through from the customer's subaccount (the
 * trap: Twilio forgot); and writes the suppression lists that close it.
 */

import { join } from 'node:path';

import type { Clock } from '../clock.js';
import { previousSubaccounts } from '../db/customers.js';
import type { Db } from '../db/open.js';
import { TwilioError } from '../errors.js';
import { exportOptOuts, optOutsCsv, type OptOutExportRow } from '../optouts/export.js';
import { takeSnapshot } from '../optouts/snapshot.js';
import { runApply } from '../apply/run-apply.js';
import { parseMapping } from '../plan/mapping.js';
import { readSealedPlan, serializePlan } from '../plan/plan-file.js';
import { planSummaryLine } from '../plan/render.js';
import { runPlan } from '../plan/run-plan.js';
import type { FileContent } from '../files.js';
import type { TwilioPort } from '../twilio/port.js';

/** One opted-out pair as the emulator's hidden store has it. */
export interface GroundTruthPair {
  account_sid: string;
  scope: string;
  sender_number: string;
  messaging_service_sid: string | null;
  recipient: string;
  message_sid: string;
}

export interface DemoDeps {
  twilio: TwilioPort;
  /** The Owlie mapping (plans/owlie-customers.csv) and where it was read from. */
  mapping: { path: string; text: string };
  db: Db;
  clock: Clock;
  runner: { pid: number; hostname: string; isAlive(pid: number): boolean };
  /** The emulator's own opt-out store (real Twilio never shows it). */
  groundTruth(): Promise<GroundTruthPair[]>;
  writeFile(path: string, text: FileContent): void;
  /** Writes an apply run's reports; returns their folder. */
  writeReports(runId: number): string;
  print(line: string): void;
}

export interface DemoResult {
  messagesRead: number;
  optedOutPairs: number;
  matchingPairs: number;
  trapShown: boolean;
  files: string[];
}

const n = (value: number) => value.toLocaleString('en-US');
const pairKey = (p: {
  account_sid: string;
  messaging_service_sid: string | null;
  sender_number: string;
  recipient: string;
}) => `${p.account_sid}|${p.messaging_service_sid ?? p.sender_number}|${p.recipient}`;

export async function runDemo(outDir: string, deps: DemoDeps): Promise<DemoResult> {
  const { print } = deps;

  const started = deps.clock.now().getTime();
  const snapshot = await takeSnapshot(
    { accounts: [], since: null, until: null, partitions: 8 },
    { twilio: deps.twilio, db: deps.db, clock: deps.clock, runner: deps.runner },
  );
  const seconds = Math.max((deps.clock.now().getTime() - started) / 1000, 0.001);
  const { ledger } = snapshot;
  print(
    `2. Snapshot: read ${n(snapshot.messagesRead)} messages in ${seconds.toFixed(1)} s ` +
      `(${n(Math.round(snapshot.messagesRead / seconds))}/s) into the ledger: ${n(ledger.optOut)} opt-out keywords, ` +
      `${n(ledger.optIn)} opt-ins, ${n(ledger.help)} HELP, ${n(ledger.refused)} sends refused with 21610.`,
  );
  const exported = exportOptOuts(deps.db);
  const truth = await deps.groundTruth();
  const ours = new Map(
    exported.optouts.map((row) => [pairKey(rowAsPair(row)), row.stop_message_sid]),
  );
  const matching = truth.filter((pair) => ours.get(pairKey(pair)) === pair.message_sid).length;
  print(
    `   ${n(exported.optouts.length)} people are opted out right now. Against the emulator's own store ` +
      `(which real Twilio never shows): ${n(matching)} of ${n(truth.length)} pairs match, each with its latest STOP as evidence.`,
  );

  // The trap, first half: a person who said STOP, and the parent still refuses the text.
  const pair = exported.optouts.find((row) => row.scope === 'number');
  const body = 'Reminder: your appointment is tomorrow at 10:00.';
  if (pair?.sender_number != null && pair.recipient !== null) {
    print(
      `3. The trap, on one number: ${pair.recipient} replied "${pair.body?.trim()}" to ${pair.sender_number} on ${pair.opted_out_at}.`,
    );
    try {
      await deps.twilio.sendMessage(deps.twilio.parentAccountSid, {
        from: pair.sender_number,
        to: pair.recipient,
        body,
      });
      print(
        '   From the parent account the text went through. (Unexpected: the parent should remember.)',
      );
    } catch (error) {
      if (!(error instanceof TwilioError) || error.code !== 21610) throw error;
      print(
        `   From the parent account, a text is refused: Twilio error 21610 (${error.message}).`,
      );
    }
  }

  const planPath = join(outDir, 'owlie-customers.plan.json');
  const { plan } = await runPlan(
    {
      mapping: parseMapping(deps.mapping.path, deps.mapping.text),
      snapshot: true,
      credentials: 'auth-token',
    },
    { twilio: deps.twilio, db: deps.db, clock: deps.clock, runner: deps.runner },
  );
  const planText = serializePlan(plan);
  deps.writeFile(planPath, planText);
  print(
    `4. The dry run (GET requests only, nothing written to Twilio): ${planSummaryLine(plan)} Written to ${planPath}.`,
  );

  const { plan: sealed, integrity } = readSealedPlan(planPath, planText);
  const applied = await runApply(
    {
      plan: sealed,
      planPath,
      planIntegrity: integrity,
      concurrency: 8,
      rate: 200,
      allowMissingSnapshot: false,
    },
    {
      twilio: deps.twilio,
      db: deps.db,
      clock: deps.clock,
      runner: deps.runner,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    },
  );
  const reports = deps.writeReports(applied.runId);
  const c = applied.counts;
  print(
    `5. Apply (journaled before and after every request, rate-limited): ${c.done} steps done, ${c.failed} failed. ` +
      `Audit and suppression lists in ${reports}.`,
  );

  // The trap, second half: the same number, now in its customer's subaccount.
  let trapShown = false;
  if (pair?.sender_number != null && pair.recipient !== null) {
    const customer = plan.customers.find((cu) =>
      cu.numbers.some((num) => num.phone_number === pair.sender_number),
    );
    const subaccount = previousSubaccounts(deps.db).get(customer?.customer_id ?? '');
    if (customer !== undefined && subaccount !== undefined) {
      const sent = await deps.twilio.sendMessage(subaccount, {
        from: pair.sender_number,
        to: pair.recipient,
        body,
      });
      trapShown = true;
      print(
        `6. From ${customer.customer_id}'s subaccount, the same text goes through (${sent.sid}): Twilio forgot the STOP. ` +
          `That text is a TCPA violation, $500–$1,500 each — which is why ${reports}/optouts/${customer.customer_id}.csv lists ${pair.recipient} for the customer's app to suppress.`,
      );
    }
  }

  const withCustomers = exportOptOuts(deps.db);
  const csvPath = join(outDir, 'optouts.csv');
  const jsonPath = join(outDir, 'optouts.json');
  deps.writeFile(csvPath, optOutsCsv(withCustomers.optouts));
  deps.writeFile(jsonPath, `${JSON.stringify(withCustomers, null, 2)}\n`);
  print(
    `7. Suppression lists: ${csvPath} (${n(withCustomers.optouts.length)} rows, one per opted-out pair and customer, with the STOP message SID), ` +
      `and ${jsonPath} with its coverage: ${withCustomers.coverage.windows.map((w) => `${w.start} → ${w.end}`).join(', ')}.`,
  );
  print('   Not built yet: reconcile and the report page; the demo will run them as they land.');
  return {
    messagesRead: snapshot.messagesRead,
    optedOutPairs: exported.optouts.length,
    matchingPairs: matching,
    trapShown,
    files: [csvPath, jsonPath, planPath],
  };
}

function rowAsPair(row: OptOutExportRow) {
  return {
    account_sid: row.account_sid ?? '',
    messaging_service_sid: row.messaging_service_sid,
    sender_number: row.sender_number ?? '',
    recipient: row.recipient ?? '',
  };
}
