import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';

import { databaseId } from '../db/identity.js';
import type { Db } from '../db/open.js';
import { UserError } from '../errors.js';
import { claimFolder, makeFolder, refuseReadOnly, writePrivateFiles } from '../files.js';
import { isReportPath, type ReportFile } from '../report/files.js';

/**
 * The run whose reports go into a folder, and its database (`databaseId`): two databases used
 * from one folder both have a run 1, and neither may replace the other's reports.
 */
export interface ReportOwner {
  database: string;
  run: number;
}

/**
 * Where the folder comes from: apply's and reconcile's own `reports/<run id>/` (the default),
 * `report`'s when given no `--out`, one the user named with `--out`, or the demo's, whose
 * database is made anew at every rehearsal (a mark naming another database is of the rehearsal
 * it replaced, in the demo's own folder).
 */
export type ReportFolderKind = 'reports' | 'report' | '--out' | 'demo';

/**
 * What to do instead, by who chose the folder. apply and reconcile take no `--out`: they write
 * `reports/<run id>/` under the folder they run in, so only another folder lets them run
 * (`report --out DIR`, which they said before, writes a run's reports elsewhere and leaves
 * them refused here).
 */
const ELSEWHERE: Record<ReportFolderKind, string> = {
  reports:
    'run the command from another folder, naming this database with --db (it writes reports/<run id>/ under the folder it runs in)',
  report:
    'write the reports elsewhere with `submigrate report --out DIR` (a new or empty folder), or use this database from another folder',
  '--out': 'name a new or empty folder',
  demo: 'give the demo another --out folder',
};

/** Marks a folder as a run's reports: the files in it may be written again, for that run. */
const MARK_FILE = '.submigrate-report';
const MARK_FIRST_LINE =
  'Written by submigrate (apply, report, reconcile); it may replace its report files here.';

const markText = (owner: ReportOwner) =>
  `${MARK_FIRST_LINE}\ndatabase: ${owner.database}\nrun: ${owner.run}\n`;

/** The run of this database whose reports go into a folder. */
export function reportOwner(db: Db, run: number): ReportOwner {
  return { database: databaseId(db), run };
}

/**
 * Makes `dir` a run's report folder, or refuses before anything is written: a new or empty
 * folder, or one that bears the mark of this run. A folder the command chose itself
 * (`reports/<run id>/`, not `--out`) written before marks existed is recognised by holding
 * nothing but what a run's reports are named (in any version, with a killed write's temporary
 * files).
 */
export function claimReportFolder(
  dir: string,
  owner: ReportOwner,
  kind: ReportFolderKind = 'reports',
): void {
  claimFolder(
    dir,
    {
      file: MARK_FILE,
      text: markText(owner),
      refuse: (text) => otherRun(text, owner, kind),
      elsewhere: ELSEWHERE[kind],
    },
    kind === '--out' ? '--out' : 'the reports folder',
    'submigrate',
    kind === '--out' ? () => false : holdsOnlyReports,
  );
}

/**
 * Whether a mark naming no database is the one versions before the database line wrote: its
 * first line alone (an editor may have changed its line ending). Anything else there, an
 * empty file or a note, was put there by hand, and vouches for nothing in the folder.
 */
const isEarlierMark = (text: string): boolean => text.trimEnd() === MARK_FIRST_LINE;

/**
 * A mark naming another database, or another run of this one, is refused: its reports may
 * already be signed, and the folder would mix two runs' files. An earlier version's mark
 * (without those lines) cannot tell, and is accepted as it always was; a mark naming no
 * database that is not one is refused: the files beside it may be anyone's.
 */
function otherRun(text: string, owner: ReportOwner, kind: ReportFolderKind): string | null {
  const database = /^database: (\S+?)\r?$/m.exec(text)?.[1];
  const run = /^run: (\d+)\r?$/m.exec(text)?.[1];
  const advice = `${ELSEWHERE[kind].charAt(0).toUpperCase()}${ELSEWHERE[kind].slice(1)}.`;
  if (database === undefined) {
    return isEarlierMark(text)
      ? null
      : `holds a ${MARK_FILE} that submigrate did not write (it names no database, and is not an ` +
          `earlier version's mark); refusing to write or remove anything there. ${advice}`;
  }
  if (database !== owner.database) {
    return kind === 'demo'
      ? null
      : `holds reports of another database's run; refusing to replace them. ${advice}`;
  }
  if (run !== undefined && Number(run) !== owner.run) {
    return `holds the reports of this database's run ${run}, not run ${owner.run}; refusing to replace them. ${advice}`;
  }
  return null;
}

/** Nothing but report files, report folders and the temporary files of a killed write. */
function holdsOnlyReports(folder: string): boolean {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).every((entry) =>
    isReportPath(entry.split(sep).join('/')),
  );
}

/** Writes a run's report files under `dir` (folders 0700, files 0600); returns their paths. */
export function writeReportFiles(
  dir: string,
  files: readonly ReportFile[],
  owner: ReportOwner,
  kind: ReportFolderKind = 'reports',
): string[] {
  claimReportFolder(dir, owner, kind);
  // A file that cannot be written is named as the user knows it: under --out only when they
  // gave one (apply, reconcile and `report` without it write reports/<run id>/ themselves).
  const label = kind === '--out' ? '--out' : 'the report file';
  const placed = files.flatMap((file) => {
    if (file.content === null) return [];
    const parts = file.path.split('/');
    reportSubfolder(dir, parts.slice(0, -1), kind === '--out' ? '--out' : 'the reports folder');
    return [{ path: join(dir, ...parts), content: file.content }];
  });
  // All or none: the folder never holds some files of this writing beside others of an
  // earlier one; nor a list this writing has not (a customer's list now not known, or not
  // whole and empty), which would read as the list. Only those, by name: a file of the
  // reviewer's in the folder is not the tool's to remove.
  const stale = files.flatMap((file) => {
    if (file.content !== null) return [];
    const parts = file.path.split('/');
    // Never through a link in place of a subfolder: what it leads to is not the reports'.
    const folder = lstatSync(join(dir, ...parts.slice(0, -1)), { throwIfNoEntry: false });
    const path = join(dir, ...parts);
    return folder?.isDirectory() === true && lstatSync(path, { throwIfNoEntry: false })?.isFile()
      ? [path]
      : [];
  });
  // One made read-only (a report handed over) is kept as a report file made so is, and the
  // writing refused before anything is written: removed, it would be gone from the record.
  for (const path of stale) refuseReadOnly(path, label, 'remove');
  writePrivateFiles(placed, label);
  for (const path of stale) rmSync(path);
  return placed.map((file) => file.path);
}

/**
 * The folders a run's reports keep inside their folder (`optouts/`): made private, or, when
 * there, a folder of its own. A link in its place (to a folder elsewhere) is refused: through
 * it the customers' lists would be written into, and replace files of, a folder that is not
 * the reports'.
 */
function reportSubfolder(dir: string, parts: readonly string[], label: string): void {
  let folder = dir;
  for (const part of parts) {
    folder = join(folder, part);
    let stat;
    try {
      stat = lstatSync(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      makeFolder(folder, label);
      continue;
    }
    if (!stat.isDirectory()) {
      throw new UserError(
        `${label} ${folder} is not a folder submigrate made (a link, or a file); refusing to write the reports through it.`,
      );
    }
  }
}
