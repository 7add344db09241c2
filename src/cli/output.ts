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
  err(text: string): void;
  redact(text: string): string;
}

export function createOutput(secrets: readonly string[]): Output {
  const redact = (text: string) =>
    secrets.reduce((clean, secret) => clean.split(secret).join('[redacted]'), text);
  const BLOCK = 2_000;
  return {
    out: (text) => process.stdout.write(redact(text.endsWith('\n') ? text : `${text}\n`)),
    lines: (lines) => {
      let block: string[] = [];
      const flush = () => {
        if (block.length > 0) process.stdout.write(redact(`${block.join('\n')}\n`));
        block = [];
      };
      for (const line of lines) {
        block.push(line);
        if (block.length >= BLOCK) flush();
      }
      flush();
    },
    write: (text) => process.stdout.write(redact(text)),
    err: (text) => process.stderr.write(redact(text.endsWith('\n') ? text : `${text}\n`)),
    redact,
  };
}
