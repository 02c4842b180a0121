// `certsignal analyze` (and `demo`, which is analyze on the bundled sample data).
import { readFileSync } from 'node:fs';
import { CertsignalError, ExitCode } from '../errors.ts';
import { type AnalyzeOptions, analyze } from '../pipeline/analyze.ts';
import { severityAtLeast } from '../policy/policy.ts';
import { SEVERITIES, type Severity } from '../schema/alert.ts';
import { NdjsonWriter } from '../sinks/ndjson.ts';
import { Pseudonymiser } from '../sinks/pseudonymise.ts';
import { renderIncidentTable, renderSummary } from '../sinks/table.ts';
import {
  diagnosticsSummary,
  type InputCliOptions,
  inputAnalyzeOptions,
  noInputReadable,
  progressReporter,
  stderrDiagnostics,
} from './output.ts';

export interface AnalyzeCliOptions extends InputCliOptions {
  state?: string;
  failOn?: string;
  pseudonymise?: boolean;
  pseudonymiseKeyFile?: string;
}

/**
 * The pseudonymiser for `--pseudonymise`: the key comes from `--pseudonymise-key-file` or the
 * CERTSIGNAL_PSEUDONYMISE_KEY environment variable — never a per-run random key, which would
 * break correlation across runs.
 */
export function pseudonymiserFor(opts: { pseudonymise?: boolean; pseudonymiseKeyFile?: string }): Pseudonymiser | null {
  if (!opts.pseudonymise && !opts.pseudonymiseKeyFile) return null;
  let key: string | undefined = process.env.CERTSIGNAL_PSEUDONYMISE_KEY;
  if (opts.pseudonymiseKeyFile) {
    try {
      key = readFileSync(opts.pseudonymiseKeyFile, 'utf8').trim();
    } catch (error) {
      throw new CertsignalError('E_USAGE', `--pseudonymise-key-file ${opts.pseudonymiseKeyFile}: ${(error as Error).message}`);
    }
  }
  if (!key)
    throw new CertsignalError(
      'E_USAGE',
      '--pseudonymise needs a key: --pseudonymise-key-file FILE or CERTSIGNAL_PSEUDONYMISE_KEY',
    );
  try {
    return new Pseudonymiser(key);
  } catch (error) {
    throw new CertsignalError('E_USAGE', `pseudonymisation key: ${(error as Error).message}`);
  }
}

export type OutputMode = 'json' | 'table';

export function resolveOutput(output: string | undefined): OutputMode {
  if (output === undefined) return process.stdout.isTTY ? 'table' : 'json';
  if (output === 'json' || output === 'table') return output;
  throw new CertsignalError('E_USAGE', `--output must be json or table, got "${output}"`);
}

export function parseFailOn(value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  if ((SEVERITIES as readonly string[]).includes(value)) return value as Severity;
  throw new CertsignalError('E_USAGE', `--fail-on must be one of ${SEVERITIES.join(', ')}, got "${value}"`);
}

/** Runs analyze for the CLI; returns the process exit code. */
export async function runAnalyze(inputs: string[], opts: AnalyzeCliOptions): Promise<number> {
  if (inputs.length === 0) throw new CertsignalError('E_USAGE', 'no input files (use - for stdin)');
  const output = resolveOutput(opts.output);
  const failOn = parseFailOn(opts.failOn);
  const diagnostics = stderrDiagnostics(opts.quiet === true);
  const progress = progressReporter(opts.progress !== false);
  const writer = output === 'json' ? new NdjsonWriter(process.stdout) : null;
  const pseudonymiser = pseudonymiserFor(opts);
  let failed = false;
  const options: AnalyzeOptions = {
    inputs,
    ...inputAnalyzeOptions(opts),
    statePath: opts.state,
    diagnostics,
    collectAlerts: output === 'table',
    onProgress: progress.update,
    onAlert: (a) => {
      if (failOn && severityAtLeast(a.severity, failOn)) failed = true;
      writer?.write(pseudonymiser ? pseudonymiser.alert(a) : a);
    },
    // Incident records follow the alerts, once the run knows them whole (docs/incidents.md). An
    // incident can be more severe than any of its alerts, so --fail-on counts it too.
    onIncident: (i) => {
      if (failOn && severityAtLeast(i.severity, failOn)) failed = true;
      writer?.write(pseudonymiser ? pseudonymiser.incident(i) : i);
    },
  };
  let result: Awaited<ReturnType<typeof analyze>>;
  try {
    result = await analyze(options);
  } finally {
    progress.stop();
  }
  if (writer) await writer.flush();
  const { stats } = result;
  if (output === 'table') {
    const shown = pseudonymiser ? result.alerts.map((a) => pseudonymiser.alert(a)) : result.alerts;
    const sorted = [...shown].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    const incidents = pseudonymiser ? result.incidents.map((i) => pseudonymiser.incident(i)) : result.incidents;
    process.stdout.write(`${renderIncidentTable(incidents, sorted)}\n`);
  }
  if (!opts.quiet) {
    const summary = renderSummary(stats);
    const diag = diagnosticsSummary(diagnostics);
    process.stderr.write(`${summary}\n${diag ? `${diag}\n` : ''}`);
  }
  if (noInputReadable(result.stats)) {
    throw new CertsignalError('E_INPUT', 'no input could be read (see diagnostics above)', ExitCode.INPUT);
  }
  return failed ? ExitCode.ALERTS : ExitCode.OK;
}
