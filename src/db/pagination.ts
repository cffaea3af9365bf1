import { badUserInput } from '../errors.js';
import type { Queryable } from './database.js';
import { isUuid } from './uuid.js';

/**
 * Keyset pagination, newest first: cursors and the page query.
 *
 * A cursor is the position of a row, (created_at, id), and nothing else: no
 * owner, no signature. What a viewer may see is decided by the WHERE clause
 * of every page query, so a forged cursor can only move within those rows.
 * Never OFFSET: a page costs the same at any depth, and rows added while a
 * client pages cannot shift the rows it has not reached yet.
 */

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/**
 * created_at exactly as stored. Postgres keeps microseconds, a JS Date only
 * milliseconds: a cursor made from a Date would skip or repeat rows created
 * within the same millisecond. ISO 8601 in UTC reads back the same whatever
 * the session's DateStyle or TimeZone.
 */
const POSITION_SQL = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;
// Twice the longest cursor this module writes; longer input is not worth decoding.
const MAX_CURSOR_LENGTH = 200;

export type Position = Readonly<{ createdAt: string; id: string }>;
export type PageRequest = Readonly<{ first: number; after: Position | null }>;
export type Page<Node> = {
  edges: { cursor: string; node: Node }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
};

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
}

/** A real calendar time: JS would quietly turn Feb 30 into Mar 1, Postgres would throw. */
function isTimestamp(value: string): boolean {
  const match = TIMESTAMP.exec(value);
  if (match === null) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}

const notACursor = () =>
  badUserInput('after is not a cursor of this list: pass an edge cursor or pageInfo.endCursor exactly as you received it.', 'after');

export function decodeCursor(cursor: string): Position {
  if (cursor.length > MAX_CURSOR_LENGTH) throw notACursor();
  const bytes = Buffer.from(cursor, 'base64url');
  // Node's decoder skips characters it does not know; only the canonical spelling counts.
  if (bytes.length === 0 || bytes.toString('base64url') !== cursor) throw notACursor();
  let decoded: unknown;
  try {
    decoded = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw notACursor();
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw notACursor();
  const [createdAt, id] = decoded as unknown[];
  if (typeof createdAt !== 'string' || typeof id !== 'string' || !isTimestamp(createdAt) || !isUuid(id)) throw notACursor();
  return { createdAt, id };
}

/** The `first` and `after` arguments of a connection field, checked. */
export function pageRequest(args: Readonly<{ first?: number | null; after?: string | null }>): PageRequest {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badUserInput(`first must be between 1 and ${MAX_PAGE_SIZE} (got ${first}).`, 'first');
  }
  return { first, after: args.after == null ? null : decodeCursor(args.after) };
}

/**
 * One page of `table`, newest first, only rows of `ownerId` unless it is
 * null. The row comparison matches the order of the indexes
 * (owner_id, created_at DESC, id DESC) and (created_at DESC, id DESC), so
 * Postgres starts the index scan at the cursor and reads `first + 1` rows:
 * the extra one only says whether another page follows.
 */
export async function newestFirstPage<Node extends { id: string }>(
  db: Queryable,
  query: Readonly<{ columns: string; table: string; ownerId: string | null }>,
  { first, after }: PageRequest,
): Promise<Page<Node>> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (query.ownerId !== null) {
    params.push(query.ownerId);
    where.push(`owner_id = $${params.length}`);
  }
  if (after !== null) {
    params.push(after.createdAt, after.id);
    where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(first + 1);
  const rows = await db.query<Node & { position: string }>(
    `SELECT ${query.columns}, ${POSITION_SQL} AS position FROM ${query.table}
     ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
     ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  const edges = rows.slice(0, first).map(({ position, ...node }) => ({
    cursor: encodeCursor({ createdAt: position, id: node.id }),
    node: node as unknown as Node,
  }));
  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}
