// The shipped JSON Schema (schema/alert.schema.json) must match the typebox definition the code uses.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { alertJsonSchema, incidentJsonSchema } from '../src/schema/json-schema.ts';

test('schema/alert.schema.json is up to date with src/schema/alert.ts (run `npm run schema`)', () => {
  const shipped = readFileSync(new URL('../schema/alert.schema.json', import.meta.url), 'utf8');
  assert.equal(shipped, alertJsonSchema());
  const parsed = JSON.parse(shipped);
  for (const field of [
    'id',
    'rule',
    'severity',
    'score',
    'action',
    'time',
    'user',
    'device',
    'cert_sha256',
    'spki_sha256',
    'issuer',
    'source_ip',
    'evidence',
  ]) {
    assert.ok(parsed.required.includes(field), `${field} is required by the published schema`);
  }
});

test('schema/incident.schema.json is up to date with src/schema/incident.ts (run `npm run schema`)', () => {
  const shipped = readFileSync(new URL('../schema/incident.schema.json', import.meta.url), 'utf8');
  assert.equal(shipped, incidentJsonSchema());
  const parsed = JSON.parse(shipped);
  assert.equal(parsed.properties.type.const, 'incident');
  for (const field of [
    'type',
    'id',
    'status',
    'severity',
    'score',
    'action',
    'first_time',
    'last_time',
    'entities',
    'rules',
    'alerts',
    'escalation',
    'summary',
    'schema_version',
  ]) {
    assert.ok(parsed.required.includes(field), `${field} is required by the published schema`);
  }
});
