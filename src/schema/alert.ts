// The alert record: the public output contract of `certsignal analyze --output json`.
// The JSON Schema in schema/alert.schema.json is generated from this typebox definition
// (`npm run schema`) and checked by tests to stay in sync. Bump ALERT_SCHEMA_VERSION on any change.
import { type Static, Type } from 'typebox';

export const ALERT_SCHEMA_VERSION = 1;

export const Severity = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')]);
export type Severity = Static<typeof Severity>;
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export const Action = Type.Union([Type.Literal('allow'), Type.Literal('step-up'), Type.Literal('deny')]);
export type Action = Static<typeof Action>;

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const AlertSchema = Type.Object(
  {
    id: Type.String({
      description: 'Deterministic: same input, same id, in every run and process.',
      pattern: '^cs-[0-9a-f]{24}$',
    }),
    rule: Type.String({ description: 'Rule id, e.g. cert-churn.' }),
    title: Type.String(),
    severity: Severity,
    score: Type.Number({ description: 'Entity risk score at the time of the alert (signals add up with time decay).' }),
    action: Action,
    time: Type.String({ description: 'Event time, ISO 8601 UTC.', format: 'date-time' }),
    entity: Type.Object({ kind: Type.String(), id: Type.String() }, { description: 'The entity whose risk was scored.' }),
    user: NullableString,
    device: NullableString,
    cert_sha256: NullableString,
    spki_sha256: NullableString,
    issuer: NullableString,
    source_ip: NullableString,
    summary: Type.String(),
    evidence: Type.Record(Type.String(), Type.Unknown()),
    schema_version: Type.Literal(ALERT_SCHEMA_VERSION),
  },
  { $id: 'https://certsignal.dev/schema/alert-1.json', title: 'certsignal alert', additionalProperties: false },
);
export type Alert = Static<typeof AlertSchema>;
