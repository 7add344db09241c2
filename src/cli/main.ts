#!/usr/bin/env node
/**
 * The entry point: parses argv with yargs, runs one command, and is the only place that
 * turns an outcome into an exit code (docs/commands.md):
 * 0 success · 1 bad input or failure · 2 plan has changes · 3 failed steps or violations ·
 * 4 refused.
 */

import { distance } from 'fastest-levenshtein';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

import { secretsIn } from '../config.js';
import { RefusedError, TwilioError, toldAfter, UserError } from '../errors.js';
import { demoCommand } from './commands/demo.js';
import { emulatorCommand } from './commands/emulator.js';
import { optoutsCommand } from './commands/optouts.js';
import { snapshotCommand } from './commands/snapshot.js';
import { applyCommand } from './commands/apply.js';
import { planCommand } from './commands/plan.js';
import { reconcileCommand } from './commands/reconcile.js';
import { reportCommand } from './commands/report.js';
import { routesCommand } from './commands/routes.js';
import { statusCommand } from './commands/status.js';
import { EXIT_CODES } from './exit-codes.js';
import { refuseUnreadFlags } from './unread-flags.js';
import { createOutput, type Output } from './output.js';

const EXIT = EXIT_CODES;

/** The credentials the environment gives, as the 401 hint names them (an API key goes first). */
function credentialsUsed(env: NodeJS.ProcessEnv): string {
  return env['TWILIO_API_KEY']?.trim()
    ? `TWILIO_ACCOUNT_SID with TWILIO_API_KEY and TWILIO_API_SECRET (an API key is used whenever TWILIO_API_KEY is set${env['TWILIO_AUTH_TOKEN']?.trim() ? ', even beside TWILIO_AUTH_TOKEN' : ''})`
    : 'TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN';
}

/**
 * A Twilio error as the `error:` line tells it: `Twilio 20003 (HTTP 401): Authenticate`, as an
 * apply step's failure names it; one that got no answer is its request and why, which its
 * message already says (`GET http://127.0.0.1:4010/…: connection refused at 127.0.0.1:4010 …`).
 */
function twilioErrorText(error: TwilioError): string {
  if (error.status === 0) return error.message;
  const code = error.code === null ? '' : ` ${error.code}`;
  return `Twilio${code} (HTTP ${error.status}): ${error.message}`;
}

function describeError(error: unknown, env: NodeJS.ProcessEnv): { text: string; code: number } {
  if (error instanceof UserError) return { text: `error: ${error.message}`, code: EXIT.failure };
  if (error instanceof RefusedError)
    return { text: `refused: ${error.message}`, code: EXIT.refused };
  if (error instanceof TwilioError) {
    // A subaccount's own token refused is not the environment's: its message says what to do.
    const hint =
      error.status === 401 && error.subaccountSid === null
        ? ` — Twilio did not accept the credentials: check ${credentialsUsed(env)}, and --api-url / SUBMIGRATE_API_URL.`
        : error.status === 0
          ? ' — check the network, and --api-url / SUBMIGRATE_API_URL if set (is the emulator running?).'
          : '';
    return { text: `error: ${twilioErrorText(error)}${hint}`, code: EXIT.failure };
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    text: `internal error: ${stack}\nThis is a bug in submigrate; please report it with the command you ran.`,
    code: EXIT.failure,
  };
}

/** The flags a command declares repeatable (`array: true`). */
const REPEATABLE = new Set(['account']);

/**
 * A flag that takes one value, given twice (`--run 1 --run 2`, `--out a --out b`): yargs hands
 * over both as an array, which no command reads as meant. Not always: `--rate 0.5 --rate 1`
 * came through as one number, 1.5, and an on-or-off flag given twice (`--no-export --export`,
 * `--dry-run --dry-run=false`) as the last of them, so the flags typed are counted too.
 * Refused, naming the flag, before the command runs.
 */
function refuseRepeated(argv: readonly string[]) {
  const flags = flagsOf(argv);
  return (args: Record<string, unknown>): void => {
    for (const [name, value] of Object.entries(args)) {
      // `_` and what follows `--` are arguments, not flags; `$0` and camelCase twins are yargs'.
      if (name === '_' || name === '--' || name === '$0' || /[A-Z]/.test(name)) continue;
      if (REPEATABLE.has(name)) continue;
      const typed = typedSpellings(flags, name);
      if (Array.isArray(value) || typed.length > 1) {
        // What was typed each time: the values, or for an on-or-off flag the flags themselves.
        const shown =
          typeof value === 'boolean' ? typed.map((t) => t.flag) : typed.map((t) => t.value);
        throw new UserError(
          `--${name} was given ${shown.length} times (${shown.join(', ')}); give it once.`,
        );
      }
    }
  };
}

/**
 * Each time `--name` was typed, in any of its spellings (`--name=…`, `--no-name`): the flag as
 * typed, and its value as typed (the flag itself for `--no-name`, empty when none followed).
 */
function typedSpellings(flags: readonly string[], name: string): { flag: string; value: string }[] {
  return flags.flatMap((arg, at) => {
    for (const n of spellings(name)) {
      if (arg === `--no-${n}` || arg.startsWith(`--no-${n}=`)) return [{ flag: arg, value: arg }];
      if (arg.startsWith(`--${n}=`)) return [{ flag: arg, value: arg.slice(n.length + 3) }];
      if (arg === `--${n}`) {
        const next = flags[at + 1];
        return [{ flag: arg, value: next === undefined || next.startsWith('--') ? '' : next }];
      }
    }
    return [];
  });
}

/** The arguments before `--`: what follows it is arguments, not flags. */
function flagsOf(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
}

/** A flag's two spellings: yargs reads `--retentionDays` as `--retention-days`. */
function spellings(name: string): string[] {
  return [name, name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
}

/** `--no-rate` or `--no-db` as typed, if it is: a flag that takes a value has no "no". */
function negatedSpelling(flags: readonly string[], name: string): string | undefined {
  return flags.find((arg) =>
    spellings(name).some((n) => arg === `--no-${n}` || arg.startsWith(`--no-${n}=`)),
  );
}

/**
 * What was typed after each `--name` (or `--name=`): undefined when nothing was, the line
 * ending there or another flag following it.
 */
function valuesTyped(flags: readonly string[], name: string): (string | undefined)[] {
  const typed: (string | undefined)[] = [];
  flags.forEach((arg, at) => {
    const n = spellings(name).find((n) => arg === `--${n}` || arg.startsWith(`--${n}=`));
    if (n === undefined) return;
    const next = flags[at + 1];
    typed.push(
      arg.length > n.length + 2
        ? arg.slice(n.length + 3)
        : next === undefined || next.startsWith('--')
          ? undefined
          : next,
    );
  });
  return typed;
}

/**
 * A number flag given without a number: yargs reads `--rate fast` as NaN (each command would
 * say "got NaN"), `--rate ""` or `--rate=` as 0 (for `apply`, no rate limit at all: an unset
 * shell variable must not lift it), `--rate` with nothing after it as its default, and
 * `--no-rate` as 0. Each is refused before the command runs, saying what was typed.
 */
function refuseNotANumber(argv: readonly string[]) {
  const flags = flagsOf(argv);
  return (args: Record<string, unknown>): void => {
    for (const [name, value] of Object.entries(args)) {
      if (/[A-Z]/.test(name) || typeof value !== 'number') continue;
      // yargs reads `--no-rate` as `--rate 0` (for `apply`, no rate limit at all): a number
      // flag has no "no", and its 0 is given as a number, where it means anything.
      const negated = negatedSpelling(flags, name);
      if (negated !== undefined) {
        throw new UserError(`${negated}: --${name} takes a number, and has no --no- form`);
      }
      const typed = valuesTyped(flags, name);
      if (typed.length === 0) continue; // not given: its default
      const given = typed[0];
      if (given === undefined || given.trim() === '') {
        throw new UserError(`--${name} needs a number, and was given none`);
      }
      if (Number.isNaN(value))
        throw new UserError(`--${name} ${JSON.stringify(given)} is not a number`);
    }
  };
}

/** What yargs' types leave out: the flags declared as strings, and as booleans. */
interface DeclaredFlags {
  getOptions(): { string: string[]; boolean: string[]; default: Record<string, unknown> };
}

/**
 * The command named: the first word that is one (`submigrate --db x.db apply …` names apply,
 * not x.db, the value of a global flag typed before it). undefined when none is.
 */
function commandOf(argv: readonly string[], commands: readonly string[]): string | undefined {
  return flagsOf(argv).find((a) => !a.startsWith('-') && commands.includes(a));
}

/**
 * A flag typed in capitals (caps lock: `--DRY-RUN`, `--FAIL-ON-VIOLATION`): yargs reads it as
 * its camelCase twin (`dryRun`), which strict mode takes as a known flag, and leaves the flag
 * itself (`dry-run`, what the command reads) as it was: `apply PLAN --DRY-RUN` applied the
 * plan. Refused before the command runs as the unknown flag it is, with the one meant. A
 * camelCase spelling (`--dryRun`) is yargs' own twin of the flag, and sets it: left alone.
 */
function refuseOtherCase(
  argv: readonly string[],
  commands: readonly string[],
  declared: () => readonly string[],
) {
  const flags = flagsOf(argv);
  const command = commandOf(argv, commands);
  return (): void => {
    const known = new Set(
      declared().flatMap((name) => spellings(name).flatMap((n) => [n, `no-${n}`])),
    );
    for (const arg of flags) {
      const typed = /^--([^=]+)/.exec(arg)?.[1];
      if (typed === undefined || !/[A-Z]/.test(typed) || known.has(typed)) continue;
      const said = `Unknown argument: ${typed}`;
      const help = command === undefined ? 'submigrate --help' : `submigrate ${command} --help`;
      throw new UserError(
        `${said}${flagHint(said, argv, declared())}. Nothing was run; \`${help}\` lists its options`,
      );
    }
  };
}

/**
 * A yes-or-no flag given a value other than true or false: yargs reads `--json=maybe` (or
 * `--json=1`, `--dry-run=yes`, `--dry-run=TRUE`) as false, so `apply PLAN --dry-run=yes` would
 * apply the plan. Refused before the command runs, saying what was typed, and how to say on
 * or off: for a flag on by default (`--export`, `--snapshot`), `--export=no` was meant as
 * off, which leaving it out is not.
 */
function refuseNotABoolean(
  argv: readonly string[],
  declared: () => { boolean: readonly string[]; default: Readonly<Record<string, unknown>> },
) {
  const flags = flagsOf(argv);
  return (): void => {
    const { boolean: booleanFlags, default: defaults } = declared();
    for (const name of new Set(booleanFlags)) {
      if (/[A-Z]/.test(name)) continue;
      for (const arg of flags) {
        const n = spellings(name).find((n) => arg.startsWith(`--${n}=`));
        if (n === undefined) continue;
        const given = arg.slice(n.length + 3);
        if (given === 'true' || given === 'false') continue;
        const how =
          defaults[name] === true
            ? `give --no-${name} to turn it off, or leave it out (on)`
            : `give --${name}, or leave it out`;
        throw new UserError(`${arg}: --${name} is on or off, not ${JSON.stringify(given)}: ${how}`);
      }
    }
  };
}

/**
 * A flag that takes a file, a URL or other text, given none: yargs reads `--db` with nothing
 * after it as its default (./submigrate.db: `snapshot --db $DB` with DB unset would fill a
 * database nobody named), `--api-url ""` as no URL (the real Twilio hosts, whatever
 * SUBMIGRATE_API_URL says), `--db ""` as the folder it runs in, and `--no-db` as false. Each
 * is refused before the command runs.
 */
function refuseNoText(argv: readonly string[], textFlags: () => readonly string[]) {
  const flags = flagsOf(argv);
  return (args: Record<string, unknown>): void => {
    for (const name of new Set(textFlags())) {
      if (/[A-Z]/.test(name) || !(name in args)) continue;
      const negated = negatedSpelling(flags, name);
      if (negated !== undefined) {
        throw new UserError(`${negated}: --${name} takes a value, and has no --no- form`);
      }
      if (valuesTyped(flags, name).some((given) => given === undefined || given.trim() === '')) {
        throw new UserError(`--${name} needs a value, and was given none`);
      }
    }
  };
}

export async function main(argv: string[]): Promise<number> {
  // `submigrate plan --detailed-exitcode | head`: a closed pipe is the reader saying it has
  // enough; the command goes on to its end and its own exit code all the same (output.ts).
  // Only a document written in chunks (`optouts`) stops making them then (`writeChunks`).
  const output = createOutput(secretsIn(process.env));
  const code = await runCommand(argv, output);
  // A write's failure is told by the stream's 'error' event, after the write.
  await new Promise((resolve) => setImmediate(resolve));
  const failure = output.failure();
  if (failure === undefined) return code;
  output.err(
    `error: cannot write to ${failure.stream} (${failure.error.message}): what the command printed there is cut short and is not to be used as whole; the command itself ran to its end.`,
  );
  return code === EXIT.ok ? EXIT.failure : code;
}

/** The command argv names, run: its exit code, after any error told on stderr. */
async function runCommand(argv: string[], output: Output): Promise<number> {
  let exitCode: number = EXIT.ok;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const context = { output, env: process.env, cwd: process.cwd(), setExit };
  // In the order `--help` lists them.
  const modules = {
    emulator: emulatorCommand(context),
    snapshot: snapshotCommand(context),
    plan: planCommand(context),
    apply: applyCommand(context),
    status: statusCommand(context),
    report: reportCommand(context),
    routes: routesCommand(context),
    reconcile: reconcileCommand(context),
    optouts: optoutsCommand(context),
    demo: demoCommand(context),
  };
  const names = Object.values(modules).map((m) => String(m.command).split(' ')[0]!);
  const parser = yargs(argv);
  try {
    await parser
      // yargs otherwise speaks the machine's language (LANG/LC_ALL): --help and its errors
      // came out half Turkish or German, and its messages that plainYargsError rewords (apply
      // without its plan file, a flag named twice) passed through unreworded.
      .locale('en')
      .scriptName('submigrate')
      .usage(
        "$0 <command> [options]\n\nMove an ISV's customers from one Twilio account into one subaccount each, without losing a single SMS opt-out.",
      )
      .option('db', {
        type: 'string',
        describe: 'State database (env SUBMIGRATE_DB)',
        default: process.env['SUBMIGRATE_DB'] ?? './submigrate.db',
        global: true,
      })
      .option('api-url', {
        type: 'string',
        describe:
          'Send every Twilio request to this URL, e.g. the emulator (env SUBMIGRATE_API_URL)',
        global: true,
      })
      .option('json', {
        type: 'boolean',
        describe: 'Print one JSON document on stdout instead of text',
        default: false,
        global: true,
      })
      .command(modules.emulator)
      .command(modules.snapshot)
      .command(modules.plan)
      .command(modules.apply)
      .command(modules.status)
      .command(modules.report)
      .command(modules.routes)
      .command(modules.reconcile)
      .command(modules.optouts)
      .command(modules.demo)
      .middleware(
        refuseOtherCase(argv, names, () =>
          declaredFlags((parser as unknown as DeclaredFlags).getOptions()),
        ),
        true,
      )
      .middleware(() => refuseUnreadFlags(flagsOf(argv), commandOf(argv, names)), true)
      .middleware(refuseRepeated(argv), true)
      .middleware(refuseNotANumber(argv), true)
      .middleware(
        refuseNoText(argv, () => (parser as unknown as DeclaredFlags).getOptions().string),
        true,
      )
      .middleware(
        refuseNotABoolean(argv, () => (parser as unknown as DeclaredFlags).getOptions()),
        true,
      )
      .demandCommand(1, 'Name a command; see --help.')
      .strict()
      .epilogue(
        'Credentials come from the environment only: TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, ' +
          'or with TWILIO_API_KEY and TWILIO_API_SECRET.\n\n' +
          'Exit codes: 0 success, 1 bad input or failure, 2 plan has changes (--detailed-exitcode), ' +
          '3 failed steps, an apply not complete, an apply that could not read the history up to the moves ' +
          '(the lists are then not whole), a lost inbound route, an optouts list that is not whole ' +
          '(history not read), a report of a run not finished, or (--fail-on-violation) ' +
          "violations, a pending send, a span since the move unread or never checked, or a moved customer's list not whole or its sends held to one not read again, 4 refused.",
      )
      .fail((message, error) => {
        // yargs' own errors (a flag's check, as `--run abc`) are the user's to fix.
        const declared = () => declaredFlags((parser as unknown as DeclaredFlags).getOptions());
        if (error?.name === 'YError')
          throw new UserError(plainYargsError(error.message, argv, names, declared));
        throw error ?? new UserError(plainYargsError(message, argv, names, declared));
      })
      .wrap(Math.min(100, process.stdout.columns || 100))
      .parseAsync();
  } catch (error) {
    const { text, code } = describeError(error, process.env);
    output.err(text);
    for (const line of toldAfter(error)) output.err(`also: ${line}`);
    // A command that told its outcome before failing (apply's failed steps or lost routes,
    // reconcile's violations, then reports that could not be written) keeps that outcome's
    // code: scripts act on 3, and the failure after it is on stderr all the same.
    return code === EXIT.failure && exitCode !== EXIT.ok ? exitCode : code;
  }
  return exitCode;
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`internal error: ${String(error)}\n`);
    process.exitCode = EXIT.failure;
  },
);

/**
 * yargs' own message, said as what to do: `apply` without its plan file ("Not enough
 * non-option arguments: got 0, need at least 1") names the file it needs, and a word that is
 * no command ("Unknown argument: bogus") says so and lists the commands.
 */
function plainYargsError(
  message: string,
  argv: readonly string[],
  commands: readonly string[],
  declared: () => readonly string[],
): string {
  const command = commandOf(argv, commands);
  if (/^Not enough non-option arguments/.test(message) && command === 'apply') {
    return 'apply needs the plan file `submigrate plan` wrote: `submigrate apply PLAN` (plan writes plans/<mapping name>.plan.json unless given --out)';
  }
  const word = argv[0];
  if (word !== undefined && !word.startsWith('-') && !commands.includes(word)) {
    return `no command "${word}": the commands are ${commands.join(', ')} (see submigrate --help)`;
  }
  const said = withoutCamelTwins(message);
  const missing = /^Missing required argument: ([a-z-]+)$/.exec(said);
  if (missing !== null) {
    // `plan --maping m.csv`: the flag it misses is there, misspelt; yargs names only the first.
    const misspelt = argv
      .filter((a) => a.startsWith('--'))
      .map((a) => a.slice(2).split('=')[0]!)
      .find((name) => nearestFlag(name, [missing[1]!]) !== null);
    return misspelt === undefined ? said : `${said} (--${misspelt}: did you mean --${missing[1]}?)`;
  }
  if (!/^Unknown arguments?: /.test(said) || command === undefined) return said;
  return `${said}${flagHint(said, argv, declared())}. Nothing was run; \`submigrate ${command} --help\` lists its options`;
}

/** The long flags the command declares (its own and the global ones), as typed: `--dry-run`. */
function declaredFlags(options: {
  string: string[];
  boolean: string[];
  number?: string[];
  array?: string[];
}): string[] {
  const all = [
    ...options.string,
    ...options.boolean,
    ...(options.number ?? []),
    ...(options.array ?? []),
  ];
  return [...new Set(all.filter((name) => name.length > 1 && !/[A-Z]/.test(name)))];
}

/**
 * A mistyped flag (`--dryrun`, `--concurency`, `--acount`) is told the flag it is nearest to:
 * a tired engineer sees "Unknown argument" and has to find the spelling in --help. Only a
 * flag typed as one (`--x`), and only a near one: two edits, or the same letters without
 * their dashes.
 */
function flagHint(said: string, argv: readonly string[], flags: readonly string[]): string {
  const unknown = said.replace(/^Unknown arguments?: /, '').split(', ');
  const typed = unknown.filter((name) =>
    argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`)),
  );
  const hints = typed.flatMap((name) => {
    const near = nearestFlag(name, flags);
    if (near === null) return [];
    return [
      unknown.length === 1 ? `did you mean --${near}?` : `--${name}: did you mean --${near}?`,
    ];
  });
  return hints.length === 0 ? '' : ` (${hints.join('; ')})`;
}

function nearestFlag(name: string, flags: readonly string[]): string | null {
  const bare = (s: string) => s.replace(/[-_]/g, '').toLowerCase();
  let best: { flag: string; edits: number } | null = null;
  for (const flag of flags) {
    const edits = bare(flag) === bare(name) ? 0 : distance(name, flag);
    if (edits <= 2 && (best === null || edits < best.edits)) best = { flag, edits };
  }
  return best?.flag ?? null;
}

/**
 * yargs names an unknown `--bogus-flag` twice, as given and camel-cased ("Unknown arguments:
 * bogus-flag, bogusFlag"): the person typed one.
 */
function withoutCamelTwins(message: string): string {
  const match = /^Unknown arguments?: (.*)$/.exec(message);
  if (match === null) return message;
  const names = match[1]!.split(', ');
  const camel = (name: string) => name.replace(/-+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const twins = new Set(names.filter((name) => name.includes('-')).map(camel));
  const kept = names.filter((name) => name.includes('-') || !twins.has(name));
  return `Unknown argument${kept.length === 1 ? '' : 's'}: ${kept.join(', ')}`;
}
