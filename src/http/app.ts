import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ApolloServer, HeaderMap, HTTPGraphQLResponse } from '@apollo/server';
import type { Credentials } from '../auth/credentials.js';
import type { Profiles } from '../auth/profiles.js';
import { AuthError, toGraphQLError } from '../auth/errors.js';
import type { Verifier } from '../auth/verifier.js';
import { principalKey, type Viewer } from '../auth/viewer.js';
import type { Config } from '../config.js';
import type { BaseContext } from '../context.js';
import type { Database } from '../db/database.js';
import type { ErrorCode } from '../errors.js';
import { refusalError, type Limits, type Refusal } from '../limits/index.js';
import type { Logger } from '../logger.js';
import { isLoopbackAddress } from '../loopback.js';
import { authResult, type Metrics } from '../metrics.js';
import { HttpError, readBody } from './body.js';
import type { ClientAddresses } from './client-address.js';
import { applyCors, type RefusedOriginLog } from './cors.js';
import { readHeaders, type RequestHeaders } from './headers.js';
import { checkReadiness } from './health.js';
import { writeMetrics } from './metrics-endpoint.js';
import { sendError, sendJson } from './respond.js';

export type AppDeps = Readonly<{
  config: Config;
  apollo: ApolloServer<BaseContext>;
  verifier: Verifier;
  credentials: Credentials;
  clientAddresses: ClientAddresses;
  database: Database;
  /** Every module's services, added to each request's context. */
  services: Readonly<Record<string, unknown>>;
  profiles: Profiles;
  /** The dev issuer's routes (discovery, JWKS, resolver, dev controls); null with a real issuer. */
  dev: DevRoutes | null;
  /** More endpoints by exact path (Authgear's webhook), each answering every method itself. */
  routes: ReadonlyMap<string, Route>;
  limits: Limits;
  /** null when METRICS_PORT=off. */
  metrics: Metrics | null;
  /** /metrics is served here (to loopback clients) rather than on METRICS_PORT. */
  metricsOnMainPort: boolean;
  logger: Logger;
  /** Shared with the WebSocket side: a browser origin refused on either is logged once. */
  refusedOrigin: RefusedOriginLog;
}>;

/** An endpoint beside /graphql: it reads the body (if any) and answers. */
export type Route = (req: IncomingMessage, res: ServerResponse, headers: HeaderMap, method: string) => Promise<void>;

export type DevRoutes = Readonly<{
  /** Answers the request and returns true when the path is one of its own. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, fromLoopback: boolean): Promise<boolean>;
  /** Its paths that browser apps of other origins call: CORS applies to them as to /graphql. */
  crossOriginPaths: ReadonlySet<string>;
}>;

/** One request as the app sees it, and what its log line reports. */
type Exchange = {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly headers: RequestHeaders;
  readonly method: string;
  readonly path: string;
  readonly search: string;
  readonly requestId: string;
  /** The TCP peer is a trusted proxy: its x-authgear-* and X-Forwarded-For headers count. */
  readonly trustedPeer: boolean;
  /** Who the client is, behind any trusted proxies: what logs and limits use. */
  readonly clientAddress: string;
  operationName?: string;
  viewer?: Viewer | null;
  authFailure?: AuthError;
  /** Gives back the viewer's concurrency slot, once the response is written. */
  exit?: () => void;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The HTTP layer: node:http straight into Apollo's executeHTTPGraphQLRequest,
 * as Apollo's own standalone server does, minus Express-style middleware.
 */
export function createApp(deps: AppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { config, apollo, verifier, credentials, clientAddresses, services, profiles, dev, limits, metrics, logger, refusedOrigin } = deps;
  const authentications = metrics?.authentications;

  /** No credential: a guest. A valid one: its viewer. Anything else: a 400/401/503 for the whole request. */
  async function contextFor(exchange: Exchange): Promise<BaseContext> {
    try {
      const { headers, trustedPeer } = exchange;
      // Kept on the context: UserInfo is called with its access token (read only then).
      const credential = { headers, trustedPeer };
      const viewer = await credentials.viewerFor(credential);
      exchange.viewer = viewer;
      authentications?.inc(authResult(viewer));
      // A slot among the viewer's running operations, held until the response is written (or the
      // client left): what bounds how many results one viewer has in memory at once.
      const entry = limits.enter(viewer, exchange.clientAddress);
      if (!entry.entered) throw refusalError(entry);
      exchange.exit = entry.exit;
      return { ...services, viewer, profiles, credential, requestId: exchange.requestId, clientAddress: exchange.clientAddress };
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      exchange.authFailure = error;
      authentications?.inc(authResult(error));
      await limits.authFailures?.record(exchange.clientAddress, error);
      throw toGraphQLError(error, verifier.retryAfterSeconds);
    }
  }

  async function graphql(exchange: Exchange): Promise<void> {
    const { req, res, headers, method, search } = exchange;
    // Past AUTH_FAILURE_LIMIT: refused unheard, before any credential is read.
    const throttled = limits.authFailureRefusal(exchange.clientAddress);
    if (throttled !== null) return refuse(res, throttled);
    let body: unknown;
    let operationName: unknown;
    if (method === 'POST') {
      body = await readBody(req, headers.map, config.http.bodyLimitBytes);
      operationName = (body as { operationName?: unknown } | undefined)?.operationName;
    } else if (search !== '') {
      operationName = new URLSearchParams(search).get('operationName');
    }
    if (typeof operationName === 'string') exchange.operationName = operationName.slice(0, 100);
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers: headers.map, search, body },
      context: () => contextFor(exchange),
    });
    // The development Sandbox page carries an admin dev token: only for this machine's browser. Decided
    // on Apollo's answer rather than on Accept, so every Accept that gets the page is covered, however
    // Apollo negotiates it (text/*, TEXT/HTML, application/xhtml+xml, text/*;q=0.9, ...).
    if (dev !== null && isLandingPage(response) && !isLoopbackAddress(exchange.clientAddress)) {
      sendError(res, 403, 'FORBIDDEN', 'The development Sandbox is served to loopback clients only.');
      return;
    }
    // Operations that ran carry their budget's headers; the rest (refused credentials, invalid documents) tell where the caller stands.
    if (limits.budget !== null && !response.headers.has('ratelimit')) {
      const key = principalKey(exchange.viewer ?? null, exchange.clientAddress);
      for (const [name, value] of limits.budget.headers(await limits.budget.peek(key))) response.headers.set(name, value);
    }
    await send(res, response);
  }

  async function serveMetrics(exchange: Exchange): Promise<void> {
    if (!isLoopbackAddress(exchange.clientAddress)) {
      sendError(exchange.res, 403, 'FORBIDDEN', '/metrics is served to loopback clients only on this port; set METRICS_PORT to serve it to a scraper.');
      return;
    }
    await writeMetrics(deps.metrics as Metrics, exchange.res);
  }

  async function route(exchange: Exchange): Promise<void> {
    const { req, res, headers, method, path } = exchange;
    if (path === '/graphql') {
      if (applyCors(config.http.cors, method, headers.map, res, refusedOrigin)) return;
      if (method !== 'GET' && method !== 'POST') {
        sendError(res, 405, 'BAD_REQUEST', `${method} is not supported on /graphql; use POST (or GET for queries).`, { allow: 'GET, POST, OPTIONS' });
        return;
      }
      return graphql(exchange);
    }
    const extra = deps.routes.get(path);
    if (extra !== undefined) return extra(req, res, headers.map, method);
    if (method === 'GET' || method === 'HEAD') {
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (path === '/metrics' && deps.metricsOnMainPort) return serveMetrics(exchange);
      if (path === '/readyz') {
        const readiness = await checkReadiness(deps);
        return sendJson(res, readiness.ready ? 200 : 503, readiness);
      }
    }
    if (dev !== null) {
      if (dev.crossOriginPaths.has(path) && applyCors(config.http.cors, method, headers.map, res, refusedOrigin)) return;
      if (await dev.handle(req, res, path, isLoopbackAddress(exchange.clientAddress))) return;
    }
    sendError(res, 404, 'NOT_FOUND', `Nothing at ${method} ${path}. The GraphQL endpoint is /graphql.`);
  }

  function fail(exchange: Exchange, error: unknown): void {
    const { res } = exchange;
    if (res.destroyed) {
      // The client hung up: nobody to answer, nothing the server did wrong.
      logger.debug({ requestId: exchange.requestId, reason: (error as Error).message }, 'client went away');
      return;
    }
    if (error instanceof HttpError) {
      sendError(res, error.status, error.code, error.message, error.status === 413 ? { connection: 'close' } : {});
      return;
    }
    logger.error({ err: error, requestId: exchange.requestId }, 'request failed');
    if (res.headersSent) res.destroy();
    else sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
  }

  return (req, res) => {
    const started = performance.now();
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const headers = readHeaders(req);
    const forwardedId = headers.map.get('x-request-id');
    const { trustedPeer, clientAddress } = clientAddresses.locate(req.socket.remoteAddress ?? '', headers.map.get('x-forwarded-for'));
    const exchange: Exchange = {
      req,
      res,
      headers,
      method: req.method ?? 'GET',
      path: queryAt === -1 ? url : url.slice(0, queryAt),
      search: queryAt === -1 ? '' : url.slice(queryAt),
      requestId: forwardedId !== undefined && REQUEST_ID.test(forwardedId) ? forwardedId : randomUUID(),
      trustedPeer,
      clientAddress,
    };
    res.setHeader('x-request-id', exchange.requestId);
    route(exchange)
      .catch((error: unknown) => fail(exchange, error))
      .then(() => {
        // Every request ends here. A response still queued for a slow reader keeps its slot until the
        // socket lets go of it; the usual one, already handed to the socket, gives it back at once
        // (a listener per response would cost the request path more than the slot itself).
        if (exchange.exit !== undefined) {
          if (res.writableLength > 0 && !res.destroyed) res.once('close', exchange.exit);
          else exchange.exit();
        }
        const durationMs = performance.now() - started;
        logRequest(logger, exchange, durationMs);
        if (metrics !== null) {
          const route = ROUTES.has(exchange.path) || deps.routes.has(exchange.path) ? exchange.path : 'other';
          metrics.requests.inc({ route, status: res.statusCode });
          if (route === '/graphql') metrics.requestDuration.observe(durationMs / 1000);
        }
      }, () => undefined);
  };
}

/** The route label of the request metrics: a fixed set, whatever paths clients try. */
const ROUTES = new Set(['/graphql', '/healthz', '/readyz', '/metrics']);

/** Apollo answers GraphQL in JSON (or multipart); only its landing page is HTML. */
function isLandingPage(response: HTTPGraphQLResponse): boolean {
  return response.headers.get('content-type')?.toLowerCase().startsWith('text/html') === true;
}

function refuse(res: ServerResponse, { error, status, headers }: Refusal): void {
  const { code, ...extensions } = error.extensions;
  sendError(res, status, code as ErrorCode, error.message, Object.fromEntries(headers), extensions);
}

async function send(res: ServerResponse, response: HTTPGraphQLResponse): Promise<void> {
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

function logRequest(logger: Logger, exchange: Exchange, durationMs: number): void {
  const failure = exchange.authFailure;
  const line = {
    requestId: exchange.requestId,
    method: exchange.method,
    path: exchange.path,
    status: exchange.res.statusCode,
    durationMs: Math.round(durationMs * 100) / 100,
    operationName: exchange.operationName,
    viewerId: exchange.viewer?.id,
    clientAddress: exchange.clientAddress,
    ...(failure ? { authFailure: failure.failure, authReason: failure.reason, authDetail: failure.description } : {}),
  };
  if (failure?.failure === 'provider_unavailable') logger.warn(line, 'request: auth provider unavailable');
  else if (failure?.failure === 'bad_forwarded_headers') logger.warn(line, 'request: x-authgear-* headers refused (check the proxy and TRUSTED_PROXIES)');
  else logger.info(line, 'request');
}
