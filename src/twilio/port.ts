/**
 * The port: every Twilio operation submigrate needs, in our own types. Stages depend on
 * this interface, never on the SDK; `adapter.ts` implements it on the real twilio SDK.
 */

export type AccountStatus = 'active' | 'suspended' | 'closed';

export interface Account {
  sid: string;
  friendlyName: string;
  status: AccountStatus;
  ownerAccountSid: string;
  dateCreated: Date | null;
  /**
   * When Twilio last changed it (`date_updated`): a change of status (suspended, closed) is
   * one, so a subaccount not active and unchanged since a time has been so since then. Absent
   * when Twilio gives none.
   */
  dateUpdated?: Date;
}

export interface PhoneNumber {
  sid: string;
  accountSid: string;
  phoneNumber: string;
  friendlyName: string;
  /** As Twilio reports it (`local`, `toll-free`, …); may be null. */
  type: string | null;
  /** Where an inbound message goes when no Messaging Service decides otherwise. */
  smsUrl: string | null;
  smsMethod: string | null;
  /**
   * The number's other webhook URLs Twilio calls, signed with the owning account's token:
   * sms_fallback_url, voice_url, voice_fallback_url, status_callback. Absent when none is set.
   */
  otherWebhooks?: readonly string[];
  /** Its own SMS fallback (`sms_fallback_url`, `sms_fallback_method`); absent when none. */
  smsFallback?: { url: string; method: string };
  /**
   * The TwiML Apps it answers through (`sms_application_sid`, `voice_application_sid`): an
   * app's URLs, not the number's own, are called. Absent when it has none.
   */
  applications?: { sms: string | null; voice: string | null };
  /**
   * When Twilio last changed the number (`date_updated`): a transfer between accounts changes
   * it, as does any update of its settings. Absent when Twilio gives none.
   */
  dateUpdated?: Date;
}

/** A number's own SMS webhook, as `setNumberWebhook` sets it. */
export interface NumberWebhook {
  smsUrl: string;
  smsMethod: string;
  smsFallbackUrl: string | null;
  smsFallbackMethod: string | null;
}

/**
 * A Messaging Service's settings, as the Services API names them (snake_case): the ones that
 * decide where inbound messages go, and the ones a new service copies from the service its
 * numbers leave.
 */
export interface ServiceSettings {
  inbound_request_url: string | null;
  inbound_method: string | null;
  fallback_url: string | null;
  fallback_method: string | null;
  status_callback: string | null;
  sticky_sender: boolean | null;
  smart_encoding: boolean | null;
  mms_converter: boolean | null;
  validity_period: number | null;
  usecase: string | null;
  area_code_geomatch: boolean | null;
  scan_message_content: string | null;
  use_inbound_webhook_on_number: boolean | null;
}

export interface MessagingService {
  sid: string;
  accountSid: string;
  friendlyName: string;
  dateCreated: Date | null;
  settings: ServiceSettings;
}

export interface ServicePhoneNumber {
  /** The number's PN SID. */
  sid: string;
  serviceSid: string;
  accountSid: string;
  phoneNumber: string;
}

export type MessageDirection = 'inbound' | 'outbound-api' | 'outbound-call' | 'outbound-reply';

export interface Message {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  direction: MessageDirection;
  status: string;
  /** date_sent; for a message not sent yet (date_sent null), date_created. */
  dateSent: Date | null;
  errorCode: number | null;
  messagingServiceSid: string | null;
}

export interface MessageFilter {
  to?: string;
  from?: string;
  /** Inclusive bounds on date_sent, to the second (`DateSent>` / `DateSent<`). */
  sentAfter?: Date;
  sentBefore?: Date;
}

export interface MessagePage {
  /** The page's messages: all of them, or only those the request's `only` asked for. */
  messages: Message[];
  /** How many messages the page held, kept or not. */
  scanned: number;
  /** When each of them was sent, kept or not, in page order (null: no date given). */
  sent: (Date | null)[];
  /** Absolute URL of the next page, to pass to `readMessagesPage`, or null at the end. */
  nextPageUrl: string | null;
  /** When the page's last message was sent (a list is newest first); null on an empty page. */
  lastDateSent: Date | null;
  /**
   * Each number (the Twilio side: a send's `from`, a received message's `to`) and
   * `messaging_service_sid` its dated messages on the page carried, kept or not, with the first
   * and last `date_sent` among them. Not given: not scanned for.
   */
  services?: readonly ServiceSighting[];
}

/** A number's messages through one Messaging Service SID (or Twilio's default one). */
export interface ServiceSighting {
  address: string;
  serviceSid: string;
  first: Date;
  last: Date;
}

export interface SendMessage {
  to: string;
  body: string;
  from?: string;
  messagingServiceSid?: string;
}

/** One record for the Consent Management API (`POST accounts.twilio.com/v1/Consents/Bulk`). */
export interface ConsentRecord {
  /** The end user, E.164. */
  contactId: string;
  /** 32 characters, unique in the request: maps the record to its result. */
  correlationId: string;
  /** A Messaging Service SID, or a phone number of the account. */
  senderId: string;
  status: 'opt-in' | 'opt-out';
  source: 'website' | 'offline' | 'opt-in-message' | 'opt-out-message' | 'others';
  /** ISO 8601; not in the future. */
  dateOfConsent: string | null;
}

/**
 * Twilio's answer for one record: error 0 = written; 30646 with its reasons otherwise; null
 * when the answer carried no code.
 */
export interface ConsentResult {
  correlationId: string | null;
  errorCode: number | null;
  errorMessages: string[];
}

/** A Bulk Export job for Messages, as its status reads now. */
export interface ExportJobStatus {
  jobSid: string;
  /** Days whose file is ready to read. */
  completedDays: string[];
  /** Days Twilio found no messages on: no file. */
  emptyDays: string[];
  /** Days not finished yet (submitted or running, or a status Twilio has not documented). */
  pendingDays: string[];
  /**
   * Days that will not be made in this job: Twilio marked them `Failed`, `ErrorDuringRun`,
   * `RunningToBeDeleted` or `DeletedByUserRequest` (the status each shows).
   */
  failedDays: { day: string; status: string }[];
  /** When Twilio expects the job to be done; null when it does not say. */
  estimatedCompletion: Date | null;
}

/** A Bulk Export job as Twilio lists it: its status, and the name it was created with. */
export interface ListedExportJob extends ExportJobStatus {
  friendlyName: string | null;
}

export interface TwilioPort {
  /** The main account the credentials belong to. */
  readonly parentAccountSid: string;

  /**
   * `gate` is asked before each write (any request but a read) leaves, after every wait of the
   * limiter and the retry policy: what it throws is the write's error, the request not sent nor
   * tried again (apply: only while this process holds the apply lock). `null` lifts it.
   */
  gateWrites?(gate: (() => void) | null): void;

  fetchAccount(sid: string): Promise<Account>;
  /** The parent's subaccounts (not the parent itself). */
  listSubaccounts(): Promise<Account[]>;
  /** The parent's subaccounts called exactly `friendlyName` (Twilio filters: one short read). */
  listSubaccountsNamed(friendlyName: string): Promise<Account[]>;
  createSubaccount(friendlyName: string): Promise<Account>;

  listPhoneNumbers(accountSid: string): Promise<PhoneNumber[]>;
  fetchPhoneNumber(accountSid: string, numberSid: string): Promise<PhoneNumber>;
  /**
   * Sets where the number's inbound messages go when no service decides otherwise, and where
   * they go when that fails. A fallback left out (null) is not sent: the number keeps its own.
   */
  setNumberWebhook(
    accountSid: string,
    numberSid: string,
    webhook: NumberWebhook,
  ): Promise<PhoneNumber>;
  /** Moves a number; `fromAccountSid` must be its current owner. Parent credentials. */
  transferPhoneNumber(
    fromAccountSid: string,
    numberSid: string,
    toAccountSid: string,
  ): Promise<PhoneNumber>;

  /** v1 calls act on the account whose credentials are used: the subaccount's own. */
  listServices(accountSid: string): Promise<MessagingService[]>;
  /** A service named so, with these settings (Twilio's defaults for the rest). */
  createService(
    accountSid: string,
    friendlyName: string,
    settings?: Partial<ServiceSettings>,
  ): Promise<MessagingService>;
  listServicePhoneNumbers(accountSid: string, serviceSid: string): Promise<ServicePhoneNumber[]>;
  addServicePhoneNumber(
    accountSid: string,
    serviceSid: string,
    numberSid: string,
  ): Promise<ServicePhoneNumber>;
  removeServicePhoneNumber(
    accountSid: string,
    serviceSid: string,
    numberSid: string,
  ): Promise<void>;

  /**
   * The first page of an account's messages (newest first), or the page at `pageUrl`.
   * `only: 'inbound-or-error'` keeps just the inbound messages and those with an error code,
   * without building the others (a snapshot needs about one message in ten).
   */
  readMessagesPage(
    accountSid: string,
    request: ({ filter: MessageFilter; pageSize: number } | { pageUrl: string }) & {
      only?: 'inbound-or-error';
    },
  ): Promise<MessagePage>;
  sendMessage(accountSid: string, message: SendMessage): Promise<Message>;

  /**
   * Upserts consent records into the account, with the account's own credentials (the
   * records land in whichever account authenticated): one result per record, in order.
   */
  writeConsents(accountSid: string, records: readonly ConsentRecord[]): Promise<ConsentResult[]>;

  /**
   * Bulk Export (a subdomain API: each call acts on the account whose credentials it uses, so
   * a subaccount's history is read with its own). The days whose Messages file exists now,
   * oldest first.
   */
  listExportDays(accountSid: string): Promise<string[]>;
  /** A custom export job for these days (EndDay at least two days before today, UTC). */
  createExportJob(
    accountSid: string,
    job: { startDay: string; endDay: string; friendlyName: string },
  ): Promise<ExportJobStatus>;
  /** The job's status now; null when Twilio no longer knows it. */
  fetchExportJob(accountSid: string, jobSid: string): Promise<ExportJobStatus | null>;
  /** The account's custom Messages export jobs Twilio still knows, whoever created them. */
  listExportCustomJobs(accountSid: string): Promise<ListedExportJob[]>;
  /**
   * Reads a day's Messages file as it downloads (never whole in memory), handing each message
   * to `onMessage`; answers how many the file held. The file comes from the signed URL the
   * day redirects to, which is sent no Twilio credential.
   */
  readExportDay(
    accountSid: string,
    day: string,
    onMessage: (message: Message) => void,
  ): Promise<number>;
}
