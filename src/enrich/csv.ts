// Asset and identity inventories from CSV: a small RFC 4180 reader (quotes, doubled quotes,
// quoted line breaks, CRLF, UTF-8 BOM) fed in chunks, and loaders that map configurable column
// names onto Asset / Identity. Lookups are case-insensitive on device id and user name.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Diagnostics } from '../diagnostics.ts';
import { CertsignalError } from '../errors.ts';
import type { Asset, Identity } from '../schema/event.ts';

/** One CSV record with the 1-based line number where it starts. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * Incremental RFC 4180 parser: `push` text chunks as they arrive (a quoted field may span
 * chunks and lines), then `end`. Records are handed to `onRecord`; a quote left open at the end
 * is reported through `onError`.
 */
export class CsvParser {
  private field = '';
  private fields: string[] = [];
  private inQuotes = false;
  /** The previous chunk ended on a quote inside a quoted field: it may be the first of `""`. */
  private pendingQuote = false;
  private afterQuote = false;
  private line = 1;
  private recordLine = 1;
  private started = false;
  private sawAny = false;
  private readonly onRecord: (r: CsvRecord) => void;
  private readonly onError: (line: number, message: string) => void;

  constructor(onRecord: (r: CsvRecord) => void, onError: (line: number, message: string) => void) {
    this.onRecord = onRecord;
    this.onError = onError;
  }

  push(chunk: string): void {
    let text = chunk;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (this.pendingQuote) {
        this.pendingQuote = false;
        if (ch === '"') {
          this.field += '"';
          continue;
        }
        this.inQuotes = false;
        this.afterQuote = true;
      }
      if (this.inQuotes) {
        if (ch === '"') {
          if (i + 1 < text.length) {
            if (text[i + 1] === '"') {
              this.field += '"';
              i++;
            } else {
              this.inQuotes = false;
              this.afterQuote = true;
            }
          } else {
            this.pendingQuote = true;
          }
        } else {
          if (ch === '\n') this.line++;
          this.field += ch;
        }
        continue;
      }
      if (ch === ',') {
        this.endField();
      } else if (ch === '\n') {
        this.endRecord();
        this.line++;
        this.recordLine = this.line;
      } else if (ch === '\r') {
        // CR of CRLF (or a lone CR): ignored outside quotes
      } else if (ch === '"' && this.field.length === 0 && !this.afterQuote) {
        this.inQuotes = true;
        this.sawAny = true;
      } else {
        // Text after a closing quote (`"a"b`) is kept, as most readers do.
        this.field += ch;
        this.sawAny = true;
      }
    }
  }

  end(): void {
    if (this.pendingQuote) {
      this.pendingQuote = false;
      this.inQuotes = false;
    }
    if (this.inQuotes) {
      this.onError(this.recordLine, 'unterminated quoted field at end of file');
      this.inQuotes = false;
      this.field = '';
      this.fields = [];
      return;
    }
    if (this.field.length > 0 || this.fields.length > 0 || this.sawAny) this.endRecord();
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.afterQuote = false;
    this.sawAny = true;
  }

  private endRecord(): void {
    if (this.fields.length === 0 && this.field.length === 0 && !this.sawAny) return; // blank line
    this.fields.push(this.field);
    this.onRecord({ line: this.recordLine, fields: this.fields });
    this.fields = [];
    this.field = '';
    this.afterQuote = false;
    this.sawAny = false;
  }
}

/** Read a CSV file in 64 KiB chunks (UTF-8), calling `onRecord` for each record. */
export function readCsvFile(
  path: string,
  onRecord: (r: CsvRecord) => void,
  onError: (line: number, message: string) => void,
): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new CertsignalError('E_CSV', `cannot read ${path}: ${(err as Error).message}`);
  }
  const parser = new CsvParser(onRecord, onError);
  const decoder = new TextDecoder('utf-8');
  const buf = Buffer.alloc(65_536);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      parser.push(decoder.decode(buf.subarray(0, n), { stream: true }));
    }
    parser.push(decoder.decode());
    parser.end();
  } finally {
    closeSync(fd);
  }
}

/** A Map whose string keys are compared case-insensitively (stored lowercased). */
export class CaseInsensitiveMap<V> extends Map<string, V> {
  override get(key: string): V | undefined {
    return super.get(key.toLowerCase());
  }
  override has(key: string): boolean {
    return super.has(key.toLowerCase());
  }
  override set(key: string, value: V): this {
    return super.set(key.toLowerCase(), value);
  }
  override delete(key: string): boolean {
    return super.delete(key.toLowerCase());
  }
}

/** CSV header names for each Asset field (defaults: the field names themselves). */
export interface AssetColumns {
  device_id: string;
  owner: string;
  kind: string;
  hostname: string;
  os: string;
  enrolled_at: string;
}

/** CSV header names for each Identity field (defaults: the field names themselves). */
export interface IdentityColumns {
  user: string;
  kind: string;
  role: string;
  department: string;
  country: string;
  email: string;
}

const DEFAULT_ASSET_COLUMNS: AssetColumns = {
  device_id: 'device_id',
  owner: 'owner',
  kind: 'kind',
  hostname: 'hostname',
  os: 'os',
  enrolled_at: 'enrolled_at',
};

const DEFAULT_IDENTITY_COLUMNS: IdentityColumns = {
  user: 'user',
  kind: 'kind',
  role: 'role',
  department: 'department',
  country: 'country',
  email: 'email',
};

export interface LoadOptions {
  diagnostics?: Diagnostics;
}

/**
 * Read a CSV with a header row and map it to objects. `required` names the key field; columns
 * are matched to header names case-insensitively (after trimming). Missing key column → E_CSV;
 * a row with the wrong number of fields or an empty key → diagnostic (file:line), skipped.
 */
function loadTable<K extends string>(
  path: string,
  columns: Record<K, string>,
  keyField: K,
  options: LoadOptions,
): { rows: { line: number; values: Record<K, string | null> }[] } {
  const diagnostics = options.diagnostics;
  let header: string[] | null = null;
  let index: Record<K, number> | null = null;
  const rows: { line: number; values: Record<K, string | null> }[] = [];
  const fields = Object.keys(columns) as K[];
  readCsvFile(
    path,
    (r) => {
      if (header === null) {
        header = r.fields.map((h) => h.trim().toLowerCase());
        const idx = {} as Record<K, number>;
        for (const f of fields) idx[f] = header.indexOf(columns[f].trim().toLowerCase());
        if (idx[keyField] < 0) {
          throw new CertsignalError(
            'E_CSV',
            `${path}: required column "${columns[keyField]}" (for ${keyField}) not found in header: ${r.fields.join(', ')}`,
          );
        }
        index = idx;
        return;
      }
      if (index === null) return;
      if (r.fields.length !== header.length) {
        diagnostics?.skip({
          reason: 'csv-bad-row',
          message: `row has ${r.fields.length} fields, header has ${header.length}; row skipped`,
          file: path,
          line: r.line,
        });
        return;
      }
      const values = {} as Record<K, string | null>;
      for (const f of fields) {
        const at = index[f];
        const v = at >= 0 ? r.fields[at].trim() : '';
        values[f] = v === '' ? null : v;
      }
      if (values[keyField] === null) {
        diagnostics?.skip({
          reason: 'csv-bad-row',
          message: `empty ${columns[keyField]}; row skipped`,
          file: path,
          line: r.line,
          field: columns[keyField],
        });
        return;
      }
      rows.push({ line: r.line, values });
    },
    (line, message) => diagnostics?.skip({ reason: 'csv-bad-row', message, file: path, line }),
  );
  if (header === null) throw new CertsignalError('E_CSV', `${path}: empty file (no header row)`);
  return { rows };
}

function isoOrNull(value: string | null, path: string, line: number, column: string, diagnostics?: Diagnostics): string | null {
  if (value === null) return null;
  const naive = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(value);
  const ms = Date.parse(naive ? (value.length === 10 ? `${value}T00:00:00Z` : `${value.replace(' ', 'T')}Z`) : value);
  if (!Number.isFinite(ms)) {
    diagnostics?.warn({
      reason: 'csv-bad-date',
      message: `"${value}" is not a date; left empty`,
      file: path,
      line,
      field: column,
    });
    return null;
  }
  return new Date(ms).toISOString();
}

/**
 * Load an asset inventory: device id → Asset. Keys are case-insensitive (`CaseInsensitiveMap`).
 * `columns` renames CSV headers, e.g. `{ device_id: 'asset_tag', owner: 'assigned_to' }`.
 * A later row for the same device replaces an earlier one (warning `csv-duplicate-key`).
 */
export function loadAssets(
  path: string,
  columns: Partial<AssetColumns> = {},
  options: LoadOptions = {},
): CaseInsensitiveMap<Asset> {
  const cols: AssetColumns = { ...DEFAULT_ASSET_COLUMNS, ...columns };
  const { rows } = loadTable<keyof AssetColumns>(path, cols, 'device_id', options);
  const out = new CaseInsensitiveMap<Asset>();
  for (const { line, values } of rows) {
    const id = values.device_id as string;
    if (out.has(id)) {
      options.diagnostics?.warn({
        reason: 'csv-duplicate-key',
        message: `device ${id} listed again; the later row wins`,
        file: path,
        line,
      });
    }
    out.set(id, {
      device_id: id,
      owner: values.owner,
      kind: values.kind,
      hostname: values.hostname,
      os: values.os,
      enrolled_at: isoOrNull(values.enrolled_at, path, line, cols.enrolled_at, options.diagnostics),
    });
  }
  return out;
}

/**
 * Load an identity directory: user → Identity. Keys are case-insensitive (`CaseInsensitiveMap`).
 * `columns` renames CSV headers, e.g. `{ user: 'sAMAccountName', email: 'mail' }`.
 */
export function loadIdentities(
  path: string,
  columns: Partial<IdentityColumns> = {},
  options: LoadOptions = {},
): CaseInsensitiveMap<Identity> {
  const cols: IdentityColumns = { ...DEFAULT_IDENTITY_COLUMNS, ...columns };
  const { rows } = loadTable<keyof IdentityColumns>(path, cols, 'user', options);
  const out = new CaseInsensitiveMap<Identity>();
  for (const { line, values } of rows) {
    const user = values.user as string;
    if (out.has(user)) {
      options.diagnostics?.warn({
        reason: 'csv-duplicate-key',
        message: `user ${user} listed again; the later row wins`,
        file: path,
        line,
      });
    }
    out.set(user, {
      user,
      kind: values.kind,
      role: values.role,
      department: values.department,
      country: values.country,
      email: values.email,
    });
  }
  return out;
}
