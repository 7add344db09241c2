/** What the control plane shows of the emulator's world: the ground truth Twilio never shows. */

import { iso8601 } from './render.js';
import type { EmulatorState } from './state.js';

/**
 * `GET /__emulator/state`: accounts, numbers with owner, service and webhooks, services with
 * every setting and their members, and how many messages there are. No secrets.
 */
export function describeState(state: EmulatorState) {
  return {
    parent_account_sid: state.parentSid,
    accounts: [...state.accounts.values()].map((a) => ({
      sid: a.sid,
      friendly_name: a.friendlyName,
      status: a.status,
      owner_account_sid: a.ownerSid,
    })),
    numbers: [...state.numbers.values()].map((n) => ({
      sid: n.sid,
      phone_number: n.phoneNumber,
      account_sid: n.accountSid,
      messaging_service_sid: n.serviceSid,
      type: n.type,
      ...n.settings,
    })),
    services: [...state.services.values()].map((s) => ({
      sid: s.sid,
      account_sid: s.accountSid,
      friendly_name: s.friendlyName,
      phone_numbers: [...s.numbers],
      ...s.settings,
    })),
    messages: state.messages.size,
  };
}

/** `GET /__emulator/optouts`: the opted-out entries, or with `all` every entry kept. */
export function describeOptOuts(state: EmulatorState, all: boolean) {
  return state.optOuts
    .list()
    .filter((entry) => all || entry.optedOut)
    .map((entry) => ({
      account_sid: entry.accountSid,
      scope: entry.scope,
      sender_number: entry.senderNumber,
      messaging_service_sid: entry.scope === 'service' ? entry.scopeId : null,
      recipient: entry.recipient,
      opted_out: entry.optedOut,
      keyword: entry.keyword,
      body: entry.body,
      message_sid: entry.messageSid,
      date_sent: iso8601(entry.dateSent),
      source: entry.source,
      correlation_id: entry.correlationId,
      consent_source: entry.consentSource,
    }));
}
