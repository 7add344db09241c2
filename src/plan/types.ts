/**
 * The plan: data, versioned (`format`), fingerprinted against the live state it was computed
 * from, and read back by `apply`. Steps are a discriminated union; every consumer switches on
 * `action` exhaustively. No credential ever appears in a plan.
 */

import type { ServiceSettings } from '../twilio/port.js';
import type { InboundRoute } from './routes.js';

export const PLAN_FORMAT = 'submigrate-plan/1';

/** What the planner saw, read-only, of the parent's account family. */
export interface ObservedAccount {
  sid: string;
  friendlyName: string;
  status: 'active' | 'suspended' | 'closed';
  /** ISO 8601, when Twilio says; lets apply recognise a subaccount its own crashed step made. */
  dateCreated?: string | null;
}

export interface ObservedNumber {
  sid: string;
  phoneNumber: string;
  accountSid: string;
  /** As Twilio reports it (`local`, `toll-free`, …), or null. */
  type: string | null;
  serviceSid: string | null;
  smsUrl: string | null;
  smsMethod: string | null;
  /** Its other webhook URLs (fallback, voice, status callback); absent when none. */
  otherWebhooks?: readonly string[];
  /** Its own SMS fallback; absent when none. */
  smsFallback?: { url: string; method: string };
  /** The TwiML Apps it answers through; absent when none. */
  applications?: { sms: string | null; voice: string | null };
}

export interface ObservedService {
  sid: string;
  accountSid: string;
  friendlyName: string;
  dateCreated?: string | null;
  settings: ServiceSettings;
}

/**
 * Where a number was, and where its inbound went, when the move an apply is making of it
 * began. A plan made while that move is under way plans the number from here: the service whose
 * opt-outs its list carries, and the route to keep, are its origin's, not the half-moved
 * state's.
 */
export interface NumberOrigin {
  accountSid: string;
  serviceSid: string | null;
  /** Null when not recorded (a database from before it was). */
  route: InboundRoute | null;
}

export interface ObservedState {
  parentSid: string;
  /** Subaccounts of the parent (not the parent itself), any status. */
  subaccounts: ObservedAccount[];
  /** Every number of the parent and of its subaccounts, with its service membership. */
  numbers: ObservedNumber[];
  /** The services of the parent and of the subaccounts the mapping touches. */
  services: ObservedService[];
  /**
   * Subaccounts, not active, whose numbers Twilio would not let be listed (with an API key a
   * suspended one refuses its own credentials: 403, 20403): a number there is not in `numbers`.
   * Absent when every account was listed.
   */
  unlisted?: UnlistedAccount[];
}

/** A subaccount whose numbers could not be listed: its status, and Twilio's answer. */
export interface UnlistedAccount {
  sid: string;
  status: ObservedAccount['status'];
  httpStatus: number;
  code: number | null;
}

interface StepBase {
  id: string;
  customer_id: string;
  depends_on: string[];
}

export interface CreateSubaccountStep extends StepBase {
  action: 'create_subaccount';
  friendly_name: string;
}

export interface DetachNumberStep extends StepBase {
  action: 'detach_number';
  phone_number: string;
  number_sid: string;
  /** The account that owns the service (and the number, before it moves). */
  account_sid: string;
  service_sid: string;
  service_name: string;
}

export interface TransferNumberStep extends StepBase {
  action: 'transfer_number';
  phone_number: string;
  number_sid: string;
  from_account_sid: string;
  /** Null while the target is created by this plan (`create_subaccount` of the customer). */
  to_account_sid: string | null;
}

export interface CreateServiceStep extends StepBase {
  action: 'create_service';
  friendly_name: string;
  /** Null while the subaccount is created by this plan. */
  account_sid: string | null;
  /**
   * Settings that keep the numbers' inbound routes: copied from the service they leave, or
   * deferring to the numbers' own webhooks. Unset ones take Twilio's defaults.
   */
  settings: Partial<ServiceSettings>;
}

/**
 * Keeps a number's inbound route when it leaves a service for none: its own sms_url, and its
 * own sms_fallback_url when the service's URL had a fallback.
 */
export interface SetNumberWebhookStep extends StepBase {
  action: 'set_number_webhook';
  phone_number: string;
  number_sid: string;
  /** Null while the target subaccount is created by this plan. */
  account_sid: string | null;
  sms_url: string;
  sms_method: string;
  /**
   * The fallback of the service whose URL this is. Null when it had none (or is gone): the
   * number's own fallback is left as it is. A plan written before this field reads as null.
   */
  sms_fallback_url: string | null;
  sms_fallback_method: string | null;
}

export interface AttachNumberStep extends StepBase {
  action: 'attach_number';
  phone_number: string;
  number_sid: string;
  /** Null while the target account or service is created by this plan. */
  account_sid: string | null;
  service_sid: string | null;
  service_name: string;
}

/**
 * Writes the customer's opt-outs into its subaccount through the Consent Management API, with
 * the subaccount's own credentials, once the senders its records name are there (the service,
 * or the numbers). The records themselves are the plan's `carry_items` of this step.
 */
export interface CarryOptOutsStep extends StepBase {
  action: 'carry_optouts';
  /** Null while the subaccount is created by this plan. */
  account_sid: string | null;
  /**
   * Each record's `sender_id`: `service` = the customer's Messaging Service (`service_sid`,
   * null while created by this plan); `number` = the record's own number.
   */
  sender: 'service' | 'number';
  service_sid: string | null;
  service_name: string | null;
  /** Records to write, and the requests they take (`batch_size` to a request). */
  optouts: number;
  batch_size: number;
  requests: number;
  /** Records an earlier apply already wrote, left out. */
  already_carried: number;
}

export type PlanStep =
  | CreateSubaccountStep
  | DetachNumberStep
  | TransferNumberStep
  | CreateServiceStep
  | AttachNumberStep
  | SetNumberWebhookStep
  | CarryOptOutsStep;

/**
 * One consent record a `carry_optouts` step writes: `status: opt-out`,
 * `source: opt-out-message`. Its `correlation_id` is derived at apply time from (subaccount,
 * sender_id, contact_id), once the subaccount and service SIDs are known.
 */
export interface CarryItem {
  step: string;
  /** The end user. */
  contact_id: string;
  /** The sender_id when the step's `sender` is `number`; null = the customer's service. */
  sender_number: string | null;
  /** When they opted out (the latest such date among the pairs the record stands for). */
  date_of_consent: string;
}

export type PlanAction = PlanStep['action'];

export type SubaccountSource = 'pinned' | 'previous-apply' | 'name' | 'create';

export interface PlanCustomer {
  customer_id: string;
  customer_name: string;
  /** The existing subaccount the customer goes to, or null when the plan creates it. */
  subaccount_sid: string | null;
  subaccount_source: SubaccountSource;
  messaging_service: string | null;
  /** The existing service reused, or null (created by the plan, or none wanted). */
  service_sid: string | null;
  numbers: PlanNumber[];
  /** Opted-out recipients on the suppression lists of the customer's numbers. */
  optouts: number;
}

/** A mapped number; where it is now is in the plan's `observed` (`number:PN…`). */
export interface PlanNumber {
  line: number;
  phone_number: string;
  number_sid: string;
  /** True when no step touches it: it is already where the mapping wants it. */
  unchanged: boolean;
  /** Where its inbound messages go now, and where they will go once the plan is applied. */
  route_before: InboundRoute;
  route_after: InboundRoute;
  /**
   * Planned from where it was before an earlier apply began to move it (and stopped):
   * `route_before` is that origin's route, and the number may be half-moved already.
   */
  from_origin?: true;
  /**
   * The Messaging Services whose service-wide opt-outs are on the number's suppression list
   * (`listServices`): what its run's reports list for it, whatever later plans record.
   * Always written; absent only in plans written before it was added.
   */
  optout_services?: string[];
}

export type WarningCode =
  | 'a2p_registration'
  | 'toll_free_verification'
  | 'optouts_not_snapshotted'
  | 'service_pool_limit'
  | 'subaccount_limit'
  | 'subaccount_not_listed'
  | 'optouts_on_numbers'
  | 'optouts_not_placed'
  | 'snapshot_not_refreshed'
  | 'inbound_route'
  | 'inbound_already_dropped'
  | 'status_callback'
  | 'webhook_signature'
  | 'carry_toll_free'
  | 'subaccount_name'
  | 'subaccount_name_near_match'
  | 'service_name_near_match'
  | 'service_beside_earlier_wave';

export interface PlanWarning {
  code: WarningCode;
  customer_id: string | null;
  message: string;
}

export interface PlanSummary {
  subaccounts_to_create: number;
  numbers_to_detach: number;
  numbers_to_transfer: number;
  services_to_create: number;
  numbers_to_attach: number;
  /** Numbers leaving a service for none, given its URL as their own to keep their route. */
  webhooks_to_set: number;
  unchanged: number;
  /** With --carry-optouts: the consent records the carry steps write. */
  optouts_to_carry?: number;
}

/** With --carry-optouts: how the opt-outs go, and how long that takes at Twilio's limit. */
export interface PlanCarry {
  /** Records per Consent API request. */
  batch_size: number;
  requests: number;
  /** The rate the estimate assumes: Twilio's limit. */
  requests_per_minute: number;
  /**
   * How long the carry takes, in seconds (rounded up): the largest step's requests at
   * `requests_per_minute` (each subaccount has its own limit; the steps go side by side).
   */
  seconds: number;
}

export interface Plan {
  format: typeof PLAN_FORMAT;
  created_at: string;
  parent_account_sid: string;
  mapping: { path: string; sha256: string; rows: number };
  options: { snapshot: boolean; carry_optouts?: boolean };
  /** sha256 of `observed`: the live resources the plan depends on, and their state. */
  fingerprint: string;
  /** Resource key → its state when planned (a map: a large plan has 100,000 of them). */
  observed: ReadonlyMap<string, unknown>;
  summary: PlanSummary;
  warnings: PlanWarning[];
  customers: PlanCustomer[];
  steps: PlanStep[];
  /** With --carry-optouts. */
  carry?: PlanCarry;
  /** With --carry-optouts: every record the carry steps write, one per line in the file. */
  carry_items?: CarryItem[];
}
