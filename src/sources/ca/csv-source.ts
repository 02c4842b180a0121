// The frame shared by the generic CSV sources (ca-csv, mdm-csv): header row, required columns
// (a missing one is ONE error naming the header, and every row of the file is then skipped),
// records that may span lines, and the counts for the run summary. A format supplies its
// required columns and a row → Observation function.
import type { Observation } from '../../schema/event.ts';
import type { FileContext, LineParser } from '../types.ts';
import { CsvLineAssembler, headerIndex } from './csv.ts';

/** One data row, with lookups by (lowercase) column name. */
export interface CsvRow {
  line: number;
  /** The trimmed value of a column, or null when the column is absent or the cell empty. */
  get(column: string): string | null;
  /** The raw (untrimmed) cell, for multi-line values such as a PEM. */
  raw(column: string): string | null;
  /** True when the header has this column. */
  has(column: string): boolean;
}

export interface CsvFormat {
  id: string;
  /** Columns that must be in the header. */
  required: readonly string[];
  /** Turns one row into an observation, or null (after a diagnostic) when it cannot be used. */
  row(row: CsvRow, ctx: FileContext): Observation | null;
}

/** Parses one CSV file of a generic format. */
export class GenericCsvParser implements LineParser {
  private readonly ctx: FileContext;
  private readonly format: CsvFormat;
  private readonly assembler: CsvLineAssembler;
  private columns: Map<string, number> | null = null;
  private headerLength = 0;
  /** The header lacked a required column: every data row is skipped (one diagnostic in all). */
  private unusable = false;
  private records = 0;

  constructor(ctx: FileContext, format: CsvFormat) {
    this.ctx = ctx;
    this.format = format;
    this.assembler = new CsvLineAssembler(ctx);
  }

  counts(): { records: number; ignored: number } {
    return { records: this.records, ignored: 0 };
  }

  line(text: string, lineNumber: number): Observation | null {
    const rec = this.assembler.push(text, lineNumber);
    if (rec === null) return null;
    if (this.columns === null) {
      this.columns = headerIndex(rec.fields);
      this.headerLength = rec.fields.length;
      const missing = this.format.required.filter((c) => !this.columns?.has(c));
      if (missing.length > 0) {
        this.unusable = true;
        this.ctx.diagnostics.report({
          level: 'error',
          reason: 'csv-missing-column',
          file: this.ctx.file,
          line: rec.line,
          field: missing.join(','),
          message: `${this.format.id} header lacks required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header: ${rec.fields.join(',')}); no row of this file is read`,
        });
      }
      return null;
    }
    this.records++;
    if (this.unusable) {
      // Already reported once on the header; each row still counts as skipped in the summary.
      this.ctx.diagnostics.skippedRecords++;
      return null;
    }
    const cols = this.columns;
    const fields = rec.fields;
    if (fields.length > this.headerLength) {
      this.ctx.diagnostics.warn({
        reason: 'csv-extra-fields',
        file: this.ctx.file,
        line: rec.line,
        message: `row has ${fields.length} fields, the header ${this.headerLength}; extra fields ignored`,
      });
    }
    const row: CsvRow = {
      line: rec.line,
      has: (c) => cols.has(c),
      raw: (c) => {
        const i = cols.get(c);
        return i === undefined || i >= fields.length ? null : fields[i];
      },
      get: (c) => {
        const i = cols.get(c);
        if (i === undefined || i >= fields.length) return null;
        const v = fields[i].trim();
        return v.length > 0 ? v : null;
      },
    };
    return this.format.row(row, this.ctx);
  }

  end(): void {
    if (this.assembler.end()) this.records++;
  }
}
