import type { MigrationTrack } from '../db/migrations.js';

/**
 * The machinery's own tables, tracked beside the modules' migrations: what
 * Authgear's webhooks said about each user, and the webhook events already
 * applied (Authgear sends each once, but a repeat must change nothing).
 */
export const LIFECYCLE_MIGRATIONS: MigrationTrack = {
  module: 'user_lifecycle',
  migrations: [
    {
      version: 1,
      name: 'create user_lifecycle and webhook_events',
      statements: [
        `CREATE TABLE user_lifecycle (
          user_id text PRIMARY KEY,
          state text NOT NULL CHECK (state IN ('active', 'suspended', 'removed')),
          seq bigint NOT NULL DEFAULT 0,
          suspended_until timestamptz,
          updated_at timestamptz NOT NULL DEFAULT now()
        )`,
        "CREATE INDEX user_lifecycle_refused_idx ON user_lifecycle (user_id) WHERE state <> 'active'",
        `CREATE TABLE webhook_events (
          id text PRIMARY KEY,
          type text NOT NULL,
          received_at timestamptz NOT NULL DEFAULT now()
        )`,
      ],
    },
  ],
};
