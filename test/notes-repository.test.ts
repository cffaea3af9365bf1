import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { migrate, MIGRATIONS } from '../src/db/migrations.js';
import { createNoteRepository, type NoteRepository } from '../src/db/notes.js';
import { scratchDatabase, TEST_DATABASE_URL, type ScratchDatabase } from './helpers/databases.js';

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
    const [first, concurrent] = await Promise.all([migrate(db), migrate(db)]);
    expect([...first, ...concurrent].sort()).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(db)).toEqual([]);
    const recorded = await db.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
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
    expect((await notes.list({ ownerId: 'scope-a' })).map((n) => n.id)).toEqual([mine.id]);
    const all = (await notes.list('everyone')).map((n) => n.id);
    expect(all).toEqual(expect.arrayContaining([mine.id, theirs.id]));
    expect(await notes.ownerOf(theirs.id)).toBe('scope-b');
  });

  it('lists newest first', async () => {
    const first = await notes.create('order', { title: '1', body: '1' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await notes.create('order', { title: '2', body: '2' });
    expect((await notes.list({ ownerId: 'order' })).map((n) => n.id)).toEqual([second.id, first.id]);
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
    expect(await notes.list({ ownerId: 'tx' })).toEqual([]);
  });
};

describe('notes storage on PGlite', suite('pglite'));
describe.skipIf(TEST_DATABASE_URL === undefined)('notes storage on a PostgreSQL server (needs TEST_DATABASE_URL)', suite('postgres'));
