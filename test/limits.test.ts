import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { codes, execute, fragmentBomb, show, wideLeafPage } from './helpers/graphql.js';
import { send, sendGraphQL } from './helpers/http.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';
import { openRaw, wsUrl } from './helpers/ws.js';

// Cost-based rate limits per viewer and the refused-credential throttle per
// client address (DESIGN 12), over real HTTP and WebSocket.

let issuer: TestIssuer;
const servers: TestServer[] = [];

beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});
afterAll(async () => {
  await issuer.close();
});

async function serve(env: Record<string, string>): Promise<TestServer> {
  const server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, ...env } });
  servers.push(server);
  return server;
}

const forged = (token: string): string => `${token.slice(0, -6)}AAAAAA`;


describe('query-cost budget per viewer', () => {
  it('budget spent -> 429 RATE_LIMITED with Retry-After and the RateLimit headers; before that every response says what is left', async () => {
    const server = await serve({ RATE_LIMIT_POINTS: '3', RATE_LIMIT_WINDOW: '60' });
    const token = await issuer.mint({ sub: 'spender' });
    for (const remaining of [2, 1, 0]) {
      const ok = await execute(server.url, '{ me { id } }', { token });
      expect(ok.status, show(ok)).toBe(200);
      expect(ok.headers.get('ratelimit-policy')).toBe('"viewer";q=3;w=60');
      expect(ok.headers.get('ratelimit')).toMatch(new RegExp(`^"viewer";r=${remaining};t=(5\\d|60)$`));
    }
    const refused = await execute(server.url, '{ me { id } }', { token });
    expect(refused.status, show(refused)).toBe(429);
    expect(codes(refused)).toEqual(['RATE_LIMITED']);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ policy: 'viewer', cost: 1, remaining: 0, quota: 3 });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(50);
    expect(refused.headers.get('ratelimit')).toMatch(/^"viewer";r=0;t=\d+$/);
    expect(refused.body.data).toBeUndefined();

    // Another viewer has a budget of its own.
    const other = await execute(server.url, '{ me { id } }', { token: await issuer.mint({ sub: 'someone-else' }) });
    expect(other.status).toBe(200);
  });

  it('the window resets: a refused viewer is served again once its window ends', async () => {
    const server = await serve({ RATE_LIMIT_POINTS: '2', RATE_LIMIT_WINDOW: '1' });
    const token = await issuer.mint({ sub: 'patient' });
    await execute(server.url, '{ me { id } }', { token });
    await execute(server.url, '{ me { id } }', { token });
    expect((await execute(server.url, '{ me { id } }', { token })).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const again = await execute(server.url, '{ me { id } rateLimit { remaining } }', { token });
    expect(again.status, show(again)).toBe(200);
    expect(again.body.data?.['rateLimit']).toEqual({ remaining: 0 });
  });

  it('a costly query spends more than a cheap one: first counts, and so do variables', async () => {
    const server = await serve({ RATE_LIMIT_POINTS: '100000' });
    const token = await issuer.mint({ sub: 'pager', verified: true });
    const costOf = async (query: string, variables?: Record<string, unknown>) => {
      const response = await execute(server.url, query, { token, ...(variables ? { variables } : {}) });
      expect(response.status, show(response)).toBe(200);
      return (response.body.data?.['rateLimit'] as { cost: number }).cost;
    };
    const page = (first: string) => `{ rateLimit { cost } myNotes(first: ${first}) { edges { node { id title } } pageInfo { hasNextPage } } }`;
    const me = await costOf('{ rateLimit { cost } me { id } }');
    const five = await costOf(page('5'));
    const hundred = await costOf(page('100'));
    const byVariable = await costOf('query ($n: Int) { rateLimit { cost } myNotes(first: $n) { edges { node { id title } } pageInfo { hasNextPage } } }', { n: 100 });
    expect(me).toBe(2);
    expect(five).toBeGreaterThan(me);
    expect(hundred).toBeGreaterThan(five * 10);
    expect(byVariable).toBe(hundred);
  });

  it('leaf fields of listed items are priced, aliases included: fifteen aliased bodies cost more than one', async () => {
    const server = await serve({});
    const token = await issuer.mint({ sub: 'wide', verified: true });
    const costOf = async (fields: string) => {
      const response = await execute(server.url, `{ rateLimit { cost } myNotes(first: 100) { edges { node { ${fields} } } } }`, { token });
      expect(response.status, show(response)).toBe(200);
      return (response.body.data?.['rateLimit'] as { cost: number }).cost;
    };
    expect(await costOf('id title')).toBe(1 + 1 + 100 * (2 + 2));
    expect(await costOf(Array.from({ length: 15 }, (_, i) => `b${i}: body`).join(' ')), 'the wide-leaf page').toBe(1 + 1 + 100 * (2 + 15));
    const me = await execute(server.url, '{ rateLimit { cost } me { id roles isVerified } }', { token });
    expect(me.body.data?.['rateLimit'], 'leaf fields outside lists stay free').toEqual({ cost: 2 });
  });

  it('nested fragment spreads that the estimator cannot price -> 400 QUERY_LIMIT_EXCEEDED, not a price of 1', async () => {
    const server = await serve({ RATE_LIMIT_POINTS: '1000' });
    const token = await issuer.mint({ sub: 'bomber', verified: true });
    const bomb = fragmentBomb('a: myNotes(first: 100) { edges { node { id title body } } }');
    const refused = await execute(server.url, bomb, { token });
    expect([refused.status, codes(refused)], show(refused)).toEqual([400, ['QUERY_LIMIT_EXCEEDED']]);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ limit: 'cost' });
    expect(refused.body.errors?.[0]?.message).toMatch(/cannot be priced/);
    const standing = await execute(server.url, '{ rateLimit { remaining } }', { token });
    expect(standing.body.data?.['rateLimit'], 'the refused bomb spent nothing').toEqual({ remaining: 999 });
  });

  it('the same fragment bomb over WebSocket gets an error, not an execution', async () => {
    const server = await serve({});
    const token = await issuer.mint({ sub: 'socket-bomber', verified: true });
    const connection = await openRaw(wsUrl(server.url));
    try {
      await connection.init({ Authorization: `Bearer ${token}` });
      connection.subscribe('1', fragmentBomb('a: myNotes(first: 100) { edges { node { id } } }'));
      const refused = await connection.next((message) => message.id === '1' && message.type === 'error');
      expect((refused.payload as { extensions: { code: string } }[])[0]?.extensions.code).toBe('QUERY_LIMIT_EXCEEDED');
      expect(connection.messages.some((message) => message.id === '1' && message.type === 'next')).toBe(false);
    } finally {
      await connection.close();
    }
  });

  it('variables that do not fit their types still get BAD_USER_INPUT from execution, not a cost refusal', async () => {
    const server = await serve({ RATE_LIMIT_POINTS: '50' });
    const token = await issuer.mint({ sub: 'typo', verified: true });
    const response = await execute(server.url, 'query ($n: Int) { myNotes(first: $n) { edges { node { id } } } }', { token, variables: { n: 'many' } });
    expect([response.status, codes(response)], show(response)).toEqual([400, ['BAD_USER_INPUT']]);
  });

  it('a refused operation spends nothing: what it would have cost is still there for a cheaper one', async () => {
    const server = await serve({ RATE_LIMIT_POINTS: '30' });
    const token = await issuer.mint({ sub: 'careful', verified: true });
    const big = await execute(server.url, '{ myNotes(first: 100) { edges { node { id } } } }', { token });
    expect(big.status, show(big)).toBe(429);
    const small = await execute(server.url, '{ rateLimit { cost remaining limit resetAt } }', { token });
    expect(small.status, show(small)).toBe(200);
    const standing = small.body.data?.['rateLimit'] as { cost: number; remaining: number; limit: number; resetAt: string };
    expect(standing).toMatchObject({ cost: 1, remaining: 29, limit: 30 });
    expect(Date.parse(standing.resetAt) - Date.now()).toBeGreaterThan(50_000);
  });

  it('QUERY_MAX_COST counts first, with its variables known: first 100 is refused where first 5 passes', async () => {
    const server = await serve({ QUERY_MAX_COST: '50' });
    const token = await issuer.mint({ sub: 'bulk', verified: true });
    const query = 'query ($n: Int) { myNotes(first: $n) { edges { node { id } } } }';
    expect((await execute(server.url, query, { token, variables: { n: 5 } })).status).toBe(200);
    const refused = await execute(server.url, query, { token, variables: { n: 100 } });
    expect(refused.status, show(refused)).toBe(400);
    expect(codes(refused)).toEqual(['QUERY_LIMIT_EXCEEDED']);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ limit: 'cost', maxCost: 50 });
  });

  it('guests are limited per client address, and Query.rateLimit is public', async () => {
    const server = await serve({ RATE_LIMIT_POINTS: '2' });
    const first = await sendGraphQL(server.url, '{ rateLimit { remaining } }', { localAddress: '127.0.0.2' });
    expect(first.body.data).toEqual({ rateLimit: { remaining: 1 } });
    await sendGraphQL(server.url, '{ serverInfo { name } }', { localAddress: '127.0.0.2' });
    expect((await sendGraphQL(server.url, '{ serverInfo { name } }', { localAddress: '127.0.0.2' })).status).toBe(429);
    const elsewhere = await sendGraphQL(server.url, '{ rateLimit { remaining } }', { localAddress: '127.0.0.3' });
    expect(elsewhere.body.data).toEqual({ rateLimit: { remaining: 1 } });
  });

  it('responses that never ran an operation carry the headers too, and spend nothing', async () => {
    const server = await serve({ RATE_LIMIT_POINTS: '5' });
    const invalid = await execute(server.url, '{ nope }');
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('ratelimit')).toMatch(/^"viewer";r=5;t=\d+$/);
    const refusedToken = await execute(server.url, '{ me { id } }', { token: 'not-a-jwt' });
    expect(refusedToken.status).toBe(401);
    expect(refusedToken.headers.get('ratelimit-policy')).toBe('"viewer";q=5;w=60');
  });

  it('RATE_LIMIT_POINTS=0 turns the budget off: no headers, rateLimit is null', async () => {
    const server = await serve({ RATE_LIMIT_POINTS: '0' });
    const response = await execute(server.url, '{ rateLimit { remaining } }');
    expect(response.body.data).toEqual({ rateLimit: null });
    expect(response.headers.get('ratelimit')).toBeNull();
  });

  it('operations over a WebSocket spend from the same budget', async () => {
    const server = await serve({ RATE_LIMIT_POINTS: '3' });
    const token = await issuer.mint({ sub: 'socket-spender', verified: true });
    await execute(server.url, '{ me { id } }', { token });
    await execute(server.url, '{ me { id } }', { token });
    const connection = await openRaw(wsUrl(server.url));
    try {
      await connection.init({ Authorization: `Bearer ${token}` });
      connection.subscribe('1', 'subscription { myNoteEvents { kind } }');
      connection.subscribe('2', 'subscription { myNoteEvents { noteId } }');
      const refused = await connection.next((message) => message.id === '2' && message.type === 'error');
      expect((refused.payload as { extensions: { code: string } }[])[0]?.extensions.code).toBe('RATE_LIMITED');
      expect(connection.messages.some((message) => message.id === '1' && message.type === 'error')).toBe(false);
    } finally {
      await connection.close();
    }
  });
});

describe('what one viewer can hold in memory', () => {
  const seed = async (url: string, token: string, count: number, body: string) => {
    for (let i = 0; i < count; i++) {
      const created = await execute(url, 'mutation($b: String!) { createNote(input: { title: "big", body: $b }) { id } }', { token, variables: { b: body } });
      expect(created.status, show(created)).toBe(200);
    }
  };

  it('a result over QUERY_MAX_RESPONSE_BYTES -> 400 QUERY_LIMIT_EXCEEDED instead of the data', async () => {
    const server = await serve({ QUERY_MAX_RESPONSE_BYTES: '65536' });
    const token = await issuer.mint({ sub: 'hoarder', verified: true });
    await seed(server.url, token, 3, 'y'.repeat(2000));
    const small = await execute(server.url, wideLeafPage(1), { token });
    expect([small.status, small.body.errors], show(small)).toEqual([200, undefined]);
    const large = await execute(server.url, wideLeafPage(3), { token });
    expect([large.status, codes(large)], show(large)).toEqual([400, ['QUERY_LIMIT_EXCEEDED']]);
    expect(large.body.errors?.[0]?.extensions).toMatchObject({ limit: 'response_bytes', maxBytes: 65536 });
    expect(large.text.length).toBeLessThan(1000);
  });

  it('over WebSocket too: the oversized result becomes a QUERY_LIMIT_EXCEEDED error in its next', async () => {
    const server = await serve({ QUERY_MAX_RESPONSE_BYTES: '65536' });
    const token = await issuer.mint({ sub: 'socket-hoarder', verified: true });
    await seed(server.url, token, 3, 'y'.repeat(2000));
    const connection = await openRaw(wsUrl(server.url));
    try {
      await connection.init({ Authorization: `Bearer ${token}` });
      connection.subscribe('1', wideLeafPage(3));
      const answer = await connection.next((message) => message.id === '1' && message.type === 'next');
      const payload = answer.payload as { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] };
      expect(payload.data, 'no data: the result was too large to send').toBeUndefined();
      expect(payload.errors?.map((error) => [error.extensions?.['code'], error.extensions?.['limit']])).toEqual([['QUERY_LIMIT_EXCEEDED', 'response_bytes']]);
    } finally {
      await connection.close();
    }
  });

  it('past RATE_LIMIT_CONCURRENCY running operations of one viewer -> 429 RATE_LIMITED; another viewer is served', async () => {
    const server = await serve({ RATE_LIMIT_CONCURRENCY: '1', QUERY_MAX_RESPONSE_BYTES: '104857600' });
    const token = await issuer.mint({ sub: 'greedy', verified: true });
    // About 18 MB: more than loopback's socket buffers, so it stays unwritten while nobody reads it.
    await seed(server.url, token, 60, 'z'.repeat(20_000));
    const held = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } }, resolve);
      req.on('error', reject);
      req.end(JSON.stringify({ query: wideLeafPage(60) }));
    });
    held.pause();
    try {
      const refused = await execute(server.url, '{ me { id } }', { token });
      expect([refused.status, codes(refused)], show(refused)).toEqual([429, ['RATE_LIMITED']]);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ policy: 'concurrency', quota: 1 });
      expect(refused.headers.get('retry-after')).toBe('1');
      const other = await execute(server.url, '{ me { id } }', { token: await issuer.mint({ sub: 'patient' }) });
      expect(other.body, show(other)).toEqual({ data: { me: { id: 'patient' } } });
    } finally {
      held.resume();
      await new Promise((resolve) => held.on('end', resolve));
    }
    const after = await execute(server.url, '{ me { id } }', { token });
    expect(after.body, show(after)).toEqual({ data: { me: { id: 'greedy' } } });
  });
});

describe('refused-credential throttle per client address', () => {
  it('61 forged tokens from one address -> 429 before any check, even with a valid token, while another address is still served', async () => {
    const server = await serve({ AUTH_FAILURE_LIMIT: '60' });
    const valid = await issuer.mint({ sub: 'victim-of-a-bad-client' });
    const bad = forged(valid);
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) statuses.push((await sendGraphQL(server.url, '{ me { id } }', { localAddress: '127.0.0.2', headers: { authorization: `Bearer ${bad}${i}` } })).status);
    expect(statuses.slice(0, 60).every((status) => status === 401)).toBe(true);
    expect(statuses[60]).toBe(429);

    const blocked = await sendGraphQL(server.url, '{ me { id } }', { localAddress: '127.0.0.2', headers: { authorization: `Bearer ${valid}` } });
    expect(blocked.status).toBe(429);
    expect(blocked.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', policy: 'auth-failures' });
    expect(blocked.headers['ratelimit-policy']).toBe('"auth-failures";q=60;w=60');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    const guest = await sendGraphQL(server.url, '{ serverInfo { name } }', { localAddress: '127.0.0.2' });
    expect(guest.status).toBe(429);
    await expect(openRaw(wsUrl(server.url), { localAddress: '127.0.0.2' })).rejects.toThrow(/429/);

    const elsewhere = await sendGraphQL(server.url, '{ me { id } }', { localAddress: '127.0.0.3', headers: { authorization: `Bearer ${valid}` } });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.data).toEqual({ me: { id: 'victim-of-a-bad-client' } });

    const refusals = server.logs.filter((line) => line['authReason'] === 'bad_signature');
    expect(refusals).toHaveLength(60);
    expect(refusals.every((line) => line['clientAddress'] === '127.0.0.2')).toBe(true);
  });

  it('expired tokens do not count: a client that keeps sending one is never cut off', async () => {
    const server = await serve({ AUTH_FAILURE_LIMIT: '5' });
    const nowSeconds = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 12; i++) {
      const expired = await issuer.mint({ sub: `sleepy-${i}`, nowSeconds: nowSeconds - 7200, ttlSeconds: 60 });
      const response = await execute(server.url, '{ me { id } }', { token: expired });
      expect(response.status).toBe(401);
    }
    expect((await execute(server.url, '{ me { id } }', { token: await issuer.mint({ sub: 'awake' }) })).status).toBe(200);
  });

  it("the resolver's refusals (x-authgear-session-valid: false) do not count: it says false for expired tokens too", async () => {
    const server = await serve({ AUTH_FAILURE_LIMIT: '3', TRUSTED_PROXIES: '127.0.0.1' });
    const behindNat = { 'x-forwarded-for': '203.0.113.9' };
    for (let i = 0; i < 8; i++) {
      const refused = await sendGraphQL(server.url, '{ me { id } }', { headers: { ...behindNat, 'x-authgear-session-valid': 'false' } });
      expect(refused.status, refused.text).toBe(401);
    }
    const neighbour = await sendGraphQL(server.url, '{ me { id } }', {
      headers: { ...behindNat, 'x-authgear-session-valid': 'true', 'x-authgear-user-id': 'neighbour' },
    });
    expect([neighbour.status, neighbour.text]).toEqual([200, '{"data":{"me":{"id":"neighbour"}}}\n']);
  });

  it('refused credentials over WebSocket count as well; then the upgrade itself is refused with 429', async () => {
    const server = await serve({ AUTH_FAILURE_LIMIT: '2' });
    for (let i = 0; i < 2; i++) {
      const connection = await openRaw(wsUrl(server.url), { localAddress: '127.0.0.4' });
      const answer = await connection.init({ Authorization: 'Bearer not.a.token' });
      expect(answer).toMatchObject({ code: 4403 });
    }
    await expect(openRaw(wsUrl(server.url), { localAddress: '127.0.0.4' })).rejects.toThrow(/429/);
  });
});

describe('/metrics', () => {
  it('counts a refused token under its reason, token-cache lookups and issuer fetches, in Prometheus text', async () => {
    const server = await serve({});
    const token = await issuer.mint({ sub: 'counted' });
    await execute(server.url, '{ me { id } }', { token });
    await execute(server.url, '{ me { id } }', { token });
    await execute(server.url, '{ me { id } }', { token: forged(token) });
    await execute(server.url, '{ me { id } }', { token: await issuer.mint({ sub: 'late', nowSeconds: Math.floor(Date.now() / 1000) - 7200, ttlSeconds: 60 }) });
    const response = await send(`${server.origin}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.text).toContain('auth_results_total{result="refused",reason="bad_signature"} 1');
    expect(response.text).toContain('auth_results_total{result="refused",reason="expired"} 1');
    expect(response.text).toContain('auth_results_total{result="accepted",reason="jwt"} 2');
    expect(response.text).toContain('auth_token_cache_total{result="hit"} 1');
    expect(response.text).toMatch(/auth_issuer_fetches_total\{document="jwks",result="ok"\} [1-9]/);
    expect(response.text).toMatch(/http_requests_total\{route="\/graphql",status="401"\} 2/);
    expect(response.text).toContain('graphql_operations_total{operation="(anonymous)",outcome="ok"} 2');
    expect(response.text).toContain('process_cpu_seconds_total');
    expect(response.text).not.toContain(token.slice(0, 16));
  });

  it('from a client that is not on this machine -> 403, also behind a trusted proxy', async () => {
    const server = await serve({ TRUSTED_PROXIES: '127.0.0.1' });
    const proxied = await send(`${server.origin}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(proxied.status).toBe(403);
    expect(JSON.parse(proxied.text)).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    expect((await send(`${server.origin}/metrics`)).status).toBe(200);
  });

  it('METRICS_PORT serves it there to anyone and nowhere else; off turns it off', async () => {
    const server = await serve({ METRICS_PORT: '0' });
    expect(server.metricsUrl).not.toBeNull();
    expect(server.metricsUrl).not.toContain(server.origin);
    const scraped = await send(server.metricsUrl as string, { localAddress: '127.0.0.2' });
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('http_requests_total');
    expect((await send(`${server.origin}/metrics`)).status).toBe(404);

    const off = await serve({ METRICS_PORT: 'off' });
    expect(off.metricsUrl).toBeNull();
    expect((await send(`${off.origin}/metrics`)).status).toBe(404);
  });

  it("operation names cannot be crowded out: a guest's names get no label, and one-off names do not evict used ones", async () => {
    const server = await serve({});
    const token = await issuer.mint({ sub: 'dashboard-owner' });
    const junk = async (count: number, prefix: string, options: { token?: string } = {}) => {
      for (let i = 0; i < count; i += 10) {
        await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, k) => execute(server.url, `query ${prefix}${i + k} { serverInfo { name } }`, options)));
      }
    };
    await junk(250, 'GuestJunk');
    for (let i = 0; i < 3; i++) expect((await execute(server.url, 'query RealDashboard { me { id } }', { token })).status).toBe(200);
    await junk(260, 'SignedInJunk', { token });
    await execute(server.url, 'query RealDashboard { me { id } }', { token });
    const text = (await send(`${server.origin}/metrics`)).text;
    expect(text).toContain('graphql_operations_total{operation="RealDashboard",outcome="ok"} 4');
    expect(text).not.toContain('GuestJunk');
    expect(text).toContain('graphql_operations_total{operation="other",outcome="ok"} 250');
    const labelled = text.split('\n').filter((line) => line.startsWith('graphql_operations_total{')).length;
    expect(labelled, 'at most 200 names, plus "other"').toBeLessThanOrEqual(201);
  });

  it('rate-limit refusals are counted by limit', async () => {
    const server = await serve({ RATE_LIMIT_POINTS: '1' });
    await execute(server.url, '{ serverInfo { name } }');
    expect((await execute(server.url, '{ serverInfo { name } }')).status).toBe(429);
    const text = (await send(`${server.origin}/metrics`)).text;
    expect(text).toContain('rate_limit_refusals_total{limit="budget"} 1');
    expect(text).toContain('graphql_operations_total{operation="(anonymous)",outcome="rate_limited"} 1');
  });
});
