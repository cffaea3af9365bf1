import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { DestinationStream } from 'pino';
import { createApollo, createFormatError, queryLimits } from './apollo.js';
import { createCredentials } from './auth/credentials.js';
import { DevIssuer, devIssuerUrl, loadOrCreateSigningKey, type SigningKey } from './auth/dev-issuer.js';
import { DevResolver } from './auth/dev-resolver.js';
import { createResolverClient } from './auth/resolver-client.js';
import { createVerifier, type VerifierOptions } from './auth/verifier.js';
import type { Config } from './config.js';
import { createAvailability } from './db/availability.js';
import type { Database } from './db/database.js';
import { migrate } from './db/migrations.js';
import { createNoteRepository } from './db/notes.js';
import { openDatabase } from './db/open.js';
import { createApp, type DevRoutes } from './http/app.js';
import { createClientAddresses } from './http/client-address.js';
import { createMetricsServer } from './http/metrics-endpoint.js';
import { refuseUpgrade, sendError } from './http/respond.js';
import { createLimits, type Limits } from './limits/index.js';
import { limitsPlugin } from './limits/plugin.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createNoteEvents } from './realtime/note-events.js';
import { publishingChanges } from './realtime/publish-changes.js';
import { createRealtime, DEFAULT_REALTIME_LIMITS, type RealtimeLimits, type RealtimeStats } from './realtime/ws-server.js';
import { buildSchema } from './schema.js';

export type ServerDeps = Readonly<{
  /** An open database to use instead of the configured one; the server will not close it. */
  database?: Database;
  logDestination?: DestinationStream;
  /** The dev issuer's signing key, instead of the key file in DEV_ISSUER_DIR. */
  devIssuerKey?: SigningKey;
  /** Timeouts, cooldowns and cache sizes of the token verifier. */
  verifier?: Omit<VerifierOptions, 'issuer' | 'audience' | 'apiResource' | 'clientIds' | 'typ' | 'clockToleranceSeconds'>;
  /** How long stop() lets in-flight requests finish. */
  stopGracePeriodMs?: number;
  /** Bounds of WebSocket connections, instead of the configured and default ones. */
  realtime?: Partial<RealtimeLimits>;
  /** How long the API waits for Authgear's resolver when it asks it itself (a WebSocket's connection_init token). */
  resolverTimeoutMs?: number;
}>;

export type RunningServer = Readonly<{
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql */
  url: string;
  origin: string;
  /** The issuer whose tokens are accepted. */
  issuer: string;
  /** The embedded dev issuer, when AUTHGEAR_ENDPOINT is unset. */
  devIssuer: DevIssuer | null;
  /** Its stand-in for Authgear's /_resolver/resolve, which can revoke sessions and disable users. */
  devResolver: DevResolver | null;
  /** A ready dev token (admin, verified) for the start-up banner and Sandbox. */
  devToken: string | null;
  logger: Logger;
  /** Where /metrics is served: on this server's origin (loopback clients only) or METRICS_PORT; null when off. */
  metricsUrl: string | null;
  /** The WebSocket side: how many connections and event streams are open. */
  realtime: Readonly<{ stats(): RealtimeStats }>;
  /** Closes WebSockets (1001), stops accepting connections, lets in-flight requests finish, closes the database. */
  stop(): Promise<void>;
}>;

const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

export const DEV_USER = { sub: 'dev-admin', roles: ['admin'], verified: true, ttlSeconds: 24 * 3600 } as const;

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server | null): Promise<void> {
  return new Promise((resolve) => (server === null ? resolve() : server.close(() => resolve())));
}

/**
 * Builds and starts the whole API: database, token verifier, schema with
 * permissions, Apollo, and the HTTP server. No globals: tests start as many
 * as they like on port 0.
 */
export async function createServer(config: Config, deps: ServerDeps = {}): Promise<RunningServer> {
  const logger = createLogger(config.logLevel, config.logFormat, deps.logDestination);
  const metrics = config.metricsPort === 'off' ? null : createMetrics();
  let limits: Limits | null = null;
  let metricsServer: Server | null = null;
  const availability = createAvailability(logger);
  const opened = deps.database ?? (await openDatabase(config.database, availability.lost));
  const closeDatabase = () => (deps.database ? Promise.resolve() : opened.close());
  // Requests (resolvers, rules, /readyz) see an outage as SERVICE_UNAVAILABLE;
  // start-up (migrations) sees the driver's own error.
  const database = availability.guard(opened);
  let stopEvents = () => Promise.resolve();

  // The dev issuer's URL contains the port, known only once listening;
  // until the app is ready every request gets a 503.
  let app = (_req: IncomingMessage, res: ServerResponse) =>
    sendError(res, 503, 'SERVICE_UNAVAILABLE', 'The server is starting; retry in a moment.', { 'retry-after': '1' });
  let upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void = (_req, socket) =>
    refuseUpgrade(socket, 503, 'SERVICE_UNAVAILABLE', 'The server is starting; retry in a moment.', { 'retry-after': '1' });
  const httpServer = createHttpServer((req, res) => app(req, res));
  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => upgrade(req, socket, head));
  try {
    const applied = await migrate(opened);
    if (applied.length > 0) logger.info({ versions: applied }, 'applied database migrations');
    const storedNotes = createNoteRepository(database);
    const events = createNoteEvents({ database, notes: storedNotes, logger });
    await events.start();
    stopEvents = () => events.stop();
    const notes = publishingChanges(storedNotes, events);
    const port = await listen(httpServer, config.http.port, config.http.host);

    const devIssuer =
      config.auth.issuer === null
        ? new DevIssuer(devIssuerUrl(config.http.host, port), [deps.devIssuerKey ?? (await loadOrCreateSigningKey(config.devIssuerKeyDir))])
        : null;
    const issuer = config.auth.issuer ?? (devIssuer as DevIssuer).issuer;
    const devToken = devIssuer === null ? null : await devIssuer.mint(DEV_USER);
    const devResolver = devIssuer === null ? null : new DevResolver(devIssuer);
    const dev: DevRoutes | null =
      devIssuer === null || devResolver === null
        ? null
        : { handle: async (req, res, path, fromLoopback) => devIssuer.handle(req, res, path) || devResolver.handle(req, res, path, fromLoopback) };

    const verifier = createVerifier({ ...deps.verifier, ...config.auth, issuer, ...(metrics === null ? {} : { counters: metrics }) });
    const schema = buildSchema({
      serverInfo: {
        name: PACKAGE.name,
        version: PACKAGE.version,
        issuer,
        devIssuer: devIssuer !== null,
        reauthMaxAgeSeconds: config.auth.reauthMaxAgeSeconds,
      },
      reauthMaxAgeSeconds: config.auth.reauthMaxAgeSeconds,
    });
    limits = await createLimits({ config, schema, logger, metrics });
    const apollo = createApollo({ config, schema, logger, sandboxToken: devToken, plugins: [limitsPlugin(limits, metrics)] });
    apollo.addPlugin(ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: deps.stopGracePeriodMs ?? 10_000 }));
    await apollo.start();
    // Behind forward authentication, the resolver is asked about what the proxy could not see.
    const resolver = config.http.trustedProxies.length === 0 ? null : createResolverClient({ issuer, timeoutMs: deps.resolverTimeoutMs ?? 2000 });
    const credentials = createCredentials(verifier, resolver);
    const clientAddresses = createClientAddresses(config.http.trustedProxies);
    const metricsOnMainPort = metrics !== null && config.metricsPort === null;
    app = createApp({ config, apollo, verifier, credentials, clientAddresses, database, notes, dev, limits, metrics, metricsOnMainPort, logger });
    if (metrics !== null && typeof config.metricsPort === 'number') {
      metricsServer = createMetricsServer(metrics);
      await listen(metricsServer, config.metricsPort, config.http.host);
    }
    const realtime = createRealtime({
      config,
      schema,
      validationRules: queryLimits(config).validationRules,
      formatError: createFormatError(config.isProduction),
      credentials,
      clientAddresses,
      notes,
      events,
      admission: limits,
      authentications: metrics?.authentications ?? null,
      logger,
      limits: {
        ...DEFAULT_REALTIME_LIMITS,
        maxSubscriptionsPerConnection: config.realtime.maxSubscriptionsPerConnection,
        maxConnectionsPerViewer: config.realtime.maxConnectionsPerViewer,
        ...deps.realtime,
      },
    });
    upgrade = realtime.handleUpgrade;

    // Fetch the issuer's keys now, so a misconfigured AUTHGEAR_ENDPOINT shows up at start.
    verifier.warm().then(
      () => logger.info({ issuer }, 'fetched the issuer signing keys'),
      (error: unknown) => logger.warn({ issuer, reason: (error as Error).message }, 'cannot fetch the issuer signing keys yet'),
    );

    const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? 'localhost' : config.http.host;
    const address = (listening: number) => `http://${host.includes(':') ? `[${host}]` : host}:${listening}`;
    const origin = address(port);
    const metricsPort = metricsServer === null ? null : (metricsServer.address() as AddressInfo).port;
    const metricsUrl = metricsPort !== null ? `${address(metricsPort)}/metrics` : metricsOnMainPort ? `${origin}/metrics` : null;
    logger.info({ url: `${origin}/graphql`, issuer, database: database.kind, nodeEnv: config.nodeEnv, metricsUrl }, 'server started');
    return {
      url: `${origin}/graphql`,
      origin,
      issuer,
      devIssuer,
      devResolver,
      devToken,
      logger,
      metricsUrl,
      realtime: { stats: realtime.stats },
      async stop() {
        // First: Apollo's drain would end upgraded sockets without a close frame.
        await realtime.close();
        await apollo.stop();
        await closeServer(metricsServer);
        await limits?.close();
        await events.stop();
        await closeDatabase();
        logger.info('server stopped');
      },
    };
  } catch (error) {
    httpServer.close();
    await closeServer(metricsServer);
    await limits?.close();
    await stopEvents();
    await closeDatabase();
    throw error;
  }
}
