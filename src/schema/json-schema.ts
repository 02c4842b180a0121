// The alert JSON Schema as shipped in schema/alert.schema.json (draft 2020-12).
import { AlertSchema } from './alert.ts';

export function alertJsonSchema(): string {
  const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...JSON.parse(JSON.stringify(AlertSchema)) };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
