/**
 * The baseline a careful engineer writes by hand: twilio-node as shipped — its own
 * RequestClient, taught only to send the api.twilio.com host to the emulator — and
 * `messages.each`, one page of 1000 after another, classifying each message with the same
 * keyword rules and inserting the evidence into SQLite in one transaction per page. Same
 * emulator, keep-alive connection; no partitions. Prints one JSON line:
 * {messages, events, seconds}.
 */

import http from 'node:http';

import Database from 'better-sqlite3';
import twilio from 'twilio';

import { classifyMessage } from '../../src/optouts/classify.js';
import { toMessage } from '../../src/twilio/adapter.js';
import type { RequestOptions } from '../../src/twilio/http-client.js';

const [apiUrl, dbPath] = process.argv.slice(2);
const accountSid = process.env['TWILIO_ACCOUNT_SID']!;
const authToken = process.env['TWILIO_AUTH_TOKEN']!;

const db = new Database(dbPath!);
db.pragma('journal_mode = WAL');
db.exec(`CREATE TABLE IF NOT EXISTS evidence (
  message_sid TEXT PRIMARY KEY, kind TEXT, keyword TEXT, twilio_number TEXT, end_user TEXT,
  messaging_service_sid TEXT, body TEXT, date_sent TEXT)`);
const insert = db.prepare('INSERT OR IGNORE INTO evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
const insertPage = db.transaction((rows: unknown[][]) => {
  for (const row of rows) insert.run(...row);
});

/** The SDK's RequestClient, with the host rewritten and keep-alive as it has for https. */
class EmulatorRequestClient extends twilio.RequestClient {
  constructor() {
    super({ keepAlive: true });
    this.axios.defaults.httpAgent = new http.Agent({ keepAlive: true });
  }

  override request<T>(opts: RequestOptions<T>) {
    return super.request<T>({ ...opts, uri: opts.uri.replace('https://api.twilio.com', apiUrl!) });
  }
}
const httpClient = new EmulatorRequestClient();
const client = twilio(accountSid, authToken, { httpClient, env: {} });

const started = performance.now();
let messages = 0;
let events = 0;
let page: unknown[][] = [];
const noTypes = new Map<string, string | null>();
await client.messages.each({ pageSize: 1000 }, (instance) => {
  messages += 1;
  const event = classifyMessage(toMessage(instance), noTypes);
  if (event !== null) {
    page.push([
      event.messageSid,
      event.kind,
      event.keyword,
      event.twilioNumber,
      event.endUser,
      event.messagingServiceSid,
      event.body,
      event.dateSent,
    ]);
  }
  if (messages % 1000 === 0) {
    insertPage(page);
    events += page.length;
    page = [];
  }
});
insertPage(page);
events += page.length;
db.close();
process.stdout.write(
  `${JSON.stringify({ messages, events, seconds: (performance.now() - started) / 1000 })}\n`,
);
