// Runs the StateStore conformance suite against SqliteStateStore (file and :memory:), plus the
// SQLite-only behaviour: migrations, refusing foreign/newer/non-SQLite files, unwritable paths,
// and openStateStore's dispatch.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CertsignalError } from '../../src/errors.ts';
import { openStateStore } from '../../src/store/index.ts';
import { MemoryStateStore } from '../../src/store/memory.ts';
import { SqliteStateStore, STATE_MIGRATIONS, STATE_SCHEMA_VERSION } from '../../src/store/sqlite.ts';
import { alertId, makeAlert, makeFeedback, runStoreConformance } from './conformance.ts';

const scratch = mkdtempSync(join(tmpdir(), 'certsignal-store-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
function freshPath(): string {
  counter += 1;
  return join(scratch, `state-${counter}.sqlite`);
}

runStoreConformance('SqliteStateStore (file)', async () => {
  const path = freshPath();
  return { store: new SqliteStateStore(path), reopen: async () => new SqliteStateStore(path) };
});

runStoreConformance('SqliteStateStore (:memory:)', async () => ({ store: new SqliteStateStore(':memory:') }));

/** Asserts `fn` throws a CertsignalError('E_STATE') whose message names `path` and matches `pattern`. */
function assertStateError(fn: () => unknown, path: string, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof CertsignalError, `expected CertsignalError, got ${error}`);
    assert.equal(error.code, 'E_STATE');
    assert.ok(error.message.includes(path), `message should name ${path}: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('SqliteStateStore on disk', () => {
  test('uses WAL journaling and records the current schema version', async () => {
    const path = freshPath();
    const store = new SqliteStateStore(path);
    await store.close();
    const raw = new DatabaseSync(path);
    try {
      assert.deepEqual({ ...raw.prepare('PRAGMA journal_mode').get() }, { journal_mode: 'wal' });
      const row = raw.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string };
      assert.equal(row.value, String(STATE_SCHEMA_VERSION));
      const indexes = (
        raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alerts'").all() as { name: string }[]
      ).map((r) => r.name);
      assert.ok(indexes.includes('alerts_by_time') && indexes.includes('alerts_by_rule_time'), indexes.join(','));
    } finally {
      raw.close();
    }
  });

  test('listAlerts by rule uses the (rule, time) index', async () => {
    const path = freshPath();
    const store = new SqliteStateStore(path);
    await store.close();
    const raw = new DatabaseSync(path);
    try {
      const plan = raw
        .prepare("EXPLAIN QUERY PLAN SELECT json FROM alerts WHERE rule = 'x' ORDER BY time IS NULL, time DESC, id ASC LIMIT 5")
        .all()
        .map((r) => (r as { detail: string }).detail)
        .join(' | ');
      assert.match(plan, /alerts_by_rule_time/);
    } finally {
      raw.close();
    }
  });

  test('migrates an older database forward, keeping its data', async () => {
    const path = freshPath();
    const v1 = new SqliteStateStore(path, { migrations: STATE_MIGRATIONS.slice(0, 1) });
    await v1.saveEntries('ns', [['k', { kept: true }]]);
    await v1.close();
    const addColumn = (db: DatabaseSync) => db.exec('ALTER TABLE alerts ADD COLUMN acknowledged INTEGER NOT NULL DEFAULT 0');
    const v2 = new SqliteStateStore(path, { migrations: [...STATE_MIGRATIONS.slice(0, 1), addColumn] });
    assert.equal(await v2.getMeta('schema_version'), '2');
    assert.deepEqual((await v2.loadNamespace('ns')).get('k'), { kept: true });
    await v2.saveAlerts([makeAlert(1)]);
    assert.equal((await v2.listAlerts()).length, 1);
    await v2.close();
    const raw = new DatabaseSync(path);
    const columns = raw
      .prepare('PRAGMA table_info(alerts)')
      .all()
      .map((r) => (r as { name: string }).name);
    raw.close();
    assert.ok(columns.includes('acknowledged'));
  });

  test('a schema-1 database (before feedback) migrates to the current schema: alerts kept, feedback works', async () => {
    const path = freshPath();
    const v1 = new SqliteStateStore(path, { migrations: STATE_MIGRATIONS.slice(0, 1) });
    const alert = makeAlert(41);
    await v1.saveAlerts([alert]);
    await v1.saveEntries('cert-churn/seen', [['alice', 3]]);
    await v1.close();
    const raw = new DatabaseSync(path);
    const before = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'feedback'").all();
    raw.close();
    assert.equal(before.length, 0, 'schema 1 has no feedback table');

    const current = new SqliteStateStore(path);
    try {
      assert.equal(await current.getMeta('schema_version'), String(STATE_SCHEMA_VERSION));
      assert.ok(STATE_SCHEMA_VERSION >= 2);
      assert.deepEqual(await current.getAlert(alert.id), alert);
      assert.equal((await current.loadNamespace('cert-churn/seen')).get('alice'), 3);
      const verdict = makeFeedback(alert);
      await current.saveFeedback(verdict);
      assert.deepEqual(await current.listFeedback(), [verdict]);
    } finally {
      await current.close();
    }
  });

  test('a failing migration step leaves the database at the previous version', async () => {
    const path = freshPath();
    await new SqliteStateStore(path).close();
    const broken = (db: DatabaseSync) => {
      db.exec('CREATE TABLE half_done (x)');
      db.exec('THIS IS NOT SQL');
    };
    assert.throws(() => new SqliteStateStore(path, { migrations: [...STATE_MIGRATIONS, broken] }), CertsignalError);
    const store = new SqliteStateStore(path);
    assert.equal(await store.getMeta('schema_version'), String(STATE_SCHEMA_VERSION));
    await store.close();
    const raw = new DatabaseSync(path);
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").all();
    raw.close();
    assert.equal(tables.length, 0);
  });

  test('refuses a database written by a newer certsignal, without touching it', async () => {
    const path = freshPath();
    await new SqliteStateStore(path).close();
    const raw = new DatabaseSync(path);
    raw.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(STATE_SCHEMA_VERSION + 1));
    raw.close();
    assertStateError(
      () => new SqliteStateStore(path),
      path,
      new RegExp(`newer certsignal.*version ${STATE_SCHEMA_VERSION + 1}.*up to ${STATE_SCHEMA_VERSION}`, 's'),
    );
    const check = new DatabaseSync(path);
    const row = check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string };
    check.close();
    assert.equal(row.value, String(STATE_SCHEMA_VERSION + 1));
  });

  test('refuses a file that is not an SQLite database, leaving it unchanged', () => {
    const path = join(scratch, 'not-a-database.sqlite');
    const content = 'certificate,user\n'.repeat(200);
    writeFileSync(path, content);
    assertStateError(() => new SqliteStateStore(path), path, /not an SQLite database/);
    assert.equal(readFileSync(path, 'utf8'), content);
  });

  test('refuses an SQLite database that is not a certsignal store', () => {
    const path = join(scratch, 'someone-elses.sqlite');
    const raw = new DatabaseSync(path);
    raw.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
    raw.close();
    assertStateError(() => new SqliteStateStore(path), path, /not a certsignal state store/);
    const check = new DatabaseSync(path);
    const mode = check.prepare('PRAGMA journal_mode').get() as { journal_mode: string };
    const tables = check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    check.close();
    assert.equal(mode.journal_mode, 'delete', 'journal mode must not be switched on a foreign database');
    assert.equal(tables.length, 1);
  });

  test('a path in a missing directory or a directory path is a clear E_STATE error', () => {
    const missing = join(scratch, 'no-such-dir', 'state.sqlite');
    assertStateError(() => new SqliteStateStore(missing), missing, /cannot open/);
    assertStateError(() => new SqliteStateStore(scratch), scratch, /cannot open|not an SQLite/);
  });

  test('an unwritable database file is a clear E_STATE error', {
    skip: process.getuid?.() === 0 ? 'root ignores file permissions' : false,
  }, async () => {
    const path = freshPath();
    await new SqliteStateStore(path).close();
    chmodSync(path, 0o444);
    try {
      assertStateError(() => new SqliteStateStore(path), path, /readonly|cannot open/i);
    } finally {
      chmodSync(path, 0o644);
    }
  });

  test('an SQLite database with a meta table but no schema_version is refused', () => {
    const path = freshPath();
    const raw = new DatabaseSync(path);
    raw.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)');
    raw.close();
    assertStateError(() => new SqliteStateStore(path), path, /not a certsignal state store/);
  });

  test('several processes creating the same new file at once all succeed and all writes land', async () => {
    const path = freshPath();
    const moduleUrl = new URL('../../src/store/sqlite.ts', import.meta.url).href;
    // Every child waits for the same instant before opening, so they race for the fresh file.
    const startAt = Date.now() + 1500;
    const script = (n: number) =>
      `const { SqliteStateStore } = await import(${JSON.stringify(moduleUrl)});
       while (Date.now() < ${startAt}) {}
       const store = new SqliteStateStore(${JSON.stringify(path)});
       await store.saveEntries('workers', [['worker-${n}', ${n}]]);
       await store.close();`;
    const run = promisify(execFile);
    await Promise.all([0, 1, 2, 3].map((n) => run(process.execPath, ['--input-type=module', '-e', script(n)])));
    const store = new SqliteStateStore(path);
    try {
      assert.deepEqual([...(await store.loadNamespace('workers'))].sort(), [
        ['worker-0', 0],
        ['worker-1', 1],
        ['worker-2', 2],
        ['worker-3', 3],
      ]);
      assert.equal(await store.getMeta('schema_version'), String(STATE_SCHEMA_VERSION));
    } finally {
      await store.close();
    }
  });

  test("two stores on the same file see each other's committed writes", async () => {
    const path = freshPath();
    const writer = new SqliteStateStore(path);
    const reader = new SqliteStateStore(path);
    try {
      await writer.saveEntries('ns', [['k', 1]]);
      await writer.saveAlerts([makeAlert(7)]);
      assert.equal((await reader.loadNamespace('ns')).get('k'), 1);
      assert.equal((await reader.knownAlertIds([alertId(7)])).size, 1);
    } finally {
      await writer.close();
      await reader.close();
    }
  });
});

describe('openStateStore', () => {
  test('no spec gives a memory store; :memory: and a path give SQLite stores', async () => {
    const none = await openStateStore(undefined);
    assert.ok(none instanceof MemoryStateStore);
    await none.close();
    const mem = await openStateStore(':memory:');
    assert.ok(mem instanceof SqliteStateStore);
    await mem.close();
    const path = freshPath();
    const file = await openStateStore(path);
    assert.ok(file instanceof SqliteStateStore);
    await file.saveEntries('ns', [['k', 'v']]);
    await file.close();
    const again = await openStateStore(path);
    assert.equal((await again.loadNamespace('ns')).get('k'), 'v');
    await again.close();
  });

  test('a postgres:// URL says the PostgreSQL store is not there yet, without echoing the password', async () => {
    await assert.rejects(openStateStore('postgres://certsignal:s3cret@127.0.0.1:5432/test'), (error: unknown) => {
      assert.ok(error instanceof CertsignalError);
      assert.equal(error.code, 'E_STATE');
      assert.match(error.message, /PostgreSQL store arrives with the scale-out mode/);
      assert.ok(!error.message.includes('s3cret'), error.message);
      return true;
    });
    await assert.rejects(openStateStore('postgresql://localhost/test'), /scale-out mode/);
  });

  test('an unknown URL scheme is refused', async () => {
    await assert.rejects(openStateStore('redis://127.0.0.1:6379'), (error: unknown) => {
      assert.ok(error instanceof CertsignalError);
      assert.match(error.message, /unknown store scheme "redis:\/\/"/);
      return true;
    });
  });
});
