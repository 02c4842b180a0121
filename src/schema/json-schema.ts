// The alert and incident JSON Schemas as shipped in schema/alert.schema.json and
// schema/incident.schema.json (draft 2020-12).
import { AlertSchema } from './alert.ts';
import { IncidentSchema } from './incident.ts';

export function alertJsonSchema(): string {
  const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...JSON.parse(JSON.stringify(AlertSchema)) };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export function incidentJsonSchema(): string {
  const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...JSON.parse(JSON.stringify(IncidentSchema)) };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
