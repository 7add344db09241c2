/** Subaccounts, their status, and API keys: Twilio's rules for changing them. */

import { ApiError } from './api-error.js';
import {
  SUBACCOUNT_LIMIT,
  type AccountRecord,
  type AccountStatus,
  type ApiKeyRecord,
} from './records.js';
import type { EmulatorState } from './state.js';

/** A new subaccount of a main account: Twilio's 21101 and 21480 rules. */
export function createSubaccount(
  state: EmulatorState,
  owner: AccountRecord,
  init: { friendlyName?: string; sid?: string; authToken?: string; status?: AccountStatus },
): AccountRecord {
  if (!state.isMain(owner)) {
    throw new ApiError(400, 21101, 'Subaccounts cannot contain subaccounts');
  }
  const open = [...state.accounts.values()].filter(
    (a) => a.ownerSid === owner.sid && a.sid !== owner.sid && a.status !== 'closed',
  ).length;
  if (open >= SUBACCOUNT_LIMIT) {
    throw new ApiError(400, 21480, 'Reached maximum number of subaccounts');
  }
  const now = state.now();
  const name = init.friendlyName ?? defaultSubaccountName(now);
  if (init.sid !== undefined) state.checkSidFree('AC', init.sid, `subaccount "${name}"`);
  const sid = init.sid ?? state.newSid('AC');
  const account: AccountRecord = {
    sid,
    authToken: init.authToken ?? state.sids.next('').slice(0, 32),
    friendlyName: name,
    status: init.status ?? 'active',
    ownerSid: owner.sid,
    dateCreated: now,
    dateUpdated: now,
  };
  state.accounts.set(sid, account);
  return account;
}

/**
 * Suspends, reactivates or closes a subaccount (21477, 21475, 21479). Closing releases every
 * number the subaccount holds; it can never come back.
 */
export function updateAccountStatus(
  state: EmulatorState,
  account: AccountRecord,
  status: string,
): void {
  if (state.isMain(account)) {
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
  account.dateUpdated = state.now();
  if (status === 'closed') {
    for (const number of [...state.numbers.values()]) {
      if (number.accountSid === account.sid) state.releaseNumber(number);
    }
  }
}

export function createKey(
  state: EmulatorState,
  init: {
    accountSid?: string;
    kind?: 'main' | 'standard';
    sid?: string;
    secret?: string;
  },
): ApiKeyRecord {
  const accountSid = init.accountSid ?? state.parentSid;
  if (!state.accounts.has(accountSid)) throw new ApiError(400, 20404, `No account ${accountSid}`);
  if (init.sid !== undefined) state.checkSidFree('SK', init.sid, `API key of ${accountSid}`);
  const key: ApiKeyRecord = {
    sid: init.sid ?? state.newSid('SK'),
    secret: init.secret ?? state.sids.next('').slice(0, 32),
    accountSid,
    kind: init.kind ?? 'standard',
  };
  state.keys.set(key.sid, key);
  return key;
}

/** Twilio's default FriendlyName for a subaccount created without one. */
function defaultSubaccountName(now: number): string {
  const d = new Date(now);
  const hours = d.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  const h12 = hours % 12 === 0 ? 12 : hours % 12;
  return `SubAccount Created at ${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(h12)}:${pad(d.getUTCMinutes())} ${hours < 12 ? 'am' : 'pm'}`;
}
