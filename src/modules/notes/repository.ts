import type { Queryable } from '../../db/database.js';
import { newestFirstPage, type Page, type PageRequest } from '../../db/pagination.js';
import { isUuid } from '../../db/uuid.js';

export type NoteRecord = Readonly<{
  id: string;
  ownerId: string;
  title: string;
  body: string;
  createdAt: Date;
  updatedAt: Date;
}>;

/**
 * Whose notes a query may see. Every note query takes one, so a query that
 * forgets the owner cannot be written by accident; only the admin rule
 * hands out `everyone`.
 */
export type NoteScope = Readonly<{ ownerId: string }> | 'everyone';

export type NoteRepository = Readonly<{
  /** A page of the notes in `scope`, newest first; `ownerId` narrows it to one owner's notes, never widens it. */
  page(scope: NoteScope, request: PageRequest, ownerId?: string | null): Promise<Page<NoteRecord>>;
  find(scope: NoteScope, id: string): Promise<NoteRecord | null>;
  ownerOf(id: string): Promise<string | null>;
  create(ownerId: string, input: Readonly<{ title: string; body: string }>): Promise<NoteRecord>;
  update(ownerId: string, id: string, patch: Readonly<{ title?: string | null; body?: string | null }>): Promise<NoteRecord | null>;
  delete(ownerId: string, id: string): Promise<boolean>;
}>;

const COLUMNS = 'id, owner_id AS "ownerId", title, body, created_at AS "createdAt", updated_at AS "updatedAt"';

export function createNoteRepository(db: Queryable): NoteRepository {
  return {
    async page(scope, request, ownerId = null) {
      // A filter asking for notes outside the scope finds none.
      if (scope !== 'everyone' && ownerId !== null && ownerId !== scope.ownerId) {
        return { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
      }
      const owner = scope === 'everyone' ? ownerId : scope.ownerId;
      return newestFirstPage<NoteRecord>(db, { columns: COLUMNS, table: 'notes', ownerId: owner }, request);
    },
    async find(scope, id) {
      if (!isUuid(id)) return null;
      const rows =
        scope === 'everyone'
          ? await db.query<NoteRecord>(`SELECT ${COLUMNS} FROM notes WHERE id = $1`, [id])
          : await db.query<NoteRecord>(`SELECT ${COLUMNS} FROM notes WHERE id = $1 AND owner_id = $2`, [id, scope.ownerId]);
      return rows[0] ?? null;
    },
    async ownerOf(id) {
      if (!isUuid(id)) return null;
      const rows = await db.query<{ ownerId: string }>('SELECT owner_id AS "ownerId" FROM notes WHERE id = $1', [id]);
      return rows[0]?.ownerId ?? null;
    },
    async create(ownerId, { title, body }) {
      const rows = await db.query<NoteRecord>(
        `INSERT INTO notes (owner_id, title, body) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
        [ownerId, title, body],
      );
      return rows[0] as NoteRecord;
    },
    async update(ownerId, id, { title, body }) {
      if (!isUuid(id)) return null;
      const rows = await db.query<NoteRecord>(
        `UPDATE notes SET title = COALESCE($3, title), body = COALESCE($4, body), updated_at = now()
         WHERE id = $1 AND owner_id = $2 RETURNING ${COLUMNS}`,
        [id, ownerId, title ?? null, body ?? null],
      );
      return rows[0] ?? null;
    },
    async delete(ownerId, id) {
      if (!isUuid(id)) return false;
      const rows = await db.query<{ id: string }>('DELETE FROM notes WHERE id = $1 AND owner_id = $2 RETURNING id', [id, ownerId]);
      return rows.length === 1;
    },
  };
}
