/**
 * The ledger's verdicts on a real SQLite file: ties within a second go to the opt-out (and
 * are counted), evidence without a date is kept apart and reported, and coverage names the
 * spans of an account's history nobody read.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  countTiesResolvedAsOptOut,
  currentOptOuts,
  insertEvents,
  type LedgerEvent,
} from '../../src/db/ledger.js';
import type { Db } from '../../src/db/open.js';
import { createRun, finishRun, recordHistoryStart } from '../../src/db/snapshot-runs.js';
import { exportOptOuts, readCoverage } from '../../src/optouts/export.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const ACCOUNT = `AC${'a'.repeat(32)}`;
const NUMBER = '+14155550100';

let sid = 0;
function event(overrides: Partial<LedgerEvent>): LedgerEvent {
  sid += 1;
  return {
    messageSid: `SM${String(sid).padStart(32, '0')}`,
    accountSid: ACCOUNT,
    kind: 'opt-out',
    keyword: 'STOP',
    twilioNumber: NUMBER,
    endUser: '+12065550001',
    messagingServiceSid: null,
    direction: 'inbound',
    body: 'STOP',
    dateSent: '2025-03-01T10:00:00Z',
    errorCode: null,
    ...overrides,
  };
}

function run(db: Db, windows: [string, string][], status: 'completed' | 'running'): number {
  const id = createRun(
    db,
    {
      parentAccountSid: ACCOUNT,
      startedAt: '2025-06-01T00:00:00Z',
      pid: 1,
      hostname: 'test',
      partitions: 1,
      keywordsJson: '{}',
      explicitWindow: false,
    },
    windows.map(([windowStart, windowEnd]) => ({ accountSid: ACCOUNT, windowStart, windowEnd })),
    [],
  );
  if (status === 'completed') finishRun(db, id, 'completed', '2025-06-01T00:00:01Z');
  return id;
}

describe('the ledger on a real database', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('a tie between an opt-out and an opt-in in one second is an opt-out, whatever the SIDs', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const users = ['+12065550001', '+12065550002'];
      // One pair with the START's SID larger, one with the STOP's: both must come out opted out.
      insertEvents(db, id, [
        event({ endUser: users[0], messageSid: `SM${'1'.repeat(32)}` }),
        event({
          endUser: users[0],
          kind: 'opt-in',
          keyword: 'START',
          body: 'START',
          messageSid: `SM${'f'.repeat(32)}`,
        }),
        event({ endUser: users[1], messageSid: `SM${'e'.repeat(32)}` }),
        event({
          endUser: users[1],
          kind: 'opt-in',
          keyword: 'START',
          body: 'START',
          messageSid: `SM${'2'.repeat(32)}`,
        }),
        // A later opt-in, a second after, still wins for a third person.
        event({ endUser: '+12065550003' }),
        event({
          endUser: '+12065550003',
          kind: 'opt-in',
          keyword: 'START',
          dateSent: '2025-03-01T10:00:01Z',
        }),
      ]);
      expect(currentOptOuts(db).map((row) => row.recipient)).toEqual(users);
      expect(countTiesResolvedAsOptOut(db)).toBe(2);
      expect(readCoverage(db).ties_resolved_as_opt_out).toBe(2);
    });
  });

  it('keeps evidence without a date apart and names it in the coverage', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const id = run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'completed');
      const undated = event({ dateSent: null, endUser: '+12065550009' });
      expect(insertEvents(db, id, [undated, event({})])).toBe(2);
      // Read twice (a resumed run): counted once.
      expect(insertEvents(db, id, [undated])).toBe(0);
      const coverage = exportOptOuts(db).coverage;
      expect(coverage.undated_evidence).toEqual([
        { message_sid: undated.messageSid, account_sid: ACCOUNT, kind: 'opt-out' },
      ]);
    });
  });

  it('names the spans between the start of history and the last window that no completed run read', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      run(db, [['2025-04-01T00:00:00Z', '2025-05-01T00:00:00Z']], 'completed');
      // A plain run found where history begins, then died before it completed.
      recordHistoryStart(db, ACCOUNT, '2025-01-01T00:00:00Z', 'probe', '2025-06-01T00:00:00Z');
      run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'running');
      const coverage = readCoverage(db);
      expect(coverage.windows).toEqual([
        {
          account_sid: ACCOUNT,
          source: 'api',
          start: '2025-04-01T00:00:00Z',
          end: '2025-05-01T00:00:00Z',
        },
      ]);
      expect(coverage.not_read).toEqual([
        { account_sid: ACCOUNT, start: '2025-01-01T00:00:00Z', end: '2025-04-01T00:00:00Z' },
      ]);
    });
  });

  it('refuses to export from a database with no completed snapshot', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      run(db, [['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z']], 'running');
      expect(() => exportOptOuts(db, 'x.db')).toThrow(/x\.db holds no completed snapshot/);
    });
  });
});
