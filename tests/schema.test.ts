// The shipped JSON Schema (schema/alert.schema.json) must match the typebox definition the code uses.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { alertJsonSchema } from '../src/schema/json-schema.ts';

test('schema/alert.schema.json is up to date with src/schema/alert.ts (run `npm run schema`)', () => {
  const shipped = readFileSync(new URL('../schema/alert.schema.json', import.meta.url), 'utf8');
  assert.equal(shipped, alertJsonSchema());
  const parsed = JSON.parse(shipped);
  for (const field of ['id', 'rule', 'severity', 'score', 'action', 'time', 'user', 'device', 'cert_sha256', 'spki_sha256', 'issuer', 'source_ip', 'evidence']) {
    assert.ok(parsed.required.includes(field), `${field} is required by the published schema`);
  }
});
