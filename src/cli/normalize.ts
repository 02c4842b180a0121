// `certsignal normalize`: print the normalized events (the shape rules see), one JSON per line,
// so a user can check what certsignal understood of their logs.

import { ocspSummary } from '../enrich/ocsp/summary.ts';
import { CertsignalError, ExitCode } from '../errors.ts';
import { analyze } from '../pipeline/analyze.ts';
import { NdjsonWriter } from '../sinks/ndjson.ts';
import {
  diagnosticsSummary,
  type InputCliOptions,
  inputAnalyzeOptions,
  noInputReadable,
  progressReporter,
  stderrDiagnostics,
} from './output.ts';

export type NormalizeCliOptions = InputCliOptions;

export async function runNormalize(inputs: string[], opts: NormalizeCliOptions): Promise<number> {
  if (inputs.length === 0) throw new CertsignalError('E_USAGE', 'no input files (use - for stdin)');
  if (opts.output !== undefined && opts.output !== 'json') {
    throw new CertsignalError('E_USAGE', `normalize writes JSON lines only (--output json), got "${opts.output}"`);
  }
  const diagnostics = stderrDiagnostics(opts.quiet === true);
  const progress = progressReporter(opts.progress !== false);
  const writer = new NdjsonWriter(process.stdout);
  let result: Awaited<ReturnType<typeof analyze>>;
  try {
    result = await analyze({
      inputs,
      ...inputAnalyzeOptions(opts),
      diagnostics,
      detect: false,
      onProgress: progress.update,
      onEvent: (e) => writer.write(e),
    });
  } finally {
    progress.stop();
  }
  await writer.flush();
  if (!opts.quiet) {
    const s = result.stats;
    const files = s.files.map((f) => `${f.file} [${f.format ?? 'unknown'}]: ${f.records} records`).join('; ');
    const diag = diagnosticsSummary(diagnostics);
    const ocsp = s.ocsp ? `${ocspSummary(s.ocsp)}\n` : '';
    process.stderr.write(
      `${s.events} events normalized, ${s.skipped} records skipped (${files})\n${ocsp}${diag ? `${diag}\n` : ''}`,
    );
  }
  if (noInputReadable(result.stats)) {
    throw new CertsignalError('E_INPUT', 'no input could be read (see diagnostics above)', ExitCode.INPUT);
  }
  return ExitCode.OK;
}
