/**
 * A document written to stdout in chunks (`optouts` of millions of rows) waits for stdout to
 * take each chunk before the next is made (`writeChunks`, `Output.drained`): a reader slower
 * than SQLite (`| gzip`, a pipe over ssh) has a chunk or so queued, never the whole document
 * (Node queues in memory whatever a pipe has not taken yet).
 */

import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { createOutput, writeChunks } from '../../src/cli/output.js';

/** A stdout that takes a write only when `take` is called (a reader that has not read yet). */
function slow() {
  const pending: (() => void)[] = [];
  let text = '';
  const stream = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _encoding, callback) {
      pending.push(() => {
        text += chunk.toString();
        callback();
      });
    },
  });
  return {
    stream,
    text: () => text,
    take: () => pending.splice(0).forEach((done) => done()),
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('writeChunks', () => {
  it('makes the next chunk only once stdout has taken the one before', async () => {
    const stdout = slow();
    const output = createOutput([], { stdout: stdout.stream, stderr: slow().stream });
    let made = 0;
    function* chunks() {
      for (let i = 0; i < 5; i++) {
        made++;
        yield `chunk ${i} ${'x'.repeat(100)}\n`;
      }
    }
    const written = writeChunks(output, chunks());
    for (let i = 1; i <= 5; i++) {
      await turn();
      await turn();
      expect(made).toBe(i);
      stdout.take();
    }
    await written;
    expect(made).toBe(5);
    expect(stdout.text()).toBe(
      [0, 1, 2, 3, 4].map((i) => `chunk ${i} ${'x'.repeat(100)}\n`).join(''),
    );
  });

  it('goes on to the end when stdout has room at once', async () => {
    let text = '';
    const roomy = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        text += chunk.toString();
        callback();
      },
    });
    const output = createOutput([], { stdout: roomy, stderr: slow().stream });
    const many = Array.from({ length: 50 }, (_, i) => `${i}${'y'.repeat(100)}\n`);
    expect(await writeChunks(output, many)).toBe(true);
    expect(text).toBe(many.join(''));
  });

  it('makes no chunk after the one its reader went away at (`| head -1`)', async () => {
    const closed = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const output = createOutput([], { stdout: closed, stderr: slow().stream });
    let made = 0;
    let ended = false;
    function* chunks() {
      try {
        for (let i = 0; i < 50; i++) {
          made++;
          yield `${i}${'y'.repeat(100)}\n`;
        }
      } finally {
        ended = true;
      }
    }
    expect(await writeChunks(output, chunks())).toBe(false);
    expect(made).toBe(1);
    // Ended, as the rows read from SQLite under it are.
    expect(ended).toBe(true);
    // A reader gone is no failure of the command's.
    await new Promise((resolve) => setImmediate(resolve));
    expect(output.failure()).toBeUndefined();
  });
});
