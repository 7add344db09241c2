/**
 * The full-pool scenario: customer Acme's subaccount exists, with its service `acmeAlerts`
 * already holding `held` numbers (Twilio's pool is 400), and two parent numbers in a shared
 * service that the mapping moves into it; an end user (ANN) said STOP to the first. With 400
 * held, neither moving number can join the service (21714); with 399, the first joins and the
 * second does not.
 */

import { writeFileSync } from 'node:fs';

import { beforeAll, expect } from 'vitest';

import type { TestEmulator } from './emulator.js';
import { makePlan, seededStop, useCliWorkspace } from './migration.js';
import type { CliResult, TempDir } from './snapshot-harness.js';

export const MOVING = ['+14155619001', '+14155619002'];
export const ANN = '+12065550001';

export interface FullPool {
  readonly env: TestEmulator;
  readonly dir: TempDir;
  /** acmeAlerts, the customer's service in its subaccount. */
  readonly service: string;
  cli(args: string[]): Promise<CliResult>;
  /**
   * The mapping written (both numbers to acme, service acmeAlerts), a snapshot, and a plan
   * made with --carry-optouts (a.plan.json), then applied: what plan and apply printed.
   */
  planCarryAndApply(): Promise<{ planned: CliResult; applied: CliResult; db: string }>;
}

/** The scenario for the tests of one `describe`, at business time `now`. */
export function useFullPool(held: number, now: number): FullPool {
  const ws = useCliWorkspace(undefined, now);
  let service = '';
  beforeAll(async () => {
    const seeded = await ws.env.seed({ subaccounts: [{ friendly_name: 'Acme' }] });
    const sub = seeded.subaccounts[0]!.sid;
    const heldNumbers = Array.from(
      { length: held },
      (_, i) => `+1415560${String(i).padStart(4, '0')}`,
    );
    const { services } = await ws.env.seed({
      numbers: [
        ...MOVING.map((phone) => ({ phone_number: phone })),
        ...heldNumbers.map((phone) => ({ phone_number: phone, account_sid: sub })),
      ],
      services: [
        { friendly_name: 'Shared', phone_numbers: MOVING, use_inbound_webhook_on_number: true },
        {
          friendly_name: 'acmeAlerts',
          account_sid: sub,
          phone_numbers: heldNumbers,
          use_inbound_webhook_on_number: true,
        },
      ],
      messages: [seededStop(ANN, MOVING[0]!, now - 86_400_000)],
    });
    service = services.find((s) => s.friendly_name === 'acmeAlerts')!.sid;
  });
  const { cli } = ws;
  return {
    get env() {
      return ws.env;
    },
    get dir() {
      return ws.dir;
    },
    get service() {
      return service;
    },
    cli,
    async planCarryAndApply() {
      const mapping = ws.dir.file('map.csv');
      writeFileSync(
        mapping,
        `customer_id,customer_name,phone_number,messaging_service\n${MOVING.map((p) => `acme,Acme,${p},acmeAlerts`).join('\n')}\n`,
      );
      const db = ws.dir.file('a.db');
      const plan = ws.dir.file('a.plan.json');
      expect((await cli(['snapshot', '--db', db])).code).toBe(0);
      const planned = await makePlan(cli, { mapping, db, out: plan, plan: ['--carry-optouts'] });
      const applied = await cli(['apply', plan, '--db', db, '--rate', '1000']);
      return { planned, applied, db };
    },
  };
}
