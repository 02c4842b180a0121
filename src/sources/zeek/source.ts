// Zeek ssl.log and x509.log, in Zeek's TSV format (with its `#` headers, possibly repeated when
// logs are concatenated) and in Zeek's JSON format (one object per line, flat dotted keys or
// nested objects). x509 records fill a per-run certificate map; ssl records become Observations
// whose certificate fingerprints are joined against that map (x509 files are read first: phase 0).
import type { FileContext, LineParser, LineSource, DetectSample, SharedSourceState } from '../types.ts';
import type { Observation, RawCertificate } from '../../schema/event.ts';
import { canonicalTlsVersion, certDateToIso, passiveVisibility } from '../common.ts';

/** What Zeek's x509.log says about one certificate, plus its host/client flags. */
export interface ZeekX509Entry {
  cert: RawCertificate;
  host_cert: boolean | null;
  client_cert: boolean | null;
}

/** Certificates seen in x509 logs of this run, by SHA-256 (or SHA-1) fingerprint and by file id (old Zeek). */
export interface ZeekX509Store {
  byFingerprint: Map<string, ZeekX509Entry>;
  byFuid: Map<string, ZeekX509Entry>;
}

const STORE_KEY = 'zeek.x509';

/** The run's x509 store, created on first use. */
export function zeekX509Store(shared: SharedSourceState): ZeekX509Store {
  let store = shared.get(STORE_KEY) as ZeekX509Store | undefined;
  if (!store) {
    store = { byFingerprint: new Map(), byFuid: new Map() };
    shared.set(STORE_KEY, store);
  }
  return store;
}

type Kind = 'ssl' | 'x509' | 'other';

/** One ssl record, whichever format it came from. `undefined` = the log has no such column. */
interface SslRecord {
  ts: unknown;
  uid: string | null;
  origH: string | null;
  origP: unknown;
  respH: string | null;
  respP: unknown;
  version: string | null;
  cipher: string | null;
  serverName: string | null;
  established: boolean | null;
  certFps: string[] | undefined;
  clientFps: string[] | undefined;
  certFuids: string[] | undefined;
  clientFuids: string[] | undefined;
  ja3: string | null;
  ja3s: string | null;
  ja4: string | null;
  subject: string | null;
  issuer: string | null;
  clientSubject: string | null;
  clientIssuer: string | null;
}

/** Columns that are vectors even when a log has no `#types` line (zeek-cut output). */
const VECTOR_FIELDS = new Set([
  'cert_chain_fps', 'client_cert_chain_fps', 'cert_chain_fuids', 'client_cert_chain_fuids',
  'san.dns', 'san.uri', 'san.email', 'san.ip',
]);

function kindOfFields(fields: readonly string[], path: string | null): Kind {
  const has = (f: string) => fields.includes(f);
  if (has('certificate.subject') || has('certificate.serial') || (has('fingerprint') && !has('uid'))) return 'x509';
  if (
    has('uid') &&
    has('id.orig_h') &&
    (has('version') || has('cipher') || has('server_name') || has('cert_chain_fps') || has('cert_chain_fuids'))
  ) {
    return 'ssl';
  }
  if (path === 'ssl' || path === 'x509') return path;
  return 'other';
}

/** Reads a value from a Zeek JSON object: flat dotted key first, then nested objects. */
function jget(o: Record<string, unknown>, path: string): unknown {
  const direct = o[path];
  if (direct !== undefined) return direct;
  const i = path.indexOf('.');
  if (i < 0) return undefined;
  const head = o[path.slice(0, i)];
  if (head === null || typeof head !== 'object' || Array.isArray(head)) return undefined;
  return jget(head as Record<string, unknown>, path.slice(i + 1));
}

function jsonKind(o: Record<string, unknown>): Kind {
  if (jget(o, 'certificate.subject') !== undefined || jget(o, 'certificate.serial') !== undefined) return 'x509';
  if (o.uid !== undefined && jget(o, 'id.orig_h') !== undefined) return 'ssl';
  if (o.fingerprint !== undefined) return 'x509';
  return 'other';
}

/** `\x09`-style escapes (Zeek writes separators and non-printables this way). */
function unescapeZeek(v: string): string {
  if (v.indexOf('\\x') < 0) return v;
  return v.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

/** A parsed header value for `#separator` (written escaped, e.g. `\x09`). */
function headerValue(text: string, sep: string): { name: string; value: string } {
  const space = text.indexOf(' ');
  const tab = text.indexOf(sep);
  // `#separator \x09` uses a space because the separator is not known yet.
  if (text.startsWith('#separator')) return { name: 'separator', value: unescapeZeek(text.slice(11).trim()) };
  const cut = tab > 0 ? tab : space;
  if (cut < 0) return { name: text.slice(1), value: '' };
  return { name: text.slice(1, cut), value: text.slice(cut + sep.length) };
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
const bool = (v: unknown): boolean | null => (v === true || v === 'T' ? true : v === false || v === 'F' ? false : null);
function strArray(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (v === null) return [];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string') return v.length > 0 ? v.split(',') : [];
  return [];
}

function keyAlgorithm(keyType: string | null, keyAlg: string | null): string | null {
  const t = (keyType ?? '').toLowerCase();
  if (t === 'ecdsa' || t === 'ec') return 'ec';
  if (t) return t;
  const a = (keyAlg ?? '').toLowerCase();
  if (a.startsWith('rsa')) return 'rsa';
  if (a.startsWith('id-ecpublickey') || a.startsWith('ec')) return 'ec';
  return a || null;
}

function countOrNull(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.length > 0) {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Parses Zeek TSV and JSON lines of ssl and x509 logs (a concatenation of both works too). */
class ZeekParser implements LineParser {
  private readonly ctx: FileContext;
  private readonly format: string;
  private readonly store: ZeekX509Store;
  private sep = '\t';
  private setSep = ',';
  private emptyField = '(empty)';
  private unsetField = '-';
  private path: string | null = null;
  private fields: string[] | null = null;
  private kind: Kind | null = null;
  /** Column index per known field name (-1 = absent), rebuilt on each `#fields`. */
  private col = new Map<string, number>();
  private vectorCol: boolean[] = [];
  private warnedOther = false;
  records = 0;
  ignored = 0;

  constructor(ctx: FileContext, format: string) {
    this.ctx = ctx;
    this.format = format;
    this.store = zeekX509Store(ctx.shared);
  }

  counts(): { records: number; ignored: number } {
    return { records: this.records, ignored: this.ignored };
  }

  private setFields(fields: string[], types: string[] | null): void {
    this.fields = fields;
    this.kind = kindOfFields(fields, this.path);
    this.col = new Map();
    fields.forEach((f, i) => {
      this.col.set(f, i);
    });
    this.vectorCol = fields.map((f, i) => (types?.[i] ? types[i].startsWith('vector') || types[i].startsWith('set') : VECTOR_FIELDS.has(f)));
  }

  line(text: string, lineNumber: number): Observation | null {
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
      if (names.includes('uid') || names.includes('fingerprint') || names.includes('certificate.subject')) {
        if (names.every((n) => /^[a-z_][a-z0-9_.]*$/.test(n))) {
          this.setFields(names, null);
          return null;
        }
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

  private ignoreOther(lineNumber: number): null {
    this.ignored++;
    if (!this.warnedOther) {
      this.warnedOther = true;
      this.ctx.diagnostics.warn({
        reason: 'unsupported-zeek-log',
        file: this.ctx.file,
        line: lineNumber,
        message: `not an ssl or x509 log${this.path ? ` (#path ${this.path})` : ''}; its records are ignored`,
      });
    }
    return null;
  }

  private tsvLine(text: string, lineNumber: number): Observation | null {
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
    if (this.kind === 'other') return this.ignoreOther(lineNumber);
    const get = (name: string): unknown => {
      const i = this.col.get(name);
      if (i === undefined) return undefined;
      const v = cols[i];
      if (this.vectorCol[i]) {
        if (v === this.unsetField || v === this.emptyField) return [];
        const parts = v.split(this.setSep);
        for (let k = 0; k < parts.length; k++) parts[k] = unescapeZeek(parts[k]);
        return parts;
      }
      if (v === this.unsetField) return null;
      if (v === this.emptyField) return '';
      return unescapeZeek(v);
    };
    if (this.kind === 'x509') {
      this.x509(get, lineNumber);
      return null;
    }
    return this.ssl(get, lineNumber);
  }

  private jsonLine(text: string, lineNumber: number): Observation | null {
    this.records++;
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      this.ctx.diagnostics.skip({ reason: 'invalid-json', file: this.ctx.file, line: lineNumber, message: 'line is not valid JSON; skipped' });
      return null;
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) {
      this.ctx.diagnostics.skip({ reason: 'invalid-json', file: this.ctx.file, line: lineNumber, message: 'line is not a JSON object; skipped' });
      return null;
    }
    const rec = o as Record<string, unknown>;
    const kind = jsonKind(rec);
    if (kind === 'other') return this.ignoreOther(lineNumber);
    const get = (name: string): unknown => {
      const v = jget(rec, name);
      return v === undefined && VECTOR_FIELDS.has(name) ? undefined : v;
    };
    if (kind === 'x509') {
      this.x509(get, lineNumber);
      return null;
    }
    return this.ssl(get, lineNumber);
  }

  private x509(get: (name: string) => unknown, lineNumber: number): void {
    const fingerprint = str(get('fingerprint'));
    const fuid = str(get('id'));
    if (!fingerprint && !fuid) {
      this.ctx.diagnostics.skip({
        reason: 'missing-field',
        file: this.ctx.file,
        line: lineNumber,
        field: 'fingerprint',
        message: 'x509 record has neither fingerprint nor id; skipped',
      });
      return;
    }
    const fp = fingerprint ? fingerprint.toLowerCase() : null;
    const nb = get('certificate.not_valid_before');
    const na = get('certificate.not_valid_after');
    const cert: RawCertificate = {
      sha256: fp && fp.length === 64 ? fp : null,
      sha1: fp && fp.length === 40 ? fp : null,
      subject: str(get('certificate.subject')),
      issuer: str(get('certificate.issuer')),
      serial: str(get('certificate.serial')),
      serial_format: 'hex',
      not_before: typeof nb === 'string' || typeof nb === 'number' ? certDateToIso(nb) : null,
      not_after: typeof na === 'string' || typeof na === 'number' ? certDateToIso(na) : null,
      san_dns: strArray(get('san.dns')) ?? [],
      san_email: strArray(get('san.email')) ?? [],
      san_uri: strArray(get('san.uri')) ?? [],
      san_ip: strArray(get('san.ip')) ?? [],
      key_algorithm: keyAlgorithm(str(get('certificate.key_type')), str(get('certificate.key_alg'))),
      key_size: countOrNull(get('certificate.key_length')),
      key_curve: str(get('certificate.curve')),
      is_ca: bool(get('basic_constraints.ca')),
    };
    // policy/protocols/ssl/log-certs-base64 adds the DER as base64: the source of truth when present.
    const b64 = str(get('cert'));
    if (b64) cert.pem = b64;
    const entry: ZeekX509Entry = { cert, host_cert: bool(get('host_cert')), client_cert: bool(get('client_cert')) };
    if (fp) this.store.byFingerprint.set(fp, entry);
    if (fuid) this.store.byFuid.set(fuid, entry);
  }

  private port(v: unknown, field: string, lineNumber: number): number | null {
    if (v === null || v === undefined) return null;
    const n = typeof v === 'number' ? v : Number(v);
    if (Number.isInteger(n) && n >= 0 && n <= 65535) return n;
    this.ctx.diagnostics.warn({ reason: 'wrong-type', file: this.ctx.file, line: lineNumber, field, message: `not a port number: ${String(v).slice(0, 40)}; ignored` });
    return null;
  }

  private time(v: unknown, lineNumber: number): number | null {
    if (v === undefined) {
      this.ctx.diagnostics.warn({ reason: 'missing-timestamp', file: this.ctx.file, line: lineNumber, field: 'ts', message: 'record has no ts; kept without a time' });
      return null;
    }
    let ms: number | null = null;
    if (typeof v === 'number') ms = Math.round(v * 1000);
    else if (typeof v === 'string') {
      const n = Number(v);
      if (v.length > 0 && Number.isFinite(n)) ms = Math.round(n * 1000);
      else {
        const iso = Date.parse(v);
        ms = Number.isNaN(iso) ? null : iso;
      }
    }
    if (ms === null) {
      this.ctx.diagnostics.warn({
        reason: 'bad-timestamp',
        file: this.ctx.file,
        line: lineNumber,
        field: 'ts',
        message: `unusable ts ${JSON.stringify(String(v).slice(0, 40))}; kept without a time`,
      });
    }
    return ms;
  }

  private lookup(fps: string[] | undefined, fuids: string[] | undefined): { leaf: RawCertificate | null; chain: RawCertificate[] } | null {
    if (fps && fps.length > 0) {
      const certs = fps.map((fp) => {
        const key = fp.toLowerCase();
        const hit = this.store.byFingerprint.get(key);
        if (hit) return hit.cert;
        return key.length === 40 ? { sha1: key } : { sha256: key };
      });
      return { leaf: certs[0], chain: certs.slice(1) };
    }
    if (fuids && fuids.length > 0) {
      const certs = fuids.map((id) => this.store.byFuid.get(id)?.cert ?? {});
      return { leaf: certs[0], chain: certs.slice(1) };
    }
    return null;
  }

  private ssl(get: (name: string) => unknown, lineNumber: number): Observation {
    const r: SslRecord = {
      ts: get('ts'),
      uid: str(get('uid')),
      origH: str(get('id.orig_h')),
      origP: get('id.orig_p'),
      respH: str(get('id.resp_h')),
      respP: get('id.resp_p'),
      version: str(get('version')),
      cipher: str(get('cipher')),
      serverName: str(get('server_name')),
      established: bool(get('established')),
      certFps: strArray(get('cert_chain_fps')),
      clientFps: strArray(get('client_cert_chain_fps')),
      certFuids: strArray(get('cert_chain_fuids')),
      clientFuids: strArray(get('client_cert_chain_fuids')),
      ja3: str(get('ja3')),
      ja3s: str(get('ja3s')),
      ja4: str(get('ja4')),
      subject: str(get('subject')),
      issuer: str(get('issuer')),
      clientSubject: str(get('client_subject')),
      clientIssuer: str(get('client_issuer')),
    };
    const version = r.version ? canonicalTlsVersion(r.version) : null;
    const sni = r.serverName || null;
    const obs: Observation = {
      ts: this.time(r.ts, lineNumber),
      format: this.format,
      file: this.ctx.file,
      line: lineNumber,
      record_id: r.uid,
      outcome: r.established === true ? 'success' : r.established === false ? 'failure' : 'unknown',
      source_ip: r.origH,
      source_port: this.port(r.origP, 'id.orig_p', lineNumber),
      destination_ip: r.respH,
      destination_port: this.port(r.respP, 'id.resp_p', lineNumber),
      service: sni,
      sni,
      tls_version: version,
      tls_cipher: r.cipher || null,
      ja3: r.ja3 || null,
      ja3s: r.ja3s || null,
      ja4: r.ja4 || null,
    };
    const server = this.lookup(r.certFps, r.certFuids);
    if (server?.leaf) {
      obs.server_certificate = r.subject && !server.leaf.subject ? { ...server.leaf, subject: r.subject, issuer: server.leaf.issuer ?? r.issuer } : server.leaf;
    } else if (r.subject) {
      obs.server_certificate = { subject: r.subject, issuer: r.issuer };
    }
    const client = this.lookup(r.clientFps, r.clientFuids);
    if (client?.leaf) {
      obs.client_certificate =
        r.clientSubject && !client.leaf.subject
          ? { ...client.leaf, subject: r.clientSubject, issuer: client.leaf.issuer ?? r.clientIssuer }
          : client.leaf;
      obs.client_chain = client.chain;
    }
    // Whether this log could show a client certificate at all: it needs a client chain column.
    const hasClientColumn = r.clientFps !== undefined || r.clientFuids !== undefined;
    obs.client_certificate_visibility = passiveVisibility(!!client?.leaf, version, hasClientColumn);
    return obs;
  }
}

function zeekHeaderInfo(lines: string[]): { path: string | null; fields: string[] | null; json: Record<string, unknown> | null; cut: string[] | null } {
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
      if (names.every((n) => /^[a-z_][a-z0-9_.]*$/.test(n))) cut = names;
    }
  }
  return { path, fields, json, cut };
}

function detectZeek(sample: DetectSample, want: 'ssl' | 'x509'): number {
  const { path, fields, json, cut } = zeekHeaderInfo(sample.firstLines);
  if (path === want) return 1;
  if (fields) return kindOfFields(fields, path) === want ? 0.95 : 0;
  if (json) {
    if (jsonKind(json) !== want) return 0;
    // A Zeek ssl JSON record has a uid; ECS/Suricata records do not look like this.
    if (want === 'ssl') {
      const hasTls = ['version', 'cert_chain_fps', 'server_name', 'cipher', 'established'].some((k) => json[k] !== undefined);
      return hasTls ? 0.95 : 0;
    }
    return jget(json, 'certificate.subject') !== undefined || json.fingerprint !== undefined ? 0.95 : 0;
  }
  if (cut) return kindOfFields(cut, null) === want ? 0.8 : 0;
  return 0;
}

function makeSource(id: 'zeek-ssl' | 'zeek-x509', want: 'ssl' | 'x509'): LineSource {
  return {
    kind: 'lines',
    id,
    description:
      want === 'ssl'
        ? 'Zeek ssl.log (TSV or JSON), joined with x509.log by certificate fingerprint'
        : 'Zeek x509.log (TSV or JSON): certificates for the ssl.log join',
    phase: want === 'x509' ? 0 : 1,
    detect: (sample) => detectZeek(sample, want),
    open: (ctx) => new ZeekParser(ctx, 'zeek-ssl'),
  };
}

/** Zeek ssl.log: one Observation per TLS connection. */
export const zeekSslSource: LineSource = makeSource('zeek-ssl', 'ssl');
/** Zeek x509.log: no Observations; fills the certificate map the ssl.log join reads. */
export const zeekX509Source: LineSource = makeSource('zeek-x509', 'x509');
