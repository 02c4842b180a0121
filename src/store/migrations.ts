// The state database schema history, shared by the SQLite store and (for its schema_version)
// the memory store. Forward only: a database is migrated up, never down.
import type { DatabaseSync } from 'node:sqlite';

/** One forward migration step: brings the schema from version N-1 to N (runs inside a transaction). */
export type StateMigration = (db: DatabaseSync) => void;

/**
 * The schema history. Append only: never edit a released step, add a new one. The schema version
 * of a database is the number of steps applied (stored in `meta.schema_version`).
 */
export const STATE_MIGRATIONS: readonly StateMigration[] = [
  // 1: initial schema.
  (db) => {
    db.exec(`
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE state (
        namespace TEXT NOT NULL,
        key       TEXT NOT NULL,
        value     TEXT NOT NULL,            -- JSON
        PRIMARY KEY (namespace, key)
      ) WITHOUT ROWID;
      CREATE TABLE alerts (
        id         TEXT PRIMARY KEY NOT NULL,
        rule       TEXT NOT NULL,
        time       INTEGER,                 -- event time, epoch ms (null if unparseable)
        severity   TEXT NOT NULL,
        json       TEXT NOT NULL,           -- the alert record as emitted
        created_at INTEGER NOT NULL         -- when this store first saw it, epoch ms
      );
      CREATE INDEX alerts_by_time ON alerts (time DESC, id);
      CREATE INDEX alerts_by_rule_time ON alerts (rule, time DESC, id);
    `);
  },
];

/** The schema version this build writes. */
export const STATE_SCHEMA_VERSION = STATE_MIGRATIONS.length;
