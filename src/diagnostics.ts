// Bad input is data, not an exception: every skipped record or field becomes a Diagnostic
// (file:line:field + reason) that is counted, summarised and printed to stderr.

export type DiagnosticLevel = 'error' | 'warning';

export interface Diagnostic {
  level: DiagnosticLevel;
  /** Short stable reason code, used for counting: e.g. `invalid-json`, `line-too-long`. */
  reason: string;
  message: string;
  file?: string;
  line?: number;
  field?: string;
}

/** Collects diagnostics; keeps counts per reason and only the first `maxKept` messages. */
export class Diagnostics {
  readonly counts = new Map<string, number>();
  readonly kept: Diagnostic[] = [];
  /** Records skipped entirely (not turned into an event). */
  skippedRecords = 0;
  /** Skipped records per file (files without a name under ''). */
  private readonly skippedByFile = new Map<string, number>();
  private readonly maxKept: number;
  private readonly onReport?: (d: Diagnostic) => void;

  constructor(options: { maxKept?: number; onReport?: (d: Diagnostic) => void } = {}) {
    this.maxKept = options.maxKept ?? 1000;
    this.onReport = options.onReport;
  }

  report(d: Diagnostic): void {
    this.counts.set(d.reason, (this.counts.get(d.reason) ?? 0) + 1);
    if (this.kept.length < this.maxKept) this.kept.push(d);
    this.onReport?.(d);
  }

  /** Report a diagnostic for a record that was dropped. */
  skip(d: Omit<Diagnostic, 'level'>): void {
    this.skippedRecords++;
    const file = d.file ?? '';
    this.skippedByFile.set(file, (this.skippedByFile.get(file) ?? 0) + 1);
    this.report({ level: 'error', ...d });
  }

  /** Records skipped so far in this file. */
  skippedIn(file: string): number {
    return this.skippedByFile.get(file) ?? 0;
  }

  warn(d: Omit<Diagnostic, 'level'>): void {
    this.report({ level: 'warning', ...d });
  }

  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}

const PRIVATE_KEY_RE = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----[\s\S]*?(?:-----END \1-----|$)/g;

/** Removes private key material from text that may echo input (a key pasted into a log field). */
export function redactPrivateKeys(text: string): string {
  return text.includes('PRIVATE KEY') ? text.replace(PRIVATE_KEY_RE, '[private key redacted]') : text;
}

/** `file:line: field: message` as printed on stderr (private keys in echoed input are redacted). */
export function formatDiagnostic(d: Diagnostic): string {
  const where = [d.file, d.line !== undefined ? String(d.line) : undefined].filter(Boolean).join(':');
  const field = d.field ? `field ${d.field}: ` : '';
  return `${where ? `${where}: ` : ''}${d.level}: ${field}${redactPrivateKeys(d.message)} [${d.reason}]`;
}
