import type { Output } from './output.js';

/** What every command receives from main: output, environment, working directory. */
export interface CommandContext {
  output: Output;
  env: Record<string, string | undefined>;
  cwd: string;
  setExit(code: number): void;
}

/** The options every command accepts (the README's common options). */
export interface GlobalOptions {
  db: string;
  'api-url'?: string | undefined;
  json: boolean;
}
