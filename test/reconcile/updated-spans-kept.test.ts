/**
 * `number-updated` spans kept in `number_update_checks` (migrations 031, 032) and named by
 * `awaySpans` once no pass lists the number as changed: those not vouched for, less those a
 * span vouched for or another kept one covers (real SQLite file, migrated).
 */

import { afterEach, describe, expect, it } from 'vitest';

import { recordCustomerSubaccount, recordMapping } from '../../src/db/customers.js';
import { withDb } from '../../src/db/open.js';
import type { MovedNumber } from '../../src/db/reconcile.js';
import {
  numberUpdateChecks,
  recordNumberUpdateChecks,
  type NumberUpdateCheck,
} from '../../src/db/update-checks.js';
import { awaySpans } from '../../src/reconcile/away.js';
import { fixedClock, MIGRATIONS_DIR, tempDir, type TempDir } from '../support/snapshot-harness.js';

const SUB = 'ACacme';
const m: MovedNumber = {
  numberSid: 'PN1',
  phoneNumber: '+14155550701',
  customerId: 'acme',
  subaccountSid: SUB,
  sourceAccountSid: 'ACparent',
  sourceServiceSid: null,
  movedAt: '2026-12-03T10:00:01Z',
  moveBegan: '2026-12-03T10:00:00Z',
  subaccountCreatedAt: null,
} as MovedNumber;

const check = (
  dateUpdated: string,
  outcome: NumberUpdateCheck['outcome'],
  found: NumberUpdateCheck['found'] = null,
): NumberUpdateCheck => ({
  numberSid: m.numberSid,
  subaccountSid: SUB,
  spanStart: '2026-12-03T10:00:00Z',
  dateUpdated,
  outcome,
  accountsRead: 2,
  requests: 4,
  found,
  checkedAt: '2026-12-06T00:00:00Z',
});

describe('number-updated spans kept', () => {
  let dir: TempDir | null = null;
  afterEach(() => {
    dir?.remove();
    dir = null;
  });
  const inDb = <T>(fn: Parameters<typeof withDb<T>>[1]) => {
    dir ??= tempDir('submigrate-updated-kept-');
    return withDb(
      { path: dir.file('k.db'), migrationsDir: MIGRATIONS_DIR, clock: fixedClock(0) },
      fn,
    );
  };

  it('names one not vouched for, until the same span is vouched for', async () => {
    await inDb((db) => {
      recordNumberUpdateChecks(db, [check('2026-12-04T08:00:00Z', 'unvouched')]);
      expect(awaySpans(db, [m])).toEqual([
        {
          accountSid: SUB,
          start: '2026-12-03T10:00:00Z',
          end: '2026-12-04T08:00:00Z',
          reason: 'number-updated',
          customerId: 'acme',
          phoneNumber: m.phoneNumber,
          subaccountSid: SUB,
        },
      ]);
      // Read again, still not vouched for: the first answer stays; then vouched: replaced.
      recordNumberUpdateChecks(db, [check('2026-12-04T08:00:00Z', 'unvouched')]);
      expect(awaySpans(db, [m])).toHaveLength(1);
      recordNumberUpdateChecks(db, [check('2026-12-04T08:00:00Z', 'vouched')]);
      expect(numberUpdateChecks(db).map((c) => c.outcome)).toEqual(['vouched']);
      expect(awaySpans(db, [m])).toEqual([]);
    });
  });

  it('names a found one with its message, once, and none a later vouched span covers', async () => {
    await inDb((db) => {
      const found = { accountSid: 'ACbeta', messageSid: 'SM1', sentAt: '2026-12-04T07:00:00Z' };
      recordNumberUpdateChecks(db, [
        check('2026-12-04T08:00:00Z', 'found', found),
        // A later change read from the same arrival: found again; covers the first.
        check('2026-12-05T08:00:00Z', 'found', found),
        // A vouched answer never gives way to a later one for the same span.
        { ...check('2026-12-04T08:00:00Z', 'vouched'), spanStart: '2026-12-05T09:00:00Z' },
      ]);
      recordNumberUpdateChecks(db, [
        { ...check('2026-12-04T08:00:00Z', 'unvouched'), spanStart: '2026-12-05T09:00:00Z' },
      ]);
      expect(awaySpans(db, [m])).toEqual([
        expect.objectContaining({
          reason: 'number-updated',
          start: '2026-12-03T10:00:00Z',
          end: '2026-12-05T08:00:00Z',
          updatedCheck: { outcome: 'found', ...found },
        }),
      ]);
    });
  });
  it('names one whose number no moved number holds there any more (a later plan gave it to another customer)', async () => {
    await inDb((db) => {
      // Found in place in Acme's subaccount (no transfer); a later plan maps it to Beta's
      // customer, not applied yet: neither a moved number nor one found in place holds it.
      const at = '2026-12-06T00:00:00Z';
      recordMapping(
        db,
        'sha',
        at,
        [
          { customerId: 'acme', customerName: 'Acme', messagingService: null },
          { customerId: 'beta', customerName: 'Beta', messagingService: null },
        ],
        [
          {
            numberSid: m.numberSid,
            phoneNumber: m.phoneNumber,
            customerId: 'beta',
            sourceAccountSid: SUB,
            sourceServiceSid: null,
            atSource: true,
          },
        ],
      );
      recordCustomerSubaccount(db, 'acme', SUB, at);
      recordCustomerSubaccount(db, 'beta', 'ACbeta', at);
      recordNumberUpdateChecks(db, [check('2026-12-04T08:00:00Z', 'unvouched')]);
      const named = {
        accountSid: SUB,
        start: '2026-12-03T10:00:00Z',
        end: '2026-12-04T08:00:00Z',
        reason: 'number-updated',
        customerId: 'acme',
        phoneNumber: m.phoneNumber,
        subaccountSid: SUB,
      };
      expect(awaySpans(db, [])).toEqual([named]);
      // Moved by apply into Beta's since: the span in Acme's is still Acme's.
      expect(awaySpans(db, [{ ...m, customerId: 'beta', subaccountSid: 'ACbeta' }])).toEqual([
        named,
      ]);
    });
  });
  it('names a found one that a later span vouched for covers: the message found stays found', async () => {
    await inDb((db) => {
      const found = { accountSid: 'ACbeta', messageSid: 'SM1', sentAt: '2026-12-04T07:00:00Z' };
      recordNumberUpdateChecks(db, [
        check('2026-12-04T08:00:00Z', 'found', found),
        // A later change read from the same arrival, the message gone from Beta's since
        // (deleted): vouched for, over the span the message was found in.
        check('2026-12-05T08:00:00Z', 'vouched'),
      ]);
      expect(awaySpans(db, [m])).toEqual([
        expect.objectContaining({
          reason: 'number-updated',
          start: '2026-12-03T10:00:00Z',
          end: '2026-12-04T08:00:00Z',
          updatedCheck: { outcome: 'found', ...found },
        }),
      ]);
    });
  });
  it('names a found one another kept span covers once a span vouched for covers that one', async () => {
    await inDb((db) => {
      const found = { accountSid: 'ACbeta', messageSid: 'SM1', sentAt: '2026-12-04T07:00:00Z' };
      recordNumberUpdateChecks(db, [
        check('2026-12-04T08:00:00Z', 'found', found),
        // A later change read from the same arrival, its message deleted from Beta's since and
        // another account unreadable: not vouched for, over the span found.
        check('2026-12-05T08:00:00Z', 'unvouched'),
        // A later change still, every account read, nothing there: vouched for, over both.
        check('2026-12-06T08:00:00Z', 'vouched'),
      ]);
      expect(awaySpans(db, [m])).toEqual([
        expect.objectContaining({
          reason: 'number-updated',
          start: '2026-12-03T10:00:00Z',
          end: '2026-12-04T08:00:00Z',
          updatedCheck: { outcome: 'found', ...found },
        }),
      ]);
    });
  });
});
