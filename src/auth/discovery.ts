import { isLoopbackHost } from '../loopback.js';
import type { Metrics } from '../metrics.js';
import { providerUnavailable } from './errors.js';

export type ProviderMetadata = Readonly<{
  issuer: string;
  jwksUri: URL;
  /** Where the user's profile claims are served (OIDC Core 5.3); null when the issuer announces none. */
  userinfoEndpoint: URL | null;
}>;

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
  const { issuer: announced, jwks_uri: jwksUri, userinfo_endpoint: userinfoUri } = document as Record<string, unknown>;
  if (announced !== issuer) {
    throw fail(`announces issuer ${JSON.stringify(announced)}, not the configured ${issuer}; check AUTHGEAR_ENDPOINT`);
  }
  const jwks = trustedUrl(jwksUri);
  if (jwks === null) throw fail(`announces jwks_uri ${JSON.stringify(jwksUri) ?? '(none)'}; only an https:// (or loopback http://) URL is trusted`);
  // The access token is sent there: the same rule as for the keys.
  const userinfo = userinfoUri === undefined ? null : trustedUrl(userinfoUri);
  if (userinfoUri !== undefined && userinfo === null) {
    throw fail(`announces userinfo_endpoint ${JSON.stringify(userinfoUri)}; only an https:// (or loopback http://) URL is trusted`);
  }
  return Object.freeze({ issuer, jwksUri: jwks, userinfoEndpoint: userinfo });
}

function trustedUrl(value: unknown): URL | null {
  if (typeof value !== 'string' || !URL.canParse(value)) return null;
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)) ? url : null;
}

export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
