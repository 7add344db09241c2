/**
 * The worker thread behind page-parser.ts: scans Messages pages off the main thread, which
 * meanwhile keeps the sockets and the ledger busy. One request in, one answer out.
 */

import { parentPort } from 'node:worker_threads';

import { scanMessagePage, type PageFilter, type ServiceMessages } from './message-page.js';

export interface PageJob {
  id: number;
  bytes: Uint8Array;
  only: PageFilter;
}

export type PageAnswer =
  | {
      id: number;
      kept: unknown[];
      total: number;
      sent: (string | null)[];
      envelope: Record<string, unknown>;
      last: unknown;
      services: ServiceMessages[];
    }
  | { id: number; error: string };

parentPort?.on('message', (job: PageJob) => {
  let answer: PageAnswer;
  try {
    const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
    const page = scanMessagePage(bytes, job.only);
    answer = {
      id: job.id,
      kept: page.kept,
      total: page.total,
      sent: page.sent,
      envelope: page.envelope,
      last: page.last,
      services: page.services,
    };
  } catch (error) {
    answer = { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(answer);
});
