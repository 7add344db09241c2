/**
 * Reading the parent's account family as it is now, read-only, through the port: its
 * subaccounts, every number of the parent and of its subaccounts, and the Messaging Services
 * (with their members) of the parent and of the subaccounts the mapping touches — those
 * read with each subaccount's own credentials, as Twilio requires. Only GET requests.
 */

import pLimit from 'p-limit';

import { isListingRefused } from '../twilio/error-mapping.js';
import { compareText } from '../text-order.js';
import type {
  MessagingService,
  PhoneNumber,
  ServicePhoneNumber,
  TwilioPort,
} from '../twilio/port.js';
import type { MappingRow } from './mapping.js';
import type {
  ObservedAccount,
  ObservedNumber,
  ObservedService,
  ObservedState,
  UnlistedAccount,
} from './types.js';

export interface ObserveOptions {
  /** The mapping's rows: which subaccounts it touches. */
  rows: readonly MappingRow[];
  /** customer_id → subaccount a previous apply used. */
  previousSubaccounts: ReadonlyMap<string, string>;
  /** Accounts numbers came from before an earlier apply touched them: their services too. */
  originAccounts?: ReadonlySet<string>;
}

/** A subaccount not listed, as the plan's warning and refusals name it: no credential. */
export const describeUnlisted = (u: UnlistedAccount): string =>
  `subaccount ${u.sid} (${u.status}; Twilio answered HTTP ${u.httpStatus}${u.code === null ? '' : `, code ${u.code}`})`;

/** Member lists of the parent's services read at once, beside the listing of its numbers. */
const PARENT_MEMBER_READS = 3;

export const observedNumber = (n: PhoneNumber, serviceSid: string | null): ObservedNumber => ({
  sid: n.sid,
  phoneNumber: n.phoneNumber,
  accountSid: n.accountSid,
  type: n.type,
  serviceSid,
  smsUrl: n.smsUrl,
  smsMethod: n.smsMethod,
  ...(n.otherWebhooks === undefined ? {} : { otherWebhooks: n.otherWebhooks }),
  ...(n.smsFallback === undefined ? {} : { smsFallback: n.smsFallback }),
  ...(n.applications === undefined ? {} : { applications: n.applications }),
});

export const observedService = (s: MessagingService): ObservedService => ({
  sid: s.sid,
  accountSid: s.accountSid,
  friendlyName: s.friendlyName,
  dateCreated: s.dateCreated === null ? null : s.dateCreated.toISOString(),
  settings: s.settings,
});

export async function observeFamily(
  twilio: TwilioPort,
  options: ObserveOptions,
): Promise<ObservedState> {
  const parentSid = twilio.parentAccountSid;
  // An account's services and their members, `inFlight` member lists at a time.
  const readServices = async (accountSid: string, inFlight = Infinity) => {
    const own = await twilio.listServices(accountSid);
    const limit = pLimit(inFlight);
    const members: ServicePhoneNumber[][] = await Promise.all(
      own.map((s) => limit(() => twilio.listServicePhoneNumbers(accountSid, s.sid))),
    );
    return { own, members: members.flat() };
  };
  // The parent's are always read: while its numbers are listed (page after page, each naming
  // the next), a few requests at a time, so that the next page of numbers finds a request
  // slot free (eight by default) rather than waiting behind a queue of them.
  const parentServices = readServices(parentSid, PARENT_MEMBER_READS);
  // Awaited below; a failure here is reported there, or not at all if the numbers fail first.
  parentServices.catch(() => undefined);
  const subaccounts: ObservedAccount[] = (await twilio.listSubaccounts()).map((a) => ({
    sid: a.sid,
    friendlyName: a.friendlyName,
    status: a.status,
    dateCreated: a.dateCreated === null ? null : a.dateCreated.toISOString(),
  }));
  // A closed subaccount holds no numbers (closing released them).
  const holders = [
    parentSid,
    ...subaccounts.filter((a) => a.status !== 'closed').map((a) => a.sid),
  ];
  const unlisted: UnlistedAccount[] = [];
  const statusOf = new Map(subaccounts.map((a) => [a.sid, a.status]));
  const numberLists = await Promise.all(
    holders.map((sid) =>
      twilio.listPhoneNumbers(sid).catch((error: unknown) => {
        // With an API key a subaccount's numbers are listed with its own credentials, which
        // Twilio refuses for a suspended one (403, 20403): kept and said (`unlisted`), not a
        // failure of the whole refresh. A number there is found nowhere, and a mapped one is
        // refused (resolveCustomers). Any other error, or one of an active account, fails.
        const status = statusOf.get(sid);
        if (status === undefined || status === 'active' || !isListingRefused(error)) throw error;
        unlisted.push({ sid, status, httpStatus: error.status, code: error.code });
        return [];
      }),
    ),
  );
  const numbers: ObservedNumber[] = numberLists.flat().map((n) => observedNumber(n, null));
  unlisted.sort((a, b) => compareText(a.sid, b.sid));

  const touched = touchedAccounts(parentSid, subaccounts, numbers, options);
  const services: ObservedService[] = [];
  const memberOf = new Map<string, string>();
  const reads = await Promise.all(
    [...touched].map((sid) => (sid === parentSid ? parentServices : readServices(sid))),
  );
  for (const { own, members } of reads) {
    services.push(...own.map(observedService));
    for (const member of members) memberOf.set(member.sid, member.serviceSid);
  }
  for (const number of numbers) number.serviceSid = memberOf.get(number.sid) ?? null;
  services.sort((a, b) => compareText(a.sid, b.sid));
  return {
    parentSid,
    subaccounts,
    numbers,
    services,
    ...(unlisted.length > 0 ? { unlisted } : {}),
  };
}

/**
 * The parent; every account that owns a mapped number; every existing subaccount a customer
 * may go to (pinned, recorded by a previous apply, or active with the customer's name).
 */
function touchedAccounts(
  parentSid: string,
  subaccounts: readonly ObservedAccount[],
  numbers: readonly ObservedNumber[],
  options: ObserveOptions,
): Set<string> {
  const active = new Set(subaccounts.filter((a) => a.status === 'active').map((a) => a.sid));
  const touched = new Set<string>([parentSid]);
  const bySid = options.rows.some((row) => row.phoneNumber.startsWith('PN'));
  const byKey = new Map<string, ObservedNumber>();
  for (const n of numbers) {
    byKey.set(n.phoneNumber, n);
    if (bySid) byKey.set(n.sid.toLowerCase(), n);
  }
  const names = new Set<string>();
  for (const row of options.rows) {
    const owner = byKey.get(row.phoneNumber) ?? byKey.get(row.phoneNumber.toLowerCase());
    if (owner !== undefined) touched.add(owner.accountSid);
    if (row.subaccountSid !== null && active.has(row.subaccountSid)) touched.add(row.subaccountSid);
    const previous = options.previousSubaccounts.get(row.customerId);
    if (previous !== undefined && active.has(previous)) touched.add(previous);
    names.add(row.customerName);
  }
  for (const account of subaccounts) {
    if (account.status === 'active' && names.has(account.friendlyName)) touched.add(account.sid);
  }
  for (const sid of options.originAccounts ?? []) touched.add(sid);
  // Services are read with the account's own credentials, which a suspended or closed
  // subaccount no longer has: a mapped number it holds is refused (resolveCustomers).
  return new Set([...touched].filter((sid) => sid === parentSid || active.has(sid)));
}
