/**
 * The emulator's world: accounts, API keys, phone numbers, Messaging Services, messages and
 * the hidden opt-out store, with Twilio's rules for changing them. HTTP lives elsewhere; this
 * module only knows records and throws `ApiError` with Twilio's codes.
 */

import { ApiError } from './api-error.js';
import { SlidingWindowLimiter } from './consent.js';
import { dayBounds } from './exports/day-files.js';
import { ExportStore } from './exports/export-store.js';
import { MessageStore, type MessageDirection, type MessageRecord } from './message-store.js';
import { OptOutStore } from './optout-store.js';
import { createSidFactory, type SidFactory } from './random.js';
import { SettingsStore } from './settings.js';

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
  smsUrl: string;
  voiceUrl: string;
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
  inboundRequestUrl: string | null;
  statusCallback: string | null;
  stickySender: boolean;
  usecase: string;
  dateCreated: number;
  dateUpdated: number;
  /** Member PN SIDs in the order they joined. */
  numbers: Set<string>;
}

export interface NewMessage {
  accountSid: string;
  from: string;
  to: string;
  body: string;
  direction: MessageDirection;
  status: string;
  dateSent: number;
  errorCode?: number | null;
  messagingServiceSid?: string | null;
  sid?: string;
}

export interface EmulatorStateOptions {
  seed: number;
  parentSid: string;
  parentToken: string;
  now: () => number;
}

const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

export function formatFriendlyNumber(e164: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : e164;
}

export class EmulatorState {
  readonly accounts = new Map<string, AccountRecord>();
  readonly keys = new Map<string, ApiKeyRecord>();
  readonly numbers = new Map<string, NumberRecord>();
  private readonly numbersByPhone = new Map<string, NumberRecord>();
  readonly services = new Map<string, ServiceRecord>();
  readonly messages = new MessageStore();
  readonly optOuts = new OptOutStore();
  /** Per-account settings kept outside the REST API (retention, Consent API, exports). */
  readonly settings = new SettingsStore();
  /** Bulk Export jobs and the day files they left. */
  readonly exports = new ExportStore();
  /** Consent Management API requests per account, for its rate limit. */
  readonly consentRequests = new SlidingWindowLimiter();
  sids: SidFactory;
  readonly parentSid: string;

  constructor(private readonly options: EmulatorStateOptions) {
    this.parentSid = options.parentSid;
    this.sids = createSidFactory(options.seed);
    this.reset();
  }

  now(): number {
    return wholeSeconds(this.options.now());
  }

  /** Empty state; the parent account stays, and SIDs start again from the seed. */
  reset(): void {
    this.accounts.clear();
    this.keys.clear();
    this.numbers.clear();
    this.numbersByPhone.clear();
    this.services.clear();
    this.messages.clear();
    this.optOuts.clear();
    this.settings.clear();
    this.exports.clear();
    this.consentRequests.clear();
    this.sids = createSidFactory(this.options.seed);
    const now = this.now();
    this.accounts.set(this.parentSid, {
      sid: this.parentSid,
      authToken: this.options.parentToken,
      friendlyName: 'Owlie Notifications',
      status: 'active',
      ownerSid: this.parentSid,
      dateCreated: now,
      dateUpdated: now,
    });
  }

  /** Completes the Bulk Export jobs whose time has come on the emulator clock. */
  settleExports(): void {
    this.exports.settle(this.now(), (accountSid, day) =>
      this.messages.countBetween(accountSid, ...dayBounds(day)),
    );
  }

  // ── accounts ───────────────────────────────────────────────────────────────────────────

  account(sid: string): AccountRecord | undefined {
    return this.accounts.get(sid);
  }

  isMain(account: AccountRecord): boolean {
    return account.ownerSid === account.sid;
  }

  createSubaccount(
    owner: AccountRecord,
    init: { friendlyName?: string; sid?: string; authToken?: string; status?: AccountStatus },
  ): AccountRecord {
    if (!this.isMain(owner)) {
      throw new ApiError(400, 21101, 'Subaccounts cannot contain subaccounts');
    }
    const open = [...this.accounts.values()].filter(
      (a) => a.ownerSid === owner.sid && a.sid !== owner.sid && a.status !== 'closed',
    ).length;
    if (open >= SUBACCOUNT_LIMIT) {
      throw new ApiError(400, 21480, 'Reached maximum number of subaccounts');
    }
    const now = this.now();
    const sid = init.sid ?? this.sids.next('AC');
    if (this.accounts.has(sid)) throw new ApiError(400, 20001, `Account ${sid} already exists`);
    const account: AccountRecord = {
      sid,
      authToken: init.authToken ?? this.sids.next('').slice(0, 32),
      friendlyName: init.friendlyName ?? defaultSubaccountName(now),
      status: init.status ?? 'active',
      ownerSid: owner.sid,
      dateCreated: now,
      dateUpdated: now,
    };
    this.accounts.set(sid, account);
    return account;
  }

  updateAccountStatus(account: AccountRecord, status: string): void {
    if (this.isMain(account)) {
      throw new ApiError(400, 21477, 'Unable to update Status for parent accounts');
    }
    if (status !== 'active' && status !== 'suspended' && status !== 'closed') {
      throw new ApiError(400, 21475, 'Unable to update Status, invalid Status.');
    }
    if (account.status === 'closed') {
      if (status === 'closed') return;
      throw new ApiError(
        400,
        21479,
        'Unable to update Status for subaccount, subaccount has been closed.',
      );
    }
    account.status = status;
    account.dateUpdated = this.now();
    if (status === 'closed') {
      // Closing releases every number the subaccount holds; it can never come back.
      for (const number of [...this.numbers.values()]) {
        if (number.accountSid === account.sid) this.releaseNumber(number);
      }
    }
  }

  /** Accounts in the family of a main account: itself and its subaccounts. */
  family(mainSid: string): AccountRecord[] {
    return [...this.accounts.values()].filter((a) => a.ownerSid === mainSid);
  }

  // ── API keys ───────────────────────────────────────────────────────────────────────────

  createKey(init: {
    accountSid?: string;
    kind?: 'main' | 'standard';
    sid?: string;
    secret?: string;
  }): ApiKeyRecord {
    const accountSid = init.accountSid ?? this.parentSid;
    if (!this.accounts.has(accountSid)) throw new ApiError(400, 20404, `No account ${accountSid}`);
    const key: ApiKeyRecord = {
      sid: init.sid ?? this.sids.next('SK'),
      secret: init.secret ?? this.sids.next('').slice(0, 32),
      accountSid,
      kind: init.kind ?? 'standard',
    };
    this.keys.set(key.sid, key);
    return key;
  }

  // ── phone numbers ──────────────────────────────────────────────────────────────────────

  addNumber(init: {
    phoneNumber: string;
    accountSid?: string;
    sid?: string;
    type?: NumberType;
    smsUrl?: string;
    voiceUrl?: string;
    friendlyName?: string;
  }): NumberRecord {
    if (!/^\+\d{4,15}$/.test(init.phoneNumber)) {
      throw new ApiError(400, 21421, `Phone Number is invalid: ${init.phoneNumber}`);
    }
    if (this.numberByPhone(init.phoneNumber) !== undefined) {
      throw new ApiError(400, 21422, `Phone number ${init.phoneNumber} is already provisioned`);
    }
    const accountSid = init.accountSid ?? this.parentSid;
    if (!this.accounts.has(accountSid)) throw new ApiError(400, 20404, `No account ${accountSid}`);
    const now = this.now();
    const number: NumberRecord = {
      sid: init.sid ?? this.sids.next('PN'),
      accountSid,
      phoneNumber: init.phoneNumber,
      friendlyName: init.friendlyName ?? formatFriendlyNumber(init.phoneNumber),
      type: init.type ?? 'local',
      smsUrl: init.smsUrl ?? '',
      voiceUrl: init.voiceUrl ?? '',
      serviceSid: null,
      serviceJoinedAt: null,
      dateCreated: now,
      dateUpdated: now,
    };
    this.numbers.set(number.sid, number);
    this.numbersByPhone.set(number.phoneNumber, number);
    return number;
  }

  numberByPhone(phoneNumber: string): NumberRecord | undefined {
    return this.numbersByPhone.get(phoneNumber);
  }

  /**
   * Moves a number between accounts of one family. Twilio's checks, in Twilio's order:
   * the caller must be the main account (21474), the target related (21473) and active (21472).
   * Service membership does not cross accounts, so it is dropped; opt-outs stay behind in the
   * losing account's store: the problem submigrate exists for.
   */
  transferNumber(caller: AccountRecord, number: NumberRecord, targetSid: string): void {
    if (!this.isMain(caller)) {
      throw new ApiError(
        400,
        21474,
        'API User must be the parent account to transfer phone numbers.',
      );
    }
    const owner = this.accounts.get(number.accountSid);
    const target = this.accounts.get(targetSid);
    if (owner === undefined || target === undefined || target.ownerSid !== owner.ownerSid) {
      throw new ApiError(
        400,
        21473,
        'AccountSid you are transferring to is not related to the originating owner of the phone number',
      );
    }
    if (target.status !== 'active') {
      throw new ApiError(
        400,
        21472,
        'Account is not active. To transfer a phone number you must supply an Active 34 character AccountSid',
      );
    }
    if (target.sid === number.accountSid) return;
    this.leaveService(number);
    number.accountSid = target.sid;
    number.dateUpdated = this.now();
  }

  releaseNumber(number: NumberRecord): void {
    this.leaveService(number);
    this.numbers.delete(number.sid);
    this.numbersByPhone.delete(number.phoneNumber);
  }

  // ── Messaging Services ─────────────────────────────────────────────────────────────────

  createService(
    accountSid: string,
    init: {
      friendlyName: string;
      sid?: string;
      inboundRequestUrl?: string | null;
      statusCallback?: string | null;
      stickySender?: boolean;
      usecase?: string;
    },
  ): ServiceRecord {
    const now = this.now();
    const service: ServiceRecord = {
      sid: init.sid ?? this.sids.next('MG'),
      accountSid,
      friendlyName: init.friendlyName,
      inboundRequestUrl: init.inboundRequestUrl ?? null,
      statusCallback: init.statusCallback ?? null,
      stickySender: init.stickySender ?? true,
      usecase: init.usecase ?? 'undeclared',
      dateCreated: now,
      dateUpdated: now,
      numbers: new Set(),
    };
    this.services.set(service.sid, service);
    return service;
  }

  /** Adds a number to a service: one service per number, 400 numbers per service. */
  joinService(service: ServiceRecord, numberSid: string): NumberRecord {
    const number = this.numbers.get(numberSid);
    if (number === undefined || number.accountSid !== service.accountSid) {
      throw new ApiError(400, 21421, 'Phone Number is invalid');
    }
    if (number.serviceSid === service.sid) {
      throw new ApiError(
        409,
        21710,
        'Phone Number or Short Code is already in the Messaging Service.',
      );
    }
    if (number.serviceSid !== null) {
      throw new ApiError(
        409,
        21712,
        'Phone Number or Short Code is associated with another Messaging Service.',
      );
    }
    if (service.numbers.size >= SERVICE_POOL_LIMIT) {
      throw new ApiError(400, 21714, 'Messaging Service Number Pool size limit reached');
    }
    service.numbers.add(number.sid);
    number.serviceSid = service.sid;
    number.serviceJoinedAt = this.now();
    return number;
  }

  leaveService(number: NumberRecord): void {
    if (number.serviceSid === null) return;
    this.services.get(number.serviceSid)?.numbers.delete(number.sid);
    number.serviceSid = null;
    number.serviceJoinedAt = null;
  }

  deleteService(service: ServiceRecord): void {
    for (const numberSid of service.numbers) {
      const number = this.numbers.get(numberSid);
      if (number !== undefined) this.leaveService(number);
    }
    this.services.delete(service.sid);
  }

  // ── messages ───────────────────────────────────────────────────────────────────────────

  /**
   * Stores a message as history. Inbound messages go through the opt-out store of the
   * account that received them, exactly as live ones do.
   */
  recordMessage(init: NewMessage): MessageRecord {
    const dateSent = wholeSeconds(init.dateSent);
    const record = this.messages.add({
      sid: init.sid ?? this.sids.next('SM'),
      accountSid: init.accountSid,
      from: init.from,
      to: init.to,
      body: init.body,
      direction: init.direction,
      status: init.status,
      dateSent,
      dateCreated: dateSent,
      dateUpdated: dateSent,
      errorCode: init.errorCode ?? null,
      messagingServiceSid: init.messagingServiceSid ?? null,
      numSegments: Math.max(1, Math.ceil(init.body.length / 160)),
      price: init.status === 'failed' ? null : '-0.00790',
    });
    if (record.direction === 'inbound') {
      this.optOuts.receive({
        accountSid: record.accountSid,
        from: record.from,
        to: record.to,
        body: record.body,
        sid: record.sid,
        dateSent: record.dateSent,
        messagingServiceSid: record.messagingServiceSid,
        numberType: this.numberByPhone(record.to)?.type ?? 'local',
      });
    }
    return record;
  }

  /** An end user texts a Twilio number: stored in the number's current account. */
  receiveInbound(init: {
    from: string;
    to: string;
    body: string;
    dateSent?: number;
  }): MessageRecord {
    const number = this.numberByPhone(init.to);
    if (number === undefined) {
      throw new ApiError(404, 20404, `No phone number ${init.to} in the emulator`);
    }
    return this.recordMessage({
      accountSid: number.accountSid,
      from: init.from,
      to: init.to,
      body: init.body,
      direction: 'inbound',
      status: 'received',
      dateSent: init.dateSent ?? this.now(),
      messagingServiceSid: number.serviceSid,
    });
  }

  /**
   * A send through the API. Refused with 21610 when the recipient opted out of the sender
   * number, or of the Messaging Service the sender belongs to, in this account.
   */
  sendMessage(
    account: AccountRecord,
    init: { to: string; body: string; from?: string; messagingServiceSid?: string },
  ): MessageRecord {
    if (account.status !== 'active') {
      throw new ApiError(403, 20403, 'The account lacks permission to access the Twilio API.');
    }
    let service: ServiceRecord | undefined;
    if (init.messagingServiceSid !== undefined) {
      service = this.services.get(init.messagingServiceSid);
      if (service === undefined || service.accountSid !== account.sid) {
        throw new ApiError(400, 21701, 'The Messaging Service Sid is invalid');
      }
    }
    let sender: NumberRecord | undefined;
    if (init.from !== undefined) {
      sender = this.numberByPhone(init.from);
      if (sender === undefined || sender.accountSid !== account.sid) {
        throw new ApiError(
          400,
          21606,
          `The From phone number ${init.from} is not a valid, SMS-capable inbound phone number or short code for your account.`,
        );
      }
    } else if (service !== undefined) {
      const first = service.numbers.values().next();
      if (first.done) {
        throw new ApiError(
          400,
          21703,
          'The Messaging Service does not have a phone number available to send a message',
        );
      }
      sender = this.numbers.get(first.value);
    }
    if (sender === undefined) {
      throw new ApiError(400, 21603, "A 'From' phone number is required.");
    }
    const blocked = this.optOuts.blocking(
      account.sid,
      sender.phoneNumber,
      service?.sid ?? sender.serviceSid,
      init.to,
    );
    if (blocked !== undefined) {
      throw new ApiError(400, 21610, 'Attempt to send to unsubscribed recipient');
    }
    return this.recordMessage({
      accountSid: account.sid,
      from: sender.phoneNumber,
      to: init.to,
      body: init.body,
      direction: 'outbound-api',
      status: service === undefined ? 'queued' : 'accepted',
      dateSent: this.now(),
      messagingServiceSid: service?.sid ?? sender.serviceSid,
    });
  }
}

/** Twilio's default FriendlyName for a subaccount created without one. */
function defaultSubaccountName(now: number): string {
  const d = new Date(now);
  const hours = d.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  const h12 = hours % 12 === 0 ? 12 : hours % 12;
  return `SubAccount Created at ${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(h12)}:${pad(d.getUTCMinutes())} ${hours < 12 ? 'am' : 'pm'}`;
}
