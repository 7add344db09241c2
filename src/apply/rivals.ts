/**
 * The same plan applied at once from two databases (two engineers, or a plan file copied):
 * each apply passes its drift check before the other has created anything, and each creates
 * its own subaccount for the same customer. Neither journal knows of the other, so after a
 * `create_subaccount` is journaled done, the parent's subaccounts with its name are read
 * again: one this run did not create and the plan did not know is a rival's, and this run
 * moves none of that customer's numbers (its dependent steps are not run).
 *
 * Whichever of two such runs looks second sees the other's subaccount: each looks only after
 * its own create, so if neither saw the other, each create came after the other's look, which
 * came after its own create. So at most one of them goes on, never both; when both look after
 * both creates, neither does, and a person chooses. No date decides: Twilio's whole-second
 * dates, from its clocks, could let both runs think themselves first.
 */

import { subaccountsNamedKey } from '../plan/resources.js';
import type { CreateSubaccountStep, Plan } from '../plan/types.js';
import type { Account, TwilioPort } from '../twilio/port.js';

/** Active subaccounts with the step's name that are neither `kept` nor known to the plan. */
export async function findRivals(
  plan: Plan,
  step: CreateSubaccountStep,
  kept: string,
  twilio: Pick<TwilioPort, 'listSubaccountsNamed'>,
): Promise<Account[]> {
  const known = (plan.observed.get(subaccountsNamedKey(step.friendly_name)) ?? []) as string[];
  return (await twilio.listSubaccountsNamed(step.friendly_name)).filter(
    (a) =>
      a.status === 'active' &&
      a.friendlyName === step.friendly_name &&
      a.sid !== kept &&
      !known.includes(a.sid),
  );
}

/**
 * What the run notes when it found rivals: what it left, and what a person does. Closing a
 * subaccount releases the numbers in it, so the advice never names one to close without
 * saying to keep the one the numbers are in.
 */
export function describeRivals(
  step: CreateSubaccountStep,
  kept: string,
  rivals: readonly Account[],
  sends: number,
): string {
  const others = rivals.map((a) => a.sid).join(', ');
  const lateSend =
    sends > 1
      ? ` (or, as this create was sent ${sends} times, Twilio carried out an earlier send of it late)`
      : '';
  return (
    `${step.id}: this run created subaccount ${kept} "${step.friendly_name}", and ${others} ` +
    `"${step.friendly_name}" was also created since the plan was made, not by this database: ` +
    `this plan is being applied from another database too${lateSend}. This run moved none of ` +
    `customer ${step.customer_id}'s numbers (its steps after the create were not run). Stop ` +
    `one of the two applies. Keep the subaccount the numbers moved into and close the other ` +
    `(closing a subaccount releases the numbers in it, so close only one that holds none); if ` +
    `neither holds any, keep either. Then run apply again from the database that created the ` +
    `one you kept; this database's run is refused while ${kept} and another subaccount ` +
    `"${step.friendly_name}" are both open`
  );
}

/** When the subaccounts could not be read: the customer's numbers wait for a run that can. */
export function describeUnchecked(step: CreateSubaccountStep, kept: string, why: string): string {
  return (
    `${step.id}: this run created subaccount ${kept} "${step.friendly_name}" but could not ` +
    `read the parent's subaccounts to see whether another apply of this plan made one too ` +
    `(${why}); it moved none of customer ${step.customer_id}'s numbers (its steps after the ` +
    `create were not run). Run apply again: it checks before it sends anything`
  );
}
