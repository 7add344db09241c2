/**
 * Ctrl-C (SIGINT), SIGTERM and a closed terminal (SIGHUP) still end the process at once, as
 * they do with no handler: the journal and the ledger are made to be taken up after a kill at
 * any point, and nothing waits for a request under way. Before it ends, what was registered
 * here runs, last registered first: a progress bar gives the terminal its cursor back, a
 * command says what it leaves and what to run next.
 */

import { constants } from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const registered: ((signal: NodeJS.Signals) => void)[] = [];

function interrupted(signal: NodeJS.Signals): void {
  for (const name of SIGNALS) process.removeListener(name, interrupted);
  for (const fn of registered.splice(0).reverse()) {
    try {
      fn(signal);
    } catch {
      // ending is what matters now
    }
  }
  // The signal again, now with its default action: the process ends as it would have.
  process.kill(process.pid, signal);
  process.exit(128 + (constants.signals[signal] ?? 0));
}

/** Runs `fn` when a signal ends the process; the function returned takes it back. */
export function whenInterrupted(fn: (signal: NodeJS.Signals) => void): () => void {
  if (registered.length === 0) for (const name of SIGNALS) process.on(name, interrupted);
  registered.push(fn);
  return () => {
    const at = registered.indexOf(fn);
    if (at >= 0) registered.splice(at, 1);
    if (registered.length === 0) {
      for (const name of SIGNALS) process.removeListener(name, interrupted);
    }
  };
}
