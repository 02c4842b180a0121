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
  // 2: analyst feedback (`certsignal feedback`): a history of verdicts, the latest per alert wins.
  (db) => {
    db.exec(`
      CREATE TABLE feedback (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,  -- insertion order: later verdicts supersede
        alert_id    TEXT NOT NULL,
        verdict     TEXT NOT NULL CHECK (verdict IN ('false-positive', 'true-positive')),
        scope       TEXT NOT NULL CHECK (scope IN ('alert', 'rule', 'entity')),
        rule        TEXT NOT NULL,                       -- copied from the alert
        entity_kind TEXT NOT NULL,
        entity_id   TEXT NOT NULL,
        reason      TEXT,
        created_at  INTEGER NOT NULL,                    -- wall clock, epoch ms
        expires_at  INTEGER                              -- wall clock, epoch ms; null = never
      );
      CREATE INDEX feedback_by_alert ON feedback (alert_id, seq);
    `);
  },
];

/** The schema version this build writes. */
export const STATE_SCHEMA_VERSION = STATE_MIGRATIONS.length;
