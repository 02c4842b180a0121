// Scores alerts against ground truth: attributes each alert to the labelled attacks (or, failing
// that, benign behaviours) it belongs to, then computes recall, precision, time to detect, severity
// reached and the benign alert rate. Pure: alerts, labels and activity in, a report out.
// The attribution rules are the contract in docs/eval.md.
import { type Alert, SEVERITIES, type Severity } from '../schema/alert.ts';
import type { LabelledAttack, LabelledBenign, LabelledEntities, Labels } from './labels.ts';

/** An alert is attributed to a label up to this long after the label's last event. */
export const ATTRIBUTION_GRACE_MS = 24 * 3_600_000;

/** The alert fields scoring reads. */
export type ScoredAlert = Pick<
  Alert,
  'id' | 'rule' | 'severity' | 'time' | 'user' | 'device' | 'cert_sha256' | 'spki_sha256' | 'source_ip' | 'entity'
>;

/** One alert and what it was attributed to. */
export interface AlertAttribution {
  id: string;
  rule: string;
  severity: Severity;
  time: string;
  user: string | null;
  device: string | null;
  /** `attack`: shares an entity with an attack within its window (a true positive); else a false positive caused by `benign` behaviour or by `baseline` traffic. */
  verdict: 'attack' | 'benign' | 'baseline';
  /** Ids of the attacks (verdict attack) or benign behaviours (verdict benign) it belongs to. */
  labels: string[];
}

export interface RuleDetection {
  rule: string;
  alerts: number;
  time_to_detect_seconds: number;
  max_severity: Severity;
}

export interface AttackResult {
  id: string;
  type: string;
  /** At least one alert attributed to the attack. */
  detected: boolean;
  /** First attributed alert time − attack start, seconds; null when not detected. */
  time_to_detect_seconds: number | null;
  /** Highest severity among the attributed alerts; null when not detected. */
  max_severity: Severity | null;
  /** The label's promise (minimum severity the attack must reach); null when it makes none. */
  expected_severity: Severity | null;
  /** max_severity ≥ expected_severity (false when not detected); null when there is no promise. */
  severity_met: boolean | null;
  start: string;
  end: string;
  expected_rules: string[];
  /** Rules with at least one attributed alert. */
  detected_by: string[];
  /** Expected rules that did not fire an attributed alert. */
  missed_expected_rules: string[];
  alerts: number;
  by_rule: RuleDetection[];
  description: string;
}

export interface TypeResult {
  type: string;
  attacks: number;
  detected: number;
  recall: number | null;
  expected_rules: string[];
  detected_by: string[];
  median_time_to_detect_seconds: number | null;
  max_severity: Severity | null;
  /** Highest promise among the type's attacks; null when none has one. */
  expected_severity: Severity | null;
  /** Attacks of the type with a promise, and how many reached it. */
  severity_promised: number;
  severity_met: number;
}

export interface RuleResult {
  rule: string;
  alerts: number;
  /** Alerts attributed to an attack. */
  true_positives: number;
  false_positives: number;
  precision: number | null;
  /** Attacks that list this rule in expected_rules, and how many of those it alerted on. */
  attacks_expected: number;
  attacks_expected_detected: number;
  /** Attacks (expected or not) with at least one alert of this rule attributed. */
  attacks_detected: number;
  median_time_to_detect_seconds: number | null;
  max_severity: Severity | null;
}

export interface BenignResult {
  behaviour: string;
  /** False-positive alerts attributed to labelled instances of this behaviour (an alert matching two behaviours counts in both). */
  alerts: number;
  instances: number;
  by_rule: Record<string, number>;
  label_ids: string[];
}

export interface ScoreResult {
  /** Detected attacks ÷ attacks (every attack, including those no current rule targets); null without attacks. */
  recall: number | null;
  /** Alerts attributed to an attack ÷ all alerts; null without alerts. */
  precision: number | null;
  /** False-positive alerts ÷ active (user, UTC day) pairs of users involved in no attack × 1000; null without such days. */
  benign_alerts_per_1000_entity_days: number | null;
  attacks: AttackResult[];
  benign: BenignResult[];
  /** Recall over the attacks whose expected_rules is non-empty (what the current ruleset claims to catch). */
  recall_targeted: number | null;
  totals: {
    attacks: number;
    attacks_detected: number;
    attacks_targeted: number;
    attacks_targeted_detected: number;
    /** Attacks with empty expected_rules: no current rule is meant to catch them. */
    attacks_untargeted: number;
    /** Attacks whose label promises a severity, and how many reached it. */
    attacks_severity_promised: number;
    severity_met: number;
    alerts: number;
    true_positives: number;
    false_positives: number;
    false_positives_benign: number;
    false_positives_baseline: number;
    benign_users: number;
    benign_entity_days: number;
  };
  by_type: TypeResult[];
  rules: RuleResult[];
  alerts: AlertAttribution[];
}

/** Lowercased entity sets and the attribution window of one label. */
interface Matcher {
  id: string;
  startMs: number;
  untilMs: number;
  users: Set<string>;
  devices: Set<string>;
  certs: Set<string>;
  spkis: Set<string>;
  ips: Set<string>;
}

const lower = (values: readonly string[]) => new Set(values.map((v) => v.trim().toLowerCase()));

function matcher(label: LabelledEntities & { id: string; startMs: number; endMs: number }): Matcher {
  return {
    id: label.id,
    startMs: label.startMs,
    untilMs: label.endMs + ATTRIBUTION_GRACE_MS,
    users: lower(label.users),
    devices: lower(label.devices),
    certs: lower(label.cert_sha256),
    spkis: lower(label.spki_sha256),
    ips: lower(label.source_ips),
  };
}

const has = (set: Set<string>, value: string | null) => value !== null && set.size > 0 && set.has(value.toLowerCase());

/** True when the alert falls in [start, end + 24 h] and shares a user, device, certificate, key or source IP with the label. */
function belongs(alert: ScoredAlert, ms: number, m: Matcher): boolean {
  if (ms < m.startMs || ms > m.untilMs) return false;
  if (has(m.users, alert.user) || has(m.devices, alert.device)) return true;
  if (has(m.certs, alert.cert_sha256) || has(m.spkis, alert.spki_sha256) || has(m.ips, alert.source_ip)) return true;
  // The scored entity (user or device) names the same thing as the fields above, but alerts keyed
  // by an entity without a user/device field still match.
  if (alert.entity.kind === 'user') return has(m.users, alert.entity.id);
  if (alert.entity.kind === 'device') return has(m.devices, alert.entity.id);
  return false;
}

const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

/** Whether an attack reached its promised severity: null without a promise, false when undetected. */
export function severityMet(max: Severity | null, promised: Severity | null): boolean | null {
  if (promised === null) return null;
  return max !== null && severityRank(max) >= severityRank(promised);
}

function maxSeverity(values: Iterable<Severity>): Severity | null {
  let best: Severity | null = null;
  for (const s of values) if (best === null || severityRank(s) > severityRank(best)) best = s;
  return best;
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : Math.round((numerator / denominator) * 10_000) / 10_000;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const seconds = (ms: number) => Math.round(ms / 1000);

/** Active (user, day) pairs of users involved in no attack, with user names compared case-insensitively. */
export function benignEntityDays(
  userDays: ReadonlyMap<string, ReadonlySet<number>>,
  attacks: readonly LabelledAttack[],
): { users: number; entityDays: number } {
  const involved = new Set<string>();
  for (const a of attacks) for (const u of a.users) involved.add(u.trim().toLowerCase());
  const merged = new Map<string, Set<number>>();
  for (const [user, days] of userDays) {
    const key = user.trim().toLowerCase();
    if (involved.has(key)) continue;
    let set = merged.get(key);
    if (!set) {
      set = new Set();
      merged.set(key, set);
    }
    for (const d of days) set.add(d);
  }
  let entityDays = 0;
  for (const set of merged.values()) entityDays += set.size;
  return { users: merged.size, entityDays };
}

export interface ScoreOptions {
  /** Rules that ran (listed in the per-rule results even when silent). */
  rules?: readonly string[];
  /** user → active UTC days, from the same events detection saw (see UserDays). */
  userDays?: ReadonlyMap<string, ReadonlySet<number>>;
}

/** Attributes `alerts` to `labels` and computes every figure of the eval report. */
export function scoreAlerts(
  alerts: readonly ScoredAlert[],
  labels: Pick<Labels, 'attacks' | 'benign'>,
  options: ScoreOptions = {},
): ScoreResult {
  const attackMatchers = labels.attacks.map(matcher);
  const benignMatchers = labels.benign.map(matcher);
  const attackAlerts = new Map<string, { alert: ScoredAlert; ms: number }[]>(labels.attacks.map((a) => [a.id, []]));
  const benignAlerts = new Map<string, ScoredAlert[]>(labels.benign.map((b) => [b.id, []]));
  const attributions: AlertAttribution[] = [];
  const ruleCounts = new Map<string, { alerts: number; tp: number; fp: number }>();
  for (const r of options.rules ?? []) ruleCounts.set(r, { alerts: 0, tp: 0, fp: 0 });
  let truePositives = 0;
  let benignFp = 0;
  let baselineFp = 0;

  const ordered = [...alerts].sort((a, b) =>
    a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  for (const alert of ordered) {
    const ms = Date.parse(alert.time);
    let counts = ruleCounts.get(alert.rule);
    if (!counts) {
      counts = { alerts: 0, tp: 0, fp: 0 };
      ruleCounts.set(alert.rule, counts);
    }
    counts.alerts++;
    const attackIds = attackMatchers.filter((m) => belongs(alert, ms, m)).map((m) => m.id);
    let verdict: AlertAttribution['verdict'];
    let labelIds: string[];
    if (attackIds.length > 0) {
      verdict = 'attack';
      labelIds = attackIds;
      truePositives++;
      counts.tp++;
      for (const id of attackIds) attackAlerts.get(id)?.push({ alert, ms });
    } else {
      counts.fp++;
      labelIds = benignMatchers.filter((m) => belongs(alert, ms, m)).map((m) => m.id);
      verdict = labelIds.length > 0 ? 'benign' : 'baseline';
      if (verdict === 'benign') benignFp++;
      else baselineFp++;
      for (const id of labelIds) benignAlerts.get(id)?.push(alert);
    }
    attributions.push({
      id: alert.id,
      rule: alert.rule,
      severity: alert.severity,
      time: alert.time,
      user: alert.user,
      device: alert.device,
      verdict,
      labels: labelIds,
    });
  }

  const attacks: AttackResult[] = labels.attacks.map((attack) => {
    const mine = attackAlerts.get(attack.id) ?? [];
    const byRule = new Map<string, { alerts: number; firstMs: number; severities: Severity[] }>();
    for (const { alert, ms } of mine) {
      const r = byRule.get(alert.rule);
      if (r) {
        r.alerts++;
        r.firstMs = Math.min(r.firstMs, ms);
        r.severities.push(alert.severity);
      } else byRule.set(alert.rule, { alerts: 1, firstMs: ms, severities: [alert.severity] });
    }
    const detected = mine.length > 0;
    const firstMs = detected ? mine.reduce((min, m) => Math.min(min, m.ms), Number.POSITIVE_INFINITY) : null;
    const max = maxSeverity(mine.map((m) => m.alert.severity));
    // Labels from before the field existed (or hand-written ones) may lack it: no promise.
    const promised = attack.expected_severity ?? null;
    return {
      id: attack.id,
      type: attack.type,
      detected,
      time_to_detect_seconds: firstMs === null ? null : seconds(firstMs - attack.startMs),
      max_severity: max,
      expected_severity: promised,
      severity_met: severityMet(max, promised),
      start: attack.start,
      end: attack.end,
      expected_rules: [...attack.expected_rules],
      detected_by: [...byRule.keys()].sort(),
      missed_expected_rules: attack.expected_rules.filter((r) => !byRule.has(r)),
      alerts: mine.length,
      by_rule: [...byRule.entries()]
        .sort((a, b) => a[1].firstMs - b[1].firstMs || (a[0] < b[0] ? -1 : 1))
        .map(([rule, r]) => ({
          rule,
          alerts: r.alerts,
          time_to_detect_seconds: seconds(r.firstMs - attack.startMs),
          max_severity: maxSeverity(r.severities) as Severity,
        })),
      description: attack.description,
    };
  });

  const types = new Map<string, AttackResult[]>();
  for (const a of attacks) {
    const list = types.get(a.type);
    if (list) list.push(a);
    else types.set(a.type, [a]);
  }
  const byType: TypeResult[] = [...types.entries()].map(([type, list]) => {
    const detected = list.filter((a) => a.detected);
    return {
      type,
      attacks: list.length,
      detected: detected.length,
      recall: ratio(detected.length, list.length),
      expected_rules: [...new Set(list.flatMap((a) => a.expected_rules))].sort(),
      detected_by: [...new Set(list.flatMap((a) => a.detected_by))].sort(),
      median_time_to_detect_seconds: median(detected.map((a) => a.time_to_detect_seconds as number)),
      max_severity: maxSeverity(detected.map((a) => a.max_severity as Severity)),
      expected_severity: maxSeverity(list.flatMap((a) => (a.expected_severity ? [a.expected_severity] : []))),
      severity_promised: list.filter((a) => a.severity_met !== null).length,
      severity_met: list.filter((a) => a.severity_met === true).length,
    };
  });

  for (const a of attacks)
    for (const r of a.expected_rules) if (!ruleCounts.has(r)) ruleCounts.set(r, { alerts: 0, tp: 0, fp: 0 });
  const rules: RuleResult[] = [...ruleCounts.entries()].map(([rule, c]) => {
    const detections = attacks.flatMap((a) => a.by_rule.filter((d) => d.rule === rule));
    const expected = attacks.filter((a) => a.expected_rules.includes(rule));
    return {
      rule,
      alerts: c.alerts,
      true_positives: c.tp,
      false_positives: c.fp,
      precision: ratio(c.tp, c.alerts),
      attacks_expected: expected.length,
      attacks_expected_detected: expected.filter((a) => a.detected_by.includes(rule)).length,
      attacks_detected: detections.length,
      median_time_to_detect_seconds: median(detections.map((d) => d.time_to_detect_seconds)),
      max_severity: maxSeverity(detections.map((d) => d.max_severity)),
    };
  });

  const behaviours = new Map<string, LabelledBenign[]>();
  for (const b of labels.benign) {
    const list = behaviours.get(b.behaviour);
    if (list) list.push(b);
    else behaviours.set(b.behaviour, [b]);
  }
  const benign: BenignResult[] = [...behaviours.entries()].map(([behaviour, instances]) => {
    // Distinct alerts: two instances of one behaviour can claim the same alert.
    const seen = new Map<string, ScoredAlert>();
    for (const b of instances) for (const a of benignAlerts.get(b.id) ?? []) seen.set(a.id, a);
    const byRule: Record<string, number> = {};
    for (const a of seen.values()) byRule[a.rule] = (byRule[a.rule] ?? 0) + 1;
    return { behaviour, alerts: seen.size, instances: instances.length, by_rule: byRule, label_ids: instances.map((b) => b.id) };
  });

  const targeted = attacks.filter((a) => a.expected_rules.length > 0);
  const detectedCount = attacks.filter((a) => a.detected).length;
  const targetedDetected = targeted.filter((a) => a.detected).length;
  const falsePositives = ordered.length - truePositives;
  const { users: benignUsers, entityDays } = benignEntityDays(options.userDays ?? new Map(), labels.attacks);

  return {
    recall: ratio(detectedCount, attacks.length),
    precision: ratio(truePositives, ordered.length),
    benign_alerts_per_1000_entity_days: entityDays === 0 ? null : Math.round((falsePositives / entityDays) * 1000 * 1000) / 1000,
    attacks,
    benign,
    recall_targeted: ratio(targetedDetected, targeted.length),
    totals: {
      attacks: attacks.length,
      attacks_detected: detectedCount,
      attacks_targeted: targeted.length,
      attacks_targeted_detected: targetedDetected,
      attacks_untargeted: attacks.length - targeted.length,
      attacks_severity_promised: attacks.filter((a) => a.severity_met !== null).length,
      severity_met: attacks.filter((a) => a.severity_met === true).length,
      alerts: ordered.length,
      true_positives: truePositives,
      false_positives: falsePositives,
      false_positives_benign: benignFp,
      false_positives_baseline: baselineFp,
      benign_users: benignUsers,
      benign_entity_days: entityDays,
    },
    by_type: byType,
    rules,
    alerts: attributions,
  };
}
