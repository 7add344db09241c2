/**
 * Where the CLI writes: results to stdout, progress and logs to stderr. Every line goes
 * through `redact`, which removes any secret the environment holds, as a last line of
 * defence behind code that never prints one in the first place.
 */

export interface Output {
  out(text: string): void;
  err(text: string): void;
  redact(text: string): string;
}

export function createOutput(secrets: readonly string[]): Output {
  const redact = (text: string) =>
    secrets.reduce((clean, secret) => clean.split(secret).join('[redacted]'), text);
  return {
    out: (text) => process.stdout.write(redact(text.endsWith('\n') ? text : `${text}\n`)),
    err: (text) => process.stderr.write(redact(text.endsWith('\n') ? text : `${text}\n`)),
    redact,
  };
}
