/**
 * Reading a Bulk Export day file: gzip-compressed JSON lines, one message per line, fetched
 * from the signed URL a day redirects to (pre-signed storage on real Twilio). The file is
 * read as it downloads — gunzip, split into lines, each line parsed and handed on — so a day
 * of any size is never held whole in memory. The request carries no Twilio credential: the
 * URL's signature is its only authorisation, and storage refuses a request that has both.
 */

import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';

import { TwilioError } from '../errors.js';
import { whyNoAnswer } from './error-mapping.js';
import {
  fromMessageJson,
  missingMessageField,
  recordSid,
  type MessageJson,
} from './message-json.js';
import type { Message } from './port.js';

/** Where a file URL points, without its query (the signature): safe to show. */
export const describeFileUrl = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
};

/**
 * A day file that is not one (a proxy's HTML page, a line that is no message record): asked
 * for again, with a fresh URL, as a refusal is; in the end an error that names the file.
 */
const notADayFile = (url: string, why: string) =>
  new TwilioError({
    status: 200,
    code: null,
    message: `GET ${describeFileUrl(url)}: ${why}; nothing of the day was used`,
    retryable: true,
  });

/** An address for a day's file that is not an http(s) URL: asking again gets the same. */
function notAFileAddress(url: string): TwilioError | null {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = '';
  }
  if (protocol === 'https:' || protocol === 'http:') return null;
  return new TwilioError({
    status: 307,
    code: null,
    message: `Bulk Export gave a day's file address that is not an http(s) URL (${protocol === '' ? 'unreadable' : protocol}); nothing of the day was read`,
    retryable: false,
  });
}

export interface FileReadOptions {
  timeoutMs: number;
  /** For an https URL, the proxy's agent (HTTPS_PROXY); null or absent = Node's own. */
  httpsAgent?: http.Agent | null;
  /** Which day file this is (account and day), for an error about a line in it. */
  day?: string;
}

/**
 * Streams the file at `url` into `onMessage`; answers how many messages it held. A refusal
 * (an expired URL is 403) is a TwilioError with the status, retryable: the caller asks the day
 * for a fresh URL and tries again.
 */
export function readDayFile(
  url: string,
  onMessage: (message: Message) => void,
  options: FileReadOptions,
): Promise<number> {
  const refused = notAFileAddress(url);
  if (refused !== null) return Promise.reject(refused);
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const agent = target.protocol === 'https:' ? (options.httpsAgent ?? null) : null;
    const settings = { timeout: options.timeoutMs, ...(agent === null ? {} : { agent }) };
    const request = client.get(target, settings, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        fail(
          new TwilioError({
            status: response.statusCode ?? 0,
            code: null,
            message: `GET ${describeFileUrl(url)}: HTTP ${response.statusCode} from the export file storage`,
            retryable: true,
          }),
        );
        return;
      }
      const gunzip = createGunzip();
      const decoder = new StringDecoder('utf8');
      let rest = '';
      let count = 0;
      let lineNumber = 0;
      const take = (line: string) => {
        lineNumber += 1;
        if (line.trim() === '') return;
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          record = null;
        }
        if (record === null || typeof record !== 'object' || Array.isArray(record)) {
          throw notADayFile(url, `line ${lineNumber} is not a message record (JSON)`);
        }
        // A record without what the ledger keeps of every message: Twilio wrote the file so,
        // and asking again gets the same file.
        const missing = missingMessageField(record as Record<string, unknown>);
        if (missing !== null) {
          throw new TwilioError({
            status: 200,
            code: null,
            message: `GET ${describeFileUrl(url)}${options.day === undefined ? '' : ` (${options.day})`}: line ${lineNumber} (${recordSid(record as Record<string, unknown>)}) has no ${missing}; nothing of the day was used, and the day counts as not read`,
            retryable: false,
          });
        }
        onMessage(fromMessageJson(record as MessageJson));
        count += 1;
      };
      const lines = (text: string) => {
        const parts = (rest + text).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) take(line);
      };
      gunzip.on('data', (chunk: Buffer) => {
        try {
          lines(decoder.write(chunk));
        } catch (error) {
          request.destroy();
          fail(error instanceof Error ? error : new Error(String(error)));
        }
      });
      gunzip.on('end', () => {
        try {
          lines(decoder.end());
          take(rest);
        } catch (error) {
          return fail(error instanceof Error ? error : new Error(String(error)));
        }
        if (!settled) {
          settled = true;
          resolve(count);
        }
      });
      gunzip.on('error', (error) =>
        fail(
          notADayFile(
            url,
            `not a gzip file (${error.message}, ${response.headers['content-type'] ?? 'no type'})`,
          ),
        ),
      );
      response.on('error', (error) => fail(fileError(url, error, agent !== null)));
      response.pipe(gunzip);
    });
    request.on('timeout', () =>
      request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    request.on('error', (error) => fail(fileError(url, error, agent !== null)));
  });
}

/** `viaProxy`: the file was asked for through HTTPS_PROXY, whose host this does not know. */
function fileError(url: string, error: Error, viaProxy: boolean): TwilioError {
  const code = (error as { code?: unknown }).code;
  return new TwilioError({
    status: 0,
    code: null,
    message: `GET ${describeFileUrl(url)}: ${
      viaProxy
        ? `no answer through the proxy (${typeof code === 'string' ? code : 'no response'})`
        : whyNoAnswer(error, url)
    }`,
    retryable: true,
  });
}
