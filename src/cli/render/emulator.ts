/** `emulator`'s banner: where it listens, its scenario, and how to point submigrate at it. */

import type { ScenarioSummary } from '../../emulator/scenarios/index.js';

/** Where the emulator serves, and its own (fake) main account's credentials. */
export interface EmulatorServing {
  url: string;
  accountSid: string;
  authToken: string;
}

/** The banner's lines, as text (the emulator's credentials in it on purpose). */
export function emulatorBanner(emulator: EmulatorServing, summary: ScenarioSummary | null): string {
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
  return `${lines.join('\n')}\n`;
}

/** `--json`: the same, one line, with the serving process (`pid`) for supervisors. */
export function emulatorJson(
  emulator: EmulatorServing,
  summary: ScenarioSummary | null,
  pid: number,
): string {
  return `${JSON.stringify({
    url: emulator.url,
    account_sid: emulator.accountSid,
    auth_token: emulator.authToken,
    // The process that serves (a child of the one started), for supervisors.
    pid,
    scenario: summary,
  })}\n`;
}

function describeSummary(summary: ScenarioSummary): string {
  const n = (value: number) => value.toLocaleString('en-US');
  return `Scenario ${summary.name}: ${n(summary.accounts)} account(s), ${n(summary.numbers)} numbers, ${n(summary.services)} Messaging Services, ${n(summary.messages)} messages`;
}
