/**
 * The live state one step touches, read (GET only) when its write got no certain answer — a
 * dropped connection, a 5xx — so that `settleInFlight` can tell whether the write took
 * effect before anything is sent again.
 */

import { TwilioError } from '../errors.js';
import { observedNumber, observedService } from '../plan/observe.js';
import type { ObservedNumber, ObservedState, PlanStep } from '../plan/types.js';
import type { TwilioPort } from '../twilio/port.js';
import type { Targets } from './targets.js';

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

export async function observeStep(
  step: PlanStep,
  twilio: TwilioPort,
  targets: Targets,
): Promise<ObservedState> {
  const state: ObservedState = {
    parentSid: twilio.parentAccountSid,
    subaccounts: [],
    numbers: [],
    services: [],
  };
  const membership = async (account: string, service: string, number: string) => {
    const members = await twilio.listServicePhoneNumbers(account, service);
    const inIt = members.some((m) => m.sid === number);
    state.numbers.push({
      sid: number,
      phoneNumber: '',
      accountSid: account,
      type: null,
      serviceSid: inIt ? service : null,
      smsUrl: null,
      smsMethod: null,
    });
  };
  switch (step.action) {
    case 'create_subaccount':
      state.subaccounts = (await twilio.listSubaccounts()).map((a) => ({
        sid: a.sid,
        friendlyName: a.friendlyName,
        status: a.status,
        dateCreated: iso(a.dateCreated),
      }));
      break;
    case 'create_service': {
      const account = targets.subaccountOf(step.customer_id);
      if (account !== null) {
        state.services = (await twilio.listServices(account)).map(observedService);
      }
      break;
    }
    case 'detach_number':
      await membership(step.account_sid, step.service_sid, step.number_sid);
      break;
    case 'attach_number': {
      const account = targets.subaccountOf(step.customer_id);
      const service = targets.serviceOf(step.customer_id);
      if (account !== null && service !== null) {
        await membership(account, service, step.number_sid);
      }
      break;
    }
    case 'carry_optouts':
      // Nothing to read (Twilio shows no consent record back), nothing needed: see settle.ts.
      break;
    case 'set_number_webhook':
    case 'transfer_number': {
      const target = targets.subaccountOf(step.customer_id);
      const from = step.action === 'transfer_number' ? step.from_account_sid : null;
      for (const account of [target, from]) {
        if (account === null) continue;
        const found = await numberIn(twilio, account, step.number_sid);
        if (found !== null) {
          state.numbers.push(found);
          break;
        }
      }
      break;
    }
  }
  return state;
}

/** The number as its owner's path shows it; null when that account does not own it (404). */
async function numberIn(
  twilio: TwilioPort,
  accountSid: string,
  numberSid: string,
): Promise<ObservedNumber | null> {
  try {
    return observedNumber(await twilio.fetchPhoneNumber(accountSid, numberSid), null);
  } catch (error) {
    if (error instanceof TwilioError && error.status === 404) return null;
    throw error;
  }
}
