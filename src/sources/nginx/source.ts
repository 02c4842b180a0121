// nginx access logs written with a JSON `log_format` (`escape=json`) whose keys are nginx's own
// variable names without `$` (docs/formats.md has the recommended block). nginx is the
// terminating gateway, so it sees client certificates even under TLS 1.3, where a passive sensor
// cannot. Users write their own log_format: every key is optional, and nginx's `-` / empty string
// for an unset variable means "absent". A value of the wrong type is a warning, never a crash.

import type { CertificateVisibility, Observation, RawCertificate } from '../../schema/event.ts';
import { canonicalTlsVersion, parseIsoTime, parseJsonObjectLine, sampleJsonObjects } from '../common.ts';
import type { DetectSample, FileContext, LineParser, LineSource } from '../types.ts';

type Obj = Record<string, unknown>;

/** Keys only an nginx log_format built from variable names would have (detection). */
const NGINX_KEYS = new Set([
  'remote_addr',
  'remote_port',
  'remote_user',
  'time_iso8601',
  'time_local',
  'msec',
  'request',
  'request_uri',
  'request_length',
  'request_time',
  'request_id',
  'status',
  'bytes_sent',
  'body_bytes_sent',
  'http_user_agent',
  'http_referer',
  'server_name',
  'server_addr',
  'server_port',
  'ssl_protocol',
  'ssl_cipher',
  'ssl_server_name',
  'ssl_client_verify',
  'ssl_client_s_dn',
  'ssl_client_i_dn',
  'ssl_client_s_dn_legacy',
  'ssl_client_i_dn_legacy',
  'ssl_client_serial',
  'ssl_client_fingerprint',
  'ssl_client_escaped_cert',
  'ssl_client_raw_cert',
  'ssl_client_v_start',
  'ssl_client_v_end',
]);

/** Keys that belong to other JSON formats: their presence means "not an nginx variable log". */
const FOREIGN_KEYS = ['event_type', 'flow_id', 'ecs', 'tls', 'source', 'event', 'id.orig_h', 'uid'];

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};
const TIME_LOCAL = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

/** `$time_local` (`01/May/2024:12:00:00 +0200`) → epoch ms, or null. */
export function parseTimeLocal(s: string): number | null {
  const m = TIME_LOCAL.exec(s);
  if (!m) return null;
  const month = MONTHS[m[2]];
  if (month === undefined) return null;
  const day = Number(m[1]);
  const utc = Date.UTC(Number(m[3]), month, day, Number(m[4]), Number(m[5]), Number(m[6]));
  // Date.UTC rolls 31/Feb over into March: a date that does not survive the round trip is invalid.
  const back = new Date(utc);
  if (back.getUTCDate() !== day || back.getUTCHours() !== Number(m[4]) || back.getUTCMinutes() !== Number(m[5])) return null;
  const offset = (Number(m[8]) * 60 + Number(m[9])) * 60_000 * (m[7] === '-' ? -1 : 1);
  return Number.isFinite(utc) ? utc - offset : null;
}

/** `$status` values that mean the client was refused for who it is (495/496: nginx's certificate errors). */
const AUTH_REFUSED = new Set([401, 403, 495, 496]);

/** Parses one nginx JSON access log file into Observations. */
class NginxParser implements LineParser {
  private readonly ctx: FileContext;
  private lineNo = 0;
  private records = 0;

  constructor(ctx: FileContext) {
    this.ctx = ctx;
  }

  counts(): { records: number; ignored: number } {
    return { records: this.records, ignored: 0 };
  }

  private wrong(field: string, value: unknown, expected: string): void {
    const shown =
      typeof value === 'string'
        ? JSON.stringify(value.slice(0, 40))
        : Array.isArray(value)
          ? 'an array'
          : value !== null && typeof value === 'object'
            ? 'an object'
            : String(value);
    this.ctx.diagnostics.warn({
      reason: 'wrong-type',
      file: this.ctx.file,
      line: this.lineNo,
      field,
      message: `expected ${expected}, got ${shown}; field ignored`,
    });
  }

  /** A string variable; `-`, empty and null are nginx's "unset". Numbers are accepted as text (a log_format may leave them unquoted). */
  private s(o: Obj, key: string): string | null {
    const v = o[key];
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return v.length === 0 || v === '-' ? null : v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    this.wrong(key, v, 'a string');
    return null;
  }

  /** A non-negative integer variable (`$status`, `$bytes_sent`…), quoted or not. */
  private int(o: Obj, key: string, max = Number.MAX_SAFE_INTEGER): number | null {
    const v = o[key];
    if (v === undefined || v === null || v === '' || v === '-') return null;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
    if (Number.isInteger(n) && n >= 0 && n <= max) return n;
    this.wrong(key, v, 'an integer');
    return null;
  }

  /** Event time: `$msec` (millisecond precision) first, else `$time_iso8601`, else `$time_local`. */
  private time(o: Obj): { ts: number | null; field: string | null; raw: unknown } {
    let firstBad: { field: string; raw: unknown } | null = null;
    for (const field of ['msec', 'time_iso8601', 'time_local', '@timestamp']) {
      const raw = o[field];
      if (raw === undefined || raw === null || raw === '' || raw === '-') continue;
      let ts: number | null = null;
      if (field === 'msec') {
        const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
        ts = Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : null;
      } else if (typeof raw === 'string') {
        ts = field === 'time_local' ? parseTimeLocal(raw) : parseIsoTime(raw);
      }
      if (ts !== null) return { ts, field, raw };
      firstBad ??= { field, raw };
    }
    return { ts: null, field: firstBad?.field ?? null, raw: firstBad?.raw };
  }

  /** The client certificate as the variables describe it, or null when none was logged. */
  private certificate(o: Obj): RawCertificate | null {
    const pem = this.s(o, 'ssl_client_escaped_cert') ?? this.s(o, 'ssl_client_raw_cert') ?? this.s(o, 'ssl_client_cert');
    let subject = this.s(o, 'ssl_client_s_dn');
    let issuer = this.s(o, 'ssl_client_i_dn');
    let syntax: RawCertificate['dn_syntax'] = 'rfc4514';
    if (subject === null && issuer === null) {
      subject = this.s(o, 'ssl_client_s_dn_legacy');
      issuer = this.s(o, 'ssl_client_i_dn_legacy');
      syntax = 'slash';
    } else if ((subject ?? issuer ?? '').startsWith('/')) {
      // nginx before 1.11.6 printed $ssl_client_s_dn in the slash form.
      syntax = 'slash';
    }
    const serial = this.s(o, 'ssl_client_serial');
    const sha1 = this.s(o, 'ssl_client_fingerprint');
    const notBefore = this.s(o, 'ssl_client_v_start');
    const notAfter = this.s(o, 'ssl_client_v_end');
    if (pem === null && subject === null && issuer === null && serial === null && sha1 === null) return null;
    const raw: RawCertificate = {};
    if (pem !== null) raw.pem = pem;
    if (subject !== null) raw.subject = subject;
    if (issuer !== null) raw.issuer = issuer;
    if (subject !== null || issuer !== null) raw.dn_syntax = syntax;
    if (serial !== null) {
      raw.serial = serial;
      raw.serial_format = 'hex';
    }
    if (sha1 !== null) raw.sha1 = sha1;
    if (notBefore !== null) raw.not_before = notBefore;
    if (notAfter !== null) raw.not_after = notAfter;
    return raw;
  }

  line(text: string, lineNumber: number): Observation | null {
    if (text.trim().length === 0) return null;
    this.lineNo = lineNumber;
    this.records++;
    const o = parseJsonObjectLine(text, lineNumber, this.ctx, 'is the log_format `escape=json`?');
    if (!o) return null;

    const time = this.time(o);
    if (time.ts === null) {
      this.ctx.diagnostics.skip({
        reason: time.field === null ? 'missing-timestamp' : 'bad-timestamp',
        file: this.ctx.file,
        line: lineNumber,
        field: time.field ?? 'time_iso8601',
        message:
          time.field === null
            ? 'record has none of msec, time_iso8601, time_local; skipped'
            : `unusable ${time.field} ${JSON.stringify(time.raw)}; skipped`,
      });
      return null;
    }

    const obs: Observation = { ts: time.ts, format: 'nginx', file: this.ctx.file, line: lineNumber };
    const requestId = this.s(o, 'request_id');
    if (requestId !== null) obs.record_id = requestId;
    // The account comes from HTTP auth when nginx logged one; else normalize derives it from the certificate.
    const user = this.s(o, 'remote_user');
    if (user !== null) obs.user = user;
    obs.source_ip = this.s(o, 'remote_addr');
    obs.source_port = this.int(o, 'remote_port', 65535);
    const serverAddr = this.s(o, 'server_addr');
    if (serverAddr !== null) obs.destination_ip = serverAddr;
    const serverPort = this.int(o, 'server_port', 65535);
    if (serverPort !== null) obs.destination_port = serverPort;

    const sni = this.s(o, 'ssl_server_name');
    obs.sni = sni;
    obs.service = sni ?? this.s(o, 'host') ?? this.s(o, 'http_host') ?? this.s(o, 'server_name');
    const protocol = this.s(o, 'ssl_protocol');
    if (protocol !== null) obs.tls_version = canonicalTlsVersion(protocol);
    obs.tls_cipher = this.s(o, 'ssl_cipher');

    const verify = this.s(o, 'ssl_client_verify');
    if (verify !== null) obs.client_verify = verify;
    const cert = this.certificate(o);
    let visibility: CertificateVisibility = 'not_visible';
    if (cert !== null) {
      obs.client_certificate = cert;
      visibility = 'present';
    } else if (verify === 'NONE') visibility = 'absent';
    // With certificate variables logged but empty and no verify result (plain HTTP, or a log_format
    // without $ssl_client_verify) nothing can be said: not_visible, like a log without them.
    obs.client_certificate_visibility = visibility;

    const status = this.int(o, 'status', 999);
    const failed = verify?.startsWith('FAILED') === true;
    if (status !== null && AUTH_REFUSED.has(status)) obs.outcome = 'failure';
    else if (status !== null && status < 400) {
      // Served. With `ssl_verify_client optional_no_ca` nginx serves a FAILED certificate: the
      // service accepted it (the untrusted-issuer pattern); client_verify keeps the reason.
      obs.outcome = 'success';
    } else if (failed) obs.outcome = 'failure';
    else if (status === null && verify === 'SUCCESS') obs.outcome = 'success';
    else obs.outcome = 'unknown';

    const sent = this.int(o, 'bytes_sent');
    const received = this.int(o, 'request_length');
    if (sent !== null || received !== null) obs.bytes = (sent ?? 0) + (received ?? 0);
    return obs;
  }
}

/**
 * Confidence that the sample is an nginx JSON access log: JSON objects whose keys are nginx
 * variable names (a time variable plus at least two others), with none of the keys that mark
 * ECS, Suricata EVE or Zeek JSON — those formats keep their own detection.
 */
export function detectNginx(sample: DetectSample): number {
  let best = 0;
  for (const o of sampleJsonObjects(sample.firstLines)) {
    const keys = Object.keys(o);
    if (FOREIGN_KEYS.some((k) => k in o) || keys.some((k) => k.includes('.'))) return 0;
    let known = 0;
    for (const k of keys) if (NGINX_KEYS.has(k) || k.startsWith('http_') || k.startsWith('ssl_client_')) known++;
    const hasTime = 'msec' in o || 'time_iso8601' in o || 'time_local' in o;
    if (!hasTime || known < 3) continue;
    const hasTls = keys.some((k) => k.startsWith('ssl_'));
    // Most keys must be nginx's: a generic JSON log that happens to have `status` is not claimed.
    const share = known / keys.length;
    const score = share >= 0.6 ? (hasTls ? 0.95 : 0.85) : share >= 0.4 ? 0.6 : 0;
    if (score > best) best = score;
  }
  return best;
}

/** nginx access log, JSON `log_format` keyed by variable names (docs/formats.md). */
export const nginxSource: LineSource = {
  kind: 'lines',
  id: 'nginx',
  description: 'nginx access log with a JSON log_format keyed by nginx variable names ($ssl_client_* for client certificates)',
  detect: detectNginx,
  open: (ctx) => new NginxParser(ctx),
};
