/** The demo's own emulator: started with the Owlie scenario, and driven as the demo goes. */

import type { DemoEmulator, GroundTruthPair } from '../demo/run-demo.js';
import { builtInScenario } from '../emulator/scenarios/index.js';
import type { RunningEmulator } from '../emulator/server.js';

/**
 * The emulator with the Owlie scenario, its customers' webhooks at Owlie's app
 * (`webhookBaseUrl`); `scenario` says what it holds.
 */
export async function startDemoEmulator(options: {
  seed: number;
  messages: number;
  webhookBaseUrl: string;
}): Promise<{ emulator: RunningEmulator; scenario: string }> {
  let scenario = '';
  const load = builtInScenario('owlie', {
    seed: options.seed,
    messages: options.messages,
    now: Date.now(),
    webhookBaseUrl: options.webhookBaseUrl,
  })!;
  // Loaded here, not with the CLI: the emulator's server added about 25 ms to the start-up of
  // every other command, none of which uses it.
  const { startEmulator } = await import('../emulator/server.js');
  const emulator = await startEmulator({
    seed: options.seed,
    load: (state) => {
      const s = load(state);
      scenario = `${s.numbers} numbers, ${s.services} shared Messaging Services, ${s.messages.toLocaleString('en-US')} messages`;
    },
  });
  return { emulator, scenario };
}

/**
 * The emulator as the demo drives it: its opt-outs, settings and inbound texts through its
 * control plane, and its accounts' tokens from its state.
 */
export function demoEmulator(emulator: RunningEmulator): DemoEmulator {
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${emulator.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`emulator ${method} ${path}: HTTP ${response.status}`);
    return response.json() as Promise<unknown>;
  };
  return {
    groundTruth: async () =>
      ((await control('GET', '/__emulator/optouts')) as { optouts: GroundTruthPair[] }).optouts,
    denyConsentApi: async (accountSid) => {
      await control('POST', '/__emulator/settings', {
        account_sid: accountSid,
        consent_api: false,
      });
    },
    textIn: async (from, to, body) => {
      await control('POST', '/__emulator/inbound', { from, to, body });
    },
    authTokenOf: (accountSid) => emulator.state.accounts.get(accountSid)!.authToken,
  };
}
