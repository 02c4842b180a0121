// Small checks every StateStore implementation applies the same way, so they behave alike.
import { CertsignalError } from '../errors.ts';

/** JSON text of a state value; a value JSON cannot represent is a bug in the rule that stored it. */
export function toJson(value: unknown, where: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`state value for ${where} is not JSON-serialisable (${typeof value})`);
  return text;
}

/** `listAlerts` limit → SQLite LIMIT (-1 = none). */
export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return -1;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new CertsignalError('E_USAGE', `alert limit must be a non-negative integer, got ${limit}`);
  }
  return limit;
}

/** `schema_version` belongs to the migration code, not to callers. */
export function checkMetaKey(key: string): void {
  if (key === 'schema_version') throw new Error('meta key schema_version is managed by the state store');
}
