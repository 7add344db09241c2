/**
 * The Consent Management API's rules: each item of a bulk request is checked
 * on its own and answered with error 30646 and its reasons, or written; and the request rate
 * per account. What Twilio leaves undocumented is decided here and said where it is decided.
 */

export const MAX_ITEMS = 25;
export const CONSENT_ERROR = 30646;

export type ConsentReason =
  | 'INVALID_CORRELATION_ID'
  | 'INVALID_SENDER_ID'
  | 'INVALID_CONTACT_ID'
  | 'INVALID_STATUS'
  | 'INVALID_SOURCE'
  | 'INVALID_DATE_OF_CONSENT';

const STATUSES = new Set(['opt-in', 'opt-out']);
const SOURCES = new Set(['website', 'offline', 'opt-in-message', 'opt-out-message', 'others']);
/** E.164 as a phone number: `+`, then 8 to 15 digits (`+19` is not one). */
const E164 = /^\+[1-9]\d{7,14}$/;
/** ISO 8601: a day, or a day and time; a time without a zone is UTC. */
const ISO_8601 =
  /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/;

export interface ValidConsent {
  contactId: string;
  correlationId: string;
  sender: { scope: 'service' | 'number'; id: string };
  status: 'opt-in' | 'opt-out';
  source: string;
  /** Milliseconds, whole seconds; the time of the request when the item gave none. */
  date: number;
}

export type ConsentCheck =
  | { ok: true; consent: ValidConsent }
  | { ok: false; correlationId: string | null; reasons: ConsentReason[] };

/** `date_of_consent` as milliseconds, or null when it is not an ISO 8601 date that exists. */
export function parseConsentDate(text: string): number | null {
  const match = ISO_8601.exec(text);
  if (match === null) return null;
  const day = match[1] as string;
  const ms = Date.parse(`${day}T${match[2] ?? '00:00:00'}${match[3] ?? 'Z'}`);
  // Date.parse rolls 2025-02-30 into March; such a day does not exist.
  if (
    Number.isNaN(ms) ||
    new Date(Date.parse(`${day}T00:00:00Z`)).toISOString().slice(0, 10) !== day
  ) {
    return null;
  }
  return ms;
}

/**
 * Checks every item of one request. A `correlation_id` must be a 32-character string used once
 * in the request: when two items share one, both are refused (neither result could be told
 * apart). `sender_id` must be a Messaging Service of the account or a number it owns
 * (`senderScope` answers which, or null). `date_of_consent` may not lie after `now`.
 */
export function checkConsentItems(
  items: readonly Record<string, unknown>[],
  senderScope: (senderId: string) => 'service' | 'number' | null,
  now: number,
): ConsentCheck[] {
  const uses = new Map<unknown, number>();
  for (const item of items)
    uses.set(item['correlation_id'], (uses.get(item['correlation_id']) ?? 0) + 1);

  return items.map((item) => {
    const reasons: ConsentReason[] = [];
    const { correlation_id: correlationId, contact_id: contactId, sender_id: senderId } = item;
    const { status, source, date_of_consent: dateText } = item;
    if (
      typeof correlationId !== 'string' ||
      correlationId.length !== 32 ||
      uses.get(correlationId) !== 1
    ) {
      reasons.push('INVALID_CORRELATION_ID');
    }
    const scope = typeof senderId === 'string' ? senderScope(senderId) : null;
    if (scope === null) reasons.push('INVALID_SENDER_ID');
    if (typeof contactId !== 'string' || !E164.test(contactId)) reasons.push('INVALID_CONTACT_ID');
    if (typeof status !== 'string' || !STATUSES.has(status)) reasons.push('INVALID_STATUS');
    if (typeof source !== 'string' || !SOURCES.has(source)) reasons.push('INVALID_SOURCE');
    let date = now;
    if (dateText !== undefined && dateText !== null && dateText !== '') {
      const parsed = typeof dateText === 'string' ? parseConsentDate(dateText) : null;
      if (parsed === null || parsed > now) reasons.push('INVALID_DATE_OF_CONSENT');
      else date = Math.floor(parsed / 1000) * 1000;
    }
    if (reasons.length > 0) {
      return {
        ok: false,
        correlationId: typeof correlationId === 'string' ? correlationId : null,
        reasons,
      };
    }
    return {
      ok: true,
      consent: {
        contactId: contactId as string,
        correlationId: correlationId as string,
        sender: { scope: scope!, id: senderId as string },
        status: status as 'opt-in' | 'opt-out',
        source: source as string,
        date,
      },
    };
  });
}

/**
 * At most `limit` requests per account in any 60 seconds of the emulator clock (Twilio: 100 a
 * minute). A request counts when the limiter lets it through, whatever its answer.
 */
export class SlidingWindowLimiter {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly windowMs = 60_000) {}

  admit(accountSid: string, now: number, limit: number): boolean {
    const recent = (this.times.get(accountSid) ?? []).filter((t) => t > now - this.windowMs);
    const admitted = recent.length < limit;
    if (admitted) recent.push(now);
    this.times.set(accountSid, recent);
    return admitted;
  }

  clear(): void {
    this.times.clear();
  }
}
