// The embedded state store: one SQLite file (node:sqlite, no native addon) holding rule state,
// emitted alerts and run metadata, so a daily run continues where the last one stopped.
// WAL mode, prepared statements, and one transaction per batch keep a 100k-entry save fast.
// Also openStateStore(): the one place that knows which store a `--state` value means.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { CertsignalError } from '../errors.ts';
import type { Alert } from '../schema/alert.ts';
import { checkLimit, checkMetaKey, type FeedbackRow, feedbackToRow, rowToFeedback, toJson } from './common.ts';
import { MemoryStateStore } from './memory.ts';
import { STATE_MIGRATIONS, type StateMigration } from './migrations.ts';
import type { FeedbackRecord, StateStore } from './types.ts';

export { MemoryStateStore } from './memory.ts';
export { STATE_MIGRATIONS, STATE_SCHEMA_VERSION, type StateMigration } from './migrations.ts';

export interface SqliteStateStoreOptions {
  /** Replaces STATE_MIGRATIONS (tests of the migration mechanism only). */
  migrations?: readonly StateMigration[];
}

interface SqliteError extends Error {
  code?: string;
  errcode?: number;
}

function isSqliteError(error: unknown): error is SqliteError {
  return error instanceof Error && (error as SqliteError).code === 'ERR_SQLITE_ERROR';
}

/** Orders alerts newest first; ties (same time) by id so listings are deterministic. */
const ORDER_ALERTS = 'ORDER BY time IS NULL, time DESC, id ASC';

/** `StateStore` on a SQLite file (or `:memory:`). Construct with `new SqliteStateStore(path)`. */
export class SqliteStateStore implements StateStore {
  /** The path (or `:memory:`) this store was opened on; named in every error. */
  readonly path: string;
  private readonly db: DatabaseSync;
  private closed = false;
  /** Prepared on first use (a store opened with a truncated migration list for tests has no feedback table). */
  private feedbackStatements: { insert: StatementSync; list: StatementSync } | undefined;
  private readonly statements: {
    loadNamespace: StatementSync;
    upsertEntry: StatementSync;
    deleteEntry: StatementSync;
    knownAlertIds: StatementSync;
    insertAlert: StatementSync;
    listAlerts: StatementSync;
    listAlertsByRule: StatementSync;
    getAlert: StatementSync;
    alertCountsByRule: StatementSync;
    getMeta: StatementSync;
    setMeta: StatementSync;
  };

  /**
   * Opens (creating if absent) the database at `path` and migrates it forward to the current
   * schema. Throws CertsignalError('E_STATE') naming the path when the file is not an SQLite
   * database, is not a certsignal state store, was written by a newer certsignal, or cannot be
   * opened or written.
   */
  constructor(path: string, options: SqliteStateStoreOptions = {}) {
    this.path = path;
    const migrations = options.migrations ?? STATE_MIGRATIONS;
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path);
      db.exec('PRAGMA busy_timeout = 5000');
      // Identify the file before changing anything in it (even its journal mode).
      readSchemaVersion(db, path, migrations.length);
      // WAL lets a reader (e.g. `certsignal alerts`) run beside a writing `analyze`; NORMAL sync is
      // crash-safe in WAL mode and only risks the last transaction on power loss.
      // Switching a fresh file to WAL can report "database is locked" without waiting for the busy
      // timeout while another process is creating the same file: retry briefly.
      execWithRetry(db, 'PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      migrate(db, path, migrations);
    } catch (error) {
      try {
        db?.close();
      } catch {
        // already failing; the original error is the useful one
      }
      throw this.wrapOpenError(error);
    }
    this.db = db;
    this.statements = {
      loadNamespace: db.prepare('SELECT key, value FROM state WHERE namespace = ?'),
      upsertEntry: db.prepare(
        'INSERT INTO state (namespace, key, value) VALUES (?, ?, ?) ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value',
      ),
      deleteEntry: db.prepare('DELETE FROM state WHERE namespace = ? AND key = ?'),
      knownAlertIds: db.prepare('SELECT id FROM alerts WHERE id IN (SELECT value FROM json_each(?))'),
      insertAlert: db.prepare(
        'INSERT INTO alerts (id, rule, time, severity, json, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
      ),
      listAlerts: db.prepare(`SELECT json FROM alerts ${ORDER_ALERTS} LIMIT ?`),
      listAlertsByRule: db.prepare(`SELECT json FROM alerts WHERE rule = ? ${ORDER_ALERTS} LIMIT ?`),
      getAlert: db.prepare('SELECT json FROM alerts WHERE id = ?'),
      alertCountsByRule: db.prepare('SELECT rule, COUNT(*) AS n FROM alerts GROUP BY rule'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
    this.statements.loadNamespace.setReturnArrays(true);
  }

  async loadNamespace(namespace: string): Promise<Map<string, unknown>> {
    this.assertOpen();
    const out = new Map<string, unknown>();
    try {
      for (const row of this.statements.loadNamespace.iterate(namespace)) {
        const [key, value] = row as unknown as [string, string];
        out.set(key, JSON.parse(value));
      }
    } catch (error) {
      throw this.wrap(error, `reading namespace ${namespace}`);
    }
    return out;
  }

  async saveEntries(namespace: string, entries: Iterable<[string, unknown]>): Promise<void> {
    this.assertOpen();
    const { upsertEntry, deleteEntry } = this.statements;
    this.transaction(`saving namespace ${namespace}`, () => {
      for (const [key, value] of entries) {
        if (value === undefined) {
          deleteEntry.run(namespace, key);
        } else {
          upsertEntry.run(namespace, key, toJson(value, `${namespace}/${key}`));
        }
      }
    });
  }

  async knownAlertIds(ids: string[]): Promise<Set<string>> {
    this.assertOpen();
    const known = new Set<string>();
    if (ids.length === 0) return known;
    try {
      // One JSON parameter instead of N placeholders: no SQLite variable limit, one prepared statement.
      for (const row of this.statements.knownAlertIds.iterate(JSON.stringify(ids))) {
        known.add((row as { id: string }).id);
      }
    } catch (error) {
      throw this.wrap(error, 'reading alert ids');
    }
    return known;
  }

  async saveAlerts(alerts: Alert[]): Promise<void> {
    this.assertOpen();
    if (alerts.length === 0) return;
    const insert = this.statements.insertAlert;
    const createdAt = Date.now();
    this.transaction('saving alerts', () => {
      for (const alert of alerts) {
        const time = Date.parse(alert.time);
        insert.run(alert.id, alert.rule, Number.isNaN(time) ? null : time, alert.severity, JSON.stringify(alert), createdAt);
      }
    });
  }

  async listAlerts(options: { limit?: number; rule?: string } = {}): Promise<Alert[]> {
    this.assertOpen();
    const limit = checkLimit(options.limit);
    try {
      const rows =
        options.rule === undefined
          ? this.statements.listAlerts.all(limit)
          : this.statements.listAlertsByRule.all(options.rule, limit);
      return rows.map((row) => JSON.parse((row as { json: string }).json) as Alert);
    } catch (error) {
      throw this.wrap(error, 'listing alerts');
    }
  }

  async getAlert(id: string): Promise<Alert | undefined> {
    this.assertOpen();
    try {
      const row = this.statements.getAlert.get(id) as { json: string } | undefined;
      return row ? (JSON.parse(row.json) as Alert) : undefined;
    } catch (error) {
      throw this.wrap(error, `reading alert ${id}`);
    }
  }

  async alertCountsByRule(): Promise<Map<string, number>> {
    this.assertOpen();
    const out = new Map<string, number>();
    try {
      for (const row of this.statements.alertCountsByRule.iterate()) {
        const { rule, n } = row as { rule: string; n: number };
        out.set(rule, Number(n));
      }
    } catch (error) {
      throw this.wrap(error, 'counting alerts');
    }
    return out;
  }

  async saveFeedback(feedback: FeedbackRecord): Promise<void> {
    this.assertOpen();
    const row = feedbackToRow(feedback);
    try {
      this.feedback().insert.run(
        row.alert_id,
        row.verdict,
        row.scope,
        row.rule,
        row.entity_kind,
        row.entity_id,
        row.reason,
        row.created_at,
        row.expires_at,
      );
    } catch (error) {
      throw this.wrap(error, 'saving feedback');
    }
  }

  async listFeedback(): Promise<FeedbackRecord[]> {
    this.assertOpen();
    try {
      return this.feedback()
        .list.all()
        .map((row) => rowToFeedback(row as unknown as FeedbackRow));
    } catch (error) {
      throw this.wrap(error, 'reading feedback');
    }
  }

  async getMeta(key: string): Promise<string | undefined> {
    this.assertOpen();
    try {
      const row = this.statements.getMeta.get(key) as { value: string } | undefined;
      return row?.value;
    } catch (error) {
      throw this.wrap(error, `reading meta ${key}`);
    }
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.assertOpen();
    checkMetaKey(key);
    try {
      this.statements.setMeta.run(key, value);
    } catch (error) {
      throw this.wrap(error, `writing meta ${key}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.close();
    } catch (error) {
      throw this.wrap(error, 'closing');
    }
  }

  private feedback(): { insert: StatementSync; list: StatementSync } {
    this.feedbackStatements ??= {
      insert: this.db.prepare(
        'INSERT INTO feedback (alert_id, verdict, scope, rule, entity_kind, entity_id, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      list: this.db.prepare(
        'SELECT alert_id, verdict, scope, rule, entity_kind, entity_id, reason, created_at, expires_at FROM feedback ORDER BY seq',
      ),
    };
    return this.feedbackStatements;
  }

  private transaction(what: string, body: () => void): void {
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      throw this.wrap(error, what);
    }
    try {
      body();
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw this.wrap(error, what);
    }
  }

  private assertOpen(): void {
    // A call after close() is a bug in the caller, not a user error.
    if (this.closed) throw new Error(`state store ${this.path} is closed`);
  }

  /** SQLite failures (disk full, read-only file, corruption) are the user's to fix: name the file. */
  private wrap(error: unknown, what: string): unknown {
    if (!isSqliteError(error)) return error;
    return new CertsignalError('E_STATE', `state store ${this.path}: ${what} failed: ${error.message}`);
  }

  private wrapOpenError(error: unknown): unknown {
    if (error instanceof CertsignalError) return error;
    if (!isSqliteError(error)) return error;
    // Extended result codes carry the primary code in the low byte.
    const primary = (error.errcode ?? 0) & 0xff;
    if (primary === 26 /* SQLITE_NOTADB */) {
      return new CertsignalError('E_STATE', `state store ${this.path}: not an SQLite database (${error.message})`);
    }
    if (primary === 8 /* SQLITE_READONLY */ || primary === 14 /* SQLITE_CANTOPEN */) {
      return new CertsignalError(
        'E_STATE',
        `state store ${this.path}: cannot open for writing (${error.message}); check that its directory exists and that the file and directory are writable`,
      );
    }
    return new CertsignalError('E_STATE', `state store ${this.path}: cannot open (${error.message})`);
  }
}

/**
 * The schema version of `db` (0 for an empty database). Refuses databases that are not certsignal
 * stores and databases from a newer certsignal (forward only: no downgrades). Reads only.
 */
function readSchemaVersion(db: DatabaseSync, path: string, latest: number): number {
  const tables = new Set(
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name),
  );
  if (tables.size === 0) return 0;
  const row = tables.has('meta')
    ? (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined)
    : undefined;
  const version = row ? Number(row.value) : Number.NaN;
  if (!Number.isInteger(version) || version < 1) {
    throw new CertsignalError(
      'E_STATE',
      `state store ${path}: this SQLite database is not a certsignal state store (no schema_version); refusing to modify it`,
    );
  }
  if (version > latest) {
    throw new CertsignalError(
      'E_STATE',
      `state store ${path}: written by a newer certsignal (state schema version ${version}; this version understands up to ${latest}). Upgrade certsignal or use another --state file.`,
    );
  }
  return version;
}

/**
 * Brings `db` to the latest schema, one transaction per step. The version is re-read inside each
 * write transaction, so two processes opening a new file at once do not both run a step.
 */
function migrate(db: DatabaseSync, path: string, migrations: readonly StateMigration[]): void {
  for (;;) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const version = readSchemaVersion(db, path, migrations.length);
      if (version >= migrations.length) {
        db.exec('COMMIT');
        return;
      }
      migrations[version](db);
      db.prepare(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ).run(String(version + 1));
      db.exec('COMMIT');
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }
}

const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * Opens the state store named by `spec`:
 * - `undefined` or `''` → a MemoryStateStore (nothing persists after the run);
 * - `':memory:'` → an in-memory SQLite database;
 * - `postgres://…` / `postgresql://…` → not yet available (CertsignalError E_STATE);
 * - any other `scheme://` → CertsignalError E_STATE;
 * - anything else → a SQLite file at that path (created if absent; its directory must exist).
 */
export async function openStateStore(spec: string | undefined): Promise<StateStore> {
  if (spec === undefined || spec === '') return new MemoryStateStore();
  const scheme = URL_SCHEME.exec(spec)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    throw new CertsignalError(
      'E_STATE',
      `--state ${redactUrl(spec)}: the PostgreSQL store arrives with the scale-out mode; use a SQLite file path for now`,
    );
  }
  if (scheme !== undefined) {
    throw new CertsignalError(
      'E_STATE',
      `--state ${redactUrl(spec)}: unknown store scheme "${scheme}://"; give a SQLite file path or :memory:`,
    );
  }
  return new SqliteStateStore(spec);
}

/** A connection URL may carry a password: never echo it into a message. */
function redactUrl(spec: string): string {
  try {
    const url = new URL(spec);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return spec.replace(/\/\/[^@/]*@/, '//***@');
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Run a statement, retrying for up to ~5 s while SQLite reports the database busy or locked. */
function execWithRetry(db: DatabaseSync, sql: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      db.exec(sql);
      return;
    } catch (error) {
      if (attempt >= 250 || !/locked|busy/i.test((error as Error).message)) throw error;
      Atomics.wait(sleepCell, 0, 0, 20);
    }
  }
}
