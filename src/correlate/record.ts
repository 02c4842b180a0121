// One incident's members → the public incident record (src/schema/incident.ts): combined score
// with the entity-risk decay (src/score/risk.ts, reused as is), severity and action from the
// policy, entities, rules, escalation and a one-line summary.
import { createHash } from 'node:crypto';
import { MemoryKeyedState } from '../detect/state.ts';
import { decide, type PolicyConfig, severityFor } from '../policy/policy.ts';
import { SEVERITIES, type Severity } from '../schema/alert.ts';
import { INCIDENT_SCHEMA_VERSION, type Incident } from '../schema/incident.ts';
import { type EntityRisk, type RiskConfig, RiskScorer } from '../score/risk.ts';

/** What an incident keeps of one alert (also the persisted form: JSON-serialisable). */
export interface Member {
  id: string;
  rule: string;
  /** Event time, epoch ms. */
  ts: number;
  /** The weighted signal the alert scored (`evidence.scoring.weight`). */
  weight: number;
  /** The alert record's severity (which already includes earlier signals for its entity). */
  severity: Severity;
  entity: { kind: string; id: string };
  user: string | null;
  device: string | null;
  key: string | null;
}

export interface IncidentScoring {
  risk: RiskConfig;
  policy: PolicyConfig;
}

/** Deterministic incident id: derived only from the id of its first alert. */
export function incidentId(firstAlertId: string): string {
  return `ci-${createHash('sha256').update('incident\u0000').update(firstAlertId).digest('hex').slice(0, 24)}`;
}

/** Member order: event time, then alert id — a total order, so ids and scores never depend on arrival order. */
export function compareMembers(a: Member, b: Member): number {
  return a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The record for members already sorted by compareMembers. The score is the highest value the
 * combined score reached: every alert adds its own weight, older ones decaying exactly like an
 * entity's risk, so three weak alerts close together add up while a stale one fades.
 */
export function buildIncident(
  members: readonly Member[],
  merged: readonly string[],
  status: 'open' | 'closed',
  scoring: IncidentScoring,
): Incident {
  const scorer = new RiskScorer(scoring.risk, new MemoryKeyedState<EntityRisk>());
  let peak = 0;
  let maxWeight = 0;
  let maxAlert = 0;
  for (const m of members) {
    peak = Math.max(peak, scorer.add('incident', m.weight, m.ts).score);
    maxWeight = Math.max(maxWeight, m.weight);
    maxAlert = Math.max(maxAlert, SEVERITIES.indexOf(m.severity));
  }
  const { severity, action } = decide(peak, scoring.policy);
  const strongest = severityFor(maxWeight, scoring.policy);
  const first = members[0];
  const last = members[members.length - 1];
  const entities = {
    users: distinct(members.map((m) => m.user)),
    devices: distinct(members.map((m) => m.device)),
    keys: distinct(members.flatMap((m) => [m.key, m.entity.kind === 'key' ? m.entity.id : null])),
    source_ips: distinct(members.map((m) => (m.entity.kind === 'source_ip' ? m.entity.id : null))),
  };
  const rules = distinct(members.map((m) => m.rule));
  return {
    type: 'incident',
    id: incidentId(first.id),
    status,
    severity,
    score: peak,
    action,
    first_time: new Date(first.ts).toISOString(),
    last_time: new Date(last.ts).toISOString(),
    entity: mainEntity(members),
    entities,
    rules,
    alerts: members.map((m) => m.id),
    alert_count: members.length,
    max_alert_severity: SEVERITIES[maxAlert],
    escalation: {
      strongest_alert: strongest,
      incident: severity,
      escalated: SEVERITIES.indexOf(severity) > SEVERITIES.indexOf(strongest),
    },
    merged: distinct(merged).filter((id) => id !== incidentId(first.id)),
    summary: summarise(members, entities, rules, last.ts - first.ts),
    schema_version: INCIDENT_SCHEMA_VERSION,
  };
}

function distinct(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null && v !== ''))];
}

/** The scored entity that most alerts name (ties: the earliest). */
function mainEntity(members: readonly Member[]): { kind: string; id: string } {
  const counts = new Map<string, { entity: Member['entity']; n: number }>();
  for (const m of members) {
    const k = `${m.entity.kind}:${m.entity.id}`;
    const c = counts.get(k);
    if (c) c.n++;
    else counts.set(k, { entity: m.entity, n: 1 });
  }
  let best: { entity: Member['entity']; n: number } | undefined;
  for (const c of counts.values()) if (!best || c.n > best.n) best = c;
  return { kind: (best as { entity: Member['entity'] }).entity.kind, id: (best as { entity: Member['entity'] }).entity.id };
}

function summarise(members: readonly Member[], entities: Incident['entities'], rules: readonly string[], spanMs: number): string {
  const n = members.length;
  // People first: an analyst reads "for alice, bob"; devices, keys and addresses only when no account is known.
  const names =
    entities.users.length > 0
      ? entities.users
      : entities.devices.length > 0
        ? entities.devices
        : entities.keys.length > 0
          ? entities.keys.map((k) => `key ${k.slice(0, 16)}…`)
          : entities.source_ips;
  const who = names.length > 3 ? `${names.slice(0, 3).join(', ')} +${names.length - 3} more` : names.join(', ');
  const perRule = rules.map((r) => {
    const c = members.filter((m) => m.rule === r).length;
    return c > 1 ? `${r} ×${c}` : r;
  });
  const span = n > 1 ? ` in ${duration(spanMs)}` : '';
  return `${n} alert${n === 1 ? '' : 's'} for ${who || 'an unknown entity'}${span}: ${perRule.join(', ')}`;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'under 1 min';
  if (minutes < 120) return `${minutes} min`;
  if (ms < 48 * 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}
