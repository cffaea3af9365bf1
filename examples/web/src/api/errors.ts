import { CombinedGraphQLErrors, ServerError } from '@apollo/client';
import type { GraphQLFormattedError } from 'graphql';

export type Problem = Readonly<{ code: string; message: string }>;

type ErrorBody = { errors?: { message?: unknown; extensions?: { code?: unknown } }[] };

/**
 * What went wrong, as the API put it: its message and stable code
 * (UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, ...), whether the error came
 * in a 200 response (a denied field) or with an HTTP error status.
 */
export function describeError(error: unknown): Problem[] {
  if (CombinedGraphQLErrors.is(error)) return error.errors.map(toProblem);
  if (ServerError.is(error)) {
    const body = parse(error.bodyText);
    const problems = (body?.errors ?? []).map(({ message, extensions }) => ({ message: String(message), code: String(extensions?.code ?? error.statusCode) }));
    if (problems.length > 0) return problems;
    return [{ code: `HTTP ${error.statusCode}`, message: error.message }];
  }
  return [{ code: 'NETWORK', message: error instanceof Error ? error.message : String(error) }];
}

/**
 * With errorPolicy 'all', a query keeps what the API answered beside its
 * errors: the problems at `path` (or below it) are those of that one field,
 * and `elsewhere` says whether any other part failed as well.
 */
export function problemsAt(error: unknown, path: readonly (string | number)[]): { at: Problem[]; elsewhere: boolean } {
  if (error === undefined) return { at: [], elsewhere: false };
  if (!CombinedGraphQLErrors.is(error)) return { at: [], elsewhere: true };
  const within = (at: readonly (string | number)[] | undefined) => at !== undefined && path.every((key, index) => at[index] === key);
  return { at: error.errors.filter((one) => within(one.path)).map(toProblem), elsewhere: error.errors.some((one) => !within(one.path)) };
}

const toProblem = ({ message, extensions }: GraphQLFormattedError): Problem => ({ message, code: String(extensions?.['code'] ?? 'ERROR') });

function parse(text: string): ErrorBody | null {
  try {
    return JSON.parse(text) as ErrorBody;
  } catch {
    return null;
  }
}
