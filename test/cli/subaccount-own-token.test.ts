/**
 * A subaccount's own Auth Token, fetched with the parent's credentials through
 * `/Accounts/{sub}.json`, when it does not work: refused by Twilio (401: changed since it was
 * fetched, or the subaccount suspended or closed), or not in the answer at all. A proxy in front
 * of the emulator rewrites that one answer. The refusal named the parent's credentials as the
 * ones to check; the missing token sent the subaccount's requests with none. Each now says which
 * subaccount, without its token, and nothing is sent without credentials. The built CLI; needs
 * `npm run build`.
 */

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeEach, describe, expect, it } from 'vitest';

import { useCliWorkspaceEach } from '../support/migration.js';
import { cliEnv, readOnly, runCli, type CliResult } from '../support/snapshot-harness.js';
import { startTamperingProxy, type TamperingProxy } from '../support/tampering-proxy.js';

const N1 = '+14155550101';
const N2 = '+14155550102';
const BIRCH_TOKEN = 'b'.repeat(32);
const CEDAR_TOKEN = 'c'.repeat(32);
/** What the proxy gives in place of Birch's token: one Twilio refuses. */
const WRONG_TOKEN = 'f'.repeat(32);

/** Every file under `dir`, as text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => ({ path, text: readFileSync(path).toString('latin1') }));
}

describe("a subaccount's own token that does not work (built CLI)", () => {
  const ws = useCliWorkspaceEach();
  let birch = '';
  let cedar = '';
  /** Requests that reached the proxy without an Authorization header. */
  let unauthenticated: string[] = [];

  /**
   * A proxy that answers Birch's `/Accounts/{sub}.json` with `auth_token` set to `token`, or
   * left out (undefined).
   */
  function birchTokenAs(token: unknown): Promise<TamperingProxy> {
    return startTamperingProxy(ws.env.url, (path, status, body, request) => {
      if (request.headers.authorization === undefined) unauthenticated.push(path);
      if (path !== `/2010-04-01/Accounts/${birch}.json` || status !== 200) return null;
      const account = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (token === undefined) delete account['auth_token'];
      else account['auth_token'] = token;
      return { status, type: 'application/json', body: JSON.stringify(account) };
    });
  }

  function expectNoToken(result: CliResult): void {
    for (const token of [ws.env.parentToken, BIRCH_TOKEN, CEDAR_TOKEN, WRONG_TOKEN]) {
      expect(result.stdout + result.stderr).not.toContain(token);
      for (const file of filesUnder(ws.dir.path)) {
        expect(file.text, `a token in ${file.path}`).not.toContain(token);
      }
    }
  }

  /** The failed steps of the run in `db`, and the states of bolt's steps. */
  function journal(db: string) {
    return readOnly(join(ws.dir.path, db), (ledger) => ({
      failed: ledger
        .prepare(
          "SELECT customer_id, action, error_status, error_code, error_message FROM apply_steps WHERE state = 'failed'",
        )
        .all() as { customer_id: string; action: string; error_message: string }[],
      bolt: ledger
        .prepare("SELECT DISTINCT state FROM apply_steps WHERE customer_id = 'bolt'")
        .all(),
    }));
  }

  const run = async (args: string[], proxy: TamperingProxy) =>
    runCli(args, cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url }), ws.dir.path);

  // A fresh emulator for each: an apply moves the numbers a later plan would find moved.
  beforeEach(async () => {
    const seeded = await ws.env.seed({
      subaccounts: [
        { friendly_name: 'Birch', auth_token: BIRCH_TOKEN },
        { friendly_name: 'Cedar', auth_token: CEDAR_TOKEN },
      ],
    });
    birch = seeded.subaccounts[0]!.sid;
    cedar = seeded.subaccounts[1]!.sid;
    await ws.env.seed({ numbers: [{ phone_number: N1 }, { phone_number: N2 }] });
    writeFileSync(
      ws.dir.file('map.csv'),
      'customer_id,customer_name,phone_number,subaccount_sid,messaging_service\n' +
        `acme,Birch,${N1},${birch},Acme SMS\n` +
        `bolt,Cedar,${N2},${cedar},Bolt SMS\n`,
    );
  });

  describe('refused (401)', () => {
    it('plan names the subaccount and its own token, not the parent credentials', async () => {
      const proxy = await birchTokenAs(WRONG_TOKEN);
      try {
        const result = await run(
          ['plan', '--mapping', 'map.csv', '--db', 'plan401.db', '--out', 'p401.plan.json'],
          proxy,
        );
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toContain('(HTTP 401)');
        expect(result.stderr).toContain(`subaccount ${birch} refused its own Auth Token`);
        expect(result.stderr).not.toContain('check TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN');
        expectNoToken(result);
      } finally {
        await proxy.close();
      }
    });

    it("apply: a step refused so is journaled as failed, naming the subaccount; the other customer's go on", async () => {
      const planned = await ws.cli([
        'plan',
        '--mapping',
        'map.csv',
        '--db',
        'apply401.db',
        '--out',
        'a401.plan.json',
      ]);
      expect(planned.code, planned.stderr).toBe(0);
      // The token works while apply reads the live state, and is refused when Birch's service
      // is created: changed in between.
      const proxy = await startTamperingProxy(ws.env.url, (path, _status, _body, request) => {
        const auth = String(request.headers.authorization ?? '').replace(/^Basic /, '');
        const user = Buffer.from(auth, 'base64').toString('utf8').split(':')[0];
        if (request.method !== 'POST' || !path.startsWith('/v1/Services') || user !== birch) {
          return null;
        }
        return {
          status: 401,
          type: 'application/json',
          body: JSON.stringify({ code: 20003, message: 'Authenticate', status: 401 }),
        };
      });
      try {
        const result = await run(
          ['apply', 'a401.plan.json', '--db', 'apply401.db', '--rate', '0'],
          proxy,
        );
        expect(result.code, result.stderr).toBe(3);
        const { failed, bolt } = journal('apply401.db');
        expect(failed).toEqual([
          expect.objectContaining({
            customer_id: 'acme',
            action: 'create_service',
            error_status: 401,
            error_code: 20003,
          }),
        ]);
        expect(failed[0]!.error_message).toContain(
          `Authenticate — subaccount ${birch} refused its own Auth Token`,
        );
        expect(bolt).toEqual([{ state: 'done' }]);
        expectNoToken(result);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('refused to the subaccount (403)', () => {
    /** Suspends Birch as Twilio's parent does (the emulator then answers its own token 403). */
    const suspendBirch = () =>
      ws.env.parent.api.v2010.accounts(birch).update({ status: 'suspended' });

    it("snapshot names the suspended subaccount, in Twilio's words, not the parent credentials", async () => {
      await suspendBirch();
      const result = await ws.cli(['snapshot', '--db', 'snap403.db', '--account', birch]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain('Twilio 20403 (HTTP 403): The account lacks permission');
      expect(result.stderr).toContain(`Twilio refused this to subaccount ${birch}`);
      expect(result.stderr).not.toContain('check TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN');
      expectNoToken(result);
    });

    it("apply: a step refused so is journaled as failed, naming the subaccount; the other customer's go on", async () => {
      const planned = await ws.cli([
        'plan',
        '--mapping',
        'map.csv',
        '--db',
        'apply403.db',
        '--out',
        'a403.plan.json',
      ]);
      expect(planned.code, planned.stderr).toBe(0);
      // Birch is active while apply reads the live state, and suspended as its service is
      // created: the emulator itself refuses that request, 403 / 20403.
      const proxy = await startTamperingProxy(
        ws.env.url,
        () => null,
        (path, request) => {
          const auth = String(request.headers.authorization ?? '').replace(/^Basic /, '');
          const user = Buffer.from(auth, 'base64').toString('utf8').split(':')[0];
          if (request.method === 'POST' && path.startsWith('/v1/Services') && user === birch) {
            ws.env.emulator.state.accounts.get(birch)!.status = 'suspended';
          }
        },
      );
      try {
        const result = await run(
          ['apply', 'a403.plan.json', '--db', 'apply403.db', '--rate', '0'],
          proxy,
        );
        expect(result.code, result.stderr).not.toBe(0);
        const { failed: all, bolt } = journal('apply403.db');
        // Acme's number goes to Birch beside the service: moved after the suspension (the
        // steps run side by side), it is refused too, as Twilio refuses a transfer into an
        // account not active (21472), a refusal with nothing of a token in it.
        const failed = all.filter((step) => step.action !== 'transfer_number');
        const transfers = all.filter((step) => step.action === 'transfer_number');
        expect(transfers.length).toBeLessThanOrEqual(1);
        for (const step of transfers) {
          expect(step).toEqual(expect.objectContaining({ customer_id: 'acme', error_code: 21472 }));
        }
        expect(failed).toEqual([
          expect.objectContaining({
            customer_id: 'acme',
            action: 'create_service',
            error_status: 403,
            error_code: 20403,
          }),
        ]);
        expect(failed[0]!.error_message).toContain(
          `The account lacks permission to access the Twilio API. Typically this means the account has been suspended or closed. — Twilio refused this to subaccount ${birch}`,
        );
        expect(bolt).toEqual([{ state: 'done' }]);
        expect(result.stderr).toContain(`Twilio refused this to subaccount ${birch}`);
        expectNoToken(result);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('not in the answer', () => {
    for (const [what, token] of [
      ['left out', undefined],
      ['empty', ''],
      ['not text', 12345],
    ] as const) {
      it(`plan stops naming the subaccount, sending nothing without credentials (${what})`, async () => {
        unauthenticated = [];
        const proxy = await birchTokenAs(token);
        try {
          const result = await run(
            ['plan', '--mapping', 'map.csv', '--db', 'plan-none.db', '--out', 'pn.plan.json'],
            proxy,
          );
          expect(result.code, result.stderr).toBe(1);
          expect(result.stderr).toMatch(/^error: /);
          expect(result.stderr).toContain(`without subaccount ${birch}'s Auth Token`);
          expect(result.stderr).not.toContain('internal error');
          expect(unauthenticated).toEqual([]);
          expectNoToken(result);
        } finally {
          await proxy.close();
        }
      });
    }

    it('snapshot stops naming the subaccount', async () => {
      unauthenticated = [];
      const proxy = await birchTokenAs(undefined);
      try {
        const result = await run(
          ['snapshot', '--db', 'snap-none.db', '--account', birch, '--no-export'],
          proxy,
        );
        expect(result.code, result.stderr).not.toBe(0);
        expect(result.stderr).toContain(`without subaccount ${birch}'s Auth Token`);
        expect(unauthenticated).toEqual([]);
        expectNoToken(result);
      } finally {
        await proxy.close();
      }
    });

    it('routes and reconcile (with a Main API key) stop naming the subaccount', async () => {
      const planned = await ws.cli([
        'plan',
        '--mapping',
        'map.csv',
        '--db',
        'after.db',
        '--out',
        'after.plan.json',
      ]);
      expect(planned.code, planned.stderr).toBe(0);
      const applied = await ws.cli(['apply', 'after.plan.json', '--db', 'after.db', '--rate', '0']);
      expect(applied.code, applied.stderr).toBe(0);
      const { keys } = await ws.env.seed({ keys: [{ kind: 'main' }] });
      unauthenticated = [];
      const proxy = await birchTokenAs(undefined);
      try {
        const routes = await run(['routes', '--db', 'after.db'], proxy);
        expect(routes.code, routes.stderr).toBe(1);
        expect(routes.stderr).toContain(`without subaccount ${birch}'s Auth Token`);
        expectNoToken(routes);
        const reconcile = await runCli(
          ['reconcile', '--db', 'after.db'],
          cliEnv(ws.env, {
            SUBMIGRATE_API_URL: proxy.url,
            TWILIO_AUTH_TOKEN: undefined,
            TWILIO_API_KEY: keys[0]!.sid,
            TWILIO_API_SECRET: keys[0]!.secret,
          }),
          ws.dir.path,
        );
        expect(reconcile.code, reconcile.stderr).toBe(1);
        expect(reconcile.stderr).toContain(`without subaccount ${birch}'s Auth Token`);
        expect(reconcile.stderr).not.toContain(keys[0]!.secret);
        expectNoToken(reconcile);
        expect(unauthenticated).toEqual([]);
      } finally {
        await proxy.close();
      }
    });

    it('apply stops before it writes anything, naming the subaccount', async () => {
      const planned = await ws.cli([
        'plan',
        '--mapping',
        'map.csv',
        '--db',
        'apply-none.db',
        '--out',
        'an.plan.json',
      ]);
      expect(planned.code, planned.stderr).toBe(0);
      unauthenticated = [];
      const proxy = await birchTokenAs(undefined);
      try {
        const result = await run(
          ['apply', 'an.plan.json', '--db', 'apply-none.db', '--rate', '0'],
          proxy,
        );
        // Apply reads the subaccount's services before its first write.
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toContain(`without subaccount ${birch}'s Auth Token`);
        expect(unauthenticated).toEqual([]);
        const owners = (await ws.env.state()).numbers.map((n) => n.account_sid);
        expect(owners).toEqual([ws.env.parentSid, ws.env.parentSid]);
        expectNoToken(result);
      } finally {
        await proxy.close();
      }
    });

    it("apply: a subaccount it creates, answered without its token, fails its next step, naming it; the other customer's go on", async () => {
      writeFileSync(
        ws.dir.file('new.csv'),
        'customer_id,customer_name,phone_number,subaccount_sid,messaging_service\n' +
          `acme,Elm,${N1},,Acme SMS\n` +
          `bolt,Cedar,${N2},${cedar},Bolt SMS\n`,
      );
      const planned = await ws.cli([
        'plan',
        '--mapping',
        'new.csv',
        '--db',
        'apply-new.db',
        '--out',
        'new.plan.json',
      ]);
      expect(planned.code, planned.stderr).toBe(0);
      unauthenticated = [];
      // Every account answer but Cedar's without its token: the creation's and the fetch's.
      const proxy = await startTamperingProxy(ws.env.url, (path, status, body, request) => {
        if (request.headers.authorization === undefined) unauthenticated.push(path);
        const account = /^\/2010-04-01\/Accounts(?:\/(AC[0-9a-f]+))?\.json$/.exec(path);
        if (account === null || account[1] === cedar || status >= 300) return null;
        const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        delete json['auth_token'];
        return { status, type: 'application/json', body: JSON.stringify(json) };
      });
      try {
        const result = await run(
          ['apply', 'new.plan.json', '--db', 'apply-new.db', '--rate', '0'],
          proxy,
        );
        const elm = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Elm');
        expect(elm).toBeDefined();
        // The routing check after the steps cannot read Elm's services either: it says so.
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toMatch(
          new RegExp(`^error: .* without subaccount ${elm!.sid}'s Auth Token`),
        );
        expect(unauthenticated).toEqual([]);
        const { failed, bolt } = journal('apply-new.db');
        expect(failed).toEqual([
          expect.objectContaining({ customer_id: 'acme', action: 'create_service' }),
        ]);
        expect(failed[0]!.error_message).toContain(`without subaccount ${elm!.sid}'s Auth Token`);
        expect(bolt).toEqual([{ state: 'done' }]);
        expectNoToken(result);
      } finally {
        await proxy.close();
      }
    });
  });
});
