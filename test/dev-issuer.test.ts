import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevIssuer, devIssuerUrl, loadOrCreateSigningKey } from '../src/auth/dev-issuer.js';
import { codes, execute, show } from './helpers/graphql.js';
import { send } from './helpers/http.js';
import { testSigningKey } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ env: { NODE_ENV: 'development' }, deps: { devIssuerKey: await testSigningKey() } });
});
afterAll(async () => {
  await server.stop();
});

describe('the embedded dev issuer (no AUTHGEAR_ENDPOINT)', () => {
  it('serves discovery and a JWKS on the server origin, with only public key material', async () => {
    const discovery = (await (await fetch(`${server.origin}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({ issuer: server.issuer, jwks_uri: `${server.issuer}/oauth2/jwks` });
    const jwks = (await (await fetch(`${server.issuer}/oauth2/jwks`)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(Object.keys(jwks.keys[0] ?? {}).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
  });

  it('its tokens are verified over HTTP, through discovery and the JWKS, like Authgear tokens', async () => {
    const response = await execute(server.url, '{ me { id roles isVerified } serverInfo { devIssuer issuer } }', { token: server.devToken ?? '' });
    expect(response.body, show(response)).toEqual({
      data: { me: { id: 'dev-admin', roles: ['admin'], isVerified: true }, serverInfo: { devIssuer: true, issuer: server.issuer } },
    });
    const fetched = server.logs.filter((line) => line['msg'] === 'request').map((line) => line['path']);
    expect(fetched).toEqual(expect.arrayContaining(['/.well-known/openid-configuration', '/oauth2/jwks']));
  });

  it('serves UserInfo (announced in discovery) for its own access tokens: sub and what the token was minted with; 401 otherwise', async () => {
    const discovery = (await (await fetch(`${server.origin}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery['userinfo_endpoint']).toBe(`${server.issuer}/oauth2/userinfo`);
    const userinfo = (authorization?: string) => fetch(`${server.issuer}/oauth2/userinfo`, { headers: authorization === undefined ? {} : { authorization } });
    const token = await server.devIssuer?.mint({ sub: 'alice', userinfo: { email: 'alice@example.com', name: 'Alice Liddell' } });
    const answer = await userinfo(`Bearer ${token ?? ''}`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ sub: 'alice', email: 'alice@example.com', name: 'Alice Liddell' });
    const missing = await userinfo();
    expect([missing.status, missing.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
    const session = await server.devIssuer?.mintSession({ sub: 'alice' });
    for (const refused of [`Bearer ${(token ?? '').slice(0, -4)}AAAA`, `Bearer ${session?.cookie ?? ''}`]) {
      const response = await userinfo(refused);
      expect([response.status, response.headers.get('www-authenticate')]).toEqual([401, 'Bearer error="invalid_token"']);
    }
  });

  it("the ready dev token's profile comes from the dev UserInfo", async () => {
    const response = await execute(server.url, '{ me { profile { email emailVerified name } } }', { token: server.devToken ?? '' });
    expect(response.body, show(response)).toEqual({ data: { me: { profile: { email: 'dev-admin@example.com', emailVerified: true, name: 'Dev Admin' } } } });
  });

  it('a non-admin token is refused allNotes with FORBIDDEN', async () => {
    const token = await server.devIssuer?.mint({ sub: 'alice', verified: true });
    const response = await execute(server.url, '{ allNotes { edges { node { id } } } }', { token: token ?? '' });
    expect(codes(response)).toEqual(['FORBIDDEN']);
  });

  it('a token minted for a server on another port -> 401 naming both issuers and PORT/HOST', async () => {
    const otherPort = Number(new URL(server.origin).port) === 4000 ? 4001 : 4000;
    const elsewhere = new DevIssuer(devIssuerUrl('127.0.0.1', otherPort), [await testSigningKey()]);
    const response = await execute(server.url, '{ me { id } }', { token: await elsewhere.mint({ sub: 'alice' }) });
    const description =
      `The access token was issued by http://127.0.0.1:${otherPort}, but this server's dev issuer is ${server.issuer}: ` +
      "the token was minted for another PORT or HOST; run npm run token with this server's PORT and HOST.";
    expect(response.status, show(response)).toBe(401);
    expect(response.body.errors?.[0]?.message).toBe(description);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer error="invalid_token", error_description="${description}"`);
  });

  it('its issuer URL is reached over loopback even when listening on every interface', () => {
    expect(devIssuerUrl('0.0.0.0', 4000)).toBe('http://127.0.0.1:4000');
    expect(devIssuerUrl('::', 4000)).toBe('http://127.0.0.1:4000');
    expect(devIssuerUrl('::1', 4000)).toBe('http://[::1]:4000');
    expect(() => devIssuerUrl('192.168.1.10', 4000)).toThrow(/AUTHGEAR_ENDPOINT/);
  });
});

describe('browser sign-in tokens: POST /_dev/tokens', () => {
  const mintFor = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.origin}/_dev/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('mints an access token for the persona, which the API accepts as that viewer', async () => {
    const before = Math.floor(Date.now() / 1000);
    const response = await mintFor({ sub: 'alice', roles: ['editor'], verified: true, ttlSeconds: 60 });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const { accessToken, tokenType, expiresAt } = (await response.json()) as { accessToken: string; tokenType: string; expiresAt: string };
    expect(tokenType).toBe('Bearer');
    const expiresIn = Date.parse(expiresAt) / 1000 - before;
    expect(expiresIn).toBeGreaterThanOrEqual(60);
    expect(expiresIn).toBeLessThanOrEqual(62);
    const me = await execute(server.url, '{ me { id roles isVerified isAnonymous } }', { token: accessToken });
    expect(me.body, show(me)).toEqual({ data: { me: { id: 'alice', roles: ['editor'], isVerified: true, isAnonymous: false } } });
  });

  it("the persona's email and name are what the dev UserInfo answers, so me.profile shows them; without them the profile is empty", async () => {
    const token = async (body: unknown) => ((await (await mintFor(body)).json()) as { accessToken: string }).accessToken;
    const withProfile = await token({ sub: 'alice', verified: true, email: 'alice@example.com', name: '  Alice Liddell ' });
    const userinfo = await fetch(`${server.issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${withProfile}` } });
    expect(await userinfo.json()).toEqual({ sub: 'alice', email: 'alice@example.com', email_verified: true, name: 'Alice Liddell' });
    const query = '{ me { id profile { email emailVerified name } } }';
    const me = await execute(server.url, query, { token: withProfile });
    expect(me.body, show(me)).toEqual({ data: { me: { id: 'alice', profile: { email: 'alice@example.com', emailVerified: true, name: 'Alice Liddell' } } } });
    const bare = await execute(server.url, query, { token: await token({ sub: 'bob' }) });
    expect(bare.body, show(bare)).toEqual({ data: { me: { id: 'bob', profile: { email: null, emailVerified: null, name: null } } } });
  });

  it('a persona it cannot mint -> 400 BAD_REQUEST naming the field; another method -> 405', async () => {
    const cases: [unknown, RegExp][] = [
      [{ roles: [] }, /"sub"/],
      [{ sub: 'a b' }, /"sub"/],
      [{ sub: 'alice', roles: 'admin' }, /"roles"/],
      [{ sub: 'alice', verified: 'yes' }, /"verified"/],
      [{ sub: 'alice', ttlSeconds: 0 }, /"ttlSeconds"/],
      [{ sub: 'alice', ttlSeconds: 90_000 }, /"ttlSeconds"/],
      [{ sub: 'alice', email: 'alice' }, /"email" must be/],
      [{ sub: 'alice', email: 'alice @example.com' }, /"email" must be/],
      [{ sub: 'alice', email: 'alice\u0000@example.com' }, /"email" must be/],
      [{ sub: 'alice', email: `${'a'.repeat(250)}@example.com` }, /"email" must be/],
      [{ sub: 'alice', email: ['alice@example.com'] }, /"email" must be/],
      [{ sub: 'alice', name: '   ' }, /"name" must be/],
      [{ sub: 'alice', name: 'A'.repeat(201) }, /"name" must be/],
      [{ sub: 'alice', name: 'Alice\nLiddell' }, /"name" must be/],
      [{ sub: 'alice', name: 42 }, /"name" must be/],
      [{ sub: 'alice', admin: true }, /Unknown field "admin"/],
      [['alice'], /JSON object/],
    ];
    for (const [body, message] of cases) {
      const response = await mintFor(body);
      const answer = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(answer.errors[0]?.extensions.code).toBe('BAD_REQUEST');
      expect(answer.errors[0]?.message).toMatch(message);
    }
    expect((await fetch(`${server.origin}/_dev/tokens`)).status).toBe(405);
  });

  it('CORS as for /graphql: a browser app on an allowed origin may call it, another origin gets no allowance', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.origin}/_dev/tokens`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const allowed = await preflight('http://127.0.0.1:5173');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:5173');
    expect(allowed.headers.get('access-control-allow-headers')).toBe('content-type');
    const refused = await preflight('https://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const minted = await mintFor({ sub: 'alice' }, { origin: 'http://127.0.0.1:5173' });
    expect(minted.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:5173');
  });
});

describe('Apollo Sandbox (the landing page)', () => {
  // Another host, as a trusted proxy in front of the API names it: every 127.x peer is this machine.
  const FROM_ANOTHER_HOST = { 'x-forwarded-for': '192.0.2.44' };
  let proxied: TestServer;
  beforeAll(async () => {
    proxied = await startServer({ env: { NODE_ENV: 'development', TRUSTED_PROXIES: '127.0.0.1' }, deps: { devIssuerKey: await testSigningKey() } });
  });
  afterAll(async () => {
    await proxied.stop();
  });

  it('opens with the Authorization header filled with the dev token and a Me operation', async () => {
    const response = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toContain('sharedHeaders');
    expect(html).toContain(`Bearer ${server.devToken ?? 'missing'}`);
    expect(html).toContain('query Me');
  });

  // Every Accept for which Apollo's negotiation picks the page, not only the exact "text/html".
  const PAGE_ACCEPTS = ['text/html', 'TEXT/HTML', 'text/*', 'application/xhtml+xml, text/*;q=0.9', 'application/json;q=0.1, text/html', '*/*;q=0.1, Text/Html'];

  it.each(PAGE_ACCEPTS)('Accept %j from another host -> 403, and no token in the answer', async (accept) => {
    const local = await send(proxied.url, { headers: { accept } });
    expect([local.status, local.headers['content-type']], 'this Accept gets the page on loopback').toEqual([200, 'text/html']);
    const remote = await send(proxied.url, { headers: { accept, ...FROM_ANOTHER_HOST } });
    expect(remote.status, remote.text).toBe(403);
    expect(remote.text).toContain('loopback clients only');
    expect(remote.text).not.toContain(proxied.devToken ?? 'missing');
  });

  it('GraphQL over GET from another host is still answered: only the page is refused', async () => {
    const remote = await send(`${proxied.url}?query=${encodeURIComponent('{ serverInfo { devIssuer } }')}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true', ...FROM_ANOTHER_HOST },
    });
    expect([remote.status, remote.text]).toEqual([200, '{"data":{"serverInfo":{"devIssuer":true}}}\n']);
  });
});

describe('the dev signing key', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'starter-dev-key-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is created once, readable only by its owner, and reused', async () => {
    const first = await loadOrCreateSigningKey(join(dir, 'keys'));
    const file = join(dir, 'keys', 'signing-key.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await loadOrCreateSigningKey(join(dir, 'keys'));
    expect(second.kid).toBe(first.kid);
    expect(second.publicJwk).toEqual(first.publicJwk);
  });

  it('two processes creating it at once end up with the same key', async () => {
    const [a, b] = await Promise.all([loadOrCreateSigningKey(join(dir, 'race')), loadOrCreateSigningKey(join(dir, 'race'))]);
    expect(a.kid).toBe(b.kid);
  });

  it('a corrupt key file is reported with the path, not replaced silently', async () => {
    const { writeFile, mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'corrupt'));
    await writeFile(join(dir, 'corrupt', 'signing-key.json'), '{not json');
    await expect(loadOrCreateSigningKey(join(dir, 'corrupt'))).rejects.toThrow(/signing-key\.json.*Delete the file/);
    expect(await readFile(join(dir, 'corrupt', 'signing-key.json'), 'utf8')).toBe('{not json');
  });
});

describe('loopback checks', () => {
  it('only this machine counts as loopback, for hostnames and socket addresses alike', async () => {
    const { isLoopbackAddress, isLoopbackHost } = await import('../src/loopback.js');
    for (const host of ['localhost', 'api.localhost', '127.0.0.1', '127.9.9.9', '[::1]']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['example.com', 'localhost.example.com', '10.0.0.1', '[::2]', '128.0.0.1']) expect(isLoopbackHost(host), host).toBe(false);
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(address), address).toBe(true);
    for (const address of [undefined, '10.0.0.5', '::ffff:192.168.1.2', 'fe80::1']) expect(isLoopbackAddress(address), String(address)).toBe(false);
  });
});
