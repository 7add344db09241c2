/**
 * An apply with --allow-missing-snapshot, as report.html shows it: the page a compliance
 * reviewer signs off from must say that the opt-out gate was overridden (audit.json's notes say
 * so; the page said nothing), and must not count the rows of a list it calls "not known" among
 * the opt-outs on the lists. Acme's numbers come from the parent (read) and from a subaccount no
 * snapshot read; Beta's from the parent only. Built CLI, emulator over HTTP.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { emulatorOptOuts } from '../support/emulator.js';
import { planAndApply, readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const SUB = `AC${'7'.repeat(32)}`;
const [P1, S1, P2] = ['+14155550201', '+14155550205', '+14155550202'];
const [R1, R2, R3] = ['+16505550201', '+16505550202', '+16505550203'];

/** The text of a summary figure of report.html: its value and its label. */
function figure(page: string, id: string): { value: string; label: string } {
  const match = new RegExp(
    `data-figure="${id}">\\s*<span class="value">([^<]*)</span><span class="label">([^<]*)</span>`,
  ).exec(page);
  expect(match, id).not.toBeNull();
  return { value: match![1]!.trim(), label: match![2]!.trim() };
}

describe('report.html after apply --allow-missing-snapshot', () => {
  const ws = useCliWorkspace(
    {
      subaccounts: [{ friendly_name: 'Old Birch', sid: SUB }],
      numbers: [{ phone_number: P1 }, { phone_number: P2 }, { phone_number: S1, account_sid: SUB }],
      messages: [
        seededStop(R1, P1, NOW - 10 * DAY),
        seededStop(R2, S1, NOW - 5 * DAY, SUB),
        seededStop(R3, P2, NOW - 4 * DAY),
      ],
    },
    NOW,
  );

  const applyOverridden = async () => {
    const db = ws.dir.file('m.db');
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${P1}\nacme,Acme,${S1}\nbeta,Beta,${P2}\n`,
    );
    expect((await ws.cli(['snapshot', '--db', db])).code).toBe(0);
    const plan = ws.dir.file('m.plan.json');
    await planAndApply(ws.cli, {
      mapping: ws.dir.file('m.csv'),
      db,
      out: plan,
      plan: ['--no-snapshot'],
      apply: ['--allow-missing-snapshot'],
    });
    return join(ws.dir.path, 'reports', '1');
  };

  let reports = '';

  it('says that the opt-out gate was overridden, and for which numbers', async () => {
    reports = await applyOverridden();
    const audit = JSON.parse(readFileSync(join(reports, 'audit.json'), 'utf8')) as {
      run: { options: { allow_missing_snapshot: boolean }; notes: { note: string }[] };
    };
    expect(audit.run.options.allow_missing_snapshot).toBe(true);
    expect(audit.run.notes.map((n) => n.note)).toEqual([
      `--allow-missing-snapshot: moved 1 number(s) whose opt-outs no completed snapshot covers: ${S1}`,
    ]);
    const page = readFileSync(join(reports, 'report.html'), 'utf8');
    expect(page).toMatch(/<div class="note bad" data-run-notes>/);
    expect(page).toContain('Applied with <code>--allow-missing-snapshot</code>');
    expect(page).toContain(
      `--allow-missing-snapshot: moved 1 number(s) whose opt-outs no completed snapshot covers: ${S1}`,
    );
  }, 60_000);

  it('does not count the rows of a list it calls not known among the opt-outs on the lists', async () => {
    // Twilio blocked R2 from Acme's number in the unread subaccount: no list holds R2.
    const truth = await emulatorOptOuts(ws.env);
    expect(truth.map((o) => o.recipient).sort()).toEqual([R1, R2, R3]);
    const rows = readCsv(join(reports, 'optouts.csv'));
    expect(rows.map((r) => [r.customer_id, r.recipient])).toEqual([
      ['acme', R1],
      ['beta', R3],
    ]);
    const carry = new Map(readCsv(join(reports, 'carry.csv')).map((r) => [r.customer_id, r]));
    expect(carry.get('acme')!.protection).toMatch(/^unknown: /);
    expect(carry.get('beta')!.list_rows).toBe('1');
    // A list not known has no rows to count: both cells empty, not 0 (nobody opted out), as
    // docs/file-formats.md's carry.csv table says; it gave no meaning to an empty cell.
    expect(carry.get('acme')).toMatchObject({ list_rows: '', twilio_enforces_rows: '' });
    const docs = readFileSync(
      join(import.meta.dirname, '..', '..', 'docs', 'file-formats.md'),
      'utf8',
    );
    const carryTable = docs.slice(
      docs.indexOf('### `carry.csv`'),
      docs.indexOf('`protection` says'),
    );
    expect(
      carryTable
        .split('\n')
        .find((line) => line.startsWith('| `list_rows`, `twilio_enforces_rows` |')),
    ).toContain('both empty when its list is not known (`protection` `unknown: …`)');

    const page = readFileSync(join(reports, 'report.html'), 'utf8');
    // The customers' table says "not known" for Acme; the summary counts Beta's list only.
    expect(page).toMatch(/<td class="num">not known<\/td>/);
    expect(figure(page, 'optouts')).toEqual({
      value: '1',
      label:
        'rows on the suppression lists (one per opted-out pair and customer) (lists of 1 customer(s) not known)',
    });
    expect(page).toMatch(/<div class="figure alarm" data-figure="optouts">/);
  });
});
