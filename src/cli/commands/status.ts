import { relative } from 'node:path';

import type { CommandModule } from 'yargs';

import { lockStatus } from '../../apply/lock-status.js';
import { runStatuses, withPhoneNumbers } from '../../apply/run-status.js';
import { systemClock } from '../../clock.js';
import { withDb } from '../../db/open.js';
import { latestSnapshotState } from '../../optouts/snapshot.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { renderStatus, statusJson, type StatusView } from '../render/status.js';
import { dbLocation, NOTHING_APPLIED, runOption, thisProcess } from '../runtime.js';

interface StatusArgs extends GlobalOptions {
  run?: number;
}

export function statusCommand(context: CommandContext): CommandModule<GlobalOptions, StatusArgs> {
  return {
    command: 'status',
    describe: 'Apply runs, and their steps by state; the apply lock; the latest snapshot run',
    // It reads the database alone: --help leaves out --api-url, which it does not read.
    builder: (y) => y.hide('api-url').option('run', runOption('One run, step by step')),
    handler: async (args) => {
      const view: StatusView = await withDb(
        dbLocation(args, context),
        (db) => {
          const statuses = runStatuses(db, args.run, thisProcess);
          const runId = statuses.runs[0]?.run.id;
          return {
            ...statuses,
            steps:
              statuses.steps === null || runId === undefined
                ? null
                : withPhoneNumbers(db, runId, statuses.steps),
            // Added after the apply fields, which `--json` keeps as they were.
            snapshot: latestSnapshotState(db, thisProcess),
            lock: lockStatus(db, thisProcess, systemClock.now()),
          };
        },
        { mode: 'existing', missingAdvice: NOTHING_APPLIED },
      );
      if (args.json) {
        context.output.out(statusJson(view, args.db));
        return;
      }
      const location = dbLocation(args, context);
      const dbShown = relative(context.cwd, location.path) || location.path;
      context.output.lines(
        renderStatus(view, {
          run: args.run,
          db: args.db,
          dbShown,
          pid: thisProcess.pid,
          hostname: thisProcess.hostname,
        }),
      );
    },
  };
}
