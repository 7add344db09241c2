/**
 * A STOP said to a number after the plan's refresh read its account and before apply moved it
 * out: Twilio's parent enforced it, the subaccount the number went to never saw it, and
 * reconcile reads the subaccounts only. Apply reads the account up to the moves, so it is on
 * the customer's list (as an opt-out only the list keeps: nothing carried it); when that read
 * fails, the list is not vouched for as whole until a snapshot reads it, and reconcile does not
 * call a send to that person no violation.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ReconcileResult } from '../../src/reconcile/result.js';
import { ownClient } from '../support/emulator.js';
import { readCsv, seededStop, useCliWorkspace } from '../support/migration.js';
import {
  cliEnv,
  readOnly,
  releaseHeld,
  runCli,
  startCliHeld,
} from '../support/snapshot-harness.js';
import { startTamperingProxy, type TamperingProxy } from '../support/tampering-proxy.js';

const DAY = 86_400_000;
const A1 = '+14155550801';
const [R1, R3] = ['+12065550801', '+12065550803'];
// Snapshot windows and journal times are kept to the second: a STOP a second after the plan's
// read, and a move a second after the STOP, fall on seconds of their own.
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100));

const workspace = () =>
  useCliWorkspace({
    numbers: [{ phone_number: A1, sms_url: 'https://acme.example/sms' }],
    messages: [seededStop(R1, A1, Date.now() - 3 * DAY)],
  });

/** Plan acme's number, then a STOP from R3 to it while it is still in the parent. */
async function planThenStop(ws: ReturnType<typeof workspace>): Promise<void> {
  writeFileSync(
    ws.dir.file('m.csv'),
    `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A1},acmeSvc\n`,
  );
  const planned = await ws.cli(['plan', '--mapping', 'm.csv', '--out', 'p.json']);
  expect(planned.code, planned.stderr).toBe(0);
  await nextSecond();
  await ws.env.seed({ messages: [seededStop(R3, A1, Date.now())] });
  await nextSecond();
}

describe('a STOP between the plan and the move', () => {
  const ws = workspace();

  it('is on the list of the customer whose number moved, as an opt-out Twilio does not refuse', async () => {
    await planThenStop(ws);
    const applied = await ws.cli(['apply', 'p.json', '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).not.toContain('not whole');

    const listed = await ws.cli(['optouts', '--customer', 'acme']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).not.toMatch(/^not read:/m);
    const rows = readCsv(ws.dir.file('reports/1/optouts.csv'));
    expect(rows.map((r) => [r.recipient, r.customer_list, r.twilio_enforces])).toEqual([
      [R1, 'whole', 'no'],
      [R3, 'whole', 'no'],
    ]);
    const [carry] = readCsv(ws.dir.file('reports/1/carry.csv'));
    expect([carry!.list_rows, carry!.twilio_enforces_rows]).toEqual(['2', '0']);
  });
});

/**
 * Plans, lets R3 say STOP, then applies through a proxy that answers every Messages page with
 * a captive portal's page: the read after the moves fails at once (the plan's own refresh is
 * made without the proxy). The proxy lives as long as the describe block.
 */
function applyWithMessagesUnreadable(ws: ReturnType<typeof workspace>) {
  let proxy: TamperingProxy;
  beforeAll(async () => {
    proxy = await startTamperingProxy(ws.env.url, (path) =>
      path.includes('/Messages.json')
        ? { status: 200, type: 'text/html', body: '<html><body>Sign in</body></html>' }
        : null,
    );
  });
  afterAll(async () => proxy.close());
  return async () => {
    await planThenStop(ws);
    const through = cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url });
    return runCli(['apply', 'p.json', '--rate', '1000'], through, ws.dir.path);
  };
}

describe('a STOP between the plan and the move, when apply cannot read it', () => {
  const ws = workspace();
  const apply = applyWithMessagesUnreadable(ws);

  it('moves the number, and says the list is not whole until a snapshot reads it', async () => {
    const applied = await apply();
    expect(applied.code).toBe(3);
    expect(applied.stdout).toContain('0 failed');
    expect(applied.stdout).toContain('The suppression lists are not whole');
    expect(applied.stderr).toMatch(
      /^note: the history of AC\w+ after the plan read it was not read up to the moves/m,
    );
    expect(applied.stderr).toContain('Run `submigrate snapshot --db ');
    expect(applied.stderr).toMatch(/suppression lists of 1 customer\(s\) are not whole \(acme\)/);
    expect(applied.stdout + applied.stderr).not.toContain(ws.env.parentToken);

    const listed = await ws.cli(['optouts', '--customer', 'acme']);
    expect(listed.stderr).toMatch(/^not read: AC\w+ \S+ → \S+/m);
    expect(listed.stderr).toContain('this list is not whole');
    expect(listed.code).toBe(3);
    const rows = readCsv(ws.dir.file('reports/1/optouts.csv'));
    expect(rows.map((r) => [r.recipient, r.customer_list])).toEqual([[R1, 'not_whole']]);

    // The snapshot the note names reads the span: the list is whole, with R3 on it.
    const read = await ws.cli(['snapshot', '--no-export']);
    expect(read.code, read.stderr).toBe(0);
    const after = await ws.cli(['optouts', '--customer', 'acme']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain(R3);
  });
});

describe('reconcile, while that STOP is not read', () => {
  const ws = workspace();
  const apply = applyWithMessagesUnreadable(ws);

  it('does not say "no violation" over a list that is not whole, nor once a snapshot has made it whole, until a pass reads the send again', async () => {
    expect((await apply()).code).toBe(3);
    // Acme's application texts R3, whose STOP no snapshot has read, from its subaccount.
    const sub = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const sent = await ownClient(ws.env, sub).messages.create({ to: R3, from: A1, body: 'Sale!' });

    // A moment after the send, before the pass that holds it to a list that is not whole.
    await nextSecond();
    const afterSend = new Date().toISOString();
    const blind = await ws.cli(['reconcile', '--fail-on-violation']);
    expect(blind.stdout).toContain('0 new violation(s)');
    expect(blind.stderr).toMatch(
      /^not whole: the suppression lists of 1 customer\(s\) \(acme\) miss the opt-outs said in history no snapshot read/m,
    );
    expect(blind.code).toBe(3);
    const since = /`submigrate reconcile --since (\S+)`/.exec(blind.stderr)?.[1];
    expect(since).toBeDefined();

    // The snapshot reads R3's STOP and makes the list whole, but judges no send: until a pass
    // reads the send again, the page is not ready, and does not say that nobody was texted.
    expect((await ws.cli(['snapshot', '--no-export'])).code).toBe(0);
    expect((await ws.cli(['report'])).code).toBe(0);
    const page = readFileSync(ws.dir.file('reports/1/report.html'), 'utf8');
    expect(/data-signoff="([a-z-]+)"/.exec(page)?.[1]).toBe('not-ready');
    expect(page).toContain('have not been checked again since');
    expect(page).not.toContain('Nobody on a suppression list has been texted');
    // A pass that starts after the send (the list whole, nothing left unread) says the send is
    // not judged again, and fails.
    const skipping = await ws.cli(['reconcile', '--since', afterSend, '--fail-on-violation']);
    expect(skipping.code).toBe(3);
    expect(skipping.stderr).toMatch(/^not judged again: the sends of 1 customer\(s\) \(acme\)/m);
    expect(skipping.stderr).not.toContain('not whole:');

    // The pass it names reads the send again and judges it.
    const judged = await ws.cli(['reconcile', '--since', since!, '--fail-on-violation']);
    expect(judged.stderr).not.toContain('not whole');
    expect(judged.stderr).not.toContain('not judged again');
    expect(judged.stdout).toContain('1 new violation(s)');
    const rows = readCsv(ws.dir.file('reports/1/violations.csv'));
    expect(rows.map((r) => [r.recipient, r.violating_message_sid])).toEqual([[R3, sent.sid]]);
    const marks = (db: Database.Database) =>
      db.prepare('SELECT customer_id AS c, since FROM reconcile_judged_not_whole').all();
    expect(readOnly(ws.dir.file('submigrate.db'), marks)).toEqual([]);

    // Marked from an hour ago, a pass without --since reads acme's sends from then (its usual
    // start is ten minutes before the last pass's end), and clears the mark.
    const markedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000)
      .toISOString()
      .replace('.000Z', 'Z');
    const db = new Database(ws.dir.file('submigrate.db'));
    try {
      db.prepare('INSERT INTO reconcile_judged_not_whole (customer_id, since) VALUES (?, ?)').run(
        'acme',
        markedAt,
      );
    } finally {
      db.close();
    }
    const again = await ws.cli(['reconcile', '--json', '--fail-on-violation']);
    expect(again.stderr).not.toContain('not judged again');
    expect((JSON.parse(again.stdout) as ReconcileResult).windows.map((w) => w.start)).toEqual([
      markedAt,
    ]);
    expect(readOnly(ws.dir.file('submigrate.db'), marks)).toEqual([]);
  });
});

describe('the read after the moves, with a snapshot left stopped', () => {
  const ws = workspace();

  it('says that it abandons that snapshot, as plan does', async () => {
    await planThenStop(ws);
    // A snapshot killed part way: status names the command that takes it up. Apply's read,
    // without Bulk Export, cannot, and abandons it: said, not done behind the engineer's back.
    const stopped = await startCliHeld(ws.env, ['snapshot'], ws.dir.path, {
      after: 1,
      methods: ['GET'],
    });
    stopped.child.kill('SIGKILL');
    await stopped.done;
    await releaseHeld(ws.env);

    const applied = await ws.cli(['apply', 'p.json', '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toMatch(
      /^note: the read after the moves: snapshot run \d+, stopped part way \(pid \d+\), .*: it is abandoned and will not be taken up/m,
    );
    const rows = readCsv(ws.dir.file('reports/1/optouts.csv'));
    expect(rows.map((r) => [r.recipient, r.customer_list])).toEqual([
      [R1, 'whole'],
      [R3, 'whole'],
    ]);
  });
});
