import { CombinedGraphQLErrors, ServerError } from '@apollo/client';

export type Problem = Readonly<{ code: string; message: string }>;

type ErrorBody = { errors?: { message?: unknown; extensions?: { code?: unknown } }[] };

/**
 * What went wrong, as the API put it: its message and stable code
 * (UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, ...), whether the error came
 * in a 200 response (a denied field) or with an HTTP error status.
 */
export function describeError(error: unknown): Problem[] {
  if (CombinedGraphQLErrors.is(error)) {
    return error.errors.map(({ message, extensions }) => ({ message, code: String(extensions?.['code'] ?? 'ERROR') }));
  }
  if (ServerError.is(error)) {
    const body = parse(error.bodyText);
    const problems = (body?.errors ?? []).map(({ message, extensions }) => ({ message: String(message), code: String(extensions?.code ?? error.statusCode) }));
    if (problems.length > 0) return problems;
    return [{ code: `HTTP ${error.statusCode}`, message: error.message }];
  }
  return [{ code: 'NETWORK', message: error instanceof Error ? error.message : String(error) }];
}

function parse(text: string): ErrorBody | null {
  try {
    return JSON.parse(text) as ErrorBody;
  } catch {
    return null;
  }
}
