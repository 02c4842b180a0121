// What every Zeek log reader shares: the TSV header state machine (`#separator`, `#fields`,
// `#types`, `(empty)`/`-`, `\xHH` escapes, headers repeated mid-file, `zeek-cut -m` name lines),
// JSON records with flat dotted or nested keys, and the value coercions. The ssl/x509 parser and
// the conn parser both read records through `ZeekRecordReader`, so the two cannot drift apart.
import { parseJsonObjectLine } from '../common.ts';
import type { FileContext } from '../types.ts';

/** Reads a field of one record; `undefined` = the log has no such column. */
export type ZeekGet = (name: string) => unknown;

/** One data record, whichever format it came from. `json` is the parsed object for JSON lines. */
export interface ZeekRecord {
  get: ZeekGet;
  json: Record<string, unknown> | null;
}

/** Reads a value from a Zeek JSON object: flat dotted key first, then nested objects. */
export function jget(o: Record<string, unknown>, path: string): unknown {
  const direct = o[path];
  if (direct !== undefined) return direct;
  const i = path.indexOf('.');
  if (i < 0) return undefined;
  const head = o[path.slice(0, i)];
  if (head === null || typeof head !== 'object' || Array.isArray(head)) return undefined;
  return jget(head as Record<string, unknown>, path.slice(i + 1));
}

/** `\x09`-style escapes (Zeek writes separators and non-printables this way). */
export function unescapeZeek(v: string): string {
  if (v.indexOf('\\x') < 0) return v;
  return v.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

/** A parsed header value for `#separator` (written escaped, e.g. `\x09`). */
export function headerValue(text: string, sep: string): { name: string; value: string } {
  const space = text.indexOf(' ');
  const tab = text.indexOf(sep);
  // `#separator \x09` uses a space because the separator is not known yet.
  if (text.startsWith('#separator')) return { name: 'separator', value: unescapeZeek(text.slice(11).trim()) };
  const cut = tab > 0 ? tab : space;
  if (cut < 0) return { name: text.slice(1), value: '' };
  return { name: text.slice(1, cut), value: text.slice(cut + sep.length) };
}

/** A string (numbers as their decimal text), else null. */
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
/** Zeek's `T`/`F` (TSV) or true/false (JSON), else null. */
export const bool = (v: unknown): boolean | null => (v === true || v === 'T' ? true : v === false || v === 'F' ? false : null);

/** A vector value as strings; `undefined` when the column is absent. */
export function strArray(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (v === null) return [];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string') return v.length > 0 ? v.split(',') : [];
  return [];
}

/** A finite number from a JSON number or a numeric string, else null. */
export function countOrNull(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.length > 0) {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Zeek field names as `zeek-cut -m` prints them. */
export function looksLikeFieldNames(names: readonly string[]): boolean {
  return names.every((n) => /^[a-z_][a-z0-9_.]*$/.test(n));
}

/** What the first lines of a file say about it, for detection. */
export interface ZeekHeaderInfo {
  path: string | null;
  fields: string[] | null;
  json: Record<string, unknown> | null;
  /** Field names from a `zeek-cut -m` first line. */
  cut: string[] | null;
}

/** `#path`, `#fields`, the first JSON object or a `zeek-cut -m` name line from a detection sample. */
export function zeekHeaderInfo(lines: string[]): ZeekHeaderInfo {
  let path: string | null = null;
  let fields: string[] | null = null;
  let json: Record<string, unknown> | null = null;
  let cut: string[] | null = null;
  for (const l of lines) {
    if (l.startsWith('#path')) path = l.slice(6).trim();
    else if (l.startsWith('#fields')) fields = l.slice(8).split('\t');
    else if (l.startsWith('{') && json === null) {
      try {
        const o = JSON.parse(l) as unknown;
        if (o && typeof o === 'object' && !Array.isArray(o)) json = o as Record<string, unknown>;
      } catch {
        // a line cut at 64 KiB or garbage: not evidence either way
      }
    } else if (!l.startsWith('#') && fields === null && cut === null && l.includes('\t')) {
      const names = l.split('\t');
      if (looksLikeFieldNames(names)) cut = names;
    }
  }
  return { path, fields, json, cut };
}

export interface ZeekRecordReaderOptions {
  /** Columns that are vectors even when a log has no `#types` line (zeek-cut output). */
  vectorFields: ReadonlySet<string>;
  /** Whether a plain first line of names is this log's `zeek-cut -m` header (needs a telling column). */
  isNameLine: (names: readonly string[]) => boolean;
  /** Called whenever the columns change (`#fields`, `#types`, a zeek-cut name line). */
  onFields?: (fields: readonly string[], path: string | null) => void;
}

/**
 * Turns the lines of one Zeek log (TSV or JSON, or a concatenation) into records. Headers update
 * the reader's state; a data line becomes a `ZeekRecord`, or a diagnostic and null when it
 * cannot be read (no header yet, wrong column count, invalid JSON). `records` counts data lines,
 * unreadable ones included.
 */
export class ZeekRecordReader {
  private readonly ctx: FileContext;
  private readonly options: ZeekRecordReaderOptions;
  private sep = '\t';
  private setSep = ',';
  private emptyField = '(empty)';
  private unsetField = '-';
  /** The last `#path` header, if any. */
  path: string | null = null;
  /** The current columns, null before any header. */
  fields: string[] | null = null;
  /** Column index per field name, rebuilt on each `#fields`. */
  private col = new Map<string, number>();
  private vectorCol: boolean[] = [];
  records = 0;

  constructor(ctx: FileContext, options: ZeekRecordReaderOptions) {
    this.ctx = ctx;
    this.options = options;
  }

  private setFields(fields: string[], types: string[] | null): void {
    this.fields = fields;
    this.col = new Map();
    fields.forEach((f, i) => {
      this.col.set(f, i);
    });
    const vf = this.options.vectorFields;
    this.vectorCol = fields.map((f, i) => (types?.[i] ? types[i].startsWith('vector') || types[i].startsWith('set') : vf.has(f)));
    this.options.onFields?.(fields, this.path);
  }

  /** Reads one line: null for headers, blank lines and unreadable records (those get a diagnostic). */
  line(text: string, lineNumber: number): ZeekRecord | null {
    if (text.length === 0) return null;
    const c0 = text.charCodeAt(0);
    if (c0 === 35 /* # */) {
      this.header(text);
      return null;
    }
    if (c0 === 123 /* { */) return this.jsonLine(text, lineNumber);
    if (this.fields === null) {
      // `zeek-cut -m` writes the field names as a plain first line.
      const names = text.split(this.sep);
      if (this.options.isNameLine(names) && looksLikeFieldNames(names)) {
        this.setFields(names, null);
        return null;
      }
      this.records++;
      this.ctx.diagnostics.skip({
        reason: 'zeek-missing-header',
        file: this.ctx.file,
        line: lineNumber,
        message: 'Zeek TSV record before any #fields header; skipped',
      });
      return null;
    }
    return this.tsvLine(text, lineNumber);
  }

  private header(text: string): void {
    const { name, value } = headerValue(text, this.sep);
    switch (name) {
      case 'separator':
        this.sep = value || '\t';
        break;
      case 'set_separator':
        this.setSep = value;
        break;
      case 'empty_field':
        this.emptyField = value;
        break;
      case 'unset_field':
        this.unsetField = value;
        break;
      case 'path':
        this.path = value;
        break;
      case 'fields':
        this.setFields(value.split(this.sep), null);
        break;
      case 'types':
        if (this.fields) this.setFields(this.fields, value.split(this.sep));
        break;
      default:
        break; // #open, #close, comments
    }
  }

  private tsvLine(text: string, lineNumber: number): ZeekRecord | null {
    const fields = this.fields as string[];
    const cols = text.split(this.sep);
    this.records++;
    if (cols.length !== fields.length) {
      this.ctx.diagnostics.skip({
        reason: 'zeek-column-count',
        file: this.ctx.file,
        line: lineNumber,
        message: `record has ${cols.length} columns, #fields has ${fields.length}; skipped`,
      });
      return null;
    }
    // Captured per record: a later header must not change how this record reads.
    const col = this.col;
    const vectorCol = this.vectorCol;
    const { unsetField, emptyField, setSep } = this;
    const get = (name: string): unknown => {
      const i = col.get(name);
      if (i === undefined) return undefined;
      const v = cols[i];
      if (vectorCol[i]) {
        if (v === unsetField || v === emptyField) return [];
        const parts = v.split(setSep);
        for (let k = 0; k < parts.length; k++) parts[k] = unescapeZeek(parts[k]);
        return parts;
      }
      if (v === unsetField) return null;
      if (v === emptyField) return '';
      return unescapeZeek(v);
    };
    return { get, json: null };
  }

  private jsonLine(text: string, lineNumber: number): ZeekRecord | null {
    this.records++;
    const rec = parseJsonObjectLine(text, lineNumber, this.ctx);
    if (!rec) return null;
    return { get: (name) => jget(rec, name), json: rec };
  }
}
