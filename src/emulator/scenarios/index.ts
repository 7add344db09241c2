/** Built-in scenarios by name, or a seed document (docs/emulator.md) from a JSON file. */

import { applySeed, type SeedDocument } from '../seed.js';
import type { EmulatorState } from '../state.js';
import { loadOwlie, OWLIE_DEFAULT_MESSAGES } from './owlie.js';

export const SCENARIOS = ['owlie'] as const;

export interface ScenarioSummary {
  name: string;
  accounts: number;
  numbers: number;
  services: number;
  messages: number;
}

export interface ScenarioOptions {
  seed: number;
  /** History size for generated scenarios. */
  messages?: number;
  now: number;
  /** The base of the scenario's webhook URLs (Owlie: `https://hooks.owlie.example`). */
  webhookBaseUrl?: string;
  /** Days of history back from `now` (Owlie here: three years). */
  historyDays?: number;
}

/**
 * The Owlie a user meets (`submigrate emulator --scenario owlie`, `submigrate demo`): three
 * years of history, so that opt-outs older than the Messages API's 400 days are there to be
 * found only through Bulk Export. (Tests load the scenario directly, mostly with less.)
 */
export const OWLIE_SCENARIO_HISTORY_DAYS = 1095;

export type ScenarioLoader = (state: EmulatorState) => ScenarioSummary;

const summarize = (name: string, state: EmulatorState): ScenarioSummary => ({
  name,
  accounts: state.accounts.size,
  numbers: state.numbers.size,
  services: state.services.size,
  messages: state.messages.size,
});

export function builtInScenario(name: string, options: ScenarioOptions): ScenarioLoader | null {
  if (name !== 'owlie') return null;
  return (state) => {
    loadOwlie(state, {
      seed: options.seed,
      messages: options.messages ?? OWLIE_DEFAULT_MESSAGES,
      now: options.now,
      webhookBaseUrl: options.webhookBaseUrl,
      historyDays: options.historyDays ?? OWLIE_SCENARIO_HISTORY_DAYS,
    });
    return summarize('owlie', state);
  };
}

export function seedScenario(name: string, document: SeedDocument): ScenarioLoader {
  return (state) => {
    applySeed(state, document);
    return summarize(name, state);
  };
}
