/**
 * Twilio refusing a webhook URL quotes it in its error, basic-auth password and all (the
 * emulator answers `Invalid SmsUrl: <the URL>`). When apply's write of such a URL fails, the
 * password reaches neither stderr, the journal in the database, nor audit.csv: the error text
 * is masked where it enters the tool. The plan is rewritten (and sealed again) to carry a URL
 * the emulator refuses, a stand-in for a URL Twilio no longer accepts. Needs `npm run build`.
 */

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { filesUnder, makePlan, readCsv, useCliWorkspace } from '../support/migration.js';
import { readOnly, type CliResult } from '../support/snapshot-harness.js';

const N1 = '+14155550101';
const PASSWORD = 'Hook5ecret';
const SERVICE_URL = `https://owlie:${PASSWORD}@hooks.example/inbound`;
/** How `plan` seals a plan file: the SHA-256 of all that comes before this. */
const SEAL = ',\n  "integrity": "';
const REFUSED_URL = `ftp://owlie:${PASSWORD}@hooks.example/inbound`;

describe('a webhook URL with a password that Twilio refuses, quoting it', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: N1 }],
    services: [{ friendly_name: 'Shared', phone_numbers: [N1], inbound_request_url: SERVICE_URL }],
  });
  const db = () => ws.dir.file('w.db');
  let applied: CliResult;

  beforeAll(async () => {
    const mapping = ws.dir.file('w.csv');
    writeFileSync(mapping, `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
    const snapshot = await ws.cli(['snapshot', '--db', db()]);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    const planPath = ws.dir.file('w.plan.json');
    await makePlan(ws.cli, { mapping, db: db(), out: planPath });
    // The step's URL replaced, and the plan sealed again as `plan` seals it.
    const text = readFileSync(planPath, 'utf8');
    const sealAt = text.lastIndexOf(SEAL);
    const step = `"sms_url":${JSON.stringify(SERVICE_URL)}`;
    expect(text.slice(0, sealAt).split(step).length - 1).toBe(1);
    const body = text.slice(0, sealAt).replace(step, `"sms_url":${JSON.stringify(REFUSED_URL)}`);
    const seal = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    writeFileSync(planPath, `${body}${SEAL}${seal}"\n}\n`);
    applied = await ws.cli(['apply', planPath, '--db', db(), '--rate', '1000']);
  });

  it('fails the step with Twilio’s words, the password masked', () => {
    expect(applied.code, applied.stderr).toBe(3);
    expect(applied.stdout + applied.stderr).toContain('ftp://owlie:***@hooks.example/inbound');
    expect(applied.stdout + applied.stderr).not.toContain(PASSWORD);
  });

  it('is in neither the journal nor any report', () => {
    // The database keeps the plan, URL whole (apply sets it): the error text is what is checked.
    const journaled = readOnly(db(), (sqlite) =>
      sqlite
        .prepare('SELECT error_message FROM apply_steps WHERE error_message IS NOT NULL')
        .pluck()
        .all(),
    ) as string[];
    expect(journaled).toEqual(['Invalid SmsUrl: ftp://owlie:***@hooks.example/inbound']);
    expect(readFileSync(db()).includes(`Invalid SmsUrl: ${REFUSED_URL}`)).toBe(false);

    const reports = filesUnder(join(ws.dir.path, 'reports'));
    const audit = reports.find((file) => file.endsWith('audit.csv'))!;
    expect(readCsv(audit).map((row) => row['error_message'])).toContain(
      'Invalid SmsUrl: ftp://owlie:***@hooks.example/inbound',
    );
    for (const file of reports) expect(readFileSync(file, 'utf8'), file).not.toContain(PASSWORD);
  });
});
