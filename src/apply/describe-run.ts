/**
 * How apply tells what a run met, in its result and its notes: a failed step with whose it is
 * and, for a limit of Twilio's, what lifts it (`stepFailure`); the options a continued run
 * was given against those it began with (`describeOptions`); what it tries again
 * (`describeTriedAgain`).
 */

import type { StepRecord } from '../db/journal.js';
import type { PlanStep } from '../plan/types.js';
import type { StepFailure } from './apply-types.js';

export function stepFailure(steps: ReadonlyMap<string, PlanStep>, record: StepRecord): StepFailure {
  const step = steps.get(record.stepId);
  return {
    step: record.stepId,
    customer_id: step?.customer_id ?? null,
    phone_number: step !== undefined && 'phone_number' in step ? step.phone_number : null,
    error: `${record.errorCode === null ? '' : `Twilio ${record.errorCode}: `}${record.errorMessage ?? ''}`,
    advice: step === undefined ? null : limitAdvice(step, record.errorCode),
  };
}

/**
 * Twilio's account limits, which plan warns of but cannot lift: a step they refuse fails
 * whatever is sent again, until the limit is raised or room is made. The run is kept, and
 * apply run again continues it (its failed and not-run steps are tried again).
 */
function limitAdvice(step: PlanStep, code: number | null): string | null {
  if (code === 21480) {
    return (
      "the parent account has Twilio's limit of open subaccounts (1,000 by default): close " +
      'subaccounts no longer used, or ask Twilio support to raise the limit, then run apply ' +
      'again with the same plan: it continues this run'
    );
  }
  if (code === 21714) {
    const service = 'service_name' in step ? ` "${step.service_name}"` : '';
    return (
      `the Messaging Service${service} holds Twilio's limit of numbers (400 by default): ` +
      'remove numbers it no longer needs, or ask Twilio support to raise the limit, then run ' +
      'apply again with the same plan: it continues this run'
    );
  }
  return null;
}

/** `{"concurrency":4,"rate":10,…}` → `--concurrency 4 --rate 10 …`, as they were given. */
export function describeOptions(json: string): string {
  const o = JSON.parse(json) as {
    concurrency: number;
    rate: number;
    consent_rate?: number;
    allow_missing_snapshot?: boolean;
  };
  return [
    `--concurrency ${o.concurrency}`,
    `--rate ${o.rate}`,
    ...(o.consent_rate === undefined ? [] : [`--consent-rate ${o.consent_rate}`]),
    ...(o.allow_missing_snapshot ? ['--allow-missing-snapshot'] : []),
  ].join(' ');
}

/**
 * The steps a continued run tries again, as the run left them: each failed one with its error
 * (a step done in this run keeps none), and how many could not run because of them.
 */
export function describeTriedAgain(
  records: readonly StepRecord[],
  stoppedAt: string | null,
): string {
  const failed = records.filter((r) => r.state === 'failed');
  const notRun = records.length - failed.length;
  const errors = failed.map(
    (r) =>
      `${r.stepId} (${r.errorCode === null ? '' : `Twilio ${r.errorCode}: `}${r.errorMessage ?? 'no error on record'})`,
  );
  return `continued: the run ${stoppedAt === null ? 'had stopped' : `had stopped at ${stoppedAt}`} with ${failed.length} failed step(s)${errors.length === 0 ? '' : `: ${errors.join('; ')}`}${notRun > 0 ? `; and ${notRun} step(s) not run because of them` : ''}; all are tried again`;
}
