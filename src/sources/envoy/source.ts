// Envoy access logs written with `json_format` (one JSON object per line). The keys are chosen by
// the operator; this source reads the names Envoy's and Istio's documentation use (see
// docs/formats.md for the recommended json_format block). Envoy prints `-` (text) or null (JSON)
// for unset values; both, and "", mean "not logged".
//
// The client certificate comes, in order of preference, from the PEM (%DOWNSTREAM_PEER_CERT%,
// URL-encoded), the logged downstream_peer_* fields, or — when the peer fields are absent, as
// on an Envoy behind another proxy — the x-forwarded-client-cert header it received, of which only
// the element(s) added by trusted proxies are used (default: the last one).

import { clientElement, decodeXfccPem, parseXfcc, splitPemBundle, type XfccElement } from '../../gateway/xfcc.ts';
import type { CertificateVisibility, Observation, RawCertificate } from '../../schema/event.ts';
import { canonicalTlsVersion, certDateToIso, parseIsoTime, parseJsonObjectLine } from '../common.ts';
import type { DetectSample, FileContext, LineParser, LineSource } from '../types.ts';

type Obj = Record<string, unknown>;

/** Alternative key names, first present wins. */
const KEYS = {
  time: ['start_time', 'timestamp'],
  remote: ['downstream_remote_address', 'downstream_direct_remote_address'],
  local: ['downstream_local_address'],
  sni: ['requested_server_name'],
  authority: ['authority', 'host'],
  code: ['response_code'],
  received: ['bytes_received'],
  sent: ['bytes_sent'],
  requestId: ['request_id', 'x_request_id'],
  version: ['downstream_tls_version'],
  cipher: ['downstream_tls_cipher'],
  subject: ['downstream_peer_subject'],
  issuer: ['downstream_peer_issuer'],
  serial: ['downstream_peer_serial'],
  sha256: ['downstream_peer_fingerprint_256'],
  sha1: ['downstream_peer_fingerprint_1'],
  uriSan: ['downstream_peer_uri_san'],
  dnsSan: ['downstream_peer_dns_san'],
  cert: ['downstream_peer_cert'],
  vStart: ['downstream_peer_cert_v_start'],
  vEnd: ['downstream_peer_cert_v_end'],
  xfcc: ['x_forwarded_client_cert', 'x-forwarded-client-cert', 'xfcc'],
} as const;

/** Keys that describe the downstream peer certificate: their presence means the log could show one. */
const PEER_KEYS = [
  ...KEYS.subject,
  ...KEYS.issuer,
  ...KEYS.serial,
  ...KEYS.sha256,
  ...KEYS.sha1,
  ...KEYS.cert,
  ...KEYS.uriSan,
  ...KEYS.dnsSan,
];

/** Response codes that mean the request was refused for want of (valid) credentials. */
const AUTH_FAILURE_CODES = new Set([401, 403, 495, 496]);

/** Envoy's "unset": missing, null, "" or "-". */
function unset(v: unknown): boolean {
  return v === undefined || v === null || v === '' || v === '-';
}

/** `ip:port`, `[v6]:port`, or a bare address → ip and port. */
export function splitAddress(s: string): { ip: string; port: number | null } | null {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return null;
    const ip = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest === '') return { ip, port: null };
    if (!rest.startsWith(':')) return null;
    const port = Number(rest.slice(1));
    return Number.isInteger(port) && port >= 0 && port <= 65535 && rest.length > 1 ? { ip, port } : null;
  }
  const colon = s.lastIndexOf(':');
  // More than one colon without brackets: a bare IPv6 address.
  if (colon < 0 || s.indexOf(':') !== colon) return s.length > 0 ? { ip: s, port: null } : null;
  const port = Number(s.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535 || colon === s.length - 1) return null;
  return { ip: s.slice(0, colon), port };
}

/** Host of an `:authority` / Host header value, without the port, lowercased. */
function authorityHost(a: string): string {
  const addr = splitAddress(a);
  return (addr ? addr.ip : a).toLowerCase();
}

/** Options of the Envoy source. */
export interface EnvoySourceOptions {
  /**
   * How many XFCC elements, counted from the last, were added by proxies you trust (default 1:
   * only the nearest proxy's). The client certificate is taken from the farthest trusted element.
   */
  xfccTrustedHops?: number;
}

class EnvoyParser implements LineParser {
  private readonly ctx: FileContext;
  private readonly hops: number;
  private lineNo = 0;
  private records = 0;

  constructor(ctx: FileContext, hops: number) {
    this.ctx = ctx;
    this.hops = hops;
  }

  counts(): { records: number; ignored: number } {
    return { records: this.records, ignored: 0 };
  }

  private warn(field: string, reason: string, message: string): void {
    this.ctx.diagnostics.warn({ reason, file: this.ctx.file, line: this.lineNo, field, message });
  }

  /** First present key of `names`: [key, value] or null. */
  private pick(o: Obj, names: readonly string[]): [string, unknown] | null {
    for (const k of names) if (k in o) return [k, o[k]];
    return null;
  }

  private str(o: Obj, names: readonly string[]): string | null {
    const hit = this.pick(o, names);
    if (!hit || unset(hit[1])) return null;
    if (typeof hit[1] === 'string') return hit[1];
    if (typeof hit[1] === 'number') return String(hit[1]);
    this.warn(
      hit[0],
      'wrong-type',
      `expected a string, got ${Array.isArray(hit[1]) ? 'an array' : typeof hit[1]}; field ignored`,
    );
    return null;
  }

  private int(o: Obj, names: readonly string[]): number | null {
    const hit = this.pick(o, names);
    if (!hit || unset(hit[1])) return null;
    const n = typeof hit[1] === 'number' ? hit[1] : typeof hit[1] === 'string' ? Number(hit[1]) : Number.NaN;
    if (Number.isInteger(n) && n >= 0) return n;
    this.warn(hit[0], 'wrong-type', `expected a non-negative integer, got ${JSON.stringify(hit[1])}; field ignored`);
    return null;
  }

  private time(o: Obj): number | null {
    const hit = this.pick(o, KEYS.time);
    if (!hit || unset(hit[1])) return null;
    // %START_TIME% prints ISO 8601 by default; %START_TIME(%s)% and friends print epoch seconds
    // (or ms): a number above 1e11 cannot be seconds before the year 5138.
    const v = typeof hit[1] === 'string' && /^\d+(\.\d+)?$/.test(hit[1]) ? Number(hit[1]) : hit[1];
    if (typeof v === 'number') return Number.isFinite(v) ? (v > 1e11 ? v : v * 1000) : null;
    if (typeof v === 'string') return parseIsoTime(v);
    return null;
  }

  /** A list SAN field: Envoy joins several values with `,`. */
  private list(o: Obj, names: readonly string[]): string[] {
    const s = this.str(o, names);
    return s === null
      ? []
      : s
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x.length > 0);
  }

  /** The certificate from the logged downstream_peer_* fields; null when none is set. */
  private peerCertificate(o: Obj): { leaf: RawCertificate; chain: RawCertificate[] } | null {
    const leaf: RawCertificate = {};
    const chain: RawCertificate[] = [];
    const encoded = this.str(o, KEYS.cert);
    if (encoded !== null) {
      const pems = splitPemBundle(decodeXfccPem(encoded) ?? '');
      if (pems.length > 0) {
        leaf.pem = pems[0];
        for (const p of pems.slice(1)) chain.push({ pem: p });
      } else
        this.warn(
          KEYS.cert[0],
          'bad-certificate',
          'downstream_peer_cert is not a URL-encoded PEM certificate; logged fields used instead',
        );
    }
    const subject = this.str(o, KEYS.subject);
    const issuer = this.str(o, KEYS.issuer);
    // %DOWNSTREAM_PEER_SUBJECT% / _ISSUER% are printed in RFC 2253 form (most specific RDN first).
    if (subject !== null) leaf.subject = subject;
    if (issuer !== null) leaf.issuer = issuer;
    if (subject !== null || issuer !== null) leaf.dn_syntax = 'rfc4514';
    const serial = this.str(o, KEYS.serial);
    if (serial !== null) {
      leaf.serial = serial;
      leaf.serial_format = 'hex';
    }
    const sha256 = this.str(o, KEYS.sha256);
    if (sha256 !== null) leaf.sha256 = sha256;
    const sha1 = this.str(o, KEYS.sha1);
    if (sha1 !== null) leaf.sha1 = sha1;
    const uri = this.list(o, KEYS.uriSan);
    if (uri.length > 0) leaf.san_uri = uri;
    const dns = this.list(o, KEYS.dnsSan);
    if (dns.length > 0) leaf.san_dns = dns;
    for (const [names, field] of [
      [KEYS.vStart, 'not_before'],
      [KEYS.vEnd, 'not_after'],
    ] as const) {
      const v = this.str(o, names);
      if (v === null) continue;
      const iso = certDateToIso(v);
      if (iso === null) this.warn(names[0], 'bad-date', `unusable date ${JSON.stringify(v)}; field ignored`);
      else leaf[field] = iso;
    }
    return Object.keys(leaf).length > 0 ? { leaf, chain } : null;
  }

  /** The certificate from the trusted XFCC element; null when the header is unset or says nothing. */
  private xfccCertificate(o: Obj): { leaf: RawCertificate; chain: RawCertificate[] } | null {
    const hit = this.pick(o, KEYS.xfcc);
    const header = this.str(o, KEYS.xfcc);
    if (!hit || header === null) return null;
    const parsed = parseXfcc(header);
    if (!parsed.ok) {
      this.warn(hit[0], `xfcc-${parsed.error.reason}`, `${parsed.error.message}; header ignored`);
      return null;
    }
    const e: XfccElement | null = clientElement(parsed.elements, this.hops);
    if (!e) return null;
    const leaf: RawCertificate = {};
    const chain: RawCertificate[] = [];
    if (e.cert !== null) {
      const pems = splitPemBundle(decodeXfccPem(e.cert) ?? '');
      if (pems.length > 0) leaf.pem = pems[0];
      else this.warn(hit[0], 'bad-certificate', `XFCC element ${e.index} Cert is not a URL-encoded PEM certificate; ignored`);
    }
    if (e.chain !== null) {
      const pems = splitPemBundle(decodeXfccPem(e.chain) ?? '');
      // Envoy's Chain includes the leaf first.
      if (pems.length > 0 && leaf.pem === undefined) leaf.pem = pems[0];
      for (const p of pems) if (p.trim() !== leaf.pem?.trim()) chain.push({ pem: p });
    }
    if (e.hash !== null) leaf.sha256 = e.hash;
    if (e.subject !== null) {
      leaf.subject = e.subject;
      // Current Envoy writes RFC 2253; the `/C=US/…` form appears in old docs and other proxies.
      leaf.dn_syntax = e.subject.startsWith('/') ? 'slash' : 'rfc4514';
    }
    if (e.uri.length > 0) leaf.san_uri = [...e.uri];
    if (e.dns.length > 0) leaf.san_dns = [...e.dns];
    return Object.keys(leaf).length > 0 ? { leaf, chain } : null;
  }

  line(text: string, lineNumber: number): Observation | null {
    if (text.trim().length === 0) return null;
    this.lineNo = lineNumber;
    this.records++;
    const o = parseJsonObjectLine(text, lineNumber, this.ctx);
    if (!o) return null;
    const ts = this.time(o);
    if (ts === null) {
      const raw = this.pick(o, KEYS.time);
      this.ctx.diagnostics.skip({
        reason: raw && !unset(raw[1]) ? 'bad-timestamp' : 'missing-timestamp',
        file: this.ctx.file,
        line: lineNumber,
        field: 'start_time',
        message:
          raw && !unset(raw[1]) ? `unusable start_time ${JSON.stringify(raw[1])}; skipped` : 'record has no start_time; skipped',
      });
      return null;
    }
    const obs: Observation = { ts, format: 'envoy', file: this.ctx.file, line: lineNumber };
    obs.record_id = this.str(o, KEYS.requestId);
    for (const [names, ipKey, portKey] of [
      [KEYS.remote, 'source_ip', 'source_port'],
      [KEYS.local, 'destination_ip', 'destination_port'],
    ] as const) {
      const a = this.str(o, names);
      if (a === null) continue;
      const addr = splitAddress(a);
      if (!addr) {
        this.warn(names[0], 'bad-address', `unusable address ${JSON.stringify(a)}; field ignored`);
        continue;
      }
      obs[ipKey] = addr.ip;
      obs[portKey] = addr.port;
    }
    const code = this.int(o, KEYS.code);
    // Below 400 the request was served; 401/403/495/496 refuse the client; 0 (no response sent:
    // the downstream went away) and other errors (404, 503, …) say nothing about authentication.
    obs.outcome =
      code === null ? 'unknown' : code > 0 && code < 400 ? 'success' : AUTH_FAILURE_CODES.has(code) ? 'failure' : 'unknown';
    const received = this.int(o, KEYS.received);
    const sent = this.int(o, KEYS.sent);
    if (received !== null || sent !== null) obs.bytes = (received ?? 0) + (sent ?? 0);
    const version = this.str(o, KEYS.version);
    obs.tls_version = version === null ? null : canonicalTlsVersion(version);
    obs.tls_cipher = this.str(o, KEYS.cipher);
    obs.sni = this.str(o, KEYS.sni);
    const authority = this.str(o, KEYS.authority);
    obs.service = obs.sni ?? (authority === null ? null : authorityHost(authority));

    const cert = this.peerCertificate(o) ?? this.xfccCertificate(o);
    let visibility: CertificateVisibility;
    if (cert) {
      obs.client_certificate = cert.leaf;
      obs.client_chain = cert.chain;
      visibility = 'present';
    } else if (PEER_KEYS.some((k) => k in o)) {
      // Envoy terminated TLS and logged the peer fields as unset: no certificate was presented.
      visibility = 'absent';
    } else visibility = 'not_visible';
    obs.client_certificate_visibility = visibility;
    return obs;
  }
}

/** Envoy-specific keys; nginx, ECS and Suricata JSON use other names. */
const ENVOY_MARKERS = [
  '"downstream_remote_address"',
  '"downstream_local_address"',
  '"requested_server_name"',
  '"downstream_tls_version"',
  '"downstream_peer_',
  '"upstream_host"',
  '"upstream_cluster"',
  '"response_flags"',
  '"x_forwarded_client_cert"',
];
/** Keys that say the line is some other format's JSON. */
const FOREIGN_MARKERS = ['"@timestamp"', '"event_type"', '"ssl_client_', '"remote_addr"', '"time_local"', '"id.orig_h"'];

function detectEnvoy(sample: DetectSample): number {
  let best = 0;
  for (const l of sample.firstLines) {
    if (l.charCodeAt(0) !== 123) continue;
    if (FOREIGN_MARKERS.some((m) => l.includes(m))) continue;
    const markers = ENVOY_MARKERS.filter((m) => l.includes(m)).length;
    if (markers === 0) continue;
    const hasTime = l.includes('"start_time"');
    const hasCode = l.includes('"response_code"');
    const score = hasTime ? (markers >= 2 || hasCode ? 0.9 : 0.7) : markers >= 2 && hasCode ? 0.5 : 0;
    if (score > best) best = score;
  }
  return best;
}

/** An Envoy source with explicit options (e.g. more trusted XFCC hops). */
export function createEnvoySource(options: EnvoySourceOptions = {}): LineSource {
  return {
    kind: 'lines',
    id: 'envoy',
    description: 'Envoy / Istio JSON access log (json_format): downstream peer certificate fields, or the trusted XFCC element',
    detect: detectEnvoy,
    open: (ctx) => new EnvoyParser(ctx, options.xfccTrustedHops ?? ctx.options?.xfccTrustedHops ?? 1),
  };
}

/** Envoy JSON access logs, trusting only the last XFCC element. */
export const envoySource: LineSource = createEnvoySource();
