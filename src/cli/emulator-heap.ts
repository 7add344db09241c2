import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { getHeapStatistics } from 'node:v8';

/**
 * The emulator holds whole message histories in memory (a million messages is about 1.5 GB),
 * while bin/submigrate.js caps the heap at 512 MB for the tool's streaming commands. So the
 * emulator command runs itself again in a child process with room, and waits for it.
 */
const EMULATOR_HEAP_MB = 4096;

const heapLimitMb = () => getHeapStatistics().heap_size_limit / 2 ** 20;

export function runWithEmulatorHeap(): Promise<number> {
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

/** Whether this process has less heap than the emulator needs: it then runs itself again. */
export const needsEmulatorHeap = (): boolean => heapLimitMb() < EMULATOR_HEAP_MB;
