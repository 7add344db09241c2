/**
 * Files the tool writes for people (exports, reports): private (mode 0600) from the first
 * byte, and whole or not at all. The text goes to a temporary file beside the target, which
 * is then renamed over it, so an existing file never holds new data under its old mode and a
 * crash never leaves half a report.
 */

import {
  chmodSync,
  closeSync,
  existsSync,
  fchmodSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join, relative, resolve } from 'node:path';

import { UserError } from './errors.js';
import { processRuns } from './processes.js';

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

/**
 * A file the user named (`given`, relative to `cwd`) read as UTF-8 text, with its absolute
 * path and the path as messages show it (relative to `cwd`). What stops it being read is told
 * by `refusal`, from the error's code (ENOENT, EISDIR, …) and message.
 */
export function readNamedFile(
  given: string,
  cwd: string,
  refusal: (code: string | undefined, message: string) => string,
): { path: string; text: string; shown: string } {
  const path = resolve(cwd, given);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(refusal((error as NodeJS.ErrnoException).code, (error as Error).message));
  }
  return { path, text, shown: relative(cwd, path) || path };
}

/** The first bytes of a file, as text: enough to tell whether it is one the tool wrote. */
export function readHead(path: string, bytes = 512): string {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(bytes);
    return head.toString('utf8', 0, readSync(fd, head, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * The tool replaces only files it wrote: an existing `path` whose first bytes `isOurs` does
 * not recognise (the database itself, a reviewer's notes) is refused before any work. So is a
 * link, whatever it leads to.
 */
export function refuseForeignFile(
  path: string,
  flag: string,
  what: string,
  isOurs: (head: string) => boolean,
): void {
  // A link is not a file the tool wrote, even to one it did: the rename that puts the new
  // file in place replaces the link itself (someone's link to a shared plan, a dangling link
  // to where no file is yet) with a file of its own.
  if (isSymbolicLink(path)) {
    throw new UserError(
      `${flag} ${path} is a symbolic link; refusing to replace it (it is left as it was, and so is what it leads to; nothing was written). Name the file itself, or a new one.`,
    );
  }
  if (!existsSync(path)) return;
  if (!statSync(path).isFile() || !isOurs(readHead(path))) {
    throw new UserError(
      `${flag} ${path} exists and is not ${what}; refusing to replace it (it is left as it was). Name a new file, or move that one away first.`,
    );
  }
  refuseReadOnly(path, flag);
}

/**
 * A rename replaces a file whatever its mode, and an unlink removes it: one made read-only (by
 * anyone) is refused.
 */
export function refuseReadOnly(
  path: string,
  flag: string,
  what: 'replace' | 'remove' = 'replace',
): void {
  if ((statSync(path).mode & 0o222) !== 0) return;
  throw new UserError(
    `${flag} ${path} is read-only; refusing to ${what} it. Make it writable, or write elsewhere.`,
  );
}

/**
 * A folder's mark file, and what it says. `refuse`, given the text of a mark already there,
 * returns why this claim may not take the folder (a mark of another owner), or null.
 */
export interface FolderMark {
  file: string;
  text: string;
  refuse?: (existing: string) => string | null;
  /**
   * What to do instead when the folder cannot be claimed, for a command that does not let its
   * user name the folder (apply and reconcile write `reports/<run id>/` under the folder they
   * run in); else "name a new or empty folder" (or "name another folder").
   */
  elsewhere?: string;
}

/**
 * Makes `dir` a folder of the tool's own, or refuses: a new or empty folder is claimed with a
 * mark file; one that already holds files is written into only when it bears that mark (or,
 * written before marks existed, when `wroteEarlier` recognises it), and the mark there does
 * not refuse this claim.
 */
export function claimFolder(
  dir: string,
  mark: FolderMark,
  label: string,
  who: string,
  wroteEarlier: (dir: string) => boolean = () => false,
): void {
  const markPath = join(dir, mark.file);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UserError(`${label} ${dir} is not a folder.`);
    // A mark is a file the tool wrote: a link there (to someone's file, or to where none is
    // yet) would have the mark written through it, into a file that is not the tool's.
    if (!isFileOrNothing(markPath)) {
      throw new UserError(
        `${label} ${dir}: ${mark.file} there is not a file ${who} wrote (a link or a folder); refusing to write through it.`,
      );
    }
    if (mark.refuse !== undefined && existsSync(markPath) && statSync(markPath).isFile()) {
      const why = mark.refuse(readHead(markPath));
      if (why !== null) throw new UserError(`${label} ${dir} ${why}`);
    }
    const names = readdirSync(dir);
    // With no mark in place, one being written is another command claiming this folder now:
    // claimed by both, its mark would replace this one's and the two would write their files
    // side by side. (Beside a mark, it is that mark written again, for the run it names.)
    const writing = names.includes(mark.file) ? undefined : markBeingWritten(dir, names, mark);
    if (writing !== undefined) {
      throw new UserError(
        `${label} ${dir} is being claimed by another process (pid ${markTempPid(writing, mark)}, writing ${writing} there) as this one runs; nothing was written there. Let that command finish, or ${mark.elsewhere ?? 'name another folder'}.`,
      );
    }
    // The mark's own temporary file is the tool's: a process killed as it wrote the mark into
    // the folder it had just made leaves that alone there, and writing the mark removes it.
    const entries = names.filter((name) => !isMarkTemp(dir, name, mark));
    if (entries.length > 0 && !entries.includes(mark.file) && !wroteEarlier(dir)) {
      throw new UserError(
        `${label} ${dir} already holds files ${who} did not write; ${mark.elsewhere ?? 'name a new or empty folder'}.`,
      );
    }
  } else {
    makeFolder(dir, label);
  }
  writePrivateFile(markPath, mark.text, label);
}

/** The pid in `name` when it is named as the mark's temporary file (`.FILE.PID.tmp`), else null. */
function markTempPid(name: string, mark: FolderMark): number | null {
  const prefix = `.${mark.file}.`;
  if (!name.startsWith(prefix)) return null;
  const pid = /^([0-9]+)\.tmp$/.exec(name.slice(prefix.length))?.[1];
  return pid === undefined ? null : Number(pid);
}

/** Longer than writing a mark takes: a temporary mark older than this is a leftover. */
const MARK_WRITE_MS = 60_000;

/**
 * The mark's temporary file in `names` that another process is writing now: its pid runs, is
 * not this one, and the file was written lately. (A killed writer's pid, reused by a program
 * running since, leaves a file that is older: taken for that, the folder would be refused for
 * as long as the program ran.)
 */
function markBeingWritten(dir: string, names: readonly string[], mark: FolderMark) {
  return names.find((name) => {
    const pid = markTempPid(name, mark);
    if (pid === null || pid === process.pid || !processRuns(pid)) return false;
    try {
      return Date.now() - lstatSync(join(dir, name)).mtimeMs < MARK_WRITE_MS;
    } catch {
      return true; // renamed into place meanwhile, by that process: the folder is its
    }
  });
}

/**
 * Whether `name` in `dir` is a temporary file `writePrivateFiles` wrote the mark through
 * (`.FILE.PID.tmp`): a file itself, holding the start of a mark (its first line, or as much of
 * it as was written; the lines after it may name another run). By its name alone, a file
 * someone put there was taken for the tool's, the folder claimed and the file removed.
 */
function isMarkTemp(dir: string, name: string, mark: FolderMark): boolean {
  if (markTempPid(name, mark) === null) return false;
  const path = join(dir, name);
  const firstLine = `${mark.text.split('\n')[0]}\n`;
  try {
    if (!lstatSync(path).isFile()) return false;
    const head = readHead(path);
    return firstLine.startsWith(head) || head.startsWith(firstLine);
  } catch (error) {
    // Renamed into place or removed meanwhile, by the process writing it: nothing of anyone's.
    // One that cannot be read (another user's) vouches for nothing: the folder is refused.
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Whether `path` is a symbolic link (one that leads nowhere too). */
function isSymbolicLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    // Nothing there, or nothing this process may look at: the write that follows says why.
    return false;
  }
}

/** Whether `path` is a regular file itself (not a link to one), or nothing at all. */
export function isFileOrNothing(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/**
 * Makes a private folder (0700) and its missing parents, or says in one line why it cannot:
 * a path under a file, a symlink to nowhere, no permission.
 */
export function makeFolder(dir: string, label: string): void {
  try {
    // Each missing folder in turn, 0700 whatever the umask: under one such as 0277 a folder
    // made 0500 could not hold the next one, nor the files written into it.
    const missing: string[] = [];
    for (let folder = resolve(dir); !existsSync(folder); folder = dirname(folder)) {
      missing.unshift(folder);
      if (dirname(folder) === folder) break;
    }
    if (missing.length === 0) mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const folder of missing) {
      try {
        mkdirSync(folder, { mode: 0o700 });
      } catch (error) {
        // Made meanwhile by another process (two commands making reports/ at once): theirs.
        if ((error as NodeJS.ErrnoException).code === 'EEXIST' && statSync(folder).isDirectory()) {
          continue;
        }
        throw error;
      }
      chmodSync(folder, 0o700);
    }
  } catch (error) {
    throw new UserError(`${label} ${dir}: cannot make the folder (${(error as Error).message}).`);
  }
}

/** Text, or a producer that hands it over in chunks (a large plan is never one string). */
export type FileContent = string | ((write: (chunk: string) => void) => void);

/** A file's content as one string (a producer's chunks joined). */
export function fileText(content: FileContent): string {
  if (typeof content === 'string') return content;
  let text = '';
  content((chunk) => (text += chunk));
  return text;
}

const BLOCK = 1 << 20;

/**
 * What folders held when a batch of writes began, by folder: a batch (a run's reports, a
 * thousand customers' lists in one folder) lists each folder once for the temporary files a
 * killed process left, not once per file. What this process writes meanwhile is renamed into
 * place, so the first listing still shows every stale file there is to remove.
 */
export type FolderListings = Map<string, readonly string[]>;

export function writePrivateFile(path: string, content: FileContent, flag = '--out'): void {
  writePrivateFiles([{ path, content }], flag);
}

/**
 * Writes several files as one: each is written whole to its temporary file first, and none
 * replaces its target until all of them are, so a file that cannot be written (a full disk, a
 * folder where the file goes) leaves every target as it was, never a set of files of two
 * moments (a run's new audit beside its old report page). Only a rename failing part way, which
 * the checks before it make unlikely, can still leave some replaced.
 */
export function writePrivateFiles(
  files: readonly { path: string; content: FileContent }[],
  flag = '--out',
  /** The batch's folder listings (filled as folders are first met): a test looks at them. */
  listings: FolderListings = new Map(),
): void {
  const fail = (path: string, error: unknown) =>
    new UserError(`${flag} ${path}: cannot write it (${(error as Error).message}).`);
  // Before any rename, nothing of the batch is in place: said, so that no one goes looking
  // for half a list, or takes the file there for this writing's.
  const unwritten =
    files.length === 1
      ? 'no file was written or replaced'
      : `none of the ${files.length} files being written with it was written or replaced`;
  const failBeforeRename = (path: string, error: unknown) =>
    new UserError(`${flag} ${path}: cannot write it (${(error as Error).message}); ${unwritten}.`);
  const temps: { temp: string; path: string }[] = [];
  const removeTemps = () => {
    for (const { temp } of temps) {
      try {
        unlinkSync(temp);
      } catch {
        // not created, or already renamed
      }
    }
  };
  try {
    for (const { path } of files) {
      requireFolder(path, flag);
      if (!existsSync(path)) continue;
      const stat = statSync(path);
      // A rename over a folder fails: found before any file is replaced.
      if (!stat.isFile()) {
        throw failBeforeRename(path, new Error('something other than a file is there'));
      }
      // One made read-only (a plan signed off, a report handed over) is kept as it is, and the
      // batch with it.
      refuseReadOnly(path, flag);
    }
    for (const { path, content } of files) {
      const temp = join(dirname(path), `${tempPrefix(path)}${process.pid}.tmp`);
      removeStaleTemps(path, listings);
      temps.push({ temp, path });
      try {
        writeTemp(temp, content);
      } catch (error) {
        throw failBeforeRename(path, error);
      }
    }
    while (temps.length > 0) {
      const { temp, path } = temps[0]!;
      try {
        renameSync(temp, path);
      } catch (error) {
        throw fail(path, error);
      }
      temps.shift();
    }
  } finally {
    removeTemps();
  }
}

/** The longest file name most file systems take (NAME_MAX: 255 bytes on Linux and macOS). */
const NAME_MAX = 255;
/** What a temporary file's name adds to its prefix: the longest pid, and `.tmp`. */
const TEMP_SUFFIX_BYTES = '4294967295.tmp'.length;

/**
 * The start of a target's temporary file names, `.NAME.`, then the writer's pid and `.tmp`.
 * A target whose own name leaves no room for those (a 250-byte name, valid itself) would make
 * a temporary name past NAME_MAX, refused as "name too long" though the target is not: its
 * name is cut short (on a character's edge) and a digest of the whole added, so that each
 * target still has temporary names of its own.
 */
export function tempPrefix(path: string): string {
  const name = basename(path);
  const whole = `.${name}.`;
  if (Buffer.byteLength(whole) + TEMP_SUFFIX_BYTES <= NAME_MAX) return whole;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 16);
  const room = NAME_MAX - TEMP_SUFFIX_BYTES - `..~${digest}.`.length;
  let cut = '';
  for (const c of name) {
    if (Buffer.byteLength(cut + c) > room) break;
    cut += c;
  }
  return `.${cut}~${digest}.`;
}

/** Text, whole, into a new private file. */
function writeTemp(temp: string, content: FileContent): void {
  const fd = openSync(temp, 'wx', 0o600);
  try {
    // 0600 whatever the umask: one such as 0277 would make it 0400, a file the tool then
    // takes for one made read-only and refuses to replace the next time.
    fchmodSync(fd, 0o600);
    if (typeof content === 'string') writeAll(fd, content);
    else {
      let pending: string[] = [];
      let size = 0;
      const flush = () => {
        if (size > 0) writeAll(fd, pending.join(''));
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
}

/**
 * All of `text`. A write may take fewer bytes than it was given (a disk nearly full, a
 * file-size limit) and says so only by its count: what it left out is written on from there,
 * and the next write's error (ENOSPC, EFBIG) is what stops the file. A single write dropped the
 * rest, and a list cut short was renamed into place as if whole.
 */
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let written = 0; written < bytes.length;) {
    const count = writeSync(fd, bytes, written, bytes.length - written);
    if (count === 0) throw new Error('the disk took no more of it');
    written += count;
  }
}

/**
 * The temporary files of this target that a killed process left (`.NAME.PID.tmp`, as
 * tempPrefix names them, whose process is gone, or has this process's pid, reused): half a
 * report, with phone numbers in it, must not stay beside the whole one. One of a process still
 * writing is left to it.
 */
function removeStaleTemps(path: string, listings: FolderListings): void {
  const prefix = tempPrefix(path);
  const folder = dirname(path);
  let names = listings.get(folder);
  if (names === undefined) {
    try {
      names = readdirSync(folder);
    } catch {
      return; // a folder one may write into but not list: nothing to tidy that can be seen
    }
    listings.set(folder, names);
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = name.slice(prefix.length, -'.tmp'.length);
    if (!/^[0-9]+$/.test(pid)) continue;
    if (Number(pid) !== process.pid && processRuns(Number(pid))) continue;
    try {
      unlinkSync(join(folder, name));
    } catch {
      // gone already
    }
  }
}
