import { badUserInput } from '../errors.js';

// Postgres text cannot hold NUL (the driver fails the whole query), and a
// lone surrogate is not UTF-8: it would be stored, or compared, as U+FFFD.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A client's text argument on its way into SQL, checked: what Postgres
 * cannot store is the client's mistake, answered BAD_USER_INPUT naming the
 * argument, never a driver error masked as INTERNAL_SERVER_ERROR.
 */
export function storableText<T extends string | null | undefined>(value: T, argument: string): T {
  if (typeof value === 'string' && UNSTORABLE.test(value)) {
    throw badUserInput(`${argument} contains a character the database cannot store (NUL or a lone UTF-16 surrogate).`, argument);
  }
  return value;
}
