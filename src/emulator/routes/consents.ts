/**
 * The Consent Management API (accounts.twilio.com): `POST /v1/Consents/Bulk`
 * upserts opt-in and opt-out records into the authenticated account's opt-out store, so that
 * a later send there is refused (21610) or allowed again. A subdomain API: a subaccount's
 * records need the subaccount's own credentials.
 *
 * Undocumented answers, decided here:
 * - an account without access (`consent_api: false` in the emulator's settings) gets
 *   403 / 20403; Twilio does not say what it answers;
 * - more than 25 items, no item, or an item that is not a JSON object: 400 / 20001 for the
 *   whole request (no per-item result could be given for an item that cannot be read);
 * - beyond `consent_requests_per_minute` in 60 seconds: 429 / 20429, Twilio's rate answer.
 */

import { ApiError } from '../api-error.js';
import { checkConsentItems, CONSENT_ERROR, MAX_ITEMS } from '../consent.js';
import { route, type Route } from '../router.js';
import type { EmulatorState } from '../state.js';

function parseItems(form: URLSearchParams): Record<string, unknown>[] {
  const raw = form.getAll('Items');
  if (raw.length === 0) {
    throw new ApiError(400, 20001, 'Missing required parameter Items in the post body');
  }
  if (raw.length > MAX_ITEMS) {
    throw new ApiError(400, 20001, `Too many Items: at most ${MAX_ITEMS} in one request`);
  }
  return raw.map((text, index) => {
    let item: unknown;
    try {
      item = JSON.parse(text);
    } catch {
      item = undefined;
    }
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new ApiError(400, 20001, `Items[${index}] is not a JSON object`);
    }
    return item as Record<string, unknown>;
  });
}

export function consentRoutes(state: EmulatorState): Route[] {
  return [
    route('POST', '/v1/Consents/Bulk', (request) => {
      const account = request.principal.account;
      const settings = state.settings.get(account.sid);
      if (!settings.consent_api) {
        throw new ApiError(
          403,
          20403,
          'This account does not have access to the Consent Management API.',
        );
      }
      const now = state.now();
      if (!state.consentRequests.admit(account.sid, now, settings.consent_requests_per_minute)) {
        throw new ApiError(429, 20429, 'Too Many Requests');
      }
      const senderScope = (senderId: string) => {
        const service = state.services.get(senderId);
        if (service !== undefined) return service.accountSid === account.sid ? 'service' : null;
        return state.numberByPhone(senderId)?.accountSid === account.sid ? 'number' : null;
      };
      const checks = checkConsentItems(parseItems(request.form), senderScope, now);
      const items = checks.map((check) => {
        if (!check.ok) {
          return {
            correlation_id: check.correlationId,
            error_code: CONSENT_ERROR,
            error_messages: check.reasons,
          };
        }
        const { consent } = check;
        state.optOuts.consent({
          accountSid: account.sid,
          scope: consent.sender.scope,
          scopeId: consent.sender.id,
          recipient: consent.contactId,
          status: consent.status,
          source: consent.source,
          correlationId: consent.correlationId,
          date: consent.date,
        });
        return { correlation_id: consent.correlationId, error_code: 0, error_messages: [] };
      });
      return { status: 201, body: { items } };
    }),
  ];
}
