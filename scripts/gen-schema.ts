// Writes schema/alert.schema.json and schema/incident.schema.json from the typebox definitions in
// src/schema/alert.ts and src/schema/incident.ts.
// A test (tests/schema.test.ts) fails when the committed file is out of date.
import { writeFileSync } from 'node:fs';
import { alertJsonSchema, incidentJsonSchema } from '../src/schema/json-schema.ts';

for (const [name, text] of [
  ['alert', alertJsonSchema()],
  ['incident', incidentJsonSchema()],
] as const) {
  const out = new URL(`../schema/${name}.schema.json`, import.meta.url);
  writeFileSync(out, text);
  process.stdout.write(`wrote ${out.pathname}\n`);
}
