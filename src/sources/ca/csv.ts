// A line-fed RFC 4180 reader for the generic CSV formats (ca-csv, mdm-csv): lines are handed
// over one by one (as read.ts reads them), a quoted field may span lines (a PEM inside quotes),
// and each record keeps the line number it started on. Also: header → column index lookup.
import type { FileContext } from '../types.ts';

/** Lines one quoted field may span before the record is given up (a PEM chain is ~100 lines). */
const MAX_RECORD_LINES = 2000;

/** Splits one complete CSV record (quotes balanced) into fields; doubled quotes unescaped. */
export function splitCsvRecord(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let quotedField = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += ch;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      quotedField = false;
    } else if (ch === '"' && field.length === 0 && !quotedField) {
      inQuotes = true;
      quotedField = true;
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

function quoteCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) n++;
  return n;
}

/** One assembled CSV record: its fields and the line it started on. */
export interface CsvLineRecord {
  line: number;
  fields: string[];
}

/**
 * Assembles CSV records from lines. `push` returns a record when the line completes one (quotes
 * balanced), else null; blank lines outside quotes are skipped. An over-long open quote is
 * reported (`csv-unterminated-quote`) and its lines dropped.
 */
export class CsvLineAssembler {
  private buffer: string[] = [];
  private quotes = 0;
  private startLine = 0;
  private readonly ctx: FileContext;

  constructor(ctx: FileContext) {
    this.ctx = ctx;
  }

  push(text: string, lineNumber: number): CsvLineRecord | null {
    if (this.buffer.length === 0) {
      if (text.trim().length === 0) return null;
      this.startLine = lineNumber;
    }
    this.buffer.push(text);
    this.quotes += quoteCount(text);
    if (this.quotes % 2 === 1) {
      if (this.buffer.length >= MAX_RECORD_LINES) {
        this.unterminated();
      }
      return null;
    }
    let joined = this.buffer.length === 1 ? this.buffer[0] : this.buffer.join('\n');
    if (this.startLine === 1 && joined.charCodeAt(0) === 0xfeff) joined = joined.slice(1);
    const line = this.startLine;
    this.buffer = [];
    this.quotes = 0;
    return { line, fields: splitCsvRecord(joined) };
  }

  /** End of file: a quote still open is reported. Returns true when a record was lost. */
  end(): boolean {
    if (this.buffer.length === 0) return false;
    this.unterminated();
    return true;
  }

  private unterminated(): void {
    this.ctx.diagnostics.skip({
      reason: 'csv-unterminated-quote',
      file: this.ctx.file,
      line: this.startLine,
      message: `quoted field opened on line ${this.startLine} is never closed (${this.buffer.length} lines); record skipped`,
    });
    this.buffer = [];
    this.quotes = 0;
  }
}

/** Header names, lowercased and trimmed, → column index (first occurrence wins). */
export function headerIndex(fields: string[]): Map<string, number> {
  const map = new Map<string, number>();
  fields.forEach((f, i) => {
    const k = f.trim().toLowerCase();
    if (k.length > 0 && !map.has(k)) map.set(k, i);
  });
  return map;
}

/** The header of a sample's first non-comment line, lowercased, when it looks like CSV; else null. */
export function sampleHeader(firstLines: string[]): Set<string> | null {
  const first = firstLines.find((l) => l.trim().length > 0);
  if (!first || first.startsWith('{') || first.startsWith('<') || first.startsWith('#')) return null;
  const text = first.charCodeAt(0) === 0xfeff ? first.slice(1) : first;
  if (!text.includes(',')) return null;
  return new Set(splitCsvRecord(text).map((f) => f.trim().toLowerCase()));
}
