/**
 * createOutput on streams whose reader is gone. A terminal that closed under a command that
 * outlived it (ssh dropped; the command run with nohup or disowned) answers writes with EIO,
 * as a closed pipe answers EPIPE: nobody reads what is left. It was taken as a write that
 * failed, and a command that had succeeded exited 1 over it. Now both are dropped and the
 * command keeps its own exit code; a write that fails otherwise (a full disk) is still told, and
 * so is EIO from what is no terminal: `> file` on a disk or network share that failed, where
 * the list written there is cut short.
 */

import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { createOutput } from '../../src/cli/output.js';

/**
 * A stream whose every write fails with `code` (a terminal's, as process.stdout is one, when
 * `tty`), and one that keeps what it is given.
 */
function failing(code: string, tty = code === 'EIO'): Writable {
  const stream = new Writable({
    write(_chunk, _encoding, callback) {
      callback(Object.assign(new Error(`write ${code}`), { code }));
    },
  });
  return tty ? Object.assign(stream, { isTTY: true }) : stream;
}
function kept(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      stream.text += chunk.toString();
      callback();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('output whose reader is gone', () => {
  it.each(['EIO', 'EPIPE'])('stdout answering %s: dropped, not a failure', async (code) => {
    const stderr = kept();
    const output = createOutput([], { stdout: failing(code), stderr });
    output.out('first line');
    await turn();
    output.out('second line');
    output.lines(['a', 'b']);
    await turn();
    expect(output.failure()).toBeUndefined();
    output.err('progress');
    expect(stderr.text).toBe('progress\n');
  });

  it.each(['EIO', 'EPIPE'])('stderr answering %s: dropped, not a failure', async (code) => {
    const stdout = kept();
    const output = createOutput([], { stdout, stderr: failing(code) });
    output.err('warning: one');
    await turn();
    output.err('warning: two');
    output.out('result');
    await turn();
    expect(output.failure()).toBeUndefined();
    expect(stdout.text).toBe('result\n');
  });

  it('a write that fails otherwise (ENOSPC) is kept for failure()', async () => {
    const output = createOutput([], { stdout: failing('ENOSPC'), stderr: kept() });
    output.out('result');
    await turn();
    expect(output.failure()).toMatchObject({ stream: 'stdout', error: { code: 'ENOSPC' } });
  });

  it.each(['stdout', 'stderr'] as const)(
    'EIO from a %s that is no terminal (a file on a disk that failed) is kept for failure()',
    async (name) => {
      const streams = { stdout: kept(), stderr: kept(), [name]: failing('EIO', false) };
      const output = createOutput([], streams);
      output.out('result');
      output.err('warning');
      await turn();
      expect(output.failure()).toMatchObject({ stream: name, error: { code: 'EIO' } });
    },
  );
});
