import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { HeaderMap, type ApolloServer, type HTTPGraphQLResponse } from '@apollo/server';
import { readBearerToken } from '../auth/bearer.js';
import type { DevIssuer } from '../auth/dev-issuer.js';
import { AuthError, toGraphQLError } from '../auth/errors.js';
import type { Verifier } from '../auth/verifier.js';
import type { Viewer } from '../auth/viewer.js';
import type { Config } from '../config.js';
import type { Context } from '../context.js';
import type { Database } from '../db/database.js';
import type { NoteRepository } from '../db/notes.js';
import type { Logger } from '../logger.js';
import { HttpError, readBody } from './body.js';
import { applyCors } from './cors.js';
import { checkReadiness } from './health.js';

export type AppDeps = Readonly<{
  config: Config;
  apollo: ApolloServer<Context>;
  verifier: Verifier;
  database: Database;
  notes: NoteRepository;
  devIssuer: DevIssuer | null;
  logger: Logger;
}>;

/** What the request log line reports, filled in as the request goes. */
type RequestRecord = {
  requestId: string;
  operationName?: string;
  viewerId?: string;
  authFailure?: AuthError;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...JSON_HEADERS, ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] }, headers);
}

/** The Bearer token of the request, read into a viewer: null for a guest, throws AuthError otherwise. */
async function authenticate(req: IncomingMessage, verifier: Verifier): Promise<Viewer | null> {
  const token = readBearerToken(req.headersDistinct['authorization']);
  return token === null ? null : verifier.verify(token);
}

/**
 * The HTTP layer: node:http straight into Apollo's executeHTTPGraphQLRequest,
 * as Apollo's own standalone server does, minus Express-style middleware.
 */
export function createApp(deps: AppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { config, apollo, verifier, notes, devIssuer, logger } = deps;

  async function contextFor(req: IncomingMessage, record: RequestRecord): Promise<Context> {
    try {
      const viewer = await authenticate(req, verifier);
      if (viewer !== null) record.viewerId = viewer.id;
      return { viewer, notes, requestId: record.requestId };
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      record.authFailure = error;
      throw toGraphQLError(error, verifier.retryAfterSeconds);
    }
  }

  async function graphql(req: IncomingMessage, res: ServerResponse, search: string, record: RequestRecord): Promise<void> {
    const method = req.method ?? 'GET';
    let body: unknown;
    let operationName: unknown;
    if (method === 'POST') {
      body = await readBody(req, config.http.bodyLimitBytes);
      operationName = (body as { operationName?: unknown } | undefined)?.operationName;
    } else if (search !== '') {
      operationName = new URLSearchParams(search).get('operationName');
    }
    if (typeof operationName === 'string') record.operationName = operationName.slice(0, 100);
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: method.toUpperCase(), headers, search, body },
      context: () => contextFor(req, record),
    });
    await send(res, response);
  }

  async function route(req: IncomingMessage, res: ServerResponse, record: RequestRecord): Promise<void> {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const method = req.method ?? 'GET';

    if (path === '/graphql') {
      if (applyCors(config.http.cors, req, res)) return;
      if (method !== 'GET' && method !== 'POST') {
        sendError(res, 405, 'BAD_REQUEST', `${method} is not supported on /graphql; use POST (or GET for queries).`, { allow: 'GET, POST, OPTIONS' });
        return;
      }
      await graphql(req, res, queryAt === -1 ? '' : url.slice(queryAt), record);
      return;
    }
    if (method === 'GET' || method === 'HEAD') {
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (path === '/readyz') {
        const readiness = await checkReadiness(deps);
        return sendJson(res, readiness.ready ? 200 : 503, readiness);
      }
      if (devIssuer?.handle(req, res, path)) return;
    }
    sendError(res, 404, 'NOT_FOUND', `Nothing at ${method} ${path}. The GraphQL endpoint is /graphql.`);
  }

  return (req, res) => {
    const started = performance.now();
    const forwardedId = req.headers['x-request-id'];
    const record: RequestRecord = {
      requestId: typeof forwardedId === 'string' && REQUEST_ID.test(forwardedId) ? forwardedId : randomUUID(),
    };
    res.setHeader('x-request-id', record.requestId);
    res.once('finish', () => logRequest(logger, req, res, record, performance.now() - started));

    route(req, res, record).catch((error: unknown) => {
      if (error instanceof HttpError) {
        sendError(res, error.status, error.code, error.message, error.status === 413 ? { connection: 'close' } : {});
        return;
      }
      logger.error({ err: error, requestId: record.requestId }, 'request failed');
      if (res.headersSent) res.destroy();
      else sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    });
  };
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

function logRequest(logger: Logger, req: IncomingMessage, res: ServerResponse, record: RequestRecord, durationMs: number): void {
  const failure = record.authFailure;
  const line = {
    requestId: record.requestId,
    method: req.method,
    path: req.url?.split('?', 1)[0],
    status: res.statusCode,
    durationMs: Math.round(durationMs * 100) / 100,
    operationName: record.operationName,
    viewerId: record.viewerId,
    ...(failure ? { authFailure: failure.failure, authReason: failure.description } : {}),
  };
  if (failure?.failure === 'provider_unavailable') logger.warn(line, 'request: auth provider unavailable');
  else logger.info(line, 'request');
}
