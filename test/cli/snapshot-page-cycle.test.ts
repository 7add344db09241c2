/**
 * The built CLI through a proxy whose Messages pages loop back: each first page names a next
 * page (B), and B names the first page again (A→B→A), as a cache in between may. Each page
 * on its own is a well-formed page of the parent's list that does not name itself, so only
 * the pages read before can tell. `snapshot` must stop with an error naming the list, exit 1,
 * and leave the run unfinished, so that `optouts` does not present the list as whole. (It
 * only caught a page naming itself: it read A, B, A, B… until the proxy gave up, then
 * completed, claiming coverage of a list it never read through.)
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';
import { startTamperingProxy, type TamperingProxy } from '../support/tampering-proxy.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
/** What the proxy adds to a first page's own URI to name its B page. */
const LOOP = '&PageToken=PAloop';
/** Pages the proxy answers in loops before it lets the list end. */
const GIVE_UP_AFTER = 40;

describe('snapshot through a proxy whose Messages pages loop A→B→A (built CLI)', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: '+14155550101' }],
      messages: [
        {
          from: '+16505550101',
          to: '+14155550101',
          body: 'STOP',
          direction: 'inbound',
          date_sent: NOW - 10 * DAY,
        },
      ],
    },
    NOW,
  );
  let proxy: TamperingProxy;
  const requested: string[] = [];

  beforeAll(async () => {
    const parentList = `/2010-04-01/Accounts/${ws.env.parentSid}/Messages.json`;
    proxy = await startTamperingProxy(ws.env.url, (path, status, body) => {
      if (!path.startsWith(parentList)) return null;
      requested.push(path);
      if (path.endsWith(LOOP) && requested.length > GIVE_UP_AFTER) {
        // Given up: B ends the list, so a snapshot that went round and round ends too.
        const page = { messages: [], next_page_uri: null, page: 1, page_size: 1000 };
        return { status: 200, type: 'application/json', body: JSON.stringify(page) };
      }
      if (path.endsWith(LOOP)) {
        // B: an empty page whose next is the first page again, by the URI it gave itself.
        const first = path.slice(0, -LOOP.length);
        const page = { messages: [], next_page_uri: first, page: 1, page_size: 1000 };
        return { status: 200, type: 'application/json', body: JSON.stringify(page) };
      }
      if (status !== 200 || requested.length > GIVE_UP_AFTER) return null;
      const page = JSON.parse(body.toString('utf8')) as { uri: string; next_page_uri: unknown };
      page.next_page_uri = `${page.uri}${LOOP}`;
      return { status: 200, type: 'application/json', body: JSON.stringify(page) };
    });
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('exits 1 naming the list, reads no page twice by its URI, and leaves the run unfinished', async () => {
    const db = ws.dir.file('s.db');
    const cut = await runCli(
      ['snapshot', '--db', db, '--no-export'],
      cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url }),
      ws.dir.path,
    );
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(
      /^error: Twilio \(HTTP 200\): GET https:\/\/api\.twilio\.com\/2010-04-01\/Accounts\/AC\w+\/Messages\.json: Twilio named a list page as the next one that was already read/,
    );
    expect(cut.stderr).not.toContain('internal error');
    expect(cut.stdout + cut.stderr).not.toContain(ws.env.parentToken);
    // No page was asked for twice by the same URI: each B once, each first page once more.
    expect(requested.length).toBeLessThan(GIVE_UP_AFTER);
    expect(new Set(requested).size).toBe(requested.length);

    const listed = await runCli(['optouts', '--db', db], cliEnv(ws.env), ws.dir.path);
    expect(listed.code).not.toBe(0);
    expect(listed.stdout).not.toContain('+16505550101');
  });
});
