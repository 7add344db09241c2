import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import type { CommandModule } from 'yargs';

import { UserError } from '../../errors.js';
import {
  builtInScenario,
  OWLIE_SCENARIO_HISTORY_DAYS,
  seedScenario,
  type ScenarioLoader,
  type ScenarioSummary,
} from '../../emulator/scenarios/index.js';
import type { SeedDocument } from '../../emulator/seed.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { requireWholeNumber } from '../runtime.js';

interface EmulatorArgs extends GlobalOptions {
  port: number;
  host: string;
  'account-sid'?: string;
  'auth-token'?: string;
  seed: number;
  scenario?: string;
  messages: number;
  'history-days': number;
}

function resolveScenario(
  spec: string,
  args: EmulatorArgs,
  context: CommandContext,
): ScenarioLoader {
  const builtIn = builtInScenario(spec, {
    seed: args.seed,
    messages: args.messages,
    now: Date.now(),
    historyDays: args['history-days'],
  });
  if (builtIn !== null) return builtIn;
  const path = resolve(context.cwd, spec);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(
      `--scenario: "${spec}" is neither a built-in scenario (owlie) nor a readable file.`,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path}: not a JSON seed document (${(error as Error).message}).`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    const what =
      document === null ? 'null' : Array.isArray(document) ? 'an array' : typeof document;
    throw new UserError(
      `${path}: a seed this emulator cannot load (the document must be a JSON object, not ${what}). docs/emulator.md describes the format.`,
    );
  }
  const load = seedScenario(spec, document as SeedDocument);
  // What the seed asks for is checked as it is loaded: a bad value is the file's fault.
  return (state) => {
    try {
      return load(state);
    } catch (error) {
      throw new UserError(
        `${path}: a seed this emulator cannot load (${error instanceof Error ? error.message : String(error)}). docs/emulator.md describes the format.`,
      );
    }
  };
}

export function emulatorCommand(
  context: CommandContext,
): CommandModule<GlobalOptions, EmulatorArgs> {
  return {
    command: 'emulator',
    describe: 'Serve a stateful local Twilio (same paths, JSON, errors and opt-out behaviour)',
    builder: (y) =>
      y
        .option('port', {
          type: 'number',
          default: 4010,
          describe: 'Port to listen on (0 = any free port)',
        })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on' })
        .option('account-sid', { type: 'string', describe: "The emulator's own main Account SID" })
        .option('auth-token', { type: 'string', describe: "The emulator's own main Auth Token" })
        .option('seed', {
          type: 'number',
          default: 1,
          describe: 'Seed for deterministic SIDs and data',
        })
        .option('scenario', {
          type: 'string',
          describe: 'Built-in scenario (owlie) or a JSON seed file',
        })
        .option('messages', {
          type: 'number',
          default: 50_000,
          describe: 'Message history size for a built-in scenario',
        })
        .option('history-days', {
          type: 'number',
          default: OWLIE_SCENARIO_HISTORY_DAYS,
          describe:
            'Days of history back from now for a built-in scenario (beyond 400, only Bulk Export shows it)',
        }),
    handler: async (args) => {
      // Bounds first: nothing starts on bad input.
      validateEmulatorArgs(args);
      if (heapLimitMb() < EMULATOR_HEAP_MB) {
        context.setExit(await runWithEmulatorHeap());
        return;
      }
      const load =
        args.scenario === undefined ? undefined : resolveScenario(args.scenario, args, context);
      let summary: ScenarioSummary | null = null;
      // Loaded here, not with the CLI: the emulator's server added about 25 ms to the start-up of
      // every other command, none of which uses it.
      const { startEmulator } = await import('../../emulator/server.js');
      const emulator = await startEmulator({
        port: args.port,
        host: args.host,
        seed: args.seed,
        ...(args['account-sid'] === undefined ? {} : { accountSid: args['account-sid'] }),
        ...(args['auth-token'] === undefined ? {} : { authToken: args['auth-token'] }),
        ...(load === undefined ? {} : { load: (state) => void (summary = load(state)) }),
      }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') {
          throw new UserError(
            `--port ${args.port}: ${args.host}:${args.port} is already in use. Stop what listens there, or pick another port (--port 0 takes any free one).`,
          );
        }
        if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
          throw new UserError(`--host ${args.host}: not an address of this machine.`);
        }
        if (error.code === 'EACCES') {
          throw new UserError(`--port ${args.port}: not allowed to listen there (try above 1024).`);
        }
        throw error;
      });
      const lines = [
        `Twilio emulator listening on ${emulator.url}`,
        ...(summary === null ? [] : [describeSummary(summary)]),
        '',
        'Point submigrate (and the twilio SDK through it) at it with:',
        `  export SUBMIGRATE_API_URL=${emulator.url}`,
        `  export TWILIO_ACCOUNT_SID=${emulator.accountSid}`,
        `  export TWILIO_AUTH_TOKEN=${emulator.authToken}`,
        '',
        `Control plane: ${emulator.url}/__emulator/state · Ctrl-C stops.`,
      ];
      // The emulator's own fake credentials, printed on purpose so they can be used (and so
      // not through the output's redaction, which would hide a token the environment holds).
      if (args.json) {
        process.stdout.write(
          `${JSON.stringify({
            url: emulator.url,
            account_sid: emulator.accountSid,
            auth_token: emulator.authToken,
            // The process that serves (a child of the one started), for supervisors.
            pid: process.pid,
            scenario: summary,
          })}\n`,
        );
      } else {
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      // `on`, not `once`: a second Ctrl-C (or one forwarded by a parent) must not kill us
      // halfway through closing.
      await new Promise<void>((resolveStop) => {
        process.on('SIGINT', () => resolveStop());
        process.on('SIGTERM', () => resolveStop());
      });
      await emulator.close();
    },
  };
}

/**
 * The emulator holds whole message histories in memory (a million messages is about 1.5 GB),
 * while bin/submigrate.js caps the heap at 512 MB for the tool's streaming commands. So the
 * emulator command runs itself again in a child process with room, and waits for it.
 */
const EMULATOR_HEAP_MB = 4096;

const heapLimitMb = () => getHeapStatistics().heap_size_limit / 2 ** 20;

function runWithEmulatorHeap(): Promise<number> {
  const flags = process.execArgv.filter((flag) => !flag.startsWith('--max-old-space-size'));
  const child = spawn(
    process.execPath,
    [...flags, `--max-old-space-size=${EMULATOR_HEAP_MB}`, ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  return new Promise((resolveExit) => {
    child.on('exit', (code, signal) => {
      if (code !== null) return resolveExit(code);
      // Killed by a signal (not the graceful stop it answers Ctrl-C with): that is a failure.
      process.stderr.write(
        `error: the emulator's server process was killed by ${signal ?? 'a signal'}\n`,
      );
      resolveExit(128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)) || 1);
    });
  });
}

const MAX_MESSAGES = 10_000_000;

/** Ten years: Twilio keeps nothing older for anyone to read back. */
const MAX_HISTORY_DAYS = 3650;

function validateEmulatorArgs(args: EmulatorArgs): void {
  requireWholeNumber('port', args.port, { min: 0, max: 65_535 });
  requireWholeNumber('messages', args.messages, { min: 0, max: MAX_MESSAGES });
  requireWholeNumber('history-days', args['history-days'], { min: 1, max: MAX_HISTORY_DAYS });
  requireWholeNumber('seed', args.seed);
  if (args['account-sid'] !== undefined && !/^AC[0-9a-fA-F]{32}$/.test(args['account-sid'])) {
    throw new UserError('--account-sid must be AC followed by 32 hex digits');
  }
}

function describeSummary(summary: ScenarioSummary): string {
  const n = (value: number) => value.toLocaleString('en-US');
  return `Scenario ${summary.name}: ${n(summary.accounts)} account(s), ${n(summary.numbers)} numbers, ${n(summary.services)} Messaging Services, ${n(summary.messages)} messages`;
}
