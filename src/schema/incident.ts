// The incident record: alerts for one entity (account, device, key) — or for entities linked by a
// shared account, device or key — within the correlation window, combined into one scored
// finding. Emitted by `certsignal analyze --output json` after the alert records (`"type":"incident"`).
// The JSON Schema in schema/incident.schema.json is generated from this typebox definition
// (`npm run schema`) and checked by tests to stay in sync. Bump INCIDENT_SCHEMA_VERSION on any change.
import { type Static, Type } from 'typebox';
import { Action, Severity } from './alert.ts';

export const INCIDENT_SCHEMA_VERSION = 1;

const Strings = (description: string) => Type.Array(Type.String(), { description });
const SeverityOf = (description: string) =>
  Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')], { description });

export const IncidentSchema = Type.Object(
  {
    type: Type.Literal('incident', { description: 'Tells incident records apart from alert records in the same stream.' }),
    id: Type.String({
      description: 'Deterministic: ci- plus a digest of the id of its first alert (earliest time, then smallest id).',
      pattern: '^ci-[0-9a-f]{24}$',
    }),
    status: Type.Union([Type.Literal('open'), Type.Literal('closed')], {
      description:
        'closed: the correlation window has passed since its last alert (as of the latest event of the run), nothing can join any more. open: a later run with the same --state may still add alerts and emit it again.',
    }),
    severity: Severity,
    score: Type.Number({
      description: "Highest combined score: the alerts' weights added up in time order with the entity-risk decay.",
    }),
    action: Action,
    first_time: Type.String({ description: 'Time of the first alert, ISO 8601 UTC.', format: 'date-time' }),
    last_time: Type.String({ description: 'Time of the last alert, ISO 8601 UTC.', format: 'date-time' }),
    entity: Type.Object(
      { kind: Type.String(), id: Type.String() },
      { description: 'The entity most of its alerts were scored for.' },
    ),
    entities: Type.Object(
      {
        users: Strings('Accounts of its alerts.'),
        devices: Strings('Devices of its alerts.'),
        keys: Strings('Public keys (spki_sha256) of its alerts.'),
        source_ips: Strings('Addresses, only where an alert had no account, device or key.'),
      },
      { additionalProperties: false },
    ),
    rules: Strings('Distinct rule ids, in order of first appearance.'),
    alerts: Strings('Ids of its alerts (records with the same id in the same stream or an earlier run), in time order.'),
    alert_count: Type.Integer({ minimum: 1 }),
    max_alert_severity: SeverityOf(
      'Highest severity among its alert records (their scores include earlier signals for the same entity).',
    ),
    escalation: Type.Object(
      {
        strongest_alert: SeverityOf(
          'Severity the strongest single alert would have alone (its own weight, without any other signal).',
        ),
        incident: Severity,
        escalated: Type.Boolean({ description: 'True when the incident is more severe than its strongest alert alone.' }),
      },
      { additionalProperties: false },
    ),
    merged: Strings(
      'Ids of incident records emitted by an earlier run (same --state) that this one replaces: incidents a shared key, device or account folded into it, or its own earlier id when a late alert became its first. Drop records with these ids.',
    ),
    summary: Type.String({
      description: 'One line, e.g. "3 alerts for alice in 42 min: new-device, impossible-travel, new-resource".',
    }),
    schema_version: Type.Literal(INCIDENT_SCHEMA_VERSION),
  },
  { $id: 'https://certsignal.dev/schema/incident-1.json', title: 'certsignal incident', additionalProperties: false },
);
export type Incident = Static<typeof IncidentSchema>;
