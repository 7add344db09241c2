/**
 * `plan` at the scale of Twilio's default subaccount limit: a generated 100,000-row mapping
 * (1,000 customers, 100 numbers each) against an emulator holding those numbers (a fifth of
 * them in 50 shared Messaging Services of 400), with a latency on every Twilio request. The
 * plan runs through bin/ as a user runs it (refreshing the empty ledger first); printed beside
 * it is its floor: the requests that must follow one another (the number list's pages, the
 * subaccount list, the services and their members, the account's date_created) times the latency.
 * Beside it too, each measured alone, the parts no plan of this mapping can skip: starting
 * submigrate, listing the numbers (the bare client's time) and writing the plan file.
 * Flags: --plan-customers N, --plan-numbers-per-customer N, --plan-latency MS.
 */

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { writePrivateFile } from '../../src/files.js';
import { readPlan, writePlan } from '../../src/plan/plan-file.js';

import {
  bin,
  check,
  flag,
  log,
  n,
  run,
  setLatency,
  startEmulator,
  TOKEN,
  work,
  type BenchEmulator,
} from './support.js';

const CUSTOMERS = flag('plan-customers', 1_000);
const PER_CUSTOMER = flag('plan-numbers-per-customer', 100);
const LATENCY = flag('plan-latency', 25);
const SHARED_SERVICES = 50;
const PER_SERVICE = 400;

const phone = (i: number) => `+1${String(2_000_000_000 + i).padStart(10, '0')}`;

function writeInputs(): { seed: string; mapping: string; numbers: number } {
  const total = CUSTOMERS * PER_CUSTOMER;
  const numbers = Array.from({ length: total }, (_, i) => ({ phone_number: phone(i) }));
  const services = Array.from({ length: SHARED_SERVICES }, (_, s) => ({
    friendly_name: `Shared ${s + 1}`,
    phone_numbers: Array.from({ length: PER_SERVICE }, (_, k) => phone(s * PER_SERVICE + k)).filter(
      (_, k) => s * PER_SERVICE + k < total,
    ),
  }));
  const seed = join(work, 'plan-seed.json');
  writeFileSync(seed, JSON.stringify({ numbers, services }));
  const lines = ['customer_id,customer_name,phone_number,messaging_service,subaccount_sid'];
  for (let c = 0; c < CUSTOMERS; c++) {
    for (let k = 0; k < PER_CUSTOMER; k++) {
      lines.push(`customer-${c},Customer ${c},${phone(c * PER_CUSTOMER + k)},customer${c}Alerts,`);
    }
  }
  const mapping = join(work, 'plan-mapping.csv');
  writeFileSync(mapping, `${lines.join('\n')}\n`);
  return { seed, mapping, numbers: total };
}

/**
 * Lists every number, page after page, with fetch and nothing else. Once unmeasured, before
 * the latency is set: the emulator keeps each number's JSON once rendered, so the measured run
 * meets an emulator whose own work per page is small beside the latency it adds, as Twilio's
 * would be. Then once measured, at the latency: the baseline, what reading the numbers alone
 * takes here.
 */
async function listNumbers(emulator: BenchEmulator): Promise<void> {
  const authorization = `Basic ${Buffer.from(`${emulator.accountSid}:${TOKEN}`).toString('base64')}`;
  let uri: string | null =
    `/2010-04-01/Accounts/${emulator.accountSid}/IncomingPhoneNumbers.json?PageSize=1000`;
  while (uri !== null) {
    const response = await fetch(`${emulator.url}${uri}`, { headers: { authorization } });
    if (!response.ok) throw new Error(`listing the numbers: ${response.status}`);
    uri = ((await response.json()) as { next_page_uri: string | null }).next_page_uri;
  }
}

/** The best of three: a measure of the work, less of what else the machine was doing. */
async function bestOfThree(measure: () => Promise<number> | number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) times.push(await measure());
  return Math.min(...times);
}

/** Starting submigrate (Node and every module a command loads): `submigrate --version`. */
const startup = () =>
  bestOfThree(async () => {
    const started = performance.now();
    await run(bin, ['--version'], {});
    return (performance.now() - started) / 1000;
  });

/**
 * Writing the plan file the run wrote, as `plan` writes it (JSON, sealed, to a private file),
 * from the plan already in memory: the part of the output no plan of this mapping can skip.
 */
function planWriting(planFile: string) {
  const plan = readPlan(planFile, readFileSync(planFile, 'utf8'));
  const copy = join(work, 'plan-copy.plan.json');
  return bestOfThree(() => {
    const started = performance.now();
    writePrivateFile(copy, (write) => writePlan(plan, write));
    return (performance.now() - started) / 1000;
  });
}

export async function benchPlan(): Promise<string> {
  const inputs = writeInputs();
  log(`plan: starting the emulator with ${n(inputs.numbers)} numbers…`);
  const emulator = await startEmulator(['--scenario', inputs.seed]);
  try {
    log('plan: warm-up listing of the numbers (not measured)…');
    await listNumbers(emulator);
    await setLatency(emulator.url, LATENCY);
    log(`plan: baseline, the numbers listed by a bare client at ${LATENCY} ms…`);
    const listedAt = performance.now();
    await listNumbers(emulator);
    const listing = (performance.now() - listedAt) / 1000;
    log(`plan: ${n(CUSTOMERS)} customers × ${PER_CUSTOMER} numbers at ${LATENCY} ms…`);
    const started = Date.now();
    const result = await run(
      bin,
      [
        'plan',
        '--mapping',
        inputs.mapping,
        '--db',
        join(work, 'plan.db'),
        '--out',
        join(work, 'plan.plan.json'),
        '--detailed-exitcode',
      ],
      emulator.env,
      [2],
    );
    const seconds = (Date.now() - started) / 1000;
    const summary = result.stdout.trimEnd().split('\n').at(-3) ?? '';
    log('plan: its unavoidable parts alone: starting submigrate, writing the plan file…');
    const planFile = join(work, 'plan.plan.json');
    const megabytes = statSync(planFile).size / 1e6;
    const [startedIn, written] = [await startup(), await planWriting(planFile)];
    const unavoidable = startedIn + listing + written;
    const pages = Math.ceil(inputs.numbers / 1000);
    // Subaccounts, number pages, services, their members, the account: one after another.
    const floor = ((pages + 4) * LATENCY) / 1000;
    return [
      `plan bench: ${n(inputs.numbers)}-row mapping, ${n(CUSTOMERS)} customers, ${n(inputs.numbers)} numbers in the emulator (${n(SHARED_SERVICES * PER_SERVICE)} in ${SHARED_SERVICES} shared services), ${LATENCY} ms latency`,
      `  ${summary}`,
      `  submigrate plan: ${n(seconds, 1)} s, peak RSS ${n(result.rssMb)} MB; floor (${pages + 4} sequential requests × ${LATENCY} ms) ${n(floor, 1)} s: ${n(seconds / floor, 1)}x the floor`,
      `  baseline, same run: a bare fetch loop lists the ${n(pages)} pages of numbers in ${n(listing, 1)} s; the plan takes ${n(seconds / listing, 1)}x that`,
      `  the parts no plan of this mapping can skip, each alone: starting submigrate ${n(startedIn, 2)} s + listing the numbers ${n(listing, 1)} s + writing the ${n(megabytes)} MB plan file ${n(written, 2)} s = ${n(unavoidable, 1)} s; the rest of the plan (checking, the ledger, building, recording the mapping) takes ${n(seconds - unavoidable, 1)} s`,
      `  targets: under 5 s (${check(seconds < 5)}), under 300 MB (${check(result.rssMb < 300)})`,
      '',
    ].join('\n');
  } finally {
    emulator.stop();
  }
}
