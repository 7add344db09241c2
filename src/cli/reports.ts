import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { writePrivateFile } from '../files.js';
import type { ReportFile } from '../report/files.js';

/** Writes a run's report files under `dir` (folders 0700, files 0600); returns their paths. */
export function writeReportFiles(dir: string, files: readonly ReportFile[]): string[] {
  return files.map((file) => {
    const path = join(dir, ...file.path.split('/'));
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writePrivateFile(path, file.content, '--out');
    return path;
  });
}
