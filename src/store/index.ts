// The state store's public surface: the interface, the implementations and openStateStore().
export { MemoryStateStore } from './memory.ts';
export { STATE_MIGRATIONS, STATE_SCHEMA_VERSION, type StateMigration } from './migrations.ts';
export { openStateStore, SqliteStateStore, type SqliteStateStoreOptions } from './sqlite.ts';
export type { StateStore } from './types.ts';
