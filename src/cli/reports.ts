import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

import { claimFolder, writePrivateFile } from '../files.js';
import { isReportPath, type ReportFile } from '../report/files.js';

/** Marks a folder as a run's reports: the files in it may be written again. */
const REPORT_MARK = {
  file: '.submigrate-report',
  text: 'Written by submigrate (apply, report, reconcile); it may replace its report files here.\n',
};

/**
 * Makes `dir` a run's report folder, or refuses before anything is written: a new or empty
 * folder, or one that bears the mark. A folder the command chose itself (`reports/<run id>/`,
 * not `--out`) written before marks existed is recognised by holding nothing but what a run's
 * reports are named (in any version, with a killed write's temporary files).
 */
export function claimReportFolder(dir: string, out?: '--out'): void {
  claimFolder(
    dir,
    REPORT_MARK,
    out ?? 'the reports folder',
    'submigrate',
    out === undefined ? holdsOnlyReports : () => false,
  );
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
  out?: '--out',
): string[] {
  claimReportFolder(dir, out);
  return files.map((file) => {
    const path = join(dir, ...file.path.split('/'));
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writePrivateFile(path, file.content, '--out');
    return path;
  });
}
