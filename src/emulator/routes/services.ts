/**
 * Messaging Services and their PhoneNumbers (messaging v1). No account in the path: every
 * route acts on the authenticated account's services only.
 */

import { notFound } from '../api-error.js';
import { envelopeV1, pageList, readPageRequest } from '../paging.js';
import { renderService, renderServiceNumber } from '../render.js';
import { readFormFields, SERVICE_FIELDS, type ServiceSettings } from '../resource-settings.js';
import {
  friendlyName as checkedName,
  optional,
  required,
  route,
  type Route,
  type TwilioRequest,
} from '../router.js';
import type { EmulatorState, NumberRecord } from '../state.js';

export function serviceRoutes(state: EmulatorState): Route[] {
  const ownService = (request: TwilioRequest, sid: string) => {
    const service = state.services.get(sid);
    if (service === undefined || service.accountSid !== request.principal.account.sid) {
      throw notFound(request.path);
    }
    return service;
  };

  return [
    route('GET', '/v1/Services', (request) => {
      const own = [...state.services.values()].filter(
        (s) => s.accountSid === request.principal.account.sid,
      );
      const page = readPageRequest(request.query);
      return {
        status: 200,
        body: envelopeV1(
          'services',
          request.path,
          request.query,
          page,
          pageList(own, page),
          renderService,
        ),
      };
    }),

    route('POST', '/v1/Services', (request) => {
      const service = state.createService(request.principal.account.sid, {
        friendlyName: checkedName(required(request.form, 'FriendlyName')),
        settings: readFormFields<ServiceSettings>(SERVICE_FIELDS, request.form),
      });
      return { status: 201, body: renderService(service) };
    }),

    route('GET', '/v1/Services/:sid', (request, [sid]) => ({
      status: 200,
      body: renderService(ownService(request, sid!)),
    })),

    route('POST', '/v1/Services/:sid', (request, [sid]) => {
      const service = ownService(request, sid!);
      const settings = readFormFields<ServiceSettings>(SERVICE_FIELDS, request.form);
      const friendlyName = checkedName(optional(request.form, 'FriendlyName'));
      if (friendlyName !== undefined) service.friendlyName = friendlyName;
      Object.assign(service.settings, settings);
      service.dateUpdated = state.now();
      return { status: 200, body: renderService(service) };
    }),

    route('DELETE', '/v1/Services/:sid', (request, [sid]) => {
      state.deleteService(ownService(request, sid!));
      return { status: 204 };
    }),

    route('GET', '/v1/Services/:sid/PhoneNumbers', (request, [sid]) => {
      const service = ownService(request, sid!);
      const members = [...service.numbers]
        .map((pn) => state.numbers.get(pn))
        .filter((n): n is NumberRecord => n !== undefined);
      const page = readPageRequest(request.query);
      return {
        status: 200,
        body: envelopeV1(
          'phone_numbers',
          request.path,
          request.query,
          page,
          pageList(members, page),
          (n) => renderServiceNumber(service, n),
        ),
      };
    }),

    route('POST', '/v1/Services/:sid/PhoneNumbers', (request, [sid]) => {
      const service = ownService(request, sid!);
      const number = state.joinService(service, required(request.form, 'PhoneNumberSid'));
      return { status: 201, body: renderServiceNumber(service, number) };
    }),

    route('GET', '/v1/Services/:sid/PhoneNumbers/:sid', (request, params) => {
      const service = ownService(request, params[0]!);
      const number = state.numbers.get(params[1]!);
      if (number === undefined || number.serviceSid !== service.sid) throw notFound(request.path);
      return { status: 200, body: renderServiceNumber(service, number) };
    }),

    route('DELETE', '/v1/Services/:sid/PhoneNumbers/:sid', (request, params) => {
      const service = ownService(request, params[0]!);
      const number = state.numbers.get(params[1]!);
      if (number === undefined || number.serviceSid !== service.sid) throw notFound(request.path);
      state.leaveService(number);
      return { status: 204 };
    }),
  ];
}
