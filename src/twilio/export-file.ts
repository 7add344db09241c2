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
import { fromMessageJson, type MessageJson } from './message-json.js';
import type { Message } from './port.js';

/** Where a file URL points, without its query (the signature): safe to show. */
export const describeFileUrl = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
};

export interface FileReadOptions {
  timeoutMs: number;
  /** For an https URL, the proxy's agent (HTTPS_PROXY); null or absent = Node's own. */
  httpsAgent?: http.Agent | null;
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
      const take = (line: string) => {
        if (line.trim() === '') return;
        onMessage(fromMessageJson(JSON.parse(line) as MessageJson));
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
        fail(new Error(`${describeFileUrl(url)}: not a gzip file (${error.message})`)),
      );
      response.on('error', (error) => fail(fileError(url, error)));
      response.pipe(gunzip);
    });
    request.on('timeout', () =>
      request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    request.on('error', (error) => fail(fileError(url, error)));
  });
}

function fileError(url: string, error: Error): TwilioError {
  const code = (error as { code?: unknown }).code;
  return new TwilioError({
    status: 0,
    code: null,
    message: `GET ${describeFileUrl(url)}: no answer (${typeof code === 'string' ? code : 'no response'})`,
    retryable: true,
  });
}
