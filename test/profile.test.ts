import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { graphql } from 'graphql';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEV_USERINFO_CLAIM, type MintOptions } from '../src/auth/dev-issuer.js';
import { createDiscovery } from '../src/auth/discovery.js';
import { createProfiles } from '../src/auth/profiles.js';
import { createUserInfoClient } from '../src/auth/userinfo.js';
import { viewerFromClaims } from '../src/auth/viewer.js';
import { modules } from '../src/modules/index.js';
import { DateTime } from '../src/scalars.js';
import { mergeResolvers } from '../src/schema.js';
import { codes, execute, show, type GraphQLResponse } from './helpers/graphql.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { allTypeDefs, moduleOptions, notesContext } from './helpers/modules.js';
import { startServer, type TestServer } from './helpers/server.js';
import { openRaw, wsUrl } from './helpers/ws.js';

const API_RESOURCE = 'https://api.example.com';
const ALL_FIELDS = 'email emailVerified phoneNumber phoneNumberVerified name givenName familyName picture locale';

/** What the test issuer's UserInfo answers for Alice (carried in her token, as the dev issuer does). */
const ALICE = {
  email: 'alice@example.com',
  email_verified: true,
  phone_number: '+85298765432',
  phone_number_verified: false,
  name: 'Alice Liddell',
  given_name: 'Alice',
  family_name: 'Liddell',
  picture: 'https://example.com/alice.png',
  locale: 'en-GB',
};
const ALICE_PROFILE = {
  email: 'alice@example.com',
  emailVerified: true,
  phoneNumber: '+85298765432',
  phoneNumberVerified: false,
  name: 'Alice Liddell',
  givenName: 'Alice',
  familyName: 'Liddell',
  picture: 'https://example.com/alice.png',
  locale: 'en-GB',
};

let issuer: TestIssuer;
/** PROFILE_CACHE_TTL 60 (the default), resolver mode on, UserInfo timeout 500 ms. */
let server: TestServer;
/** PROFILE_CACHE_TTL=0: nothing is kept, so each UserInfo call shows. */
let uncached: TestServer;
/** PROFILE_CACHE_TTL=1, for expiry. */
let shortLived: TestServer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  const env = { AUTHGEAR_ENDPOINT: issuer.url, AUTHGEAR_API_RESOURCE: API_RESOURCE, TRUSTED_PROXIES: '127.0.0.1' };
  [server, uncached, shortLived] = await Promise.all([
    startServer({ env, deps: { userinfoTimeoutMs: 500 } }),
    startServer({ env: { ...env, PROFILE_CACHE_TTL: '0' } }),
    startServer({ env: { ...env, PROFILE_CACHE_TTL: '1' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([server.stop(), uncached.stop(), shortLived.stop()]);
  await issuer.close();
});
beforeEach(() => {
  issuer.userinfo = 'up';
  issuer.userinfoDelayMs = 0;
});

/** A user of their own per test, so that no test sees another's cache entry. */
function newUser(): string {
  return `user-${randomUUID()}`;
}

/** Alice's token: her profile only in UserInfo (as Authgear's SPA tokens), plus `claims` in the token itself. */
function aliceToken(sub: string, options: Partial<MintOptions> = {}): Promise<string> {
  return issuer.mint({ sub, userinfo: ALICE, ...options });
}

/** Runs `query` and returns the response with how many UserInfo calls it caused. */
async function counted(target: TestServer, query: string, token: string, variables?: Record<string, unknown>): Promise<[GraphQLResponse, number]> {
  const before = issuer.hits.userinfo;
  const response = await execute(target.url, query, { token, ...(variables ? { variables } : {}) });
  expect(response.status, show(response)).toBe(200);
  return [response, issuer.hits.userinfo - before];
}

const profileOf = (response: GraphQLResponse) => (response.body.data?.['me'] as { profile?: unknown } | undefined)?.profile;

describe('Viewer.profile values', () => {
  it("a user's profile is what the issuer's UserInfo answers for their token, every field", async () => {
    const [response, calls] = await counted(server, `{ me { id profile { ${ALL_FIELDS} } } }`, await aliceToken(newUser()));
    expect(response.body.errors, show(response)).toBeUndefined();
    expect(profileOf(response)).toEqual(ALICE_PROFILE);
    expect(calls).toBe(1);
  });

  it('a user UserInfo knows nothing about gets a profile of nulls, not an error', async () => {
    const [response] = await counted(server, `{ me { profile { ${ALL_FIELDS} } } }`, await issuer.mint({ sub: newUser() }));
    expect(response.body.errors, show(response)).toBeUndefined();
    expect(profileOf(response)).toEqual(Object.fromEntries(Object.keys(ALICE_PROFILE).map((field) => [field, null])));
  });

  it('a claim of the wrong JSON type reads as null (nothing untyped reaches a client)', async () => {
    const token = await issuer.mint({ sub: newUser(), userinfo: { email: 'x@example.com', email_verified: 'yes' } });
    const [response] = await counted(server, '{ me { profile { email emailVerified } } }', token);
    expect(profileOf(response)).toEqual({ email: 'x@example.com', emailVerified: null });
  });

  it("a service's profile is null without an error, and UserInfo is not asked", async () => {
    const token = await issuer.issuer.mintService({ clientId: 'reporting', scopes: [], audience: API_RESOURCE });
    const [response, calls] = await counted(server, '{ me { kind profile { email } } }', token);
    expect(response.body).toEqual({ data: { me: { kind: 'SERVICE', profile: null } } });
    expect(calls).toBe(0);
  });
});

describe('UserInfo is asked only when the operation selects a profile field the token lacks', () => {
  it('no profile field selected -> no call', async () => {
    const [, calls] = await counted(server, '{ me { id roles } }', await aliceToken(newUser()));
    expect(calls).toBe(0);
  });

  it('only __typename of the profile selected -> no call', async () => {
    const [response, calls] = await counted(server, '{ me { profile { __typename } } }', await aliceToken(newUser()));
    expect(profileOf(response)).toEqual({ __typename: 'Profile' });
    expect(calls).toBe(0);
  });

  it('a field selected through a named fragment or an inline fragment -> one call', async () => {
    const named = await counted(server, '{ me { profile { ...P } } } fragment P on Profile { email }', await aliceToken(newUser()));
    expect(profileOf(named[0])).toEqual({ email: ALICE.email });
    expect(named[1]).toBe(1);
    const inline = await counted(server, '{ me { ... on Viewer { profile { ... on Profile { name } } } } }', await aliceToken(newUser()));
    expect(profileOf(inline[0])).toEqual({ name: ALICE.name });
    expect(inline[1]).toBe(1);
  });

  it('@skip(if: true) or @include(if: false), on the profile or on its fields -> no call; @include(if: true) -> one', async () => {
    const query = 'query ($with: Boolean!) { me { id profile @include(if: $with) { email } } }';
    expect((await counted(server, query, await aliceToken(newUser()), { with: false }))[1]).toBe(0);
    expect((await counted(server, query, await aliceToken(newUser()), { with: true }))[1]).toBe(1);
    const skipped = await counted(server, 'query ($skip: Boolean!) { me { profile { __typename email @skip(if: $skip) } } }', await aliceToken(newUser()), { skip: true });
    expect(profileOf(skipped[0])).toEqual({ __typename: 'Profile' });
    expect(skipped[1]).toBe(0);
    const fragmentSkipped = await counted(server, '{ me { profile { __typename ...P @skip(if: true) } } } fragment P on Profile { email }', await aliceToken(newUser()));
    expect(fragmentSkipped[1]).toBe(0);
  });

  it('one call per operation, however many times it selects the profile (aliases, cache off)', async () => {
    const [response, calls] = await counted(uncached, '{ me { a: profile { email } b: profile { name locale } } }', await aliceToken(newUser()));
    expect(response.body.data).toEqual({ me: { a: { email: ALICE.email }, b: { name: ALICE.name, locale: ALICE.locale } } });
    expect(calls).toBe(1);
  });
});

describe("the token's own claims come first", () => {
  it('the token has every selected field -> its values, no call', async () => {
    const token = await aliceToken(newUser(), { claims: { email: 'alice@token.example', name: 'Alice (token)' } });
    const [response, calls] = await counted(uncached, '{ me { profile { email name } } }', token);
    expect(profileOf(response)).toEqual({ email: 'alice@token.example', name: 'Alice (token)' });
    expect(calls).toBe(0);
  });

  it('the token lacks one selected field -> one call, and each field the token has still comes from the token', async () => {
    const token = await aliceToken(newUser(), { claims: { email: 'alice@token.example' } });
    const [response, calls] = await counted(uncached, '{ me { profile { email locale } } }', token);
    expect(profileOf(response)).toEqual({ email: 'alice@token.example', locale: ALICE.locale });
    expect(calls).toBe(1);
  });

  it('a claim present but null counts as absent -> UserInfo is asked for it', async () => {
    const token = await aliceToken(newUser(), { claims: { email: null } });
    const [response, calls] = await counted(uncached, '{ me { profile { email } } }', token);
    expect(profileOf(response)).toEqual({ email: ALICE.email });
    expect(calls).toBe(1);
  });

  it("the dev issuer's private userinfo claim is never read as the token's own claims -> UserInfo is still asked", async () => {
    const token = await aliceToken(newUser());
    expect(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString())).toHaveProperty([DEV_USERINFO_CLAIM, 'email'], ALICE.email);
    const [, calls] = await counted(uncached, '{ me { profile { email } } }', token);
    expect(calls).toBe(1);
  });
});

describe('the per-user cache', () => {
  it('a second operation of the same user within PROFILE_CACHE_TTL -> no call, even with another token of theirs', async () => {
    const sub = newUser();
    expect((await counted(server, '{ me { profile { email } } }', await aliceToken(sub)))[1]).toBe(1);
    const [response, calls] = await counted(server, '{ me { profile { name } } }', await aliceToken(sub));
    expect(profileOf(response)).toEqual({ name: ALICE.name });
    expect(calls).toBe(0);
  });

  it('another user is never answered from the first one\'s entry', async () => {
    await counted(server, '{ me { profile { email } } }', await aliceToken(newUser()));
    const [response, calls] = await counted(server, '{ me { profile { email } } }', await issuer.mint({ sub: newUser(), userinfo: { email: 'bob@example.com' } }));
    expect(profileOf(response)).toEqual({ email: 'bob@example.com' });
    expect(calls).toBe(1);
  });

  it('an entry expires after PROFILE_CACHE_TTL seconds -> the next operation asks again', async () => {
    const token = await aliceToken(newUser());
    expect((await counted(shortLived, '{ me { profile { email } } }', token))[1]).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await counted(shortLived, '{ me { profile { email } } }', token))[1]).toBe(1);
  });

  it('PROFILE_CACHE_TTL=0 keeps nothing: each operation asks', async () => {
    const token = await aliceToken(newUser());
    expect((await counted(uncached, '{ me { profile { email } } }', token))[1]).toBe(1);
    expect((await counted(uncached, '{ me { profile { email } } }', token))[1]).toBe(1);
  });

  it("forget(userId) drops the user's entry (webhooks: user.profile.updated, removal) -> the next operation asks again", async () => {
    const sub = newUser();
    const token = await aliceToken(sub);
    expect((await counted(server, '{ me { profile { email } } }', token))[1]).toBe(1);
    expect((await counted(server, '{ me { profile { email } } }', token))[1]).toBe(0);
    server.profiles.forget(sub);
    expect((await counted(server, '{ me { profile { email } } }', token))[1]).toBe(1);
  });

  it('concurrent operations of one user share one call in flight (cache off)', async () => {
    issuer.userinfoDelayMs = 1500;
    const token = await aliceToken(newUser());
    const before = issuer.hits.userinfo;
    const responses = await Promise.all(Array.from({ length: 5 }, () => execute(uncached.url, '{ me { profile { email } } }', { token })));
    for (const response of responses) expect(profileOf(response), show(response)).toEqual({ email: ALICE.email });
    expect(issuer.hits.userinfo - before).toBe(1);
  });
});

describe('UserInfo failures: the profile alone is null, the rest of the operation is answered with HTTP 200', () => {
  const QUERY = '{ me { id profile { email } } }';

  async function failed(mode: TestIssuer['userinfo']): Promise<GraphQLResponse> {
    const sub = newUser();
    issuer.userinfo = mode;
    const [response, calls] = await counted(server, QUERY, await aliceToken(sub));
    expect(calls).toBe(1);
    expect(response.body.data, show(response)).toEqual({ me: { id: sub, profile: null } });
    expect(response.body.errors?.length, show(response)).toBe(1);
    expect(response.body.errors?.[0]?.path).toEqual(['me', 'profile']);
    // Not cached: once UserInfo is back, the same user gets a profile.
    issuer.userinfo = 'up';
    const [again, retried] = await counted(server, QUERY, await aliceToken(sub));
    expect(profileOf(again)).toEqual({ email: ALICE.email });
    expect(retried).toBe(1);
    return response;
  }

  for (const mode of ['down', 'hang', '503'] as const) {
    it(`UserInfo ${mode === 'down' ? 'refusing connections' : mode === 'hang' ? 'past its timeout' : 'answering 503'} -> SERVICE_UNAVAILABLE, retryable: true`, async () => {
      const response = await failed(mode);
      expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true, reason: 'userinfo_unavailable' });
    });
  }

  it('UserInfo answering 401 (session revoked at the issuer) -> UNAUTHENTICATED, HTTP still 200', async () => {
    const response = await failed('401');
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'userinfo_token_refused' });
    expect(response.headers.get('www-authenticate')).toBeNull();
  });

  it('UserInfo answering about another subject -> its answer is not used (OIDC Core 5.3.2): SERVICE_UNAVAILABLE, retryable: false', async () => {
    const response = await failed('other-sub');
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: false, reason: 'userinfo_unusable' });
    expect(response.text).not.toContain('someone-else@example.com');
  });

  it('UserInfo down while a user is cached -> the cached profile, no error', async () => {
    const token = await aliceToken(newUser());
    await counted(server, QUERY, token);
    issuer.userinfo = 'down';
    const [response, calls] = await counted(server, QUERY, token);
    expect(response.body.errors).toBeUndefined();
    expect(profileOf(response)).toEqual({ email: ALICE.email });
    expect(calls).toBe(0);
  });
});

describe('resolver-mode viewers (forward authentication)', () => {
  const resolverHeaders = (sub: string) => ({
    'x-authgear-session-valid': 'true',
    'x-authgear-user-id': sub,
    'x-authgear-user-verified': 'true',
    'x-authgear-user-anonymous': 'false',
    'x-authgear-user-can-reauthenticate': 'true',
  });

  it('no access token in the request, nothing cached -> profile null, FORBIDDEN reason access_token_required, the rest answered', async () => {
    const sub = newUser();
    const before = issuer.hits.userinfo;
    const response = await execute(server.url, '{ me { id profile { email } } }', { headers: resolverHeaders(sub) });
    expect(response.status, show(response)).toBe(200);
    expect(response.body.data).toEqual({ me: { id: sub, profile: null } });
    expect(response.body.errors?.[0]).toMatchObject({ path: ['me', 'profile'], extensions: { code: 'FORBIDDEN', reason: 'access_token_required' } });
    expect(issuer.hits.userinfo - before).toBe(0);
  });

  it('no access token, the user cached by an earlier request -> the cached profile', async () => {
    const sub = newUser();
    await counted(server, '{ me { profile { email } } }', await aliceToken(sub));
    const response = await execute(server.url, '{ me { profile { email name } } }', { headers: resolverHeaders(sub) });
    expect(response.body, show(response)).toEqual({ data: { me: { profile: { email: ALICE.email, name: ALICE.name } } } });
  });

  it('the proxy passed the Bearer header along -> UserInfo is asked with it', async () => {
    const sub = newUser();
    const before = issuer.hits.userinfo;
    const response = await execute(server.url, '{ me { profile { email } } }', {
      headers: { ...resolverHeaders(sub), authorization: `Bearer ${await aliceToken(sub)}` },
    });
    expect(response.body, show(response)).toEqual({ data: { me: { profile: { email: ALICE.email } } } });
    expect(issuer.hits.userinfo - before).toBe(1);
  });

  it("a Bearer header of another user than the resolver's -> UserInfo's answer is not used", async () => {
    const response = await execute(server.url, '{ me { profile { email } } }', {
      headers: { ...resolverHeaders(newUser()), authorization: `Bearer ${await aliceToken(newUser())}` },
    });
    expect(profileOf(response)).toBeNull();
    expect(codes(response)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(response.text).not.toContain(ALICE.email);
  });
});

describe('over WebSocket', () => {
  it("a query on a connection authenticated in connection_init asks UserInfo with that connection's token", async () => {
    const connection = await openRaw(wsUrl(server.url));
    try {
      await connection.init({ Authorization: `Bearer ${await aliceToken(newUser())}` });
      connection.subscribe('1', '{ me { profile { email name } } }');
      const next = await connection.next((message) => message.type === 'next' && message.id === '1');
      expect(next.payload).toEqual({ data: { me: { profile: { email: ALICE.email, name: ALICE.name } } } });
    } finally {
      await connection.close();
    }
  });
});

describe('personal data stays out of logs and metrics', () => {
  it("after profile queries, failures included, no log line and no metric carries the user's e-mail, phone or name", async () => {
    const token = await aliceToken(newUser());
    await counted(server, `{ me { profile { ${ALL_FIELDS} } } }`, token);
    issuer.userinfo = '503';
    await counted(server, `{ me { profile { ${ALL_FIELDS} } } }`, await aliceToken(newUser()));
    issuer.userinfo = 'up';
    const logs = server.rawLogs();
    expect(logs).toContain('userinfo failed');
    const metrics = await (await fetch(server.metricsUrl ?? '')).text();
    expect(metrics).toMatch(/issuer_fetches_total\{document="userinfo",result="ok"\} \d+/);
    for (const text of [logs, metrics]) {
      for (const value of [ALICE.email, ALICE.phone_number, ALICE.name, ALICE.family_name, token]) expect(text).not.toContain(value);
    }
  });
});

describe("a user reads their own profile only", () => {
  it("a Viewer other than the request's own (a future resolver returning another user) -> its profile is FORBIDDEN, UserInfo not asked", async () => {
    const resolvers = mergeResolvers(modules, moduleOptions) as Record<string, object>;
    const schema = makeExecutableSchema({
      typeDefs: [...allTypeDefs(), 'extend type Query { someoneElse: Viewer }'],
      resolvers: { DateTime, ...resolvers, Query: { ...resolvers['Query'], someoneElse: () => viewerFromClaims({ sub: 'someone-else' }) } },
    });
    const profiles = createProfiles({
      userinfo: createUserInfoClient({ endpoint: () => Promise.resolve(new URL(`${issuer.url}/oauth2/userinfo`)), timeoutMs: 2000 }),
      cacheTtlSeconds: 60,
      logger: pino({ level: 'silent' }),
    });
    const token = await aliceToken('me');
    const contextValue = notesContext({
      viewer: viewerFromClaims({ sub: 'me' }),
      profiles,
      credential: { headers: { map: new HeaderMap(), authorization: [`Bearer ${token}`], authgear: [] }, trustedPeer: false },
    });
    const before = issuer.hits.userinfo;
    const result = await graphql({ schema, source: '{ someoneElse { id profile { email } } }', contextValue });
    expect(result.data).toEqual({ someoneElse: { id: 'someone-else', profile: null } });
    expect(result.errors?.map((error) => error.extensions['code'])).toEqual(['FORBIDDEN']);
    expect(issuer.hits.userinfo - before).toBe(0);
  });
});

describe("discovery's userinfo_endpoint", () => {
  async function discover(document: Record<string, unknown>) {
    const http = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: origin, jwks_uri: `${origin}/jwks`, ...document }));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      return await createDiscovery({ issuer: origin, timeoutMs: 2000, retryAfterMs: 1000 }).get();
    } finally {
      http.close();
    }
  }

  it('announced over https (or loopback http) -> used; absent -> null (the profile answers userinfo_unusable)', async () => {
    expect((await discover({ userinfo_endpoint: 'https://auth.example.com/oauth2/userinfo' })).userinfoEndpoint?.href).toBe('https://auth.example.com/oauth2/userinfo');
    expect((await discover({})).userinfoEndpoint).toBeNull();
  });

  it('announced over plain http to another host -> the discovery document is refused: the access token would travel in clear', async () => {
    await expect(discover({ userinfo_endpoint: 'http://auth.example.com/oauth2/userinfo' })).rejects.toThrow(/userinfo_endpoint .*only an https:\/\//);
  });
});
