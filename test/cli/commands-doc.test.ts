/**
 * docs/commands.md's command table is where an engineer in a maintenance window looks up a
 * flag: it must list exactly the options each command's `--help` shows (the built CLI), with
 * the same defaults where it gives one as a number; README's shorter table only options that
 * exist, with the same defaults. Its exit code table names exactly the codes the CLI uses.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { runCli } from '../support/snapshot-harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Every command takes these; the tables leave them out. */
const GLOBAL = new Set(['help', 'version', 'db', 'api-url', 'json']);

/**
 * The first table of `text` whose heading cell is `command`: per command, its flags (a
 * `--no-x` is the boolean `x`), each with the number the table shows after it, if any.
 */
function documented(text: string): Map<string, Map<string, string | undefined>> {
  const rows = text.split('\n');
  const start = rows.indexOf('| command | does |');
  const table = new Map<string, Map<string, string | undefined>>();
  for (const row of rows.slice(start + 2)) {
    if (!row.startsWith('| `')) break;
    const usage = /^\| `([^`]+)`/.exec(row)![1]!;
    const flags = new Map<string, string | undefined>();
    for (const m of usage.matchAll(/--(?:no-)?([a-z][a-z-]*)(?: ([0-9.]+)(?=[\]\s]))?/g))
      flags.set(m[1]!, m[2]);
    table.set(usage.split(' ')[0]!, flags);
  }
  return table;
}

/** A command's options as its `--help` shows them, each with its default. */
async function helpOptions(command: string): Promise<Map<string, string | undefined>> {
  const { code, stdout } = await runCli([command, '--help'], { PATH: process.env['PATH']! });
  expect(code).toBe(0);
  const options = new Map<string, string | undefined>();
  for (const block of stdout.split(/\n(?= {2}--)/).slice(1)) {
    const name = /^ {2}--([a-z-]+)/.exec(block)![1]!;
    if (GLOBAL.has(name)) continue;
    const byDefault = /\[default: ([^\]]+)\]/.exec(block.replace(/\s+/g, ' '));
    options.set(name, byDefault?.[1]?.replace(/^"|"$/g, ''));
  }
  return options;
}

/** Every command submigrate has. */
const COMMANDS = [
  'emulator',
  'snapshot',
  'plan',
  'apply',
  'status',
  'routes',
  'report',
  'optouts',
  'reconcile',
  'demo',
] as const;

describe('--help shows only the options a command reads', () => {
  // docs/commands.md: the emulator keeps no database and sends no Twilio request; demo keeps its
  // own database, sends to its own emulator and tells its story in text only. status, report
  // and optouts read the database alone: their --help showed --api-url ("Send every Twilio
  // request to this URL"), as if they asked Twilio something.
  it.each([
    ['emulator', ['--db', '--api-url']],
    ['demo', ['--db', '--api-url', '--json']],
    ['status', ['--api-url']],
    ['report', ['--api-url']],
    ['optouts', ['--api-url']],
  ])('%s', async (command, unread) => {
    const { code, stdout } = await runCli([command, '--help'], { PATH: process.env['PATH']! });
    expect(code).toBe(0);
    const shown = [...stdout.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]);
    for (const flag of unread) expect(shown).not.toContain(flag);
    expect(shown).toContain('--help');
  });
});

describe('docs/commands.md and README.md list the options --help shows', () => {
  const docs = documented(read('docs/commands.md'));
  const readme = documented(read('README.md'));

  it('both tables name every command, and only those', () => {
    expect([...docs.keys()].sort()).toEqual([...COMMANDS].sort());
    expect([...readme.keys()].sort()).toEqual([...COMMANDS].sort());
  });

  for (const command of COMMANDS) {
    it(
      command,
      async () => {
        const help = await helpOptions(command);
        const inDocs = docs.get(command)!;
        expect([...inDocs.keys()].sort(), 'docs/commands.md').toEqual([...help.keys()].sort());
        const inReadme = readme.get(command)!;
        expect(
          [...inReadme.keys()].filter((flag) => !help.has(flag)),
          'README.md names options the command does not have',
        ).toEqual([]);
        for (const [source, flags] of [
          ['docs/commands.md', inDocs],
          ['README.md', inReadme],
        ] as const) {
          for (const [flag, shown] of flags) {
            if (shown !== undefined) expect(help.get(flag), `${source}: --${flag}`).toBe(shown);
          }
        }
      },
      30_000,
    );
  }

  // `optouts` exits 3 on a list that is not whole (docs/commands.md, README): --help's exit
  // code line left it out, so a script writer reading only --help took 3 for failed steps.
  it('--help gives exit 3 for each case the exit code table does', async () => {
    const { code, stdout } = await runCli(['--help'], { PATH: process.env['PATH']! });
    expect(code).toBe(0);
    const line = stdout.replace(/\s+/g, ' ');
    const three = line.slice(line.indexOf('Exit codes:')).split(/, 4 /)[0]!;
    for (const words of [
      'failed steps',
      'an apply not complete',
      // apply exits 3 when its read after the moves failed (ledgerUnread): said by neither.
      'an apply that could not read the history up to the moves',
      'a lost inbound route',
      'an optouts list that is not whole',
      'a report of a run not finished',
      'violations',
      'a pending send',
      'never checked',
    ])
      expect(three, words).toContain(words);
  });

  // `submigrate --help` lists each command by its description alone, the first thing a script
  // writer reads of it. optouts' said nothing of exit 3 (a list not whole), and reconcile's gave
  // only violations and an unread span, as if a pending send, a span never checked or a list not
  // whole left the exit code 0.
  it("each command docs/commands.md's Exit 3 names gives exit 3 in its --help description", async () => {
    const text = read('docs/commands.md');
    const three = text.slice(text.indexOf('### Exit 3'), text.indexOf('### Exit 4'));
    const commands = [...three.matchAll(/^- `([a-z]+)`/gm)].map((m) => m[1]!);
    expect(commands.sort()).toEqual(['apply', 'optouts', 'reconcile', 'report', 'routes']);
    for (const command of commands) {
      const { code, stdout } = await runCli([command, '--help'], { PATH: process.env['PATH']! });
      expect(code).toBe(0);
      const description = stdout
        .slice(0, stdout.search(/^(Options|Positionals):/m))
        .replace(/\s+/g, ' ');
      expect(description, command).toMatch(/exit 3/i);
      if (command === 'reconcile')
        for (const words of ['pending', 'unread', 'never checked', 'not whole', 'read again'])
          expect(description, words).toContain(words);
      // A number moved out of its subaccount by hand is LOST (verdict `missing`), exit 3 too.
      if (command === 'routes') expect(description).toContain('no longer in its subaccount');
    }
  });

  // README's quick start is the first thing a new user runs: the demo and the one gate, each as
  // one command that exists (package.json's test script, the demo command above).
  it("README's quick start is `npm install && npx submigrate demo`, then `npm test`", () => {
    const readme = read('README.md');
    const at = readme.indexOf('## Quick start');
    const start = readme.slice(at, readme.indexOf('\n## ', at));
    const blocks = [...start.matchAll(/```sh\n([^`]*)```/g)].map((m) => m[1]!.trim());
    expect(blocks).toEqual(['npm install && npx submigrate demo', 'npm test']);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts['test']).toBeDefined();
  });

  // snapshot's --help says a run another machine recorded is refused (exit 4) until
  // --take-over-run; the exit 4 list named a snapshot running on this machine only, so a script
  // writer reading it took 4 from a snapshot for "wait for the other one here".
  it('each option whose --help gives exit 4 is named in the exit 4 list', async () => {
    const text = read('docs/commands.md');
    const four = text.slice(text.indexOf('### Exit 4'), text.indexOf('### Stopped, errors'));
    const named: string[] = [];
    for (const command of COMMANDS) {
      const { code, stdout } = await runCli([command, '--help'], { PATH: process.env['PATH']! });
      expect(code).toBe(0);
      for (const block of stdout.split(/\n(?= {2}--)/).slice(1)) {
        if (!/exit 4/.test(block.replace(/\s+/g, ' '))) continue;
        const flag = /^ {2}(--[a-z-]+)/.exec(block)![1]!;
        named.push(flag);
        expect(four, `${command} ${flag}`).toContain(`${flag}`);
      }
    }
    expect(named).toContain('--take-over-run');
  }, 30_000);

  it("README's exit code list names exactly src/cli/exit-codes.ts's codes", () => {
    const readme = read('README.md');
    const list = readme.slice(readme.indexOf('**Exit codes**'), readme.indexOf('File formats'));
    const codes = [...list.matchAll(/^- (\d+) /gm)].map((m) => Number(m[1]));
    expect(codes).toEqual(Object.values(EXIT_CODES).sort());
  });

  it("the exit code table names exactly src/cli/exit-codes.ts's codes", () => {
    const text = read('docs/commands.md');
    const table = text.slice(text.indexOf('## Exit codes'));
    const codes = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(codes).toEqual(Object.values(EXIT_CODES).sort());
    // Code 3's cases are a list under the table, one command at a time.
    const three = table.slice(table.indexOf('### Exit 3'), table.indexOf('### Exit 4'));
    expect(three).toContain('apply could not read the history up to the moves');
  });
});
