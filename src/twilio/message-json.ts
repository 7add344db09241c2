/**
 * A Message as Twilio writes it in JSON (snake_case), from a Messages list page or a Bulk
 * Export day file, into the port's Message. The list writes dates in RFC 2822, a day file in
 * ISO 8601; Date.parse reads both. A day file may write error_code as a string.
 */

import type { Message, MessageDirection } from './port.js';

export interface MessageJson {
  sid: string;
  account_sid: string;
  from: string | null;
  to: string | null;
  body: string | null;
  direction: string;
  status: string;
  date_sent: string | null;
  date_created: string | null;
  error_code: number | string | null;
  messaging_service_sid: string | null;
}

/**
 * The first field a message record lacks (absent, null or empty) that the ledger cannot keep
 * a message without: its SID, account and direction. Null when it has them all.
 */
export function missingMessageField(record: Record<string, unknown>): string | null {
  for (const field of ['sid', 'account_sid', 'direction'] as const) {
    const value = record[field];
    if (typeof value !== 'string' || value === '') return field;
  }
  return null;
}

/** A record's SID as an error may name it, or that it has none. */
export const recordSid = (record: Record<string, unknown>): string =>
  typeof record['sid'] === 'string' && record['sid'] !== ''
    ? `message ${record['sid']}`
    : 'a message without a sid';

/** An ISO 8601 datetime without an offset: `2025-01-31T20:00:00`, `2025-01-31 20:00:00.000`. */
const WITHOUT_OFFSET = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

export const parseDate = (value: string | null | undefined): Date | null => {
  if (value === null || value === undefined || value === '') return null;
  // Twilio's dates are UTC (Bulk Export: "timestamps … are in UTC and ISO 8601 format"), and
  // Date.parse reads a datetime written without its `Z` in the machine's own time zone: one
  // STOP would be dated hours apart, in or out of a window, on two machines.
  const bare = WITHOUT_OFFSET.exec(value.trim());
  const ms = Date.parse(bare === null ? value : `${bare[1]}T${bare[2]}Z`);
  return Number.isNaN(ms) ? null : new Date(ms);
};

const errorCode = (value: number | string | null | undefined) => {
  if (value === null || value === undefined || value === '') return null;
  const code = Number(value);
  return Number.isNaN(code) ? null : code;
};

export const fromMessageJson = (m: MessageJson): Message => ({
  sid: m.sid,
  accountSid: m.account_sid,
  // A send a Messaging Service refused (21610) before choosing a sender has no `from`: it is
  // evidence all the same (its scope is the service), and the ledger keeps no row without it.
  from: m.from ?? '',
  to: m.to ?? '',
  body: m.body ?? '',
  direction: m.direction as MessageDirection,
  status: m.status,
  dateSent: parseDate(m.date_sent) ?? parseDate(m.date_created),
  errorCode: errorCode(m.error_code),
  // As for error_code, a day file may write "" for none: such a message is number scope.
  messagingServiceSid: m.messaging_service_sid || null,
});
