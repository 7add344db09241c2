/**
 * `numberDepartures` is asked for a dozen times by one reconcile pass (coverage, stays, spans,
 * lists), and at a second wave of 100,000 numbers each read took seconds: it keeps its last
 * answer per connection, read again only once the database was written since, by this
 * connection or any other. In-process on one clock, real SDK, emulator over HTTP, SQLite file.
 */

import { describe, expect, it } from 'vitest';

import { numberDepartures } from '../../src/db/reconcile.js';
import { useClockedMigration } from '../support/clocked-migration.js';

const A = '+14155550791';
const mapping = (id: string, name: string) =>
  `customer_id,customer_name,phone_number,messaging_service\n${id},${name},${A},\n`;

describe('numberDepartures', () => {
  const start = useClockedMigration('submigrate-departures-once-');

  it('reads the journal again only once something was written, here or elsewhere', async () => {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A }],
    });
    const [parent, acme, beta] = [s.e.parentSid, await s.sidOf('Acme'), await s.sidOf('Beta')];
    await s.planAndApply(mapping('acme', 'Acme'));
    s.step();
    await s.planAndApply(mapping('beta', 'Beta'));
    s.step();
    await s.withDbNow(async (db) => {
      const first = numberDepartures(db);
      expect(first.map((d) => d.accountSid)).toEqual([parent, acme]);
      // Nothing written: the same answer, not read again.
      expect(numberDepartures(db)).toBe(first);

      // Another connection's apply (a third wave, A back into Acme's) commits a departure.
      await s.planAndApply(mapping('acme', 'Acme'));
      const again = numberDepartures(db);
      expect(again.map((d) => d.accountSid)).toEqual([parent, acme, beta]);

      // This connection's own write: the second wave's transfer marked failed.
      db.prepare(
        `UPDATE apply_steps SET state = 'failed'
         WHERE action = 'transfer_number' AND run_id = (SELECT MIN(id) + 1 FROM apply_runs)`,
      ).run();
      expect(numberDepartures(db).map((d) => d.accountSid)).toEqual([parent, beta]);
    });
  });
});
