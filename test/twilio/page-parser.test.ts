/**
 * The worker-thread page parser gives the same answers as the inline scanner. It runs the
 * compiled worker (dist/, which `npm test` builds before the tests), exactly as the CLI does.
 */

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { scanMessagePage } from '../../src/twilio/message-page.js';
import { inlinePageParser, WorkerPageParser } from '../../src/twilio/page-parser.js';

const script = new URL('../../dist/src/twilio/page-worker.js', import.meta.url);

function bigPage(count: number): Buffer {
  const messages = Array.from({ length: count }, (_, i) => ({
    sid: `SM${String(i).padStart(32, '0')}`,
    direction: i % 7 === 0 ? 'inbound' : 'outbound-api',
    error_code: i % 11 === 0 ? 21610 : null,
    body: `message ${i} {"direction": "inbound"} “quoted” ${'x'.repeat(i % 50)}`,
  }));
  return Buffer.from(JSON.stringify({ messages, next_page_uri: '/next', page: 0 }));
}

describe('the page parser', () => {
  it('has the compiled worker to run (npm test builds first)', () => {
    expect(existsSync(fileURLToPath(script))).toBe(true);
  });

  it('answers on a worker thread exactly as the inline scanner does', async () => {
    const parser = new WorkerPageParser(script);
    const pages = [bigPage(1000), bigPage(3), bigPage(2500)];
    const answers = await Promise.all(pages.map((page) => parser.parse(page, 'inbound-or-error')));
    answers.forEach((answer, index) => {
      expect(answer).toEqual(scanMessagePage(bigPage([1000, 3, 2500][index]!), 'inbound-or-error'));
    });
    expect(answers[0]!.total).toBe(1000);
    expect(await parser.parse(bigPage(1000), null)).toEqual(
      await inlinePageParser.parse(bigPage(1000), null),
    );
  });

  it('starts its thread only for a page worth sending to it', async () => {
    const parser = new WorkerPageParser(script);
    expect(await parser.parse(bigPage(3), 'inbound-or-error')).toEqual(
      scanMessagePage(bigPage(3), 'inbound-or-error'),
    );
    expect(parser.started).toBe(false);
    await parser.parse(bigPage(1000), 'inbound-or-error');
    expect(parser.started).toBe(true);
  });

  it('passes a bad page back as a SyntaxError', async () => {
    const parser = new WorkerPageParser(script);
    const notAPage = Buffer.from(JSON.stringify({ accounts: [], filler: 'x'.repeat(100_000) }));
    await expect(parser.parse(notAPage, 'inbound-or-error')).rejects.toThrow(SyntaxError);
  });
});
