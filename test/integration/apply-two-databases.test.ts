/**
 * One plan applied at once from two databases (two engineers, or a plan file copied): both
 * applies pass their drift check before either has created anything, and each creates a
 * subaccount for the same customer. Each looks for a rival once its create is journaled; a run
 * that finds one moves none of that customer's numbers, says which two subaccounts there are
 * and what to do, and exits 3. No number is moved twice or split between the two, the
 * opt-outs are carried where the numbers went, and a run continued is refused while both
 * subaccounts are open (built CLI, emulator over HTTP).
 */

import { mkdirSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import {
  clearRequestLog,
  emulatorOptOuts,
  requestLog,
  startTestEmulator,
  type TestEmulator,
} from '../support/emulator.js';
import { startHoldingProxy } from '../support/holding-proxy.js';
import { makePlan, seededStop } from '../support/migration.js';
import {
  cliEnv,
  pollUntil,
  readOnly,
  runCli,
  startCli,
  tempDir,
} from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';
const N2 = '+14155550102';
const FAN = '+12065550100';
const DAY = 86_400_000;

/** Acme's two numbers in a shared service of the parent; someone texted STOP to the first. */
async function world(): Promise<TestEmulator> {
  const env = await startTestEmulator({ now: () => NOW });
  await env.seed({
    numbers: [
      { phone_number: N1, sms_url: 'https://hooks.example/acme/sms' },
      { phone_number: N2, sms_url: 'https://hooks.example/acme/sms' },
    ],
    services: [
      {
        friendly_name: 'Shared',
        phone_numbers: [N1, N2],
        inbound_request_url: 'https://hooks.example/shared/inbound',
      },
    ],
    messages: [seededStop(FAN, N1, NOW - 10 * DAY)],
  });
  return env;
}

/**
 * Two databases, each with its own snapshot of the account, and one plan (made from the
 * first, with --carry-optouts); `apply` of that plan on either, from its own folder.
 */
async function twoDatabases(env: TestEmulator, dir: ReturnType<typeof tempDir>) {
  const mapping = dir.file('m.csv');
  writeFileSync(
    mapping,
    `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N1},acmeAlerts\nacme,Acme,${N2},acmeAlerts\n`,
  );
  const plan = dir.file('m.plan.json');
  const side = (name: string) => {
    const cwd = dir.file(name);
    mkdirSync(cwd);
    const db = dir.file(`${name}.db`);
    const args = ['apply', plan, '--db', db, '--rate', '1000', '--concurrency', '1'];
    return { cwd, db, args };
  };
  const a = side('a');
  const b = side('b');
  for (const { db, cwd } of [a, b]) {
    const snapshot = await runCli(['snapshot', '--db', db], cliEnv(env), cwd);
    expect(snapshot.code, snapshot.stderr).toBe(0);
  }
  await makePlan((args) => runCli(args, cliEnv(env), a.cwd), {
    mapping,
    db: a.db,
    out: plan,
    plan: ['--carry-optouts'],
  });
  return { a, b };
}

const subaccountsNamedAcme = async (env: TestEmulator) =>
  (await env.state()).accounts.filter((a) => a.friendly_name === 'Acme' && a.status === 'active');

const createdBy = (db: string) =>
  readOnly(
    db,
    (d) =>
      d
        .prepare(
          "SELECT result_json AS r FROM apply_steps WHERE step_id = 'create_subaccount:acme' AND state = 'done'",
        )
        .get() as { r: string },
  ).r;

const statesOf = (db: string) =>
  Object.fromEntries(
    (
      readOnly(db, (d) =>
        d.prepare('SELECT step_id AS id, state FROM apply_steps ORDER BY position').all(),
      ) as { id: string; state: string }[]
    ).map((s) => [s.id, s.state]),
  );

const ownerOf = async (env: TestEmulator, phone: string) =>
  (await env.state()).numbers.find((n) => n.phone_number === phone)!.account_sid;

const transfersIn = (log: Awaited<ReturnType<typeof requestLog>>) =>
  log.filter((e) => e.method === 'POST' && /\/IncomingPhoneNumbers\/PN\w+\.json$/.test(e.path));

describe('one plan applied at once from two databases', () => {
  it('the run that creates second sees the first one’s subaccount: it moves nothing, the first moves all', async () => {
    const env = await world();
    const dir = tempDir();
    try {
      const { a, b } = await twoDatabases(env, dir);
      // B reads the account and passes its drift check; its first write waits.
      const proxy = await startHoldingProxy(env.url);
      const second = startCli(b.args, cliEnv(env, { SUBMIGRATE_API_URL: proxy.url }), b.cwd);
      await pollUntil('the second apply to send its first write', () => {
        if (second.child.exitCode !== null) throw new Error('the second apply ended');
        return proxy.held > 0 ? true : undefined;
      });

      // A runs to the end meanwhile: nothing has changed, so it finds no rival.
      const first = await runCli(a.args, cliEnv(env), a.cwd);
      expect(first.code, first.stderr).toBe(0);
      const kept = JSON.parse(createdBy(a.db)).subaccount_sid as string;

      await clearRequestLog(env);
      proxy.release();
      const lost = await second.done;
      await proxy.close();
      const extra = JSON.parse(createdBy(b.db)).subaccount_sid as string;
      expect(extra).not.toBe(kept);
      expect(lost.code, lost.stderr).toBe(3);
      expect(lost.stderr).toContain(
        `note: create_subaccount:acme: this run created subaccount ${extra} "Acme", and ${kept} "Acme" was also created since the plan was made, not by this database: this plan is being applied from another database too. This run moved none of customer acme's numbers`,
      );
      expect(lost.stderr).not.toMatch(/no account of this family/);
      // The second run sent no transfer; its steps after the create were not run.
      expect(transfersIn(await requestLog(env))).toEqual([]);
      const states = statesOf(b.db);
      expect(states['create_subaccount:acme']).toBe('done');
      for (const [id, state] of Object.entries(states)) {
        if (!id.startsWith('create_subaccount:') && !id.startsWith('detach_number:')) {
          expect(state, id).toBe('not_run');
        }
      }

      // Every number is where the first run put it, with the opt-out carried there.
      expect(await ownerOf(env, N1)).toBe(kept);
      expect(await ownerOf(env, N2)).toBe(kept);
      expect((await subaccountsNamedAcme(env)).map((s) => s.sid).sort()).toEqual(
        [kept, extra].sort(),
      );
      expect((await env.state()).numbers.filter((n) => n.account_sid === extra)).toEqual([]);
      const carried = (await emulatorOptOuts(env)).filter(
        (o) => o.recipient === FAN && o.account_sid === kept,
      );
      expect(carried.length).toBeGreaterThan(0);

      // Continued, the second run is refused while both are open: nothing written.
      await clearRequestLog(env);
      const again = await runCli(b.args, cliEnv(env), b.cwd);
      expect(again.code, again.stderr).toBe(4);
      expect(again.stderr).toContain(
        `subaccounts named "Acme": expected ["${extra}"], now ${JSON.stringify([kept, extra].sort())} (this run created ${extra}; ${kept} was made by another apply of this plan, from another database,`,
      );
      expect((await requestLog(env)).filter((e) => e.method !== 'GET')).toEqual([]);
    } finally {
      await env.close();
      dir.remove();
    }
  });

  it('both create before either looks: neither moves a number; the one kept then finishes', async () => {
    const env = await world();
    const dir = tempDir();
    try {
      const { a, b } = await twoDatabases(env, dir);
      // Both pass their drift check; each one's first write (its create) is held, then both
      // are sent on at once, and the proxy holds what either sends next until both creates are
      // answered: each looks after both creates, whichever answer comes back first.
      const proxy = await startHoldingProxy(env.url);
      const runs = [a, b].map((side) =>
        startCli(side.args, cliEnv(env, { SUBMIGRATE_API_URL: proxy.url }), side.cwd),
      );
      await pollUntil('both applies to send their first write', async () => {
        const ended = runs.find((r) => r.child.exitCode !== null);
        if (ended !== undefined) throw new Error(`an apply ended: ${(await ended.done).stderr}`);
        return proxy.held === 2 ? true : undefined;
      });
      proxy.release();
      const [ra, rb] = await Promise.all(runs.map((r) => r.done));
      await proxy.close();
      const sa = JSON.parse(createdBy(a.db)).subaccount_sid as string;
      const sb = JSON.parse(createdBy(b.db)).subaccount_sid as string;
      for (const [result, mine, theirs] of [
        [ra!, sa, sb],
        [rb!, sb, sa],
      ] as const) {
        expect(result.code, result.stderr).toBe(3);
        expect(result.stderr).toContain(
          `this run created subaccount ${mine} "Acme", and ${theirs} "Acme" was also created`,
        );
      }
      // No number moved: both are still in the parent.
      const parent = (await env.state()).parent_account_sid;
      expect(await ownerOf(env, N1)).toBe(parent);
      expect(await ownerOf(env, N2)).toBe(parent);
      expect(transfersIn(await requestLog(env))).toEqual([]);

      // As the note says: close one (it holds no number), and apply again from the database
      // that created the other. It finishes into the one kept.
      await env.parent.api.v2010.accounts(sb).update({ status: 'closed' });
      const finished = await runCli(a.args, cliEnv(env), a.cwd);
      expect(finished.code, finished.stderr).toBe(0);
      expect(await ownerOf(env, N1)).toBe(sa);
      expect(await ownerOf(env, N2)).toBe(sa);
      expect(
        (await emulatorOptOuts(env)).filter((o) => o.recipient === FAN && o.account_sid === sa)
          .length,
      ).toBeGreaterThan(0);

      // The other database's run is refused: its subaccount is closed. Nothing written.
      await clearRequestLog(env);
      const refused = await runCli(b.args, cliEnv(env), b.cwd);
      expect(refused.code, refused.stderr).toBe(4);
      expect(refused.stderr).toContain(`subaccount ${sb} ("Acme") is closed`);
      expect((await requestLog(env)).filter((e) => e.method !== 'GET')).toEqual([]);
    } finally {
      await env.close();
      dir.remove();
    }
  });
});
