import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_MAX_LENGTH, TITLE_MAX_LENGTH } from '../src/modules/notes/input.js';
import { codes, execute, show } from './helpers/graphql.js';
import { scratchDatabase, TEST_DATABASE_URL } from './helpers/databases.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, untilReady, type TestServer } from './helpers/server.js';

const CREATE = 'mutation($input: CreateNoteInput!) { createNote(input: $input) { id title body ownerId createdAt updatedAt } }';
const UPDATE = 'mutation($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id title body } }';

let issuer: TestIssuer;
let server: TestServer;
let token: string;

beforeAll(async () => {
  issuer = await startTestIssuer();
  server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url } });
  token = await issuer.mint({ sub: 'writer', verified: true });
});
afterAll(async () => {
  await server.stop();
  await issuer.close();
});

describe('createNote and updateNote validate their input', () => {
  it('creates a note and answers with all its fields', async () => {
    const response = await execute(server.url, CREATE, { token, variables: { input: { title: 'Groceries', body: 'milk\neggs' } } });
    expect(response.body.errors, show(response)).toBeUndefined();
    const note = response.body.data?.['createNote'] as Record<string, string>;
    expect(note).toMatchObject({ title: 'Groceries', body: 'milk\neggs', ownerId: 'writer' });
    expect(new Date(note['createdAt'] ?? '').toISOString()).toBe(note['createdAt']);
  });

  it(`accepts a title of exactly ${TITLE_MAX_LENGTH} characters, even when they are emoji`, async () => {
    const title = '🎉'.repeat(TITLE_MAX_LENGTH);
    const response = await execute(server.url, CREATE, { token, variables: { input: { title, body: 'b' } } });
    expect((response.body.data?.['createNote'] as { title: string } | undefined)?.title, show(response)).toBe(title);
  });

  it.each([
    ['an empty title', { title: '', body: 'b' }, 'title', /must not be empty/],
    ['a blank title', { title: '  \t ', body: 'b' }, 'title', /must not be empty/],
    [`a title of ${TITLE_MAX_LENGTH + 1} characters`, { title: 'x'.repeat(TITLE_MAX_LENGTH + 1), body: 'b' }, 'title', /at most 200/],
    ['a line break in the title', { title: 'a\nb', body: 'b' }, 'title', /not allowed/],
    ['a NUL in the body', { title: 't', body: 'a\u0000b' }, 'body', /not allowed/],
    ['a lone surrogate in the title', { title: 'a\ud800b', body: 'b' }, 'title', /not allowed/],
    ['an empty body', { title: 't', body: '' }, 'body', /must not be empty/],
    [`a body of ${BODY_MAX_LENGTH + 1} characters`, { title: 't', body: 'x'.repeat(BODY_MAX_LENGTH + 1) }, 'body', /at most 20000/],
  ])('%s -> BAD_USER_INPUT naming the field', async (_case, input, field, message) => {
    const response = await execute(server.url, CREATE, { token, variables: { input } });
    expect(codes(response), show(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors?.[0]?.extensions?.['field']).toBe(field);
    expect(response.body.errors?.[0]?.message).toMatch(message);
  });

  it('a missing or mistyped variable -> 400 BAD_USER_INPUT before any resolver runs', async () => {
    const missing = await execute(server.url, CREATE, { token, variables: { input: { title: 't' } } });
    expect([missing.status, codes(missing)]).toEqual([400, ['BAD_USER_INPUT']]);
    const mistyped = await execute(server.url, CREATE, { token, variables: { input: { title: 5, body: 'b' } } });
    expect([mistyped.status, codes(mistyped)]).toEqual([400, ['BAD_USER_INPUT']]);
  });

  it('updateNote changes only the given fields; an empty patch or a bad value -> BAD_USER_INPUT and nothing changes', async () => {
    const created = await execute(server.url, CREATE, { token, variables: { input: { title: 'v1', body: 'body v1' } } });
    const id = (created.body.data?.['createNote'] as { id: string }).id;
    const patched = await execute(server.url, UPDATE, { token, variables: { id, input: { title: 'v2' } } });
    expect(patched.body.data).toEqual({ updateNote: { id, title: 'v2', body: 'body v1' } });

    for (const input of [{}, { title: null, body: null }, { title: '' }, { body: 'x'.repeat(BODY_MAX_LENGTH + 1) }]) {
      const response = await execute(server.url, UPDATE, { token, variables: { id, input } });
      expect(codes(response), JSON.stringify(input)).toEqual(['BAD_USER_INPUT']);
    }
    const after = await execute(server.url, 'query($id: ID!) { note(id: $id) { title body } }', { token, variables: { id } });
    expect(after.body.data).toEqual({ note: { title: 'v2', body: 'body v1' } });
  });
});

const PAGE = 'query($first: Int, $after: String) { myNotes(first: $first, after: $after) { edges { cursor node { id title ownerId } } pageInfo { hasNextPage endCursor } } }';
type Connection = { edges: { cursor: string; node: { id: string; title: string; ownerId: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
const cursorOf = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');

describe('myNotes and allNotes are pages of a connection', () => {
  let pagerToken: string;
  let otherToken: string;
  const created: string[] = [];
  beforeAll(async () => {
    pagerToken = await issuer.mint({ sub: 'api-pager', verified: true });
    otherToken = await issuer.mint({ sub: 'api-pager-2', verified: true });
    // Older than every note of api-pager, so it lies behind any of their cursors.
    await execute(server.url, CREATE, { token: otherToken, variables: { input: { title: 'older, not theirs', body: 'b' } } });
    for (let i = 0; i < 25; i++) {
      const response = await execute(server.url, CREATE, { token: pagerToken, variables: { input: { title: `page note ${i}`, body: 'b' } } });
      created.push((response.body.data?.['createNote'] as { id: string }).id);
    }
  });

  async function page(variables: Record<string, unknown>, as = pagerToken): Promise<Connection> {
    const response = await execute(server.url, PAGE, { token: as, variables });
    expect(response.body.errors, show(response)).toBeUndefined();
    return response.body.data?.['myNotes'] as Connection;
  }

  it('no arguments -> the newest 20, hasNextPage true; following endCursor gives the other 5, newest first', async () => {
    const one = await page({});
    expect(one.edges).toHaveLength(20);
    expect(one.pageInfo).toEqual({ hasNextPage: true, endCursor: one.edges.at(-1)?.cursor });
    const two = await page({ after: one.pageInfo.endCursor });
    expect(two.edges).toHaveLength(5);
    expect(two.pageInfo.hasNextPage).toBe(false);
    expect([...one.edges, ...two.edges].map((edge) => edge.node.id)).toEqual([...created].reverse());
  });

  it('first: null means 20, as when it is left out', async () => {
    expect((await page({ first: null })).edges).toHaveLength(20);
  });

  it('an edge cursor continues right after that edge', async () => {
    const one = await page({ first: 5 });
    const fromThird = await page({ first: 2, after: one.edges[2]?.cursor });
    expect(fromThird.edges.map((edge) => edge.node.id)).toEqual(one.edges.slice(3, 5).map((edge) => edge.node.id));
  });

  it.each([0, 101, -1])('first: %i -> BAD_USER_INPUT naming first', async (first) => {
    const response = await execute(server.url, PAGE, { token: pagerToken, variables: { first } });
    expect(codes(response), show(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors?.[0]?.extensions?.['field']).toBe('first');
    expect(response.body.errors?.[0]?.message).toMatch(/between 1 and 100/);
  });

  it.each([
    ['an empty string', ''],
    ['not base64url', 'not a cursor!'],
    ['base64url of something that is not JSON', Buffer.from('hello').toString('base64url')],
    ['a cursor with padding added', `${cursorOf(['2026-01-02T03:04:05.678901Z', '00000000-0000-4000-8000-000000000000'])}==`],
    ['the wrong shape', cursorOf({ createdAt: '2026-01-02T03:04:05.678901Z', id: '00000000-0000-4000-8000-000000000000' })],
    ['three parts', cursorOf(['2026-01-02T03:04:05.678901Z', '00000000-0000-4000-8000-000000000000', 'owner'])],
    ['a day that does not exist (Feb 30)', cursorOf(['2026-02-30T03:04:05.678901Z', '00000000-0000-4000-8000-000000000000'])],
    ['a time without microseconds', cursorOf(['2026-01-02T03:04:05.678Z', '00000000-0000-4000-8000-000000000000'])],
    ['an id that is not a UUID', cursorOf(['2026-01-02T03:04:05.678901Z', "' OR 1=1 --"])],
    ['a number for the id', cursorOf(['2026-01-02T03:04:05.678901Z', 7])],
    ['a very long string', 'A'.repeat(10_000)],
  ])('after: %s -> BAD_USER_INPUT naming after', async (_case, after) => {
    const response = await execute(server.url, PAGE, { token: pagerToken, variables: { after } });
    expect(codes(response), show(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors?.[0]?.extensions?.['field']).toBe('after');
  });

  it("a cursor from one user's list, sent by another user, pages only that other user's notes", async () => {
    const theirs = await page({ first: 3 });
    const crossed = await page({ after: theirs.pageInfo.endCursor }, otherToken);
    expect(crossed.edges.map((edge) => edge.node.ownerId)).toEqual(['api-pager-2']);
  });

  it('allNotes takes the same first and after, and refuses the same bad values', async () => {
    const admin = await issuer.mint({ sub: 'api-admin', roles: ['admin'] });
    const query = 'query($first: Int, $after: String, $o: ID) { allNotes(first: $first, after: $after, ownerId: $o) { edges { node { id } } pageInfo { hasNextPage endCursor } } }';
    const one = await execute(server.url, query, { token: admin, variables: { first: 10, o: 'api-pager' } });
    const connection = one.body.data?.['allNotes'] as Connection;
    const two = await execute(server.url, query, { token: admin, variables: { first: 100, after: connection.pageInfo.endCursor, o: 'api-pager' } });
    const ids = [...connection.edges, ...(two.body.data?.['allNotes'] as Connection).edges].map((edge) => edge.node.id);
    expect(ids).toEqual([...created].reverse());
    for (const variables of [{ first: 101 }, { after: 'x' }]) {
      expect(codes(await execute(server.url, query, { token: admin, variables }))).toEqual(['BAD_USER_INPUT']);
    }
  });
});

describe('text that Postgres cannot store never reaches it', () => {
  const ALL_NOTES = 'query($owner: ID) { allNotes(ownerId: $owner) { edges { node { id } } } }';
  const unexpected = () => server.logs.filter((line) => line['msg'] === 'unexpected error');

  it.each([
    ['a NUL, as a literal', (owner: string) => `{ allNotes(ownerId: ${JSON.stringify(owner)}) { edges { node { id } } } }`, 'a\u0000b', undefined],
    ['a NUL, as a variable', () => ALL_NOTES, 'a\u0000b', true],
    // GraphQL string literals cannot spell a lone surrogate; JSON variables can.
    ['a lone surrogate, as a variable', () => ALL_NOTES, 'a\ud800b', true],
  ])('allNotes(ownerId: %s) -> BAD_USER_INPUT naming ownerId', async (_case, document, owner, asVariable) => {
    const admin = await issuer.mint({ sub: 'auditor', roles: ['admin'] });
    const before = unexpected().length;
    const response = await execute(server.url, document(owner), { token: admin, ...(asVariable ? { variables: { owner } } : {}) });
    expect(codes(response), show(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors?.[0]?.extensions?.['field']).toBe('ownerId');
    expect(unexpected().length).toBe(before);
  });

  it('a NUL in a title, a cursor or an id is refused or finds nothing, never an unexpected error', async () => {
    const before = unexpected().length;
    const title = await execute(server.url, CREATE, { token, variables: { input: { title: 'a\u0000b', body: 'b' } } });
    expect([codes(title), title.body.errors?.[0]?.extensions?.['field']], show(title)).toEqual([['BAD_USER_INPUT'], 'title']);
    const cursor = await execute(server.url, 'query($after: String) { myNotes(after: $after) { edges { cursor } } }', { token, variables: { after: 'a\u0000b' } });
    expect([codes(cursor), cursor.body.errors?.[0]?.extensions?.['field']], show(cursor)).toEqual([['BAD_USER_INPUT'], 'after']);
    const read = await execute(server.url, 'query($id: ID!) { note(id: $id) { id } }', { token, variables: { id: 'a\u0000b' } });
    expect(read.body, show(read)).toEqual({ data: { note: null } });
    const update = await execute(server.url, UPDATE, { token, variables: { id: 'a\u0000b', input: { title: 'x' } } });
    expect(codes(update), show(update)).toEqual(['NOT_FOUND']);
    expect(unexpected().length).toBe(before);
  });
});

describe('stored notes survive a restart', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'starter-pglite-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function createThenRestart(env: Record<string, string>): Promise<void> {
    const first = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, ...env }, ownDatabase: true });
    await untilReady(first);
    const created = await execute(first.url, CREATE, { token, variables: { input: { title: 'durable', body: 'still here' } } });
    const id = (created.body.data?.['createNote'] as { id: string } | undefined)?.id;
    expect(id, show(created)).toBeDefined();
    await first.stop();

    const second = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, ...env }, ownDatabase: true });
    try {
      await untilReady(second);
      const read = await execute(second.url, 'query($id: ID!) { note(id: $id) { title body } }', { token, variables: { id } });
      expect(read.body).toEqual({ data: { note: { title: 'durable', body: 'still here' } } });
    } finally {
      await second.stop();
    }
  }

  it('with PGLITE_DATA_DIR (embedded, persisted in a folder)', async () => {
    await createThenRestart({ PGLITE_DATA_DIR: dataDir });
  });

  it.runIf(TEST_DATABASE_URL !== undefined)('with DATABASE_URL (a PostgreSQL server)', async () => {
    const scratch = await scratchDatabase('postgres');
    try {
      await createThenRestart({ DATABASE_URL: scratch.url ?? '' });
    } finally {
      await scratch.drop();
    }
  });
});
