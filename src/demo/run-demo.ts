/**
 * `submigrate demo`: the flow as far as it is built, against an emulator the CLI started.
 * It snapshots the opt-out history, checks the ledger against the emulator's ground truth,
 * shows the trap on one number (moved by hand, the way the Twilio guide does it), and
 * writes the suppression list that closes it.
 */

import { join } from 'node:path';

import type { Clock } from '../clock.js';
import type { Db } from '../db/open.js';
import { TwilioError } from '../errors.js';
import { exportOptOuts, optOutsCsv, type OptOutExportRow } from '../optouts/export.js';
import { takeSnapshot } from '../optouts/snapshot.js';
import { parseMapping } from '../plan/mapping.js';
import { writePlan } from '../plan/plan-file.js';
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

  const planPath = join(outDir, 'owlie-customers.plan.json');
  const { plan } = await runPlan(
    {
      mapping: parseMapping(deps.mapping.path, deps.mapping.text),
      snapshot: true,
      credentials: 'auth-token',
    },
    { twilio: deps.twilio, db: deps.db, clock: deps.clock, runner: deps.runner },
  );
  deps.writeFile(planPath, (write) => writePlan(plan, write));
  print(
    `3. The dry run (GET requests only, nothing written to Twilio): ${planSummaryLine(plan)} Written to ${planPath}.`,
  );
  const trapShown = await showTrap(exported.optouts, deps);

  const csvPath = join(outDir, 'optouts.csv');
  const jsonPath = join(outDir, 'optouts.json');
  deps.writeFile(csvPath, optOutsCsv(exported.optouts));
  deps.writeFile(jsonPath, `${JSON.stringify(exported, null, 2)}\n`);
  print(
    `5. Suppression list: ${csvPath} (${n(exported.optouts.length)} rows, one per opted-out pair, with the STOP message SID), ` +
      `and ${jsonPath} with its coverage: ${exported.coverage.windows.map((w) => `${w.start} → ${w.end}`).join(', ')}.`,
  );
  print('   Not built yet: apply, report and reconcile; the demo will run them as they land.');
  return {
    messagesRead: snapshot.messagesRead,
    optedOutPairs: exported.optouts.length,
    matchingPairs: matching,
    trapShown,
    files: [csvPath, jsonPath],
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

/**
 * One number-scope opt-out, moved the way Twilio's guide moves numbers: the parent
 * refuses the send (it remembers the STOP), the subaccount lets it through (it doesn't).
 */
async function showTrap(optouts: readonly OptOutExportRow[], deps: DemoDeps): Promise<boolean> {
  const { twilio, print } = deps;
  const pair = optouts.find((row) => row.scope === 'number');
  if (pair === undefined || pair.sender_number === null || pair.recipient === null) return false;
  const sender = pair.sender_number;
  const recipient = pair.recipient;
  const body = 'Reminder: your appointment is tomorrow at 10:00.';
  print(
    `4. The trap, on one number: ${recipient} replied "${pair.body?.trim()}" to ${sender} on ${pair.opted_out_at}.`,
  );
  try {
    await twilio.sendMessage(twilio.parentAccountSid, { from: sender, to: recipient, body });
    print(
      '   From the parent account the text went through. (Unexpected: the parent should remember.)',
    );
  } catch (error) {
    if (!(error instanceof TwilioError) || error.code !== 21610) throw error;
    print(`   From the parent account, a text is refused: Twilio error 21610 (${error.message}).`);
  }
  const numbers = await twilio.listPhoneNumbers(twilio.parentAccountSid);
  const number = numbers.find((candidate) => candidate.phoneNumber === sender);
  if (number === undefined) return false;
  const sub = await twilio.createSubaccount(`Demo move of ${sender}`);
  await twilio.transferPhoneNumber(twilio.parentAccountSid, number.sid, sub.sid);
  const service = await twilio.createService(sub.sid, 'demoNotifications');
  await twilio.addServicePhoneNumber(sub.sid, service.sid, number.sid);
  print(
    `   Moved by hand, as Twilio's guide does it: subaccount ${sub.sid}, number transferred, ` +
      `Messaging Service ${service.sid} created with the subaccount's credentials, number added.`,
  );
  const sent = await twilio.sendMessage(sub.sid, {
    messagingServiceSid: service.sid,
    to: recipient,
    body,
  });
  print(
    `   From the subaccount, the same text goes through (${sent.sid}): Twilio forgot the STOP. ` +
      'That text is a TCPA violation, $500–$1,500 each.',
  );
  return true;
}
