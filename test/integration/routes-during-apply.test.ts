/**
 * `routes` while the apply of that run is under way (another terminal in the maintenance
 * window). It checked every number of the plan as moved: with one of three moved, it printed
 * `ok` for all three and "3 of 3 moved numbers reach where they did before the move", exit 0,
 * and recorded that as the run's latest routing check. It is refused until the apply ends,
 * before anything is read or recorded; the apply checks the routes itself. Built CLI,
 * emulator over HTTP.
 */

import { describe, expect, it } from 'vitest';

import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startApplyHeldAtWrite } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550141', '+14155550142', '+14155550143'];

interface RequestLogEntry {
  method: string;
  path: string;
}

describe('routes while the run it checks is under way', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('is refused, reading nothing, and checks the run once its apply has ended', async () => {
    const { env, dir, cli } = ws;
    await planOneCustomer(ws, NUMBERS);

    // The subaccount is made and the first number moved; the second transfer is held.
    const apply = await startApplyHeldAtWrite(env, dir.path, 'a.plan.json', 'a.db', 2);
    try {
      await env.control('DELETE', '/__emulator/requests');
      const during = await cli(['routes', '--db', 'a.db']);
      expect(during.stderr).toMatch(
        /^refused: apply run 1 is under way \(pid \d+ on [^,]+, since [^)]+\): its numbers are still being moved; it checks their inbound routes itself when its steps are over/,
      );
      expect(during.stderr).toContain('Nothing was checked or recorded.');
      expect(during.code).toBe(4);
      expect(during.stdout).toBe('');
      const asked = await env.control<RequestLogEntry[]>('GET', '/__emulator/requests');
      expect(asked).toEqual([]);
      const json = await cli(['routes', '--db', 'a.db', '--json']);
      expect(json.code).toBe(4);
      expect(json.stdout).toBe('');
    } finally {
      await releaseHeld(env);
    }
    const applied = await apply.done;
    expect(applied.code, applied.stderr).toBe(0);

    const after = await cli(['routes', '--db', 'a.db']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(
      /^run 1: 3 of 3 moved numbers reach where they did before the move/m,
    );
  }, 90_000);
});
