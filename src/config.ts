import { DEV_API_RESOURCE } from './auth/dev-issuer.js';
import { unknownVariableWarnings, type Variable } from './env-variables.js';
import { checkTrustedProxy } from './http/client-address.js';
import { isLoopbackHost } from './loopback.js';

export type NodeEnv = 'development' | 'test' | 'production';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type LogFormat = 'json' | 'pretty';

export type QueryLimits = Readonly<{
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  maxCost: number;
  /** Bytes one operation's result may take as JSON; a larger one is replaced by a QUERY_LIMIT_EXCEEDED error. */
  maxResponseBytes: number;
}>;

export type CorsPolicy = Readonly<{
  /** `CORS_ORIGINS=*`: any origin may call (safe for Bearer-only APIs: no ambient credentials). */
  anyOrigin: boolean;
  /** Development default: any http://localhost:* or http://127.0.0.1:* page. */
  anyLoopbackOrigin: boolean;
  origins: readonly string[];
}>;

export type AuthConfig = Readonly<{
  /** The issuer URL without a trailing slash; null selects the embedded dev issuer. */
  issuer: string | null;
  /** The audience the token's `aud` must contain; null means "the issuer" (Authgear user tokens). */
  audience: string | null;
  /** Audience of machine-to-machine tokens (an Authgear API resource URI); null: services are not accepted. */
  apiResource: string | null;
  /** Allowed `client_id` values; null accepts any app of the project. */
  clientIds: readonly string[] | null;
  /** Required JWT `typ` header; null skips the check. */
  typ: string | null;
  clockToleranceSeconds: number;
  reauthMaxAgeSeconds: number;
}>;

export type Config = Readonly<{
  nodeEnv: NodeEnv;
  isProduction: boolean;
  http: Readonly<{
    host: string;
    port: number;
    bodyLimitBytes: number;
    cors: CorsPolicy;
    /** Peers whose x-authgear-* and X-Forwarded-For headers are believed; empty: forward authentication off. */
    trustedProxies: readonly string[];
  }>;
  auth: AuthConfig;
  database: Readonly<{ url: string | null; pgliteDataDir: string | null }>;
  graphql: Readonly<{ introspection: boolean; limits: QueryLimits }>;
  realtime: Readonly<{
    /** Seconds a connection authenticated by the resolver (forward authentication) may stay open. */
    maxLifetimeSeconds: number;
    maxSubscriptionsPerConnection: number;
    maxConnectionsPerViewer: number;
  }>;
  limits: LimitsConfig;
  /** Seconds a user's UserInfo answer is kept (Viewer.profile); 0: not kept. */
  profile: Readonly<{ cacheTtlSeconds: number }>;
  /** Where /metrics is served: null on the main port (loopback clients only), a port of its own (anyone), or 'off'. */
  metricsPort: number | null | 'off';
  logLevel: LogLevel;
  /** One readable line per entry (pino-pretty), or JSON lines for log collectors. */
  logFormat: LogFormat;
  devIssuerKeyDir: string;
  /** AUTHGEAR_WEBHOOK_SECRET: the key Authgear signs webhook calls with; null turns /webhooks/authgear off (a random one with the dev issuer). */
  webhookSecret: string | null;
  /** Variables that look meant for this server but that it does not read, each with the closest name it does; for start-up to print. */
  warnings: readonly string[];
}>;

export type LimitsConfig = Readonly<{
  /** Query-cost points per viewer (a guest: per client address) per window; null when RATE_LIMIT_POINTS=0. */
  budget: Readonly<{ points: number; windowSeconds: number }> | null;
  /** Refused credentials one client address may send per window; null when AUTH_FAILURE_LIMIT=0. */
  authFailures: Readonly<{ limit: number; windowSeconds: number }> | null;
  /** memory: per process; postgres: shared by every replica through DATABASE_URL. */
  store: 'memory' | 'postgres';
  /** Operations one viewer (a guest: one client address) may have running at once, per process; null when RATE_LIMIT_CONCURRENCY=0. */
  concurrency: number | null;
}>;

export class ConfigError extends Error {
  constructor(
    readonly problems: readonly string[],
    /** As Config['warnings']: a misspelt name is often why a variable counts as missing. */
    readonly warnings: readonly string[] = [],
  ) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DEV_CORS_ORIGINS = ['https://studio.apollographql.com', 'https://sandbox.embed.apollographql.com'];

/**
 * Reads the environment once and returns a frozen, typed config. Every problem
 * is collected so a misconfigured deployment is fixed in one round trip.
 * `terminal`: stdout is a terminal, where development logs are made readable.
 */
export function loadConfig(env: Env, { terminal = false }: { terminal?: boolean } = {}): Config {
  const problems: string[] = [];
  const read = (name: Variable): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const fail = (name: Variable, problem: string, example: string): null => {
    problems.push(`${name}: ${problem}, e.g. ${name}=${example}`);
    return null;
  };
  const integer = (name: Variable, fallback: number, min: number, max: number, example: string): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
    fail(name, `must be a whole number from ${min} to ${max}, got "${raw}"`, example);
    return fallback;
  };
  const boolean = (name: Variable, fallback: boolean): boolean => {
    const raw = read(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', 'on', '1', 'yes'].includes(raw)) return true;
    if (['false', 'off', '0', 'no'].includes(raw)) return false;
    fail(name, `must be true or false, got "${raw}"`, String(fallback));
    return fallback;
  };

  const nodeEnvRaw = read('NODE_ENV') ?? 'development';
  let nodeEnv: NodeEnv = 'development';
  if (nodeEnvRaw === 'development' || nodeEnvRaw === 'test' || nodeEnvRaw === 'production') nodeEnv = nodeEnvRaw;
  else fail('NODE_ENV', `must be development, test or production, got "${nodeEnvRaw}"`, 'production');
  const isProduction = nodeEnv === 'production';

  const issuer = parseIssuer(read('AUTHGEAR_ENDPOINT'), isProduction, fail);

  const clientIdsRaw = read('AUTHGEAR_CLIENT_ID');
  let clientIds: string[] | null = null;
  if (clientIdsRaw !== undefined) {
    clientIds = clientIdsRaw.split(',').map((id) => id.trim());
    if (clientIds.some((id) => id === '')) {
      fail('AUTHGEAR_CLIENT_ID', 'must be a comma-separated list without empty entries', 'a1b2c3d4e5f6,0f9e8d7c6b5a');
      clientIds = null;
    }
  }

  const typRaw = read('JWT_TYP');
  const typ = typRaw === undefined ? 'at+jwt' : typRaw.toLowerCase() === 'any' ? null : typRaw;

  const databaseUrl = read('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^\s]+$/.test(databaseUrl)) {
    fail('DATABASE_URL', 'must be a postgres:// or postgresql:// URL (unset it for the embedded database)', 'postgres://app:secret@db:5432/app');
  }
  const pgliteDataDir = read('PGLITE_DATA_DIR') ?? null;
  if (databaseUrl !== undefined && pgliteDataDir !== null) {
    fail('PGLITE_DATA_DIR', 'cannot be combined with DATABASE_URL; set one of them', './.data');
  }
  if (isProduction && databaseUrl === undefined && pgliteDataDir === null) {
    fail(
      'DATABASE_URL',
      'is required when NODE_ENV=production, unless PGLITE_DATA_DIR keeps the embedded database in a folder (in memory it loses all its data on restart)',
      'postgres://app:secret@db:5432/app',
    );
  }

  const logLevelRaw = (read('LOG_LEVEL') ?? 'info').toLowerCase();
  const logLevel = LOG_LEVELS.find((level) => level === logLevelRaw);
  if (logLevel === undefined) fail('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevelRaw}"`, 'info');
  const logFormatRaw = read('LOG_FORMAT')?.toLowerCase();
  let logFormat: LogFormat = nodeEnv === 'development' && terminal ? 'pretty' : 'json';
  if (logFormatRaw === 'json' || logFormatRaw === 'pretty') logFormat = logFormatRaw;
  else if (logFormatRaw !== undefined) fail('LOG_FORMAT', `must be json or pretty, got "${logFormatRaw}"`, 'json');

  const windowSeconds = integer('RATE_LIMIT_WINDOW', 60, 1, 24 * 3600, '60');
  const points = integer('RATE_LIMIT_POINTS', 10_000, 0, 1_000_000_000, '10000');
  const authFailureLimit = integer('AUTH_FAILURE_LIMIT', 60, 0, 1_000_000, '60');
  const concurrency = integer('RATE_LIMIT_CONCURRENCY', 16, 0, 100_000, '16');
  const storeRaw = (read('RATE_LIMIT_STORE') ?? 'memory').toLowerCase();
  let store: LimitsConfig['store'] = 'memory';
  if (storeRaw === 'memory' || storeRaw === 'postgres') store = storeRaw;
  else fail('RATE_LIMIT_STORE', `must be memory or postgres, got "${storeRaw}"`, 'postgres');
  if (store === 'postgres' && databaseUrl === undefined) {
    fail('RATE_LIMIT_STORE', 'postgres needs DATABASE_URL (the embedded database is not shared between replicas)', 'memory');
  }
  const metricsPortRaw = read('METRICS_PORT');
  const metricsPort = metricsPortRaw?.toLowerCase() === 'off' ? 'off' : metricsPortRaw === undefined ? null : integer('METRICS_PORT', 9464, 0, 65535, '9464');
  const port = integer('PORT', 4000, 0, 65535, '4000');
  if (typeof metricsPort === 'number' && metricsPort !== 0 && metricsPort === port) {
    fail('METRICS_PORT', `must differ from PORT (${port}); unset it to serve /metrics on the main port`, '9464');
  }

  const config: Config = {
    nodeEnv,
    isProduction,
    http: {
      host: read('HOST') ?? '0.0.0.0',
      port,
      bodyLimitBytes: integer('BODY_LIMIT_BYTES', 100 * 1024, 1024, 50 * 1024 * 1024, '102400'),
      cors: parseCors(read('CORS_ORIGINS'), isProduction, fail),
      trustedProxies: parseTrustedProxies(read('TRUSTED_PROXIES'), fail),
    },
    auth: {
      issuer,
      audience: read('JWT_AUDIENCE') ?? null,
      apiResource: parseApiResource(read('AUTHGEAR_API_RESOURCE'), issuer === null, fail),
      clientIds,
      typ,
      clockToleranceSeconds: integer('JWT_CLOCK_TOLERANCE', 30, 0, 300, '30'),
      reauthMaxAgeSeconds: integer('REAUTH_MAX_AGE', 300, 1, 7 * 24 * 3600, '300'),
    },
    database: { url: databaseUrl ?? null, pgliteDataDir },
    graphql: {
      introspection: boolean('INTROSPECTION', !isProduction),
      limits: {
        maxDepth: integer('QUERY_MAX_DEPTH', 8, 1, 100, '8'),
        maxAliases: integer('QUERY_MAX_ALIASES', 15, 0, 1000, '15'),
        maxDirectives: integer('QUERY_MAX_DIRECTIVES', 20, 0, 1000, '20'),
        maxTokens: integer('QUERY_MAX_TOKENS', 1000, 10, 100_000, '1000'),
        maxCost: integer('QUERY_MAX_COST', 5000, 1, 1_000_000, '5000'),
        maxResponseBytes: integer('QUERY_MAX_RESPONSE_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024, '10485760'),
      },
    },
    realtime: {
      maxLifetimeSeconds: integer('SUBSCRIPTION_MAX_LIFETIME', 1800, 1, 7 * 24 * 3600, '1800'),
      maxSubscriptionsPerConnection: integer('SUBSCRIPTION_MAX_PER_CONNECTION', 20, 1, 1000, '20'),
      maxConnectionsPerViewer: integer('SUBSCRIPTION_MAX_CONNECTIONS_PER_VIEWER', 10, 1, 1_000_000, '10'),
    },
    limits: {
      budget: points === 0 ? null : { points, windowSeconds },
      authFailures: authFailureLimit === 0 ? null : { limit: authFailureLimit, windowSeconds },
      store,
      concurrency: concurrency === 0 ? null : concurrency,
    },
    profile: { cacheTtlSeconds: integer('PROFILE_CACHE_TTL', 60, 0, 24 * 3600, '60') },
    metricsPort,
    logLevel: logLevel ?? 'info',
    logFormat,
    devIssuerKeyDir: read('DEV_ISSUER_DIR') ?? '.dev-issuer',
    webhookSecret: read('AUTHGEAR_WEBHOOK_SECRET') ?? null,
    warnings: unknownVariableWarnings(env),
  };

  if (problems.length > 0) throw new ConfigError(problems, config.warnings);
  return deepFreeze(config);
}

type Fail = (name: Variable, problem: string, example: string) => null;

function parseIssuer(raw: string | undefined, isProduction: boolean, fail: Fail): string | null {
  const example = 'https://myapp.authgear.cloud';
  if (raw === undefined) {
    if (isProduction) {
      fail('AUTHGEAR_ENDPOINT', 'is required when NODE_ENV=production (the embedded dev issuer is for development only)', example);
    }
    return null;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('AUTHGEAR_ENDPOINT', `must be an absolute URL, got "${raw}"`, example);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return fail('AUTHGEAR_ENDPOINT', `must use https:// (http:// is allowed only for loopback hosts), got "${raw}"`, example);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return fail('AUTHGEAR_ENDPOINT', 'must not contain credentials, a query or a fragment', example);
  }
  // Authgear's `iss` has no trailing slash; a copied "https://x.authgear.cloud/" must still match it.
  return url.href.replace(/\/+$/, '');
}

function parseApiResource(raw: string | undefined, devIssuer: boolean, fail: Fail): string | null {
  if (raw === undefined) return devIssuer ? DEV_API_RESOURCE : null;
  if (!URL.canParse(raw)) return fail('AUTHGEAR_API_RESOURCE', `must be the API resource URI registered in Authgear, got "${raw}"`, 'https://api.example.com');
  return raw;
}

function parseCors(raw: string | undefined, isProduction: boolean, fail: Fail): CorsPolicy {
  if (raw === undefined) {
    return isProduction
      ? { anyOrigin: false, anyLoopbackOrigin: false, origins: [] }
      : { anyOrigin: false, anyLoopbackOrigin: true, origins: DEV_CORS_ORIGINS };
  }
  if (raw === '*') return { anyOrigin: true, anyLoopbackOrigin: false, origins: [] };
  const origins: string[] = [];
  for (const entry of raw.split(',').map((e) => e.trim())) {
    const origin = URL.canParse(entry) ? new URL(entry).origin : null;
    if (origin === null || origin === 'null' || origin !== entry.replace(/\/$/, '')) {
      fail('CORS_ORIGINS', `"${entry}" is not an origin (scheme://host[:port], no path)`, 'https://app.example.com,https://admin.example.com');
      continue;
    }
    origins.push(origin);
  }
  return { anyOrigin: false, anyLoopbackOrigin: false, origins };
}

function parseTrustedProxies(raw: string | undefined, fail: Fail): string[] {
  if (raw === undefined) return [];
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    try {
      if (entry === '') throw new TypeError('empty entry');
      checkTrustedProxy(entry);
    } catch {
      fail('TRUSTED_PROXIES', `"${entry}" is not an IP address or CIDR range`, '10.0.0.0/8,192.168.1.10,fd00::/8');
    }
  }
  return entries;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
