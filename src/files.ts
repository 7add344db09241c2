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

/** Text, or a producer that hands it over in chunks (a large plan is never one string). */
export type FileContent = string | ((write: (chunk: string) => void) => void);

const BLOCK = 1 << 20;

export function writePrivateFile(path: string, content: FileContent, flag = '--out'): void {
  requireFolder(path, flag);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      if (typeof content === 'string') writeSync(fd, content);
      else {
        let pending: string[] = [];
        let size = 0;
        const flush = () => {
          if (size > 0) writeSync(fd, pending.join(''));
          pending = [];
          size = 0;
        };
        content((chunk) => {
          pending.push(chunk);
          size += chunk.length;
          if (size >= BLOCK) flush();
        });
        flush();
      }
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
