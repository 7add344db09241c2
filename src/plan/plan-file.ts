/**
 * The plan file (docs/file-formats.md): the plan as JSON, one member per line at the top and
 * one element per line in its long lists (steps, customers, resources), so that it diffs and
 * greps well and a 100,000-number plan is written in chunks rather than built as one string.
 * It ends with an `integrity` seal: the sha256 of every byte before it, so `apply` can tell
 * a damaged or hand-edited plan from the one `plan` wrote. Reading checks format, seal and
 * shape before anything trusts the plan.
 */

import { createHash } from 'node:crypto';
import { basename, extname, join } from 'node:path';

import { UserError } from '../errors.js';
import { checkPlanShape, type PlanSource } from './plan-shape.js';
import { PLAN_FORMAT, type Plan, type SetNumberWebhookStep } from './types.js';

const SEAL = ',\n  "integrity": "';
/** Members written one element per line. */
const LONG_LISTS = new Set(['observed', 'customers', 'steps', 'warnings', 'carry_items']);

/**
 * About how much text is gathered before it is hashed and emitted: enough to make the calls
 * few, and small enough to stay a young object (V8 allocates a string over 128 KB in its
 * large-object space, which only a full collection frees: blocks of a megabyte left tens of
 * megabytes of written text waiting there while a 100,000-number plan was written).
 */
const BLOCK = 1 << 16;

/** Emits the plan's JSON in blocks of about 64 KB, sealed; returns the seal. */
export function writePlan(plan: Plan, emit: (chunk: string) => void): string {
  const hash = createHash('sha256');
  // Hashing and emitting a block at a time rather than each element's few hundred bytes
  // halves the time a 100,000-number plan takes to write.
  let block = '';
  const out = (text: string) => {
    block += text;
    if (block.length >= BLOCK) flush();
  };
  const flush = () => {
    hash.update(block);
    emit(block);
    block = '';
  };
  out('{\n');
  Object.entries(plan).forEach(([key, value], index) => {
    if (index > 0) out(',\n');
    const name = `  ${JSON.stringify(key)}: `;
    if (!LONG_LISTS.has(key)) return out(`${name}${JSON.stringify(value)}`);
    // Each element taken from the list or map itself: a copy of 222,000 steps as [key, step]
    // pairs was some 10 MB more to hold while the plan is written, at its peak.
    const list = Array.isArray(value) ? (value as readonly unknown[]) : null;
    const map = list === null ? (value as ReadonlyMap<string, unknown>) : null;
    const [open, close] = list !== null ? ['[', ']'] : ['{', '}'];
    if ((list?.length ?? map!.size) === 0) return out(`${name}${open}${close}`);
    out(`${name}${open}\n`);
    let first = true;
    const element = (label: string, item: unknown) => {
      out(`${first ? '' : ',\n'}    ${label}${JSON.stringify(item)}`);
      first = false;
    };
    if (list !== null) for (const item of list) element('', item);
    else for (const [itemKey, item] of map!) element(`${JSON.stringify(itemKey)}: `, item);
    out(`\n  ${close}`);
  });
  flush();
  const integrity = `sha256:${hash.digest('hex')}`;
  emit(`${SEAL}${integrity}"\n}\n`);
  return integrity;
}

export function serializePlan(plan: Plan): string {
  const chunks: string[] = [];
  writePlan(plan, (chunk) => chunks.push(chunk));
  return chunks.join('');
}

/** `plans/owlie-customers.csv` → `plans/owlie-customers.plan.json` (under `plansDir`). */
export function defaultPlanPath(mappingPath: string, plansDir: string): string {
  const name = basename(mappingPath, extname(mappingPath));
  return join(plansDir, `${name}.plan.json`);
}

/** Whether existing text is a plan this tool wrote (so that replacing it is ours to do). */
export function isPlanText(text: string): boolean {
  return text.startsWith('{\n  "format": "submigrate-plan/');
}

/**
 * A `set_number_webhook` step's fallback: a URL with its method, or none. A plan written
 * before steps carried it has neither field, and is read as none: applied as it was reviewed,
 * leaving the number's own fallback as it is.
 */
function readFallback(path: string, step: SetNumberWebhookStep): void {
  // Both are there by now: checkPlanShape reads a missing one as null.
  const url = step.sms_fallback_url as unknown;
  const method = step.sms_fallback_method as unknown;
  const valid =
    url === null ? method === null : typeof url === 'string' && typeof method === 'string';
  if (!valid) {
    throw new UserError(
      `${path}: step ${step.id} has an sms_fallback_url and sms_fallback_method that do not go together (a URL and its method, or neither)`,
    );
  }
}

export function readPlan(path: string, text: string, source: PlanSource = 'file'): Plan {
  return readSealedPlan(path, text, source).plan;
}

/** The plan and its seal (which names the plan: an apply run is the run of one seal). */
export function readSealedPlan(
  path: string,
  text: string,
  source: PlanSource = 'file',
): { plan: Plan; integrity: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around the error, line breaks and all: said on one line.
    const why = (error as Error).message.replace(/\s*[\r\n]+\s*/g, ' ');
    throw new UserError(`${path}: not a plan file (not JSON: ${why})`);
  }
  const plan = value as Partial<Plan> & { integrity?: unknown };
  if (typeof plan !== 'object' || plan === null || typeof plan.format !== 'string') {
    throw new UserError(`${path}: not a plan file (no "format")`);
  }
  if (plan.format !== PLAN_FORMAT) {
    throw new UserError(
      `${path}: plan format ${JSON.stringify(plan.format)} is not one this submigrate reads (${PLAN_FORMAT}); make the plan again with \`submigrate plan\``,
    );
  }
  const sealAt = text.lastIndexOf(SEAL);
  const sealed =
    sealAt > 0 &&
    typeof plan.integrity === 'string' &&
    plan.integrity === `sha256:${createHash('sha256').update(text.slice(0, sealAt)).digest('hex')}`;
  if (!sealed) {
    throw new UserError(
      `${path}: the plan was changed after \`submigrate plan\` wrote it (its integrity seal does not match). Plans are not edited by hand: change the mapping and plan again.`,
    );
  }
  checkPlanShape(path, plan as Record<string, unknown>, source);
  for (const step of plan.steps!) {
    if (step.action === 'set_number_webhook') readFallback(path, step);
  }
  const integrity = plan.integrity as string;
  delete plan.integrity;
  const observed = plan.observed as unknown as Record<string, unknown>;
  return {
    plan: { ...plan, observed: new Map(Object.entries(observed)) } as Plan,
    integrity,
  };
}
