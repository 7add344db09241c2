/**
 * Channel addresses as Twilio writes them in a Message's `from` and `to`: `rcs:+14155551234`,
 * `whatsapp:+14155551234`, an RCS agent (`rcs:brand_agent`), `messenger:…`; beside them short
 * codes (`12345`) and alphanumeric sender IDs (`OWLIE`), which are no channel. The emulator
 * keeps every address as given and reads the phone number out of it only to find the Twilio
 * number a message belongs to and to key the opt-out store.
 */

/** `channel:` at the start of an address: letters, then a colon. */
const CHANNEL = /^([a-z]+):(.*)$/i;

/** The phone number (or other sender) an address names: its channel prefix taken off. */
export function phoneOfAddress(address: string): string {
  return CHANNEL.exec(address)?.[2] ?? address;
}

/**
 * The address an opt-out is kept under. Twilio unified RCS, SMS and MMS opt-outs per sender
 * or Messaging Service from 16 March 2026: an RCS STOP blocks SMS from that sender too, so an
 * `rcs:+1…` address is its phone number (an agent, `rcs:brand_agent`, stays as it is). A STOP over WhatsApp is not documented as an SMS
 * opt-out: any other channel keeps its prefix, so its keywords never block an SMS or RCS send.
 */
export function optOutAddress(address: string): string {
  return /^rcs:\+\d+$/i.test(address) ? phoneOfAddress(address) : address;
}
