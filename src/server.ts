import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { DestinationStream } from 'pino';
import { createApollo, createFormatError, queryLimits } from './apollo.js';
import { createCredentials } from './auth/credentials.js';
import { DevIssuer, devIssuerUrl, loadOrCreateSigningKey, type SigningKey } from './auth/dev-issuer.js';
import { DevResolver, type UserChange } from './auth/dev-resolver.js';
import { DEV_TOKENS_PATH, handleDevTokenRequest } from './auth/dev-tokens.js';
import { createProfiles, type Profiles } from './auth/profiles.js';
import { createUserInfoClient } from './auth/userinfo.js';
import { createResolverClient } from './auth/resolver-client.js';
import { createVerifier, type VerifierOptions } from './auth/verifier.js';
import type { Config } from './config.js';
import { createAvailability } from './db/availability.js';
import type { Database } from './db/database.js';
import { migrate } from './db/migrations.js';
import { openDatabase } from './db/open.js';
import { createApp, type DevRoutes, type Route } from './http/app.js';
import { createClientAddresses } from './http/client-address.js';
import { createRefusedOriginLog } from './http/cors.js';
import { listen } from './http/listen.js';
import { createMetricsServer } from './http/metrics-endpoint.js';
import { refuseUpgrade, sendError } from './http/respond.js';
import { createDevWebhookSender, type DevLifecycleEvent } from './lifecycle/dev-sender.js';
import { LIFECYCLE_MIGRATIONS } from './lifecycle/migrations.js';
import { createUserStates } from './lifecycle/states.js';
import { createWebhook, WEBHOOK_PATH } from './lifecycle/webhook.js';
import { createLimits, type Limits } from './limits/index.js';
import { limitsPlugin } from './limits/plugin.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { eraseUserIn, migrationsOf, type Module, type ModuleSetup } from './module.js';
import { modules as defaultModules } from './modules/index.js';
import { createEventBus } from './realtime/events.js';
import { createRealtime, DEFAULT_REALTIME_LIMITS, type RealtimeLimits, type RealtimeStats } from './realtime/ws-server.js';
import { buildSchema } from './schema.js';

export type ServerDeps = Readonly<{
  /** An open database to use instead of the configured one; the server will not close it. */
  database?: Database;
  logDestination?: DestinationStream;
  /** The dev issuer's signing key, instead of the key file in DEV_ISSUER_DIR. */
  devIssuerKey?: SigningKey;
  /** Timeouts, cooldowns and cache sizes of the token verifier. */
  verifier?: Omit<VerifierOptions, 'issuer' | 'devIssuer' | 'audience' | 'apiResource' | 'clientIds' | 'typ' | 'clockToleranceSeconds'>;
  /** How long stop() lets in-flight requests finish. */
  stopGracePeriodMs?: number;
  /** How long a UserInfo call may take (default 2000 ms). */
  userinfoTimeoutMs?: number;
  /** Bounds of WebSocket connections, instead of the configured and default ones. */
  realtime?: Partial<RealtimeLimits>;
  /** How long the API waits for Authgear's resolver when it asks it itself (a WebSocket's connection_init token). */
  resolverTimeoutMs?: number;
  /** The modules to run instead of src/modules/index.ts's list (tests add one of their own). */
  modules?: readonly Module[];
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
  /** The viewer profiles' cache: webhooks drop a user's entry when their profile changes or they are removed. */
  profiles: Pick<Profiles, 'forget'>;
  /** The WebSocket side: how many connections and event streams are open. */
  realtime: Readonly<{ stats(): RealtimeStats }>;
  /** Closes WebSockets (1001), stops accepting connections, lets in-flight requests finish, closes the database. */
  stop(): Promise<void>;
}>;

const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

const DEV_WEBHOOK_EVENTS: Record<UserChange, DevLifecycleEvent> = { disable: 'user.disabled', enable: 'user.reenabled', delete: 'user.deleted' };

export const DEV_USER = {
  sub: 'dev-admin',
  roles: ['admin'],
  verified: true,
  ttlSeconds: 24 * 3600,
  // What the dev UserInfo endpoint answers for it: Viewer.profile in the Sandbox.
  userinfo: { email: 'dev-admin@example.com', email_verified: true, name: 'Dev Admin' },
} as const;

/** The dev issuer's routes: discovery and JWKS, the resolver and its controls, and browser sign-in tokens. */
function devRoutes(issuer: DevIssuer, resolver: DevResolver, clientId: string | undefined): DevRoutes {
  return {
    crossOriginPaths: new Set([DEV_TOKENS_PATH]),
    async handle(req, res, path, fromLoopback) {
      if (path !== DEV_TOKENS_PATH) return (await issuer.handle(req, res, path)) || resolver.handle(req, res, path, fromLoopback);
      await handleDevTokenRequest(issuer, clientId, { req, res, fromLoopback });
      return true;
    },
  };
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
  const modules = deps.modules ?? defaultModules;
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
    // Listen first: a port in use fails start-up before anything else happens or is logged.
    const port = await listen(httpServer, config.http.port, config.http.host, 'PORT');
    const applied = await migrate(opened, [LIFECYCLE_MIGRATIONS, ...migrationsOf(modules)]);
    if (applied.length > 0) logger.info({ migrations: applied }, 'applied database migrations');
    const events = createEventBus({ database, logger });
    const services = setUp(modules, { database, events, logger });
    const states = createUserStates({ database, logger });
    await events.start();
    await states.start();
    stopEvents = async () => {
      await events.stop();
      await states.stop();
    };

    const devIssuer =
      config.auth.issuer === null
        ? new DevIssuer(devIssuerUrl(config.http.host, port), [deps.devIssuerKey ?? (await loadOrCreateSigningKey(config.devIssuerKeyDir))])
        : null;
    const issuer = config.auth.issuer ?? (devIssuer as DevIssuer).issuer;
    const devToken = devIssuer === null ? null : await devIssuer.mint(DEV_USER);
    // With the dev issuer and no AUTHGEAR_WEBHOOK_SECRET, a secret only this process knows: its dev controls sign with it.
    const webhookSecret = config.webhookSecret ?? (devIssuer === null ? null : randomBytes(32).toString('base64url'));
    let devResolver: DevResolver | null = null;
    if (devIssuer !== null && webhookSecret !== null) {
      const sendWebhook = createDevWebhookSender(`${devIssuer.issuer}${WEBHOOK_PATH}`, webhookSecret);
      devResolver = new DevResolver(devIssuer, (change, userId) => sendWebhook(DEV_WEBHOOK_EVENTS[change], userId));
    }
    const dev = devIssuer === null || devResolver === null ? null : devRoutes(devIssuer, devResolver, config.auth.clientIds?.[0]);
    const refusedOrigin = createRefusedOriginLog(logger);

    const verifier = createVerifier({
      ...deps.verifier,
      ...config.auth,
      issuer,
      devIssuer: devIssuer !== null,
      ...(metrics === null ? {} : { counters: metrics }),
    });
    const profiles = createProfiles({
      userinfo: createUserInfoClient({
        endpoint: async () => (await verifier.provider()).userinfoEndpoint,
        timeoutMs: deps.userinfoTimeoutMs ?? 2000,
        ...(metrics === null ? {} : { fetches: metrics.issuerFetches }),
      }),
      cacheTtlSeconds: config.profile.cacheTtlSeconds,
      logger,
    });
    const schema = buildSchema(modules, { config, server: { name: PACKAGE.name, version: PACKAGE.version, issuer, devIssuer: devIssuer !== null } });
    limits = await createLimits({ config, schema, logger, metrics });
    const sandboxDocument = modules.flatMap((module) => (module.examples === undefined ? [] : [module.examples.trim()])).join('\n\n');
    const apollo = createApollo({ config, schema, logger, sandboxToken: devToken, sandboxDocument, plugins: [limitsPlugin(limits, metrics)] });
    apollo.addPlugin(ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: deps.stopGracePeriodMs ?? 10_000 }));
    await apollo.start();
    // Behind forward authentication, the resolver is asked about what the proxy could not see.
    const resolver = config.http.trustedProxies.length === 0 ? null : createResolverClient({ issuer, timeoutMs: deps.resolverTimeoutMs ?? 2000 });
    const credentials = createCredentials(verifier, states, resolver);
    const routes = new Map<string, Route>();
    if (webhookSecret !== null) {
      const webhook = createWebhook({
        secret: webhookSecret,
        database,
        states,
        eraseUser: (tx, userId) => eraseUserIn(tx, modules, userId),
        bodyLimitBytes: config.http.bodyLimitBytes,
        metrics,
        logger,
      });
      routes.set(WEBHOOK_PATH, webhook.handle);
    }
    const clientAddresses = createClientAddresses(config.http.trustedProxies);
    const metricsOnMainPort = metrics !== null && config.metricsPort === null;
    app = createApp({ config, apollo, verifier, credentials, clientAddresses, database, services, profiles, dev, routes, limits, metrics, metricsOnMainPort, logger, refusedOrigin });
    if (metrics !== null && typeof config.metricsPort === 'number') {
      metricsServer = createMetricsServer(metrics);
      await listen(metricsServer, config.metricsPort, config.http.host, 'METRICS_PORT');
    }
    const realtime = createRealtime({
      config,
      schema,
      validationRules: queryLimits(config).validationRules,
      formatError: createFormatError(config.isProduction),
      credentials,
      refusals: states,
      clientAddresses,
      services,
      profiles,
      events,
      admission: limits,
      authentications: metrics?.authentications ?? null,
      logger,
      refusedOrigin,
      limits: {
        ...DEFAULT_REALTIME_LIMITS,
        maxSubscriptionsPerConnection: config.realtime.maxSubscriptionsPerConnection,
        maxConnectionsPerViewer: config.realtime.maxConnectionsPerViewer,
        ...deps.realtime,
      },
    });
    upgrade = realtime.handleUpgrade;
    // A user disabled or deleted in Authgear loses their open subscriptions too, on every replica;
    // any change (a profile update, a removal) drops their cached profile.
    states.onChange((userId, refused) => {
      profiles.forget(userId);
      if (refused) realtime.closeRefused(userId);
    });

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
      profiles: { forget: profiles.forget },
      realtime: { stats: realtime.stats },
      async stop() {
        // First: Apollo's drain would end upgraded sockets without a close frame.
        await realtime.close();
        await apollo.stop();
        await closeServer(metricsServer);
        await limits?.close();
        await stopEvents();
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

/**
 * Each module's services, once per server, as one object that every
 * request's context is made from. Two modules offering a service of the
 * same name would shadow each other: that stops start-up.
 */
function setUp(modules: readonly Module[], deps: ModuleSetup): Readonly<Record<string, unknown>> {
  const services: Record<string, unknown> = {};
  const offeredBy = new Map<string, string>();
  for (const module of modules) {
    for (const [name, service] of Object.entries(module.setup?.(deps) ?? {})) {
      const other = offeredBy.get(name);
      if (other !== undefined) throw new Error(`Modules ${other} and ${module.name} both offer ctx.${name}: rename one.`);
      offeredBy.set(name, module.name);
      services[name] = service;
    }
  }
  return Object.freeze(services);
}
