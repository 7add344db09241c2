/** A small report page input (one customer, one number, one opt-out) for the page's tests. */

import { KEYWORD_LISTS } from '../../src/optouts/keywords.js';
import type { AuditDocument, AuditRow } from '../../src/report/audit.js';
import type { ReportPageInput } from '../../src/report/report-page.js';

export const EVIL = '<script>alert("x")</script>';
export const ATTR = '"><img src=https://evil.example/x onerror=alert(1)>';

export function reportInput(over: Partial<ReportPageInput> = {}): ReportPageInput {
  const document: AuditDocument = {
    run: {
      id: 7,
      status: 'completed',
      started_at: '2026-11-01T00:00:00Z',
      finished_at: '2026-11-01T00:01:00Z',
      parent_account_sid: 'AC' + '0'.repeat(32),
      options: {},
      notes: [],
    },
    plan: {
      path: `plans/${EVIL}.json`,
      integrity: 'sha256:abc',
      fingerprint: 'f',
      mapping: { path: 'customers.csv', sha256: 'x', rows: 1 },
    },
    counts: { done: 3 },
    customers: [
      {
        customer_id: 'acme',
        customer_name: EVIL,
        subaccount_sid: 'AC' + '1'.repeat(32),
        messaging_service_sid: 'MG' + '1'.repeat(32),
        numbers: 1,
      },
    ],
    steps: [],
  };
  const row = {
    customer_id: 'acme',
    customer_name: EVIL,
    phone_number: '+15550000001',
    phone_number_sid: 'PN' + '1'.repeat(32),
    from_account_sid: 'AC' + '0'.repeat(32),
    to_account_sid: 'AC' + '1'.repeat(32),
    detached_from_service_sid: null,
    messaging_service_sid: 'MG' + '1'.repeat(32),
    status: 'done',
    attempts: 1,
    started_at: null,
    finished_at: null,
    error_code: null,
    error_message: null,
    inbound_route_before: `webhook ${ATTR}`,
    inbound_route_after: `webhook ${ATTR}`,
  } satisfies AuditRow;
  return {
    generatedAt: '2026-11-01T00:02:00Z',
    toolVersion: '0.1.0',
    document,
    rows: [row],
    optouts: {
      coverage: {
        windows: [
          {
            source: 'api' as const,
            account_sid: 'AC' + '0'.repeat(32),
            start: '2025-01-01T00:00:00Z',
            end: '2026-11-01T00:00:00Z',
          },
        ],
        not_read: [],
        never_read: [],
        keyword_lists: KEYWORD_LISTS,
        snapshot_runs: [1],
        older_rules_runs: 0,
        ties_resolved_as_opt_out: 0,
        services_not_known: [],
        not_placed: [],
        undated_evidence: [],
      },
      rows: [
        {
          customer_id: 'acme',
          customer_name: EVIL,
          recipient: '+15557770001',
          sender_number: '+15550000001',
          messaging_service_sid: null,
          scope: 'number',
          keyword: 'STOP',
          body: `STOP ${EVIL} ${ATTR}`,
          opted_out_at: '2026-10-01T00:00:00Z',
          stop_message_sid: 'SM' + 'a'.repeat(32),
          account_sid: 'AC' + '0'.repeat(32),
          evidence: 'keyword',
          evidence_message_sid: 'SM' + 'a'.repeat(32),
          channel: null,
        },
      ],
    },
    violations: [],
    blocked: new Map(),
    carry: null,
    lastReconcileAt: '2026-11-01T00:03:00Z',
    ...over,
  };
}
