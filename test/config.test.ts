import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { editDistance, VARIABLES } from '../src/env-variables.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('zero configuration -> development, dev issuer, embedded in-memory database, documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      isProduction: false,
      http: { host: '0.0.0.0', port: 4000, bodyLimitBytes: 102_400 },
      auth: { issuer: null, audience: null, clientIds: null, typ: 'at+jwt', clockToleranceSeconds: 30, reauthMaxAgeSeconds: 300 },
      database: { url: null, pgliteDataDir: null },
      graphql: { introspection: true },
      logLevel: 'info',
    });
    expect(Object.isFrozen(config.auth)).toBe(true);
  });

  it('strips trailing slashes from AUTHGEAR_ENDPOINT (Authgear iss has none)', () => {
    expect(loadConfig({ AUTHGEAR_ENDPOINT: 'https://myapp.authgear.cloud/' }).auth.issuer).toBe('https://myapp.authgear.cloud');
    expect(loadConfig({ AUTHGEAR_ENDPOINT: 'https://auth.example.com//' }).auth.issuer).toBe('https://auth.example.com');
  });

  it('refuses an http:// issuer unless its host is loopback', () => {
    expect(problemsOf({ AUTHGEAR_ENDPOINT: 'http://myapp.authgear.cloud' })).toEqual([
      'AUTHGEAR_ENDPOINT: must use https:// (http:// is allowed only for loopback hosts), got "http://myapp.authgear.cloud", e.g. AUTHGEAR_ENDPOINT=https://myapp.authgear.cloud',
    ]);
    for (const loopback of ['http://localhost:3100', 'http://127.0.0.1:3100', 'http://[::1]:3100']) {
      expect(loadConfig({ AUTHGEAR_ENDPOINT: loopback }).auth.issuer).toBe(loopback);
    }
  });

  it('refuses an endpoint that is not a URL, or carries credentials or a query', () => {
    expect(problemsOf({ AUTHGEAR_ENDPOINT: 'myapp.authgear.cloud' })[0]).toMatch(/^AUTHGEAR_ENDPOINT: must be an absolute URL/);
    expect(problemsOf({ AUTHGEAR_ENDPOINT: 'https://u:p@myapp.authgear.cloud' })[0]).toMatch(/credentials/);
    expect(problemsOf({ AUTHGEAR_ENDPOINT: 'https://myapp.authgear.cloud?x=1' })[0]).toMatch(/query/);
  });

  it('production without AUTHGEAR_ENDPOINT is refused: the dev issuer cannot be enabled there', () => {
    const problems = problemsOf({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/app' });
    expect(problems).toEqual([
      'AUTHGEAR_ENDPOINT: is required when NODE_ENV=production (the embedded dev issuer is for development only), e.g. AUTHGEAR_ENDPOINT=https://myapp.authgear.cloud',
    ]);
  });

  it('production without a durable database is refused, naming both ways out: DATABASE_URL or PGLITE_DATA_DIR', () => {
    const problems = problemsOf({ NODE_ENV: 'production', AUTHGEAR_ENDPOINT: 'https://myapp.authgear.cloud' });
    expect(problems).toEqual([
      'DATABASE_URL: is required when NODE_ENV=production, unless PGLITE_DATA_DIR keeps the embedded database in a folder (in memory it loses all its data on restart), e.g. DATABASE_URL=postgres://app:secret@db:5432/app',
    ]);
    const embedded = loadConfig({ NODE_ENV: 'production', AUTHGEAR_ENDPOINT: 'https://myapp.authgear.cloud', PGLITE_DATA_DIR: './.data' });
    expect(embedded.database.pgliteDataDir).toBe('./.data');
  });

  it('production defaults: introspection off, no CORS origins', () => {
    const config = loadConfig({ NODE_ENV: 'production', AUTHGEAR_ENDPOINT: 'https://a.authgear.cloud', DATABASE_URL: 'postgres://db/app' });
    expect(config.graphql.introspection).toBe(false);
    expect(config.http.cors).toEqual({ anyOrigin: false, anyLoopbackOrigin: false, origins: [] });
    expect(loadConfig({ NODE_ENV: 'production', AUTHGEAR_ENDPOINT: 'https://a.authgear.cloud', DATABASE_URL: 'postgres://db/app', INTROSPECTION: 'on' }).graphql.introspection).toBe(true);
  });

  it('reports every bad variable at once, one line each naming the variable and an example', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      JWT_CLOCK_TOLERANCE: '-5',
      DATABASE_URL: 'mysql://db/app',
      LOG_LEVEL: 'loud',
      CORS_ORIGINS: 'https://ok.example, not a url, https://x.example/path',
      INTROSPECTION: 'maybe',
      AUTHGEAR_CLIENT_ID: 'a,,b',
      NODE_ENV: 'staging',
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'NODE_ENV',
      'AUTHGEAR_CLIENT_ID',
      'DATABASE_URL',
      'LOG_LEVEL',
      'PORT',
      'CORS_ORIGINS',
      'CORS_ORIGINS',
      'JWT_CLOCK_TOLERANCE',
      'INTROSPECTION',
    ]);
    for (const problem of problems) expect(problem).toMatch(/, e\.g\. [A-Z_]+=\S+/);
  });

  it('parses the client allowlist, JWT_TYP=any and CORS_ORIGINS', () => {
    const config = loadConfig({ AUTHGEAR_CLIENT_ID: ' web , ios ', JWT_TYP: 'any', CORS_ORIGINS: 'https://app.example.com, http://localhost:3000/' });
    expect(config.auth.clientIds).toEqual(['web', 'ios']);
    expect(config.auth.typ).toBeNull();
    expect(config.http.cors.origins).toEqual(['https://app.example.com', 'http://localhost:3000']);
    expect(loadConfig({ CORS_ORIGINS: '*' }).http.cors.anyOrigin).toBe(true);
  });

  it('TRUSTED_PROXIES takes IPs and CIDRs, v4 and v6; anything else is one line each', () => {
    expect(loadConfig({}).http.trustedProxies).toEqual([]);
    expect(loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.10,fd00::/8, ::1, loopback' }).http.trustedProxies).toEqual([
      '10.0.0.0/8',
      '192.168.1.10',
      'fd00::/8',
      '::1',
      'loopback',
    ]);
    const problems = problemsOf({ TRUSTED_PROXIES: '10.0.0.0/33,nginx.internal,,1.2.3' });
    expect(problems).toEqual([
      'TRUSTED_PROXIES: "10.0.0.0/33" is not an IP address or CIDR range, e.g. TRUSTED_PROXIES=10.0.0.0/8,192.168.1.10,fd00::/8',
      'TRUSTED_PROXIES: "nginx.internal" is not an IP address or CIDR range, e.g. TRUSTED_PROXIES=10.0.0.0/8,192.168.1.10,fd00::/8',
      'TRUSTED_PROXIES: "" is not an IP address or CIDR range, e.g. TRUSTED_PROXIES=10.0.0.0/8,192.168.1.10,fd00::/8',
      'TRUSTED_PROXIES: "1.2.3" is not an IP address or CIDR range, e.g. TRUSTED_PROXIES=10.0.0.0/8,192.168.1.10,fd00::/8',
    ]);
  });

  it('subscriptions: SUBSCRIPTION_MAX_LIFETIME 1800 s, 20 operations per connection, 10 connections per viewer; nonsense is one line each', () => {
    expect(loadConfig({}).realtime).toEqual({ maxLifetimeSeconds: 1800, maxSubscriptionsPerConnection: 20, maxConnectionsPerViewer: 10 });
    expect(loadConfig({ SUBSCRIPTION_MAX_LIFETIME: '60', SUBSCRIPTION_MAX_PER_CONNECTION: '5', SUBSCRIPTION_MAX_CONNECTIONS_PER_VIEWER: '5000' }).realtime).toEqual({
      maxLifetimeSeconds: 60,
      maxSubscriptionsPerConnection: 5,
      maxConnectionsPerViewer: 5000,
    });
    expect(problemsOf({ SUBSCRIPTION_MAX_LIFETIME: '0', SUBSCRIPTION_MAX_PER_CONNECTION: 'many' })).toEqual([
      'SUBSCRIPTION_MAX_LIFETIME: must be a whole number from 1 to 604800, got "0", e.g. SUBSCRIPTION_MAX_LIFETIME=1800',
      'SUBSCRIPTION_MAX_PER_CONNECTION: must be a whole number from 1 to 1000, got "many", e.g. SUBSCRIPTION_MAX_PER_CONNECTION=20',
    ]);
  });

  it('limits: 10000 points and 60 refused credentials per 60 s in memory, 16 operations at once, 10 MB responses by default; 0 turns each off; nonsense is one line each', () => {
    expect(loadConfig({}).limits).toEqual({ budget: { points: 10_000, windowSeconds: 60 }, authFailures: { limit: 60, windowSeconds: 60 }, store: 'memory', concurrency: 16 });
    expect(loadConfig({ RATE_LIMIT_POINTS: '0', AUTH_FAILURE_LIMIT: '0', RATE_LIMIT_CONCURRENCY: '0' }).limits).toMatchObject({ budget: null, authFailures: null, concurrency: null });
    expect(loadConfig({}).graphql.limits.maxResponseBytes).toBe(10 * 1024 * 1024);
    expect(loadConfig({ RATE_LIMIT_STORE: 'postgres', DATABASE_URL: 'postgres://db/app', RATE_LIMIT_WINDOW: '10' }).limits).toMatchObject({
      store: 'postgres',
      budget: { windowSeconds: 10 },
    });
    expect(problemsOf({ RATE_LIMIT_STORE: 'postgres', RATE_LIMIT_POINTS: '-1', RATE_LIMIT_WINDOW: '0' })).toEqual([
      'RATE_LIMIT_WINDOW: must be a whole number from 1 to 86400, got "0", e.g. RATE_LIMIT_WINDOW=60',
      'RATE_LIMIT_POINTS: must be a whole number from 0 to 1000000000, got "-1", e.g. RATE_LIMIT_POINTS=10000',
      'RATE_LIMIT_STORE: postgres needs DATABASE_URL (the embedded database is not shared between replicas), e.g. RATE_LIMIT_STORE=memory',
    ]);
    expect(problemsOf({ RATE_LIMIT_STORE: 'redis' })).toEqual(['RATE_LIMIT_STORE: must be memory or postgres, got "redis", e.g. RATE_LIMIT_STORE=postgres']);
  });

  it('METRICS_PORT: unset -> the main port, a port, or off; LOG_FORMAT: pretty only by default at a development terminal', () => {
    expect(loadConfig({}).metricsPort).toBeNull();
    expect(loadConfig({ METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(loadConfig({ METRICS_PORT: 'OFF' }).metricsPort).toBe('off');
    expect(problemsOf({ METRICS_PORT: 'yes' })).toEqual(['METRICS_PORT: must be a whole number from 0 to 65535, got "yes", e.g. METRICS_PORT=9464']);
    expect(problemsOf({ METRICS_PORT: '4000' })).toEqual(['METRICS_PORT: must differ from PORT (4000); unset it to serve /metrics on the main port, e.g. METRICS_PORT=9464']);
    expect(loadConfig({}).logFormat).toBe('json');
    expect(loadConfig({}, { terminal: true }).logFormat).toBe('pretty');
    expect(loadConfig({ NODE_ENV: 'test' }, { terminal: true }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'json' }, { terminal: true }).logFormat).toBe('json');
    expect(problemsOf({ LOG_FORMAT: 'xml' })).toEqual(['LOG_FORMAT: must be json or pretty, got "xml", e.g. LOG_FORMAT=json']);
  });

  it('PROFILE_CACHE_TTL: 60 s by default, 0 keeps nothing, up to a day; nonsense is one line', () => {
    expect(loadConfig({}).profile).toEqual({ cacheTtlSeconds: 60 });
    expect(loadConfig({ PROFILE_CACHE_TTL: '0' }).profile).toEqual({ cacheTtlSeconds: 0 });
    expect(problemsOf({ PROFILE_CACHE_TTL: '1m' })).toEqual(['PROFILE_CACHE_TTL: must be a whole number from 0 to 86400, got "1m", e.g. PROFILE_CACHE_TTL=60']);
  });

  it('treats empty values as unset, as a copied .env.example leaves them', () => {
    expect(loadConfig({ AUTHGEAR_ENDPOINT: '', DATABASE_URL: ' ', PORT: '' }).auth.issuer).toBeNull();
  });
});

describe('variables this server does not read', () => {
  it('a misspelt variable with a starter prefix -> a warning naming the closest known one', () => {
    expect(loadConfig({ AUTHGEAR_ENDPIONT: 'https://myapp.authgear.cloud' }).warnings).toEqual([
      'AUTHGEAR_ENDPIONT is not a variable this server reads; did you mean AUTHGEAR_ENDPOINT?',
    ]);
    expect(loadConfig({ RATE_LIMIT_POINT: '5', SUBSCRIPTIONS_MAX_LIFETIME: '60', LOG_LEVL: 'debug' }).warnings).toEqual([
      'LOG_LEVL is not a variable this server reads; did you mean LOG_LEVEL?',
      'RATE_LIMIT_POINT is not a variable this server reads; did you mean RATE_LIMIT_POINTS?',
      'SUBSCRIPTIONS_MAX_LIFETIME is not a variable this server reads; did you mean SUBSCRIPTION_MAX_LIFETIME?',
    ]);
  });

  it('a prefixed name close to no known one -> a warning pointing at .env.example', () => {
    expect(loadConfig({ AUTHGEAR_TENANT: 'x' }).warnings).toEqual(['AUTHGEAR_TENANT is not a variable this server reads (see .env.example for the list)']);
  });

  it('one typo in the prefix itself (AUTHGAER_ENDPOINT) is caught too', () => {
    expect(loadConfig({ AUTHGAER_ENDPOINT: 'https://myapp.authgear.cloud' }).warnings).toEqual([
      'AUTHGAER_ENDPOINT is not a variable this server reads; did you mean AUTHGEAR_ENDPOINT?',
    ]);
  });

  it("every known variable, and other programs' variables, raise no warning", () => {
    const known = Object.fromEntries(VARIABLES.map((name) => [name, '']));
    const others = { PATH: '/usr/bin', HOME: '/root', HOSTNAME: 'vm', NODE_OPTIONS: '--max-old-space-size=512', NODE_EXTRA_CA_CERTS: '/ca.pem', TEST_DATABASE_URL: 'x', npm_config_cache: 'x', NODE: '/usr/bin/node' };
    expect(loadConfig({ ...known, ...others }).warnings).toEqual([]);
  });

  it('variables other helpers add (PROFILE_CACHE_TTL, AUTHGEAR_WEBHOOK_SECRET) are known', () => {
    expect(loadConfig({ PROFILE_CACHE_TTL: '60', AUTHGEAR_WEBHOOK_SECRET: 'secret' }).warnings).toEqual([]);
  });

  it('a refused configuration carries the warnings too: the typo is often why a variable is missing', () => {
    try {
      loadConfig({ NODE_ENV: 'production', AUTHGEAR_ENDPIONT: 'https://myapp.authgear.cloud', DATABASE_URL: 'postgres://db/app' });
      expect.unreachable('a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems[0]).toMatch(/^AUTHGEAR_ENDPOINT: is required/);
      expect((error as ConfigError).warnings).toEqual(['AUTHGEAR_ENDPIONT is not a variable this server reads; did you mean AUTHGEAR_ENDPOINT?']);
    }
  });

  it('edit distance counts a swap of two neighbours as one edit', () => {
    expect(editDistance('ENDPIONT', 'ENDPOINT')).toBe(1);
    expect(editDistance('PORT', 'PORTS')).toBe(1);
    expect(editDistance('', 'HOST')).toBe(4);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('documentation of the configuration', () => {
  it('every variable config.ts reads is in .env.example and in the table of docs/configuration.md', async () => {
    const { readFile } = await import('node:fs/promises');
    const source = await readFile(new URL('../src/config.ts', import.meta.url), 'utf8');
    const variables = [...source.matchAll(/(?:read|integer|boolean)\('([A-Z_]+)'/g)].map((match) => match[1]);
    expect(variables.length).toBeGreaterThan(15);
    const example = await readFile(new URL('../.env.example', import.meta.url), 'utf8');
    const table = await readFile(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    for (const variable of new Set(variables)) {
      expect(example, variable).toMatch(new RegExp(`^${variable}=$`, 'm'));
      expect(table, variable).toContain(`\`${variable}\``);
    }
  });
});
