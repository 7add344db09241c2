/**
 * docs/waves.md, run as it is written: two maintenance windows on one database, acme's numbers
 * split over both, beta in the second (built CLI, emulator over HTTP). Each thing the page
 * says is asserted here: the commands of each window and their runs, which reports belong to
 * which wave, what the second wave reuses and carries, the STOP that came in between the waves,
 * and the mistakes it warns of — a plan made before the wave before it was applied (drift), a
 * customer's second wave naming another service, an earlier wave's mapping planned again.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { sendOutcome } from '../support/emulator.js';
import {
  expectMigrated,
  planAndApply,
  readCsv,
  seededStop,
  useCliWorkspace,
} from '../support/migration.js';

const DAY = 86_400_000;
const [A1, A2, B1] = ['+14155550801', '+14155550802', '+14155550803'];
/** R1 told A1 STOP and R2 B1 before the first window; R3 told A2 between the windows. */
const [R1, R2, R3] = ['+12065550801', '+12065550802', '+12065550803'];
const HEADER = 'customer_id,customer_name,phone_number,messaging_service';

/** Until the clock's second has turned: journal times and message dates have whole seconds. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100));

describe('migrating in waves, as docs/waves.md tells it', () => {
  // The real clock: the STOP between the windows is dated after the first apply.
  const ws = useCliWorkspace({
    numbers: [
      { phone_number: A1, sms_url: 'https://acme.example/sms' },
      { phone_number: A2, sms_url: 'https://acme.example/sms' },
      { phone_number: B1, sms_url: 'https://beta.example/sms' },
    ],
    messages: [seededStop(R1, A1, Date.now() - 3 * DAY), seededStop(R2, B1, Date.now() - 3 * DAY)],
  });
  const run = async (args: string[], code = 0) => {
    const result = await ws.cli(args);
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(code);
    return result;
  };
  const mapping = (name: string, rows: string[]) =>
    writeFileSync(ws.dir.file(name), `${HEADER}\n${rows.join('\n')}\n`);
  const reports = (runId: number, file: string) =>
    join(ws.dir.path, 'reports', String(runId), file);
  const phones = (runId: number) => readCsv(reports(runId, 'audit.csv')).map((r) => r.phone_number);
  const subaccount = async (name: string) =>
    (await ws.env.state()).accounts.find((a) => a.friendly_name === name)?.sid;

  it('moves each wave in its own run, reusing what the first made', async () => {
    mapping('wave1.csv', [`acme,Acme,${A1},acmeSvc`]);
    mapping('wave2.csv', [`acme,Acme,${A2},acmeSvc`, `beta,Beta,${B1},betaSvc`]);

    // Window 1.
    await run(['snapshot']);
    await run(['plan', '--mapping', 'wave1.csv', '--carry-optouts', '--out', 'wave1.plan.json']);
    // The mistake: wave 2 planned ahead, before wave 1 was applied.
    await run(['plan', '--mapping', 'wave2.csv', '--carry-optouts', '--out', 'early.plan.json']);
    const first = await run(['apply', 'wave1.plan.json']);
    expect(first.stdout).toMatch(/^apply run 1: .* Completed\. Reports: reports\/1\/$/m);
    const acme = (await subaccount('Acme'))!;
    const routes1 = await run(['routes']);
    expect(routes1.stdout).toContain(`ok    ${A1}  acme`);
    expect(routes1.stdout).toMatch(/^run 1: 1 of 1 moved numbers reach where they did/m);
    expect((await run(['reconcile'])).stdout).toMatch(
      /In all: 0 violation\(s\), 0 blocked\. reports\/1\/violations\.csv$/m,
    );
    const wave1Audit = readFileSync(reports(1, 'audit.csv'), 'utf8');

    // Between the windows, someone tells A2 (still in the parent) STOP.
    await nextSecond();
    await ws.env.seed({ messages: [seededStop(R3, A2, Date.now())] });
    await nextSecond();

    // The plan made ahead no longer matches the account: refused, nothing written.
    const early = await run(['apply', 'early.plan.json'], 4);
    expect(early.stderr).toContain(`subaccounts named "Acme": expected [], now ["${acme}"]`);
    expect(early.stderr).toContain('submigrate plan --mapping wave2.csv --carry-optouts');
    expect(await subaccount('Beta')).toBeUndefined();

    // Window 2.
    await run(['snapshot']);
    // The mistake: acme's second wave naming another service than its first.
    mapping('wave2-renamed.csv', [`acme,Acme,${A2},acmeOther`]);
    const renamed = await run([
      'plan',
      ...['--mapping', 'wave2-renamed.csv', '--carry-optouts', '--out', 'renamed.plan.json'],
    ]);
    expect(renamed.stdout).toContain('+ service      acme  "acmeOther"');
    expect(renamed.stdout).toContain(`+ membership   ${A2}  -> "acmeOther"`);
    // A1 has no step: it stays in acmeSvc.
    const changes = renamed.stdout.split('\n').filter((line) => /^  [-+~] /.test(line));
    expect(changes.filter((line) => line.includes(A1))).toEqual([]);
    // …and says so: A1 stays in acmeSvc, which the plan does not name.
    const acmeSvc = (await ws.env.state()).services.find((s) => s.friendly_name === 'acmeSvc')!;
    expect(renamed.stdout).toContain(
      `! acme: its subaccount ${acme} (an earlier apply's) holds ${A1} in "acmeSvc" (${acmeSvc.sid}), which this mapping does not name; this plan puts the numbers it maps in "acmeOther", a new service beside it: the customer's numbers will be in two services. If they belong together, give them the earlier wave's messaging_service ("acmeSvc") and plan again`,
    );
    mapping('wave2-none.csv', [`acme,Acme,${A2},`]);
    const none = await run([
      'plan',
      ...['--mapping', 'wave2-none.csv', '--carry-optouts', '--out', 'none.plan.json'],
    ]);
    expect(none.stdout).toContain(
      `holds ${A1} in "acmeSvc" (${acmeSvc.sid}), which this mapping does not name; this plan puts the numbers it maps in no service:`,
    );
    const planned = await run([
      'plan',
      ...['--mapping', 'wave2.csv', '--carry-optouts', '--out', 'wave2.plan.json'],
    ]);
    // acme goes to the subaccount wave 1 made, into the service wave 1 made: neither is created.
    expect(planned.stdout).toContain(`# acme "Acme" → ${acme} (previous-apply)`);
    expect(planned.stdout).not.toMatch(/\+ (subaccount|service) +acme /);
    expect(planned.stdout).toContain('+ subaccount   beta  "Beta"');
    const plan = JSON.parse(readFileSync(ws.dir.file('wave2.plan.json'), 'utf8')) as {
      steps: { id: string; action: string; customer_id: string; optouts?: number }[];
    };
    // acme's carry writes its new number's opt-out (R3) only: wave 1's wrote R1.
    expect(plan.steps.find((s) => s.id === 'carry_optouts:acme')).toMatchObject({ optouts: 1 });
    // Its steps are the new number's alone: to the subaccount, into the service, and the carry.
    expect(
      plan.steps
        .filter((s) => s.customer_id === 'acme')
        .map((s) => s.action)
        .sort(),
    ).toEqual(['attach_number', 'carry_optouts', 'transfer_number']);
    expect(planned.stdout).not.toContain('service_beside_earlier_wave');
    expect(planned.stdout).not.toContain('two services');
    const second = await run(['apply', 'wave2.plan.json']);
    expect(second.stdout).toMatch(/^apply run 2: .* Completed\. Reports: reports\/2\/$/m);
    await expectMigrated(ws.env, [
      { id: 'acme', name: 'Acme', service: 'acmeSvc', numbers: [A1, A2] },
      { id: 'beta', name: 'Beta', service: 'betaSvc', numbers: [B1] },
    ]);

    // Each run's reports are its wave's: run 1's folder is as wave 1 left it.
    expect(phones(2)).toEqual([A2, B1]);
    expect(readFileSync(reports(1, 'audit.csv'), 'utf8')).toBe(wave1Audit);
    // acme's list in run 2 holds wave 1's numbers' opt-outs too, all enforced by Twilio.
    expect(
      readCsv(reports(2, 'optouts/acme.csv')).map((r) => [r.recipient, r.twilio_enforces]),
    ).toEqual([
      [R1, 'yes'],
      [R3, 'yes'],
    ]);
    expect(readCsv(reports(2, 'carry.csv')).find((r) => r.customer_id === 'acme')).toMatchObject({
      written: '1',
      list_rows: '2',
      twilio_enforces_rows: '2',
    });
    const listed = await run(['optouts', '--customer', 'acme']);
    const rows = parse(listed.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r['recipient'])).toEqual([R1, R3]);

    const status = await run(['status']);
    expect(status.stdout).toMatch(/^run 1  completed .* wave1\.plan\.json/m);
    expect(status.stdout).toMatch(/^run 2  completed .* wave2\.plan\.json/m);
    const routes2 = await run(['routes']);
    expect(routes2.stdout).toMatch(/^run 2: 2 of 2 moved numbers/m);
    expect(routes2.stdout).not.toContain(A1);
    const again1 = await run(['routes', '--run', '1']);
    expect(again1.stdout).toContain(`ok    ${A1}  acme`);
    expect(again1.stdout).not.toContain(A2);

    // The apps send from the subaccounts; Twilio refuses every carried opt-out, and reconcile
    // reads both waves' subaccounts, each run's violations beside its reports.
    const client = (sid: string) =>
      ws.env.clientFor(sid, ws.env.emulator.state.accounts.get(sid)!.authToken);
    const beta = (await subaccount('Beta'))!;
    expect(await sendOutcome(client(acme), R1, { from: A1 })).toBe(21610);
    expect(await sendOutcome(client(acme), R3, { from: A2 })).toBe(21610);
    // R1's record was written for acmeSvc by wave 1: A2, in that service now, is refused too.
    expect(await sendOutcome(client(acme), R1, { from: A2 })).toBe(21610);
    expect(await sendOutcome(client(beta), R2, { from: B1 })).toBe(21610);
    const reconciled = await run(['reconcile', '--fail-on-violation']);
    expect(reconciled.stdout).toContain('2 subaccount(s)');
    expect(reconciled.stdout).toMatch(
      /In all: 0 violation\(s\), 3 blocked\. reports\/1\/violations\.csv, reports\/2\/violations\.csv$/m,
    );

    // Wave 1's reports again, any time: still its own numbers.
    await run(['report', '--run', '1']);
    expect(phones(1)).toEqual([A1]);
    // Wave 1's mapping planned again: nothing to do while its numbers are where it put them.
    const replanned = await run([
      'plan',
      ...['--mapping', 'wave1.csv', '--out', 'check.plan.json', '--detailed-exitcode'],
    ]);
    expect(replanned.stdout).toContain('No changes');
    // `optouts --customer` knows every customer a plan of this database recorded, not only
    // those of the mapping planned last (wave1.csv: acme alone), and its error says so.
    const unknown = await run(['optouts', '--customer', 'nobody'], 1);
    expect(unknown.stderr).toBe(
      'error: --customer nobody: no such customer_id in the mappings planned with this database (2 customers)\n',
    );

    // The mistake: a later wave gives A1 to beta; wave 1's mapping planned again moves it back.
    mapping('wave3.csv', [`beta,Beta,${A1},betaSvc`]);
    await planAndApply(ws.cli, {
      mapping: 'wave3.csv',
      db: 'submigrate.db',
      out: 'wave3.plan.json',
    });
    const back = await run(
      ['plan', '--mapping', 'wave1.csv', '--out', 'back.plan.json', '--detailed-exitcode'],
      2,
    );
    expect(back.stdout).toContain(`~ number       ${A1}  ${beta} -> acme`);
  }, 180_000);
});
