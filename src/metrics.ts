import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics of one server (prom-client), in a registry of its
 * own so that several servers in one process (tests) never share counts.
 * Modules are handed the counters they feed, never the registry.
 */
export type Metrics = Readonly<{
  registry: Registry;
  /** HTTP requests by route (a fixed set: /graphql, /healthz, ..., other) and status. */
  requests: Counter<'route' | 'status'>;
  requestDuration: Histogram<'route'>;
  /** GraphQL operations over HTTP by operation name (bounded) and outcome. */
  operations: Counter<'operation' | 'outcome'>;
  /** Every credential check: accepted (reason: jwt, resolver), guest, refused or unavailable (reason: why). */
  authentications: Counter<'result' | 'reason'>;
  /** Fetches of the issuer's discovery document and key set. */
  issuerFetches: Counter<'document' | 'result'>;
  tokenCache: Counter<'result'>;
  /** Requests and operations refused by a limit: budget (query cost) or auth_failures. */
  rateLimited: Counter<'limit'>;
}>;

export type AuthCounters = Pick<Metrics, 'issuerFetches' | 'tokenCache'>;

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({ name: 'http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['route', 'status'], registers }),
    requestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from a request arriving to its response being written.',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    operations: new Counter({
      name: 'graphql_operations_total',
      help: 'GraphQL operations over HTTP by operation name and outcome (ok, partial, failed, rate_limited).',
      labelNames: ['operation', 'outcome'],
      registers,
    }),
    authentications: new Counter({
      name: 'auth_results_total',
      help: 'Credential checks by result (accepted, guest, refused, unavailable) and reason (jwt, resolver, expired, bad_signature, ...).',
      labelNames: ['result', 'reason'],
      registers,
    }),
    issuerFetches: new Counter({
      name: 'auth_issuer_fetches_total',
      help: 'Fetches of the OIDC discovery document and the JWKS by result.',
      labelNames: ['document', 'result'],
      registers,
    }),
    tokenCache: new Counter({ name: 'auth_token_cache_total', help: 'Lookups in the cache of verified tokens (hit, miss).', labelNames: ['result'], registers }),
    rateLimited: new Counter({
      name: 'rate_limit_refusals_total',
      help: 'Requests and operations refused with RATE_LIMITED, by limit (budget, auth_failures).',
      labelNames: ['limit'],
      registers,
    }),
  };
}

/** Operation names come from clients: past this many distinct ones, the rest are counted as "other". */
const MAX_OPERATION_NAMES = 200;

/** A bounded label for a client-chosen operation name. */
export function operationLabel(): (name: string | null | undefined) => string {
  const seen = new Set<string>();
  return (name) => {
    if (name === null || name === undefined) return '(anonymous)';
    if (seen.has(name)) return name;
    if (seen.size >= MAX_OPERATION_NAMES || !/^[_A-Za-z][_0-9A-Za-z]{0,99}$/.test(name)) return 'other';
    seen.add(name);
    return name;
  };
}
