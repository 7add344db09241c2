/**
 * apply's end as printed: what goes to stderr (notes, failures, warnings, lost routes, in that
 * order) and the summary line on stdout, whose words follow the run's outcome.
 */

import { describe, expect, it } from 'vitest';

import type { RouteCheck } from '../../../src/apply/routes-check.js';
import type { ApplyResult } from '../../../src/apply/apply-types.js';
import {
  applyResultJson,
  failedLine,
  rehearsalJson,
  renderApplyResult,
} from '../../../src/cli/render/apply.js';

const route = { via: 'number', url: 'https://app.example/sms', method: 'POST' } as const;

function check(phoneNumber: string, after: RouteCheck['after']): RouteCheck {
  return {
    customerId: 'acme',
    phoneNumber,
    numberSid: 'PN1',
    before: route,
    after,
    verdict: after === null ? 'missing' : 'same',
    fallback: null,
    checkedAt: '2026-01-01T00:00:00Z',
  };
}

function done(over: Partial<ApplyResult> = {}): Omit<ApplyResult, 'reportsError'> {
  return {
    runId: 7,
    resumed: false,
    status: 'completed',
    counts: { pending: 0, in_flight: 0, done: 3, skipped: 1, failed: 0, not_run: 0 },
    notes: [],
    failures: [],
    routes: [check('+15550001', route)],
    routeFailures: [],
    adopted: [],
    ...over,
  } as Omit<ApplyResult, 'reportsError'>;
}

describe('renderApplyResult', () => {
  it('a completed run: one summary line naming its reports, nothing on stderr', () => {
    const text = renderApplyResult({
      done: done(),
      planSteps: 4,
      listWarnings: [],
      shownDir: 'reports/7',
    });
    expect(text.err).toEqual([]);
    expect(text.out).toEqual([
      'apply run 7: 4 steps: 3 done, 1 skipped, 0 failed, 0 not run. Inbound routes: 1 of 1 moved numbers reach where they did. Completed. Reports: reports/7/',
    ]);
  });

  it('a continued run that failed: stderr in order, and no folder named when reports were not written', () => {
    const lost = check('+15550002', null);
    const text = renderApplyResult({
      done: done({
        resumed: true,
        status: 'failed',
        notes: ['a note'],
        failures: [
          { step: 's1', customer_id: 'acme', phone_number: null, error: 'boom', advice: null },
        ],
        routes: [check('+15550001', route), lost],
        routeFailures: [lost],
        ledgerUnread: 'not read',
      }),
      planSteps: 4,
      listWarnings: ['a warning'],
      shownDir: undefined,
    });
    expect(text.err).toEqual([
      'note: a note',
      'failed: s1: boom (customer acme)',
      'warning: a warning',
      'inbound route lost: +15550002 (acme): POST https://app.example/sms (number) -> not in its subaccount',
    ]);
    expect(text.out[0]).toContain('apply run 7 (continued): ');
    expect(text.out[0]).toContain('Inbound routes: 1 of 2 moved numbers');
    expect(text.out[0]).toContain('Not complete: fix what failed');
    expect(text.out[0]).toMatch(/The suppression lists are not whole: .*\(see the note\)\.$/);
  });
});

describe('failedLine', () => {
  it('names the number and customer of the step, then the advice', () => {
    expect(
      failedLine({
        step: 'move:PN1',
        customer_id: 'acme',
        phone_number: '+15550001',
        error: 'Twilio 20429: too many',
        advice: 'wait',
      }),
    ).toBe('failed: move:PN1: Twilio 20429: too many (number +15550001, customer acme): wait');
  });
});

describe('rehearsalJson', () => {
  it('splits the notes (#) from the requests, each in its order', () => {
    expect(JSON.parse(rehearsalJson(['# a', 'POST /x', '# b', 'GET /y']))).toEqual({
      requests: ['POST /x', 'GET /y'],
      notes: ['# a', '# b'],
    });
  });
});

describe('applyResultJson', () => {
  it("shows an adopted step's webhook URL without its password, as the audit does", () => {
    const url = 'https://owlie:s3cret-Pa55@app.example/sms';
    const json = applyResultJson({
      done: done({
        resumed: true,
        adopted: [
          {
            step: 'set_number_webhook:PN1',
            result: { sms_url: url },
            how: 'the number has the URL already',
          },
        ],
      }),
      planSteps: 4,
      listWarnings: [],
      shownDir: 'reports/7',
    });
    expect(json).not.toContain('s3cret-Pa55');
    expect((JSON.parse(json) as ApplyResult).adopted).toEqual([
      {
        step: 'set_number_webhook:PN1',
        result: { sms_url: 'https://owlie:***@app.example/sms' },
        how: 'the number has the URL already',
      },
    ]);
  });
});
