import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { CommandModule } from 'yargs';

import { systemClock } from '../../clock.js';
import { inspect, withDb } from '../../db/open.js';
import { startDemoApp } from '../../demo/demo-app.js';
import { runDemo, type GroundTruthPair } from '../../demo/run-demo.js';
import { builtInScenario, OWLIE_SCENARIO_HISTORY_DAYS } from '../../emulator/scenarios/index.js';
import { DEFAULT_LIMITS } from '../../twilio/limiter.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { dbAt, packageRoot, requireWholeNumber, thisProcess, twilioAccess } from '../runtime.js';
import { claimFolder, writePrivateFile } from '../../files.js';
import { runReport } from '../../apply/reports.js';
import { reportOwner, writeReportFiles } from '../reports.js';

/** Marks a folder as the demo's: it writes and replaces files only in a folder it made. */
const DEMO_MARK = {
  file: '.submigrate-demo',
  text: 'Written by `submigrate demo`; it may replace files here.\n',
};

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
        .option('out', {
          type: 'string',
          default: 'submigrate-demo',
          describe: 'Folder for the demo database and files',
        })
        .option('messages', { type: 'number', default: 50_000, describe: 'Message history size' })
        .option('seed', { type: 'number', default: 1, describe: 'Emulator seed' }),
    handler: async (args) => {
      const print = (line: string) => context.output.out(line);
      requireWholeNumber('messages', args.messages, { min: 1, max: 2_000_000 });
      requireWholeNumber('seed', args.seed);
      const outDir = resolve(context.cwd, args.out);
      claimFolder(outDir, DEMO_MARK, '--out', 'the demo');
      const dbPath = join(outDir, 'demo.db');
      // Every demo starts from a clean rehearsal (of a database that is the demo's own).
      inspect(dbPath, dbAt(dbPath).migrationsDir);
      for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });

      print(
        'submigrate demo: the Owlie Notifications migration, rehearsed on a local Twilio emulator\n',
      );
      let scenario = '';
      const started = Date.now();
      const app = await startDemoApp();
      const load = builtInScenario('owlie', {
        seed: args.seed,
        messages: args.messages,
        now: Date.now(),
        webhookBaseUrl: app.url,
      })!;
      // Loaded here, not with the CLI: the emulator's server added about 25 ms to the start-up of
      // every other command, none of which uses it.
      const { startEmulator } = await import('../../emulator/server.js');
      const emulator = await startEmulator({
        seed: args.seed,
        load: (state) => {
          const s = load(state);
          scenario = `${s.numbers} numbers, ${s.services} shared Messaging Services, ${s.messages.toLocaleString('en-US')} messages`;
        },
      });
      const control = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${emulator.url}${path}`, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (!response.ok) throw new Error(`emulator ${method} ${path}: HTTP ${response.status}`);
        return response.json() as Promise<unknown>;
      };
      try {
        print(
          `1. Emulator at ${emulator.url}: Owlie Notifications, 50 customers, ${scenario} over ${OWLIE_SCENARIO_HISTORY_DAYS.toLocaleString('en-US')} days (three years; the Messages API shows the last 400). Owlie's app listens at ${app.url}.`,
        );
        const { port: twilio } = twilioAccess(
          { kind: 'auth-token', accountSid: emulator.accountSid, authToken: emulator.authToken },
          { apiUrl: emulator.url, limits: DEFAULT_LIMITS },
        );
        const result = await withDb(dbAt(dbPath), (db) =>
          runDemo(outDir, {
            twilio,
            db,
            clock: systemClock,
            runner: thisProcess,
            emulator: {
              groundTruth: async () =>
                ((await control('GET', '/__emulator/optouts')) as { optouts: GroundTruthPair[] })
                  .optouts,
              denyConsentApi: async (accountSid) => {
                await control('POST', '/__emulator/settings', {
                  account_sid: accountSid,
                  consent_api: false,
                });
              },
              textIn: async (from, to, body) => {
                await control('POST', '/__emulator/inbound', { from, to, body });
              },
              authTokenOf: (accountSid) => emulator.state.accounts.get(accountSid)!.authToken,
            },
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
        // The demo checks itself: every outcome it shows must have happened.
        const problems = [
          result.matchingPairs !== result.optedOutPairs && 'the ledger does not match the emulator',
          result.onlyExport === 0 && 'Bulk Export revealed no opt-out older than 400 days',
          result.refused === 0 && 'no campaign text was refused',
          result.violations === 0 && 'reconcile found no violation',
          !result.webhookKept && 'the webhook changed',
        ].filter((p): p is string => typeof p === 'string');
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
