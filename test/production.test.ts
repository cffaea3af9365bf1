import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { codes, execute, show } from './helpers/graphql.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, testDatabase, type StartOptions, type TestServer } from './helpers/server.js';

// NODE_ENV=production needs a durable database in its config; the URL below
// only satisfies that check, the tests hand the server this file's PGlite.
const PRODUCTION = { NODE_ENV: 'production', DATABASE_URL: 'postgres://unused.invalid/app' };

let issuer: TestIssuer;
let server: TestServer;
let database: Database & { broken: boolean };

/** The shared test database, with a switch that makes every query fail like a lost connection. */
function breakable(db: Database): Database & { broken: boolean } {
  const wrapper = {
    broken: false,
    kind: db.kind,
    query<Row extends object>(sql: string, params?: readonly unknown[]) {
      if (wrapper.broken) return Promise.reject(new Error('connect ECONNREFUSED 10.1.2.3:5432 (password=hunter2)'));
      return db.query<Row>(sql, params);
    },
    transaction: db.transaction.bind(db),
    listen: db.listen.bind(db),
    notify: db.notify.bind(db),
    close: () => Promise.resolve(),
  };
  return wrapper;
}

async function whileDatabaseDown<T>(work: () => Promise<T>): Promise<T> {
  database.broken = true;
  try {
    return await work();
  } finally {
    database.broken = false;
  }
}

async function production(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestServer> {
  return startServer({ env: { ...PRODUCTION, AUTHGEAR_ENDPOINT: issuer.url, ...env }, deps: { database, ...options.deps } });
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  database = breakable(await testDatabase());
  server = await production();
});
afterAll(async () => {
  await server.stop();
  await issuer.close();
});

describe('NODE_ENV=production defaults', () => {
  it('refuses introspection', async () => {
    const response = await execute(server.url, '{ __schema { types { name } } }');
    expect(response.status).toBe(400);
    expect(codes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(response.body.errors?.[0]?.message).toMatch(/introspection/i);
  });

  it('INTROSPECTION=true turns it back on', async () => {
    const open = await production({ INTROSPECTION: 'true' });
    try {
      const response = await execute(open.url, '{ __schema { queryType { name } } }');
      expect(response.body, show(response)).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    } finally {
      await open.stop();
    }
  });

  it('serves no landing page', async () => {
    const response = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(response.headers.get('content-type')).not.toMatch(/html/);
    expect(await response.text()).not.toMatch(/<html|sandbox/i);
  });

  it('gives no field suggestions', async () => {
    const response = await execute(server.url, '{ serverInf { name } }');
    expect(codes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(response.text).not.toMatch(/Did you mean|serverInfo/);
  });

  it('sends no stack traces', async () => {
    for (const query of ['{ me { id } }', '{ nope }', '{ serverInfo {']) {
      const response = await execute(server.url, query, { token: 'garbage.token.here' });
      expect(response.text).not.toMatch(/stacktrace|at .*\.(js|ts):\d+/);
    }
  });

  it('masks an unexpected error as INTERNAL_SERVER_ERROR and logs it with the request id', async () => {
    const token = await issuer.mint({ sub: 'unlucky', verified: true });
    const response = await whileDatabaseDown(() => execute(server.url, '{ myNotes { id } }', { token }));
    expect(response.status).toBe(200);
    expect(response.body.errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    expect(response.text).not.toMatch(/ECONNREFUSED|hunter2|10\.1\.2\.3/);
    const requestId = response.headers.get('x-request-id');
    const logged = server.logs.find((line) => line['msg'] === 'unexpected error' && line['requestId'] === requestId);
    expect(logged, server.rawLogs()).toBeDefined();
    expect(JSON.stringify(logged)).toContain('ECONNREFUSED');
  });

  it('a database failure inside a rule is INTERNAL_SERVER_ERROR too, not a misleading FORBIDDEN', async () => {
    const token = await issuer.mint({ sub: 'unlucky', verified: true });
    const mutation = 'mutation { updateNote(id: "00000000-0000-4000-8000-000000000000", input: { title: "x" }) { id } }';
    const response = await whileDatabaseDown(() => execute(server.url, mutation, { token }));
    expect(codes(response)).toEqual(['INTERNAL_SERVER_ERROR']);
  });

  it('allows no cross-origin browser calls unless CORS_ORIGINS says so', async () => {
    const response = await execute(server.url, '{ serverInfo { name } }', { headers: { origin: 'http://localhost:3000' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('/readyz reports a failing database with 503', async () => {
    const response = await whileDatabaseDown(() => fetch(`${server.origin}/readyz`));
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ ready: false, checks: { database: 'failing', authProvider: 'ok' } });
  });
});

describe('query limits, checked before execution', () => {
  const fields = 'id title body ownerId createdAt updatedAt';

  it('accepts an ordinary query under the default limits', async () => {
    const token = await issuer.mint({ sub: 'limits', roles: ['admin'] });
    const response = await execute(server.url, `{ me { id roles } myNotes { ${fields} } allNotes { ${fields} } serverInfo { name } }`, { token });
    expect(response.status, show(response)).toBe(200);
    expect(response.body.errors).toBeUndefined();
  });

  it('more aliases than QUERY_MAX_ALIASES (15) -> 400 QUERY_LIMIT_EXCEEDED', async () => {
    const query = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: serverInfo { name }`).join(' ')} }`;
    const response = await execute(server.url, query);
    expect([response.status, codes(response)], show(response)).toEqual([400, ['QUERY_LIMIT_EXCEEDED']]);
    expect(response.body.errors?.[0]?.extensions?.['limit']).toBe('aliases');
  });

  it('more directives than QUERY_MAX_DIRECTIVES (20) -> 400 QUERY_LIMIT_EXCEEDED', async () => {
    const query = `{ serverInfo { ${'... @include(if: true) { name } '.repeat(21)} } }`;
    const response = await execute(server.url, query);
    expect([response.status, codes(response)], show(response)).toEqual([400, ['QUERY_LIMIT_EXCEEDED']]);
    expect(response.body.errors?.[0]?.extensions?.['limit']).toBe('directives');
  });

  it('more tokens than QUERY_MAX_TOKENS (1000) -> 400 GRAPHQL_PARSE_FAILED, before the document is built', async () => {
    const query = `{ serverInfo { ${'name '.repeat(1000)} } }`;
    const response = await execute(server.url, query);
    expect([response.status, codes(response)], show(response)).toEqual([400, ['GRAPHQL_PARSE_FAILED']]);
    expect(response.body.errors?.[0]?.message).toMatch(/1000 tokens/);
  });

  it('depth and cost are configurable: QUERY_MAX_DEPTH=1 and QUERY_MAX_COST=5 reject what the defaults accept', async () => {
    const strict = await production({ QUERY_MAX_DEPTH: '1', QUERY_MAX_COST: '5' });
    try {
      const deep = await execute(strict.url, '{ serverInfo { name } }');
      expect([deep.status, codes(deep)], show(deep)).toEqual([400, ['QUERY_LIMIT_EXCEEDED']]);
      expect(deep.body.errors?.[0]?.extensions?.['limit']).toBe('depth');
      const costly = await execute(strict.url, `{ allNotes { ${fields} } }`);
      expect(codes(costly)).toContain('QUERY_LIMIT_EXCEEDED');
      expect(costly.body.errors?.map((e) => e.extensions?.['limit'])).toContain('cost');
    } finally {
      await strict.stop();
    }
  });

  it('a rejected query never reaches a resolver', async () => {
    const token = await issuer.mint({ sub: 'limit-writer', verified: true });
    const mutation = `mutation { ${Array.from({ length: 16 }, (_, i) => `n${i}: createNote(input: { title: "t", body: "b" }) { id }`).join(' ')} }`;
    const response = await execute(server.url, mutation, { token });
    expect(codes(response)).toEqual(['QUERY_LIMIT_EXCEEDED']);
    const mine = await execute(server.url, '{ myNotes { id } }', { token });
    expect(mine.body.data).toEqual({ myNotes: [] });
  });
});
