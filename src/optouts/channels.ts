/**
 * The addresses in a Message's `from` and `to`. Twilio lists every channel in one Messages
 * list: besides E.164 numbers, channel addresses (`rcs:+14155551234`, `whatsapp:+14155551234`,
 * an RCS agent `rcs:brand_agent`, `messenger:…`), short codes (`12345`) and alphanumeric sender
 * IDs (`OWLIE`). A suppression list is enforced by the customer's app, which compares E.164
 * numbers, and by Twilio, which keeps RCS and SMS opt-outs as one per sender or service
 * (docs/opt-out-rules.md, Channels): a channel address that carries a phone number stands for
 * that number, and the channel it came over is kept beside it.
 */

/** A channel prefix (letters, then a colon) and what follows it. */
const CHANNEL_ADDRESS = /^([A-Za-z]+):(.*)$/;

/** E.164: `+`, then 8 to 15 digits, the first not 0 (as the mapping takes them). */
const E164 = /^\+[1-9]\d{7,14}$/;

export interface Address {
  /** The E.164 number a channel address carries; any other address as written. */
  address: string;
  /** The channel prefix in lower case (`rcs`, `whatsapp`, …); null for an address with none. */
  channel: string | null;
}

export function splitAddress(written: string): Address {
  const match = CHANNEL_ADDRESS.exec(written);
  if (match === null) return { address: written, channel: null };
  const [, channel, rest] = match as unknown as [string, string, string];
  return { address: E164.test(rest) ? rest : written, channel: channel.toLowerCase() };
}

/** Whether an address is an E.164 phone number (not an agent, short code or sender ID). */
export const isPhoneNumber = (address: string): boolean => E164.test(address);
