/**
 * Where the CLI writes: results to stdout, progress and logs to stderr. Every line goes
 * through `redact`, which removes any secret the environment holds, as a last line of
 * defence behind code that never prints one in the first place.
 */

export interface Output {
  /** A line (or lines) on stdout. */
  out(text: string): void;
  /** Many lines on stdout, written in large blocks. */
  lines(lines: Iterable<string>): void;
  /** Text on stdout exactly as given (a document written in chunks). */
  write(text: string): void;
  /**
   * Resolves once stdout has taken what it was given (at once, when it has room): a command
   * writing a document of millions of rows waits for it before making the next chunk, so that
   * a slow reader (`| gzip`, a pipe over ssh) does not have the whole document queued in memory.
   * Also resolves when stdout's reader is gone or it failed (what is written then is dropped).
   */
  drained(): Promise<void>;
  /**
   * Whether stdout still takes writes: false once its reader is gone (`| head` that has its
   * line) or it failed. A command writing a long document stops making it then.
   */
  open(): boolean;
  err(text: string): void;
  redact(text: string): string;
  /**
   * The first write stdout or stderr could not take for a reason other than a reader gone
   * (a full disk under `> file`): what was printed there is cut short. Undefined otherwise.
   */
  failure(): { stream: 'stdout' | 'stderr'; error: NodeJS.ErrnoException } | undefined;
}

/**
 * Whether `error` means nobody reads the stream any more: a reader that went away (`| head`, a
 * `jq` that stopped) is EPIPE; a terminal that closed under a command that outlived it (the ssh
 * session dropped, the command run with nohup or disowned) is EIO. Only a terminal's EIO: from
 * `> file` it is the disk or share failing the write, and the file is cut short.
 */
function readerGone(stream: NodeJS.WritableStream, error: NodeJS.ErrnoException): boolean {
  if (error.code === 'EPIPE') return true;
  return error.code === 'EIO' && (stream as { isTTY?: boolean }).isTTY === true;
}

/**
 * stdout or stderr for as long as it takes writes. When its reader is gone (`readerGone`),
 * what is left is dropped, and the command goes on to its end and its own exit code. Thrown
 * from the stream's 'error' event, EPIPE crashed the process with a stack trace, and a pipe
 * closed was no reason to end an apply between two writes, or a command with its outcome's
 * exit code (2, 3) replaced by 0; an EIO was taken as a write that failed, and turned the
 * exit code of a command that had succeeded into 1, with a line no one could read. Any other
 * failure is kept for `failure()`: the command cannot vouch for what it printed.
 */
function sink(stream: NodeJS.WritableStream, onFailure: (error: NodeJS.ErrnoException) => void) {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    closed = true;
    if (!readerGone(stream, error)) onFailure(error);
  });
  // A write to a pipe is synchronous on Linux: its EPIPE marks the stream errored at once, and
  // the 'error' event comes only on a later tick.
  const writable = stream as { destroyed?: boolean; writableErrored?: Error | null };
  const open = () =>
    !closed && writable.destroyed !== true && (writable.writableErrored ?? null) === null;
  return {
    write: (text: string) => {
      if (open()) stream.write(text);
    },
    open,
  };
}

/** `Output.drained` for one stream. */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  const writable = stream as NodeJS.WritableStream & {
    writableNeedDrain?: boolean;
    destroyed?: boolean;
  };
  if (writable.writableNeedDrain !== true || writable.destroyed === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      for (const event of ['drain', 'close', 'error']) stream.off(event, done);
      resolve();
    };
    for (const event of ['drain', 'close', 'error']) stream.on(event, done);
  });
}

/**
 * Chunks of a document on stdout, each made only once stdout has taken the one before
 * (`Output.drained`): the document is never queued whole, however slowly it is read. Once
 * stdout takes no more (`Output.open`: its reader gone, `| head -1` with its line), no further
 * chunk is made: the rest of a list of millions of rows is not read for nobody. Whether the
 * document was written to its end with stdout open.
 */
export async function writeChunks(output: Output, chunks: Iterable<string>): Promise<boolean> {
  for (const chunk of chunks) {
    output.write(chunk);
    await output.drained();
    // A write's EPIPE is told on a later tick (the stream destroyed, then 'error'), which a
    // run of awaits on a stdout with room never gives way to: one turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    // Leaving the loop ends `chunks` (its generators' return), and the reads under it.
    if (!output.open()) return false;
  }
  return true;
}

export function createOutput(
  secrets: readonly string[],
  streams: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
): Output {
  const redact = (text: string) =>
    secrets.reduce((clean, secret) => clean.split(secret).join('[redacted]'), text);
  let failure: ReturnType<Output['failure']>;
  const { write: stdout, open } = sink(
    streams.stdout,
    (error) => (failure ??= { stream: 'stdout', error }),
  );
  const { write: stderr } = sink(
    streams.stderr,
    (error) => (failure ??= { stream: 'stderr', error }),
  );
  const BLOCK = 2_000;
  return {
    out: (text) => stdout(redact(text.endsWith('\n') ? text : `${text}\n`)),
    lines: (lines) => {
      let block: string[] = [];
      const flush = () => {
        if (block.length > 0) stdout(redact(`${block.join('\n')}\n`));
        block = [];
      };
      for (const line of lines) {
        block.push(line);
        if (block.length >= BLOCK) flush();
      }
      flush();
    },
    write: (text) => stdout(redact(text)),
    drained: () => drained(streams.stdout),
    open,
    err: (text) => stderr(redact(text.endsWith('\n') ? text : `${text}\n`)),
    redact,
    failure: () => failure,
  };
}
