import type { CommandModule } from 'yargs';

import { chooseRun } from '../../apply/reports.js';
import { countStates } from '../../apply/run-apply.js';
import { listApplyRuns, listSteps } from '../../db/journal.js';
import { withDb } from '../../db/open.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { dbLocation } from '../runtime.js';

interface StatusArgs extends GlobalOptions {
  run?: number;
}

export function statusCommand(context: CommandContext): CommandModule<GlobalOptions, StatusArgs> {
  return {
    command: 'status',
    describe: 'Apply runs, and their steps by state',
    builder: (y) => y.option('run', { type: 'number', describe: 'One run, step by step' }),
    handler: async (args) => {
      const view = await withDb(
        dbLocation(args, context),
        (db) => {
          const runs = listApplyRuns(db).map((run) => ({
            run,
            counts: countStates(listSteps(db, run.id)),
          }));
          if (args.run === undefined) return { runs, steps: null };
          const run = chooseRun(db, args.run);
          return { runs: runs.filter((r) => r.run.id === run.id), steps: listSteps(db, run.id) };
        },
        { mode: 'existing', missingAdvice: 'Nothing has been planned or applied with it.' },
      );
      if (args.json) {
        context.output.out(JSON.stringify(view, null, 2));
        return;
      }
      if (view.runs.length === 0) context.output.out('No apply run yet.');
      for (const { run, counts } of view.runs) {
        const states = Object.entries(counts)
          .filter(([, n]) => n > 0)
          .map(([state, n]) => `${n} ${state}`)
          .join(', ');
        context.output.out(
          `run ${run.id}  ${run.status.padEnd(9)}  ${run.startedAt} → ${run.finishedAt ?? '…'}  ${run.planPath}  (${states})`,
        );
      }
      if (view.steps === null) return;
      const byState = new Map<string, typeof view.steps>();
      for (const step of view.steps)
        byState.set(step.state, [...(byState.get(step.state) ?? []), step]);
      for (const [state, steps] of byState) {
        context.output.out(`\n${state} (${steps.length}):`);
        context.output.lines(
          steps.map(
            (s) =>
              `  ${s.stepId}  attempts ${s.attempts}${s.result === null ? '' : `  ${Object.values(s.result).join(' ')}`}${s.errorMessage === null ? '' : `  ${s.errorCode ?? ''} ${s.errorMessage}`}`,
          ),
        );
      }
    },
  };
}
