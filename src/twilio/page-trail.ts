/**
 * The pages of one list read so far. A 2010 list page names the next one, and each read checks
 * that it does not name itself (adapter.ts), but a page may name one read earlier: a cycle
 * A→B→A, or a cache in between that answers an earlier page again. Followed, the list would be
 * read for ever, or its pages counted again as if they were more history. The reader of a list
 * asks its trail before each page it follows.
 */

import { TwilioError } from '../errors.js';
import { describeRequest } from './error-mapping.js';

export class PageTrail {
  private readonly read = new Set<string>();

  /**
   * The page to read next after one that named `next` (null at the end of the list), recorded
   * as read. Throws a TwilioError naming the page when it was read before: the list cannot be
   * read through, and nothing after the repeat is.
   */
  follow(next: string | null): string | null {
    if (next === null) return null;
    if (this.read.has(next)) {
      throw new TwilioError({
        status: 200,
        code: null,
        message:
          `${describeRequest('get', next)}: Twilio named a list page as the next one that was ` +
          'already read (the list loops back on itself); the list was not read through and ' +
          'what it holds after that page was not read. Run the command again; if it goes on, ' +
          'check the network or proxy between here and Twilio.',
        retryable: false,
      });
    }
    this.read.add(next);
    return next;
  }
}
