/**
 * A reconcile pass is a snapshot run of the subaccounts, recorded with the keyword rules it
 * classified messages by. One an older submigrate made (rules version 2) did not count a STOP
 * with an invisible character said to a moved number after the move: the ledger lacks it. As
 * for a snapshot, what such a pass read no longer counts as read: the next pass reads it again
 * and finds the opt-out, counting nothing twice; a --since pass that does not reach back says
 * the span is unread, and why. Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, useCliWorkspace } from '../support/migration.js';

const A = '+14155550801';
const LISTED = '+12065550181';
const INVISIBLE = '+12065550182';
const ZERO_WIDTH_STOP = 'STOP\u200B';
const HOUR = 3_600_000;
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile after passes an older submigrate made', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A, sms_url: 'https://app.example/a' }],
    messages: [{ from: LISTED, to: A, body: 'STOP', direction: 'inbound', date_sent: daysAgo(20) }],
  });
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');
  const optOutsOf = (endUser: string) => {
    const sqlite = new Database(db(), { readonly: true });
    try {
      return sqlite
        .prepare(
          "SELECT message_sid AS sid FROM ledger_events WHERE kind = 'opt-out' AND end_user = ?",
        )
        .all(endUser) as { sid: string }[];
    } finally {
      sqlite.close();
    }
  };

  it('reads their windows again and finds the opt-out their rules missed, once', async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    await planAndApply(cli, {
      mapping: ws.dir.file('m.csv'),
      db: db(),
      out: ws.dir.file('p.json'),
    });
    const state = await ws.env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const acme = ownClient(ws.env, sub);

    // As if the move was two hours ago, so that what a pass reads again lies before the
    // overlap (10 minutes) by which every pass reaches back into the last.
    const journal = new Database(db());
    const steps = journal
      .prepare(
        'SELECT rowid AS id, started_at AS started, finished_at AS finished FROM apply_steps',
      )
      .all() as { id: number; started: string | null; finished: string | null }[];
    const earlier = (iso: string | null) =>
      iso === null
        ? null
        : new Date(Date.parse(iso) - 2 * HOUR).toISOString().replace(/\.\d+Z$/, 'Z');
    const shift = journal.prepare(
      'UPDATE apply_steps SET started_at = ?, finished_at = ? WHERE rowid = ?',
    );
    for (const step of steps) shift.run(earlier(step.started), earlier(step.finished), step.id);
    journal.close();

    // Since the move: a STOP with a zero-width space to the moved number, half an hour ago, and
    // a send to someone on its list (a violation).
    const stop = (await ws.env.control('POST', '/__emulator/inbound', {
      from: INVISIBLE,
      to: A,
      body: ZERO_WIDTH_STOP,
      date_sent: new Date(Date.now() - HOUR / 2).toISOString(),
    })) as { sid: string; account_sid: string };
    expect(stop.account_sid).toBe(sub);
    const violating = await acme.messages.create({ to: LISTED, from: A, body: 'Sale!' });
    await sleep(1_100);

    const first = await cli(['reconcile', '--db', db(), '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ newViolations: 1, violations: 1 });
    expect(optOutsOf(INVISIBLE)).toEqual([{ sid: stop.sid }]);

    // As a submigrate of rules version 2 left it: its pass did not take that STOP.
    const sqlite = new Database(db());
    sqlite
      .prepare(
        'UPDATE snapshot_runs SET rules_version = 2 WHERE id IN (SELECT snapshot_run_id FROM reconcile_passes)',
      )
      .run();
    sqlite.prepare('DELETE FROM ledger_events WHERE message_sid = ?').run(stop.sid);
    sqlite.close();
    expect(optOutsOf(INVISIBLE)).toEqual([]);
    await sleep(1_100);

    // A --since pass that does not reach back leaves that span unread, and says why.
    const since = await cli([
      'reconcile',
      '--db',
      db(),
      '--since',
      new Date().toISOString(),
      '--fail-on-violation',
      '--json',
    ]);
    expect(since.code, since.stderr).toBe(3);
    const sinceJson = JSON.parse(since.stdout) as {
      unread: { accountSid: string; reason: string }[];
    };
    expect(sinceJson.unread.map((u) => [u.accountSid, u.reason])).toContainEqual([
      sub,
      'older-rules',
    ]);
    expect(since.stderr).toMatch(
      new RegExp(
        `^not read yet: ${sub} from .* \\(an older submigrate read it, whose keyword rules missed some opt-outs \\(such as a STOP with an invisible character in it`,
        'm',
      ),
    );
    expect(optOutsOf(INVISIBLE)).toEqual([]);

    // The next pass reads it again: the STOP joins the ledger; the violation it finds again
    // is not counted twice.
    const again = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(again.code, again.stderr).toBe(3);
    const againJson = JSON.parse(again.stdout) as Record<string, unknown>;
    expect(againJson).toMatchObject({
      newViolations: 0,
      violations: 1,
      evidenceAdded: 1,
      unread: [],
      pending: 0,
    });
    expect(optOutsOf(INVISIBLE)).toEqual([{ sid: stop.sid }]);
    expect(again.stderr).not.toContain('older submigrate');
    const sqlite2 = new Database(db(), { readonly: true });
    const violations = sqlite2
      .prepare('SELECT violating_message_sid AS sid FROM violations')
      .all() as { sid: string }[];
    sqlite2.close();
    expect(violations).toEqual([{ sid: violating.sid }]);
  });
});
