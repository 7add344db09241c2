/**
 * The emulator's opt-out store: what real Twilio keeps and never shows. Scopes live inside
 * the account that received the keyword; a scope is a sender number or a Messaging Service.
 * The state of a (scope, end user) pair is its latest keyword event by date_sent.
 */

import { classifyBody, type KeywordClass } from './keywords.js';

export type OptOutScope = 'number' | 'service';

export interface OptOutEntry {
  accountSid: string;
  scope: OptOutScope;
  /** The phone number (number scope) or the MG SID (service scope). */
  scopeId: string;
  /** The Twilio number that received the keyword. */
  senderNumber: string;
  recipient: string;
  optedOut: boolean;
  keyword: string;
  kind: Exclude<KeywordClass, 'help'>;
  messageSid: string;
  body: string;
  dateSent: number;
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
    const scopeId = message.messagingServiceSid ?? message.to;
    const k = key(message.accountSid, scopeId, message.from);
    const current = this.entries.get(k);
    // Latest by date_sent wins; a late-arriving older event changes nothing.
    if (current !== undefined && current.dateSent > message.dateSent) return keyword.kind;
    this.entries.set(k, {
      accountSid: message.accountSid,
      scope,
      scopeId,
      senderNumber: message.to,
      recipient: message.from,
      optedOut: keyword.kind === 'opt-out',
      keyword: keyword.word,
      kind: keyword.kind,
      messageSid: message.sid,
      body: message.body,
      dateSent: message.dateSent,
    });
    return keyword.kind;
  }

  /** The entry that blocks a send from `senderNumber` (optionally via a service), if any. */
  blocking(
    accountSid: string,
    senderNumber: string,
    serviceSid: string | null,
    recipient: string,
  ): OptOutEntry | undefined {
    const byNumber = this.entries.get(key(accountSid, senderNumber, recipient));
    if (byNumber?.optedOut) return byNumber;
    if (serviceSid === null) return undefined;
    const byService = this.entries.get(key(accountSid, serviceSid, recipient));
    return byService?.optedOut ? byService : undefined;
  }

  list(): OptOutEntry[] {
    return [...this.entries.values()];
  }

  clear(): void {
    this.entries.clear();
  }
}
