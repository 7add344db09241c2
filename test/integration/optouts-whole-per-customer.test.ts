/**
 * Whether a customer's list is whole is judged by its own numbers: each account one of them
 * was in must have been read up to the time it left (all of it, for an account one is still
 * in). A migration in three waves whose third apply cannot read the parent after its moves
 * leaves the parent unread from plan 3's refresh to wave 3's moves: the customers wave 3 moved
 * (or failed to move) numbers of are not whole, those whose numbers all left the parent before
 * that span are whole, in `optouts --customer`, the run's lists and report.html alike (built
 * CLI, emulator over HTTP).
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { planAndApply, readCsv, seededStop, useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli, withLedger, type CliResult } from '../support/snapshot-harness.js';
import { startTamperingProxy, type TamperingProxy } from '../support/tampering-proxy.js';

const DAY = 86_400_000;
// acme has a number in wave 1 and one in wave 3; bob's moves in wave 1; M1 moves in wave 1
// for mia and in wave 2 on to ned; carl's moves in wave 3, dan's move fails in wave 3, eve's is
// planned after it and not applied.
const [A1, A2, B1, M1, C1, D1, E1] = [
  '+14155550901',
  '+14155550902',
  '+14155550903',
  '+14155550904',
  '+14155550905',
  '+14155550906',
  '+14155550907',
];
// U opted out of bob's number before anything moved (read), and of carl's in the span no read
// covers; X opted out of bob's number in that span too, once it was in bob's subaccount.
const [U, X] = ['+12065550901', '+12065550902'];
// Snapshot windows and journal times are kept to the second.
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100));

describe('a list judged whole by the spans its own numbers were in each account', () => {
  const ws = useCliWorkspace({
    numbers: [A1, A2, B1, M1, C1, D1, E1].map((phone) => ({ phone_number: phone })),
    messages: [seededStop(U, B1, Date.now() - 3 * DAY)],
  });
  let proxy: TamperingProxy;
  let wave3: CliResult;
  const db = () => ws.dir.file('w.db');
  const mapping = (name: string, rows: string) => {
    const file = ws.dir.file(name);
    writeFileSync(file, `customer_id,customer_name,phone_number\n${rows}`);
    return file;
  };
  const optouts = (customer: string) => ws.cli(['optouts', '--db', db(), '--customer', customer]);
  const recipients = (listed: CliResult) =>
    (parse(listed.stdout, { columns: true }) as Record<string, string>[]).map((r) => r.recipient);

  beforeAll(async () => {
    const dSid = (await ws.env.state()).numbers.find((n) => n.phone_number === D1)!.sid;
    // Wave 3's apply goes through this: dan's transfer is refused, and every Messages page
    // (apply's read of the parent after its moves) is a captive portal's page.
    proxy = await startTamperingProxy(ws.env.url, (path, _status, _body, { method }) => {
      if (path.includes('/Messages.json')) {
        return { status: 200, type: 'text/html', body: '<html><body>Sign in</body></html>' };
      }
      if (method === 'POST' && path.includes(`/IncomingPhoneNumbers/${dSid}.json`)) {
        const error = { code: 20001, message: 'refused by the test', status: 400 };
        return { status: 400, type: 'application/json', body: JSON.stringify(error) };
      }
      return null;
    });
    expect((await ws.cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(ws.cli, {
      mapping: mapping('wave1.csv', `acme,Acme,${A1}\nbob,Bob,${B1}\nmia,Mia,${M1}\n`),
      db: db(),
      out: ws.dir.file('wave1.plan.json'),
    });
    await planAndApply(ws.cli, {
      mapping: mapping('wave2.csv', `ned,Ned,${M1}\n`),
      db: db(),
      out: ws.dir.file('wave2.plan.json'),
    });
    // Waves are days apart in real use; here seconds. A span that begins within the clock skew
    // allowed after a number left (2 min: our clock against Twilio's) counts against its list,
    // so the journal is told waves 1 and 2 ran ten minutes ago.
    await withLedger(db(), (d) =>
      d
        .prepare(
          `UPDATE apply_steps SET
             started_at = strftime('%Y-%m-%dT%H:%M:%SZ', started_at, '-10 minutes'),
             finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', finished_at, '-10 minutes')
           WHERE run_id IN (1, 2)`,
        )
        .run(),
    );
    const planned = await ws.cli([
      'plan',
      '--db',
      db(),
      '--mapping',
      mapping('wave3.csv', `acme,Acme,${A2}\ncarl,Carl,${C1}\ndan,Dan,${D1}\n`),
      '--out',
      'wave3.plan.json',
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    await nextSecond();
    const bobs = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Bob')!.sid;
    await ws.env.seed({
      messages: [seededStop(U, C1, Date.now()), seededStop(X, B1, Date.now(), bobs)],
    });
    await nextSecond();
    const through = cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url });
    wave3 = await runCli(
      ['apply', 'wave3.plan.json', '--db', db(), '--rate', '1000'],
      through,
      ws.dir.path,
    );
  }, 180_000);
  afterAll(async () => proxy.close());

  it('after the read failed: a wave-1 customer is whole, a wave-3 customer is not', async () => {
    expect(wave3.code).toBe(3);
    expect(wave3.stderr).toMatch(
      /^note: the history of AC\w+ after the plan read it was not read/m,
    );
    expect(wave3.stderr).toMatch(
      /suppression lists of 3 customer\(s\) are not whole \(acme, carl, dan\)/,
    );

    const bob = await optouts('bob');
    expect(bob.code, bob.stderr).toBe(0);
    expect(bob.stderr).toMatch(/^not read: AC\w+ \S+ → \S+/m);
    expect(bob.stderr).toContain('this list is whole');
    expect(recipients(bob)).toEqual([U]);
    const carl = await optouts('carl');
    expect(carl.code).toBe(3);
    expect(carl.stderr).toContain('this list is not whole');

    // Wave 1's reports written again say so too, and the page is not held back by the span.
    const again = await ws.cli(['report', '--db', db(), '--run', '1']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('not whole');
    const rows = readCsv(ws.dir.file('reports/1/optouts.csv'));
    expect(rows.map((r) => [r.customer_id, r.recipient, r.customer_list])).toEqual([
      ['bob', U, 'whole'],
    ]);
    const page = readFileSync(ws.dir.file('reports/1/report.html'), 'utf8');
    expect(page).not.toContain('not whole');
    expect(page).toContain('but none of it while this');
    // Wave 3's page says its customers' lists are not whole.
    expect(readFileSync(ws.dir.file('reports/3/report.html'), 'utf8')).toContain(
      'The suppression lists of 3 customer(s) are not whole',
    );
  });

  it('a number moved twice is whole once both accounts were read up to its moves', async () => {
    const ned = await optouts('ned');
    expect(ned.code, ned.stderr).toBe(0);
    expect(ned.stderr).not.toContain('not whole');
  });

  it('a customer with numbers in two waves is not whole while the later span is unread', async () => {
    const acme = await optouts('acme');
    expect(acme.code).toBe(3);
    expect(acme.stderr).toContain('this list is not whole');
    const csv = readCsv(ws.dir.file('reports/3/carry.csv'));
    expect(csv.find((c) => c.customer_id === 'acme')!.protection).toContain('not whole');
  });

  it('a number whose move failed is judged by all of the account it is still in', async () => {
    const audit = readCsv(ws.dir.file('reports/3/audit.csv'));
    expect(audit.find((r) => r.phone_number === D1)!.status).toBe('failed');
    const dan = await optouts('dan');
    expect(dan.code).toBe(3);
    expect(dan.stderr).toContain('this list is not whole');
  });

  it('a number planned and not moved is judged by all of the account it is in', async () => {
    const planned = await ws.cli([
      'plan',
      '--db',
      db(),
      '--no-snapshot',
      '--mapping',
      mapping('wave4.csv', `eve,Eve,${E1}\n`),
      '--out',
      'wave4.plan.json',
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    const eve = await optouts('eve');
    expect(eve.code).toBe(3);
    expect(eve.stderr).toContain('this list is not whole');
  });

  it("one end user's STOPs to two customers' numbers: on the list read, missing where not", async () => {
    const bob = await optouts('bob');
    expect(recipients(bob)).toEqual([U]);
    expect(bob.code).toBe(0);
    const carl = await optouts('carl');
    expect(recipients(carl)).toEqual([]);
    expect(carl.code).toBe(3);
  });

  it("a STOP to a number after it left is the new account's: reconcile puts it on the list", async () => {
    const reconciled = await ws.cli(['reconcile', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const bob = await optouts('bob');
    expect(bob.code, bob.stderr).toBe(0);
    expect(recipients(bob)).toEqual([U, X]);
  });
});
