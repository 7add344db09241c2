/**
 * A reconcile pass whose reports cannot be written afterwards has still read the subaccounts
 * and recorded what it found: the violations it found are new only this once (the next pass
 * counts them as known). So the pass's summary is printed all the same, before the error that
 * says which report could not be written, and the command exits as the pass's findings say:
 * 3 here, with --fail-on-violation and a violation known (built CLI, emulator over HTTP).
 */

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, seededStop, useCliWorkspace } from '../support/migration.js';

const A = '+14155550601';
const R1 = '+12065550201';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile whose reports cannot be written', () => {
  // On the real clock: the send after the move is dated after it.
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A, sms_url: 'https://app.example/a' }],
    messages: [seededStop(R1, A, Date.now() - 20 * 86_400_000)],
  });
  const { cli } = ws;
  const db = () => ws.dir.file('c.db');

  it('prints what the pass found, then the error', async () => {
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(cli, {
      mapping: ws.dir.file('m.csv'),
      db: db(),
      out: ws.dir.file('p.json'),
    });
    await sleep(1_100);
    const { env, dir } = ws;
    const state = await env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const acme = ownClient(env, sub);
    const sent = await acme.messages.create({ to: R1, from: A, body: 'Sale!' });
    await sleep(1_100);

    mkdirSync(dir.file('reports/1/violations.csv'));
    const result = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/: 1 new violation\(s\), .* In all: 1 violation\(s\)/);
    expect(result.stdout).not.toContain('violations.csv');
    expect(result.stderr).toMatch(/^error: the report file .*violations\.csv: cannot write it/m);

    // The next pass finds nothing new: the first one's summary was the only place to see it.
    rmSync(dir.file('reports/1/violations.csv'), { recursive: true });
    const again = await cli(['reconcile', '--db', db(), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ newViolations: 0, violations: 1 });
    expect(sent.sid).toMatch(/^SM/);
  }, 60_000);
});

describe('reconcile with several report folders, some of which cannot be written', () => {
  const B = '+14155550602';
  const C = '+14155550603';
  const ws = useCliWorkspace({
    numbers: [A, B, C].map((n) => ({ phone_number: n, sms_url: 'https://app.example/x' })),
    messages: [seededStop(R1, A, Date.now() - 20 * 86_400_000)],
  });
  const { cli } = ws;
  const db = () => ws.dir.file('c.db');
  const row = (id: string, n: string) => `${id},${id.toUpperCase()},${n}\n`;

  it('writes every folder it can, names only those, and tells each one it could not', async () => {
    const head = 'customer_id,customer_name,phone_number\n';
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    // Three runs, each moving one customer's number: reports/1, reports/2, reports/3.
    let rows = head;
    for (const [id, n] of [
      ['acme', A],
      ['beta', B],
      ['gamma', C],
    ] as const) {
      rows += row(id, n);
      writeFileSync(ws.dir.file('m.csv'), rows);
      await planAndApply(cli, {
        mapping: ws.dir.file('m.csv'),
        db: db(),
        out: ws.dir.file('p.json'),
      });
    }
    await sleep(1_100);
    const { dir } = ws;
    mkdirSync(dir.file('reports/1/violations.csv'));
    mkdirSync(dir.file('reports/3/violations.csv'));

    const result = await cli(['reconcile', '--db', db()]);
    expect(result.code).toBe(1);
    // The folder between the two that cannot be written got this pass's lists, and is named.
    expect(result.stdout).toMatch(
      /In all: 0 violation\(s\), 0 blocked\. reports\/2\/violations\.csv$/m,
    );
    expect(existsSync(dir.file('reports/2/violations.csv'))).toBe(true);
    expect(result.stderr).toMatch(
      /^error: the report file .*reports\/1\/violations\.csv: cannot write it/m,
    );
    expect(result.stderr).toMatch(
      /^also: the report file .*reports\/3\/violations\.csv: cannot write it/m,
    );
  }, 90_000);
});
