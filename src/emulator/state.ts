/**
 * The emulator's world: accounts, API keys, phone numbers, Messaging Services, messages, the
 * hidden opt-out store, per-account settings and Bulk Export jobs, with Twilio's rules for
 * numbers and services. The rules for accounts are in accounts.ts, for sends in send.ts, for
 * live inbound messages in inbound.ts. HTTP lives elsewhere; this module only knows records
 * and throws `ApiError` with Twilio's codes.
 */

import { createHash } from 'node:crypto';

import { ApiError } from './api-error.js';
import { phoneOfAddress } from './channels.js';
import { SlidingWindowLimiter } from './consent.js';
import { dayBounds } from './exports/day-files.js';
import { ExportStore } from './exports/export-store.js';
import type { KeywordClass } from './keywords.js';
import { MessageStore, type MessageDirection, type MessageRecord } from './message-store.js';
import {
  formatFriendlyNumber,
  segmentCount,
  SERVICE_POOL_LIMIT,
  type AccountRecord,
  type ApiKeyRecord,
  type NumberRecord,
  type NumberType,
  type ServiceRecord,
} from './records.js';
import { OptOutStore } from './optout-store.js';
import { createSidFactory, type SidFactory } from './random.js';
import {
  DEFAULT_NUMBER_SETTINGS,
  DEFAULT_SERVICE_SETTINGS,
  type NumberSettings,
  type ServiceSettings,
} from './resource-settings.js';
import { SettingsStore } from './settings.js';

export * from './records.js';

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

/** The kinds of resource the emulator makes SIDs for, by their SID prefix. */
export type SidKind = 'AC' | 'SK' | 'PN' | 'MG' | 'SM' | 'JS';

export class EmulatorState {
  readonly accounts = new Map<string, AccountRecord>();
  readonly keys = new Map<string, ApiKeyRecord>();
  readonly numbers = new Map<string, NumberRecord>();
  private readonly numbersByPhone = new Map<string, NumberRecord>();
  /** Per account, its numbers in list order: a 100,000-number list is paged, not re-sorted. */
  private readonly ownedNumbers = new Map<string, NumberRecord[]>();
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
  /** SIDs a seed document gives explicitly, kept free of generated SIDs while it is applied. */
  private readonly reservedSids = new Set<string>();
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
    this.ownedNumbers.clear();
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

  // ── SIDs ───────────────────────────────────────────────────────────────────────────────

  /**
   * What already uses a SID of a kind, named for a person (`number +1…`); undefined when
   * nothing does.
   */
  sidHolder(kind: SidKind, sid: string): string | undefined {
    switch (kind) {
      case 'AC': {
        const account = this.accounts.get(sid);
        if (account === undefined) return undefined;
        return this.isMain(account)
          ? `the parent account "${account.friendlyName}"`
          : `subaccount "${account.friendlyName}"`;
      }
      case 'SK': {
        const key = this.keys.get(sid);
        return key === undefined ? undefined : `an API key of ${key.accountSid}`;
      }
      case 'PN': {
        const number = this.numbers.get(sid);
        return number === undefined ? undefined : `number ${number.phoneNumber}`;
      }
      case 'MG': {
        const service = this.services.get(sid);
        return service === undefined ? undefined : `service "${service.friendlyName}"`;
      }
      case 'SM': {
        const message = this.messages.get(sid);
        return message === undefined
          ? undefined
          : `a message from ${message.from} to ${message.to}`;
      }
      case 'JS': {
        const job = this.exports.job(sid);
        return job === undefined ? undefined : `Bulk Export job "${job.friendlyName}"`;
      }
    }
  }

  /**
   * A new SID of a kind: the seeded stream's next one, skipping any SID already in use (a
   * resource seeded with an explicit SID, copied from an earlier run with the same seed, must
   * not be overwritten or aliased by a new one).
   */
  newSid(kind: SidKind): string {
    for (;;) {
      const sid = this.sids.next(kind);
      if (!this.reservedSids.has(sid) && this.sidHolder(kind, sid) === undefined) return sid;
    }
  }

  /** An explicit SID for a new resource (`what`): refused with 400 when one already uses it. */
  checkSidFree(kind: SidKind, sid: string, what: string): void {
    const holder = this.sidHolder(kind, sid);
    if (holder !== undefined) {
      throw new ApiError(400, 20001, `${what}: SID ${sid} is already used by ${holder}`);
    }
  }

  /** `fn` with these SIDs kept from the generated ones (a seed's explicit SIDs, made later). */
  withReservedSids<T>(sids: readonly string[], fn: () => T): T {
    const added = sids.filter((sid) => !this.reservedSids.has(sid));
    for (const sid of added) this.reservedSids.add(sid);
    try {
      return fn();
    } finally {
      for (const sid of added) this.reservedSids.delete(sid);
    }
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

  /** Accounts in the family of a main account: itself and its subaccounts. */
  family(mainSid: string): AccountRecord[] {
    return [...this.accounts.values()].filter((a) => a.ownerSid === mainSid);
  }

  // ── phone numbers ──────────────────────────────────────────────────────────────────────

  addNumber(init: {
    phoneNumber: string;
    accountSid?: string;
    sid?: string;
    type?: NumberType;
    settings?: Partial<NumberSettings>;
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
    if (init.sid !== undefined) this.checkSidFree('PN', init.sid, `number ${init.phoneNumber}`);
    const now = this.now();
    const number: NumberRecord = {
      sid: init.sid ?? this.newSid('PN'),
      accountSid,
      phoneNumber: init.phoneNumber,
      friendlyName: init.friendlyName ?? formatFriendlyNumber(init.phoneNumber),
      type: init.type ?? 'local',
      settings: { ...DEFAULT_NUMBER_SETTINGS, ...init.settings },
      serviceSid: null,
      serviceJoinedAt: null,
      dateCreated: now,
      dateUpdated: now,
    };
    this.numbers.set(number.sid, number);
    this.numbersByPhone.set(number.phoneNumber, number);
    this.ownedNumbers.clear();
    return number;
  }

  numberByPhone(phoneNumber: string): NumberRecord | undefined {
    return this.numbersByPhone.get(phoneNumber);
  }

  /** The number a message's Twilio-side address names: `rcs:+1…` and `whatsapp:+1…` too. */
  numberByAddress(address: string): NumberRecord | undefined {
    return this.numbersByPhone.get(phoneOfAddress(address));
  }

  /** An account's numbers in list order (oldest first), kept until a number is added, moved or released. */
  numbersOf(accountSid: string): readonly NumberRecord[] {
    let owned = this.ownedNumbers.get(accountSid);
    if (owned === undefined) {
      // SIDs by their characters, not localeCompare: the host's locale (Danish sorts `aa` after
      // `z`) would list numbers made in one millisecond in another order on another machine.
      owned = [...this.numbers.values()]
        .filter((n) => n.accountSid === accountSid)
        .sort(
          (a, b) => a.dateCreated - b.dateCreated || (a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0),
        );
      this.ownedNumbers.set(accountSid, owned);
    }
    return owned;
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
    this.ownedNumbers.clear();
    number.dateUpdated = this.now();
  }

  releaseNumber(number: NumberRecord): void {
    this.leaveService(number);
    this.numbers.delete(number.sid);
    this.numbersByPhone.delete(number.phoneNumber);
    this.ownedNumbers.clear();
  }

  // ── Messaging Services ─────────────────────────────────────────────────────────────────

  createService(
    accountSid: string,
    init: { friendlyName: string; sid?: string; settings?: Partial<ServiceSettings> },
  ): ServiceRecord {
    if (init.sid !== undefined) {
      this.checkSidFree('MG', init.sid, `service "${init.friendlyName}"`);
    }
    const now = this.now();
    const service: ServiceRecord = {
      sid: init.sid ?? this.newSid('MG'),
      accountSid,
      friendlyName: init.friendlyName,
      // Twilio's defaults for whatever the caller leaves out (a name-only service drops inbound).
      settings: { ...DEFAULT_SERVICE_SETTINGS, ...init.settings },
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
    // No account has history from before it existed: history seeded further back makes the
    // account that much older (its date_created is where a reader may start).
    const account = this.accounts.get(init.accountSid);
    if (account !== undefined && dateSent < account.dateCreated) account.dateCreated = dateSent;
    if (init.sid !== undefined) {
      this.checkSidFree('SM', init.sid, `message from ${init.from} to ${init.to}`);
    }
    const record = this.messages.add({
      sid: init.sid ?? this.newSid('SM'),
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
      messagingServiceSid: init.messagingServiceSid ?? this.defaultServiceSid(init.accountSid),
      numSegments: segmentCount(init.body),
      price: init.status === 'failed' ? null : '-0.00790',
    });
    if (record.direction === 'inbound') {
      // Twilio's opt-out scope is the real service, else the number: a default SID is no
      // service, so it does not widen a STOP to every number without one.
      this.applyKeyword({ ...record, messagingServiceSid: init.messagingServiceSid ?? null });
    }
    return record;
  }

  /**
   * What a message of this account without a Messaging Service carries in
   * `messaging_service_sid`: null, or with the account's `default_service_sid` setting one
   * synthetic `MG` SID, the same for every such message of the account and no service's.
   */
  defaultServiceSid(accountSid: string): string | null {
    if (!this.settings.get(accountSid).default_service_sid) return null;
    const digest = createHash('sha256').update(`default service of ${accountSid}`).digest('hex');
    return `MG${digest.slice(0, 32)}`;
  }

  /**
   * Twilio's opt-out filtering of an inbound message, in the account that received it: a
   * keyword changes the opt-out store. Returns the keyword's class, if the body is one.
   */
  applyKeyword(message: {
    accountSid: string;
    from: string;
    to: string;
    body: string;
    sid: string;
    dateSent: number;
    messagingServiceSid: string | null;
  }): KeywordClass | null {
    return this.optOuts.receive({
      ...message,
      numberType: this.numberByAddress(message.to)?.type ?? 'local',
    });
  }
}
