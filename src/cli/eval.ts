// `certsignal eval DIR`: detection quality on a labelled fleet (from `certsignal simulate`) —
// recall, precision, time to detect, benign alert rate — as tables or one JSON object.
import { CertsignalError, ExitCode } from '../errors.ts';
import { evaluate, parseEvalFormat, renderEvalReport } from '../eval/index.ts';
import { diagnosticsSummary, noInputReadable, progressReporter, stderrDiagnostics } from './output.ts';

export interface EvalCliOptions {
  /** Print one JSON object instead of tables. */
  json?: boolean;
  /** Telemetry of the fleet to evaluate: ecs (default), zeek or suricata. */
  format?: string;
  /** No summary or diagnostics on stderr. */
  quiet?: boolean;
  /** MaxMind-format .mmdb locating events without a location of their own. */
  geoip?: string;
}

/** Runs eval for the CLI; returns the process exit code (0, or 3 when no input could be read). */
export async function runEval(dir: string, opts: EvalCliOptions): Promise<number> {
  const format = parseEvalFormat(opts.format);
  const diagnostics = stderrDiagnostics(opts.quiet === true);
  const progress = progressReporter(opts.quiet !== true);
  let report: Awaited<ReturnType<typeof evaluate>>;
  try {
    report = await evaluate(dir, { format, diagnostics, onProgress: progress.update, geoip: opts.geoip });
  } finally {
    progress.stop();
  }
  const stats = report.analyze;
  if (
    noInputReadable({ events: stats.events, diagnostics: stats.diagnostics, files: stats.files.map(() => ({ format: null })) })
  ) {
    throw new CertsignalError(
      'E_INPUT',
      `no ${format} telemetry could be read in ${dir} (see diagnostics above)`,
      ExitCode.INPUT,
    );
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${renderEvalReport(report)}\n`);
  if (!opts.quiet) {
    const diag = diagnosticsSummary(diagnostics);
    process.stderr.write(
      `certsignal eval: ${stats.events.toLocaleString('en-US')} ${format} events from ${stats.files.length} file(s) in ${dir}` +
        ` → ${stats.alerts} alert(s) in ${(stats.elapsedMs / 1000).toFixed(1)} s (labels.json read only for scoring)\n${diag ? `${diag}\n` : ''}`,
    );
  }
  return ExitCode.OK;
}
