/**
 * `submigrate plan`, end to end: the mapping is checked whole before anything else; then the
 * account family is read (GET only); the rows are checked against it; the opt-out ledger is
 * brought up to date for the accounts that own the mapped numbers and the existing subaccounts
 * the customers go to (unless --no-snapshot);
 * then `buildPlan` computes the plan, the mapping is recorded, and the plan file written.
 * Nothing is ever written to Twilio.
 */

import { isoSeconds, type Clock } from '../clock.js';
import { writtenCorrelationIds } from '../db/consent-journal.js';
import {
  journalMark,
  listCustomerNumbers,
  movingOrigins,
  numbersBegunSince,
  previousSubaccounts,
  recordMapping,
  type CustomerNumberRecord,
} from '../db/customers.js';
import {
  accountsListedByNumber,
  optOutsNotPlaced,
  servicesSeenByNumber,
  type NumberRow,
} from '../db/ledger.js';
import type { Db } from '../db/open.js';
import { attachedServices } from '../db/reconcile.js';
import { RefusedError } from '../errors.js';
import { eachListedOptOutDate, olderRulesNote, readCoverage } from '../optouts/export.js';
import {
  DEFAULT_PARTITIONS,
  refuseLiveSnapshot,
  takeSnapshot,
  type SnapshotDeps,
  type SnapshotResult,
} from '../optouts/snapshot.js';
import { firstFew } from '../text-list.js';
import { DEFAULT_CONSENT_PER_MINUTE } from '../twilio/limiter.js';
import type { TwilioPort } from '../twilio/port.js';
import { buildPlan, resolveCustomers, type PlanOptions, type Resolution } from './build-plan.js';
import {
  CARRY_BATCH_SIZE,
  carryIndex,
  type CarryIndex,
  type CarryOptions,
  type ListKeys,
} from './carry.js';
import type { Mapping } from './mapping.js';
import { observeFamily } from './observe.js';
import type { NumberOrigin, ObservedState, Plan } from './types.js';
import type { OptOutIndex } from './warnings.js';

export interface RunPlanInput {
  mapping: Mapping;
  snapshot: boolean;
  credentials: PlanOptions['credentials'];
  /** With --carry-optouts: records per Consent API request. Absent or null = no carry. */
  carry?: { batchSize: number } | null;
  /** `--retention-days` for the refresh; absent = the window recorded for the accounts. */
  retentionDays?: number;
  /** The database's absolute path, for the snapshot the warnings advise (PlanOptions). */
  dbPath?: string | null;
}

export interface RunPlanDeps {
  twilio: TwilioPort;
  db: Db;
  clock: Clock;
  runner: SnapshotDeps['runner'];
  onSnapshotProgress?: SnapshotDeps['onProgress'];
  /** A line for the person waiting about the ledger's refresh (a stopped run it abandons). */
  onSnapshotNotice?: SnapshotDeps['onNotice'];
}

export interface RunPlanResult {
  plan: Plan;
  snapshot: SnapshotResult | null;
}

const NO_OPTOUTS: OptOutIndex = { byNumber: new Map(), byService: new Map() };

export async function runPlan(input: RunPlanInput, deps: RunPlanDeps): Promise<RunPlanResult> {
  const { twilio, db, clock } = deps;
  // A refresh would be refused while another process runs a snapshot on this database: said
  // before the account is read, so it does not wait on a Twilio that stalls or is down.
  if (input.snapshot) refuseLiveSnapshot(db, twilio.parentAccountSid, deps.runner);
  const previous = previousSubaccounts(db);
  // Where the journal stands before anything is read: a move an apply begins after this (and
  // may finish before the plan is built) is one the reads below may have caught half way.
  const mark = journalMark(db);
  // Numbers whose move an apply began and did not finish are planned from where they were.
  const origins = new Map(
    [...movingOrigins(db)].map(([sid, json]) => [sid, JSON.parse(json) as NumberOrigin]),
  );
  // When the family is first looked at: the refresh records the numbers listed below as seen
  // then (a number moved by hand while the rest of the family is listed left after it).
  const lookedAt = isoSeconds(clock.now());
  const observed = await observeFamily(twilio, {
    rows: input.mapping.rows,
    previousSubaccounts: previous,
    originAccounts: new Set([...origins.values()].map((o) => o.accountSid)),
  });
  const recorded = new Map(listCustomerNumbers(db).map((n) => [n.numberSid, n]));
  const left = leftSinceSnapshot(db, observed, origins);
  const sources = sourceServices(observed, origins, recorded, left);
  const options = (refreshed: boolean, optOuts: OptOutIndex): PlanOptions => ({
    now: isoSeconds(clock.now()),
    credentials: input.credentials,
    previousSubaccounts: previous,
    optOuts,
    coveredAccounts: coveredAccounts(db),
    olderRulesNote: olderRulesNote(db),
    snapshotRefreshed: refreshed,
    dbPath: input.dbPath ?? null,
    origins,
    sourceServices: sources,
  });
  // Rows the live state contradicts are refused before the ledger is touched.
  const resolution = resolveCustomers(observed, input.mapping, options(input.snapshot, NO_OPTOUTS));

  const snapshot = input.snapshot
    ? await refreshLedger(input, observed, lookedAt, resolution, deps)
    : null;
  refuseMovesBegunMeanwhile(db, origins, mark);

  // The services each number's own opt-outs came through, once the ledger is up to date, and
  // the one an apply last put it in, where it is no longer in it.
  const seen = withServicesLeft(servicesSeenByNumber(db), observed, attachedServices(db));
  // The lists of the planned numbers, read once for their counts and the carry.
  // A service a number left: what an opt-in through it lifted since stays on its list.
  const keys = listKeys(resolution, origins, sources, seen);
  const optOuts = carryIndex(eachListedOptOutDate(db, keys.numbers), keys);
  const plan = buildPlan(
    observed,
    input.mapping,
    {
      ...options(input.snapshot, optOuts),
      servicesSeen: seen,
      notPlaced: optOutsNotPlaced(db).length,
      carry: input.carry ? carryOptions(db, input.carry.batchSize, sources, seen, optOuts) : null,
      carriedBefore: input.carry
        ? null
        : carryOptions(db, CARRY_BATCH_SIZE, sources, seen, optOuts),
    },
    resolution,
  );
  recordMapping(
    db,
    input.mapping.sha256,
    plan.created_at,
    plan.customers.map((c) => ({
      customerId: c.customer_id,
      customerName: c.customer_name,
      messagingService: c.messaging_service,
    })),
    mappedNumbers(resolution, origins, left),
  );
  return { plan, snapshot };
}

/**
 * An apply on this database (another process) that began moving numbers after this plan read
 * which moves were under way: the account it read holds them half moved (out of their service,
 * still in the account they leave), which it would take for where they start, and plan and
 * record them from there (the service they left no longer on their lists). Refused: nothing
 * recorded, no plan written.
 */
function refuseMovesBegunMeanwhile(
  db: Db,
  origins: ReadonlyMap<string, NumberOrigin>,
  mark: number,
): void {
  // Under way now, or begun and already finished (settled: no longer marked moving).
  const begun = [...new Set([...movingOrigins(db).keys(), ...numbersBegunSince(db, mark)])].filter(
    (sid) => !origins.has(sid),
  );
  if (begun.length === 0) return;
  throw new RefusedError(
    `an apply on this database began moving ${begun.length} number(s) (${firstFew(begun, 3)}) while this plan read the account, so what it read is half a move; no plan was written. Make the plan again once that apply has stopped (\`submigrate status\` shows it).`,
  );
}

/**
 * Brings the ledger up to date for the accounts that own the mapped numbers and the existing
 * subaccounts the customers go to. (Its own function, so that the numbers it hands the
 * snapshot are let go of before the plan is built.)
 */
async function refreshLedger(
  { mapping, retentionDays }: RunPlanInput,
  observed: ObservedState,
  lookedAt: string,
  resolution: Resolution,
  deps: RunPlanDeps,
): Promise<SnapshotResult> {
  const { twilio, db, clock } = deps;
  const mapped = new Set(mapping.rows.map((r) => r.phoneNumber.toLowerCase()));
  const owners = new Set(
    observed.numbers
      .filter((n) => mapped.has(n.phoneNumber) || mapped.has(n.sid.toLowerCase()))
      .map((n) => n.accountSid)
      .filter((sid) => sid !== observed.parentSid),
  );
  // An existing subaccount a customer goes to: once the customer is there, the service-wide
  // opt-outs of its services are on the customer's list.
  for (const { customer } of resolution.customers) {
    if (customer.subaccount_sid !== null) owners.add(customer.subaccount_sid);
  }
  const names = new Map(observed.services.map((svc) => [svc.sid, svc.friendlyName]));
  const knownNumbers = new Map<string, NumberRow[]>();
  for (const n of observed.numbers) {
    const list = knownNumbers.get(n.accountSid) ?? [];
    list.push({
      accountSid: n.accountSid,
      numberSid: n.sid,
      phoneNumber: n.phoneNumber,
      numberType: n.type,
      messagingServiceSid: n.serviceSid,
      serviceName: n.serviceSid === null ? null : (names.get(n.serviceSid) ?? null),
    });
    knownNumbers.set(n.accountSid, list);
  }
  const knownServices = new Map<string, string[]>();
  for (const svc of observed.services) {
    knownServices.set(svc.accountSid, [...(knownServices.get(svc.accountSid) ?? []), svc.sid]);
  }
  return takeSnapshot(
    {
      accounts: [...owners].sort(),
      since: null,
      until: null,
      partitions: DEFAULT_PARTITIONS,
      // A plan sends Twilio nothing but GETs, and a Bulk Export job is a POST: history
      // older than the Messages API shows is `submigrate snapshot`'s to read (the coverage
      // and the opt-out gate say where it has not been). Not told a window, the one recorded
      // for these accounts is used: where it ends, the Messages API shows nothing to read.
      useExport: false,
      retentionDays,
      knownNumbers,
      knownNumbersAt: lookedAt,
      knownServices,
      madeBy: 'plan',
    },
    {
      twilio,
      db,
      clock,
      runner: deps.runner,
      onProgress: deps.onSnapshotProgress,
      onNotice: deps.onSnapshotNotice,
    },
  );
}

/** What `recordMapping` keeps of each planned number, made one at a time as it is written. */
function* mappedNumbers(
  resolution: Resolution,
  origins: ReadonlyMap<string, NumberOrigin>,
  left: ReadonlyMap<string, LeftAccount>,
): Generator<CustomerNumberRecord> {
  // The plan's customers are the resolution's, and buildPlan gave each one planned number per
  // resolved number, in their order: where each number is now is found by its place, not by
  // its SID in an index of every observed number (made for this alone, and 100,000 lookups).
  for (const { customer: c, numbers } of resolution.customers) {
    for (const [i, n] of c.numbers.entries()) {
      const now = numbers[i]!.number;
      // The order is buildPlan's to keep: a number recorded as being where another is would
      // give the reports a wrong source, so a change to it fails here, loudly.
      if (now.sid !== n.number_sid) {
        throw new Error(
          `internal error: planned number ${n.number_sid} is not resolved ${now.sid}`,
        );
      }
      // First recorded, found in another account than a snapshot saw it in (moved by hand,
      // into its subaccount or into one the mapping does not name): it came from there, and
      // its list is what it carried out of there (the account it is in now, an apply's
      // transfer out of it records).
      const came = left.get(n.number_sid);
      yield {
        numberSid: n.number_sid,
        phoneNumber: n.phone_number,
        customerId: c.customer_id,
        sourceAccountSid: came?.accountSid ?? now.accountSid,
        sourceServiceSid: came === undefined ? now.serviceSid : came.messagingServiceSid,
        // Where it is and where its inbound goes: the origin of a move, if one begins.
        originJson: JSON.stringify({
          accountSid: now.accountSid,
          serviceSid: now.serviceSid,
          route: n.route_before,
        } satisfies NumberOrigin),
        // Still where it started, no move under way: what it left behind is what its list
        // carries.
        atSource: !origins.has(n.number_sid) && !n.unchanged && now.accountSid !== c.subaccount_sid,
        // Where the mapping wants it: a move under way is over.
        settled: n.unchanged,
      };
    }
  }
}

/**
 * The numbers and services whose lists the plan reads: each planned number's own, and every
 * service `listServices` may put on it (where it started or is now, one its own opt-outs came
 * through). Only their pairs are held, not the ledger's.
 */
function listKeys(
  resolution: Resolution,
  origins: ReadonlyMap<string, NumberOrigin>,
  sources: ReadonlyMap<string, string | null>,
  seen: ReadonlyMap<string, readonly string[]>,
): ListKeys {
  const numbers = new Set<string>();
  const services = new Set<string | null | undefined>();
  for (const { numbers: planned } of resolution.customers) {
    for (const { number } of planned) {
      numbers.add(number.phoneNumber);
      services.add(number.serviceSid).add(sources.get(number.sid));
      services.add(origins.get(number.sid)?.serviceSid);
      for (const service of seen.get(number.phoneNumber) ?? []) services.add(service);
    }
  }
  return {
    numbers,
    services: new Set([...services].filter((s): s is string => typeof s === 'string')),
  };
}

/**
 * `seen` with, for each observed number no longer in the Messaging Service an apply last put it
 * in (moved out by hand: with its number into another customer's subaccount, say), that
 * service: it took that service's STOPs while in it, and Twilio no longer refuses them for it.
 */
function withServicesLeft(
  seen: Map<string, string[]>,
  observed: ObservedState,
  attached: ReadonlyMap<string, string>,
): Map<string, string[]> {
  for (const number of observed.numbers) {
    const service = attached.get(number.sid);
    if (service === undefined || service === number.serviceSid) continue;
    const services = seen.get(number.phoneNumber) ?? [];
    if (!services.includes(service)) seen.set(number.phoneNumber, [...services, service]);
  }
  return seen;
}

/** Where the last plan recorded a number came from. */
type RecordedSource = Pick<CustomerNumberRecord, 'sourceAccountSid' | 'sourceServiceSid'>;

/**
 * For a number an earlier apply began to move, the service of its origin; for one that has
 * left the account or the service the last plan recorded it in, the service it was in there;
 * for one no plan recorded that has left an account a snapshot saw it in
 * (`leftSinceSnapshot`), the service it was in there: whose service-wide opt-outs its list
 * carries. A number that changed service only within its account (already in its customer's
 * subaccount, moved by apply from its old service into the customer's) came from its old
 * service as much as one that changed account: taken as coming from the service it is in now,
 * its old service's opt-outs would fall off its list, and the customer's service's own would
 * be planned to be carried into that same service again after a finished migration.
 */
function sourceServices(
  observed: ObservedState,
  origins: ReadonlyMap<string, NumberOrigin>,
  recorded: ReadonlyMap<string, RecordedSource>,
  left: ReadonlyMap<string, LeftAccount>,
): Map<string, string | null> {
  const sources = new Map<string, string | null>();
  for (const number of observed.numbers) {
    const origin = origins.get(number.sid);
    const before = recorded.get(number.sid);
    const came = left.get(number.sid);
    if (origin !== undefined) sources.set(number.sid, origin.serviceSid);
    else if (
      before !== undefined &&
      (before.sourceAccountSid !== number.accountSid ||
        before.sourceServiceSid !== number.serviceSid)
    ) {
      sources.set(number.sid, before.sourceServiceSid);
    } else if (came !== undefined) sources.set(number.sid, came.messagingServiceSid);
  }
  return sources;
}

/** Where a number was before it came to the account it is in now, and the service it was in. */
type LeftAccount = Pick<NumberRow, 'accountSid' | 'messagingServiceSid'>;

/**
 * Numbers (but those whose move an apply began and did not finish) that a snapshot (or a
 * plan's refresh) saw in another account than the one they are in now (moved by hand in the
 * console since), with the latest such listing: read before the plan's own refresh records
 * where they are now. One an earlier plan recorded counts too (moved by hand after that plan,
 * whose apply refused it as drift): recorded again as coming from where it is now, the account
 * it left by hand, and the STOPs said to it there after that plan's refresh, would drop out of
 * its list's coverage, and reconcile would call the list whole. Every listing counts, not only
 * the latest: a second snapshot taken after the move sees the number only where it is now, and
 * it left the account the first one saw it in all the same.
 */
function leftSinceSnapshot(
  db: Db,
  observed: ObservedState,
  origins: ReadonlyMap<string, NumberOrigin>,
): Map<string, LeftAccount> {
  const listed = accountsListedByNumber(db);
  const left = new Map<string, LeftAccount>();
  for (const number of observed.numbers) {
    if (origins.has(number.sid)) continue;
    const listings = listed.get(number.sid) ?? [];
    const then = listings.find((l) => l.accountSid !== number.accountSid);
    if (then === undefined) continue;
    // Listed where it is now both before and after that (moved away and back): it left that
    // account before, and the one it is in now is where it comes from. Listings are dated to
    // the second: a later listing there in that listing's second was taken after it, or just
    // before a move there and back, away and back either way. One listed where it is now only
    // after it (moved by hand into it, a snapshot of it since), or first in its second, came
    // from that account: one run lists every account at one time, so a number moved while a
    // snapshot listed them is seen in both at that time, coming from the other.
    const here = listings.find((l) => l.accountSid === number.accountSid);
    if (here !== undefined && here.firstSeen < then.lastSeen && here.lastSeen >= then.lastSeen) {
      continue;
    }
    left.set(number.sid, {
      accountSid: then.accountSid,
      messagingServiceSid: then.messagingServiceSid,
    });
  }
  return left;
}

/**
 * What the carry steps are made from: the opted-out pairs of the numbers' lists with their
 * dates, the services on each number's list, and the records earlier applies wrote.
 */
function carryOptions(
  db: Db,
  batchSize: number,
  sources: ReadonlyMap<string, string | null>,
  servicesSeen: ReadonlyMap<string, readonly string[]>,
  optOuts: CarryIndex,
): CarryOptions {
  return {
    batchSize,
    requestsPerMinute: DEFAULT_CONSENT_PER_MINUTE,
    optOuts,
    sourceServices: sources,
    servicesSeen,
    written: writtenCorrelationIds(db),
  };
}

/**
 * Accounts a completed snapshot has read from the start of their history, with no gap: the
 * opt-out gate. The span from the last read to a later move out of the account is not judged
 * here (the numbers it concerns have moved; apply reads it after its moves, and the lists say
 * not whole while it is unread): a killed apply is continued, not refused for its own moves.
 */
export function coveredAccounts(db: Db): Set<string> {
  const coverage = readCoverage(db, undefined, false);
  const gaps = new Set(coverage.not_read.map((w) => w.account_sid));
  return new Set(coverage.windows.map((w) => w.account_sid).filter((sid) => !gaps.has(sid)));
}
