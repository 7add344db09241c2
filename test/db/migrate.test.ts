import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Clock } from '../../src/clock.js';
import {
  APPLICATION_ID,
  inspect,
  openDatabase,
  withDb,
  type Db,
  type DbLocation,
} from '../../src/db/open.js';
import { migrate, readMigrations } from '../../src/db/migrate.js';
import { UserError } from '../../src/errors.js';

const REPO_MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

const fixedClock = (iso: string): Clock => ({ now: () => new Date(iso) });
const CLOCK = fixedClock('2024-01-01T00:00:00.000Z');

const M001 = 'CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n';
const M002 =
  "ALTER TABLE people ADD COLUMN phone TEXT;\nINSERT INTO people (name, phone) VALUES ('Ada', '+14155550100');\n";
const M003 =
  'CREATE TABLE notes (id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL REFERENCES people (id));\n';

let root: string;
let migrationsDir: string;
let dbPath: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'submigrate-migrate-'));
  migrationsDir = join(root, 'migrations');
  mkdirSync(migrationsDir);
  dbPath = join(root, 'state.db');
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function writeMigration(name: string, sql: string): void {
  writeFileSync(join(migrationsDir, name), sql);
}

function location(clock: Clock = CLOCK): DbLocation {
  return { path: dbPath, migrationsDir, clock };
}

function recorded(db: Db): { version: number; name: string; applied_at: string }[] {
  return db
    .prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
    .all() as { version: number; name: string; applied_at: string }[];
}

function tables(db: Db): string[] {
  return (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((row) => row.name);
}

/** Runs `fn` and returns what it threw (failing the test if it did not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('readMigrations', () => {
  it('reads NNN_slug.sql files in order, with their SHA-256, ignoring other files', () => {
    writeMigration('002_add_phone.sql', M002);
    writeMigration('001_init.sql', M001);
    writeFileSync(join(migrationsDir, 'README.md'), '# not a migration');

    expect(readMigrations(migrationsDir)).toEqual([
      {
        version: 1,
        name: '001_init.sql',
        sql: M001,
        checksum: createHash('sha256').update(M001).digest('hex'),
      },
      {
        version: 2,
        name: '002_add_phone.sql',
        sql: M002,
        checksum: createHash('sha256').update(M002).digest('hex'),
      },
    ]);
  });

  it('an empty directory has no migrations', () => {
    expect(readMigrations(migrationsDir)).toEqual([]);
  });

  it.each(['1_init.sql', '0001_init.sql', '001-init.sql', '001_Init.sql', '001_.sql', 'init.sql'])(
    'refuses a badly named file %s',
    (name) => {
      writeMigration('001_init.sql', M001);
      writeMigration(name, M002);
      const error = thrown(() => readMigrations(migrationsDir));
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toContain(name);
      expect((error as Error).message).toContain('NNN_slug.sql');
    },
  );

  it('refuses a gap in the numbering', () => {
    writeMigration('001_init.sql', M001);
    writeMigration('003_notes.sql', M003);
    const error = thrown(() => readMigrations(migrationsDir));
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('003_notes.sql');
    expect((error as Error).message).toContain('without gaps');
  });

  it('refuses numbering that does not start at 001', () => {
    writeMigration('002_add_phone.sql', M002);
    expect(() => readMigrations(migrationsDir)).toThrow(UserError);
  });

  it('refuses two migrations with the same number', () => {
    writeMigration('001_init.sql', M001);
    writeMigration('001_again.sql', M003);
    expect(() => readMigrations(migrationsDir)).toThrow(UserError);
  });
});

describe('migrate', () => {
  it('applies migrations in order, once', () => {
    writeMigration('001_init.sql', M001);
    writeMigration('002_add_phone.sql', M002);
    const db = new Database(':memory:');
    try {
      expect(migrate(db, readMigrations(migrationsDir), ':memory:', CLOCK)).toBe(2);
      expect(db.prepare('SELECT name, phone FROM people').all()).toEqual([
        { name: 'Ada', phone: '+14155550100' },
      ]);
      expect(recorded(db)).toEqual([
        { version: 1, name: '001_init.sql', applied_at: '2024-01-01T00:00:00Z' },
        { version: 2, name: '002_add_phone.sql', applied_at: '2024-01-01T00:00:00Z' },
      ]);

      expect(migrate(db, readMigrations(migrationsDir), ':memory:', CLOCK)).toBe(0);
      expect(db.prepare('SELECT count(*) AS n FROM people').get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('applies only the new migrations on a later open', () => {
    writeMigration('001_init.sql', M001);
    openDatabase(location()).close();

    writeMigration('002_add_phone.sql', M002);
    writeMigration('003_notes.sql', M003);
    const db = openDatabase(location(fixedClock('2024-02-02T02:02:02.000Z')));
    try {
      expect(recorded(db)).toEqual([
        { version: 1, name: '001_init.sql', applied_at: '2024-01-01T00:00:00Z' },
        { version: 2, name: '002_add_phone.sql', applied_at: '2024-02-02T02:02:02Z' },
        { version: 3, name: '003_notes.sql', applied_at: '2024-02-02T02:02:02Z' },
      ]);
      expect(migrate(db, readMigrations(migrationsDir), dbPath, CLOCK)).toBe(0);
    } finally {
      db.close();
    }
  });

  it('a second open applies nothing', () => {
    writeMigration('001_init.sql', M001);
    writeMigration('002_add_phone.sql', M002);
    openDatabase(location()).close();
    const db = openDatabase(location(fixedClock('2030-01-01T00:00:00.000Z')));
    try {
      expect(recorded(db).map((row) => row.applied_at)).toEqual([
        '2024-01-01T00:00:00Z',
        '2024-01-01T00:00:00Z',
      ]);
      expect(db.prepare('SELECT count(*) AS n FROM people').get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('refuses a migration edited after it was applied, naming the file', () => {
    writeMigration('001_init.sql', M001);
    writeMigration('002_add_phone.sql', M002);
    openDatabase(location()).close();

    writeMigration('002_add_phone.sql', `${M002}-- a harmless comment is still an edit\n`);
    const error = thrown(() => openDatabase(location()));
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('002_add_phone.sql');
    expect((error as Error).message).toContain('edited');
    expect((error as Error).message).toContain(dbPath);
  });

  it('refuses a database that recorded a migration whose file is gone', () => {
    writeMigration('001_init.sql', M001);
    writeMigration('002_add_phone.sql', M002);
    openDatabase(location()).close();

    unlinkSync(join(migrationsDir, '002_add_phone.sql'));
    const error = thrown(() => openDatabase(location()));
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('002_add_phone.sql');
  });

  // A newer submigrate's database: another migration numbered as one of ours was told as an
  // edit of ours ("Migrations are never edited; add a new one"), which sends the user to look
  // for an edit no one made.
  it.each([
    [
      'a migration numbered after ours',
      "INSERT INTO schema_migrations VALUES (3, '003_newer.sql', 'cd34', '2030-01-01T00:00:00Z')",
      '003_newer.sql',
      '',
    ],
    [
      'another migration of one of our numbers',
      "UPDATE schema_migrations SET name = '002_other.sql', checksum = 'ab12' WHERE version = 2",
      '002_other.sql',
      ' (its migration 002_add_phone.sql is another)',
    ],
  ])('refuses a database with %s as not known, leaving it as it was', (_, newer, name, ours) => {
    writeMigration('001_init.sql', M001);
    writeMigration('002_add_phone.sql', M002);
    openDatabase(location()).close();
    const db = new Database(dbPath);
    db.exec(newer);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = readFileSync(dbPath);

    const error = thrown(() => openDatabase(location()));
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      `${dbPath}: the database has migration ${name}, which this version of submigrate does not know${ours}: a newer or another submigrate wrote it. Use the submigrate that wrote it; the database was not changed.`,
    );
    expect(readFileSync(dbPath).equals(bytes)).toBe(true);
  });

  it('leaves nothing of a failing migration half-applied', () => {
    writeMigration('001_init.sql', M001);
    writeMigration(
      '002_broken.sql',
      "CREATE TABLE half (id INTEGER);\nINSERT INTO people (name) VALUES ('Bob');\nINSERT INTO no_such_table VALUES (1);\n",
    );
    expect(() => openDatabase(location())).toThrow(/no_such_table/);

    const db = new Database(dbPath, { readonly: true });
    try {
      expect(tables(db)).toEqual(['people', 'schema_migrations']);
      expect(db.prepare('SELECT count(*) AS n FROM people').get()).toEqual({ n: 0 });
      expect(recorded(db).map((row) => row.name)).toEqual(['001_init.sql']);
    } finally {
      db.close();
    }

    // Fixed (it was never applied, so it may still change), it applies.
    writeMigration('002_broken.sql', "INSERT INTO people (name) VALUES ('Bob');\n");
    const fixed = openDatabase(location());
    try {
      expect(recorded(fixed).map((row) => row.name)).toEqual(['001_init.sql', '002_broken.sql']);
      expect(fixed.prepare('SELECT name FROM people').all()).toEqual([{ name: 'Bob' }]);
    } finally {
      fixed.close();
    }
  });

  // A process killed inside a migration (a table rebuilt, say, of a large ledger): SQLite rolls
  // its transaction back, and the next open applies it whole, not stuck half way.
  it('after a process killed inside a migration, opens and applies it again', async () => {
    writeMigration('001_init.sql', M001);
    openDatabase(location()).close();
    // Long enough to be killed in: rows written until the process is gone.
    writeMigration(
      '002_slow.sql',
      "ALTER TABLE people ADD COLUMN phone TEXT;\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)\nINSERT INTO people (name) SELECT 'p' || i FROM n;\n",
    );
    const open = new URL('../../dist/src/db/open.js', import.meta.url).href;
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { openDatabase } from ${JSON.stringify(open)};
         openDatabase({ path: ${JSON.stringify(dbPath)}, migrationsDir: ${JSON.stringify(migrationsDir)}, clock: { now: () => new Date() } });`,
      ],
      { stdio: 'ignore' },
    );
    const ended = new Promise((resolve) => child.on('exit', resolve));
    try {
      // Killed once the migration has written pages of its transaction to the -wal file.
      while (!existsSync(`${dbPath}-wal`) || statSync(`${dbPath}-wal`).size < 4 << 20) {
        if (child.exitCode !== null)
          throw new Error(`the migrating process ended (${child.exitCode})`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      // Never left running: its migration has no end.
      child.kill('SIGKILL');
      await ended;
    }

    writeMigration('002_slow.sql', M002);
    const db = openDatabase(location());
    try {
      expect(recorded(db).map((row) => row.name)).toEqual(['001_init.sql', '002_slow.sql']);
      expect(db.prepare('SELECT name, phone FROM people').all()).toEqual([
        { name: 'Ada', phone: '+14155550100' },
      ]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });

  it('stops at the failing migration: earlier ones stay applied, later ones are not run', () => {
    writeMigration('001_init.sql', M001);
    writeMigration('002_broken.sql', 'THIS IS NOT SQL;\n');
    writeMigration('003_notes.sql', M003);
    expect(() => openDatabase(location())).toThrow();
    const db = new Database(dbPath, { readonly: true });
    try {
      expect(tables(db)).toEqual(['people', 'schema_migrations']);
    } finally {
      db.close();
    }
  });
});

describe('openDatabase', () => {
  let savedUmask: number;

  beforeEach(() => {
    savedUmask = process.umask();
    writeMigration('001_init.sql', M001);
  });

  afterEach(() => {
    process.umask(savedUmask);
  });

  it('creates the database file with mode 0600, even with a permissive umask', () => {
    process.umask(0o000);
    const db = openDatabase(location());
    try {
      expect(statSync(dbPath).mode & 0o777).toBe(0o600);
      // SQLite gives its side files the database file's mode.
      for (const side of [`${dbPath}-wal`, `${dbPath}-shm`]) {
        if (existsSync(side)) expect(statSync(side).mode & 0o777).toBe(0o600);
      }
    } finally {
      db.close();
    }
    expect(statSync(dbPath).mode & 0o777).toBe(0o600);
  });

  it('tightens an existing submigrate database loosened to 0644 back to 0600', () => {
    process.umask(0o022);
    openDatabase(location()).close();
    chmodSync(dbPath, 0o644);
    expect(statSync(dbPath).mode & 0o777).toBe(0o644);

    openDatabase(location()).close();
    expect(statSync(dbPath).mode & 0o777).toBe(0o600);
  });

  it('marks the database as ours in its header (application_id)', () => {
    openDatabase(location()).close();
    const header = readFileSync(dbPath).subarray(0, 100);
    expect(header.readUInt32BE(68)).toBe(APPLICATION_ID);
  });

  it.each([
    ['a text file', () => writeFileSync(dbPath, 'root:x:0:0:root:/root:/bin/bash\n')],
    ['an empty file', () => writeFileSync(dbPath, '')],
    [
      "another program's SQLite database",
      () => {
        const other = new Database(dbPath);
        other.exec('CREATE TABLE accounts (id INTEGER); INSERT INTO accounts VALUES (1);');
        other.close();
      },
    ],
    [
      "another program's SQLite database in WAL mode",
      () => {
        const other = new Database(dbPath);
        other.pragma('journal_mode = WAL');
        other.exec('CREATE TABLE accounts (id INTEGER); INSERT INTO accounts VALUES (1);');
        other.close();
      },
    ],
  ])('refuses %s, leaving its bytes and mode exactly as they were', (_, make) => {
    make();
    chmodSync(dbPath, 0o644);
    const before = readFileSync(dbPath);
    const error = thrown(() => openDatabase(location()));
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('is not a submigrate database');
    expect(statSync(dbPath).mode & 0o777).toBe(0o644);
    expect(readFileSync(dbPath).equals(before)).toBe(true);
    // Nothing made beside it either: no -wal, no -shm.
    expect(existsSync(`${dbPath}-wal`)).toBe(false);
    expect(existsSync(`${dbPath}-shm`)).toBe(false);
  });

  it('refuses a folder, and a path in a folder that does not exist, creating nothing', () => {
    const asFolder = thrown(() => openDatabase({ ...location(), path: migrationsDir }));
    expect(asFolder).toBeInstanceOf(UserError);
    expect((asFolder as Error).message).toMatch(/is a folder/);
    const missing = join(migrationsDir, 'no-such-folder', 'x.db');
    const error = thrown(() => openDatabase({ ...location(), path: missing }));
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/does not exist/);
    expect(existsSync(dirname(missing))).toBe(false);
  });

  it('refuses a link to a file that does not exist, naming it, and creates nothing', () => {
    const target = join(root, 'gone', 'state.db');
    symlinkSync(target, dbPath);
    const error = thrown(() => openDatabase(location()));
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      `--db ${dbPath} is a link to ${target}, which does not exist; name the database file itself.`,
    );
    expect(existsSync(target)).toBe(false);
    expect(lstatSync(dbPath).isSymbolicLink()).toBe(true);
  });

  it("mode 'existing' refuses a missing database and creates nothing", () => {
    const error = thrown(() =>
      openDatabase(location(), { mode: 'existing', missingAdvice: 'Run snapshot first.' }),
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(`no database at ${dbPath}. Run snapshot first.`);
    expect(existsSync(dbPath)).toBe(false);
  });

  it('adopts a database written before the mark existed, and marks it', () => {
    const legacy = new Database(dbPath);
    migrate(legacy, readMigrations(migrationsDir), dbPath, CLOCK);
    legacy.close();
    expect(readFileSync(dbPath).readUInt32BE(68)).toBe(0);
    openDatabase(location()).close();
    expect(readFileSync(dbPath).readUInt32BE(68)).toBe(APPLICATION_ID);
  });

  it('adopts such a database in WAL mode too (as submigrate wrote them)', () => {
    const legacy = new Database(dbPath);
    legacy.pragma('journal_mode = WAL');
    migrate(legacy, readMigrations(migrationsDir), dbPath, CLOCK);
    legacy.close();
    expect(readFileSync(dbPath).readUInt32BE(68)).toBe(0);
    openDatabase(location()).close();
    expect(readFileSync(dbPath).readUInt32BE(68)).toBe(APPLICATION_ID);
  });

  // Read into memory whole, one over 2 GiB (Node's limit) was taken for someone else's.
  it('adopts such a database larger than memory reads, making nothing beside it', () => {
    const legacy = new Database(dbPath);
    migrate(legacy, readMigrations(migrationsDir), dbPath, CLOCK);
    legacy.close();
    // Sparse: no disk used. SQLite reads the pages its header counts.
    truncateSync(dbPath, 2 ** 31 + (1 << 20));
    expect(inspect(dbPath, migrationsDir)).toBe('legacy');
    expect(existsSync(`${dbPath}-wal`)).toBe(false);
    expect(existsSync(`${dbPath}-shm`)).toBe(false);
    expect(existsSync(`${dbPath}-journal`)).toBe(false);
  });

  // Another tool's database, whose migration record happens to look like ours by name (and
  // lacks our checksum column): taken for ours, it was marked, switched to WAL and made 0600,
  // then an internal error.
  it.each([
    ['with no checksum column', 'version INTEGER PRIMARY KEY, name TEXT', "(1, '001_init.sql')"],
    [
      'with another checksum',
      'version INTEGER PRIMARY KEY, name TEXT, checksum TEXT, applied_at TEXT',
      "(1, '001_init.sql', 'ab12', '2024-01-01')",
    ],
  ])(
    "refuses another tool's database recording a migration named 001_init.sql %s, untouched",
    (_, columns, row) => {
      const other = new Database(dbPath);
      other.exec(`CREATE TABLE schema_migrations (${columns}); CREATE TABLE users (name TEXT);`);
      other.exec(`INSERT INTO schema_migrations VALUES ${row}`);
      other.close();
      chmodSync(dbPath, 0o644);
      const bytes = readFileSync(dbPath);
      const error = thrown(() => openDatabase(location()));
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(
        /is not a submigrate database; refusing to touch it/,
      );
      expect(readFileSync(dbPath).equals(bytes)).toBe(true);
      expect(statSync(dbPath).mode & 0o777).toBe(0o644);
      expect(readdirSync(root).filter((f) => f.startsWith('state.db'))).toEqual(['state.db']);
    },
  );

  it('opens in WAL mode with foreign keys on', () => {
    writeMigration('002_add_phone.sql', M002);
    writeMigration('003_notes.sql', M003);
    const db = openDatabase(location());
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(() => db.prepare('INSERT INTO notes (person_id) VALUES (999)').run()).toThrow(
        /FOREIGN KEY/,
      );
    } finally {
      db.close();
    }
  });

  it('closes the connection when migrating fails', () => {
    writeMigration('001_init.sql', 'NOT SQL AT ALL;\n');
    expect(() => openDatabase(location())).toThrow();
    // A connection left open would hold the WAL files; after a clean close they are gone.
    expect(existsSync(`${dbPath}-wal`)).toBe(false);
  });
});

describe('withDb', () => {
  beforeEach(() => {
    writeMigration('001_init.sql', M001);
  });

  it('opens, migrates, runs the callback and closes', async () => {
    let seen: Db | undefined;
    const names = await withDb(location(), (db) => {
      seen = db;
      db.prepare("INSERT INTO people (name) VALUES ('Ada')").run();
      return db.prepare('SELECT name FROM people').pluck().all();
    });
    expect(names).toEqual(['Ada']);
    expect(seen?.open).toBe(false);
  });

  it('awaits an async callback before closing', async () => {
    let seen: Db | undefined;
    const result = await withDb(location(), async (db) => {
      seen = db;
      await new Promise((resolve) => setImmediate(resolve));
      expect(db.open).toBe(true);
      return 'done';
    });
    expect(result).toBe('done');
    expect(seen?.open).toBe(false);
  });

  it('closes the database even when the callback throws', async () => {
    let seen: Db | undefined;
    const boom = new Error('boom');
    await expect(
      withDb(location(), (db) => {
        seen = db;
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(seen?.open).toBe(false);
  });

  it('closes the database even when an async callback rejects', async () => {
    let seen: Db | undefined;
    await expect(
      withDb(location(), async (db) => {
        seen = db;
        await Promise.resolve();
        throw new Error('later');
      }),
    ).rejects.toThrow('later');
    expect(seen?.open).toBe(false);
  });
});

describe("the repo's own migrations", () => {
  it('apply cleanly to a fresh database, once', () => {
    const files = readdirSync(REPO_MIGRATIONS).filter((file) => file.endsWith('.sql'));
    expect(files.length).toBeGreaterThan(0);
    const repo: DbLocation = { path: dbPath, migrationsDir: REPO_MIGRATIONS, clock: CLOCK };

    const db = openDatabase(repo);
    try {
      expect(recorded(db).map((row) => row.name)).toEqual(files.sort());
      expect(tables(db)).toEqual(
        expect.arrayContaining(['ledger_events', 'numbers', 'snapshot_runs', 'schema_migrations']),
      );
      expect(db.pragma('foreign_key_check')).toEqual([]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(migrate(db, readMigrations(REPO_MIGRATIONS), dbPath, CLOCK)).toBe(0);
    } finally {
      db.close();
    }
  });
});
