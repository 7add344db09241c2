import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { CommandModule } from 'yargs';

import { systemClock } from '../../clock.js';
import { withDb } from '../../db/open.js';
import { runDemo } from '../../demo/run-demo.js';
import { OWLIE_SCENARIO_HISTORY_DAYS } from '../../emulator/scenarios/index.js';
import { DEFAULT_LIMITS } from '../../twilio/limiter.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { dbAt, packageRoot, requireWholeNumber, thisProcess, twilioAccess } from '../runtime.js';
import { writePrivateFile } from '../../files.js';
import { runReport } from '../../apply/reports.js';
import { reportOwner, writeReportFiles } from '../reports.js';
import { demoCheckProblems } from '../demo-check.js';
import { demoEmulator, startDemoEmulator } from '../demo-emulator.js';
import { prepareDemoFolder } from '../demo-folder.js';

interface DemoArgs extends GlobalOptions {
  out: string;
  messages: number;
  seed: number;
}

export function demoCommand(context: CommandContext): CommandModule<GlobalOptions, DemoArgs> {
  return {
    command: 'demo',
    describe:
      'The whole flow on a built-in emulator (Owlie scenario): snapshot, plan --carry-optouts, apply, a campaign, reconcile, report.html',
    builder: (y) =>
      y
        // Its own database and emulator, its story in text: --help leaves out what it does not read.
        .hide('db')
        .hide('api-url')
        .hide('json')
        .option('out', {
          type: 'string',
          default: 'submigrate-demo',
          describe:
            'Folder for the demo database (demo.db, made anew each time: the demo takes no --db) and files',
        })
        .option('messages', { type: 'number', default: 50_000, describe: 'Message history size' })
        .option('seed', { type: 'number', default: 1, describe: 'Emulator seed' }),
    handler: async (args) => {
      const print = (line: string) => context.output.out(line);
      requireWholeNumber('messages', args.messages, { min: 1, max: 2_000_000 });
      requireWholeNumber('seed', args.seed);
      const outDir = resolve(context.cwd, args.out);
      const dbPath = prepareDemoFolder(outDir);

      print(
        'submigrate demo: the Owlie Notifications migration, rehearsed on a local Twilio emulator\n',
      );
      const started = Date.now();
      // Loaded here, not with the CLI: the demo's app needs the twilio SDK, which every other
      // command that sends Twilio nothing now starts without.
      const { startDemoApp } = await import('../../demo/demo-app.js');
      const app = await startDemoApp();
      const { emulator, scenario } = await startDemoEmulator({
        seed: args.seed,
        messages: args.messages,
        webhookBaseUrl: app.url,
      });
      try {
        print(
          `1. Emulator at ${emulator.url}: Owlie Notifications, 50 customers, ${scenario} over ${OWLIE_SCENARIO_HISTORY_DAYS.toLocaleString('en-US')} days (three years; the Messages API shows the last 400). Owlie's app listens at ${app.url}.`,
        );
        const { port: twilio } = await twilioAccess(
          { kind: 'auth-token', accountSid: emulator.accountSid, authToken: emulator.authToken },
          { apiUrl: emulator.url, limits: DEFAULT_LIMITS },
        );
        const result = await withDb(dbAt(dbPath), (db) =>
          runDemo(outDir, {
            twilio,
            db,
            clock: systemClock,
            runner: thisProcess,
            emulator: demoEmulator(emulator),
            app,
            mapping: {
              path: 'plans/owlie-customers.csv',
              text: readFileSync(join(packageRoot(), 'plans', 'owlie-customers.csv'), 'utf8'),
            },
            writeFile: (path, content) => writePrivateFile(path, content),
            writeReports: (runId) => {
              const dir = join(outDir, 'reports', String(runId));
              writeReportFiles(dir, runReport(db, runId).files, reportOwner(db, runId), 'demo');
              return dir;
            },
            print,
            sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
          }),
        );
        print(
          `Database: ${dbPath}. The whole demo took ${((Date.now() - started) / 1000).toFixed(0)} s.`,
        );
        const problems = demoCheckProblems(result);
        if (problems.length > 0) {
          context.output.err(`error: the demo's own check failed: ${problems.join('; ')}`);
          context.setExit(1);
        }
      } finally {
        await emulator.close();
        await app.close();
      }
    },
  };
}
