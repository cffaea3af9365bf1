import type { Metrics } from '../metrics.js';
import { describe } from './discovery.js';

/** Why a UserInfo call gave no claims. */
export type UserInfoFailure =
  /** No answer: refused connection, reset, DNS, a redirect, or the discovery document out of reach. */
  | 'unreachable'
  | 'timeout'
  /** HTTP 5xx or 429: the issuer's trouble, likely to pass. */
  | 'issuer_error'
  /** HTTP 401: the issuer no longer accepts the access token (revoked session, disabled user). */
  | 'token_refused'
  /** Nothing usable, and retrying will not help: no userinfo_endpoint announced, another status, not a JSON object, too large, another user's `sub`. */
  | 'unusable';

export class UserInfoError extends Error {
  constructor(
    readonly failure: UserInfoFailure,
    /** Safe to log: a status, a cause, never a claim or the token. */
    readonly detail: string,
  ) {
    super(`UserInfo ${failure}: ${detail}`);
    this.name = 'UserInfoError';
  }
}

export type UserInfoOptions = Readonly<{
  /** The endpoint, from the issuer's discovery document; null when it announces none. */
  endpoint: () => Promise<URL | null>;
  timeoutMs: number;
  fetches?: Metrics['issuerFetches'];
}>;

export type UserInfoClient = Readonly<{
  /**
   * The claims the issuer holds for the holder of `accessToken`, who must
   * be `subject`: OIDC Core 5.3.2 says an answer about anyone else must not
   * be used. Throws a UserInfoError.
   */
  claims(accessToken: string, subject: string): Promise<Readonly<Record<string, unknown>>>;
}>;

/** Far above any real answer (a few hundred bytes); a body past it is not read. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** An OpenID Connect UserInfo client (OIDC Core 5.3): a GET with the user's own Bearer token. */
export function createUserInfoClient(options: UserInfoOptions): UserInfoClient {
  const count = (result: 'ok' | 'error') => options.fetches?.inc({ document: 'userinfo', result });
  return {
    async claims(accessToken, subject) {
      try {
        const claims = await fetchClaims(options, accessToken, subject);
        count('ok');
        return claims;
      } catch (error) {
        count('error');
        throw error;
      }
    },
  };
}

async function fetchClaims({ endpoint, timeoutMs }: UserInfoOptions, accessToken: string, subject: string): Promise<Readonly<Record<string, unknown>>> {
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    const url = await endpoint();
    if (url === null) throw new UserInfoError('unusable', 'the issuer announces no userinfo_endpoint in its discovery document');
    response = await fetch(url, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }, signal, redirect: 'error' });
  } catch (error) {
    throw asFailure(error, signal);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    if (response.status === 401) throw new UserInfoError('token_refused', 'HTTP 401');
    throw new UserInfoError(response.status >= 500 || response.status === 429 ? 'issuer_error' : 'unusable', `HTTP ${response.status}`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(await readLimited(response, MAX_ANSWER_BYTES));
  } catch (error) {
    throw asFailure(error, signal);
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) throw new UserInfoError('unusable', 'the answer is not a JSON object');
  if ((answer as Record<string, unknown>)['sub'] !== subject) throw new UserInfoError('unusable', 'the answer is about another subject');
  return answer as Record<string, unknown>;
}

function asFailure(error: unknown, signal: AbortSignal): UserInfoError {
  if (error instanceof UserInfoError) return error;
  if (signal.aborted) return new UserInfoError('timeout', 'no answer in time');
  if (error instanceof SyntaxError) return new UserInfoError('unusable', 'the answer is not JSON');
  return new UserInfoError('unreachable', describe(error));
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new UserInfoError('unusable', `the answer is larger than ${maxBytes} bytes`);
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new UserInfoError('unusable', `the answer is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
