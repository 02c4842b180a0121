// Writes schema/alert.schema.json from the typebox definition in src/schema/alert.ts.
// A test (tests/schema.test.ts) fails when the committed file is out of date.
import { writeFileSync } from 'node:fs';
import { alertJsonSchema } from '../src/schema/json-schema.ts';

const out = new URL('../schema/alert.schema.json', import.meta.url);
writeFileSync(out, alertJsonSchema());
process.stdout.write(`wrote ${out.pathname}\n`);
