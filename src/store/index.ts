// The state store's public surface: the interface, the implementations and openStateStore().
export { MemoryStateStore } from './memory.ts';
export { STATE_MIGRATIONS, STATE_SCHEMA_VERSION, type StateMigration } from './migrations.ts';
export { openStateStore, SqliteStateStore, type SqliteStateStoreOptions } from './sqlite.ts';
export {
  FEEDBACK_SCOPES,
  FEEDBACK_VERDICTS,
  type FeedbackRecord,
  type FeedbackScope,
  type FeedbackVerdict,
  type StateStore,
} from './types.ts';
