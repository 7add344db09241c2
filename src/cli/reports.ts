import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { claimFolder, readHead, writePrivateFile } from '../files.js';
import { isAuditText } from '../report/audit.js';
import type { ReportFile } from '../report/files.js';

/** Marks a folder as a run's reports: the files in it may be written again. */
const REPORT_MARK = {
  file: '.submigrate-report',
  text: 'Written by submigrate (apply, report, reconcile); it may replace its report files here.\n',
};

/**
 * Makes `dir` a run's report folder, or refuses before anything is written: a new or empty
 * folder, or one that already holds a run's reports (marked; or, from before the mark, with
 * the audit.json of a run) — never one holding files someone else put there. `label` names
 * the folder in the refusal (`--out`, or the folder a command chose).
 */
export function claimReportFolder(dir: string, label = 'the reports folder'): void {
  claimFolder(dir, REPORT_MARK, label, 'submigrate', (folder) => {
    const audit = join(folder, 'audit.json');
    return existsSync(audit) && isAuditText(readHead(audit));
  });
}

/** Writes a run's report files under `dir` (folders 0700, files 0600); returns their paths. */
export function writeReportFiles(
  dir: string,
  files: readonly ReportFile[],
  label?: string,
): string[] {
  claimReportFolder(dir, label);
  return files.map((file) => {
    const path = join(dir, ...file.path.split('/'));
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writePrivateFile(path, file.content, '--out');
    return path;
  });
}
