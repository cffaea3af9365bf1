import { HeaderMap } from '@apollo/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentials } from '../src/auth/credentials.js';
import { AuthError } from '../src/auth/errors.js';
import type { Verifier } from '../src/auth/verifier.js';
import { codes, execute, show } from './helpers/graphql.js';
import { send, sendGraphQL, sendRaw } from './helpers/http.js';
import { startTestIssuer, testSigningKey, type TestIssuer } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';
import { bearer, connectRaw, isClosed, openRaw, wsUrl } from './helpers/ws.js';

// Forward authentication (DESIGN 11): a trusted proxy passes on what
// Authgear's resolver answered, as x-authgear-* headers.

const ME = '{ me { id roles isVerified isAnonymous authenticatedAt } }';
const UNTRUSTED = '127.0.0.2';

const resolved = (extra: Record<string, string> = {}): Record<string, string> => ({
  'x-authgear-session-valid': 'true',
  'x-authgear-user-id': 'cookie-user',
  'x-authgear-user-verified': 'true',
  'x-authgear-user-anonymous': 'false',
  'x-authgear-user-can-reauthenticate': 'true',
  'x-authgear-user-roles': 'admin,editor',
  'x-authgear-session-amr': 'pwd otp',
  'x-authgear-session-authenticated-at': '1796200000',
  ...extra,
});

let issuer: TestIssuer;
let server: TestServer;
let untrusting: TestServer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  [server, untrusting] = await Promise.all([
    startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, TRUSTED_PROXIES: '127.0.0.1,::1', CORS_ORIGINS: 'https://app.example.com' } }),
    startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url } }),
  ]);
});
afterAll(async () => {
  await Promise.all([server.stop(), untrusting.stop()]);
  await issuer.close();
});

const warnings = (target: TestServer) => target.logs.filter((line) => line['level'] === 40);

describe('from a trusted proxy', () => {
  it('x-authgear-session-valid: true -> the viewer from the headers', async () => {
    const response = await execute(server.url, ME, { headers: resolved() });
    expect(response.body, show(response)).toEqual({
      data: {
        me: { id: 'cookie-user', roles: ['admin', 'editor'], isVerified: true, isAnonymous: false, authenticatedAt: '2026-12-02T08:26:40.000Z' },
      },
    });
  });

  it('absent flags read as false, absent roles and time as none (older Authgear omits can-reauthenticate)', async () => {
    const response = await execute(server.url, ME, { headers: { 'x-authgear-session-valid': 'true', 'x-authgear-user-id': 'minimal' } });
    expect(response.body).toEqual({ data: { me: { id: 'minimal', roles: [], isVerified: false, isAnonymous: false, authenticatedAt: null } } });
  });

  it('x-authgear-session-valid: false -> 401 invalid_token, never a guest', async () => {
    const response = await execute(server.url, '{ serverInfo { name } }', { headers: { 'x-authgear-session-valid': 'false' } });
    expect(response.status).toBe(401);
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.body.data).toBeUndefined();
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="The session/);
  });

  it('no x-authgear-* header -> the Bearer path as usual (a valid token, or a guest)', async () => {
    const token = await issuer.mint({ sub: 'bearer-user' });
    expect((await execute(server.url, '{ me { id } }', { token })).body).toEqual({ data: { me: { id: 'bearer-user' } } });
    expect(codes(await execute(server.url, '{ me { id } }'))).toEqual(['UNAUTHENTICATED']);
  });

  it('the resolver answer wins over an Authorization header the proxy passed along', async () => {
    const token = await issuer.mint({ sub: 'bearer-user' });
    const response = await execute(server.url, '{ me { id } }', { token, headers: resolved() });
    expect(response.body).toEqual({ data: { me: { id: 'cookie-user' } } });
  });

  it.each([
    ['x-authgear-* headers without x-authgear-session-valid', { 'x-authgear-user-id': 'someone' }, /without x-authgear-session-valid/],
    ['session-valid "yes"', { 'x-authgear-session-valid': 'yes', 'x-authgear-user-id': 'someone' }, /x-authgear-session-valid must be true or false/],
    ['session-valid true without a user id', { 'x-authgear-session-valid': 'true' }, /x-authgear-user-id is missing/],
    ['a blank user id', { 'x-authgear-session-valid': 'true', 'x-authgear-user-id': '  ' }, /x-authgear-user-id is missing/],
    ['verified "yes"', resolved({ 'x-authgear-user-verified': 'yes' }), /x-authgear-user-verified must be true or false/],
    ['anonymous "TRUE"', resolved({ 'x-authgear-user-anonymous': 'TRUE' }), /x-authgear-user-anonymous must be true or false/],
    ['a non-numeric authenticated-at', resolved({ 'x-authgear-session-authenticated-at': '2026-12-02' }), /must be Unix seconds/],
  ])('%s -> 400 BAD_REQUEST naming the header, and a warning', async (_label, headers, message) => {
    const before = warnings(server).length;
    const response = await execute(server.url, '{ serverInfo { name } }', { headers });
    expect(response.status, show(response)).toBe(400);
    expect(codes(response)).toEqual(['BAD_REQUEST']);
    expect(response.body.errors?.[0]?.message).toMatch(message);
    expect(response.body.data).toBeUndefined();
    expect(warnings(server).length).toBe(before + 1);
  });

  it('an x-authgear-* header sent twice -> 400 BAD_REQUEST: the proxy must replace, not append', async () => {
    const response = await sendRaw(server.origin, [
      ['x-authgear-session-valid', 'true'],
      ['x-authgear-user-id', 'victim'],
      ['x-authgear-user-id', 'attacker'],
    ]);
    expect(response.status).toBe(400);
    expect(response.body).toMatch(/came twice/);
  });
});

describe('from any other peer', () => {
  it('a forged x-authgear-user-id from an untrusted peer (127.0.0.2) -> 400 BAD_REQUEST and a warning with its address', async () => {
    const before = warnings(server).length;
    const response = await sendGraphQL(server.url, '{ me { id } }', { localAddress: UNTRUSTED, headers: resolved({ 'x-authgear-user-id': 'victim' }) });
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]).toMatchObject({
      message: 'x-authgear-* headers are accepted only from TRUSTED_PROXIES.',
      extensions: { code: 'BAD_REQUEST' },
    });
    const warning = warnings(server).slice(before);
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatchObject({ clientAddress: UNTRUSTED, authReason: 'untrusted_forwarded_headers' });
  });

  it('the same peer without x-authgear-* headers is served as usual', async () => {
    const token = await issuer.mint({ sub: 'remote-user' });
    const response = await sendGraphQL(server.url, '{ me { id } }', { localAddress: UNTRUSTED, headers: { authorization: `Bearer ${token}` } });
    expect(response.body).toEqual({ data: { me: { id: 'remote-user' } } });
  });

  it('TRUSTED_PROXIES unset: x-authgear-* headers from anyone, loopback included -> 400, not a guest', async () => {
    const response = await execute(untrusting.url, '{ serverInfo { name } }', { headers: { 'x-authgear-session-valid': 'false' } });
    expect(response.status).toBe(400);
    expect(codes(response)).toEqual(['BAD_REQUEST']);
  });
});

describe('the client address (X-Forwarded-For)', () => {
  const lastRequestLine = (target: TestServer) => target.logs.filter((line) => line['msg'] === 'request').at(-1);

  it('behind a trusted proxy: the right-most address that is not a trusted proxy', async () => {
    await execute(server.url, '{ serverInfo { name } }', { headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.7, 127.0.0.1' } });
    expect(lastRequestLine(server)).toMatchObject({ clientAddress: '198.51.100.7' });
  });

  it('every hop trusted: the left-most', async () => {
    await execute(server.url, '{ serverInfo { name } }', { headers: { 'x-forwarded-for': '127.0.0.5, ::1' } });
    expect(lastRequestLine(server)).toMatchObject({ clientAddress: '127.0.0.5' });
  });

  it('from an untrusted peer, X-Forwarded-For is ignored: the peer is the client', async () => {
    await sendGraphQL(server.url, '{ serverInfo { name } }', { localAddress: UNTRUSTED, headers: { 'x-forwarded-for': '198.51.100.7' } });
    expect(lastRequestLine(server)).toMatchObject({ clientAddress: UNTRUSTED });
  });
});

describe('cookies in browsers: CORS and CSRF', () => {
  it('an allowlisted origin may send credentials', async () => {
    const response = await execute(server.url, '{ serverInfo { name } }', { headers: { origin: 'https://app.example.com' } });
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('CORS_ORIGINS=* never allows credentials', async () => {
    const open = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, CORS_ORIGINS: '*' } });
    try {
      const response = await execute(open.url, '{ serverInfo { name } }', { headers: { origin: 'https://anyone.example' } });
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    } finally {
      await open.stop();
    }
  });

  it('a cookie-only "simple" request (text/plain POST, or GET without a preflight header) -> 400, nothing executed', async () => {
    const headers = { ...resolved(), cookie: 'app_session=abc', origin: 'https://evil.example' };
    const post = await send(server.url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain' },
      body: JSON.stringify({ query: 'mutation { createNote(input: { title: "csrf", body: "csrf" }) { id } }' }),
    });
    expect(post.status).toBe(400);
    expect(post.text).toMatch(/Cross-Site Request Forgery/);
    const get = await send(`${server.url}?query=${encodeURIComponent('{ me { id } }')}`, { headers });
    expect(get.status).toBe(400);
    expect(get.text).toMatch(/Cross-Site Request Forgery/);
  });
});

describe('both modes end in the same Viewer', () => {
  const verifier = { verify: () => Promise.reject(new Error('not called')) } as unknown as Verifier;
  const credentials = createCredentials(verifier, { empty: true, refusal: () => null });
  const offered = (headers: Record<string, string>, trustedPeer = true) => {
    const map = new HeaderMap(Object.entries(headers));
    return { headers: { map, authorization: [], authgear: Object.keys(headers).filter((n) => n.startsWith('x-authgear-')) }, trustedPeer };
  };

  it("a resolver viewer: kind user, source 'resolver', amr split on spaces, no claims", async () => {
    const viewer = await credentials.viewerFor(offered(resolved()));
    expect(viewer).toEqual({
      kind: 'user',
      source: 'resolver',
      id: 'cookie-user',
      roles: ['admin', 'editor'],
      isVerified: true,
      isAnonymous: false,
      canReauthenticate: true,
      authenticatedAt: new Date(1796200000 * 1000),
      amr: ['pwd', 'otp'],
      claims: {},
    });
    expect(Object.isFrozen(viewer)).toBe(true);
  });

  it('a refused session is an AuthError that counts as revoked_session', async () => {
    const refusal = await credentials.viewerFor(offered({ 'x-authgear-session-valid': 'false' })).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(AuthError);
    expect(refusal).toMatchObject({ failure: 'invalid_token', reason: 'revoked_session', status: 401 });
  });
});

describe("the dev issuer's resolver (/_resolver/resolve)", () => {
  let dev: TestServer;
  const resolve = (headers: Record<string, string>, method = 'GET') => send(`${dev.origin}/_resolver/resolve`, { method, headers });
  const authgearHeaders = (response: { headers: Record<string, unknown> }) =>
    Object.fromEntries(Object.entries(response.headers).filter(([name]) => name.startsWith('x-authgear-')));

  beforeAll(async () => {
    dev = await startServer({ env: { TRUSTED_PROXIES: '127.0.0.1' }, deps: { devIssuerKey: await testSigningKey() } });
  });
  afterAll(() => dev.stop());

  it('no credentials -> 200, no body, no x-authgear-* headers', async () => {
    const response = await resolve({});
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    expect(authgearHeaders(response)).toEqual({});
  });

  it('a dev session cookie -> 200 with the session headers, roles included', async () => {
    const { cookie } = await dev.devIssuer!.mintSession({ sub: 'alice', verified: true, roles: ['admin'], authAgeSeconds: 60 });
    const response = await resolve({ cookie: `other=1; app_session=${cookie}` });
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    expect(authgearHeaders(response)).toMatchObject({
      'x-authgear-session-valid': 'true',
      'x-authgear-user-id': 'alice',
      'x-authgear-user-verified': 'true',
      'x-authgear-user-anonymous': 'false',
      'x-authgear-user-can-reauthenticate': 'true',
      'x-authgear-user-roles': 'admin',
      'x-authgear-session-amr': 'pwd',
    });
    expect(Number(response.headers['x-authgear-session-authenticated-at'])).toBeCloseTo(Date.now() / 1000 - 60, -1);
  });

  it('HEAD answers the same headers; other methods -> 405', async () => {
    const token = await dev.devIssuer!.mint({ sub: 'head-user' });
    const head = await resolve({ authorization: `Bearer ${token}` }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['x-authgear-user-id']).toBe('head-user');
    expect((await resolve({}, 'POST')).status).toBe(405);
  });

  it('the Bearer header wins over the cookie; a bad one -> session-valid false, still 200', async () => {
    const { cookie } = await dev.devIssuer!.mintSession({ sub: 'cookie-alice' });
    const token = await dev.devIssuer!.mint({ sub: 'bearer-bob' });
    expect((await resolve({ authorization: `Bearer ${token}`, cookie: `app_session=${cookie}` })).headers['x-authgear-user-id']).toBe('bearer-bob');
    const bad = await resolve({ authorization: `Bearer ${token}x`, cookie: `app_session=${cookie}` });
    expect(bad.status).toBe(200);
    expect(authgearHeaders(bad)).toEqual({ 'x-authgear-session-valid': 'false' });
  });

  it('an expired token -> false at once (no clock leeway, as Authgear)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await dev.devIssuer!.mint({ sub: 'late', nowSeconds: now - 1800, ttlSeconds: 1790 });
    expect(authgearHeaders(await resolve({ authorization: `Bearer ${token}` }))).toEqual({ 'x-authgear-session-valid': 'false' });
  });

  it('revoking a session or disabling a user -> false on the next call, and the API refuses it', async () => {
    const { cookie, sessionId } = await dev.devIssuer!.mintSession({ sub: 'carol' });
    const headers = { cookie: `app_session=${cookie}` };
    expect((await resolve(headers)).headers['x-authgear-session-valid']).toBe('true');
    const revoke = await send(`${dev.origin}/_dev/sessions/${sessionId}/revoke`, { method: 'POST' });
    expect(revoke.status).toBe(200);
    const answer = authgearHeaders(await resolve(headers)) as Record<string, string>;
    expect(answer).toEqual({ 'x-authgear-session-valid': 'false' });
    const refused = await execute(dev.url, '{ me { id } }', { headers: answer });
    expect(refused.status).toBe(401);

    const token = await dev.devIssuer!.mint({ sub: 'dave' });
    expect((await send(`${dev.origin}/_dev/users/dave/disable`, { method: 'POST' })).status).toBe(200);
    expect((await resolve({ authorization: `Bearer ${token}` })).headers['x-authgear-session-valid']).toBe('false');
    expect((await send(`${dev.origin}/_dev/users/dave/enable`, { method: 'POST' })).status).toBe(200);
    expect((await resolve({ authorization: `Bearer ${token}` })).headers['x-authgear-session-valid']).toBe('true');
  });

  it('the dev controls answer loopback clients only: through a trusted proxy, a remote client -> 403', async () => {
    const response = await send(`${dev.origin}/_dev/users/erin/disable`, { method: 'POST', headers: { 'x-forwarded-for': '198.51.100.7' } });
    expect(response.status).toBe(403);
    const remote = { 'x-forwarded-for': '198.51.100.7', 'content-type': 'application/json' };
    const token = await send(`${dev.origin}/_dev/tokens`, { method: 'POST', headers: remote, body: '{"sub":"erin"}' });
    expect(token.status).toBe(403);
    expect(token.text).not.toMatch(/eyJ/);
  });
});

describe("a WebSocket's connection_init token behind the proxy: the API asks the resolver itself", () => {
  // From 127.0.0.1, a trusted proxy that resolved the upgrade (no credential there) and passed it on.
  it('an enabled user -> connection_ack and the viewer of the token', async () => {
    const token = await issuer.mint({ sub: 'socket-erin', roles: ['editor'], verified: true });
    const connection = await connectRaw(wsUrl(server.url), bearer(token));
    try {
      connection.subscribe('1', '{ me { id roles isVerified } }');
      const answer = await connection.next((message) => message.id === '1' && message.type === 'next');
      expect(answer.payload).toEqual({ data: { me: { id: 'socket-erin', roles: ['editor'], isVerified: true } } });
      expect(server.logs.filter((line) => line['msg'] === 'websocket connected').at(-1)).toMatchObject({ viewerId: 'socket-erin' });
    } finally {
      await connection.close();
    }
  });

  it('a user disabled at the resolver -> close 4403, though the JWT itself is still valid', async () => {
    const token = await issuer.mint({ sub: 'socket-frank', verified: true });
    issuer.resolver.disableUser('socket-frank');
    const connection = await openRaw(wsUrl(server.url));
    const answer = await connection.init(bearer(token));
    expect(isClosed(answer) ? answer.code : answer).toBe(4403);
    expect(server.logs.filter((line) => line['msg'] === 'websocket refused').at(-1)).toMatchObject({ authReason: 'revoked_session' });
  });

  it('a resolver that does not answer in time -> close 1013 (try again later)', async () => {
    const token = await issuer.mint({ sub: 'socket-gina' });
    issuer.mode = 'hang';
    try {
      const connection = await openRaw(wsUrl(server.url));
      const answer = await connection.init(bearer(token));
      expect(isClosed(answer) ? answer.code : answer).toBe(1013);
    } finally {
      issuer.mode = 'up';
    }
  });
});
