/**
 * Progress on stderr: a bar (cli-progress) when stderr is a terminal that can draw one,
 * nothing otherwise — logs, pipes and a dumb terminal get the one summary line the command
 * prints at the end.
 */

import { createRequire } from 'node:module';

import { whenInterrupted } from './interrupt.js';

/**
 * cli-progress is loaded when a bar is drawn, not with the CLI: with string-width under it, it
 * was about a sixth of the start-up of every command, and logs, pipes and scripts never draw one.
 */
const loadCliProgress = () =>
  createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');

export interface ProgressBar {
  update(done: number, total: number, payload: Record<string, string | number>): void;
  /** Clears the bar's line so that a message can be written above it (it redraws itself). */
  clear(): void;
  stop(): void;
}

/**
 * A terminal that says it moves no cursor (TERM=dumb: an editor's shell buffer, a job runner
 * that logs through a pty) showed the bar's escape sequences and each of its redraws as text.
 */
const drawsBar = (stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean =>
  stream.isTTY === true && env['TERM'] !== 'dumb';

export function createProgressBar(format: string): ProgressBar {
  if (!drawsBar(process.stderr, process.env)) {
    return { update: () => undefined, clear: () => undefined, stop: () => undefined };
  }
  const cliProgress = loadCliProgress();
  const bar = new cliProgress.SingleBar(
    { format, stream: process.stderr, hideCursor: true, clearOnComplete: true, fps: 10 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  // The bar hides the cursor: a Ctrl-C (or a closed terminal) must not leave it hidden.
  let release = () => undefined as void;
  return {
    update(done, total, payload) {
      if (!started) {
        bar.start(total, done, payload);
        started = true;
        release = whenInterrupted(() => bar.stop());
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    clear: () => {
      if (started) process.stderr.write('\r\x1b[K');
    },
    stop: () => {
      if (started) bar.stop();
      release();
    },
  };
}
