// `evaluate`: runs the analyze pipeline over a simulated fleet directory (the layout in
// docs/eval.md) WITHOUT its labels, then scores the alerts against labels.json.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ConfigOverrides } from '../config/config.ts';
import type { Diagnostics } from '../diagnostics.ts';
import { CertsignalError, ExitCode } from '../errors.ts';
import { type AnalyzeOptions, type AnalyzeStats, analyze } from '../pipeline/analyze.ts';
import type { Alert } from '../schema/alert.ts';
import { UserDays } from './activity.ts';
import { type Labels, loadLabels } from './labels.ts';
import { type ScoreResult, scoreAlerts } from './score.ts';

export { UserDays } from './activity.ts';
export {
  ATTACK_TYPES,
  BENIGN_BEHAVIOURS,
  type LabelledAttack,
  type LabelledBenign,
  type Labels,
  loadLabels,
  parseLabels,
} from './labels.ts';
export { renderEvalReport } from './render.ts';
export {
  type AlertAttribution,
  ATTRIBUTION_GRACE_MS,
  type AttackResult,
  type BenignResult,
  benignEntityDays,
  type RuleResult,
  type ScoredAlert,
  type ScoreResult,
  scoreAlerts,
  severityMet,
  type TypeResult,
} from './score.ts';

/** Telemetry a fleet directory may carry: the same sessions in each. */
export const EVAL_FORMATS = ['ecs', 'zeek', 'suricata'] as const;
export type EvalFormat = (typeof EVAL_FORMATS)[number];

/** File names inside a fleet directory (the simulate ↔ eval contract). */
export const FLEET_FILES = {
  labels: 'labels.json',
  assets: 'assets.csv',
  identities: 'identities.csv',
  trustAnchors: 'trust-anchors.pem',
  crl: 'crl.pem',
  config: 'certsignal.yaml',
  inputs: {
    ecs: ['events.ndjson'],
    zeek: ['zeek/ssl.log', 'zeek/x509.log'],
    suricata: ['suricata/eve.json'],
  } satisfies Record<EvalFormat, string[]>,
  /**
   * The CA log (ca-csv) and MDM log (mdm-csv): inputs for every format, when present (a passive
   * sensor does not replace the CA's and the MDM's own records). Fleets from before these logs
   * existed have neither, and are evaluated without them.
   */
  registryLogs: ['ca/issuance.csv', 'mdm/enrollments.csv'],
} as const;

export interface EvaluateOptions {
  /** Which telemetry of the fleet to run detection on (default ecs). */
  format?: EvalFormat | string;
  diagnostics?: Diagnostics;
  /** Config overrides over the fleet's certsignal.yaml (e.g. to try a threshold). */
  configOverrides?: ConfigOverrides;
  onProgress?: AnalyzeOptions['onProgress'];
  /** MaxMind-format .mmdb locating events without a location of their own (`--geoip`). */
  geoip?: string;
}

export interface EvalReport extends ScoreResult {
  format: EvalFormat;
  dir: string;
  labels: { generator: string | null; seed: string | null; start: string; end: string };
  /** What analyze saw (events, files, diagnostics) — the same figures `certsignal analyze` prints. */
  analyze: Pick<
    AnalyzeStats,
    'events' | 'skipped' | 'alerts' | 'alertsByRule' | 'diagnostics' | 'elapsedMs' | 'rules' | 'geoip'
  > & {
    files: string[];
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Checks a format name given on the command line or by a caller. */
export function parseEvalFormat(value: string | undefined): EvalFormat {
  if (value === undefined) return 'ecs';
  if ((EVAL_FORMATS as readonly string[]).includes(value)) return value as EvalFormat;
  throw new CertsignalError('E_USAGE', `--format must be one of ${EVAL_FORMATS.join(', ')}, got "${value}"`);
}

/**
 * The analyze options for a fleet directory: its telemetry of `format` and whichever enrichment
 * files it has. labels.json is never among them (that is the point: labels must not leak into
 * detection). Throws a CertsignalError naming the missing input file.
 */
export function fleetAnalyzeOptions(dir: string, format: EvalFormat, labels?: Pick<Labels, 'formats'>): AnalyzeOptions {
  const at = (name: string) => join(dir, name);
  const inputs: string[] = [];
  for (const name of FLEET_FILES.inputs[format]) {
    const path = at(name);
    if (isFile(path)) {
      inputs.push(path);
      continue;
    }
    // Zeek's x509.log is optional (ssl.log alone still identifies certificates by fingerprint).
    if (name === 'zeek/x509.log') continue;
    const generated =
      labels && labels.formats.length > 0 ? ` (labels.json says the fleet has: ${labels.formats.join(', ')})` : '';
    throw new CertsignalError('E_INPUT', `${path}: not found — the ${format} telemetry of the fleet${generated}`, ExitCode.INPUT);
  }
  for (const name of FLEET_FILES.registryLogs) if (isFile(at(name))) inputs.push(at(name));
  const optional = (name: string) => (isFile(at(name)) ? at(name) : undefined);
  const crl = optional(FLEET_FILES.crl);
  return {
    inputs,
    assets: optional(FLEET_FILES.assets),
    identities: optional(FLEET_FILES.identities),
    trustAnchors: optional(FLEET_FILES.trustAnchors),
    crls: crl ? [crl] : [],
    configPath: optional(FLEET_FILES.config),
  };
}

/**
 * Runs detection over the fleet in `dir` exactly as `certsignal analyze` would (fresh in-memory
 * state, the fleet's enrichment files and certsignal.yaml), then scores the alerts against
 * `dir/labels.json`. Labels are read and validated first, so a bad labels.json fails fast.
 */
export async function evaluate(dir: string, options: EvaluateOptions = {}): Promise<EvalReport> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new CertsignalError(
      'E_INPUT',
      `${dir}: not a directory (expected a fleet written by \`certsignal simulate\`)`,
      ExitCode.INPUT,
    );
  }
  const format = parseEvalFormat(options.format);
  const labels = loadLabels(join(root, FLEET_FILES.labels));
  const base = fleetAnalyzeOptions(root, format, labels);
  const userDays = new UserDays();
  const periodStart = Date.parse(labels.start);
  const periodEnd = Date.parse(labels.end);
  const alerts: Alert[] = [];
  const result = await analyze({
    ...base,
    diagnostics: options.diagnostics,
    configOverrides: options.configOverrides,
    onProgress: options.onProgress,
    ...(options.geoip !== undefined ? { geoip: options.geoip } : {}),
    collectAlerts: false,
    onAlert: (a) => alerts.push(a),
    // Entity-days are counted inside the simulated period only: the CA and MDM logs reach back to
    // enrollments years earlier, and those days were not monitored for alerts.
    onEvent: (e) => {
      if (e.ts >= periodStart && e.ts < periodEnd) userDays.observe(e.user, e.ts);
    },
  });
  const { stats } = result;
  const scores = scoreAlerts(alerts, labels, { rules: stats.rules, userDays: userDays.byUser });
  return {
    ...scores,
    format,
    dir: root,
    labels: { generator: labels.generator, seed: labels.seed, start: labels.start, end: labels.end },
    analyze: {
      events: stats.events,
      skipped: stats.skipped,
      alerts: stats.alerts,
      alertsByRule: stats.alertsByRule,
      diagnostics: stats.diagnostics,
      elapsedMs: stats.elapsedMs,
      rules: stats.rules,
      geoip: stats.geoip,
      files: stats.files.map((f) => f.file),
    },
  };
}
