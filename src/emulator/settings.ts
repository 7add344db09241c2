/**
 * Per-account settings that Twilio keeps outside the REST API (Console switches, support
 * tickets, beta access): how long the Messages API shows a record, whether the account may
 * use the Consent Management API and how often, how long a Bulk Export job takes here, and
 * what a message without a Messaging Service carries in `messaging_service_sid`.
 * Set through `POST /__emulator/settings`; every account starts from the defaults.
 */

export interface AccountSettings {
  /** The Messages API's retention window, in days (Twilio: 7–400, default 400). */
  message_retention_days: number;
  /** Whether `POST /v1/Consents/Bulk` is open to the account (beta access in real Twilio). */
  consent_api: boolean;
  /** Accepted Consent API requests per account in any 60-second window (Twilio: 100). */
  consent_requests_per_minute: number;
  /** Emulator seconds from creating a Bulk Export job to its files; 0 = at once. */
  export_job_seconds: number;
  /**
   * Whether a message sent or received without a Messaging Service carries one synthetic `MG`
   * SID of the account (Twilio's spec: "A unique default value is assigned if a Messaging
   * Service is not used"; what that value looks like is not documented) instead of null. The
   * SID is no service: not listed, 404 on fetch, and opt-outs keep their scope by number.
   */
  default_service_sid: boolean;
}

export const DEFAULT_SETTINGS: Readonly<AccountSettings> = {
  message_retention_days: 400,
  consent_api: true,
  consent_requests_per_minute: 100,
  export_job_seconds: 0,
  default_service_sid: false,
};

export const MIN_RETENTION_DAYS = 7;
export const MAX_RETENTION_DAYS = 400;

const isInteger = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

const CHECKS: Record<keyof AccountSettings, (v: unknown) => boolean> = {
  message_retention_days: (v) => isInteger(v, MIN_RETENTION_DAYS, MAX_RETENTION_DAYS),
  consent_api: (v) => typeof v === 'boolean',
  consent_requests_per_minute: (v) => isInteger(v, 1),
  export_job_seconds: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0,
  default_service_sid: (v) => typeof v === 'boolean',
};

/** Checks a partial update (without `account_sid`); returns an error text or null. */
export function checkSettingsPatch(patch: Record<string, unknown>): string | null {
  for (const [key, value] of Object.entries(patch)) {
    const check = CHECKS[key as keyof AccountSettings];
    if (check === undefined) return `unknown setting "${key}"`;
    if (!check(value)) return `invalid value for ${key}: ${JSON.stringify(value)}`;
  }
  return null;
}

export class SettingsStore {
  private readonly byAccount = new Map<string, AccountSettings>();

  /** The account's settings; an account never configured has the defaults. */
  get(accountSid: string): Readonly<AccountSettings> {
    return this.byAccount.get(accountSid) ?? DEFAULT_SETTINGS;
  }

  /** Applies a checked patch: fields left out keep their value. */
  update(accountSid: string, patch: Partial<AccountSettings>): AccountSettings {
    const next = { ...this.get(accountSid), ...patch };
    this.byAccount.set(accountSid, next);
    return next;
  }

  clear(): void {
    this.byAccount.clear();
  }
}
