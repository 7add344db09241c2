/**
 * Files the tool writes for people (exports, reports): private (mode 0600) from the first
 * byte, and whole or not at all. The text goes to a temporary file beside the target, which
 * is then renamed over it, so an existing file never holds new data under its old mode and a
 * crash never leaves half a report.
 */

import { closeSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { UserError } from './errors.js';

/** The folder a file goes into must exist and be a folder: one clear line otherwise. */
export function requireFolder(path: string, flag: string): void {
  const folder = dirname(path);
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    throw new UserError(`${flag} ${path}: the folder ${folder} does not exist.`);
  }
  if (!isFolder) throw new UserError(`${flag} ${path}: ${folder} is not a folder.`);
}

export function writePrivateFile(path: string, text: string, flag = '--out'): void {
  requireFolder(path, flag);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // not created, or already renamed
    }
    throw new UserError(`${flag} ${path}: cannot write it (${(error as Error).message}).`);
  }
}
