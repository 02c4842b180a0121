// Terminal table of alerts and a run summary, for humans (`--output table`, default on a TTY).
import Table from 'cli-table3';
import pc from 'picocolors';
import type { AnalyzeStats } from '../pipeline/analyze.ts';
import type { Alert, Severity } from '../schema/alert.ts';

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

export function renderAlertTable(alerts: readonly Alert[], width = process.stdout.columns ?? 160): string {
  if (alerts.length === 0) return 'No alerts.';
  const summaryWidth = Math.max(30, Math.min(90, width - 100));
  const table = new Table({
    head: ['time (UTC)', 'severity', 'score', 'action', 'rule', 'user', 'device', 'summary'],
    style: { head: [], border: [] },
    wordWrap: true,
    colWidths: [21, 10, 7, 9, 24, 18, 16, summaryWidth],
  });
  for (const a of alerts) {
    table.push([
      a.time.replace('T', ' ').slice(0, 19),
      SEVERITY_COLOUR[a.severity](a.severity),
      String(Math.round(a.score)),
      a.action,
      a.rule,
      short(a.user, 17),
      short(a.device, 15),
      a.summary,
    ]);
  }
  return table.toString();
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
  if (stats.repeated) lines.push(`${stats.repeated} alert(s) already reported by an earlier run (not repeated)`);
  const suppressed = Object.entries(stats.suppressed);
  if (suppressed.length) lines.push(`suppressed by allowlists: ${suppressed.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  const byFeedback = Object.entries(stats.suppressedByFeedback ?? {});
  if (byFeedback.length) lines.push(`suppressed by analyst feedback: ${byFeedback.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  const byRule = Object.entries(stats.alertsByRule);
  if (byRule.length) lines.push(`alerts by rule: ${byRule.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  for (const f of stats.files) {
    lines.push(`  ${f.file} [${f.format ?? 'unknown format'}]: ${f.records} records, ${f.observations} events${f.skipped ? `, ${f.skipped} skipped` : ''}`);
  }
  return lines.join('\n');
}
