/**
 * The built CLI on ordinary mistakes and unsafe situations: it never alters a file that is
 * not its own, never creates a database from a read-only command, never prints an empty
 * suppression list it cannot vouch for, and answers every ordinary mistake with one line and
 * exit 1 — no stack trace, nothing written, no Twilio request where none was needed.
 */

import { connect, createServer } from 'node:net';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadOwlie } from '../../src/emulator/scenarios/owlie.js';
import { emulatorOptOuts, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  cliEnv,
  ledgerDump,
  pollUntil,
  runCli,
  startCli,
  type CliResult,
  withLedger,
} from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBER = '+14155550101';

/** One line on stderr, exit 1, nothing on stdout, and no sign of a crash. */
function expectOneLineError(result: CliResult, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/internal error|at .*\.js:\d+|bug in submigrate/);
}

describe('fail safe (built CLI)', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: NUMBER }],
      messages: [
        {
          from: '+12065550001',
          to: NUMBER,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 31 * 86_400_000 - 2 * 3_600_000).toISOString(),
        },
      ],
    },
    NOW,
  );
  const cli = (args: string[], extra: Record<string, string | undefined> = {}) =>
    runCli(args, cliEnv(ws.env, extra));

  describe('--db never alters a file that is not ours', () => {
    it.each([
      ['optouts', ['optouts']],
      ['snapshot', ['snapshot']],
    ])('%s --db naming a foreign file: refused, its mode and bytes unchanged', async (_, args) => {
      const foreign = ws.dir.file(`passwd-${args[0]}`);
      const bytes = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n';
      writeFileSync(foreign, bytes);
      chmodSync(foreign, 0o644);
      await ws.env.control('DELETE', '/__emulator/requests');
      const result = await cli([...args, '--db', foreign]);
      expectOneLineError(result, /is not a submigrate database; refusing to touch it/);
      expect(statSync(foreign).mode & 0o777).toBe(0o644);
      expect(readFileSync(foreign, 'utf8')).toBe(bytes);
      expect(existsSync(`${foreign}-wal`)).toBe(false);
      expect(existsSync(`${foreign}-shm`)).toBe(false);
    });
  });

  describe('read-only commands never create a database, never claim an empty list', () => {
    it('optouts on a missing database exits 1 saying what to run, and creates nothing', async () => {
      const missing = ws.dir.file('typo.db');
      const result = await cli(['optouts', '--db', missing]);
      expectOneLineError(result, /^error: no database at .*typo\.db\. Run `submigrate snapshot`/);
      expect(existsSync(missing)).toBe(false);
      expect(readdirSync(ws.dir.path).filter((f) => f.startsWith('typo'))).toEqual([]);
    });

    // docs/commands.md: a missing database is exit 1, "saying what to run first". Run from
    // another folder than apply was, "Nothing has been applied with it." left the way on unsaid.
    // They said to run plan (and apply) first: on a new database, plan's refresh reads the
    // Messages API's window only, and apply then refuses the history before it until
    // `submigrate snapshot` has read it, as README's steps run it first.
    const first = /or run `submigrate snapshot`, `submigrate plan` and `submigrate apply` first/;
    it.each([
      [['status'], first],
      [['report'], first],
      [['routes'], first],
      [['reconcile'], first],
    ])(
      '%j on a missing database says what to give or run, and creates nothing',
      async (args, advice) => {
        const missing = ws.dir.file('elsewhere.db');
        const result = await cli([...args, '--db', missing]);
        expectOneLineError(result, /^error: no database at .*elsewhere\.db\. /);
        expect(result.stderr).toMatch(advice);
        expect(existsSync(missing)).toBe(false);
      },
    );

    it('optouts on a database without a completed snapshot exits 1', async () => {
      const db = ws.dir.file('never.db');
      // As a snapshot killed before its first commit leaves it: created, and nothing in it.
      await withLedger(db, () => undefined);
      const result = await cli(['optouts', '--db', db]);
      expectOneLineError(result, /holds no completed snapshot.*Run `submigrate snapshot` first/);
    });
  });

  describe('ordinary mistakes are one line, exit 1', () => {
    it('--db in a folder that does not exist', async () => {
      const path = join(ws.dir.path, 'no-such-folder', 'x.db');
      const result = await cli(['snapshot', '--db', path]);
      expectOneLineError(
        result,
        /^error: --db .*x\.db: the folder .*no-such-folder does not exist/,
      );
      expect(existsSync(join(ws.dir.path, 'no-such-folder'))).toBe(false);
    });

    it.each([
      [['apply', 'a-folder'], /^error: a-folder is a folder, not a plan file$/],
      [
        ['plan', '--mapping', 'a-folder'],
        /^error: --mapping a-folder is a folder, not a mapping CSV$/,
      ],
    ])('%j: a folder where a file is read is named as one', async (args, pattern) => {
      if (!existsSync(ws.dir.file('a-folder'))) mkdirSync(ws.dir.file('a-folder'));
      const result = await ws.cli([...args, '--db', 'x.db']);
      expectOneLineError(result, pattern);
      expect(existsSync(ws.dir.file('x.db'))).toBe(false);
    });

    it.each([
      [
        ['apply', 'no-such.plan.json', '--db', 'x.db'],
        /^error: no-such\.plan\.json: no such plan file$/,
      ],
      [
        ['emulator', '--scenario', 'no-such.json'],
        /^error: --scenario: "no-such\.json" is neither a built-in scenario \(owlie\) nor a readable file\.$/,
      ],
    ])('%j: a file that is not there is named', async (args, pattern) => {
      const result = await ws.cli(args);
      expectOneLineError(result, pattern);
      expect(existsSync(ws.dir.file('x.db'))).toBe(false);
    });

    it('--db naming a folder', async () => {
      const result = await cli(['optouts', '--db', ws.dir.path]);
      expectOneLineError(result, /^error: --db .* is a folder, not a database file\.$/);
    });

    it('optouts --out into a folder that does not exist', async () => {
      const db = ws.dir.file('ok.db');
      expect((await cli(['snapshot', '--db', db])).code).toBe(0);
      const out = join(ws.dir.path, 'missing', 'list.csv');
      const result = await cli(['optouts', '--db', db, '--out', out]);
      expectOneLineError(result, /^error: --out .*list\.csv: the folder .*missing does not exist/);
    });

    it('--since in the future: refused before a database or a request exists', async () => {
      const db = ws.dir.file('future.db');
      await ws.env.control('DELETE', '/__emulator/requests');
      const result = await cli(['snapshot', '--db', db, '--since', '2999-01-01']);
      expectOneLineError(result, /^error: --since 2999-01-01T00:00:00Z is in the future/);
      expect(existsSync(db)).toBe(false);
      expect(await requestLog(ws.env)).toEqual([]);
    });

    it.each([['0'], ['1000'], ['2.5']])(
      '--partitions %s: refused before any file is created',
      async (value) => {
        const db = ws.dir.file(`partitions-${value}.db`);
        const result = await cli(['snapshot', '--db', db, '--partitions', value]);
        expectOneLineError(result, /^error: --partitions must be a whole number from 1 to 256/);
        expect(existsSync(db)).toBe(false);
      },
    );

    it('a refused connection says so, naming the URL really tried and the host and port that refused', async () => {
      const port = await refusingPort();
      const url = `http://127.0.0.1:${port}`;
      const result = await cli(['snapshot', '--db', ws.dir.file('refused.db')], {
        SUBMIGRATE_API_URL: url,
      });
      expectOneLineError(
        result,
        new RegExp(
          `^error: GET ${url}/\\S+: connection refused at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED: nothing there accepts connections on that port\\) — check the network`,
        ),
      );
      expect(result.stderr).not.toContain('no answer');
      expect(result.stderr).toContain(`${url}/2010-04-01/Accounts/`);
      expect(result.stderr).not.toContain('api.twilio.com');
    });

    it('a proxy that refuses the connection is named, without its password', async () => {
      const port = await refusingPort();
      const result = await cli(['snapshot', '--db', ws.dir.file('proxy.db')], {
        SUBMIGRATE_API_URL: undefined,
        HTTPS_PROXY: `http://someone:proxy-secret@127.0.0.1:${port}`,
      });
      expectOneLineError(
        result,
        new RegExp(
          `through the proxy http://127\\.0\\.0\\.1:${port}: connection refused at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED`,
        ),
      );
      expect(result.stderr).not.toContain('proxy-secret');
    });

    it('a 401 says which environment variables to check', async () => {
      const result = await cli(['snapshot', '--db', ws.dir.file('401.db')], {
        TWILIO_AUTH_TOKEN: 'f'.repeat(32),
      });
      expectOneLineError(result, /^error: Twilio 20003 \(HTTP 401\)/);
      expect(result.stderr).toContain('TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN');
      expect(result.stderr).not.toContain('API_KEY');
      expect(result.stderr).not.toContain('f'.repeat(32));
    });

    it('snapshot --account of an account Twilio does not know names the flag', async () => {
      const unknown = `AC${'1'.repeat(32)}`;
      const result = await cli([
        'snapshot',
        '--db',
        ws.dir.file('unknown-account.db'),
        '--account',
        unknown,
      ]);
      expectOneLineError(
        result,
        new RegExp(
          `^error: --account ${unknown}: Twilio knows no such account for these credentials \\(404\\)`,
        ),
      );
    });

    it('a 401 with an API key set beside the Auth Token says the API key was used', async () => {
      const secret = 'e'.repeat(32);
      const result = await cli(['snapshot', '--db', ws.dir.file('401-key.db')], {
        TWILIO_API_KEY: `SK${'0'.repeat(32)}`,
        TWILIO_API_SECRET: secret,
      });
      expectOneLineError(result, /^error: Twilio 20003 \(HTTP 401\)/);
      expect(result.stderr).toContain(
        'TWILIO_ACCOUNT_SID with TWILIO_API_KEY and TWILIO_API_SECRET (an API key is used whenever TWILIO_API_KEY is set, even beside TWILIO_AUTH_TOKEN)',
      );
      expect(result.stderr).not.toContain(secret);
    });

    it('emulator --port already in use', async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      try {
        const result = await runCli(['emulator', '--port', String(port)], { PATH: '' });
        expectOneLineError(result, new RegExp(`^error: --port ${port}: .* is already in use`));
      } finally {
        server.close();
      }
    });

    it.each([['0'], ['26'], ['2.5']])(
      'plan --carry-batch-size %s: refused before a database or a request exists',
      async (value) => {
        const db = ws.dir.file(`batch-${value}.db`);
        const mapping = ws.dir.file(`batch-${value}.csv`);
        writeFileSync(mapping, 'customer_id,customer_name,phone_number\nacme,Acme,+14155550100\n');
        await ws.env.control('DELETE', '/__emulator/requests');
        const result = await cli([
          'plan',
          '--mapping',
          mapping,
          '--db',
          db,
          '--carry-optouts',
          '--carry-batch-size',
          value,
        ]);
        expectOneLineError(
          result,
          /^error: --carry-batch-size must be a whole number from 1 to 25 \(Twilio's Consent API refuses a request of more records\)/,
        );
        expect(existsSync(db)).toBe(false);
        expect(await requestLog(ws.env)).toEqual([]);
      },
    );

    it.each([
      ['an invalid number', { numbers: [{ phone_number: '12' }] }, /Phone Number is invalid: 12/],
      ['not an object', [], /must be a JSON object, not an array/],
      [
        'a service naming a number the seed does not have',
        { services: [{ friendly_name: 'S', phone_numbers: ['+14155550100'] }] },
        /service "S": unknown number \+14155550100/,
      ],
    ])(
      'emulator --scenario with %s: one line naming the file, no bug report',
      async (_, seed, why) => {
        const file = ws.dir.file(`seed-${Math.random().toString(36).slice(2)}.json`);
        writeFileSync(file, JSON.stringify(seed));
        const result = await runCli(['emulator', '--port', '0', '--scenario', file], { PATH: '' });
        expectOneLineError(result, /^error: .*: a seed this emulator cannot load \(/);
        expect(result.stderr.startsWith(`error: ${file}: `)).toBe(true);
        expect(result.stderr).toMatch(why);
      },
    );

    it('apply without its plan file, and a word that is no command, say what to type', async () => {
      const apply = await runCli(['apply', '--dry-run'], { PATH: '' }, ws.dir.path);
      expectOneLineError(
        apply,
        /^error: apply needs the plan file `submigrate plan` wrote: `submigrate apply PLAN`/,
      );
      const typo = await runCli(['aply', 'plans/m.plan.json'], { PATH: '' }, ws.dir.path);
      expectOneLineError(
        typo,
        /^error: no command "aply": the commands are emulator, snapshot, plan, apply, status, report, routes, reconcile, optouts, demo \(see submigrate --help\)$/,
      );
    });

    it('an unknown flag is named once, as typed', async () => {
      const result = await runCli(['status', '--bogus-flag', '--other'], { PATH: '' });
      expectOneLineError(
        result,
        /^error: Unknown arguments: bogus-flag, other\. Nothing was run; `submigrate status --help` lists its options$/,
      );
    });

    it.each([
      [
        ['apply', 'p.plan.json', '--dryrun'],
        'Unknown argument: dryrun (did you mean --dry-run?). Nothing was run; `submigrate apply --help` lists its options',
      ],
      [
        ['apply', 'p.plan.json', '--concurency', '2'],
        'Unknown argument: concurency (did you mean --concurrency?). Nothing was run; `submigrate apply --help` lists its options',
      ],
      [
        ['snapshot', '--acount', 'AC' + '1'.repeat(32)],
        'Unknown argument: acount (did you mean --account?). Nothing was run; `submigrate snapshot --help` lists its options',
      ],
      [
        ['reconcile', '--fail-on-violations'],
        'Unknown argument: fail-on-violations (did you mean --fail-on-violation?). Nothing was run; `submigrate reconcile --help` lists its options',
      ],
      [
        ['report', '--ru', '1', '--ot', 'x'],
        'Unknown arguments: ru, ot (--ru: did you mean --run?; --ot: did you mean --out?). Nothing was run; `submigrate report --help` lists its options',
      ],
      [
        ['plan', '--maping', 'm.csv'],
        'Missing required argument: mapping (--maping: did you mean --mapping?)',
      ],
      // Caps lock: yargs took these as known and read them as their camelCase twin, leaving
      // the flag itself off (`apply PLAN --DRY-RUN` applied the plan).
      [
        ['apply', 'p.plan.json', '--DRY-RUN'],
        'Unknown argument: DRY-RUN (did you mean --dry-run?). Nothing was run; `submigrate apply --help` lists its options',
      ],
      [
        ['reconcile', '--FAIL-ON-VIOLATION'],
        'Unknown argument: FAIL-ON-VIOLATION (did you mean --fail-on-violation?). Nothing was run; `submigrate reconcile --help` lists its options',
      ],
      [
        ['plan', '--mapping', 'm.csv', '--CARRY-OPTOUTS=true'],
        'Unknown argument: CARRY-OPTOUTS (did you mean --carry-optouts?). Nothing was run; `submigrate plan --help` lists its options',
      ],
      // A global flag's value typed before the command is no command: the help named is apply's.
      [
        ['--db', 'x.db', 'apply', 'p.plan.json', '--DRY-RUN'],
        'Unknown argument: DRY-RUN (did you mean --dry-run?). Nothing was run; `submigrate apply --help` lists its options',
      ],
      [
        ['--db', 'x.db', 'apply', 'p.plan.json', '--dry-rn'],
        'Unknown argument: dry-rn (did you mean --dry-run?). Nothing was run; `submigrate apply --help` lists its options',
      ],
    ])('a mistyped flag is told the flag it is nearest to: %j', async (args, said) => {
      const result = await runCli(args, { PATH: '' }, ws.dir.path);
      expectOneLineError(result, new RegExp(`^error: ${escapeRegExp(said)}$`));
    });

    it.each([
      [['status', '--run', '1', '--run', '2'], '--run was given 2 times (1, 2)'],
      [['report', '--out', 'a', '--out', 'b'], '--out was given 2 times (a, b)'],
      [['optouts', '--format', 'csv', '--format', 'json'], '--format was given 2 times'],
      [['optouts', '--customer', 'acme', '--customer', 'birch'], '--customer was given 2 times'],
      [['status', '--db', 'a.db', '--db', 'b.db'], '--db was given 2 times (a.db, b.db)'],
    ])('%j: a flag given twice is named, not an internal error', async (args, why) => {
      const result = await runCli(args, { PATH: '' }, ws.dir.path);
      expectOneLineError(result, /^error: /);
      expect(result.stderr).toContain(why);
    });

    it.each([[['status', '--', 'extra']], [['status', '--', '--run', '1', '--run', '2']]])(
      '%j: what follows -- is no flag, and not refused as one given twice',
      async (args) => {
        const result = await runCli(args, { PATH: '' }, ws.dir.path);
        expectOneLineError(result, /^error: no database at /);
        expect(result.stderr).not.toContain('was given');
      },
    );

    it.each([
      [['status', '--run', 'abc'], '--run "abc": not a run id'],
      [['report', '--run', ''], '--run needs a value, and was given none'],
      [['routes', '--run', '1.5'], '--run "1.5": not a run id'],
      [['status', '--run', '0'], '--run "0": not a run id'],
    ])('%j: a --run that is no run id is named as typed', async (args, why) => {
      const result = await runCli(args, { PATH: '' }, ws.dir.path);
      expectOneLineError(result, /^error: /);
      expect(result.stderr).toContain(why);
    });

    it.each([
      [['apply', 'x.plan.json', '--concurrency', 'abc'], '--concurrency "abc" is not a number'],
      [['apply', 'x.plan.json', '--rate=fast'], '--rate "fast" is not a number'],
      // An unset shell variable (`--rate "$RATE"`) is no rate limit of 0 (none at all).
      [['apply', 'x.plan.json', '--rate', ''], '--rate needs a number, and was given none'],
      [['apply', 'x.plan.json', '--rate='], '--rate needs a number, and was given none'],
      [['apply', 'x.plan.json', '--rate', '--json'], '--rate needs a number, and was given none'],
      [['plan', '--mapping', 'm.csv', '--carry-batch-size'], '--carry-batch-size needs a number'],
      [['snapshot', '--retention-days', '1e'], '--retention-days "1e" is not a number'],
      // yargs takes the camelCase spelling of a flag as the flag itself.
      [['snapshot', '--retentionDays', 'fast'], '--retention-days "fast" is not a number'],
      [['plan', '--mapping', 'm.csv', '--carryBatchSize='], '--carry-batch-size needs a number'],
      [['apply', 'x.plan.json', '--consentRate', ''], '--consent-rate needs a number'],
      // yargs reads a number flag's --no- form as 0: for --rate, no rate limit at all.
      [['apply', 'x.plan.json', '--no-rate'], '--no-rate: --rate takes a number'],
      [['snapshot', '--no-concurrency'], '--no-concurrency: --concurrency takes a number'],
    ])(
      '%j: a number flag without a number is named as typed, before anything runs',
      async (args, why) => {
        const result = await runCli(args, { PATH: '' }, ws.dir.path);
        expectOneLineError(result, /^error: /);
        expect(result.stderr).toContain(why);
        expect(result.stderr).not.toContain('NaN');
      },
    );

    let noValueRuns = 0;
    it.each([
      // An unset shell variable (`--db "$DB"`, `--db $DB`): not ./submigrate.db, made here.
      [['snapshot', '--db'], '--db needs a value, and was given none'],
      [['snapshot', '--db', '--no-export'], '--db needs a value, and was given none'],
      [['snapshot', '--db='], '--db needs a value, and was given none'],
      [['snapshot', '--db', ' '], '--db needs a value, and was given none'],
      [['snapshot', '--no-db'], '--no-db: --db takes a value, and has no --no- form'],
      // Not the real Twilio hosts, whatever SUBMIGRATE_API_URL says.
      [['snapshot', '--db', 'x.db', '--api-url='], '--api-url needs a value'],
      [['snapshot', '--db', 'x.db', '--no-api-url'], '--no-api-url: --api-url takes a value'],
      [['snapshot', '--db', 'x.db', '--account'], '--account needs a value'],
      [['optouts', '--db', 'x.db', '--out'], '--out needs a value, and was given none'],
      [['optouts', '--db', 'x.db', '--no-out'], '--no-out: --out takes a value'],
      [['plan', '--mapping', '', '--db', 'x.db'], '--mapping needs a value'],
    ])(
      '%j: a flag that takes a file or text, given none, is refused before anything runs',
      async (args, why) => {
        const here = ws.dir.file(`no-value-${(noValueRuns += 1)}`);
        mkdirSync(here);
        const result = await runCli(args, cliEnv(ws.env), here);
        expectOneLineError(result, /^error: /);
        expect(result.stderr).toContain(why);
        expect(readdirSync(here)).toEqual([]);
      },
    );

    it('demo --seed abc: refused before the demo starts or makes its folder', async () => {
      const result = await runCli(
        ['demo', '--seed', 'abc', '--out', 'demo-here'],
        { PATH: '' },
        ws.dir.path,
      );
      expectOneLineError(result, /^error: --seed "abc" is not a number$/);
      expect(existsSync(join(ws.dir.path, 'demo-here'))).toBe(false);
    });

    it('emulator --messages -5: refused before anything starts', async () => {
      const result = await runCli(['emulator', '--messages', '-5', '--scenario', 'owlie'], {
        PATH: '',
      });
      expectOneLineError(result, /^error: --messages must be a whole number from 0 to/);
    });
  });

  describe('nothing dropped silently', () => {
    it('optouts --out replaces an earlier export through a private temp file: mode 0600 after', async () => {
      const db = ws.dir.file('out.db');
      expect((await cli(['snapshot', '--db', db])).code).toBe(0);
      const outDir = join(ws.dir.path, 'out');
      mkdirSync(outDir);
      const out = join(outDir, 'list.csv');
      expect((await cli(['optouts', '--db', db, '--out', out])).code).toBe(0);
      chmodSync(out, 0o644);
      const result = await cli(['optouts', '--db', db, '--out', out]);
      expect(result.code).toBe(0);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      expect(readFileSync(out, 'utf8')).toMatch(/^customer_id,customer_name,recipient/);
      expect(readdirSync(outDir)).toEqual(['list.csv']);
    });

    it('the emulator command exits non-zero when its server process dies from a signal', async () => {
      // As bin/submigrate.js runs it (a capped heap), the emulator serves from a child process.
      const run = startCli(['emulator', '--port', '0', '--json'], {
        PATH: '',
        NODE_OPTIONS: '--max-old-space-size=512',
      });
      let stdout = '';
      run.child.stdout?.on('data', (chunk: string) => (stdout += chunk));
      const line = await pollUntil('the emulator to print its URL', () =>
        stdout.includes('\n') ? stdout.slice(0, stdout.indexOf('\n')) : undefined,
      );
      const { pid } = JSON.parse(line) as { pid: number };
      expect(pid).not.toBe(run.child.pid);
      process.kill(pid, 'SIGKILL');
      const result = await run.done;
      expect(result.code).toBe(137);
      expect(result.stderr).toContain('killed by SIGKILL');
    });
  });
});

/**
 * A port on 127.0.0.1 that refuses connections and stays so while the CLI retries (seconds): one
 * below 1024, which no server started on port 0 is ever given (the kernel hands those out from
 * the ephemeral range), checked to refuse now. A port freed after listening on port 0 could be
 * handed to another test's emulator meanwhile, which then answers the CLI.
 */
async function refusingPort(): Promise<number> {
  for (const port of [9, 47, 93, 127, 257, 511, 997]) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) =>
        resolve(error.code === 'ECONNREFUSED'),
      );
    });
    if (refused) return port;
  }
  throw new Error('no port below 1024 on 127.0.0.1 refuses connections here');
}

describe('ties and gaps resolve to the safe side (built CLI)', () => {
  const OWLIE_NOW = NOW;
  const ws = useCliWorkspace(undefined, {
    now: () => OWLIE_NOW,
    load: (state) => loadOwlie(state, { seed: 11, messages: 4_000, now: OWLIE_NOW }),
  });
  const cli = (args: string[]) => runCli(args, cliEnv(ws.env));

  it('a START and a STOP from one person in one second come out opted out, and are counted', async () => {
    const sender = '+14155550177';
    const people = Array.from({ length: 20 }, (_, i) => `+1253555${String(i).padStart(4, '0')}`);
    const second = (i: number) => new Date(NOW - 31 * 86_400_000 + i * 1000).toISOString();
    await ws.env.seed({
      numbers: [{ phone_number: sender }],
      // Twilio took the STOP last for every one of them: all 20 are opted out there.
      messages: people.flatMap((from, i) => [
        { from, to: sender, body: 'START', direction: 'inbound' as const, date_sent: second(i) },
        { from, to: sender, body: 'STOP', direction: 'inbound' as const, date_sent: second(i) },
      ]),
    });
    const db = ws.dir.file('ties.db');
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    const result = await cli(['optouts', '--db', db, '--json']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      optouts: { recipient: string; sender_number: string; keyword: string }[];
      coverage: { ties_resolved_as_opt_out: number };
    };
    const ours = doc.optouts.filter((row) => row.sender_number === sender);
    expect(ours.map((row) => row.recipient).sort()).toEqual(people);
    expect(ours.every((row) => row.keyword === 'STOP')).toBe(true);
    expect(doc.coverage.ties_resolved_as_opt_out).toBeGreaterThanOrEqual(20);
    const truth = (await emulatorOptOuts(ws.env)).filter((o) => o.sender_number === sender);
    expect(truth.map((o) => o.recipient).sort()).toEqual(people);
  });

  it('--since, then a plain run, reads the same history as one full run: no silent hole', async () => {
    const full = ws.dir.file('full.db');
    const split = ws.dir.file('split.db');
    expect((await cli(['snapshot', '--db', full])).code).toBe(0);
    const since = new Date(OWLIE_NOW - 30 * 86_400_000).toISOString();
    expect((await cli(['snapshot', '--db', split, '--since', since])).code).toBe(0);
    const partial = ledgerDump(split);
    const plain = await cli(['snapshot', '--db', split]);
    expect(plain.code).toBe(0);
    const whole = ledgerDump(full);
    expect(partial.events.length).toBeLessThan(whole.events.length);
    expect(ledgerDump(split)).toEqual(whole);

    const exported = await cli(['optouts', '--db', split, '--json']);
    const doc = JSON.parse(exported.stdout) as {
      optouts: { stop_message_sid: string }[];
      coverage: { windows: { source: string }[]; not_read: unknown[] };
    };
    expect(doc.coverage.not_read).toEqual([]);
    // The days before the first message (the account is older) from Bulk Export, then the API.
    expect(doc.coverage.windows.map((w) => w.source)).toEqual(['export', 'api']);
    const truth = await emulatorOptOuts(ws.env);
    expect(doc.optouts.map((row) => row.stop_message_sid).sort()).toEqual(
      truth.map((o) => o.message_sid).sort(),
    );
  });

  it('an explicit window alone is stated as exactly that window; a plain run then fills the rest', async () => {
    const db = ws.dir.file('window-only.db');
    const since = new Date(OWLIE_NOW - 30 * 86_400_000);
    const until = new Date(OWLIE_NOW - 10 * 86_400_000);
    const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(
      (await cli(['snapshot', '--db', db, '--since', iso(since), '--until', iso(until)])).code,
    ).toBe(0);
    const windowOnly = JSON.parse((await cli(['optouts', '--db', db, '--json'])).stdout) as {
      coverage: {
        windows: { start: string; end: string }[];
        not_read: { start: string; end: string }[];
      };
    };
    expect(windowOnly.coverage.windows.map((w) => [w.start, w.end])).toEqual([
      [iso(since), iso(until)],
    ]);
    // What lies before the window, back to the start of the account's history, is stated as
    // not read (a review found it stated as nothing).
    expect(windowOnly.coverage.not_read.map((w) => w.end)).toEqual([iso(since)]);
    expect(windowOnly.coverage.not_read[0]!.start < iso(since)).toBe(true);
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    const after = JSON.parse((await cli(['optouts', '--db', db, '--json'])).stdout) as {
      coverage: { windows: { start: string; source: string }[]; not_read: unknown[] };
    };
    expect(after.coverage.windows.map((w) => w.source)).toEqual(['export', 'api']);
    expect(after.coverage.windows[0]!.start < iso(new Date(OWLIE_NOW - 290 * 86_400_000))).toBe(
      true,
    );
    expect(after.coverage.not_read).toEqual([]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
