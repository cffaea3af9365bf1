import { isLoopbackHost } from '../loopback.js';
import type { Metrics } from '../metrics.js';
import { providerUnavailable } from './errors.js';

export type ProviderMetadata = Readonly<{ issuer: string; jwksUri: URL }>;

export type DiscoveryOptions = Readonly<{
  issuer: string;
  timeoutMs: number;
  /** How long a failed fetch is remembered before the next request tries again. */
  retryAfterMs: number;
  fetches?: Metrics['issuerFetches'];
}>;

/**
 * Fetches `<issuer>/.well-known/openid-configuration` on first use and keeps
 * the answer for the life of the process. Concurrent callers share one fetch;
 * a failure is remembered for `retryAfterMs` so an outage is not hammered.
 */
export function createDiscovery(options: DiscoveryOptions): { get(): Promise<ProviderMetadata> } {
  let pending: Promise<ProviderMetadata> | null = null;
  let failedAtMs = 0;

  return {
    get() {
      if (pending !== null && (failedAtMs === 0 || Date.now() - failedAtMs < options.retryAfterMs)) return pending;
      failedAtMs = 0;
      const current = fetchMetadata(options);
      pending = current;
      current.then(
        () => options.fetches?.inc({ document: 'discovery', result: 'ok' }),
        () => {
          options.fetches?.inc({ document: 'discovery', result: 'error' });
          if (pending === current) failedAtMs = Date.now();
        },
      );
      return current;
    },
  };
}

async function fetchMetadata({ issuer, timeoutMs }: DiscoveryOptions): Promise<ProviderMetadata> {
  const url = `${issuer}/.well-known/openid-configuration`;
  const fail = (problem: string, cause?: unknown) => providerUnavailable(`OIDC discovery at ${url} ${problem}`, cause);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (error) {
    throw fail(`failed: ${describe(error)}`, error);
  }
  if (response.status !== 200) throw fail(`answered HTTP ${response.status}`);
  let document: unknown;
  try {
    document = await response.json();
  } catch (error) {
    throw fail(`returned no JSON: ${describe(error)}`, error);
  }
  if (typeof document !== 'object' || document === null) {
    throw fail('did not return a JSON object');
  }
  const { issuer: announced, jwks_uri: jwksUri } = document as Record<string, unknown>;
  if (announced !== issuer) {
    throw fail(`announces issuer ${JSON.stringify(announced)}, not the configured ${issuer}; check AUTHGEAR_ENDPOINT`);
  }
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) {
    throw fail('has no valid jwks_uri');
  }
  const jwks = new URL(jwksUri);
  if (jwks.protocol !== 'https:' && !(jwks.protocol === 'http:' && isLoopbackHost(jwks.hostname))) {
    throw fail(`points jwks_uri at ${jwksUri}; only https:// (or loopback http://) is trusted`);
  }
  return Object.freeze({ issuer, jwksUri: jwks });
}

export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
