/**
 * reconcile's pass as printed: the summary line, and the lines on stderr in their order
 * (folders left to an apply under way, pending sends, spans never checked, spans not read,
 * lists not whole, sends not judged again).
 */

import { describe, expect, it } from 'vitest';

import { reconcileNotes, reconcileSummary, unreadWhy } from '../../../src/cli/render/reconcile.js';
import type { ReconcileTotals } from '../../../src/db/reconcile.js';
import type { NotChecked, ReconcileResult } from '../../../src/reconcile/result.js';

const SUB = 'AC00000000000000000000000000000001';

function result(over: Partial<ReconcileResult> = {}): ReconcileResult {
  const judgedEverything: ReconcileResult = {
    passId: 3,
    abandonedPassRuns: [],
    subaccounts: 2,
    numbers: { moved: 40, foundInPlace: 0, notMoved: 0 },
    windows: [],
    messagesRead: 12_345,
    sendsChecked: 1_200,
    newViolations: 1,
    newBlocked: 0,
    pending: 0,
    pendingFromEarlierPasses: 0,
    evidenceAdded: 0,
    notChecked: [],
    unread: [],
    notWhole: null,
    notJudgedAgain: null,
  };
  return { ...judgedEverything, ...over };
}

const totals = { passes: 3, lastPassAt: null, violations: 4, blocked: 2 } as ReconcileTotals;

describe('reconcileSummary', () => {
  it('counts with thousands separators and names each folder written', () => {
    expect(reconcileSummary(result(), totals, ['reports/1', 'reports/2'])).toBe(
      'reconcile pass 3: 2 subaccount(s), 12,345 messages read, 1,200 sends from moved numbers checked: 1 new violation(s), 0 new send(s) blocked by Twilio. In all: 4 violation(s), 2 blocked. reports/1/violations.csv, reports/2/violations.csv',
    );
  });
});

describe('reconcileNotes', () => {
  const where = { cwd: '/work', db: 'submigrate.db', me: { pid: 7, hostname: 'here' } };

  it('nothing to say for a pass that judged everything', () => {
    expect(reconcileNotes({ result: result(), underWay: [] }, where)).toEqual([]);
  });

  it('says first that nothing moved when the only numbers are ones whose transfer failed', () => {
    const numbers = { moved: 0, foundInPlace: 0, notMoved: 2 };
    const [line] = reconcileNotes({ result: result({ numbers }), underWay: [] }, where);
    expect(line).toMatch(/^nothing moved: .* The 2 whose transfer failed or was not run are where/);
    // A number found in place, or one moved, is a moved number's: nothing to say.
    for (const over of [{ foundInPlace: 1 }, { moved: 1 }]) {
      const held = { numbers: { ...numbers, ...over } };
      expect(reconcileNotes({ result: result(held), underWay: [] }, where)).toEqual([]);
    }
  });

  it('under way, pending, not checked, not read, not whole, not judged again: in that order, the folder shown relative', () => {
    const span = { accountSid: SUB, start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' };
    const lines = reconcileNotes(
      {
        result: result({
          pending: 2,
          pendingFromEarlierPasses: 1,
          unread: [{ ...span, reason: 'skipped' }],
          notChecked: [{ ...span, reason: 'retention' }],
          notWhole: { customerIds: ['acme', 'bolt'], since: '2026-01-01T00:00:00Z' },
          notJudgedAgain: { customerIds: ['cove'], since: '2025-12-01T00:00:00Z' },
        }),
        underWay: [
          {
            run: { id: 5, planPath: 'plans/a.plan.json', optionsJson: '{}' },
            holder: {
              runId: 5,
              pid: 1,
              hostname: 'here',
              acquiredAt: '2026-01-01T00:00:00Z',
              renewedAt: null,
            },
            dir: '/work/reports/5',
          },
        ],
      },
      where,
    );
    expect(lines.map((line) => line.split(':')[0])).toEqual([
      'reports/5/ not written now',
      'pending',
      'not checked',
      'not read yet',
      'not whole',
      'not judged again',
    ]);
    expect(lines[1]).toContain('(--since skipped it), 1 of them kept from earlier passes');
    expect(lines[4]).toContain('2 customer(s) (acme, bolt)');
    expect(lines[4]).toContain('`submigrate reconcile --since 2026-01-01T00:00:00Z`');
    expect(lines[5]).toContain('1 customer(s) (cove)');
    expect(lines[5]).toContain('or with --since 2025-12-01T00:00:00Z');
  });

  it('names the customer and why a span held to a list not whole is never checked again', () => {
    const span = { accountSid: SUB, start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' };
    const lines = reconcileNotes(
      {
        result: result({
          notChecked: [
            { ...span, reason: 'not-whole-retention', customerId: 'acme' },
            { ...span, reason: 'not-whole-numbers-left', customerId: 'bolt' },
          ],
        }),
        underWay: [],
      },
      where,
    );
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(
        `^not checked again: ${SUB} from 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z, the sends of acme, `,
      ),
    );
    expect(lines[0]).toContain('older than its Messages API window now');
    expect(lines[1]).toContain('the sends of bolt');
    expect(lines[1]).toContain('moved on to another customer');
  });
});

describe('reconcileNotes: numbers that left a subaccount', () => {
  const where = { cwd: '/work', db: 'submigrate.db', me: { pid: 7, hostname: 'here' } };
  const span = { accountSid: SUB, start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' };
  const notes = (notChecked: ReconcileResult['notChecked']) =>
    reconcileNotes({ result: result({ notChecked }), underWay: [] }, where);

  it('says a later apply moved the number on only where one did', () => {
    const [byApply, byHand] = notes([
      { ...span, reason: 'numbers-left', leftBy: 'apply' },
      { ...span, reason: 'numbers-left', leftBy: 'hand' },
    ]);
    expect(byApply).toContain(
      'while a moved number was in it that a later apply has moved on since',
    );
    expect(byHand).not.toContain('apply has moved on');
    expect(byHand).toContain(
      "while a moved number was in it that no apply moved out of it and that reconcile holds to another subaccount now (moved there by hand, or its customer's subaccount is another now)",
    );
  });

  it('names a number moved by hand out of its subaccount, where it was, and its customer', () => {
    const [line] = notes([
      {
        ...span,
        reason: 'number-away',
        phoneNumber: '+14155550701',
        customerId: 'acme',
        subaccountSid: 'AC00000000000000000000000000000002',
      },
    ]);
    expect(line).toBe(
      `not checked: ${SUB} from 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z, while moved number +14155550701 of acme was there, out of its subaccount AC00000000000000000000000000000002 with no step of apply's (moved by hand): no pass reads its sends there, which were held to no list, and none will. Ask the customer to check what it sent from there against \`submigrate optouts --customer acme\`; \`submigrate plan\` and \`apply\` move it back`,
    );
  });

  it('names the account a number whose customer has no subaccount comes from as what it is', () => {
    const lineOf = (comesFrom: 'parent' | 'subaccount') =>
      notes([
        {
          ...span,
          reason: 'number-away',
          phoneNumber: '+14155550701',
          customerId: 'acme',
          subaccountSid: 'AC00000000000000000000000000000009',
          comesFrom,
        },
      ])[0]!;
    expect(lineOf('parent')).toBe(
      `not checked: ${SUB} from 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z, while number +14155550701 of acme was there, out of the parent account AC00000000000000000000000000000009, where it comes from (its transfer failed or was not run, and its customer has no subaccount yet), with no step of apply's (moved by hand): no pass reads its sends there, which were held to no list, and none will. Ask the customer to check what it sent from there against \`submigrate optouts --customer acme\``,
    );
    expect(lineOf('subaccount')).toContain(
      'out of the subaccount AC00000000000000000000000000000009, where it comes from (its transfer failed',
    );
    expect(lineOf('subaccount')).not.toContain('its subaccount');
  });

  it('names a number whose transfer did not go through, found in its own subaccount', () => {
    const [line] = notes([
      {
        ...span,
        reason: 'number-away',
        phoneNumber: '+14155550701',
        customerId: 'acme',
        subaccountSid: SUB,
      },
    ]);
    expect(line).toBe(
      `not checked: ${SUB} from 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z, while number +14155550701 of acme was there, in its subaccount with no transfer of apply's (its transfer failed or was not run: moved there by hand): no pass reads its sends there, which were held to no list, and none will. Ask the customer to check what it sent from there against \`submigrate optouts --customer acme\`; \`submigrate plan\` and \`apply\` hold it as moved from then on`,
    );
  });
});

describe('reconcileNotes: a number whose transfer failed, its customer with a subaccount', () => {
  const where = { cwd: '/work', db: 'submigrate.db', me: { pid: 7, hostname: 'here' } };
  const span = { accountSid: SUB, start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' };
  const PARENT = 'AC00000000000000000000000000000009';
  const ACME = 'AC00000000000000000000000000000002';
  const lineOf = (extra: Partial<ReconcileResult['notChecked'][number]>) =>
    reconcileNotes(
      {
        result: result({
          notChecked: [
            {
              ...span,
              reason: 'number-away',
              phoneNumber: '+14155550701',
              customerId: 'acme',
              subaccountSid: ACME,
              transferFrom: { accountSid: PARENT, kind: 'parent' },
              ...extra,
            },
          ],
        }),
        underWay: [],
      },
      where,
    )[0]!;

  it('names it as not moved, and, found in an account the passes read, says its sends there are judged', () => {
    expect(lineOf({ sendsHeld: true })).toBe(
      `not checked: ${SUB} from 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z, while number +14155550701 of acme, whose transfer out of the parent account ${PARENT} into its customer's subaccount ${ACME} failed or was not run, was there, out of the parent account ${PARENT}, where it comes from, with no step of apply's (moved by hand): its sends there are held to its list (a send to someone on it is named a violation), but reconcile cannot vouch for where it was on its way there, which may be an account no pass reads. Ask the customer to check what it sent since that apply began against \`submigrate optouts --customer acme\`; \`submigrate plan\` and \`apply\` move it into its subaccount`,
    );
  });

  it('found in an account no pass reads, says none of its sends there are judged', () => {
    const line = lineOf({});
    expect(line).not.toContain('moved number');
    expect(line).toContain('no pass reads its sends there, which were held to no list');
  });

  it('found in its own subaccount, with no transfer that put it there', () => {
    const line = lineOf({ accountSid: ACME, sendsHeld: true });
    expect(line).toContain(
      `failed or was not run, was there, in that subaccount with no transfer of apply's (moved there by hand): its sends there are held to its list`,
    );
    expect(line).toContain('hold it as moved from then on');
  });
});

describe('reconcileNotes: a number not found while subaccounts could not be listed', () => {
  const where = { cwd: '/work', db: 'submigrate.db', me: { pid: 7, hostname: 'here' } };
  const sub = (i: number) => `AC${String(i).padStart(32, '0')}`;

  it('names each subaccount with its status and code, the first five and how many more', () => {
    const unlisted = [1, 2, 3, 4, 5, 6, 7].map((i) => ({
      accountSid: sub(10 + i),
      status: i === 2 ? 401 : 403,
      code: i === 3 ? null : i === 2 ? 20003 : 20403,
    }));
    const [line] = reconcileNotes(
      {
        result: result({
          notChecked: [
            {
              accountSid: SUB,
              start: '2026-01-01T00:00:00Z',
              end: '2026-01-02T00:00:00Z',
              reason: 'number-not-found',
              phoneNumber: '+14155550701',
              customerId: 'acme',
              subaccountSid: SUB,
              unlisted,
            },
          ],
        }),
        underWay: [],
      },
      where,
    );
    expect(line).toContain(
      `not checked: moved number +14155550701 of acme, from 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z: it was not in its subaccount ${SUB} when this pass listed it, and this pass did not find it elsewhere; 7 subaccount(s) of the family could not be listed, and it may be in any of them: ${sub(11)} (HTTP 403, code 20403), ${sub(12)} (HTTP 401, code 20003), ${sub(13)} (HTTP 403), ${sub(14)} (HTTP 403, code 20403), ${sub(15)} (HTTP 403, code 20403) and 2 more.`,
    );
    expect(line).not.toContain(sub(16));
    expect(line).toContain('`submigrate optouts --customer acme`');
  });
});

describe('reconcileNotes: a number Twilio changed in its subaccount since apply did', () => {
  it('names the number, its customer, the span and the change, and what to do', () => {
    const [line] = reconcileNotes(
      {
        result: result({
          notChecked: [
            {
              accountSid: SUB,
              start: '2026-01-01T00:00:00Z',
              end: '2026-01-02T00:00:00Z',
              reason: 'number-updated',
              phoneNumber: '+14155550701',
              customerId: 'acme',
              subaccountSid: SUB,
            },
          ],
        }),
        underWay: [],
      },
      { cwd: '/work', db: 'submigrate.db', me: { pid: 7, hostname: 'here' } },
    );
    expect(line).toContain(
      `not checked: moved number +14155550701 of acme, from 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z: a pass listed it in its subaccount ${SUB}, but Twilio says it was changed there at 2026-01-02T00:00:00Z, after apply last changed it`,
    );
    expect(line).toContain('`submigrate optouts --customer acme`');
  });

  it('names the account a number whose transfer failed comes from as what it is, not as its subaccount', () => {
    const lineOf = (comesFrom: 'parent' | 'subaccount') =>
      reconcileNotes(
        {
          result: result({
            notChecked: [
              {
                accountSid: 'ACparent',
                start: '2026-01-01T00:00:00Z',
                end: '2026-01-02T00:00:00Z',
                reason: 'number-updated',
                phoneNumber: '+14155550701',
                customerId: 'acme',
                subaccountSid: 'ACparent',
                comesFrom,
              },
            ],
          }),
          underWay: [],
        },
        { cwd: '/work', db: 'submigrate.db', me: { pid: 7, hostname: 'here' } },
      )[0]!;
    expect(lineOf('parent')).toContain(
      "not checked: number +14155550701 of acme, whose transfer into its customer's subaccount failed or was not run, from 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z: a pass listed it in the parent account ACparent, where it comes from, but Twilio says it was changed there at 2026-01-02T00:00:00Z",
    );
    expect(lineOf('subaccount')).toContain(
      'not checked: number +14155550701 of acme, whose transfer out of the subaccount ACparent failed or was not run, from 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z: a pass listed it in that subaccount, where it comes from, but Twilio says',
    );
    for (const c of ['parent', 'subaccount'] as const) {
      expect(lineOf(c)).not.toContain('its subaccount ACparent');
      expect(lineOf(c)).not.toContain('moved number');
    }
  });

  it('names the subaccount passes read it arrived in by hand, and its own', () => {
    const [line] = reconcileNotes(
      {
        result: result({
          notChecked: [
            {
              accountSid: 'ACbeta',
              start: '2026-01-01T00:00:00Z',
              end: '2026-01-02T00:00:00Z',
              reason: 'number-updated',
              phoneNumber: '+14155550701',
              customerId: 'acme',
              subaccountSid: SUB,
              updatedCheck: {
                outcome: 'found',
                accountSid: 'ACparent',
                messageSid: 'SM1',
                sentAt: '2026-01-01T12:00:00Z',
              },
            },
          ],
        }),
        underWay: [],
      },
      { cwd: '/work', db: 'submigrate.db', me: { pid: 7, hostname: 'here' } },
    );
    expect(line).toContain(
      `not checked: moved number +14155550701 of acme, from 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z: a pass listed it in ACbeta, another subaccount passes read, which Twilio says it came into at 2026-01-02T00:00:00Z, moved by hand from its subaccount ${SUB} (perhaps through the parent, or another account no pass reads); ACparent holds a message it sent or heard at 2026-01-01T12:00:00Z (SM1)`,
    );
  });

  it('says Twilio gave no date of its arrival when the listing had none', () => {
    const [line] = reconcileNotes(
      {
        result: result({
          notChecked: [
            {
              accountSid: 'ACbeta',
              start: '2026-01-01T00:00:00Z',
              end: '2026-01-02T00:00:00Z',
              reason: 'number-updated',
              phoneNumber: '+14155550701',
              customerId: 'acme',
              subaccountSid: SUB,
              arrivalUndated: true,
            },
          ],
        }),
        underWay: [],
      },
      { cwd: '/work', db: 'submigrate.db', me: { pid: 7, hostname: 'here' } },
    );
    expect(line).toContain(
      'a pass listed it in ACbeta, another subaccount passes read, which Twilio gives no date it came into (it was there when the pass listed it, at 2026-01-02T00:00:00Z), moved by hand',
    );
    expect(line).not.toContain('Twilio says');
  });

  it("says why the family's messages did not vouch for the span", () => {
    const lineOf = (updatedCheck: NotChecked['updatedCheck']) =>
      reconcileNotes(
        {
          result: result({
            notChecked: [
              {
                accountSid: SUB,
                start: '2026-01-01T00:00:00Z',
                end: '2026-01-02T00:00:00Z',
                reason: 'number-updated',
                phoneNumber: '+14155550701',
                customerId: 'acme',
                subaccountSid: SUB,
                updatedCheck,
              },
            ],
          }),
          underWay: [],
        },
        { cwd: '/work', db: 'submigrate.db', me: { pid: 7, hostname: 'here' } },
      )[0];
    expect(
      lineOf({
        outcome: 'found',
        accountSid: 'ACbeta',
        messageSid: 'SM1',
        sentAt: '2026-01-01T12:00:00Z',
      }),
    ).toContain('; ACbeta holds a message it sent or heard at 2026-01-01T12:00:00Z (SM1)');
    expect(
      lineOf({
        outcome: 'unreadable',
        accounts: [{ accountSid: 'ACx', status: 403, code: 20403 }],
      }),
    ).toContain(
      'could not be read, and it may have been in any of them then: ACx (HTTP 403, code 20403)',
    );
    expect(
      lineOf({ outcome: 'retention', accountSid: 'ACp', readableFrom: '2025-01-01T00:00:00Z' }),
    ).toContain('beyond what the Messages API of ACp still shows (from 2025-01-01T00:00:00Z)');
  });
});

describe('unreadWhy', () => {
  it('names each reason once, joined with "; or "', () => {
    const at = { accountSid: SUB, start: 'a', end: 'b' };
    const why = unreadWhy([
      { ...at, reason: 'skipped' },
      { ...at, reason: 'older-rules' },
      { ...at, reason: 'skipped' },
    ]);
    expect(why.split('; or ')).toHaveLength(2);
    expect(why.startsWith('--since skipped it; or an older submigrate read it')).toBe(true);
  });
});
