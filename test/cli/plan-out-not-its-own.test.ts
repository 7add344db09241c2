/**
 * `plan --out` replaces only a plan (docs/commands.md): not the database, and not a file that
 * appeared at the path while the plan read the account. The path was checked only before the
 * read, which takes minutes on a large account, and a database the plan itself made there
 * (`--db` and `--out` the same new file) was replaced by the plan at its end, exit 0.
 * Needs `npm run build`.
 */

import {
  chmodSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { startCliHeld } from '../support/snapshot-harness.js';

const A = '+14155550101';

describe('plan --out, a file that is not a plan', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: A }] });
  const { cli } = ws;

  beforeAll(async () => {
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
  });

  it('--out the same new file as --db: refused, and the database is not replaced by a plan', async () => {
    const same = ws.dir.file('same.json');
    const result = await cli(['plan', '--mapping', 'm.csv', '--db', same, '--out', same]);
    expect(result.stderr).toMatch(/^error: --out same\.json is the database \(--db\)/);
    expect(result.code).toBe(1);
    // Whatever is at the path, it is no plan that took the database's place.
    const status = await cli(['status', '--db', same]);
    expect(status.stderr).not.toMatch(/is not a submigrate database/);
  });

  it('a file written at --out while the plan reads the account is left as it was', async () => {
    const out = ws.dir.file('p.plan.json');
    // The plan's second request is held until the file is there.
    const args = ['plan', '--mapping', 'm.csv', '--db', ws.dir.file('p.db'), '--out', out];
    const running = await startCliHeld(ws.env, args, ws.dir.path, { after: 1, methods: ['GET'] });
    try {
      writeFileSync(out, 'notes of the review, saved here meanwhile\n');
    } finally {
      await ws.env.control('POST', '/__emulator/faults', { hold_after: 0, hold_methods: [] });
    }
    const result = await running.done;
    expect(readFileSync(out, 'utf8')).toBe('notes of the review, saved here meanwhile\n');
    expect(result.stderr).toMatch(/--out .*p\.plan\.json exists and is not a plan file/);
    expect(result.code).toBe(1);
  });

  it('an earlier plan made read-only (signed off): refused before any request, left as it was', async () => {
    const out = ws.dir.file('signed.plan.json');
    const args = ['plan', '--mapping', 'm.csv', '--db', ws.dir.file('s.db'), '--out', out];
    const first = await cli(args);
    expect(first.code, first.stderr).toBe(0);
    chmodSync(out, 0o444);
    const signed = readFileSync(out, 'utf8');
    await clearRequestLog(ws.env);
    const again = await cli(args);
    expect(again.stderr).toMatch(
      /^error: --out .*signed\.plan\.json is read-only; refusing to replace it/,
    );
    expect(again.code).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe(signed);
    expect(await requestLog(ws.env)).toEqual([]);
  });

  it('a link to an earlier plan: refused before any request, the link and its plan left as they were', async () => {
    const shared = ws.dir.file('shared.plan.json');
    const args = ['plan', '--mapping', 'm.csv', '--db', ws.dir.file('l.db')];
    const first = await cli([...args, '--out', shared]);
    expect(first.code, first.stderr).toBe(0);
    const earlier = readFileSync(shared, 'utf8');
    const link = ws.dir.file('link.plan.json');
    symlinkSync(shared, link);
    await clearRequestLog(ws.env);
    const again = await cli([...args, '--out', link]);
    expect(again.stderr).toMatch(
      /^error: --out .*link\.plan\.json is a symbolic link; refusing to replace it \(it is left as it was, and so is what it leads to; nothing was written\)/,
    );
    expect(again.code).toBe(1);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(shared);
    expect(readFileSync(shared, 'utf8')).toBe(earlier);
    expect(await requestLog(ws.env)).toEqual([]);
  });
});
