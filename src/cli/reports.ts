import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { claimFolder, writePrivateFile } from '../files.js';
import type { ReportFile } from '../report/files.js';

/** Marks a folder as a run's reports: the files in it may be written again. */
const REPORT_MARK = {
  file: '.submigrate-report',
  text: 'Written by submigrate (apply, report, reconcile); it may replace its report files here.\n',
};

/**
 * Writes a run's report files under `dir` (folders 0700, files 0600); returns their paths.
 * Into a new or empty folder, or one that already holds a run's reports: never over files
 * someone else put there.
 */
export function writeReportFiles(dir: string, files: readonly ReportFile[]): string[] {
  claimFolder(dir, REPORT_MARK, '--out', 'submigrate');
  return files.map((file) => {
    const path = join(dir, ...file.path.split('/'));
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writePrivateFile(path, file.content, '--out');
    return path;
  });
}
