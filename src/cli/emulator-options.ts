/**
 * The `emulator` command's flags: what they hold, their bounds (checked before anything
 * starts), and what a failure to listen where they say means.
 */

import { UserError } from '../errors.js';
import type { GlobalOptions } from './context.js';
import { requireWholeNumber } from './runtime.js';

export interface EmulatorArgs extends GlobalOptions {
  port: number;
  host: string;
  'account-sid'?: string;
  'auth-token'?: string;
  seed: number;
  scenario?: string;
  messages: number;
  'history-days': number;
}

const MAX_MESSAGES = 10_000_000;

/** Ten years: Twilio keeps nothing older for anyone to read back. */
const MAX_HISTORY_DAYS = 3650;

export function validateEmulatorArgs(args: EmulatorArgs): void {
  requireWholeNumber('port', args.port, { min: 0, max: 65_535 });
  requireWholeNumber('messages', args.messages, { min: 0, max: MAX_MESSAGES });
  requireWholeNumber('history-days', args['history-days'], { min: 1, max: MAX_HISTORY_DAYS });
  requireWholeNumber('seed', args.seed);
  if (args['account-sid'] !== undefined && !/^AC[0-9a-fA-F]{32}$/.test(args['account-sid'])) {
    throw new UserError('--account-sid must be AC followed by 32 hex digits');
  }
}

/**
 * What the emulator's server failing to listen means for the flags that named where: one line
 * each, naming the flag; any other failure as it came.
 */
export function listenError(error: NodeJS.ErrnoException, args: EmulatorArgs): Error {
  if (error.code === 'EADDRINUSE') {
    return new UserError(
      `--port ${args.port}: ${args.host}:${args.port} is already in use. Stop what listens there, or pick another port (--port 0 takes any free one).`,
    );
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new UserError(`--host ${args.host}: not an address of this machine.`);
  }
  if (error.code === 'EACCES') {
    return new UserError(`--port ${args.port}: not allowed to listen there (try above 1024).`);
  }
  return error;
}
