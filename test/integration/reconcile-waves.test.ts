/**
 * reconcile after a migration in two waves (two applies, each moving other customers): every
 * violation it counts is in a violations.csv it wrote, whichever run moved the sender.
 */

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, useCliWorkspace } from '../support/migration.js';

const A = '+14155550501';
const C = '+14155550503';
const R1 = '+12065550101';
const R2 = '+12065550102';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

describe('reconcile after two waves', () => {
  const ws = useCliWorkspace({
    numbers: [
      { phone_number: A, sms_url: 'https://app.example/a' },
      { phone_number: C, sms_url: 'https://app.example/c' },
    ],
    messages: [
      { from: R1, to: A, body: 'STOP', direction: 'inbound', date_sent: daysAgo(20) },
      { from: R2, to: C, body: 'STOP', direction: 'inbound', date_sent: daysAgo(20) },
    ],
  });
  const { cli } = ws;
  const db = () => ws.dir.file('w.db');

  it("lists the first wave's violations too, not only the latest run's", async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const wave = async (n: number, row: string) => {
      writeFileSync(ws.dir.file(`m${n}.csv`), `customer_id,customer_name,phone_number\n${row}\n`);
      await planAndApply(cli, {
        mapping: ws.dir.file(`m${n}.csv`),
        db: db(),
        out: ws.dir.file(`p${n}.json`),
      });
    };
    await wave(1, `acme,Acme,${A}`);
    await wave(2, `cobalt,Cobalt,${C}`);

    const state = await ws.env.state();
    const client = (name: string) => {
      const sid = state.accounts.find((a) => a.friendly_name === name)!.sid;
      return ownClient(ws.env, sid);
    };
    const v1 = await client('Acme').messages.create({ to: R1, from: A, body: 'Sale!' });
    const v2 = await client('Cobalt').messages.create({ to: R2, from: C, body: 'Sale!' });

    const result = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout).toMatch(
      /In all: 2 violation\(s\), 0 blocked\. reports\/1\/violations\.csv, reports\/2\/violations\.csv/,
    );
    const written = ['1', '2']
      .map((run) => join(ws.dir.path, 'reports', run, 'violations.csv'))
      .filter((path) => existsSync(path))
      .flatMap((path) => readCsv(path).map((r) => r['violating_message_sid']));
    expect(written.sort()).toEqual([v1.sid, v2.sid].sort());
  });
});
