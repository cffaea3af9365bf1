import type { Migration } from '../../db/migrations.js';

/** The notes module's migrations, numbered within the module. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create notes',
    statements: [
      `CREATE TABLE notes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      'CREATE INDEX notes_owner_created_idx ON notes (owner_id, created_at DESC, id DESC)',
      'CREATE INDEX notes_created_idx ON notes (created_at DESC, id DESC)',
    ],
  },
];
