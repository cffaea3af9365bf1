import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { migrationsOf } from '../src/module.js';
import { modules } from '../src/modules/index.js';
import { MIGRATIONS } from '../src/modules/notes/migrations.js';
import { createNoteRepository, type NoteRecord, type NoteRepository, type NoteScope } from '../src/modules/notes/repository.js';
import { decodeCursor, encodeCursor, pageRequest, type Page } from '../src/db/pagination.js';
import { scratchDatabase, TEST_DATABASE_URL, type ScratchDatabase } from './helpers/databases.js';

const ids = (page: Page<NoteRecord>): string[] => page.edges.map((edge) => edge.node.id);
const first = (notes: NoteRepository, scope: NoteScope, ownerId: string | null = null) => notes.page(scope, pageRequest({}), ownerId);

/** Every page from the start, `size` at a time; bounded, so a cursor that never ends fails instead of hanging. */
async function pageThrough(
  notes: NoteRepository,
  scope: NoteScope,
  size: number,
  options: { ownerId?: string | null; betweenPages?: () => Promise<void> } = {},
): Promise<{ ids: string[]; pages: number }> {
  const seen: string[] = [];
  let after: string | null = null;
  for (let pages = 1; pages <= 1000; pages++) {
    const page: Page<NoteRecord> = await notes.page(scope, pageRequest({ first: size, after }), options.ownerId ?? null);
    seen.push(...ids(page));
    if (!page.pageInfo.hasNextPage) return { ids: seen, pages };
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor);
    after = page.pageInfo.endCursor;
    await options.betweenPages?.();
  }
  throw new Error('more than 1000 pages: the cursor does not advance');
}

const suite = (kind: 'pglite' | 'postgres') => () => {
  let scratch: ScratchDatabase;
  let db: Database;
  let notes: NoteRepository;

  beforeAll(async () => {
    scratch = await scratchDatabase(kind);
    db = await scratch.open();
    notes = createNoteRepository(db);
  });
  afterAll(async () => {
    await db.close();
    await scratch.drop();
  });

  it('applies migrations once and records them; a second run applies none', async () => {
    const tracks = migrationsOf(modules);
    const [first, concurrent] = await Promise.all([migrate(db, tracks), migrate(db, tracks)]);
    expect([...first, ...concurrent].sort()).toEqual(MIGRATIONS.map((m) => `notes/${m.version}`));
    expect(await migrate(db, tracks)).toEqual([]);
    const recorded = await db.query<{ version: number; name: string }>("SELECT version, name FROM module_migrations WHERE module = 'notes' ORDER BY version");
    expect(recorded).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
  });

  it('creates a note with a UUID, timestamps and the exact text', async () => {
    const text = 'Ünïcødé 🎉 中文 "quotes" \\ backslash\nline two\ttab';
    const note = await notes.create('alice', { title: 'Title 🎉', body: text });
    expect(note.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(note).toMatchObject({ ownerId: 'alice', title: 'Title 🎉', body: text });
    expect(note.createdAt).toBeInstanceOf(Date);
    expect(note.updatedAt.getTime()).toBe(note.createdAt.getTime());
    expect(await notes.find({ ownerId: 'alice' }, note.id)).toEqual(note);
  });

  it('scopes every read to the owner unless the scope is everyone', async () => {
    const mine = await notes.create('scope-a', { title: 'a', body: 'a' });
    const theirs = await notes.create('scope-b', { title: 'b', body: 'b' });
    expect(await notes.find({ ownerId: 'scope-a' }, theirs.id)).toBeNull();
    expect(await notes.find('everyone', theirs.id)).toEqual(theirs);
    expect(ids(await first(notes, { ownerId: 'scope-a' }))).toEqual([mine.id]);
    const all = ids(await notes.page('everyone', pageRequest({ first: 100 })));
    expect(all).toEqual(expect.arrayContaining([mine.id, theirs.id]));
    expect(await notes.ownerOf(theirs.id)).toBe('scope-b');
  });

  it('lists newest first', async () => {
    const first = await notes.create('order', { title: '1', body: '1' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await notes.create('order', { title: '2', body: '2' });
    expect(ids(await notes.page({ ownerId: 'order' }, pageRequest({})))).toEqual([second.id, first.id]);
  });

  it("updates only the owner's note, keeps omitted fields, moves updatedAt", async () => {
    const note = await notes.create('upd', { title: 'before', body: 'body' });
    expect(await notes.update('intruder', note.id, { title: 'hijacked' })).toBeNull();
    expect(await notes.find('everyone', note.id)).toEqual(note);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const updated = await notes.update('upd', note.id, { title: 'after', body: null });
    expect(updated).toMatchObject({ id: note.id, title: 'after', body: 'body' });
    expect(updated?.updatedAt.getTime()).toBeGreaterThan(note.updatedAt.getTime());
  });

  it("deletes only the owner's note", async () => {
    const note = await notes.create('del', { title: 't', body: 'b' });
    expect(await notes.delete('intruder', note.id)).toBe(false);
    expect(await notes.find('everyone', note.id)).not.toBeNull();
    expect(await notes.delete('del', note.id)).toBe(true);
    expect(await notes.find('everyone', note.id)).toBeNull();
    expect(await notes.delete('del', note.id)).toBe(false);
  });

  it('an id that is not a UUID finds nothing and never reaches the uuid cast', async () => {
    for (const id of ['', 'abc', "' OR 1=1 --", '00000000-0000-0000-0000-00000000000g', 'x'.repeat(10_000)]) {
      expect(await notes.find('everyone', id)).toBeNull();
      expect(await notes.ownerOf(id)).toBeNull();
      expect(await notes.update('a', id, { title: 't' })).toBeNull();
      expect(await notes.delete('a', id)).toBe(false);
    }
  });

  it('a failing statement inside a transaction rolls the whole transaction back', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO notes (owner_id, title, body) VALUES ('tx', 't', 'b')");
        await tx.query('SELECT no_such_column FROM notes');
      }),
    ).rejects.toThrow();
    expect(ids(await first(notes, { ownerId: 'tx' }))).toEqual([]);
  });

  describe('keyset pages', () => {
    it('250 notes paged 100 at a time: each exactly once, newest first, in 3 pages', async () => {
      const created: string[] = [];
      for (let i = 0; i < 250; i++) created.push((await notes.create('pager', { title: `n${i}`, body: 'b' })).id);
      const { ids: seen, pages } = await pageThrough(notes, { ownerId: 'pager' }, 100);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(250);
      expect(new Set(seen).size).toBe(250);
      const stored = await db.query<{ id: string }>("SELECT id FROM notes WHERE owner_id = 'pager' ORDER BY created_at DESC, id DESC");
      expect(seen).toEqual(stored.map((row) => row.id));
      expect(new Set(seen)).toEqual(new Set(created));
    });

    it('notes added while paging never make a page skip or repeat a note that existed when paging began', async () => {
      for (let i = 0; i < 45; i++) await notes.create('busy', { title: `old ${i}`, body: 'b' });
      const before = (await pageThrough(notes, { ownerId: 'busy' }, 100)).ids;
      let added = 0;
      const { ids: seen } = await pageThrough(notes, { ownerId: 'busy' }, 10, {
        betweenPages: async () => {
          for (let i = 0; i < 3; i++, added++) await notes.create('busy', { title: `new ${added}`, body: 'b' });
        },
      });
      expect(added).toBeGreaterThan(0);
      const existed = new Set(before);
      expect(seen.filter((id) => existed.has(id))).toEqual(before);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('notes created in the same microsecond are ordered by id, and a page boundary between them skips none', async () => {
      await db.query(
        `INSERT INTO notes (owner_id, title, body, created_at)
         SELECT 'tie', 'same instant ' || i, 'b', '2026-01-02T03:04:05.678901Z' FROM generate_series(1, 7) AS i`,
      );
      const { ids: seen, pages } = await pageThrough(notes, { ownerId: 'tie' }, 2);
      expect(pages).toBe(4);
      expect(seen).toEqual([...seen].sort().reverse());
      expect(new Set(seen).size).toBe(7);
    });

    it('the cursor keeps microseconds: notes a microsecond apart within one millisecond are each listed once', async () => {
      await db.query(
        `INSERT INTO notes (owner_id, title, body, created_at)
         SELECT 'micro', 'us ' || i, 'b', '2026-01-02T03:04:05.678000Z'::timestamptz + i * interval '1 microsecond' FROM generate_series(1, 5) AS i`,
      );
      const { ids: seen } = await pageThrough(notes, { ownerId: 'micro' }, 1);
      expect(seen).toHaveLength(5);
      expect(new Set(seen).size).toBe(5);
      const page = await notes.page({ ownerId: 'micro' }, pageRequest({ first: 1 }));
      expect(decodeCursor(page.pageInfo.endCursor ?? '').createdAt).toBe('2026-01-02T03:04:05.678005Z');
    });

    it("a cursor from one owner's list, used by another owner, moves only within the second owner's notes", async () => {
      for (let i = 0; i < 5; i++) {
        await notes.create('cursor-a', { title: `a${i}`, body: 'b' });
        await notes.create('cursor-b', { title: `b${i}`, body: 'b' });
      }
      const aPage = await notes.page({ ownerId: 'cursor-a' }, pageRequest({ first: 2 }));
      const fromA = await notes.page({ ownerId: 'cursor-b' }, pageRequest({ first: 100, after: aPage.pageInfo.endCursor }));
      expect(fromA.edges.length).toBeGreaterThan(0);
      expect(fromA.edges.every((edge) => edge.node.ownerId === 'cursor-b')).toBe(true);
      // A hand-made cursor at the far future starts at the newest note, still only B's.
      const forged = encodeCursor({ createdAt: '9999-12-31T23:59:59.999999Z', id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' });
      const fromForged = await notes.page({ ownerId: 'cursor-b' }, pageRequest({ first: 100, after: forged }));
      expect(fromForged.edges.map((edge) => edge.node.ownerId)).toEqual(Array(5).fill('cursor-b'));
    });

    it('ownerId narrows the everyone scope to one owner, and never widens an owner scope', async () => {
      const a = await notes.create('filter-a', { title: 'a', body: 'b' });
      await notes.create('filter-b', { title: 'b', body: 'b' });
      expect(ids(await first(notes, 'everyone', 'filter-a'))).toEqual([a.id]);
      expect(ids(await first(notes, { ownerId: 'filter-a' }, 'filter-a'))).toEqual([a.id]);
      expect(await first(notes, { ownerId: 'filter-a' }, 'filter-b')).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
      expect((await pageThrough(notes, 'everyone', 100, { ownerId: 'filter-b' })).ids).toHaveLength(1);
    });

    it('an empty list is one page with no edges, no next page and a null endCursor', async () => {
      expect(await first(notes, { ownerId: 'nobody' })).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    });
  });

  type PlanNode = { 'Node Type': string; 'Index Name'?: string; 'Index Cond'?: string; 'Relation Name'?: string; Plans?: PlanNode[] };
  const planNodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(planNodes)];

  it.runIf(kind === 'postgres')('EXPLAIN: every page query is an index scan that starts at the cursor, with no sort and no sequential scan', async () => {
    // Enough rows (20 000 over 200 owners, analyzed) that the planner's choice
    // is the one it makes on real data, not a sequential scan of a tiny table.
    await db.query(
      `INSERT INTO notes (owner_id, title, body, created_at)
       SELECT 'explain-' || (i % 200), 'note ' || i, 'body', now() - interval '1 day' - i * interval '1 second'
       FROM generate_series(1, 20000) AS i`,
    );
    await db.query('ANALYZE notes');
    const statements: { sql: string; params: unknown[] }[] = [];
    const recording: Queryable = {
      query: (sql, params = []) => {
        statements.push({ sql, params: [...params] });
        return db.query(sql, params);
      },
    };
    const recorded = createNoteRepository(recording);
    const cases: [string, NoteScope, string | null, string][] = [
      ['myNotes', { ownerId: 'explain-7' }, null, 'notes_owner_created_idx'],
      ['allNotes', 'everyone', null, 'notes_created_idx'],
      ['allNotes(ownerId)', 'everyone', 'explain-9', 'notes_owner_created_idx'],
    ];
    for (const [name, scope, ownerId, index] of cases) {
      const firstPage = await recorded.page(scope, pageRequest({}), ownerId);
      await recorded.page(scope, pageRequest({ after: firstPage.pageInfo.endCursor }), ownerId);
      const [firstSql, afterSql] = statements.splice(0);
      for (const [which, statement] of [['first page', firstSql], ['after a cursor', afterSql]] as const) {
        if (statement === undefined) throw new Error(`${name} ${which}: no statement recorded`);
        const [row] = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${statement.sql}`, statement.params);
        const nodes = planNodes((row?.['QUERY PLAN'] ?? [])[0]?.Plan as PlanNode);
        const summary = `${name}, ${which}: ${JSON.stringify(nodes.map((n) => [n['Node Type'], n['Index Name'], n['Index Cond']]))}`;
        const scan = nodes.find((n) => n['Relation Name'] === 'notes');
        expect(['Index Scan', 'Index Only Scan'], summary).toContain(scan?.['Node Type']);
        expect(scan?.['Index Name'], summary).toBe(index);
        expect(nodes.map((n) => n['Node Type']), summary).not.toContain('Sort');
        if (which === 'after a cursor') expect(scan?.['Index Cond'], summary).toMatch(/ROW\(created_at, id\) < ROW\(/);
      }
    }
  });
};

describe('notes storage on PGlite', suite('pglite'));
describe.skipIf(TEST_DATABASE_URL === undefined)('notes storage on a PostgreSQL server (needs TEST_DATABASE_URL)', suite('postgres'));
