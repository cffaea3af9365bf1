import { HeaderMap } from '@apollo/server';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { principalKey, type Viewer } from '../auth/viewer.js';
import type { Config } from '../config.js';
import { coded } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { createAuthFailureThrottle, type AuthFailureThrottle } from './auth-failures.js';
import { createBudget, type Budget, type Spent, type Standing } from './budget.js';
import { createConcurrencyGate } from './concurrency.js';
import { createOperationCost, MAX_PRICED_NODES } from './cost.js';
import { exceedsJsonBytes } from './response-size.js';
import { memoryStore, postgresStore } from './store.js';

export type { Standing } from './budget.js';
export type { AuthFailureThrottle } from './auth-failures.js';

export type Operation = Readonly<{
  document: DocumentNode;
  operationName: string | null | undefined;
  variables: Readonly<Record<string, unknown>> | undefined;
  viewer: Viewer | null;
  clientAddress: string;
}>;

/** An operation refused before it runs: the error, and the status and headers an HTTP response gives it. */
export type Refusal = Readonly<{ error: GraphQLError; status: number; headers: [string, string][] }>;

export type Admission = Readonly<{ admitted: true; standing: Standing | null; headers: [string, string][] }> | (Readonly<{ admitted: false }> & Refusal);

/** A refusal as the error Apollo answers for the whole request: its status and headers travel in `extensions.http`. */
export function refusalError({ error, status, headers }: Refusal): GraphQLError {
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status, headers: new HeaderMap(headers) } } });
}

/** A slot among the viewer's running operations: give it back with `exit` when the operation is done. */
export type Entry = Readonly<{ entered: true; exit: () => void }> | (Readonly<{ entered: false }> & Refusal);

export type Limits = Readonly<{
  /** The query-cost budget per viewer; null when RATE_LIMIT_POINTS=0. */
  budget: Budget | null;
  /** The refused-credential throttle per client address; null when AUTH_FAILURE_LIMIT=0. */
  authFailures: AuthFailureThrottle | null;
  /**
   * Prices an operation once its variables are known, refuses it over
   * QUERY_MAX_COST, then spends its cost from the viewer's budget: what
   * HTTP and WebSocket operations both pass before they run. Decided at
   * once (no promise) when nothing needs the store.
   */
  admit(operation: Operation): Admission | Promise<Admission>;
  /**
   * Takes one of the viewer's RATE_LIMIT_CONCURRENCY slots (a guest's: its
   * client address's) for an operation about to run; a 429 when all are
   * taken, so that one viewer cannot hold many large results in memory at once.
   */
  enter(viewer: Viewer | null, clientAddress: string): Entry;
  /** The error that replaces a result larger than QUERY_MAX_RESPONSE_BYTES as JSON; null when it fits. */
  oversized(result: unknown): GraphQLError | null;
  /** The 429 for an address past AUTH_FAILURE_LIMIT, before its credential is read; null when it may go on. */
  authFailureRefusal(clientAddress: string): Refusal | null;
  close(): Promise<void>;
}>;

/** What every operation gets when the budget is off and its cost is within QUERY_MAX_COST. */
const FREE: Admission = Object.freeze({ admitted: true, standing: null, headers: [] });
const UNLIMITED: Entry = Object.freeze({ entered: true, exit: () => undefined });

export type LimitsDeps = Readonly<{ config: Config; schema: GraphQLSchema; logger: Logger; metrics: Metrics | null }>;

export async function createLimits({ config, schema, logger, metrics }: LimitsDeps): Promise<Limits> {
  const { budget: budgetConfig, authFailures: throttleConfig, store: storeKind } = config.limits;
  const { maxCost, maxResponseBytes } = config.graphql.limits;
  const gate = config.limits.concurrency === null ? null : createConcurrencyGate(config.limits.concurrency);
  const cost = createOperationCost(schema);
  const needsStore = budgetConfig !== null || throttleConfig !== null;
  const store = needsStore && storeKind === 'postgres' ? await postgresStore(config.database.url as string, logger) : memoryStore();
  const budgetOf = async (name: string, points: number, windowSeconds: number) =>
    createBudget(name, await store.limiter(name, points, windowSeconds), points, windowSeconds);
  const budget = budgetConfig === null ? null : await budgetOf('viewer', budgetConfig.points, budgetConfig.windowSeconds);
  const authFailures =
    throttleConfig === null ? null : createAuthFailureThrottle(await budgetOf('auth-failures', throttleConfig.limit, throttleConfig.windowSeconds));

  function charged(spentFrom: Budget, spent: Spent, price: number): Admission {
    const headers = spentFrom.headers(spent.standing);
    if (spent.allowed) return { admitted: true, standing: spent.standing, headers };
    metrics?.rateLimited.inc({ limit: 'budget' });
    const { remaining, limit } = spent.standing;
    const error = coded(
      `Rate limit: this operation costs ${price} points and ${remaining} of ${limit} are left in this ${spentFrom.windowSeconds}-second window; retry in ${spent.retryAfterSeconds} s.`,
      'RATE_LIMITED',
      { policy: spentFrom.name, cost: price, remaining, quota: limit, retryAfter: spent.retryAfterSeconds },
    );
    return { admitted: false, error, status: 429, headers: [...headers, ['retry-after', String(spent.retryAfterSeconds)]] };
  }

  return {
    budget,
    authFailures,
    admit({ document, operationName, variables, viewer, clientAddress }) {
      const priced = cost(document, operationName, variables);
      if ('unpriceable' in priced) {
        const error = coded(
          `The operation cannot be priced (${priced.unpriceable}): send one with at most ${MAX_PRICED_NODES} selections once its fragments are expanded.`,
          'QUERY_LIMIT_EXCEEDED',
          { limit: 'cost', maxCost },
        );
        return { admitted: false, error, status: 400, headers: [] };
      }
      const price = priced.points;
      if (price > maxCost) {
        const error = coded(`The operation costs ${price} points, more than QUERY_MAX_COST (${maxCost}): ask for fewer items (first) or fewer fields.`, 'QUERY_LIMIT_EXCEEDED', {
          limit: 'cost',
          cost: price,
          maxCost,
        });
        return { admitted: false, error, status: 400, headers: [] };
      }
      if (budget === null) return FREE;
      return budget.spend(principalKey(viewer, clientAddress), price).then((spent) => charged(budget, spent, price));
    },
    enter(viewer, clientAddress) {
      if (gate === null) return UNLIMITED;
      const exit = gate.enter(principalKey(viewer, clientAddress));
      if (exit !== null) return { entered: true, exit };
      metrics?.rateLimited.inc({ limit: 'concurrency' });
      const error = coded(
        `Too many operations at once: this viewer already has ${gate.limit} running (RATE_LIMIT_CONCURRENCY). Wait for one to finish.`,
        'RATE_LIMITED',
        { policy: 'concurrency', quota: gate.limit, retryAfter: 1 },
      );
      return { entered: false, error, status: 429, headers: [['retry-after', '1']] };
    },
    oversized(result) {
      if (!exceedsJsonBytes(result, maxResponseBytes)) return null;
      return coded(
        `The response would be larger than QUERY_MAX_RESPONSE_BYTES (${maxResponseBytes} bytes), so it was not sent: ask for fewer items (first) or fewer fields.`,
        'QUERY_LIMIT_EXCEEDED',
        { limit: 'response_bytes', maxBytes: maxResponseBytes },
      );
    },
    authFailureRefusal(clientAddress) {
      if (authFailures === null) return null;
      const seconds = authFailures.blockedFor(clientAddress);
      if (seconds === 0) return null;
      metrics?.rateLimited.inc({ limit: 'auth_failures' });
      const { budget: failures } = authFailures;
      const error = coded(
        `Too many refused credentials from this address (more than ${failures.limit} in ${failures.windowSeconds} s): requests are refused for ${seconds} s. Fix the client's token handling.`,
        'RATE_LIMITED',
        { policy: failures.name, retryAfter: seconds },
      );
      const standing = { limit: failures.limit, cost: 0, remaining: 0, resetAt: new Date(Date.now() + seconds * 1000) };
      return { error, status: 429, headers: [...failures.headers(standing), ['retry-after', String(seconds)]] };
    },
    close: () => store.close(),
  };
}
