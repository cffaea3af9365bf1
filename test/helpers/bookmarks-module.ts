import { feedOf, viewerOf, type BaseContext } from '../../src/context.js';
import { forbidden, unauthenticated } from '../../src/errors.js';
import { defineModule } from '../../src/module.js';
import { isRegistered, synchronousRule } from '../../src/permissions/rules.js';
import type { DeclaredTopic } from '../../src/realtime/events.js';

/**
 * A second module that exists only in the tests: a tiny owned type with a
 * migration, a rule and a topic, run beside notes to prove that a module
 * needs nothing from the machinery but the module interface. No file under
 * src/ knows it.
 */

type Bookmark = Readonly<{ id: string; ownerId: string; url: string }>;
type BookmarkAdded = Readonly<{ id: string; ownerId: string }>;
type Services = Readonly<{ bookmarks: Readonly<{ add(ownerId: string, url: string): Promise<Bookmark>; mine(ownerId: string): Promise<Bookmark[]> }>; bookmarkAdded: DeclaredTopic<BookmarkAdded, Bookmark> }>;
type Context = BaseContext & Services;

const COLUMNS = 'id::text AS id, owner_id AS "ownerId", url';

export const bookmarksModule = defineModule({
  name: 'bookmarks',
  typeDefs: `
    type Bookmark { id: ID! ownerId: ID! url: String! }
    extend type Query {
      myBookmarks: [Bookmark!]!
      "No rule is written for this field: deny by default must refuse it."
      bookmarkCount: Int!
    }
    extend type Mutation { addBookmark(url: String!): Bookmark! }
    extend type Subscription { bookmarkAdded: Bookmark! }
  `,
  migrations: [
    {
      version: 1,
      name: 'create test_bookmarks',
      statements: ['CREATE TABLE test_bookmarks (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), owner_id text NOT NULL, url text NOT NULL)'],
    },
  ],
  setup({ database, events }) {
    const find = async (id: string) => (await database.query<Bookmark>(`SELECT ${COLUMNS} FROM test_bookmarks WHERE id = $1`, [id]))[0] ?? null;
    const bookmarkAdded = events.declare<BookmarkAdded, Bookmark>({
      name: 'bookmark',
      channel: 'test_bookmark_events',
      encode: (message) => JSON.stringify(message),
      decode(payload) {
        let parsed: Partial<BookmarkAdded> | null;
        try {
          parsed = JSON.parse(payload) as Partial<BookmarkAdded> | null;
        } catch {
          return null;
        }
        return typeof parsed?.id === 'string' && typeof parsed.ownerId === 'string' ? { id: parsed.id, ownerId: parsed.ownerId } : null;
      },
      keyOf: (message) => message.ownerId,
      load: (message) => find(message.id),
      weigh: (bookmark) => 64 + bookmark.url.length,
    });
    return {
      bookmarkAdded,
      bookmarks: {
        async add(ownerId: string, url: string) {
          const [bookmark] = await database.query<Bookmark>(`INSERT INTO test_bookmarks (owner_id, url) VALUES ($1, $2) RETURNING ${COLUMNS}`, [ownerId, url]);
          if (bookmark === undefined) throw new Error('INSERT returned no row');
          await bookmarkAdded.publish({ id: bookmark.id, ownerId });
          return bookmark;
        },
        mine: (ownerId: string) => database.query<Bookmark>(`SELECT ${COLUMNS} FROM test_bookmarks WHERE owner_id = $1 ORDER BY url`, [ownerId]),
      },
    };
  },
  resolvers: () => ({
    Query: {
      myBookmarks: (_parent: unknown, _args: unknown, ctx: Context) => ctx.bookmarks.mine(viewerOf(ctx).id),
      bookmarkCount: () => 42,
    },
    Mutation: { addBookmark: (_parent: unknown, args: { url: string }, ctx: Context) => ctx.bookmarks.add(viewerOf(ctx).id, args.url) },
    Subscription: {
      bookmarkAdded: { subscribe: (_parent: unknown, _args: unknown, ctx: Context) => feedOf(ctx).stream(ctx.bookmarkAdded, viewerOf(ctx).id, 'bookmarkAdded') },
    },
  }),
  permissions: () => ({
    Query: { myBookmarks: isRegistered },
    Mutation: { addBookmark: isRegistered },
    Subscription: { bookmarkAdded: isRegistered },
    Bookmark: synchronousRule<Bookmark>('ownsBookmark', (bookmark, _args, ctx) => {
      if (ctx.viewer === null) return unauthenticated();
      return ctx.viewer.id === bookmark.ownerId ? true : forbidden('Bookmark belongs to another user.');
    }),
  }),
  async eraseUser(tx, userId) {
    const rows = await tx.query('DELETE FROM test_bookmarks WHERE owner_id = $1 RETURNING id', [userId]);
    return { test_bookmarks: rows.length };
  },
});

