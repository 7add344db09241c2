/**
 * Seeded fuzzing of the two files users hand the tool, in-process and quick (a few hundred cases
 * each; the seeds are fixed, so a failure is reproduced by its seed):
 * - mappings: odd-but-valid files (CRLF, LF, lone CR, both mixed; a BOM; quoted cells with line
 *   breaks, commas and quotes; blank lines; headers in any case, order and spacing) read to
 *   exactly the rows written, on the lines they start on; and mutations of them (byte flips,
 *   truncation, NUL, BOMs, zero-width and full-width characters, stray quotes and CRs, long
 *   cells, UTF-16, bytes that are not UTF-8, duplicated headers, formulas) either read to rows
 *   the documented rules allow or are refused with `FILE:LINE: reason` lines, one line each, on
 *   lines the file has — never another exception;
 * - plans: a real plan's JSON edited at any member (wrong types, nulls, missing and extra keys,
 *   unknown actions, cycles, dangling and duplicated steps, foreign customers, huge numbers,
 *   `__proto__`) and sealed again as anyone can: refused in one line, or read into a plan that
 *   apply's in-process work (the dry run, each step's intent, the drift expectation, the
 *   replan advice, writing it into the journal and reading it back) gets through.
 */

import { describe, expect, it } from 'vitest';

import { dryRunRequests } from '../../src/apply/dry-run.js';
import { expectedResources } from '../../src/apply/effects.js';
import { describeIntent } from '../../src/apply/perform.js';
import { targetsFrom } from '../../src/apply/targets.js';
import { createRandom } from '../../src/emulator/random.js';
import { UserError } from '../../src/errors.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import { carryIndex } from '../../src/plan/carry.js';
import {
  ACCOUNT_SID,
  CUSTOMER_ID,
  E164,
  MappingError,
  type MappingRow,
  NUMBER_SID,
  parseMapping,
} from '../../src/plan/mapping.js';
import { readPlan, readSealedPlan, serializePlan } from '../../src/plan/plan-file.js';
import { replanAdvice } from '../../src/plan/replan.js';
import type { Plan } from '../../src/plan/types.js';
import {
  editedAndResealed,
  mapping,
  N1,
  N2,
  number,
  PARENT,
  planOptions,
  service,
  SHARED,
  state,
} from '../support/plan-builders.js';

const chooser =
  (r: () => number) =>
  <T>(items: readonly T[]): T =>
    items[Math.floor(r() * items.length)]!;

/** A valid mapping written in one of many odd ways, and the rows it holds. */
function oddButValidMapping(r: () => number): { text: string; rows: MappingRow[] } {
  const pick = chooser(r);
  const columns = ['customer_id', 'customer_name', 'phone_number'];
  if (r() < 0.5) columns.push('messaging_service');
  if (r() < 0.3) columns.push('subaccount_sid');
  for (let i = columns.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [columns[i], columns[j]] = [columns[j]!, columns[i]!];
  }
  const eol = pick(['\n', '\r\n', '\r', 'mixed']);
  const quoting = pick(['none', 'some', 'all']);
  const nl = () => (eol === 'mixed' ? pick(['\n', '\r\n']) : eol);
  const cell = (value: string) =>
    /[",\r\n]/.test(value) || quoting === 'all' || (quoting === 'some' && r() < 0.3)
      ? `"${value.replace(/"/g, '""')}"`
      : value;
  const heading = (c: string) =>
    pick([c, c.toUpperCase(), ` ${c} `, c[0]!.toUpperCase() + c.slice(1)]);
  const customers = Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => ({
    id: pick([`c${i}`, `C-${i}.x@y`, `${i}_z`]),
    name: pick([
      `Name ${i}`,
      `Name, ${i} & "Co"`,
      `Two\nlines ${i}`,
      `Two\r\nlines ${i}`,
      `=cmd|${i}`,
      `Ünï ${i}`,
    ]),
    service: r() < 0.5 ? `Svc ${i}` : null,
    pin: r() < 0.3 ? `AC${i.toString(16).padStart(32, 'a')}` : null,
  }));
  let text = (r() < 0.3 ? '\uFEFF' : '') + columns.map((c) => cell(heading(c))).join(',') + nl();
  let line = 2;
  let phone = 14155550100;
  const rows: MappingRow[] = [];
  const count = 1 + Math.floor(r() * 8);
  for (let k = 0; k < count; k++) {
    while (r() < 0.2) {
      text += nl();
      line++;
    }
    const c = pick(customers);
    const phoneNumber = r() < 0.2 ? `PN${(phone++).toString(16).padStart(32, '0')}` : `+${phone++}`;
    const values: Record<string, string> = {
      customer_id: c.id,
      customer_name: c.name,
      phone_number: phoneNumber,
      messaging_service: c.service ?? '',
      subaccount_sid: c.pin ?? '',
    };
    const record = columns.map((column) => cell(values[column]!)).join(',');
    rows.push({
      line,
      customerId: c.id,
      customerName: c.name.replace(/\r\n?/g, '\n'),
      phoneNumber,
      messagingService: columns.includes('messaging_service') ? c.service : null,
      subaccountSid: columns.includes('subaccount_sid') ? c.pin : null,
    });
    text += record;
    line += (record.match(/\r\n|\r|\n/g) ?? []).length;
    if (k < count - 1 || r() < 0.7) {
      text += nl();
      line++;
    }
  }
  return { text, rows };
}

function mutatedMapping(r: () => number, text: string): string {
  const pick = chooser(r);
  let t = text;
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const at = Math.floor(r() * (t.length + 1));
    const insert = (s: string) => (t = t.slice(0, at) + s + t.slice(at));
    switch (
      pick([
        'flip',
        'cut',
        'insert',
        'utf16',
        'latin1',
        'fullwidth',
        'plus',
        'header',
        'comma',
        'formula',
      ])
    ) {
      case 'flip': {
        const bytes = Buffer.from(t, 'utf8');
        if (bytes.length > 0) bytes[Math.floor(r() * bytes.length)]! ^= 1 << Math.floor(r() * 8);
        t = bytes.toString('utf8');
        break;
      }
      case 'cut':
        t = t.slice(0, at);
        break;
      case 'insert':
        insert(
          pick(['\0', '\uFEFF', '\u200B', '\u00A0', '"', '\r', '\n \t \n', 'x'.repeat(70_000)]),
        );
        break;
      case 'utf16':
        t = Buffer.from(`\uFEFF${t}`, 'utf16le').toString('utf8');
        break;
      case 'latin1':
        t = Buffer.concat([
          Buffer.from(t.slice(0, at)),
          Buffer.from([0xe9]),
          Buffer.from(t.slice(at)),
        ]).toString('utf8');
        break;
      case 'fullwidth':
        t = t.replace(/\d/, (d) => String.fromCharCode(0xff10 + Number(d)));
        break;
      case 'plus':
        t = t.replace('+', pick(['\uFF0B', '\u207A']));
        break;
      case 'header':
        t = t.replace(/^([^\r\n]*)/, pick(['$1,Customer_ID', '$1,', 'x,$1']));
        break;
      case 'comma':
        t = t.replace(/(\r?\n|$)/, ',$1');
        break;
      case 'formula':
        t = t.replace(/\n([^,\r\n]*),/, '\n=HYPERLINK("x"),');
        break;
    }
  }
  return t;
}

describe('mapping fuzz', () => {
  it('odd-but-valid mappings read to exactly the rows written, on their lines', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const { text, rows } = oddButValidMapping(createRandom(seed));
      let read: unknown;
      try {
        read = parseMapping('m.csv', text).rows;
      } catch (error) {
        read = error instanceof MappingError ? error.problems : error;
      }
      expect(read, `seed ${seed}: ${JSON.stringify(text)}`).toEqual(rows);
    }
  });

  it('mutated mappings: rows the rules allow, or FILE:LINE: reason, one line each', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = createRandom(seed * 7919);
      const text = mutatedMapping(r, oddButValidMapping(r).text);
      const lines = text.split(/\r\n|\r|\n/).length;
      const context = `seed ${seed}: ${JSON.stringify(text.slice(0, 300))}`;
      try {
        for (const row of parseMapping('m.csv', text).rows) {
          expect(row.customerId, context).toMatch(CUSTOMER_ID);
          expect(E164.test(row.phoneNumber) || NUMBER_SID.test(row.phoneNumber), context).toBe(
            true,
          );
          if (row.subaccountSid !== null) expect(row.subaccountSid, context).toMatch(ACCOUNT_SID);
          expect([...row.customerName].length, context).toBeLessThanOrEqual(64);
          expect(row.customerName + (row.messagingService ?? ''), context).not.toMatch(
            /[\0\uFFFD]/,
          );
          expect(row.line, context).toBeLessThanOrEqual(lines);
        }
      } catch (error) {
        if (!(error instanceof MappingError)) throw new Error(`${context}: ${String(error)}`);
        for (const problem of error.problems) {
          const match = /^m\.csv:(\d+): [^\r\n]+$/.exec(problem);
          expect(match, `${context}: ${JSON.stringify(problem)}`).not.toBeNull();
          expect(Number(match![1]), context).toBeGreaterThanOrEqual(1);
          expect(Number(match![1]), context).toBeLessThanOrEqual(lines + 1);
        }
      }
    }
  });
});

/** A plan of every kind of step: a subaccount, a service, moves in and out of one, a carry. */
function realPlan(): Plan {
  const N3 = '+14155550103';
  const optOuts = carryIndex([
    {
      scope: 'number',
      senderNumber: N1,
      messagingServiceSid: null,
      recipient: '+12065550001',
      optedOutAt: '2025-01-01T00:00:00Z',
    },
    {
      scope: 'service',
      senderNumber: N2,
      messagingServiceSid: SHARED,
      recipient: '+12065550002',
      optedOutAt: '2025-01-02T00:00:00Z',
    },
  ]);
  return buildPlan(
    state({
      numbers: [number(N1, 1), number(N2, 2, PARENT, SHARED), number(N3, 3, PARENT, SHARED)],
      services: [
        service(SHARED, PARENT, 'Shared', {
          inbound_request_url: 'https://app.example/sms',
          fallback_url: 'https://app.example/fallback',
        }),
      ],
    }),
    mapping(
      { messagingService: 'acmeAlerts' },
      { phoneNumber: N2, messagingService: 'acmeAlerts' },
      { phoneNumber: N3, customerId: 'beta', customerName: 'Beta' },
    ),
    planOptions({
      carry: {
        batchSize: 25,
        requestsPerMinute: 100,
        optOuts,
        sourceServices: new Map(),
        written: new Set(),
      },
    }),
  );
}

const ODD_VALUES: unknown[] = [
  null,
  0,
  -1,
  0.5,
  1e308,
  2 ** 53 + 1,
  '',
  'x',
  '../../x',
  true,
  [],
  {},
  [null],
  { a: 1 },
  `AC${'0'.repeat(32)}`,
];

type Path = (string | number)[];
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  }
  return out;
}
const at = (root: any, path: Path) => path.reduce((v, k) => v?.[k], root);

function editPlan(r: () => number, json: any): void {
  const pick = chooser(r);
  const steps = json.steps as any[];
  const members = pathsOf(json).filter((p) => p.length > 0 && p[0] !== 'format');
  switch (pick(['set', 'set', 'set', 'delete', 'extra', 'steps', 'steps', 'proto'])) {
    case 'set': {
      const path = pick(members);
      at(json, path.slice(0, -1))[path.at(-1)!] = structuredClone(pick(ODD_VALUES));
      break;
    }
    case 'delete': {
      const path = pick(members);
      const owner = at(json, path.slice(0, -1));
      if (Array.isArray(owner)) owner.splice(Number(path.at(-1)), 1);
      else delete owner[path.at(-1)!];
      break;
    }
    case 'extra': {
      const objects = members.filter((p) => {
        const v = at(json, p);
        return v !== null && typeof v === 'object' && !Array.isArray(v);
      });
      at(json, pick(objects))[pick(['extra', 'constructor', 'toString'])] = pick(ODD_VALUES);
      break;
    }
    case 'proto':
      Object.defineProperty(pick(steps), '__proto__', { value: { polluted: 1 }, enumerable: true });
      break;
    case 'steps': {
      const a = pick(steps);
      const b = pick(steps);
      switch (
        pick(['cycle', 'dangling', 'duplicate', 'same id', 'customer', 'action', 'drop', 'batch'])
      ) {
        case 'cycle':
          a.depends_on.push(b.id);
          b.depends_on.push(a.id);
          break;
        case 'dangling':
          a.depends_on.push('create_subaccount:zed');
          break;
        case 'duplicate':
          steps.push(structuredClone(a));
          break;
        case 'same id':
          a.id = b.id;
          break;
        case 'customer':
          a.customer_id = pick(['zed', 'acme', 'beta']);
          break;
        case 'action':
          a.action = pick(['delete_account', 'toString', '__proto__', b.action]);
          break;
        case 'drop':
          json.steps = steps.filter((s) => s !== a);
          for (const s of json.steps) s.depends_on = s.depends_on.filter((d: string) => d !== a.id);
          break;
        case 'batch':
          for (const s of steps)
            if (s.action === 'carry_optouts') s.batch_size = pick([0, -1, 0.5, 26, '25']);
          break;
      }
      break;
    }
  }
}

/** What apply does with a plan in-process before and after its requests. */
function exercise(plan: Plan): void {
  const targets = targetsFrom(plan, new Map());
  for (const step of plan.steps) describeIntent(step, targets);
  dryRunRequests(plan, new Map());
  expectedResources(plan, new Map(), targets);
  replanAdvice(plan, { out: '/work/p.plan.json', db: null });
  readPlan('apply run 1', serializePlan(plan));
  // Every dependency comes before its step: the executor can order them.
  const seen = new Set<string>();
  for (const step of plan.steps) {
    for (const dependency of step.depends_on) expect(seen.has(dependency)).toBe(true);
    expect(seen.has(step.id)).toBe(false);
    seen.add(step.id);
  }
}

describe('plan fuzz', () => {
  it('a plan edited anywhere and sealed again: refused in one line, or apply can run it', () => {
    const text = serializePlan(realPlan());
    exercise(readPlan('p.json', text));
    for (let seed = 1; seed <= 400; seed++) {
      const edited = editedAndResealed(text, (json) => editPlan(createRandom(seed), json));
      let plan: Plan;
      try {
        plan = readSealedPlan('p.json', edited).plan;
      } catch (error) {
        if (!(error instanceof UserError))
          throw new Error(`seed ${seed}: ${(error as Error).stack}`);
        expect(error.message, `seed ${seed}`).toMatch(/^p\.json: [^\n]+$/);
        continue;
      }
      try {
        exercise(plan);
      } catch (error) {
        throw new Error(`seed ${seed}: accepted, then ${(error as Error).stack}`);
      }
    }
  });
});
