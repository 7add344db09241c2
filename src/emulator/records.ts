/**
 * The records the emulator keeps for Twilio's resources (messages live in message-store.ts,
 * opt-outs in optout-store.ts). Plain data: the rules for changing them are in state.ts.
 */

import type { NumberSettings, ServiceSettings } from './resource-settings.js';

export type AccountStatus = 'active' | 'suspended' | 'closed';
export type NumberType = 'local' | 'toll-free' | 'short-code';

export const SUBACCOUNT_LIMIT = 1000;
export const SERVICE_POOL_LIMIT = 400;

export interface AccountRecord {
  sid: string;
  authToken: string;
  friendlyName: string;
  status: AccountStatus;
  /** The main account's SID; a main account owns itself. */
  ownerSid: string;
  dateCreated: number;
  dateUpdated: number;
}

export interface ApiKeyRecord {
  sid: string;
  secret: string;
  accountSid: string;
  /** Main keys may manage subaccounts; standard keys may not touch /Accounts. */
  kind: 'main' | 'standard';
}

export interface NumberRecord {
  sid: string;
  accountSid: string;
  phoneNumber: string;
  friendlyName: string;
  type: NumberType;
  /** SMS and voice webhooks; they stay with the number when it moves between accounts. */
  settings: NumberSettings;
  serviceSid: string | null;
  /** When the number joined its current service. */
  serviceJoinedAt: number | null;
  dateCreated: number;
  dateUpdated: number;
}

export interface ServiceRecord {
  sid: string;
  accountSid: string;
  friendlyName: string;
  /** Every configurable field of the Services API, inbound routing included. */
  settings: ServiceSettings;
  dateCreated: number;
  dateUpdated: number;
  /** Member PN SIDs in the order they joined. */
  numbers: Set<string>;
}

export function formatFriendlyNumber(e164: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : e164;
}

/** How many SMS segments a body takes (160 characters each, as the emulator counts). */
export function segmentCount(body: string): number {
  return Math.max(1, Math.ceil(body.length / 160));
}
