/**
 * The built CLI (`node bin/submigrate.js`, stdout and stderr piped: not a TTY) against an
 * in-process emulator: `snapshot` and `optouts` output, exit codes, and that the auth token
 * never shows up in any output, in the database file, or in the emulator's request log.
 * Needs `npm run build` (`npm test` builds first).
 */

import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { emulatorOptOuts, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli, type CliResult } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const HEADER =
  'customer_id,customer_name,recipient,sender_number,messaging_service_sid,scope,keyword,body,opted_out_at,stop_message_sid,account_sid,evidence,evidence_message_sid,channel';
const A = '+14155550101'; // in a service
const C = '+14155550103';
const TF = '+18445550104';
const WRONG_TOKEN = 'f'.repeat(32);
const user = (n: number) => `+1206555${String(n).padStart(4, '0')}`;
const at = (day: number) => new Date(NOW - (40 - day) * 86_400_000 - 2 * 3_600_000).toISOString();
const inbound = (from: string, to: string, body: string, day: number) => ({
  from,
  to,
  body,
  direction: 'inbound' as const,
  date_sent: at(day),
});

describe('submigrate snapshot and optouts (built CLI)', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: A }, { phone_number: C }, { phone_number: TF, type: 'toll-free' }],
      services: [{ friendly_name: 'Owlie Shared', phone_numbers: [A] }],
      messages: [
        inbound(user(1), A, 'STOP', 1),
        inbound(user(2), C, '\tSTOP', 2), // a keyword whose cell would start with a tab
        inbound(user(3), TF, 'STOP', 1),
        inbound(user(3), TF, 'YES', 2),
        inbound(user(4), C, 'STOP', 1),
        inbound(user(4), C, 'START', 2),
        inbound(user(5), C, '=HYPERLINK("http://evil.example")', 3), // not a keyword
        {
          from: C,
          to: user(2),
          body: 'Reminder',
          direction: 'outbound-api',
          date_sent: at(4),
          status: 'failed',
          error_code: 21610,
        },
      ],
    },
    NOW,
  );
  const db = () => ws.dir.file('cli.db');
  /** Every run's output, for the secret check at the end. */
  const runs: CliResult[] = [];
  const cli = async (args: string[], extra: Record<string, string | undefined> = {}) => {
    const result = await runCli(args, cliEnv(ws.env, extra));
    runs.push(result);
    return result;
  };

  it('snapshot: without a TTY, one summary line (with its window), no progress on stderr', async () => {
    const result = await cli(['snapshot', '--db', db()]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('\x1b'); // no bar, no cursor codes
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^snapshot run 1: 8 messages read in \d+\.\d s \(\d+ pages, \d+ slices, 0 of them from 0 Bulk Export days, 0 retries\); 6 new events; ledger: 4 opt-out, 1 opt-in, 0 help, 1 refused \(21610\); 3 pairs opted out now; window \S+Z → \S+Z$/,
    );
  });

  it('snapshot --json: one parseable JSON document on stdout', async () => {
    const result = await cli(['snapshot', '--db', db(), '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      runId: 2,
      resumed: false,
      eventsAdded: 0,
      optedOutPairs: 3,
      ledger: { optOut: 4, optIn: 1, help: 0, refused: 1 },
      windows: [{ accountSid: ws.env.parentSid }],
      requests: { retries: 0 },
    });
    expect(doc['keywords']).toMatchObject({ 'opt-out': expect.arrayContaining(['STOP']) });
  });

  it('optouts: CSV with the documented header on stdout, coverage on stderr', async () => {
    const result = await cli(['optouts', '--db', db()]);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(HEADER);
    const rows = parse(result.stdout, { columns: true }) as Record<string, string>[];
    const truth = await emulatorOptOuts(ws.env);
    expect(rows.map((r) => r['stop_message_sid']).sort()).toEqual(
      truth.map((o) => o.message_sid).sort(),
    );
    expect(rows.map((r) => r['recipient']).sort()).toEqual([user(1), user(2), user(3)]);
    const stderr = result.stderr.trimEnd().split('\n');
    expect(stderr).toEqual([
      expect.stringMatching(
        new RegExp(`^coverage: ${ws.env.parentSid} \\S+Z → \\S+Z from the Messages API$`),
      ),
      'keywords: opt-out STOP STOPALL UNSUBSCRIBE CANCEL END QUIT REVOKE OPTOUT; opt-in START YES UNSTOP (YES not on toll-free); help HELP INFO',
      'ties: 0 pair(s) had an opt-out (keyword or refusal) and an opt-in in the same second; kept as opted out',
    ]);
  });

  it('optouts: CSV cells that a spreadsheet would run as a formula are neutralized', async () => {
    // Only a keyword can reach the export, and a keyword's body is the keyword once trimmed:
    // a tab (or CR) in front is the only formula trigger an inbound body can carry. `=…`
    // bodies are never keywords. customer_name stays empty until `plan` records a mapping.
    const result = await cli(['optouts', '--db', db()]);
    const rows = parse(result.stdout, { columns: true }) as Record<string, string>[];
    const tab = rows.find((r) => r['recipient'] === user(2));
    expect(tab?.['body']).toBe("'\tSTOP");
    expect(tab?.['keyword']).toBe('STOP');
    expect(result.stdout).not.toContain('HYPERLINK');
    // E.164 numbers begin with + and are left alone.
    for (const r of rows) {
      expect(r['recipient']).toMatch(/^\+1\d{10}$/);
      expect(r['sender_number']).toMatch(/^\+1\d{10}$/);
    }
  });

  it('optouts --format json and --json: {coverage, optouts}, bodies as received', async () => {
    const byFormat = await cli(['optouts', '--db', db(), '--format', 'json']);
    const byFlag = await cli(['optouts', '--db', db(), '--json']);
    for (const result of [byFormat, byFlag]) {
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      const doc = JSON.parse(result.stdout) as {
        coverage: { windows: unknown[]; keyword_lists: unknown; snapshot_runs: number[] };
        optouts: Record<string, string | null>[];
      };
      expect(Object.keys(doc).sort()).toEqual(['coverage', 'optouts']);
      expect(doc.coverage.snapshot_runs).toEqual([1, 2]);
      expect(doc.coverage.windows).toHaveLength(1);
      expect(doc.optouts).toHaveLength(3);
      expect(Object.keys(doc.optouts[0]!)).toEqual(HEADER.split(','));
      expect(doc.optouts.find((o) => o['recipient'] === user(2))?.['body']).toBe('\tSTOP');
    }
    expect(byFlag.stdout).toBe(byFormat.stdout);
  });

  it('optouts --out FILE: writes the CSV with mode 0600, nothing on stdout', async () => {
    const stdoutCsv = (await cli(['optouts', '--db', db()])).stdout;
    const file = ws.dir.file('optouts.csv');
    const result = await cli(['optouts', '--db', db(), '--out', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toBe(
      `wrote 3 row(s) to ${file} (one per opted-out pair and customer whose list holds it)`,
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(stdoutCsv);
    // The database holds evidence about people: 0600 too (docs/file-formats.md).
    expect(statSync(db()).mode & 0o777).toBe(0o600);
  });

  it('optouts --out over an earlier 0644 export leaves it 0600; over a file it did not write, refuses', async () => {
    const file = ws.dir.file('existing.csv');
    expect((await cli(['optouts', '--db', db(), '--out', file, '--format', 'json'])).code).toBe(0);
    chmodSync(file, 0o644);
    const result = await cli(['optouts', '--db', db(), '--out', file]);
    expect(result.code).toBe(0);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe(HEADER);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // One an older submigrate wrote, before `channel` was added last, is an export too.
    const older = ws.dir.file('older.csv');
    writeFileSync(older, `${HEADER.replace(/,channel$/, '')}\n`);
    expect((await cli(['optouts', '--db', db(), '--out', older])).code).toBe(0);
    expect(readFileSync(older, 'utf8').split('\n')[0]).toBe(HEADER);

    const notes = ws.dir.file('notes.csv');
    writeFileSync(notes, 'recipient,why\n+16505550001,asked twice\n');
    const refused = await cli(['optouts', '--db', db(), '--out', notes]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--out .*notes\.csv exists and is not an opt-out export/);
    // What to do instead, not only what was refused.
    expect(refused.stderr).toContain('Name a new file, or move that one away first.');
    expect(readFileSync(notes, 'utf8')).toBe('recipient,why\n+16505550001,asked twice\n');
  });

  it('a bad --since exits 1 naming the flag', async () => {
    const result = await cli([
      'snapshot',
      '--db',
      ws.dir.file('errors.db'),
      '--since',
      'last week',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: --since: "last week" is not a date/);
  });

  it.each([
    [['--concurrency', '0'], /^error: --concurrency must be a whole number from 1 to 64 .*, got 0/],
    [['--rate', '-5'], /^error: --rate must be a finite number ≥ 0 \(0 = no cap\), got -5/],
    [['--partitions', '0'], /^error: --partitions must be a whole number from 1 to 256, got 0/],
  ])('%j exits 1 naming the flag, as bad input rather than a bug', async (flags, message) => {
    const result = await cli(['snapshot', '--db', ws.dir.file('errors.db'), ...flags]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain('internal error');
  });

  it('missing TWILIO_ACCOUNT_SID exits 1 with a clear message', async () => {
    const result = await cli(['snapshot', '--db', ws.dir.file('errors.db')], {
      TWILIO_ACCOUNT_SID: undefined,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: TWILIO_ACCOUNT_SID is not set\./);
  });

  it('a wrong auth token exits 1 with Twilio 20003', async () => {
    const result = await cli(['snapshot', '--db', ws.dir.file('errors.db')], {
      TWILIO_AUTH_TOKEN: WRONG_TOKEN,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: Twilio 20003 \(HTTP 401\)/);
    expect(result.stderr).not.toContain('internal error');
  });

  it('--customer without a planned mapping exits 1 and says why', async () => {
    const result = await cli(['optouts', '--db', db(), '--customer', 'falcon-flights']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: --customer needs a mapping .*submigrate plan --mapping/);
  });

  it('the auth token appears in no output, no database file and no request log', async () => {
    expect(runs.length).toBeGreaterThanOrEqual(10);
    const secrets = [ws.env.parentToken, WRONG_TOKEN].flatMap((token) => [
      token,
      Buffer.from(`${ws.env.parentSid}:${token}`).toString('base64'), // a Basic auth header
    ]);
    const outputs = runs.map((r) => r.stdout + r.stderr).join('\n');
    // Not even redacted: the code never tried to print one.
    expect(outputs).not.toContain('[redacted]');
    const files = readdirSync(ws.dir.path).map((name) => join(ws.dir.path, name));
    expect(files.some((f) => f.endsWith('cli.db'))).toBe(true);
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    const log = JSON.stringify(await requestLog(ws.env));
    expect(log).toContain(ws.env.parentSid); // the log is there, with who authenticated
    for (const secret of secrets) {
      expect(outputs).not.toContain(secret);
      expect(bytes.includes(secret)).toBe(false);
      expect(bytes.includes(Buffer.from(secret, 'utf16le'))).toBe(false);
      expect(log).not.toContain(secret);
    }
  });
});
