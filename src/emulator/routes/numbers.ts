/** IncomingPhoneNumbers (2010): list, fetch, update (including transfer), release. */

import { notFound } from '../api-error.js';
import { reach2010 } from '../auth.js';
import { envelope2010Bytes, pageList, readPageRequest } from '../paging.js';
import { numberJson, renderNumber } from '../render.js';
import {
  friendlyName as checkedName,
  optional,
  route,
  type Route,
  type TwilioRequest,
} from '../router.js';
import { NUMBER_FIELDS, readFormFields, type NumberSettings } from '../resource-settings.js';
import type { EmulatorState, NumberRecord } from '../state.js';

/** `*` stands for any one digit in a PhoneNumber filter; anything else is a substring match. */
function phoneMatcher(filter: string | null): (phone: string) => boolean {
  if (filter === null) return () => true;
  const pattern = new RegExp(
    filter
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('\\d'),
  );
  return (phone) => pattern.test(phone);
}

export function numberRoutes(state: EmulatorState): Route[] {
  /** The number at this path; 404 unless the path's account is its current owner. */
  const ownedNumber = (request: TwilioRequest, accountSid: string, numberSid: string) => {
    reach2010(state, request.principal, accountSid, request.path);
    const number = state.numbers.get(numberSid);
    if (number === undefined || number.accountSid !== accountSid) throw notFound(request.path);
    return number;
  };

  return [
    route('GET', '/2010-04-01/Accounts/:sid/IncomingPhoneNumbers.json', (request, [sid]) => {
      const account = reach2010(state, request.principal, sid!, request.path);
      const matchesPhone = phoneMatcher(request.query.get('PhoneNumber'));
      const friendlyName = request.query.get('FriendlyName');
      const all = state.numbersOf(account.sid);
      const filtered = request.query.has('PhoneNumber') || friendlyName !== null;
      const owned = filtered
        ? all.filter(
            (n) =>
              matchesPhone(n.phoneNumber) &&
              (friendlyName === null || n.friendlyName === friendlyName),
          )
        : all;
      const page = readPageRequest(request.query);
      return {
        status: 200,
        body: envelope2010Bytes(
          'incoming_phone_numbers',
          request.path,
          request.query,
          page,
          pageList(owned, page),
          numberJson,
        ),
      };
    }),

    route('GET', '/2010-04-01/Accounts/:sid/IncomingPhoneNumbers/:sid.json', (request, params) => {
      const number = ownedNumber(request, params[0]!, params[1]!);
      return { status: 200, body: renderNumber(number) };
    }),

    route('POST', '/2010-04-01/Accounts/:sid/IncomingPhoneNumbers/:sid.json', (request, params) => {
      const number = ownedNumber(request, params[0]!, params[1]!);
      applyUpdate(state, number, request);
      return { status: 200, body: renderNumber(number) };
    }),

    route(
      'DELETE',
      '/2010-04-01/Accounts/:sid/IncomingPhoneNumbers/:sid.json',
      (request, params) => {
        state.releaseNumber(ownedNumber(request, params[0]!, params[1]!));
        return { status: 204 };
      },
    ),
  ];
}

function applyUpdate(state: EmulatorState, number: NumberRecord, request: TwilioRequest): void {
  // SmsUrl, SmsMethod, SmsFallbackUrl, …, StatusCallbackMethod (an empty URL clears it): read
  // before anything changes, so that a bad value refuses the whole update.
  const hooks = readFormFields<NumberSettings>(NUMBER_FIELDS, request.form);
  const friendlyName = checkedName(optional(request.form, 'FriendlyName'));
  const target = optional(request.form, 'AccountSid');
  if (target !== undefined && target !== number.accountSid) {
    state.transferNumber(request.principal.account, number, target);
  }
  if (friendlyName !== undefined) number.friendlyName = friendlyName;
  Object.assign(number.settings, hooks);
  number.dateUpdated = state.now();
}
