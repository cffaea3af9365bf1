import type { IncomingMessage } from 'node:http';
import { HeaderMap } from '@apollo/server';
import { RESOLVER_HEADER_PREFIX } from '../auth/forwarded.js';

export type RequestHeaders = Readonly<{
  /** Every header, names lowercased, repeated ones joined with ", " (as Apollo's standalone server does). */
  map: HeaderMap;
  /** Each Authorization header on its own: RFC 6750 allows exactly one. */
  authorization: readonly string[];
  /** The lowercased name of each x-authgear-* header, once per occurrence. */
  authgear: readonly string[];
}>;

const NONE: readonly string[] = Object.freeze([]);

/** One pass over the raw headers; Node's own header objects are never built. */
export function readHeaders(req: IncomingMessage): RequestHeaders {
  const raw = req.rawHeaders;
  const map = new HeaderMap();
  const authorization: string[] = [];
  let authgear = NONE;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (name === 'authorization') authorization.push(value);
    else if (name.startsWith(RESOLVER_HEADER_PREFIX)) authgear = [...authgear, name];
    const previous = map.get(name);
    map.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { map, authorization, authgear };
}
