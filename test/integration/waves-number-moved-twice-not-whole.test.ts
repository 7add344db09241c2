/**
 * A number whose parent history was read only in part (a snapshot with --no-export: the
 * Messages API keeps 7 days here) moves into acme's subaccount (apply --allow-missing-snapshot),
 * then a second wave gives it to beta. beta's list holds the parent's opt-outs that were read,
 * but not the older one nobody read: every list of beta's must say it is not whole, as acme's
 * did, never pass for whole because the number's latest source (acme's subaccount) was read
 * in full. And one whose second plan read nothing (--no-snapshot): acme's subaccount, where the
 * number heard STOPs between the waves, was never read, so beta's list is not known, and
 * `optouts --customer beta` and reconcile refuse to vouch for it (built CLI, emulator over HTTP).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const N = '+14155550721';
const [OLD, RECENT] = ['+12065550721', '+12065550722'];

describe('a number moved on by a second wave, its parent history not all read', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: N }],
      messages: [seededStop(OLD, N, NOW - 20 * DAY), seededStop(RECENT, N, NOW - 2 * DAY)],
    },
    NOW,
  );

  it("says beta's list is not whole", async () => {
    await ws.env.control('POST', '/__emulator/settings', { message_retention_days: 7 });
    const db = ws.dir.file('w.db');
    const snapshot = await ws.cli(['snapshot', '--db', db, '--no-export', '--retention-days', '7']);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    const wave = async (n: number, row: string) => {
      writeFileSync(ws.dir.file(`m${n}.csv`), `customer_id,customer_name,phone_number\n${row}\n`);
      const plan = ws.dir.file(`p${n}.json`);
      const planned = await ws.cli([
        'plan',
        '--mapping',
        ws.dir.file(`m${n}.csv`),
        '--db',
        db,
        '--out',
        plan,
      ]);
      expect(planned.code, planned.stderr).toBe(0);
      return ws.cli(['apply', plan, '--db', db, '--rate', '1000', '--allow-missing-snapshot']);
    };
    const first = await wave(1, `acme,Acme,${N}`);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('are not whole (acme)');
    const second = await wave(2, `beta,Beta,${N}`);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('are not whole (beta)');

    const reports = join(ws.dir.path, 'reports', '2');
    for (const file of ['optouts.csv', join('optouts', 'beta.csv')]) {
      expect(readCsv(join(reports, file)).map((r) => [r.recipient, r.customer_list])).toEqual([
        [RECENT, 'not_whole'],
      ]);
    }
    const [carry] = readCsv(join(reports, 'carry.csv'));
    expect(carry).toMatchObject({ customer_id: 'beta', list_rows: '1' });
    expect(carry!.protection).toMatch(/its list is not whole/);
    expect(readFileSync(join(reports, 'report.html'), 'utf8')).toContain(
      '1 (history not all read)',
    );
  }, 120_000);
});

describe("a number moved on by a second wave, acme's subaccount never read", () => {
  const ws = useCliWorkspace(
    { numbers: [{ phone_number: N }], messages: [seededStop(RECENT, N, NOW - 2 * DAY)] },
    NOW,
  );

  it("says beta's list is not known, and optouts and reconcile refuse to vouch for it", async () => {
    const db = ws.dir.file('w.db');
    expect((await ws.cli(['snapshot', '--db', db])).code).toBe(0);
    const wave = async (n: number, row: string, flags: string[]) => {
      writeFileSync(ws.dir.file(`m${n}.csv`), `customer_id,customer_name,phone_number\n${row}\n`);
      const plan = ws.dir.file(`p${n}.json`);
      const mapping = ws.dir.file(`m${n}.csv`);
      const planned = await ws.cli([
        'plan',
        '--mapping',
        mapping,
        '--db',
        db,
        '--out',
        plan,
        ...flags,
      ]);
      expect(planned.code, planned.stderr).toBe(0);
      return ws.cli(['apply', plan, '--db', db, '--rate', '1000', '--allow-missing-snapshot']);
    };
    expect((await wave(1, `acme,Acme,${N}`, [])).code).toBe(0);
    // The second plan reads nothing: what the number heard in acme's subaccount is unread.
    const second = await wave(2, `beta,Beta,${N}`, ['--no-snapshot']);
    expect(second.code, second.stderr).toBe(0);
    const acme = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;

    const reports = join(ws.dir.path, 'reports', '2');
    expect(
      readCsv(join(reports, 'optouts.csv')).map((r) => [r.recipient, r.customer_list]),
    ).toEqual([[RECENT, 'not_known']]);
    expect(readCsv(join(reports, 'carry.csv'))[0]).toMatchObject({ customer_id: 'beta' });
    expect(readCsv(join(reports, 'carry.csv'))[0]!.protection).toMatch(/unknown|not known/);
    const listed = await ws.cli(['optouts', '--db', db, '--customer', 'beta']);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain(`no completed snapshot has read ${acme},`);
    const reconciled = await ws.cli(['reconcile', '--db', db]);
    expect(reconciled.code).toBe(1);
    expect(reconciled.stderr).toContain(`no completed snapshot has read ${acme},`);
  }, 120_000);
});
