import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, type Database } from '../src/db/database.js';
import { codes, execute, show } from './helpers/graphql.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, testDatabase, type StartOptions, type TestServer } from './helpers/server.js';

// NODE_ENV=production needs a durable database in its config; the URL below
// only satisfies that check, the tests hand the server this file's PGlite.
const PRODUCTION = { NODE_ENV: 'production', DATABASE_URL: 'postgres://unused.invalid/app' };

let issuer: TestIssuer;
let server: TestServer;
type Breakage = 'none' | 'bug' | 'unreachable';
let database: Database & { breakage: Breakage };

/**
 * The shared test database, with a switch that makes every query fail: with
 * an error nobody planned for ('bug'), or as an adapter reports a server it
 * cannot reach ('unreachable'). Both carry details a client must not see.
 */
function breakable(db: Database): Database & { breakage: Breakage } {
  const failure = (breakage: Breakage): Error =>
    breakage === 'bug'
      ? new Error('could not read block 7 of relation base/16384/16385 at 10.1.2.3 (password=hunter2)')
      : new DatabaseUnavailableError(Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432 (password=hunter2)'), { code: 'ECONNREFUSED' }));
  const wrapper = {
    breakage: 'none' as Breakage,
    kind: db.kind,
    query<Row extends object>(sql: string, params?: readonly unknown[]) {
      if (wrapper.breakage !== 'none') return Promise.reject(failure(wrapper.breakage));
      return db.query<Row>(sql, params);
    },
    transaction: db.transaction.bind(db),
    listen: db.listen.bind(db),
    notify: db.notify.bind(db),
    close: () => Promise.resolve(),
  };
  return wrapper;
}

async function whileDatabase<T>(breakage: Breakage, work: () => Promise<T>): Promise<T> {
  database.breakage = breakage;
  try {
    return await work();
  } finally {
    database.breakage = 'none';
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
    const response = await whileDatabase('bug', () => execute(server.url, '{ myNotes { edges { node { id } } } }', { token }));
    expect(response.status).toBe(200);
    expect(response.body.errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    expect(response.text).not.toMatch(/could not read|hunter2|10\.1\.2\.3/);
    const requestId = response.headers.get('x-request-id');
    const logged = server.logs.find((line) => line['msg'] === 'unexpected error' && line['requestId'] === requestId);
    expect(logged, server.rawLogs()).toBeDefined();
    expect(JSON.stringify(logged)).toContain('could not read block');
  });

  it('an unexpected database failure inside a rule is INTERNAL_SERVER_ERROR too, not a misleading FORBIDDEN', async () => {
    const token = await issuer.mint({ sub: 'unlucky', verified: true });
    const mutation = 'mutation { updateNote(id: "00000000-0000-4000-8000-000000000000", input: { title: "x" }) { id } }';
    const response = await whileDatabase('bug', () => execute(server.url, mutation, { token }));
    expect(codes(response)).toEqual(['INTERNAL_SERVER_ERROR']);
  });

  it('an unreachable database -> SERVICE_UNAVAILABLE with retryable: true on every field that needs it, unmasked but without details, logged once', async () => {
    const token = await issuer.mint({ sub: 'unlucky', verified: true });
    const operations = [
      '{ myNotes { edges { node { id } } } }',
      '{ note(id: "00000000-0000-4000-8000-000000000000") { id } }',
      'mutation { createNote(input: { title: "t", body: "b" }) { id } }',
      'mutation { updateNote(id: "00000000-0000-4000-8000-000000000000", input: { title: "x" }) { id } }',
      'mutation { deleteNote(id: "00000000-0000-4000-8000-000000000000") }',
    ];
    const logsBefore = server.logs.length;
    const responses = await whileDatabase('unreachable', async () => {
      const answered = [];
      for (const operation of [...operations, ...operations]) answered.push(await execute(server.url, operation, { token }));
      answered.push(await execute(server.url, '{ me { id } }', { token }));
      return answered;
    });
    const me = responses.pop();
    expect(me?.body).toEqual({ data: { me: { id: 'unlucky' } } });
    for (const response of responses) {
      expect(response.status, show(response)).toBe(200);
      expect(response.body.errors?.map(({ message, extensions }) => ({ message, extensions })), show(response)).toEqual([
        { message: 'The database is unavailable right now; retry in a moment.', extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true } },
      ]);
      expect(response.text).not.toMatch(/ECONNREFUSED|hunter2|10\.1\.2\.3/);
    }
    const outage = server.logs.slice(logsBefore).filter((line) => line['level'] === 50);
    expect(outage.map((line) => line['msg']), server.rawLogs()).toEqual(['database unavailable: answering SERVICE_UNAVAILABLE until it answers again']);
    expect(outage[0]).toMatchObject({ code: 'ECONNREFUSED' });

    const after = await execute(server.url, '{ myNotes { edges { node { id } } } }', { token });
    expect(after.body.errors, show(after)).toBeUndefined();
    expect(server.logs.slice(logsBefore).map((line) => line['msg'])).toContain('database answers again');
  });

  it('allows no cross-origin browser calls unless CORS_ORIGINS says so', async () => {
    const response = await execute(server.url, '{ serverInfo { name } }', { headers: { origin: 'http://localhost:3000' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('/readyz reports a failing database with 503', async () => {
    const response = await whileDatabase('unreachable', () => fetch(`${server.origin}/readyz`));
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ ready: false, checks: { database: 'failing', authProvider: 'ok' } });
  });
});

describe('query limits, checked before execution', () => {
  const fields = 'id title body ownerId createdAt updatedAt';

  it('accepts an ordinary query under the default limits', async () => {
    const token = await issuer.mint({ sub: 'limits', roles: ['admin'] });
    const response = await execute(
      server.url,
      `{ me { id roles } myNotes { edges { cursor node { ${fields} } } pageInfo { hasNextPage endCursor } } allNotes(first: 100) { edges { node { ${fields} } } } serverInfo { name } }`,
      { token },
    );
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
    const shallow = await production({ QUERY_MAX_DEPTH: '1' });
    // The cost is checked once the document is valid, depth included, so it gets a server of its own.
    const cheap = await production({ QUERY_MAX_COST: '5' });
    try {
      const deep = await execute(shallow.url, '{ serverInfo { name } }');
      expect([deep.status, codes(deep)], show(deep)).toEqual([400, ['QUERY_LIMIT_EXCEEDED']]);
      expect(deep.body.errors?.[0]?.extensions?.['limit']).toBe('depth');
      const costly = await execute(cheap.url, `{ allNotes { edges { node { ${fields} } } } }`);
      expect([costly.status, codes(costly)], show(costly)).toEqual([400, ['QUERY_LIMIT_EXCEEDED']]);
      expect(costly.body.errors?.[0]?.extensions).toMatchObject({ limit: 'cost', maxCost: 5 });
    } finally {
      await shallow.stop();
      await cheap.stop();
    }
  });

  it('a rejected query never reaches a resolver', async () => {
    const token = await issuer.mint({ sub: 'limit-writer', verified: true });
    const mutation = `mutation { ${Array.from({ length: 16 }, (_, i) => `n${i}: createNote(input: { title: "t", body: "b" }) { id }`).join(' ')} }`;
    const response = await execute(server.url, mutation, { token });
    expect(codes(response)).toEqual(['QUERY_LIMIT_EXCEEDED']);
    const mine = await execute(server.url, '{ myNotes { edges { node { id } } } }', { token });
    expect(mine.body.data).toEqual({ myNotes: { edges: [] } });
  });
});
