/**
 * Twilio's credential rules. Basic auth with an Account SID + Auth Token, or an API key
 * (SK…) + secret. 2010 paths name an account: its own credentials reach it, and a main
 * account's Auth Token reaches its subaccounts too. v1 paths have no account in them: they
 * act on whichever account authenticated, which is why parent credentials create a
 * Messaging Service in the parent.
 */

import { ApiError, authenticate as unauthorized, notFound } from './api-error.js';
import type { AccountRecord, ApiKeyRecord, EmulatorState } from './state.js';

export interface Principal {
  account: AccountRecord;
  key: ApiKeyRecord | null;
}

export function authenticate(state: EmulatorState, header: string | undefined): Principal {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (match === null) throw unauthorized('Authentication Error - No credentials provided');
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const username = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);

  let principal: Principal | null = null;
  if (username.startsWith('SK')) {
    const key = state.keys.get(username);
    const account = key === undefined ? undefined : state.account(key.accountSid);
    if (key !== undefined && account !== undefined && key.secret === password) {
      principal = { account, key };
    }
  } else {
    const account = state.account(username);
    if (account !== undefined && account.authToken === password) principal = { account, key: null };
  }
  if (principal === null) throw unauthorized();
  if (principal.account.status !== 'active') {
    throw new ApiError(
      403,
      20403,
      'The account lacks permission to access the Twilio API. Typically this means the account has been suspended or closed.',
    );
  }
  return principal;
}

/** Whether the principal speaks for the main account with full rights over its subaccounts. */
export function isMainCredential(state: EmulatorState, principal: Principal): boolean {
  return (
    state.isMain(principal.account) && (principal.key === null || principal.key.kind === 'main')
  );
}

/**
 * The account a 2010 path names, if these credentials may act on it: its own credentials,
 * or the Auth Token of its main account. API keys reach only their own account.
 */
export function reach2010(
  state: EmulatorState,
  principal: Principal,
  accountSid: string,
  path: string,
): AccountRecord {
  const account = state.account(accountSid);
  if (account === undefined) {
    if (state.isMain(principal.account) && principal.key === null) throw notFound(path);
    throw unauthorized();
  }
  if (account.sid === principal.account.sid) return account;
  const viaParentToken =
    principal.key === null &&
    state.isMain(principal.account) &&
    account.ownerSid === principal.account.sid;
  if (!viaParentToken) throw unauthorized();
  return account;
}

/**
 * The account resource itself (`/Accounts/{Sid}.json`): besides what `reach2010` allows, a
 * Main API key of the parent may fetch and update its subaccounts (Twilio: "creating,
 * updating and listing subaccounts needs a Main key"), which is how a client holding only a
 * key learns a subaccount's Auth Token. Its subresources stay out of the key's reach.
 */
export function reachAccount(
  state: EmulatorState,
  principal: Principal,
  accountSid: string,
  path: string,
): AccountRecord {
  const account = state.account(accountSid);
  if (
    account !== undefined &&
    principal.key?.kind === 'main' &&
    state.isMain(principal.account) &&
    account.ownerSid === principal.account.sid
  ) {
    return account;
  }
  return reach2010(state, principal, accountSid, path);
}
