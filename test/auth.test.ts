import { request } from 'node:http';
import { SignJWT, base64url } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, type SigningKey } from '../src/auth/dev-issuer.js';
import { codes, execute, show } from './helpers/graphql.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';

const ME = '{ me { id roles isVerified isAnonymous authenticatedAt } }';
const now = () => Math.floor(Date.now() / 1000);

let issuer: TestIssuer;
let server: TestServer;
let strangerKey: SigningKey;

beforeAll(async () => {
  [issuer, strangerKey] = await Promise.all([startTestIssuer(), generateSigningKey()]);
  server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url } });
});
afterAll(async () => {
  await server.stop();
  await issuer.close();
});

/** Asserts the RFC 6750 answer for a rejected credential. */
async function expectRejected(token: string, status: 400 | 401, error: 'invalid_request' | 'invalid_token', description?: RegExp) {
  const response = await execute(server.url, '{ serverInfo { name } }', { token });
  expect(response.status, show(response)).toBe(status);
  expect(codes(response)).toEqual(['UNAUTHENTICATED']);
  expect(response.body.data, 'an invalid token is never downgraded to a guest').toBeUndefined();
  const challenge = response.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(new RegExp(`^Bearer error="${error}", error_description="[^"]+"$`));
  if (description) expect(challenge).toMatch(description);
  return response;
}

function tamperSignature(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const middle = Math.floor(signature.length / 2);
  const flipped = signature[middle] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${signature.slice(0, middle)}${flipped}${signature.slice(middle + 1)}`;
}

describe('the Authorization header (RFC 6750)', () => {
  it('no header, public field -> 200 with data', async () => {
    const response = await execute(server.url, '{ serverInfo { name issuer devIssuer } }');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { serverInfo: { name: 'authgear-graphql-starter', issuer: issuer.url, devIssuer: false } } });
  });

  it('no header, guarded field -> 200 UNAUTHENTICATED and no WWW-Authenticate', async () => {
    const response = await execute(server.url, ME);
    expect(response.status).toBe(200);
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.body.errors?.[0]?.path).toEqual(['me']);
    expect(response.headers.get('www-authenticate')).toBeNull();
  });

  it('another scheme (Basic) -> 401 invalid_request', async () => {
    const response = await execute(server.url, ME, { headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } });
    expect(response.status).toBe(401);
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_request", error_description=".*Bearer/);
  });

  it.each([
    ['Bearer', 'no token'],
    ['Bearer two tokens', 'two tokens'],
    ['Bearer a,b', 'a character outside token68'],
    ['Bearer\teyJ', 'a tab instead of a space'],
    ['Bearer ==abc', 'padding first'],
  ])('malformed header "%s" (%s) -> 400 invalid_request', async (header) => {
    const response = await execute(server.url, ME, { headers: { authorization: header } });
    expect(response.status, show(response)).toBe(400);
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_request"/);
  });

  it('the scheme is case-insensitive and may be followed by several spaces', async () => {
    const token = await issuer.mint({ sub: 'case-user' });
    for (const header of [`bearer ${token}`, `BEARER ${token}`, `Bearer   ${token}`]) {
      const response = await execute(server.url, '{ me { id } }', { headers: { authorization: header } });
      expect(response.body, show(response)).toEqual({ data: { me: { id: 'case-user' } } });
    }
  });

  it('a token over 8 KiB -> 400 invalid_request', async () => {
    await expectRejected('a'.repeat(8 * 1024 + 1), 400, 'invalid_request', /longer than 8192 bytes/);
  });

  it('two Authorization headers -> 400 invalid_request', async () => {
    const token = await issuer.mint();
    // fetch would fold repeated headers into one value: send them raw.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(server.url, {
        method: 'POST',
        headers: [['content-type', 'application/json'], ['authorization', `Bearer ${token}`], ['authorization', `Bearer ${token}`]].flat(),
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ query: '{ me { id } }' }));
    });
    expect(status).toBe(400);
  });
});

describe('token verification (jose)', () => {
  it('a valid Authgear access token -> the typed viewer', async () => {
    const authTime = now() - 120;
    const token = await issuer.mint({
      sub: 'alice',
      roles: ['editor', 'admin'],
      verified: true,
      claims: { auth_time: authTime },
    });
    const response = await execute(server.url, ME, { token });
    expect(response.status, show(response)).toBe(200);
    expect(response.body.data).toEqual({
      me: {
        id: 'alice',
        roles: ['editor', 'admin'],
        isVerified: true,
        isAnonymous: false,
        authenticatedAt: new Date(authTime * 1000).toISOString(),
      },
    });
  });

  it('an Authgear anonymous user is a viewer, not a guest', async () => {
    const token = await issuer.mint({ sub: 'anon-1', anonymous: true });
    const response = await execute(server.url, '{ me { id isAnonymous isVerified roles } }', { token });
    expect(response.body.data).toEqual({ me: { id: 'anon-1', isAnonymous: true, isVerified: false, roles: [] } });
  });

  it('an older token without auth_time and custom claims -> defaults (no roles, unverified, authenticatedAt null)', async () => {
    const token = await issuer.mint({
      sub: 'old-token',
      claims: {
        auth_time: undefined,
        'https://authgear.com/claims/user/roles': undefined,
        'https://authgear.com/claims/user/is_verified': undefined,
        'https://authgear.com/claims/user/is_anonymous': undefined,
      },
    });
    const response = await execute(server.url, ME, { token });
    expect(response.body.data).toEqual({
      me: { id: 'old-token', roles: [], isVerified: false, isAnonymous: false, authenticatedAt: null },
    });
  });

  it('bad signature -> 401 invalid_token', async () => {
    await expectRejected(tamperSignature(await issuer.mint()), 401, 'invalid_token', /signature/);
  });

  it("a stranger's key claiming the issuer's kid -> 401 invalid_token", async () => {
    const token = await issuer.mint({ key: strangerKey, header: { kid: issuer.issuer.signingKey.kid } });
    await expectRejected(token, 401, 'invalid_token', /signature/);
  });

  it('unknown kid -> 401 invalid_token', async () => {
    await expectRejected(await issuer.mint({ key: strangerKey }), 401, 'invalid_token', /kid/);
  });

  it('alg none -> 401 invalid_token', async () => {
    const valid = await issuer.mint();
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }));
    await expectRejected(`${header}.${valid.split('.')[1]}.`, 401, 'invalid_token');
  });

  it('HS256 signed with a guessable secret -> 401 invalid_token (RS256 only)', async () => {
    const token = await new SignJWT({ sub: 'mallory', iss: issuer.url, aud: [issuer.url] })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: issuer.issuer.signingKey.kid })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a-secret-that-is-long-enough-for-hs256!!'));
    await expectRejected(token, 401, 'invalid_token', /RS256/);
  });

  it('expired -> 401 invalid_token', async () => {
    const token = await issuer.mint({ claims: { iat: now() - 7200, exp: now() - 3600 } });
    await expectRejected(token, 401, 'invalid_token', /expired/);
  });

  it('not yet valid (nbf) -> 401 invalid_token', async () => {
    await expectRejected(await issuer.mint({ claims: { nbf: now() + 3600 } }), 401, 'invalid_token', /not valid yet/);
  });

  it('issued in the future (iat beyond the clock tolerance) -> 401 invalid_token', async () => {
    const token = await issuer.mint({ claims: { iat: now() + 3600, exp: now() + 7200 } });
    await expectRejected(token, 401, 'invalid_token', /future/);
  });

  it('wrong iss -> 401 invalid_token naming the issuer expected (AUTHGEAR_ENDPOINT) and the one the token names', async () => {
    const response = await expectRejected(await issuer.mint({ claims: { iss: 'https://evil.example' } }), 401, 'invalid_token');
    const description = `The access token was issued by https://evil.example, not by AUTHGEAR_ENDPOINT (${issuer.url}).`;
    expect(response.body.errors?.[0]?.message).toBe(description);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer error="invalid_token", error_description="${description}"`);
  });

  it("a wrong iss is attacker-chosen text: only header-safe characters of it are shown, at most 100", async () => {
    const iss = `https://evil.example/"quoted"\\back\u0000\r\nx-injected: 1 ${'a'.repeat(5000)}`;
    const response = await expectRejected(await issuer.mint({ claims: { iss } }), 401, 'invalid_token');
    const shown = 'https://evil.example/quotedbackx-injected: 1 '.padEnd(100, 'a');
    expect(response.body.errors?.[0]?.message).toBe(`The access token was issued by ${shown}..., not by AUTHGEAR_ENDPOINT (${issuer.url}).`);
  });

  it('an iss that is not a string -> 401 invalid_token saying so', async () => {
    const response = await expectRejected(await issuer.mint({ claims: { iss: 42 } }), 401, 'invalid_token');
    expect(response.body.errors?.[0]?.message).toBe(`The access token was issued by (a number, not a string), not by AUTHGEAR_ENDPOINT (${issuer.url}).`);
  });

  it('wrong aud -> 401 invalid_token', async () => {
    await expectRejected(await issuer.mint({ claims: { aud: ['https://other.example'] } }), 401, 'invalid_token', /audience/);
  });

  it('a machine-to-machine token (aud = a resource URI) -> 401 invalid_token', async () => {
    const token = await issuer.mint({ sub: 'client_id_abc', claims: { aud: ['https://api.example.com/resource'] } });
    await expectRejected(token, 401, 'invalid_token', /audience/);
  });

  it.each(['sub', 'exp', 'iat'])('missing %s -> 401 invalid_token', async (claim) => {
    await expectRejected(await issuer.mint({ claims: { [claim]: undefined } }), 401, 'invalid_token', new RegExp(`no ${claim} claim`));
  });

  it('an empty sub -> 401 invalid_token', async () => {
    await expectRejected(await issuer.mint({ claims: { sub: '' } }), 401, 'invalid_token', /sub claim/);
  });

  it('an ID token (typ JWT) -> 401 invalid_token', async () => {
    await expectRejected(await issuer.mint({ header: { typ: 'JWT' } }), 401, 'invalid_token', /ID token/);
  });

  it.each([
    ['abc.def.ghi', 'three garbage segments'],
    ['not-a-jwt', 'one segment'],
    [`${base64url.encode('{"alg":"RS256"')}.e30.sig`, 'a broken header'],
    [`${base64url.encode('{"alg":"RS256","typ":"at+jwt","kid":"k","crit":["x"]}')}.e30.c2ln`, 'an unknown crit'],
  ])('garbage token (%s: %s) -> 401 invalid_token', async (token) => {
    await expectRejected(token, 401, 'invalid_token');
  });

  it('the challenge never echoes the token', async () => {
    const token = await issuer.mint({ claims: { exp: now() - 3600, iat: now() - 7200 } });
    const response = await expectRejected(token, 401, 'invalid_token');
    expect(response.text).not.toContain(token.split('.')[2]);
    expect(response.headers.get('www-authenticate')).not.toContain(token.split('.')[1]);
  });
});

describe('configuration of the verifier', () => {
  it('AUTHGEAR_CLIENT_ID allowlist: a listed client_id passes, another -> 401 invalid_token', async () => {
    const restricted = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, AUTHGEAR_CLIENT_ID: 'web-app, ios-app' } });
    try {
      const allowed = await execute(restricted.url, '{ me { id } }', { token: await issuer.mint({ clientId: 'ios-app' }) });
      expect(allowed.body.data, show(allowed)).toEqual({ me: { id: 'user-1' } });
      const other = await execute(restricted.url, '{ me { id } }', { token: await issuer.mint({ clientId: 'someone-elses-app' }) });
      expect(other.status).toBe(401);
      expect(other.headers.get('www-authenticate')).toMatch(/invalid_token.*AUTHGEAR_CLIENT_ID/);
    } finally {
      await restricted.stop();
    }
  });

  it('AUTHGEAR_ENDPOINT with a trailing slash still matches the iss of Authgear tokens', async () => {
    const slashed = await startServer({ env: { AUTHGEAR_ENDPOINT: `${issuer.url}/` } });
    try {
      const response = await execute(slashed.url, '{ me { id } }', { token: await issuer.mint() });
      expect(response.body.data, show(response)).toEqual({ me: { id: 'user-1' } });
    } finally {
      await slashed.stop();
    }
  });

  it('JWT_TYP=any accepts providers that send typ JWT; the default refuses them', async () => {
    const relaxed = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, JWT_TYP: 'any' } });
    try {
      const token = await issuer.mint({ header: { typ: 'JWT' } });
      const response = await execute(relaxed.url, '{ me { id } }', { token });
      expect(response.body.data, show(response)).toEqual({ me: { id: 'user-1' } });
    } finally {
      await relaxed.stop();
    }
  });

  it('JWT_AUDIENCE replaces the endpoint as the required audience', async () => {
    const api = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, JWT_AUDIENCE: 'https://api.example.com' } });
    try {
      const forApi = await execute(api.url, '{ me { id } }', { token: await issuer.mint({ claims: { aud: ['https://api.example.com'] } }) });
      expect(forApi.status, show(forApi)).toBe(200);
      const forEndpoint = await execute(api.url, '{ me { id } }', { token: await issuer.mint() });
      expect(forEndpoint.status).toBe(401);
    } finally {
      await api.stop();
    }
  });

  it('a verified token is cached, but never past its exp', async () => {
    const strict = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, JWT_CLOCK_TOLERANCE: '0' } });
    try {
      // exp is in whole seconds: 3 s leaves at least 2 s of validity for the first requests.
      const exp = now() + 3;
      const token = await issuer.mint({ claims: { exp } });
      expect((await execute(strict.url, '{ me { id } }', { token })).status).toBe(200);
      const jwksBefore = issuer.hits.jwks;
      expect((await execute(strict.url, '{ me { id } }', { token })).status).toBe(200);
      expect(issuer.hits.jwks).toBe(jwksBefore);
      await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 100));
      const expired = await execute(strict.url, '{ me { id } }', { token });
      expect(expired.status, show(expired)).toBe(401);
      expect(expired.headers.get('www-authenticate')).toMatch(/expired/);
    } finally {
      await strict.stop();
    }
  });
});

describe('refusals that time or a new key can cure are not remembered', () => {
  it('a token refused for an unknown kid passes once the issuer publishes that key', async () => {
    const rotating = await startTestIssuer();
    const api = await startServer({ env: { AUTHGEAR_ENDPOINT: rotating.url }, deps: { verifier: { jwksCooldownMs: 0 } } });
    try {
      const upcoming = await generateSigningKey();
      const token = await rotating.mint({ sub: 'early-bird', key: upcoming });
      expect((await execute(api.url, '{ me { id } }', { token })).status).toBe(401);
      rotating.issuer.rotate(upcoming);
      const later = await execute(api.url, '{ me { id } }', { token });
      expect(later.body, show(later)).toEqual({ data: { me: { id: 'early-bird' } } });
    } finally {
      await api.stop();
      await rotating.close();
    }
  });

  it('a token refused as not yet valid passes once its nbf is reached', async () => {
    const strict = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, JWT_CLOCK_TOLERANCE: '0' } });
    try {
      // Two seconds ahead: at least a whole second before it is valid, wherever in its second the clock is.
      const nbf = now() + 2;
      const token = await issuer.mint({ sub: 'patient', claims: { nbf } });
      expect((await execute(strict.url, '{ me { id } }', { token })).status).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, nbf * 1000 - Date.now() + 100));
      const later = await execute(strict.url, '{ me { id } }', { token });
      expect(later.body, show(later)).toEqual({ data: { me: { id: 'patient' } } });
    } finally {
      await strict.stop();
    }
  });

  it('a refused token is refused again, with the same description', async () => {
    const token = await issuer.mint({ claims: { iat: now() - 7200, exp: now() - 3600 } });
    const first = await expectRejected(token, 401, 'invalid_token', /expired/);
    const second = await expectRejected(token, 401, 'invalid_token', /expired/);
    expect(second.headers.get('www-authenticate')).toBe(first.headers.get('www-authenticate'));
  });
});

describe('the issuer and its keys', () => {
  it('rotates keys without a restart: tokens of the new key pass, and of the old key while it is published', async () => {
    const rotating = await startTestIssuer();
    const api = await startServer({ env: { AUTHGEAR_ENDPOINT: rotating.url }, deps: { verifier: { jwksCooldownMs: 0 } } });
    try {
      const originalKey = rotating.issuer.signingKey;
      const oldToken = await rotating.mint({ sub: 'before-rotation' });
      expect((await execute(api.url, '{ me { id } }', { token: oldToken })).status).toBe(200);

      rotating.issuer.rotate(await generateSigningKey());
      const newToken = await rotating.mint({ sub: 'after-rotation' });
      const fresh = await execute(api.url, '{ me { id } }', { token: newToken });
      expect(fresh.body.data, show(fresh)).toEqual({ me: { id: 'after-rotation' } });
      const old = await execute(api.url, '{ me { id } }', { token: await rotating.mint({ sub: 'old-key', key: originalKey }) });
      expect(old.body.data, show(old)).toEqual({ me: { id: 'old-key' } });
    } finally {
      await api.stop();
      await rotating.close();
    }
  });

  it('a burst of tokens with unknown kids fetches the JWKS at most twice', async () => {
    const watched = await startTestIssuer();
    const api = await startServer({ env: { AUTHGEAR_ENDPOINT: watched.url } });
    try {
      await execute(api.url, '{ me { id } }', { token: await watched.mint() });
      const jwksBefore = watched.hits.jwks;
      const strangers = await Promise.all(Array.from({ length: 10 }, () => generateSigningKey()));
      const tokens = await Promise.all(strangers.map((key) => watched.mint({ key })));
      const responses = await Promise.all(tokens.concat(tokens, tokens).map((token) => execute(api.url, '{ me { id } }', { token })));
      expect(responses.map((r) => r.status)).toEqual(Array(30).fill(401));
      expect(watched.hits.jwks - jwksBefore).toBeLessThanOrEqual(1);
      expect(watched.hits.jwks).toBeLessThanOrEqual(2);
    } finally {
      await api.stop();
      await watched.close();
    }
  });

  it.each([
    ['down', 'resets every connection'],
    ['hang', 'never answers'],
    ['garbage', 'answers 200 with HTML'],
  ] as const)('issuer %s (%s) before any key was fetched -> 503 AUTH_PROVIDER_UNAVAILABLE with Retry-After', async (mode, _behaviour) => {
    const flaky = await startTestIssuer();
    flaky.mode = mode;
    const api = await startServer({ env: { AUTHGEAR_ENDPOINT: flaky.url }, deps: { verifier: { httpTimeoutMs: 300 } } });
    try {
      const response = await execute(api.url, '{ serverInfo { name } }', { token: await flaky.mint() });
      expect(response.status, show(response)).toBe(503);
      expect(codes(response)).toEqual(['AUTH_PROVIDER_UNAVAILABLE']);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect(response.body.data).toBeUndefined();
    } finally {
      await api.stop();
      await flaky.close();
    }
  });

  it('an unreachable AUTHGEAR_ENDPOINT (nothing listening) -> 503, and /readyz says so', async () => {
    const gone = await startTestIssuer();
    const url = gone.url;
    await gone.close();
    const api = await startServer({ env: { AUTHGEAR_ENDPOINT: url } });
    try {
      const response = await execute(api.url, '{ me { id } }', { token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' });
      expect(response.status, show(response)).toBe(503);
      expect(codes(response)).toEqual(['AUTH_PROVIDER_UNAVAILABLE']);
      const ready = await fetch(`${api.origin}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ ready: false, checks: { database: 'ok', authProvider: 'failing' } });
    } finally {
      await api.stop();
    }
  });

  it('a discovery document announcing another issuer -> 503, logged with the reason', async () => {
    const impostor = await startTestIssuer();
    impostor.announcedIssuer = 'https://someone-else.example';
    const api = await startServer({ env: { AUTHGEAR_ENDPOINT: impostor.url } });
    try {
      const response = await execute(api.url, '{ me { id } }', { token: await impostor.mint() });
      expect(response.status).toBe(503);
      expect(api.rawLogs()).toContain('announces issuer \\"https://someone-else.example\\"');
    } finally {
      await api.stop();
      await impostor.close();
    }
  });

  it('the issuer going down after keys were fetched: cached keys keep working, a new kid -> 503', async () => {
    const flaky = await startTestIssuer();
    const api = await startServer({ env: { AUTHGEAR_ENDPOINT: flaky.url }, deps: { verifier: { jwksMaxAgeMs: 0, jwksCooldownMs: 0 } } });
    try {
      expect((await execute(api.url, '{ me { id } }', { token: await flaky.mint({ sub: 'warm-up' }) })).status).toBe(200);
      flaky.mode = 'down';
      const known = await execute(api.url, '{ me { id } }', { token: await flaky.mint({ sub: 'during-outage' }) });
      expect(known.body.data, show(known)).toEqual({ me: { id: 'during-outage' } });
      const unknownKid = await execute(api.url, '{ me { id } }', { token: await flaky.mint({ key: strangerKey }) });
      expect(unknownKid.status, show(unknownKid)).toBe(503);
      flaky.mode = 'up';
      const recovered = await execute(api.url, '{ me { id } }', { token: await flaky.mint({ sub: 'after-outage' }) });
      expect(recovered.status).toBe(200);
    } finally {
      await api.stop();
      await flaky.close();
    }
  });
});

describe('the issuer hanging after keys were fetched', () => {
  it('one request waits for the timed-out fetch; the next ones use the cached keys without asking again', async () => {
    const slow = await startTestIssuer();
    const api = await startServer({
      env: { AUTHGEAR_ENDPOINT: slow.url },
      deps: { verifier: { jwksMaxAgeMs: 0, jwksCooldownMs: 60_000, httpTimeoutMs: 300 } },
    });
    try {
      expect((await execute(api.url, '{ me { id } }', { token: await slow.mint({ sub: 'before' }) })).status).toBe(200);
      slow.mode = 'hang';
      const hitsBefore = slow.hits.jwks;
      const first = await execute(api.url, '{ me { id } }', { token: await slow.mint({ sub: 'first' }) });
      expect(first.body, show(first)).toEqual({ data: { me: { id: 'first' } } });
      expect(slow.hits.jwks).toBe(hitsBefore + 1);
      for (const sub of ['second', 'third']) {
        const next = await execute(api.url, '{ me { id } }', { token: await slow.mint({ sub }) });
        expect(next.body, show(next)).toEqual({ data: { me: { id: sub } } });
      }
      expect(slow.hits.jwks, 'no new fetch while the last one failed recently').toBe(hitsBefore + 1);
    } finally {
      await api.stop();
      await slow.close();
    }
  });
});

describe('secrets stay secret', () => {
  it('tokens, valid or not, never appear in responses or logs', async () => {
    const valid = await issuer.mint({ sub: 'secretive' });
    const expired = await issuer.mint({ claims: { exp: now() - 60, iat: now() - 120 } });
    const forged = tamperSignature(valid);
    const sent: string[] = [valid, expired, forged, await issuer.mint({ key: strangerKey })];
    const bodies: string[] = [];
    for (const token of sent) {
      for (const query of ['{ me { id } }', '{ nope }', '{ serverInfo { name } }']) {
        const response = await execute(server.url, query, { token });
        bodies.push(response.text, [...response.headers.values()].join('\n'));
      }
    }
    const logs = server.rawLogs();
    for (const token of sent) {
      const signature = token.split('.')[2] ?? '';
      for (const text of [...bodies, logs]) expect(text).not.toContain(signature);
    }
    expect(server.logs.some((line) => line['authFailure'] === 'invalid_token' && typeof line['authReason'] === 'string')).toBe(true);
  });
});
