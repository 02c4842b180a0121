// Suricata EVE JSON: `event_type: tls` records become Observations (server certificate from the
// top-level tls fields, client certificate from `tls.client`). Other event types (flow, dns,
// alert, …) are counted as ignored: an eve.json is mostly those, so they are recognised from the
// raw text without a JSON.parse whenever possible.

import type { Observation, RawCertificate } from '../../schema/event.ts';
import {
  canonicalTlsVersion,
  certDateToIso,
  classifySans,
  parseIsoTime,
  parseJsonObjectLine,
  passiveVisibility,
} from '../common.ts';
import type { DetectSample, FileContext, LineParser, LineSource } from '../types.ts';

type Obj = Record<string, unknown>;

function asObj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** flow_id is a 64-bit integer: JSON.parse rounds it past 2^53, so take its digits from the text. */
function flowIdFromText(text: string): string | null {
  const key = text.indexOf('"flow_id"');
  if (key < 0) return null;
  let i = text.indexOf(':', key + 9) + 1;
  if (i <= 0) return null;
  while (text.charCodeAt(i) === 32) i++;
  const start = i;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  return i > start ? text.slice(start, i) : null;
}

class SuricataParser implements LineParser {
  private readonly ctx: FileContext;
  private lineNo = 0;
  records = 0;
  ignored = 0;
  private readonly ignoredTypes = new Map<string, number>();
  private firstIgnoredLine = 0;

  constructor(ctx: FileContext) {
    this.ctx = ctx;
  }

  counts(): { records: number; ignored: number } {
    return { records: this.records, ignored: this.ignored };
  }

  private wrong(field: string, value: unknown, expected: string): void {
    this.ctx.diagnostics.warn({
      reason: 'wrong-type',
      file: this.ctx.file,
      line: this.lineNo,
      field,
      message: `expected ${expected}, got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value}; field ignored`,
    });
  }

  private s(v: unknown, field: string): string | null {
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return v.length > 0 ? v : null;
    this.wrong(field, v, 'a string');
    return null;
  }

  private port(v: unknown, field: string): number | null {
    if (v === undefined || v === null) return null;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535) return v;
    this.wrong(field, v, 'a port number');
    return null;
  }

  private strings(v: unknown, field: string): string[] {
    if (v === undefined || v === null) return [];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    this.wrong(field, v, 'a string array');
    return [];
  }

  private ignore(type: string, lineNumber: number): null {
    this.ignored++;
    if (this.firstIgnoredLine === 0) this.firstIgnoredLine = lineNumber;
    this.ignoredTypes.set(type, (this.ignoredTypes.get(type) ?? 0) + 1);
    return null;
  }

  /** Certificate fields as Suricata logs them (same keys at `tls` and `tls.client`). */
  private cert(o: Obj, prefix: string): { leaf: RawCertificate; chain: RawCertificate[] } | null {
    const subject = this.s(o.subject, `${prefix}.subject`);
    const issuer = this.s(o.issuerdn, `${prefix}.issuerdn`);
    const serial = this.s(o.serial, `${prefix}.serial`);
    const fingerprint = this.s(o.fingerprint, `${prefix}.fingerprint`);
    const notBefore = this.s(o.notbefore, `${prefix}.notbefore`);
    const notAfter = this.s(o.notafter, `${prefix}.notafter`);
    const der = this.s(o.certificate, `${prefix}.certificate`);
    const chainTexts = this.strings(o.chain, `${prefix}.chain`);
    const sans = this.strings(o.subjectaltname, `${prefix}.subjectaltname`);
    if (!subject && !issuer && !serial && !fingerprint && !der && chainTexts.length === 0) return null;
    const leaf: RawCertificate = {};
    if (subject) leaf.subject = subject;
    if (issuer) leaf.issuer = issuer;
    // Suricata prints DNs in wire order, most general RDN first (`C=US, O=…, CN=…`).
    if (subject || issuer) leaf.dn_syntax = 'wire-order';
    if (serial) {
      leaf.serial = serial;
      leaf.serial_format = 'hex';
    }
    // Suricata's fingerprint is the colon-separated SHA-1 of the DER.
    if (fingerprint) leaf.sha1 = fingerprint;
    // Dates are naive UTC (`2018-04-14T20:55:27`).
    if (notBefore) leaf.not_before = certDateToIso(notBefore);
    if (notAfter) leaf.not_after = certDateToIso(notAfter);
    if (sans.length > 0) {
      const c = classifySans(sans);
      leaf.san_dns = c.dns;
      leaf.san_email = c.email;
      leaf.san_uri = c.uri;
      leaf.san_ip = c.ip;
    }
    let chain = chainTexts;
    // `chain` holds every certificate of the Certificate message, leaf first.
    if (der) {
      leaf.pem = der;
      if (chain.length > 0 && chain[0] === der) chain = chain.slice(1);
    } else if (chain.length > 0) {
      leaf.pem = chain[0];
      chain = chain.slice(1);
    }
    return { leaf, chain: chain.map((c) => ({ pem: c })) };
  }

  line(text: string, lineNumber: number): Observation | null {
    if (text.length === 0) return null;
    this.lineNo = lineNumber;
    // Cheap pre-filter: an event whose text never says "tls" cannot be a tls event.
    if (text.indexOf('"tls"') < 0) {
      if (text.trim().length === 0) return null;
      this.records++;
      return this.ignore('other', lineNumber);
    }
    this.records++;
    const o = parseJsonObjectLine(text, lineNumber, this.ctx);
    if (!o) return null;
    const type = o.event_type;
    if (type !== 'tls') return this.ignore(typeof type === 'string' ? type : 'missing', lineNumber);
    const tls = asObj(o.tls) ?? {};
    const rawTs = o.timestamp;
    const ts = typeof rawTs === 'string' ? parseIsoTime(rawTs) : null;
    if (ts === null) {
      this.ctx.diagnostics.skip({
        reason: rawTs === undefined ? 'missing-timestamp' : 'bad-timestamp',
        file: this.ctx.file,
        line: lineNumber,
        field: 'timestamp',
        message:
          rawTs === undefined ? 'tls event has no timestamp; skipped' : `unusable timestamp ${JSON.stringify(rawTs)}; skipped`,
      });
      return null;
    }
    const rawVersion = this.s(tls.version, 'tls.version');
    const version = rawVersion && rawVersion !== 'UNDETERMINED' ? canonicalTlsVersion(rawVersion) : null;
    const sni = this.s(tls.sni, 'tls.sni');
    const ja3 = asObj(tls.ja3);
    const ja3s = asObj(tls.ja3s);
    const obs: Observation = {
      ts,
      format: 'suricata-eve',
      file: this.ctx.file,
      line: lineNumber,
      record_id: flowIdFromText(text) ?? (typeof o.flow_id === 'number' ? String(o.flow_id) : null),
      // A tls record is written once the handshake was parsed; EVE has no failure flag.
      outcome: 'unknown',
      source_ip: this.s(o.src_ip, 'src_ip'),
      source_port: this.port(o.src_port, 'src_port'),
      destination_ip: this.s(o.dest_ip, 'dest_ip'),
      destination_port: this.port(o.dest_port, 'dest_port'),
      service: sni,
      sni,
      tls_version: version,
      ja3: ja3 ? this.s(ja3.hash, 'tls.ja3.hash') : null,
      ja3s: ja3s ? this.s(ja3s.hash, 'tls.ja3s.hash') : null,
      ja4: this.s(tls.ja4, 'tls.ja4'),
    };
    const server = this.cert(tls, 'tls');
    if (server) obs.server_certificate = server.leaf;
    const clientObj = asObj(tls.client);
    const client = clientObj ? this.cert(clientObj, 'tls.client') : null;
    if (client) {
      obs.client_certificate = client.leaf;
      obs.client_chain = client.chain;
    }
    // A resumed session shows no certificates; otherwise the client's is visible when the server's was.
    const handshakeSeen = server !== null && tls.session_resumed !== true;
    obs.client_certificate_visibility = passiveVisibility(client !== null, version, handshakeSeen);
    return obs;
  }

  end(): void {
    if (this.ignored === 0) return;
    const byType = [...this.ignoredTypes].map(([t, n]) => `${t}: ${n}`).join(', ');
    this.ctx.diagnostics.warn({
      reason: 'ignored-event-type',
      file: this.ctx.file,
      line: this.firstIgnoredLine,
      message: `${this.ignored} EVE record(s) that are not event_type tls were ignored (${byType})`,
    });
  }
}

function detectSuricata(sample: DetectSample): number {
  let best = 0;
  for (const l of sample.firstLines) {
    if (l.charCodeAt(0) !== 123) continue;
    if (l.includes('"event_type"') && l.includes('"timestamp"')) {
      best = Math.max(best, l.includes('"flow_id"') || l.includes('"src_ip"') ? 0.95 : 0.85);
    }
  }
  return best;
}

/** Suricata EVE JSON (`eve.json`), `event_type: tls`. */
export const suricataSource: LineSource = {
  kind: 'lines',
  id: 'suricata-eve',
  description: 'Suricata EVE JSON (eve.json): tls events, server and client certificates',
  detect: detectSuricata,
  open: (ctx) => new SuricataParser(ctx),
};
