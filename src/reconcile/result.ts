/**
 * What a reconcile pass says (`ReconcileResult`), the spans of sends it could not judge
 * (`Unread`, `NotChecked`), and whether `--fail-on-violation` fails it.
 */

export interface ReconcileResult {
  passId: number;
  /**
   * Earlier passes' runs left stopped before their pass was recorded (their process gone, on
   * this machine), abandoned by this pass: nothing takes a pass's run up.
   */
  abandonedPassRuns: { id: number; pid: number }[];
  subaccounts: number;
  /**
   * The mapped numbers the pass held or looked for: moved into their customers' subaccounts
   * (`moved`, by apply or found there since), found already there by an applied plan
   * (`foundInPlace`), and left where their plans found them by a transfer that failed or was
   * not run (`notMoved`). With none moved nor found in place, no send is a moved number's.
   */
  numbers: { moved: number; foundInPlace: number; notMoved: number };
  windows: { accountSid: string; start: string; end: string }[];
  messagesRead: number;
  sendsChecked: number;
  /** Found by this pass (a send seen before is not counted twice). */
  newViolations: number;
  newBlocked: number;
  /**
   * Every send waiting for judgment once the pass is over: to a listed recipient after a span
   * no pass has read yet (one --since skipped), where an opt-in may lift it, so the next pass
   * that reads the span judges it. Those this pass found and those earlier passes kept alike.
   */
  pending: number;
  /** Of `pending`, the sends an earlier pass found and kept (this pass may have read them again). */
  pendingFromEarlierPasses: number;
  evidenceAdded: number;
  /**
   * Spans since a subaccount's numbers began to move that no pass read and none will: sends
   * then were held to no list. `retention`: older than its Messages API window now;
   * `numbers-left`: while a number was in a subaccount it has left since (a later wave moved it
   * on, or its customer's subaccount is another now), whose sends there no pass holds to its
   * list again. `not-whole-retention` and `not-whole-numbers-left` (with `customerId`): spans
   * in which an earlier pass held a customer's sends to a list that was not whole, and that no
   * pass can read again over the whole list — older than the Messages API window by the time
   * the list was whole, or sent from a number that has moved on to another customer since.
   * `number-away` (with `phoneNumber`, `customerId` and `subaccountSid`): while a moved number
   * was in another account (`accountSid`) than the subaccount it is held to, with no step of
   * apply's that put it there (moved by hand back into the parent, say), or a mapped number an
   * applied plan found in place, out of its subaccount since: no pass reads its sends there. `number-not-found` (the same, and `unlisted`): a moved number not in its
   * subaccount (`accountSid` too) nor found by this pass in any account it listed, while some
   * subaccounts could not be listed (`unlisted`): it may be in one of them, where no pass
   * reads its sends; from when it last came into its subaccount to the pass. Said by each such
   * pass, not kept. `number-updated` (the same, without `unlisted`): a moved number in its
   * subaccount that Twilio says was changed there since apply last changed it (`date_updated`),
   * which a move by hand away and back between two passes does: from when it last came into
   * its subaccount to that change, it may have sent from an account no pass read. The pass
   * reads the messages of the parent and of the family's other subaccounts for the number in
   * that span: when none holds one, the span is vouched for (kept: no later pass names it or
   * reads for it again); otherwise it is named, with why (`updatedCheck`), by each pass that
   * lists it so, and kept: once it is no longer listed so, every later pass names it (with
   * `updatedCheck` only when a message was found) until one vouches for it or a span found
   * away covers it.
   */
  notChecked: NotChecked[];
  /**
   * Spans since the move that no pass has read yet and a later one still can: sends in and
   * after them, pending or not, are judged only once one does. `skipped`: a --since pass
   * skipped it; `older-rules`: a pass of an older submigrate read it, under keyword rules that
   * missed some opt-outs, and the next pass without --since reads it again.
   */
  unread: Unread[];
  /**
   * The moved numbers' customers whose suppression lists are not whole (history no snapshot
   * read while their numbers were there: `optouts --customer` names the spans), and when the
   * first of their numbers began to move: a send to someone who opted out in such a span was
   * held to no list, and only a pass that reads it again once a snapshot has read the span
   * (`--since` that time) judges it.
   */
  notWhole: { customerIds: string[]; since: string } | null;
  /**
   * The moved customers whose lists are whole now, but whose sends an earlier pass held to them
   * while they were not, and no pass has read again since (one with --since after their moves
   * skipped them): the first pass without --since reads them again from `since`.
   */
  notJudgedAgain: { customerIds: string[]; since: string } | null;
}

export interface Unread {
  accountSid: string;
  start: string;
  end: string;
  reason: 'skipped' | 'older-rules';
}

export interface NotChecked {
  accountSid: string;
  start: string;
  end: string;
  reason:
    | 'retention'
    | 'numbers-left'
    | 'not-whole-retention'
    | 'not-whole-numbers-left'
    | 'number-away'
    | 'number-not-found'
    | 'number-updated';
  /**
   * The customer whose sends were held to a list that was not whole (`not-whole-…`), or whose
   * number was away (`number-away`).
   */
  customerId?: string;
  /**
   * `numbers-left`: how the numbers left the subaccount — a later apply moved them on
   * (`apply`), or they are held to another subaccount now with no step of apply's that took
   * them there (`hand`: moved by hand in the console).
   */
  leftBy?: 'apply' | 'hand';
  /**
   * `number-away`, `number-not-found` and `number-updated`: the number, and the subaccount it is
   * held to (where apply last put it).
   */
  phoneNumber?: string;
  subaccountSid?: string;
  /**
   * `number-not-found`: the subaccounts the pass could not list, any of which may hold the
   * number, each with Twilio's answer.
   */
  unlisted?: UnlistedSubaccount[];
  /** `number-updated`: why reading the family's messages for the span did not vouch for it. */
  updatedCheck?: UpdatedCheck;
  /**
   * `number-updated` of a mapped number whose transfer failed or was not run, held to the
   * account it comes from (`accountSid` and `subaccountSid` are that account, not a subaccount
   * of its customer's); `number-away` of one whose customer has no subaccount yet, found away
   * from that account (`subaccountSid`): `parent`, the parent account; `subaccount`, the
   * subaccount an earlier wave put it in. Not given: the subaccount apply put it in.
   */
  comesFrom?: 'parent' | 'subaccount';
  /**
   * `number-away` of a mapped number whose transfer failed or was not run while its customer
   * has a subaccount (`subaccountSid`, where it never was moved): the account it comes from,
   * the parent or a subaccount an earlier wave put it in.
   */
  transferFrom?: { accountSid: string; kind: 'parent' | 'subaccount' };
  /**
   * `number-away` of such a number found in an account the passes read, and read there over
   * the whole span by passes begun after Twilio refused its transfer: its sends there are held
   * to its list (a send to someone on it is a violation); what is not checked is where it may
   * have been on its way there.
   */
  sendsHeld?: true;
  /**
   * `number-updated` of a moved number listed in another subaccount a pass reads with no
   * `date_updated`: `end` is when the pass listed it there, not a date Twilio gave.
   */
  arrivalUndated?: true;
}

/**
 * Why a `number-updated` span was not vouched for: `found`, an account of the family other than
 * the number's subaccount holds a message the number sent or heard in the span (the first
 * found: its SID and date); `unreadable`, some accounts' messages could not be read (Twilio's
 * answer for each); `retention`, the span reaches back beyond what an account's Messages API
 * shows (from `readableFrom`).
 */
export type UpdatedCheck =
  | { outcome: 'found'; accountSid: string; messageSid: string; sentAt: string }
  | { outcome: 'unreadable'; accounts: UnlistedSubaccount[] }
  | { outcome: 'retention'; accountSid: string; readableFrom: string };

/** A subaccount whose numbers Twilio refused to list: its HTTP status and error code. */
export interface UnlistedSubaccount {
  accountSid: string;
  status: number;
  code: number | null;
}

/**
 * Whether `--fail-on-violation` fails the pass (exit 3): a violation is known (`violations`, all
 * passes'), or this pass cannot say "none" — a send is pending, a span since the move is unread
 * yet, or one was never checked and no pass can now. An alerting job is never told "none" over a
 * gap: like a violation, a span never checked keeps failing every later pass.
 */
export function failsOnViolation(
  result: Pick<ReconcileResult, 'pending' | 'unread' | 'notChecked'> &
    Partial<Pick<ReconcileResult, 'notWhole' | 'notJudgedAgain'>>,
  violations: number,
): boolean {
  return (
    violations > 0 ||
    result.pending > 0 ||
    result.unread.length > 0 ||
    result.notChecked.length > 0 ||
    (result.notWhole ?? null) !== null ||
    (result.notJudgedAgain ?? null) !== null
  );
}
