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
  /** GraphQL operations over HTTP by operation name (bounded: see operationLabels) and outcome. */
  operations: ForgetfulCounter<'operation' | 'outcome'>;
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

/** A counter whose series for one label value can be dropped, so that a bounded set of values bounds its series. */
export type ForgetfulCounter<L extends string> = FastCounter<L> & Readonly<{ forget(label: L, value: string): void }>;

/**
 * A prom-client counter whose increments cost an addition: each label set
 * gets a cell the first time it is seen, and the cells are copied into the
 * counter when Prometheus scrapes. prom-client's own inc() hashes and
 * validates the labels on every call, which on a request path that counts
 * five things cost a measurable share of a `me` query's time.
 */
function fastCounter<L extends string>(name: string, help: string, labelNames: readonly L[], registers: Registry[]): ForgetfulCounter<L> {
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
    forget(label, value) {
      for (const [key, cell] of cells) if (String(cell.labels[label]) === value) cells.delete(key);
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

/** Operation names come from clients: at most this many get a label of their own; the rest are counted as "other". */
export const MAX_OPERATION_NAMES = 200;

const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

/**
 * Labels for client-chosen operation names that no client can use to
 * blind the metrics. A name earns a label only from an operation that ran
 * for an authenticated viewer (guests' names are "other" until then), and
 * the labelled names are the most used ones: when the set is full, a new
 * name takes the place of the least used name, whose series are dropped
 * (Space-Saving, without its count inheritance, so a newcomer starts at 1).
 * Junk names sent once each churn one slot; to crowd out a real name, an
 * authenticated viewer must send each junk name more often than clients
 * send the real one, from its own budget and under its own id in the logs.
 */
export function operationLabels(operations: Pick<ForgetfulCounter<'operation'>, 'forget'>, capacity = MAX_OPERATION_NAMES) {
  const uses = new Map<string, number>();
  return (name: string | null | undefined, earnsLabel: boolean): string => {
    if (name === null || name === undefined) return '(anonymous)';
    const count = uses.get(name);
    if (count !== undefined) {
      uses.set(name, count + 1);
      return name;
    }
    if (!earnsLabel || !OPERATION_NAME.test(name)) return 'other';
    if (uses.size >= capacity) {
      let rarest: string | undefined;
      let fewest = Infinity;
      for (const [known, used] of uses) {
        if (used < fewest) {
          rarest = known;
          fewest = used;
        }
      }
      if (rarest !== undefined) {
        uses.delete(rarest);
        operations.forget('operation', rarest);
      }
    }
    uses.set(name, 1);
    return name;
  };
}
