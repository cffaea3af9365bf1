import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, execute, show, type GraphQLResponse } from './helpers/graphql.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';

// Service principals (DESIGN 14, issue 13) over real HTTP: which tokens are
// services, which audiences are accepted, and what a service may do.

const API_RESOURCE = 'https://api.example.com';
const ME = '{ me { kind id roles scopes isVerified isAnonymous authenticatedAt } }';
const ALL_NOTES = '{ allNotes(first: 100) { edges { node { id ownerId } } } }';

let issuer: TestIssuer;
let server: TestServer;
let alicesNote: string;

const service = (clientId: string, scopes: string[], options: { audience?: string; claims?: Record<string, unknown> } = {}) =>
  issuer.issuer.mintService({ clientId, scopes, audience: options.audience ?? API_RESOURCE, ...(options.claims ? { claims: options.claims } : {}) });

async function expectInvalidToken(response: GraphQLResponse, description: RegExp): Promise<void> {
  expect(response.status, show(response)).toBe(401);
  expect(codes(response)).toEqual(['UNAUTHENTICATED']);
  expect(response.body.data, 'a refused token is never a guest').toBeUndefined();
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);
  expect(response.headers.get('www-authenticate')).toMatch(description);
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, AUTHGEAR_API_RESOURCE: API_RESOURCE } });
  const alice = await issuer.mint({ sub: 'alice', verified: true });
  const bob = await issuer.mint({ sub: 'bob', verified: true });
  for (const [token, title] of [[alice, "alice's note"], [bob, "bob's note"]] as const) {
    const created = await execute(server.url, 'mutation($t: String!) { createNote(input: { title: $t, body: "b" }) { id } }', { token, variables: { t: title } });
    const id = (created.body.data?.['createNote'] as { id: string } | undefined)?.id;
    if (id === undefined) throw new Error(show(created));
    if (title === "alice's note") alicesNote = id;
  }
});
afterAll(async () => {
  await server.stop();
  await issuer.close();
});

describe('which tokens are services', () => {
  it.each([
    ['aud an array', [API_RESOURCE]],
    ['aud a string', API_RESOURCE],
  ])("Authgear's M2M shape (sub client_id_<id>, %s = AUTHGEAR_API_RESOURCE) -> a service", async (_label, aud) => {
    const token = await service('reporting', ['notes:read'], { claims: { aud } });
    const response = await execute(server.url, ME, { token });
    expect(response.body, show(response)).toEqual({
      data: { me: { kind: 'SERVICE', id: 'reporting', roles: [], scopes: ['notes:read'], isVerified: false, isAnonymous: false, authenticatedAt: null } },
    });
  });

  it("RFC 9068's shape (sub = client_id) -> a service", async () => {
    const token = await service('billing', ['notes:read', 'reports:write'], { claims: { sub: 'billing' } });
    const response = await execute(server.url, ME, { token });
    expect(response.body.data?.['me'], show(response)).toMatchObject({ kind: 'SERVICE', id: 'billing', scopes: ['notes:read', 'reports:write'] });
  });

  it('a sub that only looks like a service\'s (client_id_x with another client_id) -> a user', async () => {
    const token = await issuer.mint({ sub: 'client_id_reporting', clientId: 'web-app' });
    const response = await execute(server.url, '{ me { kind id scopes } }', { token });
    expect(response.body.data?.['me'], show(response)).toEqual({ kind: 'USER', id: 'client_id_reporting', scopes: [] });
  });

  it('a user token with a scope claim does not gain scopes, even one issued for the API resource', async () => {
    for (const aud of [[issuer.url], [API_RESOURCE]]) {
      const token = await issuer.mint({ sub: 'scoped-user', verified: true, claims: { aud, scope: 'openid notes:read' } });
      const me = await execute(server.url, '{ me { kind scopes } }', { token });
      expect(me.body.data?.['me'], show(me)).toEqual({ kind: 'USER', scopes: [] });
      const all = await execute(server.url, ALL_NOTES, { token });
      expect(codes(all), show(all)).toEqual(['FORBIDDEN']);
    }
  });
});

describe('which audiences are accepted', () => {
  it('service token for another resource -> 401 invalid_token', async () => {
    const token = await service('reporting', ['notes:read'], { audience: 'https://other-api.example.com' });
    await expectInvalidToken(await execute(server.url, ALL_NOTES, { token }), /another audience/);
  });

  it('AUTHGEAR_API_RESOURCE unset (a real endpoint): an Authgear M2M token -> 401 invalid_token', async () => {
    const plain = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url } });
    try {
      const token = await service('reporting', ['notes:read']);
      await expectInvalidToken(await execute(plain.url, ALL_NOTES, { token }), /another audience/);
    } finally {
      await plain.stop();
    }
  });

  it('the AUTHGEAR_CLIENT_ID allowlist applies to services: a listed one passes, another -> 401 invalid_token', async () => {
    const restricted = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, AUTHGEAR_API_RESOURCE: API_RESOURCE, AUTHGEAR_CLIENT_ID: 'web-app,reporting' } });
    try {
      const listed = await execute(restricted.url, '{ me { kind id } }', { token: await service('reporting', []) });
      expect(listed.body.data?.['me'], show(listed)).toEqual({ kind: 'SERVICE', id: 'reporting' });
      const other = await execute(restricted.url, '{ me { kind id } }', { token: await service('billing', ['notes:read']) });
      await expectInvalidToken(other, /AUTHGEAR_CLIENT_ID/);
    } finally {
      await restricted.stop();
    }
  });
});

describe('what a service with notes:read may do', () => {
  it("allNotes lists every user's notes; note(id) reads any of them", async () => {
    const token = await service('reporting', ['notes:read']);
    const all = await execute(server.url, ALL_NOTES, { token });
    const owners = (all.body.data?.['allNotes'] as { edges: { node: { ownerId: string } }[] } | undefined)?.edges.map((edge) => edge.node.ownerId);
    expect(owners, show(all)).toEqual(expect.arrayContaining(['alice', 'bob']));
    const one = await execute(server.url, 'query($id: ID!) { note(id: $id) { ownerId } }', { token, variables: { id: alicesNote } });
    expect(one.body, show(one)).toEqual({ data: { note: { ownerId: 'alice' } } });
  });

  it.each([
    ['myNotes', '{ myNotes { edges { node { id } } } }'],
    ['createNote', 'mutation { createNote(input: { title: "t", body: "b" }) { id } }'],
    ['updateNote', 'mutation($id: ID!) { updateNote(id: $id, input: { body: "changed" }) { id } }'],
    ['deleteNote', 'mutation($id: ID!) { deleteNote(id: $id) }'],
  ])('%s -> FORBIDDEN: a signed-in user is needed', async (_field, query) => {
    const token = await service('reporting', ['notes:read']);
    const response = await execute(server.url, query, { token, variables: query.includes('$id') ? { id: alicesNote } : undefined });
    expect(response.status, show(response)).toBe(200);
    expect(codes(response), show(response)).toEqual(['FORBIDDEN']);
    expect(response.body.errors?.[0]?.message).toBe('This needs a signed-in user: a service (machine-to-machine) token cannot do it.');
  });

  it("the refused writes changed nothing: alice's note is still there, unchanged", async () => {
    const alice = await issuer.mint({ sub: 'alice', verified: true });
    const response = await execute(server.url, 'query($id: ID!) { note(id: $id) { body } }', { token: alice, variables: { id: alicesNote } });
    expect(response.body, show(response)).toEqual({ data: { note: { body: 'b' } } });
  });
});
