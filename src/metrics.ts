import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { AuthError } from './auth/errors.js';
import type { Viewer } from './auth/viewer.js';

/**
 * The Prometheus metrics of one server (prom-client), in a registry of its
 * own so that several servers in one process (tests) never share counts.
 * Modules are handed the counters they feed, never the registry.
 */
export type Metrics = Readonly<{
  registry: Registry;
  /** HTTP requests by route (a fixed set: /graphql, /healthz, ..., other) and status. */
  requests: FastCounter<'route' | 'status'>;
  /** How long /graphql requests take. */
  requestDuration: Histogram;
  /** GraphQL operations over HTTP by operation name (bounded) and outcome. */
  operations: FastCounter<'operation' | 'outcome'>;
  /** Every credential check: accepted (reason: jwt, resolver), guest, refused or unavailable (reason: why). */
  authentications: FastCounter<'result' | 'reason'>;
  /** Fetches of the issuer's discovery document and key set. */
  issuerFetches: FastCounter<'document' | 'result'>;
  tokenCache: FastCounter<'result'>;
  /** Requests and operations refused by a limit: budget (query cost) or auth_failures. */
  rateLimited: FastCounter<'limit'>;
  /** Authgear webhook calls by event type (a fixed set, else other) and outcome (applied, duplicate, stale, ignored, refused). */
  webhookEvents: FastCounter<'type' | 'outcome'>;
}>;

/** A counter as the request path uses it. */
export type FastCounter<L extends string> = Readonly<{ inc(labels: Readonly<Record<L, string | number>>): void }>;

/**
 * A prom-client counter whose increments cost an addition: each label set
 * gets a cell the first time it is seen, and the cells are copied into the
 * counter when Prometheus scrapes. prom-client's own inc() hashes and
 * validates the labels on every call, which on a request path that counts
 * five things cost a measurable share of a `me` query's time.
 */
function fastCounter<L extends string>(name: string, help: string, labelNames: readonly L[], registers: Registry[]): FastCounter<L> {
  const cells = new Map<string, { labels: Readonly<Record<L, string | number>>; value: number }>();
  new Counter<L>({
    name,
    help,
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const cell of cells.values()) this.inc(cell.labels, cell.value);
    },
  });
  return {
    inc(labels) {
      let key = '';
      for (const label of labelNames) key += `${labels[label]}\u0000`;
      const cell = cells.get(key);
      if (cell === undefined) cells.set(key, { labels: { ...labels }, value: 1 });
      else cell.value++;
    },
  };
}

export type AuthCounters = Pick<Metrics, 'issuerFetches' | 'tokenCache'>;

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    requests: fastCounter('http_requests_total', 'HTTP requests by route and status.', ['route', 'status'], registers),
    requestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from a /graphql request arriving to its response being written.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    operations: fastCounter(
      'graphql_operations_total',
      'GraphQL operations over HTTP by operation name and outcome (ok, partial, failed, rate_limited).',
      ['operation', 'outcome'],
      registers,
    ),
    authentications: fastCounter(
      'auth_results_total',
      'Credential checks by result (accepted, guest, refused, unavailable) and reason (jwt, resolver, expired, bad_signature, ...).',
      ['result', 'reason'],
      registers,
    ),
    issuerFetches: fastCounter('auth_issuer_fetches_total', 'Fetches of the OIDC discovery document, the JWKS and UserInfo, by result.', ['document', 'result'], registers),
    tokenCache: fastCounter('auth_token_cache_total', 'Lookups in the cache of verified tokens (hit, miss).', ['result'], registers),
    rateLimited: fastCounter('rate_limit_refusals_total', 'Requests and operations refused with RATE_LIMITED, by limit (budget, auth_failures).', ['limit'], registers),
    webhookEvents: fastCounter(
      'webhook_events_total',
      'Authgear webhook calls by event type and outcome (applied, duplicate, stale, ignored, refused).',
      ['type', 'outcome'],
      registers,
    ),
  };
}

const GUEST = { result: 'guest', reason: 'none' } as const;
const ACCEPTED_JWT = { result: 'accepted', reason: 'jwt' } as const;
const ACCEPTED_RESOLVER = { result: 'accepted', reason: 'resolver' } as const;

/** The labels of `auth_results_total` for one credential check, over HTTP or WebSocket. */
export function authResult(outcome: Viewer | null | AuthError): Readonly<{ result: string; reason: string }> {
  if (outcome instanceof AuthError) return { result: outcome.failure === 'provider_unavailable' ? 'unavailable' : 'refused', reason: outcome.reason };
  if (outcome === null) return GUEST;
  return outcome.source === 'jwt' ? ACCEPTED_JWT : ACCEPTED_RESOLVER;
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
