/** Accounts (2010): create, list, fetch, update — subaccounts and their status. */

import { createSubaccount, updateAccountStatus } from '../accounts.js';
import { authenticate as unauthorized } from '../api-error.js';
import { isMainCredential, reachAccount } from '../auth.js';
import { envelope2010, pageList, readPageRequest } from '../paging.js';
import { renderAccount } from '../render.js';
import {
  friendlyName as checkedName,
  optional,
  route,
  type Route,
  type TwilioRequest,
} from '../router.js';
import type { EmulatorState } from '../state.js';

const LIST = '/2010-04-01/Accounts.json';

export function accountRoutes(state: EmulatorState): Route[] {
  /** Standard API keys may not use /Accounts at all. */
  const refuseStandardKey = (request: TwilioRequest) => {
    if (request.principal.key?.kind === 'standard') throw unauthorized();
  };

  return [
    route('GET', LIST, (request) => {
      refuseStandardKey(request);
      const { account } = request.principal;
      const friendlyName = request.query.get('FriendlyName');
      const status = request.query.get('Status');
      const visible = isMainCredential(state, request.principal)
        ? state.family(account.sid)
        : [account];
      const matching = visible.filter(
        (a) =>
          (friendlyName === null || a.friendlyName === friendlyName) &&
          (status === null || a.status === status),
      );
      const page = readPageRequest(request.query);
      return {
        status: 200,
        body: envelope2010(
          'accounts',
          LIST,
          request.query,
          page,
          pageList(matching, page),
          renderAccount,
        ),
      };
    }),

    route('POST', LIST, (request) => {
      refuseStandardKey(request);
      const account = createSubaccount(state, request.principal.account, {
        friendlyName: checkedName(optional(request.form, 'FriendlyName')),
      });
      return { status: 201, body: renderAccount(account) };
    }),

    route('GET', '/2010-04-01/Accounts/:sid.json', (request, [sid]) => {
      const account = reachAccount(state, request.principal, sid!, request.path);
      return { status: 200, body: renderAccount(account) };
    }),

    route('POST', '/2010-04-01/Accounts/:sid.json', (request, [sid]) => {
      const account = reachAccount(state, request.principal, sid!, request.path);
      // Read before anything changes, so that a name too long refuses the whole update.
      const friendlyName = checkedName(optional(request.form, 'FriendlyName'));
      const status = optional(request.form, 'Status');
      if (status !== undefined) {
        // Only the main account's own credentials change a status (suspend, close, reopen).
        if (!isMainCredential(state, request.principal)) throw unauthorized();
        updateAccountStatus(state, account, status);
      }
      if (friendlyName !== undefined) {
        account.friendlyName = friendlyName;
        account.dateUpdated = state.now();
      }
      return { status: 200, body: renderAccount(account) };
    }),
  ];
}
