import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { UserError } from '../src/errors.js';
import {
  claimFolder,
  makeFolder,
  refuseForeignFile,
  tempPrefix,
  writePrivateFile,
  writePrivateFiles,
  type FolderListings,
} from '../src/files.js';
import { tempDir, type TempDir } from './support/snapshot-harness.js';

/** The pid of a process that ran and is gone. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('writePrivateFile and the temporary files of a killed writer', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('removes the half-written temporary file a killed process left beside the target', () => {
    const stale = dir.file(`.audit.csv.${deadPid()}.tmp`);
    writeFileSync(stale, 'customer_id,phone_number\nacme,+1415555');
    writePrivateFile(dir.file('audit.csv'), 'whole\n');
    expect(readdirSync(dir.path)).toEqual(['audit.csv']);
    expect(readFileSync(dir.file('audit.csv'), 'utf8')).toBe('whole\n');
  });

  it('writes where a killed process with this very pid left its temporary file', () => {
    writeFileSync(dir.file(`.audit.csv.${process.pid}.tmp`), 'half');
    writePrivateFile(dir.file('audit.csv'), 'whole\n');
    expect(readdirSync(dir.path)).toEqual(['audit.csv']);
  });

  it('removes every stale temporary file of a batch written with one listing per folder', () => {
    const dead = deadPid();
    mkdirSync(dir.file('optouts'));
    const stale = ['audit.csv', 'optouts.csv', 'optouts/acme.csv', 'optouts/globex.csv'];
    for (const name of stale) {
      const [folder, file] = name.includes('/') ? name.split('/') : ['.', name];
      writeFileSync(dir.file(`${folder}/.${file}.${dead}.tmp`), 'half');
    }
    const listings: FolderListings = new Map();
    writePrivateFiles(
      stale.map((name) => ({ path: dir.file(name), content: `${name}\n` })),
      '--out',
      listings,
    );
    expect(readdirSync(dir.path).sort()).toEqual(['audit.csv', 'optouts', 'optouts.csv']);
    expect(readdirSync(dir.file('optouts')).sort()).toEqual(['acme.csv', 'globex.csv']);
    expect(readFileSync(dir.file('optouts/globex.csv'), 'utf8')).toBe('optouts/globex.csv\n');
    // Each folder was listed once, when its first file was written.
    expect([...listings.keys()].sort()).toEqual([dir.path, dir.file('optouts')].sort());
  });

  it("leaves a running process's temporary file, and other files' ones, alone", async () => {
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const theirs = `.audit.csv.${live.pid}.tmp`;
      const other = `.carry.csv.${deadPid()}.tmp`;
      writeFileSync(dir.file(theirs), 'being written');
      writeFileSync(dir.file(other), 'not this target');
      writePrivateFile(dir.file('audit.csv'), 'whole\n');
      expect(readdirSync(dir.path).sort()).toEqual([theirs, other, 'audit.csv'].sort());
    } finally {
      live.kill();
    }
  });
});

describe('writePrivateFile to a name near NAME_MAX (255 bytes)', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  // Valid names themselves, whose `.NAME.PID.tmp` would be past 255 bytes ("name too long").
  it.each([
    ['ASCII', `${'a'.repeat(250)}.csv`],
    ['two-byte letters', `${'é'.repeat(125)}.csv`],
    ['four-byte emoji', `ab${'\u{1F9B7}'.repeat(62)}.csv`],
  ])('writes a file whose name is 254 bytes of %s, and leaves no temporary file', (_, name) => {
    expect(Buffer.byteLength(name)).toBe(254);
    writePrivateFile(dir.file(name), 'whole\n');
    expect(readdirSync(dir.path)).toEqual([name]);
    expect(readFileSync(dir.file(name), 'utf8')).toBe('whole\n');
    expect(statSync(dir.file(name)).mode & 0o777).toBe(0o600);
  });

  it("removes a killed writer's temporary file of such a target, and no other target's", () => {
    const name = `${'a'.repeat(250)}.csv`;
    const other = `${'a'.repeat(250)}.txt`;
    const prefix = tempPrefix(dir.file(name));
    expect(Buffer.byteLength(`${prefix}4294967295.tmp`)).toBeLessThanOrEqual(255);
    expect(tempPrefix(dir.file(other))).not.toBe(prefix);
    const stale = `${prefix}${deadPid()}.tmp`;
    const theirs = `${tempPrefix(dir.file(other))}${deadPid()}.tmp`;
    writeFileSync(dir.file(stale), 'half');
    writeFileSync(dir.file(theirs), 'not this target');
    writePrivateFile(dir.file(name), 'whole\n');
    expect(readdirSync(dir.path).sort()).toEqual([name, theirs].sort());
  });

  it('keeps the temporary name of a shorter target as it was', () => {
    expect(tempPrefix(dir.file('audit.csv'))).toBe('.audit.csv.');
  });
});

describe('writePrivateFiles and a file made read-only', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('replaces none of the batch, and leaves the read-only file as it was', () => {
    writeFileSync(dir.file('audit.csv'), 'earlier audit\n');
    writeFileSync(dir.file('audit.json'), 'signed off\n');
    chmodSync(dir.file('audit.json'), 0o444);
    expect(() =>
      writePrivateFiles([
        { path: dir.file('audit.csv'), content: 'new audit\n' },
        { path: dir.file('audit.json'), content: 'new\n' },
      ]),
    ).toThrow(UserError);
    expect(readFileSync(dir.file('audit.json'), 'utf8')).toBe('signed off\n');
    expect(readFileSync(dir.file('audit.csv'), 'utf8')).toBe('earlier audit\n');
    expect(readdirSync(dir.path).sort()).toEqual(['audit.csv', 'audit.json']);
  });
});

describe('writePrivateFile under a strict umask', () => {
  let dir: TempDir;
  let umask: number;
  beforeEach(() => {
    dir = tempDir();
    umask = process.umask(0o277);
  });
  afterEach(() => {
    process.umask(umask);
    dir.remove();
  });

  // 0700 masked by 0277 was 0500: a folder no one but root could write the next one into.
  it('makes its folders 0700, parents too', () => {
    makeFolder(dir.file('reports/7/optouts'), 'the reports folder');
    for (const folder of ['reports', 'reports/7', 'reports/7/optouts']) {
      expect(statSync(dir.file(folder)).mode & 0o777, folder).toBe(0o700);
    }
  });

  // 0600 masked by 0277 was 0400: the tool's own file, read-only, refused the next time.
  it('writes its file 0600, and replaces it the next time', () => {
    writePrivateFile(dir.file('plan.json'), 'first\n');
    expect(statSync(dir.file('plan.json')).mode & 0o777).toBe(0o600);
    writePrivateFile(dir.file('plan.json'), 'second\n');
    expect(readFileSync(dir.file('plan.json'), 'utf8')).toBe('second\n');
  });
});

describe('claimFolder and the mark of a killed writer', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  // Killed as it wrote the mark into the folder it had just made: the folder held only the
  // mark's temporary file, and was refused as holding files the tool did not write.
  it("claims a folder holding nothing but its mark's temporary file, and removes that", () => {
    const folder = dir.file('reports');
    mkdirSync(folder);
    writeFileSync(`${folder}/..mark.${deadPid()}.tmp`, 'Written by subm');
    claimFolder(folder, { file: '.mark', text: 'Written by submigrate\n' }, '--out', 'submigrate');
    expect(readdirSync(folder)).toEqual(['.mark']);
    expect(readFileSync(`${folder}/.mark`, 'utf8')).toBe('Written by submigrate\n');
  });

  // Taken for the tool's by its name alone, someone's file so named had the folder claimed and
  // was removed as the mark was written.
  it("refuses a folder holding someone's file by such a name, and leaves it there", () => {
    const folder = dir.file('reports');
    mkdirSync(folder);
    const name = `..mark.${deadPid()}.tmp`;
    const theirs = `${folder}/${name}`;
    writeFileSync(theirs, 'my own notes, named as I please');
    expect(() =>
      claimFolder(
        folder,
        { file: '.mark', text: 'Written by submigrate\n' },
        '--out',
        'submigrate',
      ),
    ).toThrow(/already holds files submigrate did not write/);
    expect(readdirSync(folder)).toEqual([name]);
    expect(readFileSync(theirs, 'utf8')).toBe('my own notes, named as I please');
  });

  it('claims a folder whose temporary mark names another run, as a mark of any run would', () => {
    const folder = dir.file('reports');
    mkdirSync(folder);
    writeFileSync(`${folder}/..mark.${deadPid()}.tmp`, 'Written by submigrate\nrun: 1\n');
    claimFolder(folder, { file: '.mark', text: 'Written by submigrate\nrun: 2\n' }, '--out', 'x');
    expect(readdirSync(folder)).toEqual(['.mark']);
  });

  // Taken for a killed writer's whatever its pid, the temporary mark of another command
  // claiming the same new folder at that moment let both claim it: that one's mark then
  // replaced this one's, and the two runs' reports were written side by side.
  it('refuses a folder whose mark a running process is writing, and leaves its file alone', () => {
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const folder = dir.file('reports');
      mkdirSync(folder);
      const theirs = `..mark.${live.pid}.tmp`;
      writeFileSync(`${folder}/${theirs}`, 'Written by submigrate\nrun: 1\n');
      expect(() =>
        claimFolder(
          folder,
          { file: '.mark', text: 'Written by submigrate\nrun: 2\n' },
          '--out',
          'x',
        ),
      ).toThrow(
        new UserError(
          `--out ${folder} is being claimed by another process (pid ${live.pid}, writing ${theirs} there) as this one runs; nothing was written there. Let that command finish, or name another folder.`,
        ),
      );
      expect(readdirSync(folder)).toEqual([theirs]);
    } finally {
      live.kill();
    }
  });

  // A killed writer's pid may be a program's by now: its file, long unwritten, is a leftover.
  it('claims a folder whose temporary mark is old, though its pid runs again', () => {
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const folder = dir.file('reports');
      mkdirSync(folder);
      const leftover = `${folder}/..mark.${live.pid}.tmp`;
      writeFileSync(leftover, 'Written by submigrate\nrun: 1\n');
      const twoMinutesAgo = new Date(Date.now() - 120_000);
      utimesSync(leftover, twoMinutesAgo, twoMinutesAgo);
      claimFolder(folder, { file: '.mark', text: 'Written by submigrate\nrun: 2\n' }, '--out', 'x');
      expect(readFileSync(`${folder}/.mark`, 'utf8')).toBe('Written by submigrate\nrun: 2\n');
    } finally {
      live.kill();
    }
  });

  it("still refuses a folder holding someone's file beside such a temporary file", () => {
    const folder = dir.file('reports');
    mkdirSync(folder);
    writeFileSync(`${folder}/..mark.${deadPid()}.tmp`, 'Written by subm');
    writeFileSync(`${folder}/notes.txt`, 'mine');
    expect(() =>
      claimFolder(folder, { file: '.mark', text: 'x\n' }, '--out', 'submigrate'),
    ).toThrow(/already holds files submigrate did not write/);
    expect(readFileSync(`${folder}/notes.txt`, 'utf8')).toBe('mine');
  });
});

describe('refuseForeignFile and a symbolic link', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  const isPlan = (head: string) => head.startsWith('{"format"');

  // The rename that puts a new file in place replaces the link itself with a file: the link
  // (to a plan the tool wrote, or to where no file is yet) is someone's, and was lost.
  it.each([
    ['a plan the tool wrote', true],
    ['where no file is yet', false],
  ])('a link to %s is refused, left as it was', (_, targetExists) => {
    const target = dir.file('shared.plan.json');
    if (targetExists) writeFileSync(target, '{"format":1}\n');
    const link = dir.file('move.plan.json');
    symlinkSync(target, link);
    expect(() => refuseForeignFile(link, '--out', 'a plan file', isPlan)).toThrow(
      new UserError(
        `--out ${link} is a symbolic link; refusing to replace it (it is left as it was, and so is what it leads to; nothing was written). Name the file itself, or a new one.`,
      ),
    );
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(existsSync(target)).toBe(targetExists);
  });

  it('the file a link leads to is taken as it is named itself', () => {
    const target = dir.file('shared.plan.json');
    writeFileSync(target, '{"format":1}\n');
    expect(() => refuseForeignFile(target, '--out', 'a plan file', isPlan)).not.toThrow();
  });
});
