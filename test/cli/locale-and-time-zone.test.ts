/**
 * Results do not depend on the machine's time zone or locale: an engineer plans on a laptop,
 * applies on a server, and a reviewer reads the reports elsewhere. The built CLI runs the same
 * flows with TZ and LANG/LC_ALL set for its process (Node takes ICU's default locale from
 * them: Danish sorts `aa` after `z`, Swedish `å` after `z`), and what it writes must be the
 * same byte for byte. Needs `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { describe, expect, it } from 'vitest';

import { cliEnv, runCli } from '../support/snapshot-harness.js';
import { filesUnder, seededStop, useCliWorkspace } from '../support/migration.js';

/** A machine as an engineer or a reviewer may have it set up. */
const MACHINES: Record<string, string>[] = [
  { TZ: 'UTC', LANG: 'C', LC_ALL: 'C' },
  { TZ: 'Pacific/Chatham', LANG: 'da_DK.UTF-8', LC_ALL: 'da_DK.UTF-8' },
  { TZ: 'Pacific/Kiritimati', LANG: 'sv_SE.UTF-8', LC_ALL: 'sv_SE.UTF-8' },
  { TZ: 'America/St_Johns', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' },
  { TZ: 'Asia/Kathmandu', LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8' },
];
/** yargs speaks Turkish and German, where it has those words (not Danish or Swedish). */
const TURKISH_ONLY = { TZ: 'Europe/Istanbul', LANG: 'tr_TR.UTF-8' };
const GERMAN = { TZ: 'Europe/Berlin', LC_ALL: 'de_DE.UTF-8', LANG: 'C' };
const named = (machine: Record<string, string>) =>
  `${machine['TZ']} ${machine['LC_ALL'] ?? machine['LANG']}`;

const user = (n: number) => `+1206555${String(n).padStart(4, '0')}`;
const number = (n: number) => `+1415555${String(n).padStart(4, '0')}`;
const hex = (head: string) => head.padEnd(32, '0');
// Subaccounts whose SIDs Danish collation orders apart from their characters: `aa` is `å`.
const SUB_AA = `AC${hex('aa')}`;
const SUB_AB = `AC${hex('ab')}`;
const SUB_FF = `AC${hex('ff')}`;

// STOPs near midnight UTC at the edges of the window read below: a window's dates read in
// St John's time (-3:30) would leave out the first, in Kiritimati's (+14) the last.
const FIRST = Date.parse('2025-01-01T02:00:00Z');
const LAST = Date.parse('2025-01-31T20:00:00Z');

describe('the same results on every machine (time zone, locale)', () => {
  const ws = useCliWorkspace({
    subaccounts: [
      { friendly_name: 'Old AA', sid: SUB_AA },
      { friendly_name: 'Old AB', sid: SUB_AB },
      { friendly_name: 'Old FF', sid: SUB_FF },
    ],
    numbers: [
      { phone_number: number(1) },
      { phone_number: number(2) },
      { phone_number: number(3) },
      { phone_number: number(4) },
      { phone_number: number(11), account_sid: SUB_AA },
      { phone_number: number(12), account_sid: SUB_AB },
    ],
    messages: [
      seededStop(user(1), number(1), FIRST),
      seededStop(user(2), number(2), FIRST + 3_600_000),
      seededStop(user(3), number(3), LAST),
      seededStop(user(4), number(4), LAST - 3_600_000),
      seededStop(user(5), number(11), FIRST + 7_200_000, SUB_AA),
    ],
  });
  /** Every run's output: a time shown in the machine's zone reads `GMT+1345` or the like. */
  const said: string[] = [];
  const on = async (machine: Record<string, string>, args: string[]) => {
    const result = await runCli(args, cliEnv(ws.env, machine), ws.dir.path);
    said.push(`${named(machine)} ${args[0]}:\n${result.stdout}${result.stderr}`);
    return result;
  };

  // Customer ids in an order Danish and Swedish collation change: `aa…` after `z…` in Danish,
  // and upper case apart from lower case in every byte-wise order (as SQLite sorts them).
  const MAPPING = [
    'customer_id,customer_name,phone_number,subaccount_sid',
    `aage,Aage,${number(1)},`,
    `abel,Abel,${number(2)},`,
    `Zeta,Zeta,${number(3)},`,
    `zoe,Zoe,${number(4)},`,
    `aaron,Aaron,${number(11)},${SUB_AA}`,
    `abby,Abby,${number(12)},${SUB_AB}`,
  ].join('\n');

  it('reads a window given in dates as UTC days, and lists it alike, on every machine', async () => {
    writeFileSync(ws.dir.file('m.csv'), `${MAPPING}\n`);
    const outputs: string[] = [];
    const lists: string[] = [];
    for (const [i, machine] of MACHINES.entries()) {
      const db = `tz${i}.db`;
      // The parent only: the subaccounts stay never read, listed in the coverage statement.
      const snapshot = await on(machine, [
        'snapshot',
        '--db',
        db,
        '--since',
        '2025-01-01',
        '--until',
        '2025-02-01',
      ]);
      expect(snapshot.code, `${named(machine)}: ${snapshot.stderr}`).toBe(0);
      const planned = await on(machine, [
        'plan',
        '--mapping',
        'm.csv',
        '--db',
        db,
        '--out',
        `tz${i}.plan.json`,
        '--no-snapshot',
      ]);
      expect(planned.code, `${named(machine)}: ${planned.stderr}`).toBe(0);
      // The subaccounts not read yet: the list is refused, naming them.
      const refused = await on(machine, ['optouts', '--db', db]);
      expect(refused.code, `${named(machine)}: ${refused.stderr}`).toBe(1);
      const subaccounts = await on(machine, [
        'snapshot',
        '--db',
        db,
        '--account',
        SUB_AB,
        '--account',
        SUB_AA,
        '--since',
        '2025-01-01',
        '--until',
        '2025-02-01',
      ]);
      expect(subaccounts.code, `${named(machine)}: ${subaccounts.stderr}`).toBe(0);
      const listed = await on(machine, ['optouts', '--db', db]);
      lists.push(listed.stdout);
      outputs.push(
        `${refused.stderr}\n--- exit ${listed.code}\n${listed.stdout}\n--- stderr\n${listed.stderr}`,
      );
    }
    const [utc] = outputs;
    const rows = lists[0]!.trimEnd().split('\n').slice(1);
    expect(rows.map((row) => row.split(',')[2])).toEqual(
      expect.arrayContaining([1, 2, 3, 4, 5].map(user)),
    );
    // Rows by customer_id as SQLite orders them, byte by byte.
    expect(rows.map((row) => row.split(',')[0])).toEqual(['Zeta', 'aage', 'aaron', 'abel', 'zoe']);
    expect(utc).toContain(`has read ${SUB_AA}, ${SUB_AB}, where`);
    outputs.forEach((output, i) => expect(output, named(MACHINES[i]!)).toBe(utc));
  });

  it('plans alike on every machine; a plan made on one applies on another, whose reports read alike everywhere', async () => {
    const strip = (path: string) =>
      readFileSync(ws.dir.file(path), 'utf8')
        .replace(/"created_at": "[^"]*"/, '')
        .replace(/"integrity": "[^"]*"/, '')
        .replace(/tz\d\.db/g, '');
    const first = strip('tz0.plan.json');
    MACHINES.forEach((machine, i) => expect(strip(`tz${i}.plan.json`), named(machine)).toBe(first));

    // Made in Danish at +13:45, applied in C at UTC: nothing drifted.
    const applied = await on(MACHINES[0]!, [
      'apply',
      'tz1.plan.json',
      '--db',
      'tz1.db',
      '--rate',
      '1000',
    ]);
    expect(applied.code, applied.stderr).toBe(0);
    const reports = MACHINES.map((machine, i) => ({ machine, out: `reports-${i}` }));
    for (const { machine, out } of reports) {
      const report = await on(machine, ['report', '--db', 'tz1.db', '--out', out]);
      expect(report.code, `${named(machine)}: ${report.stderr}`).toBe(0);
    }
    const files = filesUnder(ws.dir.file(reports[0]!.out))
      .map((path) => relative(ws.dir.file(reports[0]!.out), path))
      .sort();
    expect(files).toContain('optouts.csv');
    const read = (out: string, file: string) =>
      readFileSync(join(ws.dir.file(out), file), 'utf8').replace(
        /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g,
        // Times of the runs themselves (not of the history read) differ from run to run.
        (at) => (Date.parse(at) > Date.parse('2025-02-01T00:00:00Z') ? 'NOW' : at),
      );
    // A pass over the moved numbers, on each machine: what it says holds no local time.
    for (const machine of MACHINES) {
      const reconciled = await on(machine, [
        'reconcile',
        '--db',
        'tz1.db',
        '--since',
        '2025-01-01',
      ]);
      expect(reconciled.code, `${named(machine)}: ${reconciled.stderr}`).not.toBe(1);
    }
    for (const output of said)
      expect(output).not.toMatch(/GMT[+-]\d{4}|(Standard|Daylight) Time\)/);
    for (const { machine, out } of reports.slice(1)) {
      for (const file of files) {
        expect(read(out, file), `${named(machine)}: ${file}`).toBe(read(reports[0]!.out, file));
      }
    }
  });
});

describe('the command line speaks one language on every machine', () => {
  const on = (machine: Record<string, string>, args: string[]) =>
    runCli(args, { PATH: process.env['PATH']!, ...machine });

  it('says --help and its errors alike, in the words docs/commands.md uses', async () => {
    const first: string[] = [];
    for (const [i, machine] of [MACHINES[0]!, TURKISH_ONLY, GERMAN].entries()) {
      const help = await on(machine, ['snapshot', '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Options:$/m);
      const noPlan = await on(machine, ['apply']);
      expect(noPlan.stderr, named(machine)).toMatch(/^error: apply needs the plan file /);
      const unknown = await on(machine, ['snapshot', '--bogus-flag']);
      expect(unknown.stderr, named(machine)).toBe(
        'error: Unknown argument: bogus-flag. Nothing was run; `submigrate snapshot --help` lists its options\n',
      );
      const said = [help.stdout, noPlan.stderr, unknown.stderr];
      if (i === 0) first.push(...said);
      else expect(said, named(machine)).toEqual(first);
    }
  });
});
