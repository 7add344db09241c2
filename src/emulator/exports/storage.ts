/**
 * The file storage behind Bulk Export's redirects: on real Twilio a pre-signed S3 URL, here a
 * path on the emulator's own origin, `/__storage/bulkexports/<AC…>/Messages/<day>.json.gz`,
 * with `Expires` (Unix seconds) and an HMAC `Signature` in the query. Like S3 it knows nothing
 * of Twilio credentials: a request that carries an `Authorization` header is refused (400:
 * one auth mechanism only), and so is an expired or wrong signature (403). Every download and
 * every refusal is logged for the control plane.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';

import type { EmulatorState } from '../state.js';
import { byteLength, dayBounds, dayFileStream } from './day-files.js';

/** How long a redirect URL stays good, in seconds of the emulator clock. */
export const URL_LIFETIME_SECONDS = 900;
export const STORAGE_PREFIX = '/__storage/';

export interface DownloadLogEntry {
  /** When the request arrived (emulator clock), ISO 8601 to the millisecond. */
  time: string;
  path: string;
  status: number;
  /** Why it was refused; null when the file was served. */
  reason: string | null;
}

const DOWNLOAD_LOG_LIMIT = 100_000;
const FILE_PATH =
  /^\/__storage\/bulkexports\/(AC[0-9a-f]{32})\/Messages\/(\d{4}-\d{2}-\d{2})\.json\.gz$/;

export class ExportStorage {
  readonly downloads: DownloadLogEntry[] = [];
  /** The emulator's own origin (`http://127.0.0.1:PORT`), known once it listens. */
  origin = '';

  constructor(
    private readonly state: EmulatorState,
    private readonly secret: string,
    private readonly clock: () => number,
  ) {}

  private sign(path: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`GET\n${path}\n${expires}`).digest('base64url');
  }

  /** A URL for an account's day file, good for URL_LIFETIME_SECONDS from now. */
  signedUrl(accountSid: string, day: string): string {
    const path = `${STORAGE_PREFIX}bulkexports/${accountSid}/Messages/${day}.json.gz`;
    const expires = Math.floor(this.state.now() / 1000) + URL_LIFETIME_SECONDS;
    return `${this.origin}${path}?Expires=${expires}&Signature=${this.sign(path, expires)}`;
  }

  /** The size of a day file in bytes: remembered, or measured by producing it once. */
  async sizeOf(accountSid: string, day: string): Promise<number> {
    const messages = this.state.messages.between(accountSid, ...dayBounds(day));
    const known = this.state.exports.knownSize(accountSid, day, messages.length);
    if (known !== undefined) return known;
    const bytes = await byteLength(dayFileStream(messages));
    this.state.exports.rememberSize(accountSid, day, messages.length, bytes);
    return bytes;
  }

  async serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const time = new Date(this.clock()).toISOString();
    const path = url.pathname;
    const refuse = (status: number, code: string, message: string, reason: string) => {
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>\n`;
      res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': xml.length });
      res.end(xml);
      this.log({ time, path, status, reason });
    };

    if (req.method !== 'GET') {
      return refuse(
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        'method',
      );
    }
    if (req.headers.authorization !== undefined) {
      return refuse(
        400,
        'InvalidArgument',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
        'authorization header',
      );
    }
    const expires = Number(url.searchParams.get('Expires'));
    const given = Buffer.from(url.searchParams.get('Signature') ?? '');
    const wanted = Buffer.from(this.sign(path, expires));
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      return refuse(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
        'bad signature',
      );
    }
    if (expires * 1000 < this.state.now()) {
      return refuse(403, 'AccessDenied', 'Request has expired', 'expired');
    }
    const match = FILE_PATH.exec(path);
    this.state.settleExports();
    if (
      match === null ||
      this.state.exports.file(match[1]!, match[2]!, this.state.now()) === undefined
    ) {
      return refuse(404, 'NoSuchKey', 'The specified key does not exist.', 'no such file');
    }
    const [accountSid, day] = [match[1]!, match[2]!];
    const messages = this.state.messages.between(accountSid, ...dayBounds(day));
    res.writeHead(200, { 'Content-Type': 'application/gzip' });
    // Logged as it starts: a reader has the status before the last byte leaves.
    const entry: DownloadLogEntry = { time, path, status: 200, reason: null };
    this.log(entry);
    let bytes = 0;
    try {
      await pipeline(
        dayFileStream(messages),
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            bytes += chunk.length;
            yield chunk;
          }
        },
        res,
      );
    } catch {
      // The reader went away mid-file: nothing to answer any more.
      entry.reason = 'aborted by the client';
      return;
    }
    this.state.exports.rememberSize(accountSid, day, messages.length, bytes);
  }

  private log(entry: DownloadLogEntry): void {
    this.downloads.push(entry);
    if (this.downloads.length > DOWNLOAD_LOG_LIMIT) {
      this.downloads.splice(0, this.downloads.length - DOWNLOAD_LOG_LIMIT);
    }
  }
}
