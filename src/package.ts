/** The installed package: where it lives (for `migrations/`, `plans/`) and its version. */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Manifest {
  name?: string;
  version?: string;
}

let found: { root: string; manifest: Manifest } | undefined;

function locate(): { root: string; manifest: Manifest } {
  if (found !== undefined) return found;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
      if (manifest.name === 'submigrate') return (found = { root: dir, manifest });
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the submigrate package root');
    dir = parent;
  }
}

/** The package's root folder, in a clone or under node_modules. */
export const packageRoot = (): string => locate().root;

export const packageVersion = (): string => locate().manifest.version ?? 'unknown';
