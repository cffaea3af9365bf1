import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { execute, getOperationAST, OperationTypeNode, type GraphQLFormattedError, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { Context as ConnectionContext } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { Credentials, Refusals } from '../auth/credentials.js';
import { AuthError } from '../auth/errors.js';
import { principalKey, type Viewer } from '../auth/viewer.js';
import type { Config, CorsPolicy } from '../config.js';
import type { Profiles } from '../auth/profiles.js';
import type { BaseContext } from '../context.js';
import { coded } from '../errors.js';
import type { ClientAddresses } from '../http/client-address.js';
import { isAllowedOrigin, isSameOrigin, type RefusedOriginLog } from '../http/cors.js';
import { readHeaders } from '../http/headers.js';
import { refuseUpgrade } from '../http/respond.js';
import type { Limits } from '../limits/index.js';
import type { Logger } from '../logger.js';
import { authResult, type Metrics } from '../metrics.js';
import { Close, refusalClosing, type Closing } from './close-codes.js';
import { Connection } from './connection.js';
import { credentialDeadline } from './expiry.js';
import type { EventBus } from './events.js';
import { offeredByConnection } from './offered.js';
import { createErrorFormatter, createOperationPreparer } from './operation.js';

export type RealtimeLimits = Readonly<{
  /** Operations (subscriptions, mostly) running at once on one connection; the one over gets an `error`. */
  maxSubscriptionsPerConnection: number;
  /** Open connections of one viewer (a guest: of one client address); the one over is closed with 1008. */
  maxConnectionsPerViewer: number;
  /** How long a new socket may take to send connection_init (graphql-ws closes it with 4408). */
  connectionInitTimeoutMs: number;
  /** Bytes of events a connection may have waiting (queued, or buffered in the socket) before it is closed with 1008. */
  maxBufferedBytes: number;
  /** How long stop() waits for clients to answer the 1001 close before it drops them. */
  closeGraceMs: number;
}>;

export const DEFAULT_REALTIME_LIMITS = { connectionInitTimeoutMs: 3000, maxBufferedBytes: 1024 * 1024, closeGraceMs: 2000 } as const;

export type RealtimeDeps = Readonly<{
  config: Config;
  schema: GraphQLSchema;
  /** Apollo's query limits, applied to WebSocket operations as well. */
  validationRules: readonly ValidationRule[];
  formatError: (error: GraphQLFormattedError) => GraphQLFormattedError;
  credentials: Credentials;
  /** Users no credential may stand for any more: their open connections are closed when told (closeRefused). */
  refusals: Refusals;
  clientAddresses: ClientAddresses;
  /** Every module's services, added to each operation's context. */
  services: Readonly<Record<string, unknown>>;
  profiles: Profiles;
  events: EventBus;
  /** The same cost limit, budget and refused-credential throttle as over HTTP. */
  admission: Limits;
  authentications: Metrics['authentications'] | null;
  logger: Logger;
  /** Shared with HTTP: a browser origin refused on either is logged once. */
  refusedOrigin: RefusedOriginLog;
  limits: RealtimeLimits;
}>;

export type RealtimeStats = Readonly<{ connections: number; subscriptions: number }>;

export type Realtime = Readonly<{
  /** For the HTTP server's `upgrade` event: /graphql becomes a graphql-transport-ws connection, anything else a 404. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Refuses new connections, closes open ones with 1001 and drops those that do not answer within the grace period. */
  close(): Promise<void>;
  /** Authenticated connections and their running event streams. */
  stats(): RealtimeStats;
  /** Closes, with 4403 and the refusal's reason, every connection of this user that `refusals` now refuses. */
  closeRefused(userId: string): void;
}>;

const GOING_AWAY: Closing = { code: Close.goingAway, reason: 'The server is shutting down: reconnect.' };

/**
 * Browsers open a WebSocket to any site, with that site's cookies, and no
 * CORS check stops them, so the upgrade's Origin is checked here: the API's
 * own, or one CORS_ORIGINS allows. `*` admits any site with a token it holds
 * (as over HTTP), but not with the user's cookies: over HTTP browsers refuse
 * credentials with `*`, and behind forward authentication the proxy's
 * x-authgear-* headers on a browser's upgrade come from its cookies.
 */
function isAllowedUpgradeOrigin(cors: CorsPolicy, origin: string, host: string | undefined, forwarded: boolean): boolean {
  if (isSameOrigin(origin, host)) return true;
  if (cors.anyOrigin) return !forwarded;
  return isAllowedOrigin(cors, origin);
}

/**
 * GraphQL over WebSocket (graphql-ws, `graphql-transport-ws`) on the API's
 * own port and path, with exactly the protection of a query: the same
 * credentials (credentials.ts) read from connection_init and the upgrade
 * request, the same schema and shield, the same query limits and error
 * codes; plus what only a long-lived connection needs: it is closed when
 * its credential expires, and bounded in operations, connections per
 * viewer and unread bytes.
 */
export function createRealtime(deps: RealtimeDeps): Realtime {
  const { config, credentials, clientAddresses, services, profiles, events, admission, authentications, logger, limits } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.http.bodyLimitBytes, perMessageDeflate: false });
  const connections = new WeakMap<WebSocket, Connection>();
  const live = new Set<Connection>();
  const perViewer = new Map<string, number>();
  const prepare = createOperationPreparer({
    schema: deps.schema,
    validationRules: deps.validationRules,
    maxTokens: config.graphql.limits.maxTokens,
    introspection: config.graphql.introspection,
    isProduction: config.isProduction,
  });
  const format = createErrorFormatter({ formatError: deps.formatError, logger });
  // Contexts of subscriptions: their events are bounded by the topic and the connection's byte budget,
  // so the response-size cap (for queries and mutations) need not walk every event for every subscriber.
  const streaming = new WeakSet<object>();
  let closing = false;

  const connectionOf = (ctx: ConnectionContext<Record<string, unknown> | undefined, Extra>): Connection => {
    const connection = connections.get(ctx.extra.socket);
    if (connection === undefined) throw new Error('A WebSocket reached graphql-ws without passing handleUpgrade.');
    return connection;
  };

  function admit(connection: Connection, viewer: Viewer | null): boolean {
    const key = principalKey(viewer, connection.clientAddress);
    const open = perViewer.get(key) ?? 0;
    if (open >= limits.maxConnectionsPerViewer) {
      connection.close({
        code: Close.policyViolation,
        reason: `too many connections: this viewer already has ${open} open (at most ${limits.maxConnectionsPerViewer})`,
      });
      return false;
    }
    perViewer.set(key, open + 1);
    live.add(connection);
    const deadline = credentialDeadline(viewer, Date.now(), {
      clockToleranceSeconds: config.auth.clockToleranceSeconds,
      maxLifetimeSeconds: config.realtime.maxLifetimeSeconds,
    });
    connection.accept(viewer, deadline, events, () => {
      live.delete(connection);
      const left = (perViewer.get(key) ?? 1) - 1;
      if (left === 0) perViewer.delete(key);
      else perViewer.set(key, left);
    });
    return true;
  }

  const server = useServer<Record<string, unknown> | undefined>(
    {
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      async onConnect(ctx) {
        const connection = connectionOf(ctx);
        let viewer: Viewer | null;
        try {
          viewer = await credentials.viewerFor(offeredByConnection(connection.headers, connection.trustedPeer, ctx.connectionParams));
        } catch (error) {
          if (!(error instanceof AuthError)) throw error;
          authentications?.inc(authResult(error));
          await admission.authFailures?.record(connection.clientAddress, error);
          const line = { connectionId: connection.id, clientAddress: connection.clientAddress, authFailure: error.failure, authReason: error.reason, authDetail: error.description };
          if (error.failure === 'provider_unavailable' || error.failure === 'bad_forwarded_headers') logger.warn(line, 'websocket refused');
          else logger.info(line, 'websocket refused');
          connection.close(refusalClosing(error));
          return false;
        }
        authentications?.inc(authResult(viewer));
        // The client may have left while its credential was being checked.
        if (connection.socket.readyState !== WebSocket.OPEN || !admit(connection, viewer)) return false;
        logger.info(
          { connectionId: connection.id, clientAddress: connection.clientAddress, viewerId: viewer?.id, source: viewer?.source },
          'websocket connected',
        );
        return true;
      },
      async onSubscribe(ctx, id, payload) {
        const connection = connectionOf(ctx);
        if (Object.keys(ctx.subscriptions).length > limits.maxSubscriptionsPerConnection) {
          return [
            coded(
              `At most ${limits.maxSubscriptionsPerConnection} operations may run at once on one connection: complete one first.`,
              'QUERY_LIMIT_EXCEEDED',
              { limit: 'subscriptions' },
            ),
          ];
        }
        const prepared = prepare(payload);
        if (Array.isArray(prepared)) return prepared;
        // Priced and paid for from the viewer's budget, as over HTTP.
        const admitted = await admission.admit({
          document: prepared.document,
          operationName: prepared.operationName,
          variables: prepared.variableValues,
          viewer: connection.viewer,
          clientAddress: connection.clientAddress,
        });
        if (!admitted.admitted) return [admitted.error];
        connection.operations++;
        const requestId = `${connection.id}:${id.slice(0, 64)}`;
        logger.info({ requestId, operationName: prepared.operationName, viewerId: connection.viewer?.id }, 'websocket operation');
        const contextValue: BaseContext = {
          ...services,
          viewer: connection.viewer,
          requestId,
          clientAddress: connection.clientAddress,
          rateLimit: admitted.standing,
          profiles,
          // What onConnect authenticated with (it did not throw then): UserInfo is called with its token.
          credential: offeredByConnection(connection.headers, connection.trustedPeer, ctx.connectionParams),
          ...(connection.feed === null ? {} : { feed: connection.feed }),
        };
        if (getOperationAST(prepared.document, prepared.operationName)?.operation === OperationTypeNode.SUBSCRIPTION) streaming.add(contextValue);
        return { ...prepared, contextValue };
      },
      // Queries and mutations hold one of the viewer's concurrency slots while they run, as over HTTP;
      // subscriptions are bounded per connection instead.
      async execute(args) {
        const { viewer, clientAddress } = args.contextValue as BaseContext;
        const entry = admission.enter(viewer, clientAddress);
        if (!entry.entered) return { errors: [entry.error] };
        try {
          return await execute(args);
        } finally {
          entry.exit();
        }
      },
      onNext(_ctx, _id, _payload, args, result) {
        const { requestId } = args.contextValue as BaseContext;
        const oversized = streaming.has(args.contextValue as object) ? null : admission.oversized(result);
        if (oversized !== null) return { errors: format([oversized], requestId) };
        if (result.errors === undefined) return;
        return { ...result, errors: format(result.errors, requestId) };
      },
      onError(ctx, id, _payload, errors) {
        return format(errors, `${connectionOf(ctx).id}:${id.slice(0, 64)}`);
      },
      onClose(ctx, code) {
        const connection = connectionOf(ctx);
        connection.released();
        logger.info(
          {
            connectionId: connection.id,
            clientAddress: connection.clientAddress,
            viewerId: connection.viewer?.id,
            code,
            closedBy: connection.closing === null ? 'client' : 'server',
            reason: connection.closing?.reason,
            durationMs: Date.now() - connection.openedAt,
            operations: connection.operations,
          },
          'websocket closed',
        );
      },
      isProd: config.isProduction,
    },
    wss,
  );

  return {
    handleUpgrade(req, socket, head) {
      // A client that resets mid-handshake is nobody's error.
      socket.on('error', () => socket.destroy());
      const url = req.url ?? '/';
      const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
      if (path !== '/graphql') return refuseUpgrade(socket, 404, 'NOT_FOUND', 'Nothing to upgrade here: subscriptions are served at /graphql.');
      if (closing) return refuseUpgrade(socket, 503, 'SERVICE_UNAVAILABLE', 'The server is shutting down; reconnect in a moment.', { 'retry-after': '1' });
      const headers = readHeaders(req);
      const origin = headers.map.get('origin');
      if (origin !== undefined && !isAllowedUpgradeOrigin(config.http.cors, origin, headers.map.get('host'), headers.authgear.length > 0)) {
        deps.refusedOrigin(origin);
        return refuseUpgrade(socket, 403, 'FORBIDDEN', 'WebSocket connections from this origin are not allowed: add it to CORS_ORIGINS.');
      }
      const { trustedPeer, clientAddress } = clientAddresses.locate(req.socket.remoteAddress ?? '', headers.map.get('x-forwarded-for'));
      const throttled = admission.authFailureRefusal(clientAddress);
      if (throttled !== null) return refuseUpgrade(socket, throttled.status, 'RATE_LIMITED', throttled.error.message, Object.fromEntries(throttled.headers));
      wss.handleUpgrade(req, socket, head, (ws) => {
        connections.set(ws, new Connection(ws, headers, trustedPeer, clientAddress, limits.maxBufferedBytes));
        wss.emit('connection', ws, req);
      });
    },
    async close() {
      closing = true;
      const open = [...wss.clients];
      const closed = open.map((ws) => (ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise<void>((resolve) => ws.once('close', () => resolve()))));
      for (const ws of open) {
        const connection = connections.get(ws);
        if (connection === undefined) ws.close(GOING_AWAY.code, GOING_AWAY.reason);
        else connection.close(GOING_AWAY);
      }
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, limits.closeGraceMs);
      });
      await Promise.race([Promise.all(closed), grace]);
      clearTimeout(timer);
      for (const ws of open) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
      await Promise.all(closed);
      await server.dispose();
    },
    closeRefused(userId) {
      for (const connection of live) {
        const { viewer } = connection;
        if (viewer?.kind !== 'user' || viewer.id !== userId) continue;
        const refusal = deps.refusals.refusal(viewer);
        if (refusal !== null) connection.close(refusalClosing(refusal));
      }
    },
    stats() {
      let subscriptions = 0;
      for (const connection of live) subscriptions += connection.feed?.size ?? 0;
      return { connections: live.size, subscriptions };
    },
  };
}
