/**
 * A step a killed apply left in flight (its intent committed, no answer recorded) is settled
 * by reading the live state, never by sending it again blindly: if its effect is there (the
 * number is in the target, a subaccount or service with the planned name appeared after the
 * plan was made), the run adopts it; if not, the request never took effect and is sent again;
 * if the evidence is ambiguous (two candidates), the step fails for a person to look at.
 * A `carry_optouts` step is always taken up again: writing a consent record twice is harmless.
 * Pure.
 */

import { CLOCK_SKEW_MS } from '../clock.js';
import { hasSmsFallback } from '../plan/inbound-plan.js';
import type {
  ObservedNumber,
  ObservedState,
  Plan,
  PlanStep,
  SetNumberWebhookStep,
} from '../plan/types.js';
import type { Targets } from './targets.js';

/**
 * Whether a write's answer leaves its effect to be read from live state: no answer, a 5xx; or,
 * to a transfer, a 404: the number is no longer in the account it was to leave, which an
 * earlier send of the step that reached Twilio late (after a crash, or a lost answer) explains
 * as well as a move someone else made.
 */
export function answerWasLost(action: PlanStep['action'], status: number | null): boolean {
  return status === 0 || (status ?? 0) >= 500 || (action === 'transfer_number' && status === 404);
}

export type Settlement =
  | { kind: 'adopt'; result: Record<string, string>; how: string }
  | { kind: 'resend'; how: string }
  | { kind: 'ambiguous'; message: string };

/**
 * Of the resources with the planned name that were not there when the plan was made: the one,
 * or, when there are several, the one created after the step began (our clock and Twilio's
 * may disagree, so dates only break ties). Null when none; the list when still ambiguous.
 */
function pickNew<T extends { sid: string; dateCreated?: string | null | undefined }>(
  fresh: readonly T[],
  startedAt: string,
): T | null | T[] {
  if (fresh.length <= 1) return fresh[0] ?? null;
  const after = fresh.filter(
    (r) =>
      r.dateCreated !== null &&
      r.dateCreated !== undefined &&
      Date.parse(r.dateCreated) >= Date.parse(startedAt) - CLOCK_SKEW_MS,
  );
  return after.length === 1 ? after[0]! : [...fresh];
}

/**
 * Whether the number answers as the step sets it. The step exists because its URL or method
 * differed, so both are checked. Its fallback is observed only among the number's other
 * webhooks, unlabelled: being there is as much as can be seen (one request sets it with the URL).
 */
function hasWebhook(now: ObservedNumber, step: SetNumberWebhookStep): boolean {
  return (
    now.smsUrl === step.sms_url &&
    (now.smsMethod ?? 'POST').toUpperCase() === step.sms_method.toUpperCase() &&
    (step.sms_fallback_url === null ||
      hasSmsFallback(now, {
        url: step.sms_fallback_url,
        method: step.sms_fallback_method ?? 'POST',
      }))
  );
}

export function settleInFlight(
  plan: Plan,
  step: PlanStep,
  startedAt: string,
  observed: ObservedState,
  targets: Targets,
): Settlement {
  const number = (sid: string) => observed.numbers.find((n) => n.sid === sid);
  switch (step.action) {
    case 'create_subaccount': {
      const before = (plan.observed.get(`subaccounts-named:${step.friendly_name}`) ??
        []) as string[];
      const made = pickNew(
        observed.subaccounts.filter(
          (a) =>
            a.status === 'active' &&
            a.friendlyName === step.friendly_name &&
            !before.includes(a.sid),
        ),
        startedAt,
      );
      if (made === null) return { kind: 'resend', how: 'no such subaccount was created' };
      if (Array.isArray(made)) {
        const other = made.length === 2 ? 'the other' : 'the others';
        return {
          kind: 'ambiguous',
          message: `${made.length} new subaccounts are named "${step.friendly_name}" (${made.map((a) => a.sid).join(', ')}), and which one this create made is not known (another apply of this plan, from another database, may have made ${other}): keep the one the numbers moved into and close ${other} (closing a subaccount releases the numbers in it, so close only one that holds none), then apply again`,
        };
      }
      return {
        kind: 'adopt',
        result: { subaccount_sid: made.sid },
        how: `subaccount ${made.sid} named "${step.friendly_name}" appeared after the plan was made`,
      };
    }
    case 'create_service': {
      const account = targets.subaccountOf(step.customer_id);
      const before = (plan.observed.get(`services-named:${account}:${step.friendly_name}`) ??
        []) as string[];
      const made = pickNew(
        observed.services.filter(
          (s) =>
            s.accountSid === account &&
            s.friendlyName === step.friendly_name &&
            !before.includes(s.sid),
        ),
        startedAt,
      );
      if (made === null) return { kind: 'resend', how: 'no such service was created' };
      if (Array.isArray(made)) {
        return {
          kind: 'ambiguous',
          message: `${made.length} new services are named "${step.friendly_name}" in ${account} (${made.map((s) => s.sid).join(', ')}); delete all but one of them, then apply again`,
        };
      }
      return {
        kind: 'adopt',
        result: { service_sid: made.sid, account_sid: account ?? '' },
        how: `service ${made.sid} named "${step.friendly_name}" appeared after the plan was made`,
      };
    }
    case 'detach_number': {
      const now = number(step.number_sid);
      return now !== undefined && now.serviceSid === step.service_sid
        ? { kind: 'resend', how: 'the number is still in the service' }
        : { kind: 'adopt', result: {}, how: `the number is no longer in ${step.service_sid}` };
    }
    case 'transfer_number': {
      const target = targets.subaccountOf(step.customer_id);
      const now = number(step.number_sid);
      if (now !== undefined && now.accountSid === target) {
        return {
          kind: 'adopt',
          result: { to_account_sid: target },
          how: `the number is in ${target} already`,
        };
      }
      if (now !== undefined && now.accountSid === step.from_account_sid) {
        return { kind: 'resend', how: `the number is still in ${step.from_account_sid}` };
      }
      return {
        kind: 'ambiguous',
        // Only those two accounts were looked in: where it is now is not known.
        message:
          now === undefined
            ? `${step.phone_number} is neither in ${step.from_account_sid}, where it was, nor in ${target ?? "its customer's subaccount"}, where it was going (moved elsewhere by hand, or released)`
            : `${step.phone_number} is in ${now.accountSid}, neither where it was nor where it was going`,
      };
    }
    case 'set_number_webhook': {
      const now = number(step.number_sid);
      return now !== undefined && hasWebhook(now, step)
        ? {
            kind: 'adopt',
            result: { sms_url: step.sms_url },
            how: 'the number has the URL already',
          }
        : { kind: 'resend', how: 'the number does not have the URL yet' };
    }
    case 'attach_number': {
      const service = targets.serviceOf(step.customer_id);
      const now = number(step.number_sid);
      return now !== undefined && service !== null && now.serviceSid === service
        ? {
            kind: 'adopt',
            result: { service_sid: service },
            how: `the number is in ${service} already`,
          }
        : { kind: 'resend', how: 'the number is not in the service yet' };
    }
    case 'carry_optouts':
      // Twilio has no API to read consent records back; none is needed to decide.
      return {
        kind: 'resend',
        how: 'its records keep their correlation_ids, and consent records are upserts by them (a record written twice is written once)',
      };
  }
}
