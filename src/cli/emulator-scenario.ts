/**
 * The scenario `emulator --scenario` loads: a built-in one by name, else a JSON seed file, each
 * of whose faults is told as the file's, with where its format is described.
 */

import { UserError } from '../errors.js';
import { readNamedFile } from '../files.js';
import { builtInScenario, seedScenario, type ScenarioLoader } from '../emulator/scenarios/index.js';
import type { SeedDocument } from '../emulator/seed.js';
import type { CommandContext } from './context.js';
import type { EmulatorArgs } from './emulator-options.js';

export function resolveScenario(
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
  const { path, text } = readNamedFile(
    spec,
    context.cwd,
    () => `--scenario: "${spec}" is neither a built-in scenario (owlie) nor a readable file.`,
  );
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
