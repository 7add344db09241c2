/**
 * Scans Messages pages (message-page.ts) on a worker thread when one is available, so that a
 * snapshot uses a second core for the bytes while the main thread keeps requests in flight
 * and writes the ledger. Where the compiled worker is not there (tests run the TypeScript
 * sources), pages are scanned inline: same function, same answers.
 */

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { scanMessagePage, type PageFilter, type ScannedPage } from './message-page.js';
import type { PageAnswer, PageJob } from './page-worker.js';

export interface PageParser {
  parse<T>(bytes: Buffer, only: PageFilter): Promise<ScannedPage<T>>;
}

export const inlinePageParser: PageParser = {
  parse: <T>(bytes: Buffer, only: PageFilter) => Promise.resolve(scanMessagePage<T>(bytes, only)),
};

/** Pages smaller than this are scanned inline: not worth a trip to the worker. */
const INLINE_BELOW = 64 * 1024;

type Pending = { resolve: (page: ScannedPage<unknown>) => void; reject: (error: Error) => void };

/**
 * Exported for tests, which point it at the compiled worker in dist/. The thread starts with
 * the first page big enough to send it: a snapshot of small pages (an account with a few
 * messages, or none) never pays for one.
 */
export class WorkerPageParser implements PageParser {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly script: URL) {}

  /** Whether the thread has been started. */
  get started(): boolean {
    return this.worker !== null;
  }

  private thread(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = new Worker(this.script);
    worker.on('message', (answer: PageAnswer) => {
      const job = this.pending.get(answer.id);
      if (job === undefined) return;
      this.pending.delete(answer.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in answer) job.reject(new SyntaxError(answer.error));
      else {
        job.resolve({
          kept: answer.kept,
          total: answer.total,
          sent: answer.sent,
          envelope: answer.envelope,
          last: answer.last,
          services: answer.services,
        });
      }
    });
    worker.on('error', (error) => {
      for (const job of this.pending.values()) job.reject(error);
      this.pending.clear();
    });
    // An idle worker must not keep the process alive; a busy one must. (After the listeners:
    // adding a 'message' listener refs the worker again.)
    worker.unref();
    return (this.worker = worker);
  }

  parse<T>(bytes: Buffer, only: PageFilter): Promise<ScannedPage<T>> {
    if (bytes.length < INLINE_BELOW) return inlinePageParser.parse<T>(bytes, only);
    const worker = this.thread();
    // Hand the bytes over without copying when the Buffer owns its whole ArrayBuffer.
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const payload = owned ? bytes : Buffer.from(bytes);
    const id = this.nextId++;
    const job: PageJob = { id, bytes: payload, only };
    return new Promise<ScannedPage<T>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as Pending['resolve'], reject });
      worker.ref();
      worker.postMessage(job, [payload.buffer as ArrayBuffer]);
    });
  }
}

let shared: PageParser | null = null;

/** The process's page parser: one worker, started on first use, or inline. */
export function pageParser(): PageParser {
  if (shared === null) {
    const script = new URL('./page-worker.js', import.meta.url);
    shared = existsSync(fileURLToPath(script)) ? new WorkerPageParser(script) : inlinePageParser;
  }
  return shared;
}
