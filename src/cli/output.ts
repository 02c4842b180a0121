// Shared CLI plumbing: stderr diagnostics (first N in full, then counts), TTY-only progress bar.
import cliProgress from 'cli-progress';
import { parse as parseYaml } from 'yaml';
import type { ConfigOverrides } from '../config/config.ts';
import { Diagnostics, formatDiagnostic } from '../diagnostics.ts';
import { CertsignalError } from '../errors.ts';

export const MAX_PRINTED_DIAGNOSTICS = 20;

/** Diagnostics that print the first N to stderr as they happen; the rest are counted for the summary. */
export function stderrDiagnostics(quiet: boolean): Diagnostics {
  let printed = 0;
  return new Diagnostics({
    onReport: (d) => {
      if (quiet) return;
      printed++;
      if (printed <= MAX_PRINTED_DIAGNOSTICS) process.stderr.write(`certsignal: ${formatDiagnostic(d)}\n`);
      else if (printed === MAX_PRINTED_DIAGNOSTICS + 1)
        process.stderr.write('certsignal: further diagnostics are counted in the summary only\n');
    },
  });
}

export function diagnosticsSummary(d: Diagnostics): string | null {
  if (d.total === 0) return null;
  const parts = [...d.counts.entries()].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} ${n}`);
  return `diagnostics: ${parts.join(', ')}`;
}

/** A progress bar on stderr, only when stderr is a TTY and progress is wanted. */
export function progressReporter(enabled: boolean): { update: (done: number, total: number | null) => void; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'reading {bar} {percentage}% | {value}/{total} MB',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (total === null) return;
      const mb = (n: number) => Math.round(n / 1e5) / 10;
      if (!started) {
        bar.start(mb(total), 0);
        started = true;
      }
      bar.update(mb(done));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** True when every input failed to open or had an unknown format (exit code 3); an empty input is not a failure. */
export function noInputReadable(stats: {
  files: { format: string | null }[];
  diagnostics: Record<string, number>;
  events: number;
}): boolean {
  if (stats.events > 0) return false;
  const failures = (stats.diagnostics['file-unreadable'] ?? 0) + (stats.diagnostics['unknown-format'] ?? 0);
  return stats.files.length === 0 || failures >= stats.files.length;
}

/**
 * `--set scoring.thresholds.high=90 --set rules.cert-churn.max_new_certs=5` → a config override
 * object. Values are read as YAML scalars/flow collections (`5`, `true`, `[a, b]`); the merged
 * config is validated like the file, so a wrong key or type is reported with its path.
 */
export function parseSetFlags(sets: readonly string[] | undefined, extra: ConfigOverrides = {}): ConfigOverrides | undefined {
  if ((!sets || sets.length === 0) && Object.keys(extra).length === 0) return undefined;
  const out: Record<string, unknown> = { ...(extra as Record<string, unknown>) };
  for (const item of sets ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new CertsignalError('E_USAGE', `--set expects key.path=value, got "${item}"`);
    const path = item.slice(0, eq).split('.');
    let value: unknown;
    try {
      value = parseYaml(item.slice(eq + 1));
    } catch (error) {
      throw new CertsignalError('E_USAGE', `--set ${item}: value is not valid YAML (${(error as Error).message.split('\n')[0]})`);
    }
    let node = out;
    // Rule ids and weight keys contain dots only as `rule.variant` under scoring.weights: keep those whole.
    const weightKey = path[0] === 'scoring' && path[1] === 'weights' && path.length > 2;
    const keys = weightKey ? ['scoring', 'weights', path.slice(2).join('.')] : path;
    for (const key of keys.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = value;
  }
  return out as ConfigOverrides;
}

/** `--max-line-bytes N` → the `input.max_line_bytes` override. */
export function maxLineBytesOverride(value: string | undefined): ConfigOverrides {
  if (value === undefined) return {};
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CertsignalError('E_USAGE', `--max-line-bytes must be a positive integer, got "${value}"`);
  return { input: { max_line_bytes: n } } as ConfigOverrides;
}

/** `--ocsp-timeout MS` → milliseconds (1…60000), or undefined. */
export function ocspTimeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 60_000)
    throw new CertsignalError('E_USAGE', `--ocsp-timeout must be an integer number of milliseconds (1-60000), got "${value}"`);
  return n;
}

/** The input and enrichment flags `analyze` and `normalize` share. */
export interface InputCliOptions {
  format?: string;
  assets?: string;
  identities?: string;
  trustAnchors?: string;
  crl?: string[];
  geoip?: string;
  ocsp?: boolean;
  ocspTimeout?: string;
  config?: string;
  set?: string[];
  maxLineBytes?: string;
  output?: string;
  quiet?: boolean;
  progress?: boolean;
}

/** Those flags as the corresponding `analyze()` options. */
export function inputAnalyzeOptions(opts: InputCliOptions) {
  return {
    format: opts.format,
    assets: opts.assets,
    identities: opts.identities,
    trustAnchors: opts.trustAnchors,
    crls: opts.crl,
    geoip: opts.geoip,
    ocsp: opts.ocsp === true ? true : undefined,
    ocspTimeoutMs: ocspTimeoutMs(opts.ocspTimeout),
    configPath: opts.config,
    configOverrides: parseSetFlags(opts.set, maxLineBytesOverride(opts.maxLineBytes)),
  };
}
