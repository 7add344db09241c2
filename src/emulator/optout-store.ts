/**
 * The emulator's opt-out store: what real Twilio keeps and never shows. Scopes live inside
 * the account that received the keyword; a scope is a sender number or a Messaging Service.
 * Two things write it: inbound keywords, and consent records written through the Consent
 * Management API. How they combine is not documented; here both are events on one timeline:
 * the state of a (scope, end user) pair is its latest event by date (a keyword's `date_sent`,
 * a consent record's `date_of_consent`, or when it was written if it has none), and of two
 * events with the same date, the one applied last wins — the order Twilio saw them in.
 */

import { optOutAddress } from './channels.js';
import { classifyBody, type KeywordClass } from './keywords.js';

export type OptOutScope = 'number' | 'service';
/** What wrote an entry: an inbound keyword, or the Consent Management API. */
export type OptOutSource = 'keyword' | 'consent-api';

export interface OptOutEntry {
  accountSid: string;
  scope: OptOutScope;
  /** The phone number (number scope) or the MG SID (service scope). */
  scopeId: string;
  /** The Twilio number that received the keyword; null for a consent record on a service. */
  senderNumber: string | null;
  recipient: string;
  optedOut: boolean;
  kind: Exclude<KeywordClass, 'help'>;
  source: OptOutSource;
  /** The keyword, its message and body; null for a consent record. */
  keyword: string | null;
  messageSid: string | null;
  body: string | null;
  /** A consent record's `correlation_id` and `source`; null for a keyword. */
  correlationId: string | null;
  consentSource: string | null;
  /** When the event happened: the keyword's date_sent, or the consent's date. */
  dateSent: number;
}

export interface ConsentRecord {
  accountSid: string;
  scope: OptOutScope;
  scopeId: string;
  recipient: string;
  status: 'opt-in' | 'opt-out';
  source: string;
  correlationId: string;
  date: number;
}

export interface InboundForOptOut {
  accountSid: string;
  /** The end user. */
  from: string;
  /** The Twilio number. */
  to: string;
  body: string;
  sid: string;
  dateSent: number;
  messagingServiceSid: string | null;
  numberType: string;
}

const key = (accountSid: string, scopeId: string, recipient: string) =>
  `${accountSid}|${scopeId}|${recipient}`;

export class OptOutStore {
  private readonly entries = new Map<string, OptOutEntry>();

  /** Applies an inbound message; returns the keyword class it carried, if any. */
  receive(message: InboundForOptOut): KeywordClass | null {
    const keyword = classifyBody(message.body, message.numberType);
    if (keyword === null || keyword.kind === 'help') return keyword?.kind ?? null;
    const scope: OptOutScope = message.messagingServiceSid === null ? 'number' : 'service';
    // An RCS keyword is kept under the phone numbers, as an SMS one (`optOutAddress`).
    const sender = optOutAddress(message.to);
    const scopeId = message.messagingServiceSid ?? sender;
    this.apply({
      accountSid: message.accountSid,
      scope,
      scopeId,
      senderNumber: sender,
      recipient: optOutAddress(message.from),
      optedOut: keyword.kind === 'opt-out',
      kind: keyword.kind,
      source: 'keyword',
      keyword: keyword.word,
      messageSid: message.sid,
      body: message.body,
      correlationId: null,
      consentSource: null,
      dateSent: message.dateSent,
    });
    return keyword.kind;
  }

  /** Applies a consent record written through the Consent Management API. */
  consent(record: ConsentRecord): void {
    this.apply({
      accountSid: record.accountSid,
      scope: record.scope,
      scopeId: record.scopeId,
      senderNumber: record.scope === 'number' ? record.scopeId : null,
      recipient: record.recipient,
      optedOut: record.status === 'opt-out',
      kind: record.status,
      source: 'consent-api',
      keyword: null,
      messageSid: null,
      body: null,
      correlationId: record.correlationId,
      consentSource: record.source,
      dateSent: record.date,
    });
  }

  /** Latest by date wins; a late-arriving older event changes nothing. */
  private apply(entry: OptOutEntry): void {
    const k = key(entry.accountSid, entry.scopeId, entry.recipient);
    const current = this.entries.get(k);
    if (current !== undefined && current.dateSent > entry.dateSent) return;
    this.entries.set(k, entry);
  }

  /**
   * The entry that blocks a send from `senderNumber` (optionally via a service), if any. A
   * consent record does not block a send from a US toll-free number: Twilio's STOP override
   * "applies to all messages sent, except US Toll-free numbers" (their carriers keep their
   * own block, which a keyword there sets).
   */
  blocking(
    accountSid: string,
    senderNumber: string,
    serviceSid: string | null,
    recipient: string,
    tollFree = false,
  ): OptOutEntry | undefined {
    const blocks = (entry: OptOutEntry | undefined) =>
      entry?.optedOut === true && !(tollFree && entry.source === 'consent-api');
    const byNumber = this.entries.get(key(accountSid, senderNumber, recipient));
    if (blocks(byNumber)) return byNumber;
    if (serviceSid === null) return undefined;
    const byService = this.entries.get(key(accountSid, serviceSid, recipient));
    return blocks(byService) ? byService : undefined;
  }

  list(): OptOutEntry[] {
    return [...this.entries.values()];
  }

  clear(): void {
    this.entries.clear();
  }
}
