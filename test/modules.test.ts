import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from '../src/db/pglite.js';
import type { Database } from '../src/db/database.js';
import { eraseUser, type Module } from '../src/module.js';
import { modules } from '../src/modules/index.js';
import { buildSchema } from '../src/schema.js';
import { bookmarksModule } from './helpers/bookmarks-module.js';
import { codes, execute, show } from './helpers/graphql.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { moduleOptions } from './helpers/modules.js';
import { startServer, type TestServer } from './helpers/server.js';
import { bearer, connectRaw, nexts, wsUrl } from './helpers/ws.js';

// DESIGN 16: a second module, known only to this test, runs beside notes on
// the module interface alone.

const withBookmarks: readonly Module[] = [...modules, bookmarksModule];

let issuer: TestIssuer;
let database: Database;
let server: TestServer;
const tokens: Record<'alice' | 'bob', string> = { alice: '', bob: '' };

async function as(who: 'alice' | 'bob' | 'guest', query: string, variables?: Record<string, unknown>) {
  return execute(server.url, query, { ...(who === 'guest' ? {} : { token: tokens[who] }), ...(variables ? { variables } : {}) });
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  // A database of its own: the bookmarks table must not leak into other files' shared PGlite.
  database = await openPglite(null);
  server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url }, deps: { database, modules: withBookmarks } });
  tokens.alice = await issuer.mint({ sub: 'alice', verified: true });
  tokens.bob = await issuer.mint({ sub: 'bob', verified: true });
});
afterAll(async () => {
  await server.stop();
  await database.close();
  await issuer.close();
});

describe('a test-only module beside notes', () => {
  it('its migration is tracked under its own name, beside the notes module\'s and the machinery\'s version 1', async () => {
    const rows = await database.query<{ module: string; version: number }>('SELECT module, version FROM module_migrations ORDER BY module, version');
    expect(rows).toEqual([
      { module: 'bookmarks', version: 1 },
      { module: 'notes', version: 1 },
      { module: 'user_lifecycle', version: 1 },
    ]);
  });

  it('its fields work under its own rules, and its owned type shows only the owner\'s rows', async () => {
    const added = await as('alice', 'mutation { addBookmark(url: "https://example.com/a") { url ownerId } }');
    expect(added.body, show(added)).toEqual({ data: { addBookmark: { url: 'https://example.com/a', ownerId: 'alice' } } });
    await as('bob', 'mutation { addBookmark(url: "https://example.com/b") { id } }');
    const mine = await as('alice', '{ myBookmarks { url } }');
    expect(mine.body, show(mine)).toEqual({ data: { myBookmarks: [{ url: 'https://example.com/a' }] } });
    expect(codes(await as('guest', '{ myBookmarks { url } }'))).toEqual(['UNAUTHENTICATED']);
  });

  it('a field of the module without a rule is denied by default: UNAUTHENTICATED for a guest, FORBIDDEN for a user', async () => {
    expect(codes(await as('guest', '{ bookmarkCount }'))).toEqual(['UNAUTHENTICATED']);
    const alice = await as('alice', '{ bookmarkCount }');
    expect(codes(alice), show(alice)).toEqual(['FORBIDDEN']);
    expect(alice.body.errors?.[0]?.message).toMatch(/Query\.bookmarkCount/);
  });

  it('the notes module is untouched by it: notes work as before', async () => {
    const created = await as('alice', 'mutation { createNote(input: { title: "t", body: "b" }) { title ownerId } }');
    expect(created.body, show(created)).toEqual({ data: { createNote: { title: 't', ownerId: 'alice' } } });
  });

  it('its topic delivers events to their owner only, over the same connection bounds as notes', async () => {
    const alice = await connectRaw(wsUrl(server.url), bearer(tokens.alice));
    const bob = await connectRaw(wsUrl(server.url), bearer(tokens.bob));
    try {
      alice.subscribe('b', 'subscription { bookmarkAdded { url ownerId } }');
      alice.subscribe('n', 'subscription { myNoteEvents { kind } }');
      bob.subscribe('b', 'subscription { bookmarkAdded { url ownerId } }');
      // Both subscriptions are running once the server counts them.
      for (let i = 0; i < 100 && server.realtime.stats().subscriptions < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(server.realtime.stats().subscriptions).toBe(3);
      await as('alice', 'mutation { addBookmark(url: "https://example.com/live") { id } }');
      await as('alice', 'mutation { createNote(input: { title: "live", body: "b" }) { id } }');
      await alice.next((m) => m.id === 'n' && m.type === 'next');
      await alice.next((m) => m.id === 'b' && m.type === 'next');
      expect(nexts(alice, 'b')).toEqual([{ data: { bookmarkAdded: { url: 'https://example.com/live', ownerId: 'alice' } } }]);
      // Bob's stream got nothing: give a stray event time to arrive before saying so.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(nexts(bob, 'b')).toEqual([]);
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it('eraseUser runs every module\'s hook in one transaction: the user\'s notes and bookmarks go, everyone else\'s stay; a repeat erases nothing', async () => {
    await as('bob', 'mutation { createNote(input: { title: "bob keeps this", body: "b" }) { id } }');
    const before = await database.query<{ owner: string; n: number }>(
      "SELECT owner_id AS owner, count(*)::int AS n FROM (SELECT owner_id FROM notes UNION ALL SELECT owner_id FROM test_bookmarks) rows WHERE owner_id IN ('alice', 'bob') GROUP BY owner_id ORDER BY owner_id",
    );
    expect(before.map((row) => row.owner)).toEqual(['alice', 'bob']);
    const bobsRows = before[1]?.n;

    const erased = await eraseUser(database, withBookmarks, 'alice');
    expect(erased).toEqual({ notes: { notes: 2 }, bookmarks: { test_bookmarks: 2 } });
    expect((await as('alice', '{ myNotes { edges { node { id } } } myBookmarks { url } }')).body.data).toEqual({ myNotes: { edges: [] }, myBookmarks: [] });
    const after = await database.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM (SELECT owner_id FROM notes UNION ALL SELECT owner_id FROM test_bookmarks) rows WHERE owner_id = 'bob'",
    );
    expect(after[0]?.n).toBe(bobsRows);
    expect(await eraseUser(database, withBookmarks, 'alice')).toEqual({ notes: { notes: 0 }, bookmarks: { test_bookmarks: 0 } });
  });
});

describe('the module list is checked at start-up', () => {
  it('a root field resolved by two modules stops start-up, naming both', () => {
    const twin: Module = { ...bookmarksModule, name: 'twin', resolvers: () => ({ Query: { myBookmarks: () => [] } }), permissions: () => ({}), typeDefs: '' };
    expect(() => buildSchema([...withBookmarks, twin], moduleOptions)).toThrow(/Query\.myBookmarks is resolved by both bookmarks and twin/);
  });

  it('a field ruled by two modules stops start-up, naming both', () => {
    const twin: Module = { ...bookmarksModule, name: 'twin', resolvers: () => ({}), permissions: () => ({ Query: { me: bookmarksModule.permissions(moduleOptions)['Query'] as never } }), typeDefs: '' };
    expect(() => buildSchema([...withBookmarks, twin], moduleOptions)).toThrow(/Query\.me is ruled by both viewer and twin/);
  });
});

describe('the machinery names no domain', () => {
  const MACHINERY = ['src', 'scripts'];
  const DOMAIN = /\bnotes?\b|Note[A-Z]|noteId|note_events|bookmark/i;

  function files(dir: string): string[] {
    return readdirSync(dir).flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? files(path) : [path];
    });
  }

  it('no file outside src/modules/ and src/generated/ mentions the example domain or the test module', () => {
    const root = join(import.meta.dirname, '..');
    const naming = MACHINERY.flatMap((dir) => files(join(root, dir)))
      .map((path) => relative(root, path))
      .filter((path) => !/^src\/(modules|generated)\//.test(path))
      .filter((path) => DOMAIN.test(readFileSync(join(root, path), 'utf8')));
    expect(naming).toEqual([]);
  });
});
