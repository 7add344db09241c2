/**
 * The page scanner must agree with JSON.parse on every page: same element count, the same
 * elements kept, the same envelope. Tricky bodies (quotes, backslashes, braces, the very
 * words it looks for) and both compact and Twilio-style spaced JSON.
 */

import { describe, expect, it } from 'vitest';

import { createRandom } from '../../src/emulator/random.js';
import { scanMessagePage, timeOf } from '../../src/twilio/message-page.js';

interface Msg {
  sid: string;
  direction: string;
  error_code: number | null;
  date_sent: string | null;
  from: string | null;
  to: string;
  messaging_service_sid: string | null;
  body: string;
  subresource_uris: Record<string, string>;
}

const TRICKY_BODIES = [
  'STOP',
  'He said "stop" {loudly}',
  'back\\slash at the end\\',
  '\\"direction\\": \\"inbound\\"',
  '"direction": "inbound", "error_code": 21610',
  '"error_code": 30003}',
  '] } ] } ,,, [[[ {{{',
  'Café Lumière 👍 “curly” quotes',
  'line\nbreak\ttab\r\n',
  '',
  '\\',
  '\\\\"',
  '"date_sent": "Mon, 01 Jan 2001 00:00:00 +0000"',
];

function page(messages: Msg[], spaced: boolean, messagesFirst: boolean): Buffer {
  const envelope = {
    end: Math.max(messages.length - 1, 0),
    first_page_uri: '/2010-04-01/Accounts/AC1/Messages.json?PageSize=50&Page=0',
    next_page_uri: '/2010-04-01/Accounts/AC1/Messages.json?PageSize=50&Page=1&PageToken=PASM1',
    page: 0,
    page_size: 50,
    previous_page_uri: null,
    start: 0,
    uri: '/2010-04-01/Accounts/AC1/Messages.json?PageSize=50&Page=0',
  };
  const doc = messagesFirst ? { messages, ...envelope } : { ...envelope, messages };
  return Buffer.from(spaced ? JSON.stringify(doc, null, 2) : JSON.stringify(doc));
}

function expected(bytes: Buffer) {
  const doc = JSON.parse(bytes.toString('utf8')) as { messages: Msg[] } & Record<string, unknown>;
  const { messages, ...envelope } = doc;
  return {
    total: messages.length,
    sent: messages.map((m) => m.date_sent),
    kept: messages.filter((m) => m.direction === 'inbound' || m.error_code !== null),
    envelope: { ...envelope, messages: [] },
    last: messages.at(-1) ?? null,
    services: serviceMessagesOf(messages),
  };
}

const byPair = (a: [string, string, ...unknown[]], b: [string, string, ...unknown[]]) =>
  `${a[0]} ${a[1]}` < `${b[0]} ${b[1]}` ? -1 : `${a[0]} ${a[1]}` > `${b[0]} ${b[1]}` ? 1 : 0;

/** Each Twilio-side address and service SID of the dated messages, with the first and last. */
function serviceMessagesOf(messages: readonly Msg[]): [string, string, number, number][] {
  const seen = new Map<string, [string, string, number, number]>();
  for (const m of messages) {
    const address = m.direction === 'inbound' ? m.to : m.from;
    if (m.messaging_service_sid === null || m.date_sent === null || address === null) continue;
    const at = Date.parse(m.date_sent);
    const key = `${address} ${m.messaging_service_sid}`;
    const known = seen.get(key);
    if (known === undefined) seen.set(key, [address, m.messaging_service_sid, at, at]);
    else [known[2], known[3]] = [Math.min(known[2], at), Math.max(known[3], at)];
  }
  return [...seen.values()];
}

function randomMessages(seed: number, count: number): Msg[] {
  const random = createRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  return Array.from({ length: count }, (_, i) => ({
    sid: `SM${String(i).padStart(32, '0')}`,
    direction: pick(['inbound', 'outbound-api', 'outbound-reply', 'outbound-call']),
    error_code: random() < 0.3 ? pick([21610, 30003, 30005]) : null,
    // Newest first, one message in seven not yet sent (no date).
    date_sent: i % 7 === 3 ? null : new Date(Date.UTC(2026, 0, 31) - i * 1000).toUTCString(),
    // A few senders, in a service or two, in none (null), or an address with an escape.
    from: pick(['+14155550101', '+14155550102', 'whatsapp:+14155550103', 'Owlie\\"s', null]),
    to: pick(['+14155550101', '+12065550001', 'rcs:+12065550002']),
    messaging_service_sid: pick([`MG${'1'.repeat(32)}`, `MG${'2'.repeat(32)}`, null]),
    body: pick(TRICKY_BODIES) + (random() < 0.5 ? pick(TRICKY_BODIES) : ''),
    subresource_uris: { media: `/x/${i}/Media.json`, feedback: `/x/${i}/Feedback.json` },
  }));
}

describe('scanMessagePage', () => {
  it.each([
    [1, false, false],
    [2, true, false],
    [3, false, true],
    [4, true, true],
  ])(
    'agrees with JSON.parse on random tricky pages (seed %i, spaced %s, messages first %s)',
    (seed, spaced, first) => {
      for (let round = 0; round < 25; round++) {
        const bytes = page(randomMessages(seed * 100 + round, 60), spaced, first);
        const scanned = scanMessagePage<Msg>(bytes, 'inbound-or-error');
        // The pairs in no order of note.
        scanned.services.sort(byPair);
        expect(scanned).toEqual({
          ...expected(bytes),
          services: expected(bytes).services.sort(byPair),
        });
      }
    },
  );

  it('keeps everything with a keep-all predicate, and counts an empty page', () => {
    const bytes = page(randomMessages(9, 10), false, false);
    expect(scanMessagePage<Msg>(bytes, null).kept).toEqual(
      (JSON.parse(bytes.toString()) as { messages: Msg[] }).messages,
    );
    const empty = scanMessagePage<Msg>(page([], true, false), 'inbound-or-error');
    expect(empty).toMatchObject({ total: 0, kept: [] });
    expect(empty.envelope['next_page_uri']).toMatch(/PageToken=PASM1$/);
  });

  it('is not fooled by the words it looks for inside a body', () => {
    const [m] = randomMessages(5, 1);
    const decoy: Msg = {
      ...m!,
      direction: 'outbound-api',
      error_code: null,
      body: '"direction": "inbound", "error_code": 21610',
    };
    expect(scanMessagePage<Msg>(page([decoy], false, false), 'inbound-or-error').kept).toEqual([]);
    expect(scanMessagePage<Msg>(page([decoy], true, false), 'inbound-or-error').kept).toEqual([]);
  });

  it('refuses a body that is not a Messages page', () => {
    expect(() => scanMessagePage(Buffer.from('{"accounts": []}'), 'inbound-or-error')).toThrow(
      SyntaxError,
    );
    expect(() =>
      scanMessagePage(Buffer.from('{"messages": [{"body": "unterminated'), 'inbound-or-error'),
    ).toThrow(SyntaxError);
  });

  it("reads Twilio's date_sent as Date.parse does, by its places or not", () => {
    const random = createRandom(7);
    for (let i = 0; i < 2000; i++) {
      const at = Math.floor(random() * 4e12);
      const twilio = new Date(at).toUTCString().replace(/GMT$/, '+0000');
      expect(timeOf(twilio)).toBe(Date.parse(twilio));
    }
    for (const odd of [
      'Sat, 31 Jan 2026 00:00:00 GMT',
      'Sat, 3 Jan 2026 00:00:00 +0000',
      'Sat, 31 Jan 2026 00:00:00 +0100',
      '2026-01-31T00:00:00Z',
      'Sat, 31 Foo 2026 00:00:00 +0000',
      'Sat, 31 Jan 2O26 00:00:00 +0000',
      'not a date',
    ]) {
      expect(timeOf(odd)).toEqual(Date.parse(odd));
    }
  });
});
