/**
 * The global flags a command does not read (its `--help` leaves them out), refused when typed:
 * `demo --db mine.db` ran the demo with its own database in its `--out` folder and left the
 * one named untouched and unmentioned, so the user looked for the demo's database where it
 * never was. Refused before the command runs, saying where the command keeps what the flag
 * would have named. A value from the environment (SUBMIGRATE_DB, SUBMIGRATE_API_URL) is every
 * command's default, not something typed for this one: it is not refused.
 */

import { UserError } from '../errors.js';

const NOT_READ: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  demo: {
    db: 'the demo keeps its own database, demo.db in its --out folder (./submigrate-demo unless given --out), made anew at every rehearsal, so that it never touches a database of yours: give --out DIR to choose where it goes',
    'api-url': 'the demo sends its requests to the emulator it starts itself',
    json: 'the demo tells its story in text only',
  },
  emulator: {
    db: 'the emulator keeps no database (its state lives in memory until it stops)',
    'api-url': 'the emulator is the API: --host and --port say where it listens',
  },
};

/** Refuses a flag `command` does not read, typed anyway (in any of its spellings). */
export function refuseUnreadFlags(flags: readonly string[], command: string | undefined): void {
  const notRead = command === undefined ? undefined : NOT_READ[command];
  if (notRead === undefined) return;
  for (const [name, why] of Object.entries(notRead)) {
    const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const typed = flags.find((arg) =>
      [name, camel].some(
        (n) =>
          arg === `--${n}` ||
          arg.startsWith(`--${n}=`) ||
          arg === `--no-${n}` ||
          arg.startsWith(`--no-${n}=`),
      ),
    );
    if (typed !== undefined) {
      throw new UserError(
        `${command} takes no --${name}: ${why}. Nothing was run; \`submigrate ${command} --help\` lists its options`,
      );
    }
  }
}
