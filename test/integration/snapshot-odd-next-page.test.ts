/**
 * A snapshot through a proxy that answers the parent's last Messages page with a next-page link
 * into a subaccount's list: the run must not read that list as the parent's, nor count the
 * parent's window as read. It stops with the TwilioError that names the page, the run stays
 * unfinished, and the subaccount's opt-out does not land in the ledger as evidence of a window
 * the run did not read. (Without the check, the run followed the link, took the subaccount's
 * STOP and completed: coverage claimed for a read that was not what it said.)
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TwilioError } from '../../src/errors.js';
import { createTwilioPort } from '../../src/twilio/adapter.js';
import { TwilioHttpClient } from '../../src/twilio/http-client.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  fixedClock,
  ledgerDump,
  sliceProgress,
  snapshotInto,
} from '../support/snapshot-harness.js';
import { startTamperingProxy, type TamperingProxy } from '../support/tampering-proxy.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const DAY = 86_400_000;
const SUB = `AC${'7'.repeat(32)}`;

describe('snapshot: a next-page link into another account', () => {
  const ws = useCliWorkspace(
    {
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
    },
    NOW,
  );
  let proxy: TamperingProxy;

  beforeAll(async () => {
    const parentList = `/2010-04-01/Accounts/${ws.env.parentSid}/Messages.json`;
    // Everything as the emulator answers it, but the parent's last Messages page gets a next.
    proxy = await startTamperingProxy(ws.env.url, (path, status, body) => {
      if (status !== 200 || !path.startsWith(parentList)) return null;
      const page = JSON.parse(body.toString('utf8')) as { next_page_uri: string | null };
      page.next_page_uri ??= `/2010-04-01/Accounts/${SUB}/Messages.json?PageSize=1000`;
      return { status: 200, type: 'application/json', body: JSON.stringify(page) };
    });
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('stops with an error naming the page, the run unfinished and no other account read', async () => {
    const port = createTwilioPort(
      ws.env.parentCredentials,
      new TwilioHttpClient({ apiUrl: proxy.url }),
    );
    const error = await snapshotInto(ws.dir.file('s.db'), port, fixedClock(NOW), {
      useExport: false,
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TwilioError);
    expect((error as Error).message).toContain(`/2010-04-01/Accounts/${SUB}/Messages.json`);

    const progress = sliceProgress(ws.dir.file('s.db'))!;
    expect(progress.runs.map((r) => r.status)).not.toContain('completed');
    expect(progress.slices.some((s) => s.status !== 'done')).toBe(true);
    expect(ledgerDump(ws.dir.file('s.db')).events).toEqual([]);
  });
});
