// Elastic Common Schema NDJSON (Filebeat/Elastic Agent output, Elasticsearch `_source` exports,
// any shipper writing ECS field names), nested objects or dotted keys. This parser is on the hot
// path of the 1M-event benchmark: JSON.parse per line, then plain property reads — no regexes,
// no per-field allocation beyond the Observation itself.

import type { Geo, Observation, RawCertificate } from '../../schema/event.ts';
import { canonicalTlsVersion, certDateToIso, classifySans, parseIsoTime } from '../common.ts';
import type { DetectSample, FileContext, LineParser, LineSource } from '../types.ts';

type Obj = Record<string, unknown>;

function asObj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** Sets `o[a][b]…= value` for a dotted key, creating objects; an existing non-object value wins. */
function setPath(o: Obj, key: string, value: unknown): void {
  let cur = o;
  let start = 0;
  for (;;) {
    const dot = key.indexOf('.', start);
    if (dot < 0) break;
    const seg = key.slice(start, dot);
    let next = cur[seg];
    if (next === undefined) {
      next = {};
      cur[seg] = next;
    } else if (asObj(next) === undefined) return;
    cur = next as Obj;
    start = dot + 1;
  }
  const last = key.slice(start);
  const existing = asObj(cur[last]);
  const incoming = asObj(value);
  if (existing && incoming) {
    for (const k in incoming) setPath(existing, k, incoming[k]);
  } else if (cur[last] === undefined) cur[last] = value;
}

/** Top-level objects this parser reads; other namespaces (agent, ecs, kubernetes, …) are not walked. */
const READ_NAMESPACES = new Set([
  'event',
  'user',
  'device',
  'host',
  'source',
  'destination',
  'service',
  'url',
  'tls',
  'http',
  'network',
]);

/**
 * Turns dotted keys (`"tls.client.ja3": …`, at any level) into nested objects, in place. Returns
 * quickly, without allocating, when there are none (the Filebeat case). At the top level only
 * the namespaces the parser reads are walked (`all` = walk everything).
 */
export function expandDottedKeys(o: Obj, all = false): Obj {
  let dotted: string[] | null = null;
  for (const k in o) {
    const v = o[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && (all || READ_NAMESPACES.has(k)))
      expandDottedKeys(v as Obj, true);
    if (k.indexOf('.') > 0) {
      dotted ??= [];
      dotted.push(k);
    }
  }
  if (dotted === null) return o;
  for (const k of dotted) {
    const v = o[k];
    delete o[k];
    setPath(o, k, v);
  }
  return o;
}

/** A logged date kept raw for a later, lazy canonicalisation (numbers in ECS are epoch ms → seconds). */
function rawDate(v: unknown): string | number | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return v / 1000;
  return null;
}

/** Reads a geo point in any of the forms Elasticsearch accepts: {lat,lon}, [lon,lat], "lat,lon", "POINT (lon lat)". */
function geoPoint(v: unknown): { lat: number; lon: number } | null {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) {
    if (v.length >= 2 && typeof v[0] === 'number' && typeof v[1] === 'number') return { lon: v[0], lat: v[1] };
    return null;
  }
  const o = asObj(v);
  if (o) {
    const lat = typeof o.lat === 'string' ? Number(o.lat) : o.lat;
    const lon = typeof o.lon === 'string' ? Number(o.lon) : o.lon;
    if (typeof lat === 'number' && typeof lon === 'number' && Number.isFinite(lat) && Number.isFinite(lon)) return { lat, lon };
    return null;
  }
  if (typeof v === 'string') {
    if (v.startsWith('POINT')) {
      const open = v.indexOf('(');
      const close = v.indexOf(')');
      if (open < 0 || close < open) return null;
      const [lon, lat] = v
        .slice(open + 1, close)
        .trim()
        .split(/\s+/)
        .map(Number);
      return Number.isFinite(lat) && Number.isFinite(lon) ? { lat, lon } : null;
    }
    const comma = v.indexOf(',');
    if (comma < 0) return null;
    const lat = Number(v.slice(0, comma));
    const lon = Number(v.slice(comma + 1));
    return Number.isFinite(lat) && Number.isFinite(lon) && v.slice(0, comma).trim() !== '' ? { lat, lon } : null;
  }
  return null;
}

/** Parses ECS NDJSON records into Observations. */
class EcsParser implements LineParser {
  private readonly ctx: FileContext;
  private line0 = 0;
  records = 0;
  /** Windows event records (Winlogbeat `winlog.*`, no `tls`) passed over, and the first one's line. */
  private windowsIgnored = 0;
  private firstWindowsLine = 0;

  constructor(ctx: FileContext) {
    this.ctx = ctx;
  }

  counts(): { records: number; ignored: number } {
    return { records: this.records, ignored: this.windowsIgnored };
  }

  end(): void {
    if (this.windowsIgnored === 0) return;
    this.ctx.diagnostics.warn({
      reason: 'ignored-event-type',
      file: this.ctx.file,
      line: this.firstWindowsLine,
      message: `${this.windowsIgnored} Windows events ignored (use --format adcs)`,
    });
  }

  private wrong(field: string, value: unknown, expected: string): void {
    const shown =
      typeof value === 'string'
        ? JSON.stringify(value.slice(0, 40))
        : Array.isArray(value)
          ? 'an array'
          : typeof value === 'object'
            ? 'an object'
            : String(value);
    this.ctx.diagnostics.warn({
      reason: 'wrong-type',
      file: this.ctx.file,
      line: this.line0,
      field,
      message: `expected ${expected}, got ${shown}; field ignored`,
    });
  }

  /** A keyword field: a string (or the first string of an array); numbers are rejected with a warning. */
  private s(v: unknown, field: string): string | null {
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return v.length > 0 ? v : null;
    if (Array.isArray(v) && (v.length === 0 || typeof v[0] === 'string')) return (v[0] as string | undefined) ?? null;
    this.wrong(field, v, 'a string');
    return null;
  }

  /** An identifier that some shippers write as a number (event.id): numbers are accepted. */
  private id(v: unknown, field: string): string | null {
    if (typeof v === 'number') return String(v);
    return this.s(v, field);
  }

  private n(v: unknown, field: string, integer: boolean, max = Number.MAX_SAFE_INTEGER): number | null {
    if (v === undefined || v === null) return null;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.length > 0 ? Number(v) : Number.NaN;
    if (Number.isFinite(n) && n >= 0 && n <= max && (!integer || Number.isInteger(n))) return n;
    this.wrong(field, v, integer ? 'an integer' : 'a number');
    return null;
  }

  private strings(v: unknown, field: string): string[] {
    if (v === undefined || v === null) return [];
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    this.wrong(field, v, 'a string array');
    return [];
  }

  private date(v: unknown, field: string): string | null {
    if (v === undefined || v === null) return null;
    if (typeof v === 'string' || typeof v === 'number') {
      // ECS dates are ISO strings; a number here is epoch milliseconds (Elasticsearch's default).
      const iso = typeof v === 'number' ? certDateToIso(v / 1000) : certDateToIso(v);
      if (iso !== null) return iso;
    }
    this.wrong(field, v, 'a date');
    return null;
  }

  private certificate(side: Obj, prefix: string): { leaf: RawCertificate | null; chain: RawCertificate[] } | null {
    const pem = this.s(side.certificate, `${prefix}.certificate`);
    const chainTexts = this.strings(side.certificate_chain, `${prefix}.certificate_chain`);
    const hash = asObj(side.hash);
    const x509 = asObj(side.x509);
    if (!pem && chainTexts.length === 0 && !hash && !x509) return null;
    const leaf: RawCertificate = {};
    let chain = chainTexts;
    if (pem) {
      leaf.pem = pem;
      // ECS: the chain, when both are given, starts with the leaf itself.
      if (chain.length > 0 && chain[0].trim() === pem.trim()) chain = chain.slice(1);
    } else if (chain.length > 0) {
      leaf.pem = chain[0];
      chain = chain.slice(1);
    }
    if (hash) {
      leaf.sha256 = this.s(hash.sha256, `${prefix}.hash.sha256`);
      leaf.sha1 = this.s(hash.sha1, `${prefix}.hash.sha1`);
    }
    if (x509) {
      const subject = asObj(x509.subject);
      const issuer = asObj(x509.issuer);
      if (subject) {
        leaf.subject = this.s(subject.distinguished_name, `${prefix}.x509.subject.distinguished_name`);
        if (!leaf.subject) {
          const cn = this.s(subject.common_name, `${prefix}.x509.subject.common_name`);
          if (cn) leaf.subject = `CN=${cn}`;
        }
      }
      if (issuer) {
        leaf.issuer = this.s(issuer.distinguished_name, `${prefix}.x509.issuer.distinguished_name`);
        if (!leaf.issuer) {
          const cn = this.s(issuer.common_name, `${prefix}.x509.issuer.common_name`);
          if (cn) leaf.issuer = `CN=${cn}`;
        }
      }
      const serial = this.s(x509.serial_number, `${prefix}.x509.serial_number`);
      if (serial) {
        leaf.serial = serial;
        leaf.serial_format = 'hex';
      }
      if (leaf.pem) {
        // The certificate itself is the source of truth: logged validity is only a fallback for a
        // PEM that does not parse, canonicalised then (raw-cert.ts), not on every event.
        leaf.not_before = rawDate(x509.not_before);
        leaf.not_after = rawDate(x509.not_after);
        return { leaf, chain: chain.map((c) => ({ pem: c })) };
      }
      if (x509.not_before !== undefined) leaf.not_before = this.date(x509.not_before, `${prefix}.x509.not_before`);
      if (x509.not_after !== undefined) leaf.not_after = this.date(x509.not_after, `${prefix}.x509.not_after`);
      if (x509.alternative_names !== undefined) {
        const sans = classifySans(this.strings(x509.alternative_names, `${prefix}.x509.alternative_names`));
        leaf.san_dns = sans.dns;
        leaf.san_email = sans.email;
        leaf.san_uri = sans.uri;
        leaf.san_ip = sans.ip;
      }
      const alg = this.s(x509.public_key_algorithm, `${prefix}.x509.public_key_algorithm`);
      if (alg) {
        const a = alg.toLowerCase();
        leaf.key_algorithm = a === 'ecdsa' || a === 'ecc' ? 'ec' : a;
      }
      if (x509.public_key_size !== undefined)
        leaf.key_size = this.n(x509.public_key_size, `${prefix}.x509.public_key_size`, true);
      if (x509.public_key_curve !== undefined) leaf.key_curve = this.s(x509.public_key_curve, `${prefix}.x509.public_key_curve`);
    }
    return { leaf, chain: chain.map((c) => ({ pem: c })) };
  }

  /**
   * Bytes of the exchange, both directions (the volume-spike rule's input): `source.bytes` +
   * `destination.bytes` when both are logged, else ECS's own total `network.bytes`, else the HTTP
   * request + response bodies (either alone when only one is logged), else the one direction
   * logged; null when the record carries none. Wrong-typed fields warn and count as absent.
   */
  private bytes(source: Obj | undefined, destination: Obj | undefined, o: Obj): number | null {
    const src = source && source.bytes !== undefined ? this.n(source.bytes, 'source.bytes', true) : null;
    const dst = destination && destination.bytes !== undefined ? this.n(destination.bytes, 'destination.bytes', true) : null;
    if (src !== null && dst !== null) return src + dst;
    const network = asObj(o.network);
    const total = network && network.bytes !== undefined ? this.n(network.bytes, 'network.bytes', true) : null;
    if (total !== null) return total;
    const http = asObj(o.http);
    if (http) {
      const request = asObj(http.request);
      const response = asObj(http.response);
      const req = request && request.bytes !== undefined ? this.n(request.bytes, 'http.request.bytes', true) : null;
      const res = response && response.bytes !== undefined ? this.n(response.bytes, 'http.response.bytes', true) : null;
      if (req !== null || res !== null) return (req ?? 0) + (res ?? 0);
    }
    return src ?? dst;
  }

  line(text: string, lineNumber: number): Observation | null {
    if (text.length === 0) return null;
    this.line0 = lineNumber;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      if (text.trim().length === 0) return null;
      this.records++;
      this.ctx.diagnostics.skip({
        reason: 'invalid-json',
        file: this.ctx.file,
        line: lineNumber,
        message: 'line is not valid JSON; skipped',
      });
      return null;
    }
    this.records++;
    const o = asObj(parsed);
    if (!o) {
      this.ctx.diagnostics.skip({
        reason: 'invalid-json',
        file: this.ctx.file,
        line: lineNumber,
        message: 'line is not a JSON object; skipped',
      });
      return null;
    }
    expandDottedKeys(o);
    // A Windows event (Winlogbeat / Elastic Agent) is no TLS authentication: its host and user
    // would make a login out of a process start or a CA request. The adcs source reads the
    // AD CS ones.
    if (o.winlog !== undefined && o.tls === undefined && asObj(o.winlog) !== undefined) {
      if (this.windowsIgnored++ === 0) this.firstWindowsLine = lineNumber;
      return null;
    }

    const rawTs = o['@timestamp'];
    const ts =
      typeof rawTs === 'string' ? parseIsoTime(rawTs) : typeof rawTs === 'number' && Number.isFinite(rawTs) ? rawTs : null;
    if (ts === null) {
      this.ctx.diagnostics.skip({
        reason: rawTs === undefined ? 'missing-timestamp' : 'bad-timestamp',
        file: this.ctx.file,
        line: lineNumber,
        field: '@timestamp',
        message:
          rawTs === undefined ? 'record has no @timestamp; skipped' : `unusable @timestamp ${JSON.stringify(rawTs)}; skipped`,
      });
      return null;
    }

    const obs: Observation = { ts, format: 'ecs', file: this.ctx.file, line: lineNumber };
    const event = asObj(o.event);
    if (event) {
      obs.record_id = this.id(event.id, 'event.id');
      const outcome = this.s(event.outcome, 'event.outcome');
      if (outcome === 'success' || outcome === 'failure' || outcome === 'unknown') obs.outcome = outcome;
      else if (outcome !== null) this.wrong('event.outcome', outcome, 'success, failure or unknown');
    }
    const user = asObj(o.user);
    if (user) {
      obs.user = this.s(user.name, 'user.name') ?? this.s(user.id, 'user.id') ?? this.s(user.email, 'user.email');
    }
    const device = asObj(o.device);
    const host = asObj(o.host);
    obs.device =
      (device && this.s(device.id, 'device.id')) ||
      (host && (this.s(host.id, 'host.id') ?? this.s(host.name, 'host.name'))) ||
      null;

    const source = asObj(o.source);
    if (source) {
      obs.source_ip = this.s(source.ip, 'source.ip');
      obs.source_port = this.n(source.port, 'source.port', true, 65535);
      const geo = asObj(source.geo);
      if (geo) {
        const point = geoPoint(geo.location);
        if (geo.location !== undefined && point === null) this.wrong('source.geo.location', geo.location, 'a geo point');
        const g: Geo = {
          country_iso_code: this.s(geo.country_iso_code, 'source.geo.country_iso_code'),
          country_name: this.s(geo.country_name, 'source.geo.country_name'),
          city_name: this.s(geo.city_name, 'source.geo.city_name'),
          lat: point ? point.lat : null,
          lon: point ? point.lon : null,
        };
        obs.geo = g;
      }
    }
    const destination = asObj(o.destination);
    let destDomain: string | null = null;
    if (destination) {
      obs.destination_ip = this.s(destination.ip, 'destination.ip');
      obs.destination_port = this.n(destination.port, 'destination.port', true, 65535);
      destDomain = this.s(destination.domain, 'destination.domain');
    }
    const bytes = this.bytes(source, destination, o);
    if (bytes !== null) obs.bytes = bytes;

    const tls = asObj(o.tls);
    let sni: string | null = null;
    if (tls) {
      const version = this.s(tls.version, 'tls.version');
      if (version) obs.tls_version = canonicalTlsVersion(version, this.s(tls.version_protocol, 'tls.version_protocol') ?? 'tls');
      obs.tls_cipher = this.s(tls.cipher, 'tls.cipher');
      if (obs.outcome === undefined && typeof tls.established === 'boolean')
        obs.outcome = tls.established ? 'success' : 'failure';
      const client = asObj(tls.client);
      if (client) {
        obs.ja3 = this.s(client.ja3, 'tls.client.ja3');
        obs.ja4 = this.s(client.ja4, 'tls.client.ja4');
        sni = this.s(client.server_name, 'tls.client.server_name');
        obs.sni = sni;
        const cert = this.certificate(client, 'tls.client');
        if (cert) {
          obs.client_certificate = cert.leaf;
          obs.client_chain = cert.chain;
          obs.client_certificate_visibility = 'present';
        }
      }
      const server = asObj(tls.server);
      if (server) {
        obs.ja3s = this.s(server.ja3s, 'tls.server.ja3s');
        const cert = this.certificate(server, 'tls.server');
        if (cert) obs.server_certificate = cert.leaf;
      }
    }

    const service = asObj(o.service);
    let name = service ? this.s(service.name, 'service.name') : null;
    if (!name) name = destDomain;
    if (!name) {
      const url = asObj(o.url);
      if (url) name = this.s(url.domain, 'url.domain') ?? hostOfUrl(this.s(url.full, 'url.full'));
    }
    obs.service = name ?? sni;
    return obs;
  }
}

/** Host part of an absolute URL, without a URL object (hot path). */
function hostOfUrl(full: string | null): string | null {
  if (!full) return null;
  const scheme = full.indexOf('://');
  if (scheme < 0) return null;
  let start = scheme + 3;
  const at = full.indexOf('@', start);
  let end = full.length;
  for (const ch of ['/', '?', '#']) {
    const i = full.indexOf(ch, start);
    if (i >= 0 && i < end) end = i;
  }
  if (at >= 0 && at < end) start = at + 1;
  let host = full.slice(start, end);
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close > 0 ? host.slice(1, close) : null;
  }
  const colon = host.lastIndexOf(':');
  if (colon >= 0) host = host.slice(0, colon);
  return host.length > 0 ? host.toLowerCase() : null;
}

const ECS_HINTS = ['"tls"', '"tls.', '"source"', '"source.', '"user"', '"user.', '"event"', '"event.', '"destination', '"url'];

function detectEcs(sample: DetectSample): number {
  let best = 0;
  for (const l of sample.firstLines) {
    if (l.charCodeAt(0) !== 123) continue;
    if (!l.includes('"@timestamp"')) continue;
    let score = 0.5;
    if (l.includes('"ecs.version"') || l.includes('"ecs":')) score = 0.95;
    else if (ECS_HINTS.some((h) => l.includes(h))) score = 0.8;
    // Suricata EVE and Zeek JSON keep their own keys even when a shipper adds @timestamp.
    if (l.includes('"event_type"') || l.includes('"id.orig_h"')) score = Math.min(score, 0.4);
    if (score > best) best = score;
  }
  return best;
}

/** ECS NDJSON (Elastic/Filebeat), nested or dotted keys. */
export const ecsSource: LineSource = {
  kind: 'lines',
  id: 'ecs',
  description: 'Elastic Common Schema NDJSON (Filebeat/Elastic Agent output; nested or dotted keys)',
  detect: detectEcs,
  open: (ctx) => new EcsParser(ctx),
};
