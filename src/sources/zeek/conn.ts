// Zeek conn.log (TSV or JSON) as a byte-count supplier for the ssl.log join. Zeek's ssl.log has
// no byte counts, so without this the volume-spike rule sees Zeek data as request counts only.
// conn.log is read in phase 0 (before ssl.log, like x509.log); it yields no observations, it only
// records the bytes of each TLS connection (`service` has `ssl`) under its uid, which is the same
// uid ssl.log carries. Memory is bounded: a capped map that evicts its oldest entry first.
import type { FileContext, LineParser, LineSource, SharedSourceState } from '../types.ts';
import { str, ZeekRecordReader, zeekHeaderInfo } from './format.ts';

/** Default number of TLS connections whose bytes are held at once (~100 MB at the cap). */
export const DEFAULT_CONN_CAP = 1_000_000;

/** Bytes per TLS connection uid, shared by the conn parsers and the ssl parser of one run. */
export interface ZeekConnStore {
  /** uid → orig+resp bytes; insertion order = eviction order (oldest first). */
  bytes: Map<string, number>;
  /** The most entries `bytes` holds; the oldest is evicted to make room. */
  cap: number;
  /** Entries evicted so far in this run. */
  evicted: number;
}

const STORE_KEY = 'zeek.conn';

/** The run's conn byte store, created on first use with `cap` (default DEFAULT_CONN_CAP). */
export function zeekConnStore(shared: SharedSourceState, cap = DEFAULT_CONN_CAP): ZeekConnStore {
  let store = shared.get(STORE_KEY) as ZeekConnStore | undefined;
  if (!store) {
    store = { bytes: new Map(), cap: Math.max(1, Math.floor(cap)), evicted: 0 };
    shared.set(STORE_KEY, store);
  }
  return store;
}

/** The run's conn byte store when a conn log was read, else null (ssl records then carry no bytes). */
export function existingZeekConnStore(shared: SharedSourceState): ZeekConnStore | null {
  return (shared.get(STORE_KEY) as ZeekConnStore | undefined) ?? null;
}

/** Records `bytes` for `uid`, evicting the oldest entry when the store is full. */
export function rememberConnBytes(store: ZeekConnStore, uid: string, bytes: number): void {
  if (!store.bytes.has(uid) && store.bytes.size >= store.cap) {
    const oldest = store.bytes.keys().next().value;
    if (oldest !== undefined) {
      store.bytes.delete(oldest);
      store.evicted++;
    }
  }
  store.bytes.set(uid, bytes);
}

/** True when a conn `service` value (`ssl`, `xmpp,ssl`, or a JSON array) names the ssl analyzer. */
export function isTlsService(service: unknown): boolean {
  const parts = Array.isArray(service) ? service : typeof service === 'string' ? service.split(',') : [];
  return parts.some((p) => typeof p === 'string' && p.trim().toLowerCase() === 'ssl');
}

const BYTE_FIELDS = ['orig_bytes', 'resp_bytes', 'orig_ip_bytes', 'resp_ip_bytes'] as const;

/** Columns that tell a conn log from ssl/x509 logs (all three share `uid` and `id.*`). */
function isConnFields(fields: readonly string[]): boolean {
  const has = (f: string) => fields.includes(f);
  if (has('version') || has('cipher') || has('cert_chain_fps') || has('fingerprint') || has('certificate.subject')) return false;
  return has('uid') && (has('conn_state') || has('orig_bytes') || has('orig_ip_bytes') || (has('service') && has('history')));
}

/** Parses one conn log; records bytes of TLS connections, yields nothing. */
class ZeekConnParser implements LineParser {
  private readonly ctx: FileContext;
  private readonly store: ZeekConnStore;
  private readonly reader: ZeekRecordReader;
  private readonly evictedBefore: number;
  private isConn = true;
  private warnedOther = false;
  private warnedNoService = false;
  private warnedNoBytes = false;
  ignored = 0;
  /** TLS connections whose bytes were recorded / left unknown (all counts unset). */
  recorded = 0;
  unknown = 0;

  constructor(ctx: FileContext) {
    this.ctx = ctx;
    this.store = zeekConnStore(ctx.shared);
    this.evictedBefore = this.store.evicted;
    this.reader = new ZeekRecordReader(ctx, {
      vectorFields: new Set(['tunnel_parents']),
      isNameLine: (names) => isConnFields(names),
      onFields: (fields, path) => {
        this.isConn = path === 'conn' || isConnFields(fields);
      },
    });
  }

  counts(): { records: number; ignored: number } {
    return { records: this.reader.records, ignored: this.ignored };
  }

  line(text: string, lineNumber: number): null {
    const rec = this.reader.line(text, lineNumber);
    if (rec === null) return null;
    if (rec.json ? !isConnFields(Object.keys(rec.json)) : !this.isConn) {
      return this.ignore(
        lineNumber,
        'unsupported-zeek-log',
        `not a conn log${this.reader.path ? ` (#path ${this.reader.path})` : ''}; its records are ignored`,
        'other',
      );
    }
    // Zeek JSON omits unset fields, so a JSON record without `service` is simply not TLS.
    const raw = rec.get('service');
    const service = raw === undefined && rec.json ? null : raw;
    if (service === undefined) {
      return this.ignore(
        lineNumber,
        'missing-field',
        'conn log has no service column, so TLS connections cannot be told apart; its records are ignored',
        'service',
        'service',
      );
    }
    if (!isTlsService(service)) {
      this.ignored++;
      return null;
    }
    const uid = str(rec.get('uid'));
    if (!uid) {
      this.ctx.diagnostics.skip({
        reason: 'missing-field',
        file: this.ctx.file,
        line: lineNumber,
        field: 'uid',
        message: 'conn record has no uid; skipped',
      });
      return null;
    }
    const n: Record<(typeof BYTE_FIELDS)[number], number | null> = {
      orig_bytes: null,
      resp_bytes: null,
      orig_ip_bytes: null,
      resp_ip_bytes: null,
    };
    let columns = 0;
    for (const f of BYTE_FIELDS) {
      // JSON omits unset fields: absent there means unset, not "no such column".
      const got = rec.get(f);
      const v = got === undefined && rec.json ? null : got;
      if (v !== undefined) columns++;
      if (v === undefined || v === null) continue;
      const count = byteCount(v);
      if (count === null) {
        // A corrupt count makes the whole line suspect: its bytes stay unknown rather than half-right.
        this.ctx.diagnostics.warn({
          reason: 'wrong-type',
          file: this.ctx.file,
          line: lineNumber,
          field: f,
          message: `not a byte count: ${JSON.stringify(String(v).slice(0, 40))}; bytes of ${uid} left unknown`,
        });
        this.unknown++;
        return null;
      }
      n[f] = count;
    }
    if (columns === 0) {
      this.unknown++;
      if (!this.warnedNoBytes) {
        this.warnedNoBytes = true;
        this.ctx.diagnostics.warn({
          reason: 'missing-field',
          file: this.ctx.file,
          line: lineNumber,
          field: 'orig_bytes',
          message: 'conn log has no orig_bytes/resp_bytes or orig_ip_bytes/resp_ip_bytes columns; no bytes recorded',
        });
      }
      return null;
    }
    // Application payload when Zeek knows both directions; else the IP-level counts (headers
    // included), never a mix of the two; else unknown. Unknown is not 0: nothing is recorded.
    const bytes =
      n.orig_bytes !== null && n.resp_bytes !== null
        ? n.orig_bytes + n.resp_bytes
        : n.orig_ip_bytes !== null && n.resp_ip_bytes !== null
          ? n.orig_ip_bytes + n.resp_ip_bytes
          : null;
    if (bytes === null) {
      this.unknown++;
      return null;
    }
    rememberConnBytes(this.store, uid, bytes);
    this.recorded++;
    return null;
  }

  private ignore(lineNumber: number, reason: string, message: string, kind: 'other' | 'service', field?: string): null {
    this.ignored++;
    const warned = kind === 'other' ? this.warnedOther : this.warnedNoService;
    if (!warned) {
      if (kind === 'other') this.warnedOther = true;
      else this.warnedNoService = true;
      this.ctx.diagnostics.warn({ reason, file: this.ctx.file, line: lineNumber, field, message });
    }
    return null;
  }

  end(): void {
    const evicted = this.store.evicted - this.evictedBefore;
    if (evicted > 0) {
      this.ctx.diagnostics.warn({
        reason: 'zeek-conn-evicted',
        file: this.ctx.file,
        message: `${evicted} TLS connection(s) evicted from the conn byte map (cap ${this.store.cap}, oldest first); ssl records of those connections have unknown bytes`,
      });
    }
  }
}

/** A non-negative integer from a TSV string or a JSON number, else null. */
function byteCount(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : null;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return null;
}

function detectConn(lines: string[]): number {
  const { path, fields, json, cut } = zeekHeaderInfo(lines);
  if (path === 'conn') return 1;
  if (path !== null) return 0;
  if (fields) return isConnFields(fields) ? 0.95 : 0;
  if (json) {
    if (json.uid === undefined || (json.service === undefined && json.conn_state === undefined)) return 0;
    return isConnFields(Object.keys(json)) ? 0.95 : 0;
  }
  if (cut) return isConnFields(cut) ? 0.8 : 0;
  return 0;
}

/** Zeek conn.log: no Observations; bytes per TLS connection uid for the ssl.log join (phase 0). */
export const zeekConnSource: LineSource = {
  kind: 'lines',
  id: 'zeek-conn',
  description: 'Zeek conn.log (TSV or JSON): bytes of TLS connections, joined to ssl.log by uid',
  phase: 0,
  detect: (sample) => detectConn(sample.firstLines),
  open: (ctx) => new ZeekConnParser(ctx),
};
