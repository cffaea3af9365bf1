import { makeExecutableSchema } from '@graphql-tools/schema';
import { executeSync, graphql, isObjectType, parse, subscribe } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { allow, deny, shield } from 'graphql-shield';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MintOptions } from '../src/auth/dev-issuer.js';
import { viewerFromClaims } from '../src/auth/viewer.js';
import type { Context } from '../src/context.js';
import type { NoteRecord, NoteRepository } from '../src/db/notes.js';
import { createPermissions, createRuleTree } from '../src/permissions/index.js';
import { canReadNote } from '../src/permissions/rules.js';
import type { NoteEventFeed } from '../src/realtime/note-feed.js';
import { buildSchema } from '../src/schema.js';
import { loadTypeDefs } from '../src/type-defs.js';
import { codes, execute, show, type GraphQLResponse } from './helpers/graphql.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';

type Persona = 'guest' | 'anonymous' | 'unverified' | 'owner' | 'other' | 'admin';
const PERSONAS: Persona[] = ['guest', 'anonymous', 'unverified', 'owner', 'other', 'admin'];

const MINT: Record<Exclude<Persona, 'guest'>, Partial<MintOptions>> = {
  anonymous: { sub: 'anon-1', anonymous: true },
  unverified: { sub: 'unverified-1' },
  owner: { sub: 'owner-1', verified: true },
  other: { sub: 'other-1', verified: true },
  admin: { sub: 'admin-1', verified: true, roles: ['admin'] },
};

let issuer: TestIssuer;
let server: TestServer;
const tokens = {} as Record<Persona, string | undefined>;
let ownersNote: string;
let othersNote: string;

const NOTE_FIELDS = 'id title body ownerId createdAt updatedAt';

async function as(persona: Persona, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
  const token = tokens[persona];
  return execute(server.url, query, { variables, ...(token === undefined ? {} : { token }) });
}

/** 'ok' or the single error code: what the permissions table promises. */
function outcome(response: GraphQLResponse): string {
  expect(response.status, show(response)).toBe(200);
  const [code, ...more] = codes(response);
  expect(more, show(response)).toEqual([]);
  return code === undefined ? 'ok' : (code as string);
}

async function createNote(persona: Persona, title: string): Promise<string> {
  const response = await as(persona, 'mutation($input: CreateNoteInput!) { createNote(input: $input) { id } }', {
    input: { title, body: `${title} body` },
  });
  const id = (response.body.data?.['createNote'] as { id: string } | undefined)?.id;
  if (id === undefined) throw new Error(show(response));
  return id;
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, REAUTH_MAX_AGE: '300' } });
  tokens.guest = undefined;
  for (const [persona, options] of Object.entries(MINT)) tokens[persona as Persona] = await issuer.mint(options);
  ownersNote = await createNote('owner', "owner's note");
  othersNote = await createNote('other', "other's note");
});
afterAll(async () => {
  await server.stop();
  await issuer.close();
});

describe('every root field has an explicit rule', () => {
  it('walks the schema: no Query/Mutation/Subscription field and no object type is left to the fallback', () => {
    const schema = makeExecutableSchema({ typeDefs: loadTypeDefs() });
    const tree: Record<string, unknown> = createRuleTree({ reauthMaxAgeSeconds: 300 });
    const missing: string[] = [];
    for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
      if (!root) continue;
      const rules = tree[root.name] as Record<string, unknown> | undefined;
      for (const field of Object.keys(root.getFields())) {
        if (rules?.[field] === undefined) missing.push(`${root.name}.${field}`);
      }
    }
    for (const type of Object.values(schema.getTypeMap())) {
      if (isObjectType(type) && !type.name.startsWith('__') && tree[type.name] === undefined) missing.push(`type ${type.name}`);
    }
    expect(missing, `add these to src/permissions/index.ts: ${missing.join(', ')}`).toEqual([]);
  });

  it('the rule tree names no field or type the schema lacks (shield would throw at start-up)', () => {
    const schema = makeExecutableSchema({ typeDefs: loadTypeDefs() });
    const tree = createRuleTree({ reauthMaxAgeSeconds: 300 });
    for (const [typeName, rules] of Object.entries(tree)) {
      const type = schema.getType(typeName);
      expect(isObjectType(type), typeName).toBe(true);
      if (isObjectType(type) && typeof rules === 'object' && !('resolve' in rules)) {
        for (const field of Object.keys(rules)) expect(type.getFields(), `${typeName}.${field}`).toHaveProperty(field);
      }
    }
  });
});

describe('the permissions table, persona by persona', () => {
  const table: [string, () => [string, Record<string, unknown>?], Record<Persona, string>][] = [
    ['serverInfo', () => ['{ serverInfo { name } }'], { guest: 'ok', anonymous: 'ok', unverified: 'ok', owner: 'ok', other: 'ok', admin: 'ok' }],
    ['me', () => ['{ me { id } }'], { guest: 'UNAUTHENTICATED', anonymous: 'ok', unverified: 'ok', owner: 'ok', other: 'ok', admin: 'ok' }],
    [
      'myNotes',
      () => ['{ myNotes { id } }'],
      { guest: 'UNAUTHENTICATED', anonymous: 'FORBIDDEN', unverified: 'ok', owner: 'ok', other: 'ok', admin: 'ok' },
    ],
    [
      'note',
      () => ['query($id: ID!) { note(id: $id) { id } }', { id: ownersNote }],
      { guest: 'UNAUTHENTICATED', anonymous: 'ok', unverified: 'ok', owner: 'ok', other: 'ok', admin: 'ok' },
    ],
    [
      'allNotes',
      () => ['{ allNotes { id } }'],
      { guest: 'UNAUTHENTICATED', anonymous: 'FORBIDDEN', unverified: 'FORBIDDEN', owner: 'FORBIDDEN', other: 'FORBIDDEN', admin: 'ok' },
    ],
    [
      'createNote',
      () => ['mutation { createNote(input: { title: "t", body: "b" }) { id } }'],
      { guest: 'UNAUTHENTICATED', anonymous: 'FORBIDDEN', unverified: 'FORBIDDEN', owner: 'ok', other: 'ok', admin: 'ok' },
    ],
    [
      'updateNote',
      () => ['mutation($id: ID!) { updateNote(id: $id, input: { body: "changed" }) { id } }', { id: ownersNote }],
      { guest: 'UNAUTHENTICATED', anonymous: 'NOT_FOUND', unverified: 'NOT_FOUND', owner: 'ok', other: 'NOT_FOUND', admin: 'NOT_FOUND' },
    ],
    [
      'deleteNote (of a note that is not theirs)',
      () => ['mutation($id: ID!) { deleteNote(id: $id) }', { id: othersNote }],
      { guest: 'UNAUTHENTICATED', anonymous: 'NOT_FOUND', unverified: 'NOT_FOUND', owner: 'NOT_FOUND', other: 'ok', admin: 'NOT_FOUND' },
    ],
  ];

  for (const [field, operation, expected] of table) {
    it(`${field}: ${PERSONAS.map((p) => `${p} -> ${expected[p]}`).join(', ')}`, async () => {
      const actual = {} as Record<Persona, string>;
      for (const persona of PERSONAS) {
        const [query, variables] = operation();
        actual[persona] = outcome(await as(persona, query, variables));
      }
      expect(actual).toEqual(expected);
    });
  }
});

describe('what each persona sees', () => {
  it("note(id): the owner and admins get it; anyone else gets null, indistinguishable from a missing id", async () => {
    const query = `query($id: ID!) { note(id: $id) { ${NOTE_FIELDS} } }`;
    const owner = await as('owner', query, { id: ownersNote });
    expect(owner.body.data?.['note']).toMatchObject({ id: ownersNote, ownerId: 'owner-1', title: "owner's note" });
    const admin = await as('admin', query, { id: ownersNote });
    expect(admin.body.data?.['note']).toMatchObject({ id: ownersNote });
    for (const persona of ['other', 'unverified', 'anonymous'] as const) {
      expect((await as(persona, query, { id: ownersNote })).body).toEqual({ data: { note: null } });
    }
    expect((await as('other', query, { id: '00000000-0000-4000-8000-000000000000' })).body).toEqual({ data: { note: null } });
    expect((await as('other', query, { id: 'not-a-uuid' })).body).toEqual({ data: { note: null } });
  });

  it('myNotes lists only your own notes, newest first; allNotes lists everyone\'s', async () => {
    const newer = await createNote('owner', 'newer note');
    const mine = await as('owner', '{ myNotes { id ownerId } }');
    const ids = (mine.body.data?.['myNotes'] as { id: string; ownerId: string }[]).map((n) => n.id);
    expect(ids.indexOf(newer)).toBeLessThan(ids.indexOf(ownersNote));
    expect(ids).not.toContain(othersNote);
    expect((mine.body.data?.['myNotes'] as { ownerId: string }[]).every((n) => n.ownerId === 'owner-1')).toBe(true);
    const all = await as('admin', '{ allNotes { id } }');
    const allIds = (all.body.data?.['allNotes'] as { id: string }[]).map((n) => n.id);
    expect(allIds).toEqual(expect.arrayContaining([ownersNote, newer]));
  });

  it('a denied nullable field is null and does not fail its siblings', async () => {
    const response = await as('guest', 'query($id: ID!) { serverInfo { name } note(id: $id) { id } }', { id: ownersNote });
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ serverInfo: { name: 'authgear-graphql-starter' }, note: null });
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.body.errors?.[0]?.path).toEqual(['note']);
  });

  it('denial messages tell the client developer what to do', async () => {
    const anonymous = await as('anonymous', '{ myNotes { id } }');
    expect(anonymous.body.errors?.[0]?.message).toMatch(/promote the account/);
    const unverified = await as('unverified', 'mutation { createNote(input: { title: "t", body: "b" }) { id } }');
    expect(unverified.body.errors?.[0]?.message).toMatch(/Verify an email address/);
    const notAdmin = await as('owner', '{ allNotes { id } }');
    expect(notAdmin.body.errors?.[0]?.message).toMatch(/role admin/);
  });

  it('denied writes change nothing that is stored', async () => {
    const before = await as('other', `query($id: ID!) { note(id: $id) { ${NOTE_FIELDS} } }`, { id: othersNote });
    for (const persona of ['owner', 'admin', 'anonymous', 'guest'] as const) {
      await as(persona, 'mutation($id: ID!) { updateNote(id: $id, input: { title: "hijacked" }) { id } }', { id: othersNote });
      await as(persona, 'mutation($id: ID!) { deleteNote(id: $id) }', { id: othersNote });
    }
    const after = await as('other', `query($id: ID!) { note(id: $id) { ${NOTE_FIELDS} } }`, { id: othersNote });
    expect(after.body).toEqual(before.body);
  });
});

describe('deleteNote needs a recent sign-in (auth_time)', () => {
  it(`signed in within REAUTH_MAX_AGE -> deleted; the note is gone`, async () => {
    const id = await createNote('owner', 'to delete');
    const response = await as('owner', 'mutation($id: ID!) { deleteNote(id: $id) }', { id });
    expect(response.body, show(response)).toEqual({ data: { deleteNote: true } });
    expect((await as('owner', 'query($id: ID!) { note(id: $id) { id } }', { id })).body).toEqual({ data: { note: null } });
  });

  it('signed in too long ago -> REAUTHENTICATION_REQUIRED saying the user can re-authenticate in place', async () => {
    const id = await createNote('owner', 'kept');
    const stale = await issuer.mint({ ...MINT.owner, authAgeSeconds: 301 });
    const response = await execute(server.url, 'mutation($id: ID!) { deleteNote(id: $id) }', { token: stale, variables: { id } });
    expect(codes(response)).toEqual(['REAUTHENTICATION_REQUIRED']);
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ maxAgeSeconds: 300, canReauthenticate: true });
    expect(response.body.errors?.[0]?.message).toMatch(/re-authenticate/);
    const still = await as('owner', 'query($id: ID!) { note(id: $id) { id } }', { id });
    expect(still.body).toEqual({ data: { note: { id } } });
  });

  it('a user who cannot re-authenticate (social login only) is told to sign in again', async () => {
    const id = await createNote('owner', 'social');
    const token = await issuer.mint({ ...MINT.owner, authAgeSeconds: 3600, canReauthenticate: false });
    const response = await execute(server.url, 'mutation($id: ID!) { deleteNote(id: $id) }', { token, variables: { id } });
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'REAUTHENTICATION_REQUIRED', canReauthenticate: false });
    expect(response.body.errors?.[0]?.message).toMatch(/sign them in again/);
  });

  it('a token without auth_time -> REAUTHENTICATION_REQUIRED', async () => {
    const id = await createNote('owner', 'no auth_time');
    const token = await issuer.mint({ ...MINT.owner, claims: { auth_time: undefined } });
    const response = await execute(server.url, 'mutation($id: ID!) { deleteNote(id: $id) }', { token, variables: { id } });
    expect(codes(response)).toEqual(['REAUTHENTICATION_REQUIRED']);
  });
});

describe('the Note type rule', () => {
  it("stops a resolver that forgets the owner scope from leaking someone else's note", async () => {
    const leaked: NoteRecord = { id: 'n1', ownerId: 'someone-else', title: 'secret', body: 'secret', createdAt: new Date(), updatedAt: new Date() };
    const schema = applyMiddleware(
      makeExecutableSchema({
        typeDefs: [...loadTypeDefs(), 'extend type Query { leak: Note }'],
        resolvers: { Query: { leak: () => leaked } },
      }),
      shield({ Query: { leak: allow }, Note: canReadNote }, { fallbackRule: deny, allowExternalErrors: true }),
    );
    const context = (sub: string, roles: string[] = []): Context => ({
      viewer: viewerFromClaims({ sub, 'https://authgear.com/claims/user/roles': roles }),
      notes: {} as NoteRepository,
      requestId: 'test',
    });
    const stranger = await graphql({ schema, source: '{ leak { title } }', contextValue: context('me') });
    expect(stranger.data).toEqual({ leak: null });
    expect(stranger.errors?.[0]?.extensions['code']).toBe('FORBIDDEN');
    const owner = await graphql({ schema, source: '{ leak { title } }', contextValue: context('someone-else') });
    expect(owner.data).toEqual({ leak: { title: 'secret' } });
    const admin = await graphql({ schema, source: '{ leak { title } }', contextValue: context('admin', ['admin']) });
    expect(admin.data).toEqual({ leak: { title: 'secret' } });
  });
});

describe('the Note type rule on subscription events', () => {
  it("each event passes the Note rule again for its subscriber: someone else's note in a stream reads as null, FORBIDDEN", async () => {
    const schema = buildSchema({
      serverInfo: { name: 'test', version: '0', issuer: 'https://issuer.example', devIssuer: false, reauthMaxAgeSeconds: 300 },
      reauthMaxAgeSeconds: 300,
    });
    const leaked: NoteRecord = { id: 'n1', ownerId: 'someone-else', title: 'secret', body: 'secret', createdAt: new Date(), updatedAt: new Date() };
    // A feed that gets the owner filter wrong: the rule on Note is the second lock.
    const feed: NoteEventFeed = {
      stream: (_scope, field) =>
        (async function* () {
          yield { [field]: { kind: 'UPDATED', noteId: leaked.id, note: leaked } };
        })() as never,
      end: () => undefined,
      size: 0,
    };
    const contextValue: Context = { viewer: viewerFromClaims({ sub: 'me' }), notes: {} as NoteRepository, requestId: 'test', noteEvents: feed };
    const stream = await subscribe({ schema, document: parse('subscription { myNoteEvents { kind noteId note { title } } }'), contextValue });
    if (!(Symbol.asyncIterator in stream)) throw new Error(JSON.stringify(stream));
    const { value } = await stream.next();
    expect(value?.data).toEqual({ myNoteEvents: { kind: 'UPDATED', noteId: 'n1', note: null } });
    expect(value?.errors?.map((error) => error.extensions['code'])).toEqual(['FORBIDDEN']);
  });

  it('an event is executed synchronously, Note rule included (no promise per field for thousands of subscribers), with the same verdicts', () => {
    const schema = buildSchema({
      serverInfo: { name: 'test', version: '0', issuer: 'https://issuer.example', devIssuer: false, reauthMaxAgeSeconds: 300 },
      reauthMaxAgeSeconds: 300,
    });
    const note: NoteRecord = { id: 'n2', ownerId: 'owner', title: 'mine', body: 'b', createdAt: new Date(0), updatedAt: new Date(0) };
    const document = parse('subscription { myNoteEvents { kind note { title createdAt } } }');
    const run = (sub: string) =>
      executeSync({
        schema,
        document,
        rootValue: { myNoteEvents: { kind: 'CREATED', noteId: note.id, note } },
        contextValue: { viewer: viewerFromClaims({ sub }), notes: {} as NoteRepository, requestId: 'test' } satisfies Context,
      });
    expect(run('owner')).toEqual({ data: { myNoteEvents: { kind: 'CREATED', note: { title: 'mine', createdAt: '1970-01-01T00:00:00.000Z' } } } });
    const stranger = run('stranger');
    expect(stranger.data).toEqual({ myNoteEvents: { kind: 'CREATED', note: null } });
    expect(stranger.errors?.map((error) => error.extensions['code'])).toEqual(['FORBIDDEN']);
  });
});

describe('deny by default', () => {
  it('a field nobody wrote a rule for is denied: UNAUTHENTICATED for a guest, FORBIDDEN naming the field otherwise', async () => {
    const schema = applyMiddleware(
      makeExecutableSchema({
        typeDefs: [...loadTypeDefs(), 'extend type Query { forgotten: Int }'],
        resolvers: { Query: { forgotten: () => 42 } },
      }),
      createPermissions({ reauthMaxAgeSeconds: 300 }),
    );
    const context = (viewer: Context['viewer']): Context => ({ viewer, notes: {} as NoteRepository, requestId: 'test' });
    const guest = await graphql({ schema, source: '{ forgotten }', contextValue: context(null) });
    expect(guest.data).toEqual({ forgotten: null });
    expect(guest.errors?.[0]?.extensions['code']).toBe('UNAUTHENTICATED');
    const admin = await graphql({
      schema,
      source: '{ forgotten }',
      contextValue: context(viewerFromClaims({ sub: 'root', 'https://authgear.com/claims/user/roles': ['admin'] })),
    });
    expect(admin.data).toEqual({ forgotten: null });
    expect(admin.errors?.[0]?.extensions['code']).toBe('FORBIDDEN');
    expect(admin.errors?.[0]?.message).toMatch(/Query\.forgotten/);
  });
});

describe('introspection and __typename keep working under deny-by-default', () => {
  it('a guest can introspect (outside production) and ask for __typename', async () => {
    const response = await as('guest', '{ __typename __schema { queryType { name } } serverInfo { __typename } }');
    expect(response.body).toEqual({ data: { __typename: 'Query', __schema: { queryType: { name: 'Query' } }, serverInfo: { __typename: 'ServerInfo' } } });
  });
});
