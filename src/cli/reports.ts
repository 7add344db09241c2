import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

import { claimFolder, readHead, writePrivateFile } from '../files.js';
import { isReportFileText, type ReportFile } from '../report/files.js';

/** Marks a folder as a run's reports: the files in it may be written again. */
const REPORT_MARK = {
  file: '.submigrate-report',
  text: 'Written by submigrate (apply, report, reconcile); it may replace its report files here.\n',
};

/**
 * Makes `dir` a run's report folder, or refuses before anything is written: a new or empty
 * folder, or one that already holds a run's reports (marked; or, from before the mark, holding
 * nothing but a run's report files) — never one holding files someone else put there. `label`
 * names the folder in the refusal (`--out`, or the folder a command chose).
 */
export function claimReportFolder(dir: string, label = 'the reports folder'): void {
  claimFolder(dir, REPORT_MARK, label, 'submigrate', writtenBeforeMarks);
}

/** A run's report files and nothing else, each beginning as such a file does. */
function writtenBeforeMarks(folder: string): boolean {
  const entries = readdirSync(folder, { recursive: true, encoding: 'utf8' }).map((entry) =>
    entry.split(sep).join('/'),
  );
  return (
    entries.includes('audit.json') &&
    entries.every((entry) =>
      statSync(join(folder, entry)).isDirectory()
        ? entry === 'optouts'
        : isReportFileText(entry, readHead(join(folder, entry), 2048)),
    )
  );
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
