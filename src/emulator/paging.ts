/**
 * Twilio's paging: `PageSize` (1–1000, default 50; larger values are clamped to 1000),
 * `Page` (client state only) and `PageToken` (`PA<sid>` = after that item, `PB<sid>` = before
 * it). A page beyond the first without a token is refused with 70002, as Twilio does.
 */

import { ApiError } from './api-error.js';
import { MESSAGING_ORIGIN } from './render.js';

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 50;

export interface PageRequest {
  pageSize: number;
  page: number;
  token: { direction: 'after' | 'before'; sid: string } | null;
}

export interface PageRules {
  /** The largest PageSize served; larger values are clamped to it. */
  maxPageSize?: number;
  /** What a page token names after `PA`/`PB`: a SID unless told otherwise. */
  tokenId?: RegExp;
}

const SID_TOKEN = /^[A-Z]{2}[0-9a-f]{32}$/;

export function readPageRequest(query: URLSearchParams, rules: PageRules = {}): PageRequest {
  const sizeText = query.get('PageSize');
  const pageSize = sizeText === null ? DEFAULT_PAGE_SIZE : Number(sizeText);
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new ApiError(400, 20001, `Invalid PageSize: ${sizeText}`);
  }
  const pageText = query.get('Page');
  const page = pageText === null ? 0 : Number(pageText);
  if (!Number.isInteger(page) || page < 0) {
    throw new ApiError(400, 20001, `Invalid Page: ${pageText}`);
  }
  const tokenText = query.get('PageToken');
  let token: PageRequest['token'] = null;
  if (tokenText !== null) {
    const match = /^P([AB])(.+)$/.exec(tokenText);
    if (match === null || !(rules.tokenId ?? SID_TOKEN).test(match[2] as string)) {
      throw new ApiError(400, 21481, 'Invalid PageToken');
    }
    token = { direction: match[1] === 'A' ? 'after' : 'before', sid: match[2] as string };
  } else if (page > 0) {
    throw new ApiError(400, 70002, 'Paged requests must include a PageToken');
  }
  return { pageSize: Math.min(pageSize, rules.maxPageSize ?? MAX_PAGE_SIZE), page, token };
}

/** The request's filters, without the paging keys, to echo in page links. */
function filtersOf(query: URLSearchParams): URLSearchParams {
  const filters = new URLSearchParams();
  for (const [key, value] of query) {
    if (key !== 'PageSize' && key !== 'Page' && key !== 'PageToken') filters.append(key, value);
  }
  return filters;
}

function link(
  path: string,
  query: URLSearchParams,
  pageSize: number,
  page: number,
  token?: string,
): string {
  const params = filtersOf(query);
  params.set('PageSize', String(pageSize));
  params.set('Page', String(page));
  if (token !== undefined) params.set('PageToken', token);
  return `${path}?${params.toString()}`;
}

export interface PageResult<T extends { sid: string }> {
  items: T[];
  hasNext: boolean;
}

/** The 2010 list envelope's fields besides the items: relative URIs, `start`/`end` positions. */
function meta2010<T extends { sid: string }>(
  path: string,
  query: URLSearchParams,
  request: PageRequest,
  result: PageResult<T>,
) {
  const { pageSize, page } = request;
  const first = result.items[0];
  const last = result.items[result.items.length - 1];
  const start = page * pageSize;
  return {
    first_page_uri: link(path, query, pageSize, 0),
    next_page_uri:
      result.hasNext && last !== undefined
        ? link(path, query, pageSize, page + 1, `PA${last.sid}`)
        : null,
    previous_page_uri:
      page > 0 && first !== undefined
        ? link(path, query, pageSize, page - 1, `PB${first.sid}`)
        : null,
    page,
    page_size: pageSize,
    start,
    end: result.items.length === 0 ? start : start + result.items.length - 1,
    uri: link(path, query, pageSize, page, request.token === null ? undefined : tokenText(request)),
  };
}

/** The 2010 list envelope. */
export function envelope2010<T extends { sid: string }>(
  key: string,
  path: string,
  query: URLSearchParams,
  request: PageRequest,
  result: PageResult<T>,
  render: (item: T) => unknown,
) {
  return { [key]: result.items.map(render), ...meta2010(path, query, request, result) };
}

/**
 * The same envelope when the items are JSON already (Buffers): spliced in as bytes rather
 * than parsed and serialised again.
 */
export function envelope2010Bytes<T extends { sid: string }>(
  key: string,
  path: string,
  query: URLSearchParams,
  request: PageRequest,
  result: PageResult<T>,
  json: (item: T) => Buffer,
): Buffer {
  const parts: Buffer[] = [Buffer.from(`{${JSON.stringify(key)}:[`)];
  result.items.forEach((item, index) => {
    if (index > 0) parts.push(COMMA);
    parts.push(json(item));
  });
  parts.push(Buffer.from(`],${JSON.stringify(meta2010(path, query, request, result)).slice(1)}`));
  return Buffer.concat(parts);
}

const COMMA = Buffer.from(',');

/**
 * The v1 list envelope: absolute URLs in `meta` (on the product's own host: messaging by
 * default), `key` naming the array.
 */
export function envelopeV1<T extends { sid: string }>(
  key: string,
  path: string,
  query: URLSearchParams,
  request: PageRequest,
  result: PageResult<T>,
  render: (item: T) => unknown,
  origin = MESSAGING_ORIGIN,
) {
  const { pageSize, page } = request;
  const first = result.items[0];
  const last = result.items[result.items.length - 1];
  const url = (p: number, token?: string) => origin + link(path, query, pageSize, p, token);
  return {
    [key]: result.items.map(render),
    meta: {
      page,
      page_size: pageSize,
      first_page_url: url(0),
      previous_page_url: page > 0 && first !== undefined ? url(page - 1, `PB${first.sid}`) : null,
      next_page_url: result.hasNext && last !== undefined ? url(page + 1, `PA${last.sid}`) : null,
      key,
      url: url(page, request.token === null ? undefined : tokenText(request)),
    },
  };
}

function tokenText(request: PageRequest): string {
  return `P${request.token?.direction === 'before' ? 'B' : 'A'}${request.token?.sid ?? ''}`;
}

/**
 * Where each SID sits in a list the state keeps between requests (an account's numbers): a
 * 100,000-number list is paged by a lookup, not a scan per page.
 */
const positions = new WeakMap<readonly { sid: string }[], Map<string, number>>();

function positionOf(items: readonly { sid: string }[], sid: string): number {
  let index = positions.get(items);
  if (index === undefined) {
    index = new Map(items.map((item, i) => [item.sid, i]));
    positions.set(items, index);
  }
  return index.get(sid) ?? -1;
}

/** Pages an in-memory ordered list (accounts, numbers, services) by token. */
export function pageList<T extends { sid: string }>(
  items: readonly T[],
  request: PageRequest,
): PageResult<T> {
  let from = 0;
  let to = items.length;
  if (request.token !== null) {
    const sid = request.token.sid;
    const at =
      items.length > 1000 ? positionOf(items, sid) : items.findIndex((item) => item.sid === sid);
    if (at < 0) throw new ApiError(400, 21481, 'Invalid PageToken');
    if (request.token.direction === 'after') from = at + 1;
    else {
      to = at;
      from = Math.max(0, at - request.pageSize);
    }
  }
  const slice = items.slice(from, Math.min(to, from + request.pageSize));
  return {
    items: slice,
    hasNext: from + slice.length < items.length,
  };
}
