/**
 * One step, one write to Twilio, through the port (and so through the one limiter and retry
 * policy). A subaccount's Messaging Services are changed with its own credentials, which the
 * port fetches with the parent's and keeps in memory. Answers that mean "already so" are
 * outcomes, not failures.
 */

import { TwilioError } from '../errors.js';
import type { StepOutcome } from '../db/journal.js';
import type { CarryOptOutsStep, PlanStep, SetNumberWebhookStep } from '../plan/types.js';
import type { TwilioPort } from '../twilio/port.js';
import type { Targets } from './targets.js';

/** What the step will send, for the journal's intent (no credential, ever). */
export function describeIntent(step: PlanStep, targets: Targets): Record<string, string | null> {
  switch (step.action) {
    case 'create_subaccount':
      return { request: 'POST /2010-04-01/Accounts.json', FriendlyName: step.friendly_name };
    case 'detach_number':
      return {
        request: `DELETE /v1/Services/${step.service_sid}/PhoneNumbers/${step.number_sid}`,
        as: step.account_sid,
      };
    case 'transfer_number':
      return {
        request: `POST /2010-04-01/Accounts/${step.from_account_sid}/IncomingPhoneNumbers/${step.number_sid}.json`,
        AccountSid: targets.subaccountOf(step.customer_id),
      };
    case 'create_service':
      return {
        request: 'POST /v1/Services',
        FriendlyName: step.friendly_name,
        settings: JSON.stringify(step.settings),
        as: targets.subaccountOf(step.customer_id),
      };
    case 'set_number_webhook':
      return {
        request: `POST /2010-04-01/Accounts/${targets.subaccountOf(step.customer_id)}/IncomingPhoneNumbers/${step.number_sid}.json`,
        SmsUrl: step.sms_url,
        SmsMethod: step.sms_method,
        ...fallbackFields(step),
      };
    case 'attach_number':
      return {
        request: `POST /v1/Services/${targets.serviceOf(step.customer_id)}/PhoneNumbers`,
        PhoneNumberSid: step.number_sid,
        as: targets.subaccountOf(step.customer_id),
      };
    case 'carry_optouts':
      return {
        request: 'POST https://accounts.twilio.com/v1/Consents/Bulk',
        records: String(step.optouts),
        requests: String(step.requests),
        sender_id: step.sender === 'service' ? targets.serviceOf(step.customer_id) : 'numbers',
        as: targets.subaccountOf(step.customer_id),
      };
  }
}

/** The fallback form fields a `set_number_webhook` step sends: none when it has no fallback. */
export function fallbackFields(step: SetNumberWebhookStep): Record<string, string> {
  if (step.sms_fallback_url === null) return {};
  return {
    SmsFallbackUrl: step.sms_fallback_url,
    SmsFallbackMethod: step.sms_fallback_method ?? 'POST',
  };
}

/** How a `carry_optouts` step is performed (apply/carry.ts): many writes, its own journal. */
export type CarryPerformer = (step: CarryOptOutsStep) => Promise<StepOutcome>;

function need(value: string | null, what: string): string {
  if (value === null) throw new Error(`${what} is not known: its creating step has not finished`);
  return value;
}

export async function performStep(
  step: PlanStep,
  twilio: TwilioPort,
  targets: Targets,
  carry: CarryPerformer,
): Promise<StepOutcome> {
  try {
    switch (step.action) {
      case 'create_subaccount': {
        const account = await twilio.createSubaccount(step.friendly_name);
        return { state: 'done', result: { subaccount_sid: account.sid } };
      }
      case 'detach_number':
        await twilio.removeServicePhoneNumber(step.account_sid, step.service_sid, step.number_sid);
        return { state: 'done', result: {} };
      case 'transfer_number': {
        const to = need(targets.subaccountOf(step.customer_id), 'the target subaccount');
        await twilio.transferPhoneNumber(step.from_account_sid, step.number_sid, to);
        return { state: 'done', result: { to_account_sid: to } };
      }
      case 'create_service': {
        const account = need(targets.subaccountOf(step.customer_id), 'the subaccount');
        const service = await twilio.createService(account, step.friendly_name, step.settings);
        return { state: 'done', result: { service_sid: service.sid, account_sid: account } };
      }
      case 'attach_number': {
        const account = need(targets.subaccountOf(step.customer_id), 'the subaccount');
        const service = need(targets.serviceOf(step.customer_id), 'the service');
        await twilio.addServicePhoneNumber(account, service, step.number_sid);
        return { state: 'done', result: { service_sid: service } };
      }
      case 'set_number_webhook': {
        const account = need(targets.subaccountOf(step.customer_id), 'the subaccount');
        await twilio.setNumberWebhook(account, step.number_sid, {
          smsUrl: step.sms_url,
          smsMethod: step.sms_method,
          smsFallbackUrl: step.sms_fallback_url,
          smsFallbackMethod: step.sms_fallback_method,
        });
        return { state: 'done', result: { sms_url: step.sms_url } };
      }
      case 'carry_optouts':
        return await carry(step);
    }
  } catch (error) {
    if (!(error instanceof TwilioError)) throw error;
    // Already so: the number left the service (404), or is in it (21710).
    if (step.action === 'detach_number' && error.status === 404) {
      return { state: 'skipped', result: {}, how: 'the number was not in the service' };
    }
    if (step.action === 'attach_number' && error.code === 21710) {
      const service = targets.serviceOf(step.customer_id) ?? '';
      return { state: 'skipped', result: { service_sid: service }, how: 'already in the service' };
    }
    return { state: 'failed', status: error.status, code: error.code, message: error.message };
  }
}
