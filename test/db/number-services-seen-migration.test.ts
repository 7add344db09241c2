/**
 * Migration 026: every Messaging Service a listing saw a number in is kept for good. A database
 * of any earlier schema (001..025) holds the latest listing of each account in `numbers`; the
 * upgrade keeps each of its numbers' services from it, and none for a number in no service.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { todayWithListing, upgradedFrom } from '../support/older-schema.js';
import { tempDir, type TempDir } from '../support/snapshot-harness.js';

const ACCOUNT = `AC${'a'.repeat(32)}`;
const SERVICE = `MG${'b'.repeat(32)}`;

describe('migration 026: the services listings saw each number in', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('fills from the numbers table on a database of every earlier schema', () => {
    const source = dir.file('today.db');
    todayWithListing(source, ACCOUNT, SERVICE).close();

    const upgraded = upgradedFrom(dir.file, source, 26, (db) =>
      db
        .prepare(
          `SELECT phone_number, account_sid, messaging_service_sid, first_seen
           FROM number_services_seen`,
        )
        .all(),
    );
    expect(upgraded).toHaveLength(25);
    for (const [version, seen] of upgraded) {
      expect(seen, `schema ${version}`).toEqual([
        {
          phone_number: '+14155550401',
          account_sid: ACCOUNT,
          messaging_service_sid: SERVICE,
          first_seen: '2025-01-02T00:00:00Z',
        },
      ]);
    }
  });
});
