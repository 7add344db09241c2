/**
 * A plan edited by hand and sealed again (the seal is a sha256 anyone can compute) is refused by
 * `apply --dry-run` and `apply` in one line, exit 1, before a single write: not run until a step
 * finds what it needs missing and apply stops half way with an internal error. Needs
 * `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import { makePlan, useCliWorkspace } from '../support/migration.js';
import { editedAndResealed } from '../support/plan-builders.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;

describe('apply on a plan edited and sealed again', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: '+14155550101' }, { phone_number: '+14155550102' }],
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: ['+14155550102'],
          inbound_request_url: 'https://app.example/in',
        },
      ],
    },
    NOW,
  );

  /** A plan of two customers, each with a subaccount to create; beta's number leaves Shared. */
  const planned = async () => {
    const mapping = ws.dir.file('m.csv');
    writeFileSync(
      mapping,
      'customer_id,customer_name,phone_number,messaging_service\nacme,Acme,+14155550101,acmeAlerts\nbeta,Beta,+14155550102,\n',
    );
    const db = ws.dir.file('t.db');
    expect((await ws.cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    const out = ws.dir.file('m.plan.json');
    await makePlan(ws.cli, { mapping, db, out });
    return { db, text: readFileSync(out, 'utf8') };
  };

  const cases: [string, (json: any) => void, RegExp][] = [
    // Before: beta's number left Shared, then its transfer found no subaccount to go to and
    // apply stopped with "internal error" and a stack trace, the detach done.
    [
      'the step that creates a subaccount taken out',
      (j) => {
        j.steps = j.steps.filter((s: { id: string }) => s.id !== 'create_subaccount:beta');
        for (const s of j.steps) {
          s.depends_on = s.depends_on.filter((d: string) => d !== 'create_subaccount:beta');
        }
      },
      /does not come after create_subaccount:beta/,
    ],
    // Before: "internal error: TypeError: Cannot read properties of null (reading 'action')".
    ['a step that is null', (j) => (j.steps[0] = null), /steps\[0\] is not an object/],
    [
      'a step of a customer the plan does not list',
      (j) => (j.steps[0].customer_id = 'zed'),
      /who is not in the plan's customers/,
    ],
  ];

  it.each(cases)('%s: exit 1 in one line, nothing sent but reads', async (_, edit, message) => {
    const { db, text } = await planned();
    const tampered = ws.dir.file('tampered.plan.json');
    writeFileSync(tampered, editedAndResealed(text, edit));
    await clearRequestLog(ws.env);
    for (const extra of [['--dry-run'], []]) {
      const result = await ws.cli(['apply', tampered, '--db', db, '--rate', '1000', ...extra]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/^error: tampered\.plan\.json: [^\n]*\n$/);
    }
    expect((await requestLog(ws.env)).filter((entry) => entry.method !== 'GET')).toEqual([]);
  });
});
