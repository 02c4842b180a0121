// Terminal rendering of an eval report: per attack type, per attack, per rule, per benign
// behaviour, then the totals (how to read it: docs/eval.md).
import Table from 'cli-table3';
import pc from 'picocolors';
import type { Severity } from '../schema/alert.ts';
import type { EvalReport } from './index.ts';

const SEVERITY_COLOUR: Record<Severity, (s: string) => string> = {
  critical: (s) => pc.bold(pc.red(s)),
  high: pc.red,
  medium: pc.yellow,
  low: pc.dim,
};

const NOT_TARGETED = 'none (not targeted)';

/** 0 → "0 s", 596 → "9 min 56 s", 7380 → "2 h 3 min", 93600 → "1 d 2 h". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86_400)} d${Math.floor((s % 86_400) / 3600) ? ` ${Math.floor((s % 86_400) / 3600)} h` : ''}`;
}

const pct = (value: number | null) => (value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`);
const sev = (s: Severity | null) => (s ? SEVERITY_COLOUR[s](s) : '-');
const list = (items: readonly string[], empty = '-') => (items.length > 0 ? items.join(', ') : empty);

/** The promised severity of one attack: "-" without a promise, yellow "high (not met)" below it. */
function promised(expected: Severity | null, met: boolean | null): string {
  if (expected === null) return pc.dim('-');
  return met ? expected : pc.yellow(`${expected} (not met)`);
}

function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] }, wordWrap: true });
}

/** The whole report as tables plus a totals block, for a terminal. */
export function renderEvalReport(report: EvalReport): string {
  const out: string[] = [];
  const t = report.totals;

  out.push(pc.bold('Attacks by type'));
  if (report.by_type.length === 0) out.push('No attacks labelled.');
  else {
    const byType = table([
      'attack type',
      'attacks',
      'detected',
      'recall',
      'median time to detect',
      'max severity',
      'promised',
      'expected rules',
      'rules that fired',
    ]);
    for (const r of report.by_type) {
      byType.push([
        r.type,
        String(r.attacks),
        String(r.detected),
        pct(r.recall),
        formatDuration(r.median_time_to_detect_seconds),
        sev(r.max_severity),
        r.severity_promised === 0
          ? pc.dim('-')
          : r.severity_met < r.severity_promised
            ? pc.yellow(`${r.expected_severity} (${r.severity_met} of ${r.severity_promised} met)`)
            : (r.expected_severity as string),
        list(r.expected_rules, NOT_TARGETED),
        list(r.detected_by),
      ]);
    }
    out.push(byType.toString());

    out.push('', pc.bold('Attacks'));
    const attacks = table([
      'attack',
      'type',
      'detected',
      'time to detect',
      'max severity',
      'promised',
      'expected rules',
      'fired (time to detect, severity)',
    ]);
    for (const a of report.attacks) {
      // Detected but short of the label's promise (a missed rule, a severity below it): yellow.
      const shortfalls = [
        ...(a.missed_expected_rules.length > 0 ? [`missed ${a.missed_expected_rules.join(', ')}`] : []),
        ...(a.severity_met === false ? [`below promised ${a.expected_severity}`] : []),
      ];
      const detected = a.detected
        ? shortfalls.length > 0
          ? pc.yellow(`yes (${shortfalls.join('; ')})`)
          : pc.green('yes')
        : a.expected_rules.length === 0
          ? pc.dim('no (not targeted)')
          : pc.red('NO');
      attacks.push([
        a.id,
        a.type,
        detected,
        formatDuration(a.time_to_detect_seconds),
        sev(a.max_severity),
        promised(a.expected_severity, a.severity_met),
        list(a.expected_rules, NOT_TARGETED),
        list(a.by_rule.map((r) => `${r.rule} (${formatDuration(r.time_to_detect_seconds)}, ${r.max_severity})`)),
      ]);
    }
    out.push(attacks.toString());
  }

  out.push('', pc.bold('Rules'));
  const rules = table([
    'rule',
    'alerts',
    'on attacks',
    'false pos.',
    'precision',
    'expected attacks caught',
    'other attacks caught',
    'median TTD',
    'max severity',
  ]);
  for (const r of report.rules) {
    rules.push([
      r.rule,
      String(r.alerts),
      String(r.true_positives),
      String(r.false_positives),
      pct(r.precision),
      `${r.attacks_expected_detected} / ${r.attacks_expected}`,
      String(r.attacks_detected - r.attacks_expected_detected),
      formatDuration(r.median_time_to_detect_seconds),
      sev(r.max_severity),
    ]);
  }
  out.push(rules.toString());

  out.push('', pc.bold('False positives by cause'));
  const benign = table(['benign behaviour', 'labelled instances', 'alerts', 'by rule']);
  const byRule = (m: Record<string, number>) => list(Object.entries(m).map(([rule, n]) => `${rule} ${n}`));
  for (const b of report.benign)
    benign.push([b.behaviour, String(b.instances), b.alerts > 0 ? pc.yellow(String(b.alerts)) : '0', byRule(b.by_rule)]);
  const baselineByRule: Record<string, number> = {};
  for (const a of report.alerts) if (a.verdict === 'baseline') baselineByRule[a.rule] = (baselineByRule[a.rule] ?? 0) + 1;
  benign.push([
    pc.dim('baseline (no label)'),
    '-',
    t.false_positives_baseline > 0 ? pc.yellow(String(t.false_positives_baseline)) : '0',
    byRule(baselineByRule),
  ]);
  out.push(benign.toString());

  const untargeted =
    t.attacks_untargeted > 0 ? ` — ${t.attacks_untargeted} attack(s) no current rule targets count as missed` : '';
  out.push(
    '',
    pc.bold('Totals'),
    `  recall      ${pct(report.recall)}  (${t.attacks_detected} of ${t.attacks} attacks detected${untargeted})`,
    `  recall on targeted attacks  ${pct(report.recall_targeted)}  (${t.attacks_targeted_detected} of ${t.attacks_targeted} with expected rules)`,
    t.attacks_severity_promised === 0
      ? '  promised severity  n/a  (the labels promise none)'
      : `  promised severity  ${(t.severity_met < t.attacks_severity_promised ? pc.yellow : pc.green)(`${t.severity_met} of ${t.attacks_severity_promised}`)} attacks reached their promised severity`,
    `  precision   ${pct(report.precision)}  (${t.true_positives} of ${t.alerts} alerts on attacks)`,
    `  benign alerts per 1,000 entity-days  ${report.benign_alerts_per_1000_entity_days === null ? 'n/a' : report.benign_alerts_per_1000_entity_days.toFixed(2)}` +
      `  (${t.false_positives} false positive(s) over ${t.benign_entity_days.toLocaleString('en-US')} active days of ${t.benign_users} users in no attack)`,
  );
  return out.join('\n');
}
