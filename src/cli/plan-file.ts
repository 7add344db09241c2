/**
 * The plan file as the CLI reads and writes it: `apply` reads the file the user names, `plan`
 * writes the one it makes. Each says plainly what is wrong with a path.
 */

import { dirname } from 'node:path';

import { makeFolder, readNamedFile, refuseForeignFile, writePrivateFile } from '../files.js';
import { isPlanText, readSealedPlan, writePlan } from '../plan/plan-file.js';
import type { Plan } from '../plan/types.js';

export interface PlanFileRead {
  /** The plan and its seal, checked. */
  plan: Plan;
  integrity: string;
  /** The file's text as read. */
  text: string;
  /** The absolute path. */
  path: string;
  /** The path as the messages show it: relative to the working folder. */
  shown: string;
}

/** The plan file `given` (as typed, relative to `cwd`), read and checked for `apply`. */
export function readPlanFile(given: string, cwd: string): PlanFileRead {
  const { path, text, shown } = readNamedFile(given, cwd, (code, message) =>
    code === 'ENOENT'
      ? `${given}: no such plan file`
      : code === 'EISDIR'
        ? `${given} is a folder, not a plan file`
        : `${given}: cannot read the plan file (${message})`,
  );
  const { plan, integrity } = readSealedPlan(shown, text, 'apply');
  return { plan, integrity, text, path, shown };
}

/**
 * Writes `plan` to `outPath` and returns its integrity. `defaultFolder`: the path is the
 * default one (plans/), whose folder is made when missing.
 */
export function writePlanFile(plan: Plan, outPath: string, defaultFolder: boolean): string {
  // Private, as the reports' folders are: the plans in it list every customer's numbers.
  if (defaultFolder) makeFolder(dirname(outPath), 'the plan file');
  // Reading the account takes minutes: a file that appeared at the path meanwhile is not
  // the tool's to replace either.
  refuseForeignFile(outPath, '--out', 'a plan file', isPlanText);
  let integrity = '';
  writePrivateFile(outPath, (write) => {
    integrity = writePlan(plan, write);
  });
  return integrity;
}
