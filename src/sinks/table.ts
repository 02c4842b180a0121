// Terminal table of alerts grouped by incident, and a run summary, for humans (`--output table`,
// default on a TTY).
import Table from 'cli-table3';
import pc from 'picocolors';
import { ocspSummary } from '../enrich/ocsp/summary.ts';
import type { AnalyzeStats } from '../pipeline/analyze.ts';
import type { Alert, Severity } from '../schema/alert.ts';
import type { Incident } from '../schema/incident.ts';

const SEVERITY_COLOUR: Record<Severity, (s: string) => string> = {
  critical: (s) => pc.bold(pc.red(s)),
  high: pc.red,
  medium: pc.yellow,
  low: pc.dim,
};

function short(value: string | null, max: number): string {
  if (!value) return '-';
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

const HEAD = ['time (UTC)', 'severity', 'score', 'action', 'rule', 'user', 'device', 'summary'];

function alertTable(width: number): Table.Table {
  const summaryWidth = Math.max(30, Math.min(90, width - 100));
  return new Table({
    head: HEAD,
    style: { head: [], border: [] },
    wordWrap: true,
    colWidths: [21, 10, 7, 9, 24, 18, 16, summaryWidth],
  });
}

function alertRow(a: Alert): string[] {
  return [
    a.time.replace('T', ' ').slice(0, 19),
    SEVERITY_COLOUR[a.severity](a.severity),
    String(Math.round(a.score)),
    a.action,
    a.rule,
    short(a.user, 17),
    short(a.device, 15),
    a.summary,
  ];
}

export function renderAlertTable(alerts: readonly Alert[], width = process.stdout.columns ?? 160): string {
  if (alerts.length === 0) return 'No alerts.';
  const table = alertTable(width);
  for (const a of alerts) table.push(alertRow(a));
  return table.toString();
}

/**
 * Alerts grouped under their incident: an incident of two or more alerts gets a heading row (id,
 * severity, score, action, time span, entities, summary, escalation) above its alerts; a
 * single-alert incident is just its alert row. Incidents in order of their first alert.
 */
export function renderIncidentTable(
  incidents: readonly Incident[],
  alerts: readonly Alert[],
  width = process.stdout.columns ?? 160,
): string {
  if (alerts.length === 0 && incidents.length === 0) return 'No alerts.';
  const byId = new Map(alerts.map((a) => [a.id, a]));
  const placed = new Set<string>();
  const table = alertTable(width);
  const ordered = [...incidents].sort((a, b) =>
    a.first_time < b.first_time ? -1 : a.first_time > b.first_time ? 1 : a.id < b.id ? -1 : 1,
  );
  for (const incident of ordered) {
    const members = incident.alerts.map((id) => byId.get(id)).filter((a): a is Alert => a !== undefined);
    for (const a of members) placed.add(a.id);
    if (incident.alert_count === 1 && members.length === 1) {
      table.push(alertRow(members[0]));
      continue;
    }
    table.push([{ colSpan: HEAD.length, content: incidentHeading(incident, incident.alert_count - members.length) }]);
    for (const a of members) table.push(alertRow(a));
  }
  // Every alert belongs to an incident; this only guards the output against losing one.
  const rest = alerts.filter((a) => !placed.has(a.id));
  for (const a of rest) table.push(alertRow(a));
  return table.toString();
}

function incidentHeading(i: Incident, earlier: number): string {
  const colour = SEVERITY_COLOUR[i.severity];
  const span = `${i.first_time.replace('T', ' ').slice(0, 16)} → ${i.last_time.replace('T', ' ').slice(i.first_time.slice(0, 10) === i.last_time.slice(0, 10) ? 11 : 0, 16)} UTC`;
  const who = [
    ...i.entities.users,
    ...i.entities.devices,
    ...i.entities.keys.map((k) => `key ${k.slice(0, 12)}…`),
    ...i.entities.source_ips,
  ];
  const lines = [
    `${pc.bold(`incident ${i.id}`)}  ${colour(i.severity)}  score ${Math.round(i.score)}  ${i.action}  ${span}${i.status === 'open' ? '  (open)' : ''}`,
    `entities: ${who.join(', ')}`,
    i.summary +
      (i.escalation.escalated
        ? ` — escalated: strongest alert alone ${i.escalation.strongest_alert}, together ${i.severity}`
        : '') +
      (earlier > 0 ? ` (${earlier} alert(s) reported by an earlier run)` : ''),
  ];
  return lines.join('\n');
}

export function renderSummary(stats: AnalyzeStats): string {
  const lines: string[] = [];
  const sev = (['critical', 'high', 'medium', 'low'] as Severity[])
    .filter((s) => stats.alertsBySeverity[s])
    .map((s) => `${stats.alertsBySeverity[s]} ${s}`)
    .join(', ');
  lines.push(
    `${stats.events.toLocaleString('en-US')} events from ${stats.files.length} file(s)` +
      `${stats.skipped ? `, ${stats.skipped.toLocaleString('en-US')} records skipped` : ''}` +
      ` → ${stats.alerts} alert(s)${sev ? ` (${sev})` : ''} in ${(stats.elapsedMs / 1000).toFixed(1)} s`,
  );
  if (stats.incidents) {
    const bySev = (['critical', 'high', 'medium', 'low'] as Severity[])
      .filter((s) => stats.incidentsBySeverity[s])
      .map((s) => `${stats.incidentsBySeverity[s]} ${s}`)
      .join(', ');
    lines.push(`${stats.incidents} incident(s) (${bySev})`);
  }
  if (stats.repeated) lines.push(`${stats.repeated} alert(s) already reported by an earlier run (not repeated)`);
  const suppressed = Object.entries(stats.suppressed);
  if (suppressed.length) lines.push(`suppressed by allowlists: ${suppressed.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  const byFeedback = Object.entries(stats.suppressedByFeedback ?? {});
  if (byFeedback.length) lines.push(`suppressed by analyst feedback: ${byFeedback.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  const byRule = Object.entries(stats.alertsByRule);
  if (byRule.length) lines.push(`alerts by rule: ${byRule.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  // Which geolocation database was used, how old it is, and what it could locate (docs/geo.md).
  const geo = stats.geoip;
  if (geo?.database) {
    const counts = Object.entries(geo.statuses)
      .map(([status, n]) => `${status} ${n}`)
      .join(', ');
    lines.push(
      `geoip: ${geo.database.database_type} built ${geo.database.build_date?.slice(0, 10) ?? 'unknown'} (${geo.database.path})${counts ? ` — events by geo_status: ${counts}` : ''}`,
    );
  }
  if (stats.ocsp) lines.push(ocspSummary(stats.ocsp));
  for (const f of stats.files) {
    lines.push(
      `  ${f.file} [${f.format ?? 'unknown format'}]: ${f.records} records, ${f.observations} events${f.skipped ? `, ${f.skipped} skipped` : ''}`,
    );
  }
  return lines.join('\n');
}
