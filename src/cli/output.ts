// Shared CLI plumbing: stderr diagnostics (first N in full, then counts), TTY-only progress bar.
import cliProgress from 'cli-progress';
import { Diagnostics, formatDiagnostic } from '../diagnostics.ts';

export const MAX_PRINTED_DIAGNOSTICS = 20;

/** Diagnostics that print the first N to stderr as they happen; the rest are counted for the summary. */
export function stderrDiagnostics(quiet: boolean): Diagnostics {
  let printed = 0;
  return new Diagnostics({
    onReport: (d) => {
      if (quiet) return;
      printed++;
      if (printed <= MAX_PRINTED_DIAGNOSTICS) process.stderr.write(`certsignal: ${formatDiagnostic(d)}\n`);
      else if (printed === MAX_PRINTED_DIAGNOSTICS + 1) process.stderr.write('certsignal: further diagnostics are counted in the summary only\n');
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
    { stream: process.stderr, format: 'reading {bar} {percentage}% | {value}/{total} MB', hideCursor: true, clearOnComplete: true },
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
export function noInputReadable(stats: { files: { format: string | null }[]; diagnostics: Record<string, number>; events: number }): boolean {
  if (stats.events > 0) return false;
  const failures = (stats.diagnostics['file-unreadable'] ?? 0) + (stats.diagnostics['unknown-format'] ?? 0);
  return stats.files.length === 0 || failures >= stats.files.length;
}
