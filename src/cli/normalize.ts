// `certsignal normalize`: print the normalized events (the shape rules see), one JSON per line,
// so a user can check what certsignal understood of their logs.
import { CertsignalError, ExitCode } from '../errors.ts';
import { analyze } from '../pipeline/analyze.ts';
import { NdjsonWriter } from '../sinks/ndjson.ts';
import { diagnosticsSummary, maxLineBytesOverride, noInputReadable, parseSetFlags, progressReporter, stderrDiagnostics } from './output.ts';

export interface NormalizeCliOptions {
  format?: string;
  assets?: string;
  identities?: string;
  trustAnchors?: string;
  crl?: string[];
  config?: string;
  set?: string[];
  maxLineBytes?: string;
  output?: string;
  quiet?: boolean;
  progress?: boolean;
}

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
      format: opts.format,
      assets: opts.assets,
      identities: opts.identities,
      trustAnchors: opts.trustAnchors,
      crls: opts.crl,
      configPath: opts.config,
      configOverrides: parseSetFlags(opts.set, maxLineBytesOverride(opts.maxLineBytes)),
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
    process.stderr.write(`${s.events} events normalized, ${s.skipped} records skipped (${files})\n${diag ? `${diag}\n` : ''}`);
  }
  if (noInputReadable(result.stats)) {
    throw new CertsignalError('E_INPUT', 'no input could be read (see diagnostics above)', ExitCode.INPUT);
  }
  return ExitCode.OK;
}
