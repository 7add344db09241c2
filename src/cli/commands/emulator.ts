import type { CommandModule } from 'yargs';

import {
  OWLIE_SCENARIO_HISTORY_DAYS,
  type ScenarioSummary,
} from '../../emulator/scenarios/index.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { needsEmulatorHeap, runWithEmulatorHeap } from '../emulator-heap.js';
import { listenError, validateEmulatorArgs, type EmulatorArgs } from '../emulator-options.js';
import { resolveScenario } from '../emulator-scenario.js';
import { emulatorBanner, emulatorJson } from '../render/emulator.js';

export function emulatorCommand(
  context: CommandContext,
): CommandModule<GlobalOptions, EmulatorArgs> {
  return {
    command: 'emulator',
    describe: 'Serve a stateful local Twilio (same paths, JSON, errors and opt-out behaviour)',
    builder: (y) =>
      y
        // It keeps no database and is no Twilio client: --help leaves out what it does not read.
        .hide('db')
        .hide('api-url')
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
      if (needsEmulatorHeap()) {
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
        throw listenError(error, args);
      });
      // The emulator's own fake credentials, printed on purpose so they can be used (and so
      // not through the output's redaction, which would hide a token the environment holds).
      process.stdout.write(
        args.json
          ? emulatorJson(emulator, summary, process.pid)
          : emulatorBanner(emulator, summary),
      );
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
