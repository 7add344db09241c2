/**
 * The guard .ci/run runs: a tracked file that refers to a path outside the repository fails
 * it, naming file and line; the repository itself passes.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { ROOT, tempDir } from '../support/snapshot-harness.js';

const SCRIPT = join(ROOT, 'scripts', 'check-standalone.mjs');

function repoWith(files: Record<string, string>) {
  const dir = tempDir('standalone-');
  execFileSync('git', ['init', '-q', dir.path]);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir.path, name, '..'), { recursive: true });
    writeFileSync(join(dir.path, name), text);
  }
  execFileSync('git', ['add', '-A'], { cwd: dir.path });
  return dir;
}

// Built from parts, so that this file does not itself trip the guard it tests.
const UP = '..' + '/';
const SHARED = `${UP}${UP}${UP}shared`;
const BRIEF = `${UP}${UP}shared/${'DESIGN'}.md`;

const check = (root: string) => spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });

describe('scripts/check-standalone.mjs', () => {
  const dirs: { remove(): void }[] = [];
  afterAll(() => dirs.forEach((dir) => dir.remove()));

  it('fails on a tracked file that mentions the shared folder beside the clone, naming file and line', () => {
    const dir = repoWith({
      'README.md': '# ok\n',
      'test/support/specs.ts': `const a = 1;\nconst SPECS = new URL('${SHARED}/twilio-oai/', x);\n`,
      'docs/notes.md': `See ${BRIEF} for more.\n`,
    });
    dirs.push(dir);
    const result = check(dir.path);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`test/support/specs.ts:2: refers to ${SHARED}, outside`);
    expect(result.stderr).toContain(`docs/notes.md:1: refers to ${UP}${UP}shared, outside`);
    expect(result.stderr).toContain("docs/notes.md:1: refers to the team's design brief");
  });

  it('passes relative paths that stay inside the repository', () => {
    const dir = repoWith({
      'test/a.test.ts': "import { x } from '../src/x.js';\n",
      'src/x.ts': 'export const x = 1;\n',
    });
    dirs.push(dir);
    const result = check(dir.path);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('passes this repository', () => {
    const result = check(ROOT);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
