/**
 * A snapshot through a proxy that answers the parent's last Messages page with a next-page link
 * into a subaccount's list: the run must not read that list as the parent's, nor count the
 * parent's window as read. It stops with the TwilioError that names the page, the run stays
 * unfinished, and the subaccount's opt-out does not land in the ledger as evidence of a window
 * the run did not read. (Without the check, the run followed the link, took the subaccount's
 * STOP and completed: coverage claimed for a read that was not what it said.)
 */

import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TwilioError } from '../../src/errors.js';
import { createTwilioPort } from '../../src/twilio/adapter.js';
import { TwilioHttpClient } from '../../src/twilio/http-client.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import {
  fixedClock,
  ledgerDump,
  sliceProgress,
  snapshotInto,
  tempDir,
  type TempDir,
} from '../support/snapshot-harness.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const DAY = 86_400_000;
const SUB = `AC${'7'.repeat(32)}`;

describe('snapshot: a next-page link into another account', () => {
  let env: TestEmulator;
  let dir: TempDir;
  let proxy: Server;
  let proxyUrl = '';

  beforeAll(async () => {
    env = await startTestEmulator({ now: () => NOW });
    await env.seed({
      subaccounts: [{ friendly_name: 'Birch', sid: SUB }],
      numbers: [
        { phone_number: '+14155550101' },
        { phone_number: '+14155550105', account_sid: SUB },
      ],
      messages: [
        {
          from: '+16505550102',
          to: '+14155550105',
          body: 'STOP',
          direction: 'inbound',
          date_sent: NOW - 5 * DAY,
          account_sid: SUB,
        },
      ],
    });
    dir = tempDir();
    const parentList = `/2010-04-01/Accounts/${env.parentSid}/Messages.json`;
    // Forwards everything to the emulator; the parent's last Messages page gets a next page.
    proxy = createServer((req, res) => {
      const upstream = request(
        `${env.url}${req.url}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            let body = Buffer.concat(chunks);
            if (answer.statusCode === 200 && req.url?.startsWith(parentList)) {
              const page = JSON.parse(body.toString('utf8')) as { next_page_uri: string | null };
              page.next_page_uri ??= `/2010-04-01/Accounts/${SUB}/Messages.json?PageSize=1000`;
              body = Buffer.from(JSON.stringify(page));
            }
            const headers = { ...answer.headers, 'content-length': String(body.length) };
            delete headers['transfer-encoding'];
            res.writeHead(answer.statusCode ?? 502, headers);
            res.end(body);
          });
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy.close(resolve));
    await env.close();
    dir.remove();
  });

  it('stops with an error naming the page, the run unfinished and no other account read', async () => {
    const port = createTwilioPort(
      env.parentCredentials,
      new TwilioHttpClient({ apiUrl: proxyUrl }),
    );
    const error = await snapshotInto(dir.file('s.db'), port, fixedClock(NOW), {
      useExport: false,
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TwilioError);
    expect((error as Error).message).toContain(`/2010-04-01/Accounts/${SUB}/Messages.json`);

    const progress = sliceProgress(dir.file('s.db'))!;
    expect(progress.runs.map((r) => r.status)).not.toContain('completed');
    expect(progress.slices.some((s) => s.status !== 'done')).toBe(true);
    expect(ledgerDump(dir.file('s.db')).events).toEqual([]);
  });
});
