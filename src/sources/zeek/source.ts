// Zeek ssl.log and x509.log, in Zeek's TSV format (with its `#` headers, possibly repeated when
// logs are concatenated) and in Zeek's JSON format (one object per line, flat dotted keys or
// nested objects). x509 records fill a per-run certificate map; ssl records become Observations
// whose certificate fingerprints are joined against that map (x509 files are read first: phase 0).

import type { Observation, RawCertificate } from '../../schema/event.ts';
import { canonicalTlsVersion, certDateToIso, passiveVisibility } from '../common.ts';
import type { DetectSample, FileContext, LineParser, LineSource, SharedSourceState } from '../types.ts';
import { existingZeekConnStore, type ZeekConnStore } from './conn.ts';
import { bool, countOrNull, jget, str, strArray, ZeekRecordReader, zeekHeaderInfo } from './format.ts';

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
  'cert_chain_fps',
  'client_cert_chain_fps',
  'cert_chain_fuids',
  'client_cert_chain_fuids',
  'san.dns',
  'san.uri',
  'san.email',
  'san.ip',
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

function jsonKind(o: Record<string, unknown>): Kind {
  if (jget(o, 'certificate.subject') !== undefined || jget(o, 'certificate.serial') !== undefined) return 'x509';
  if (o.uid !== undefined && jget(o, 'id.orig_h') !== undefined) return 'ssl';
  if (o.fingerprint !== undefined) return 'x509';
  return 'other';
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

/** Parses Zeek TSV and JSON lines of ssl and x509 logs (a concatenation of both works too). */
class ZeekParser implements LineParser {
  private readonly ctx: FileContext;
  private readonly format: string;
  private readonly store: ZeekX509Store;
  private readonly conn: ZeekConnStore | null;
  private readonly reader: ZeekRecordReader;
  private kind: Kind | null = null;
  private warnedOther = false;
  ignored = 0;

  constructor(ctx: FileContext, format: string) {
    this.ctx = ctx;
    this.format = format;
    this.store = zeekX509Store(ctx.shared);
    this.conn = existingZeekConnStore(ctx.shared);
    this.reader = new ZeekRecordReader(ctx, {
      vectorFields: VECTOR_FIELDS,
      isNameLine: (names) => names.includes('uid') || names.includes('fingerprint') || names.includes('certificate.subject'),
      onFields: (fields, path) => {
        this.kind = kindOfFields(fields, path);
      },
    });
  }

  counts(): { records: number; ignored: number } {
    return { records: this.reader.records, ignored: this.ignored };
  }

  line(text: string, lineNumber: number): Observation | null {
    const rec = this.reader.line(text, lineNumber);
    if (rec === null) return null;
    const kind = rec.json ? jsonKind(rec.json) : this.kind;
    if (kind === 'x509') {
      this.x509(rec.get, lineNumber);
      return null;
    }
    if (kind === 'ssl') return this.ssl(rec.get, lineNumber);
    return this.ignoreOther(lineNumber);
  }

  private ignoreOther(lineNumber: number): null {
    this.ignored++;
    if (!this.warnedOther) {
      this.warnedOther = true;
      const path = this.reader.path;
      this.ctx.diagnostics.warn({
        reason: 'unsupported-zeek-log',
        file: this.ctx.file,
        line: lineNumber,
        message: `not an ssl or x509 log${path ? ` (#path ${path})` : ''}; its records are ignored`,
      });
    }
    return null;
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
    this.ctx.diagnostics.warn({
      reason: 'wrong-type',
      file: this.ctx.file,
      line: lineNumber,
      field,
      message: `not a port number: ${String(v).slice(0, 40)}; ignored`,
    });
    return null;
  }

  private time(v: unknown, lineNumber: number): number | null {
    if (v === undefined) {
      this.ctx.diagnostics.warn({
        reason: 'missing-timestamp',
        file: this.ctx.file,
        line: lineNumber,
        field: 'ts',
        message: 'record has no ts; kept without a time',
      });
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

  private lookup(
    fps: string[] | undefined,
    fuids: string[] | undefined,
  ): { leaf: RawCertificate | null; chain: RawCertificate[] } | null {
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
    // Bytes come from the conn.log line of the same uid (read in phase 0); no line = unknown, never 0.
    if (this.conn && r.uid) {
      const bytes = this.conn.bytes.get(r.uid);
      if (bytes !== undefined) obs.bytes = bytes;
    }
    const server = this.lookup(r.certFps, r.certFuids);
    if (server?.leaf) {
      obs.server_certificate =
        r.subject && !server.leaf.subject
          ? { ...server.leaf, subject: r.subject, issuer: server.leaf.issuer ?? r.issuer }
          : server.leaf;
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
