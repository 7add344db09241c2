#!/usr/bin/env node
// The repository stands alone: no tracked file may refer to a path outside it (a sibling
// `../shared/…` folder, a developer's absolute path) or to the team's design brief, which a
// user's clone never has. Run by .ci/run; `node scripts/check-standalone.mjs [ROOT]`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file !== '');

// Upstream data copied whole, and the lock file: not ours to word.
const SKIP = [/^test\/twilio-oai\/.*\.json$/, /^package-lock\.json$/];
// One or more parent-folder steps followed by a name: resolved from where the file sits.
const RELATIVE = /(?:\.\.\/)+[A-Za-z0-9_.@-]*/g;
const FORBIDDEN = [
  [/\/work\/(?:shared|main)\b/, 'an absolute path on a developer machine'],
  [/\bDESIGN(?:\.md| §)/, "the team's design brief (not in the repository)"],
];

const problems = [];
for (const file of files) {
  if (SKIP.some((pattern) => pattern.test(file))) continue;
  let text;
  try {
    text = readFileSync(resolve(root, file), 'utf8');
  } catch {
    continue;
  }
  if (text.includes('\0')) continue; // binary
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    for (const match of line.matchAll(RELATIVE)) {
      const target = resolve(root, dirname(file), match[0]);
      const inside = relative(root, target);
      if (inside.startsWith('..') || isAbsolute(inside)) {
        problems.push(`${file}:${index + 1}: refers to ${match[0]}, outside the repository`);
      }
    }
    for (const [pattern, what] of FORBIDDEN) {
      if (pattern.test(line)) problems.push(`${file}:${index + 1}: refers to ${what}`);
    }
  });
}

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  console.error(`${problems.length} reference(s) to paths outside the repository`);
  process.exit(1);
}
console.log(`standalone: ${files.length} tracked files refer to nothing outside the repository`);
