/**
 * `reconcile` over moved numbers whose lists are very large, under a small heap. A service's
 * opt-out is on the list of every moved number of the service; reconcile read each number's
 * pairs into memory whole, twelve strings and an object a pair per number (SQLite's rows, all
 * of them at once), then kept a copy per number. Now it reads them a row at a time and keeps
 * each pair once, every list of the service holding the same one. Here 2 x 40,001 list entries
 * under a 48 MB heap, where the old code stopped with "JavaScript heap out of memory" (at 64 MB
 * too; the new needs more than 32 MB: each list still holds an entry per pair). Built
 * CLI, emulator over HTTP; the opt-outs are copies of a snapshot's STOP to the shared service
 * in the ledger, and a send after the move to the one who said it is still found.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { copyOptOuts, planAndApply, readCsv, useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const X = '+14155550101';
const Y = '+14155550102';
const P = '+12065550001';
const SHARED = 'MG0123456789abcdef0123456789abcdef';
const COPIES = 40_000;
const HEAP = 48;

describe('reconcile of very large suppression lists under a small heap', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: X }, { phone_number: Y }],
    services: [{ friendly_name: 'Shared', sid: SHARED, phone_numbers: [X, Y] }],
    messages: [
      {
        from: P,
        to: X,
        body: 'STOP',
        direction: 'inbound',
        messaging_service_sid: SHARED,
        date_sent: new Date(Date.now() - 2 * 86_400_000).toISOString(),
      },
    ],
  });

  it('holds the sends to the lists and finds the violation', async () => {
    const db = ws.dir.file('a.db');
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${X}\nbeta,Beta,${Y}\n`,
    );
    expect((await ws.cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    await planAndApply(ws.cli, { mapping: 'm.csv', db, out: 'a.plan.json' });
    // The service's STOP again from COPIES more recipients, on both numbers' lists.
    copyOptOuts(db, COPIES);

    const sub = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Beta')!.sid;
    const toP = await ownClient(ws.env, sub).messages.create({ to: P, from: Y, body: 'Sale!' });

    const reconciled = await runCli(
      ['reconcile', '--db', db],
      cliEnv(ws.env, { NODE_OPTIONS: `--max-old-space-size=${HEAP}` }),
      ws.dir.path,
    );
    expect(reconciled.stderr).not.toContain('heap out of memory');
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const rows = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(
      rows.map((r) => [r['recipient'], r['sender_number'], r['violating_message_sid']]),
    ).toEqual([[P, Y, toP.sid]]);
  });
});
