// Writes gateway events as ECS NDJSON, the way an nginx/Envoy mTLS gateway shipped by Filebeat
// lays them out (nested objects, ECS x509 conventions: uppercase hex serial and hash, arrays for
// common names and SANs). Built by string concatenation with per-certificate and per-client
// fragments cached, because the benchmark writes millions of lines.
import type { City, TlsClientClass } from './catalog.ts';
import type { FleetCertificate } from './pki.ts';

/** One handshake + request as the gateway saw it, before formatting. */
export interface GatewayEvent {
  /** Epoch milliseconds. */
  ts: number;
  outcome: 'success' | 'failure';
  user: string | null;
  device: string | null;
  sourceIp: string;
  /** GeoIP result for the source address; null for private addresses. */
  geo: City | null;
  service: string;
  domain: string;
  tls: TlsClientClass;
  /** Certificate id (a CertPlan id), or null when no client certificate was presented. */
  certId: string | null;
  /** Bytes the client sent (request bodies, uploads): ECS `source.bytes`. Omitted when undefined. */
  bytesOut?: number;
  /** Bytes the server sent back (responses, downloads): ECS `destination.bytes`. Omitted when undefined. */
  bytesIn?: number;
  /** Scenario tag for SCENARIOS.md and tests; never written to the event. */
  scenario?: string;
}

export interface EcsFormatOptions {
  /** Include `tls.client.certificate` (the PEM). Default true. */
  includePem?: boolean;
  /** `event.dataset` value. Default `gateway.mtls`. */
  dataset?: string;
}

const q = JSON.stringify;

/** Formats GatewayEvents to ECS JSON lines (no trailing newline). */
export class EcsFormatter {
  private readonly certs: ReadonlyMap<string, FleetCertificate>;
  private readonly includePem: boolean;
  private readonly head: string;
  private readonly certFragments = new Map<string, string>();
  private readonly clientFragments = new Map<string, string>();
  private readonly geoFragments = new Map<City, string>();
  private readonly tailBuffers = new Map<string, Buffer>();
  private readonly quoted = new Map<string, string>();

  constructor(certs: ReadonlyMap<string, FleetCertificate>, options: EcsFormatOptions = {}) {
    this.certs = certs;
    this.includePem = options.includePem ?? true;
    this.head = `"ecs":{"version":"8.11.0"},"event":{"kind":"event","category":["network","authentication"],"dataset":${q(options.dataset ?? 'gateway.mtls')},"outcome":`;
  }

  /** The `"x509":…,"hash":…,"certificate":…` part of `tls.client` for one certificate (cached). */
  private certFragment(certId: string): string {
    let fragment = this.certFragments.get(certId);
    if (fragment !== undefined) return fragment;
    const cert = this.certs.get(certId);
    if (!cert) throw new Error(`unknown certificate id ${certId}`);
    const x509 =
      `"x509":{"subject":{"distinguished_name":${q(cert.subject)},"common_name":${q(cert.subjectCn ? [cert.subjectCn] : [])}},` +
      `"issuer":{"distinguished_name":${q(cert.issuer)},"common_name":${q(cert.issuerCn ? [cert.issuerCn] : [])}},` +
      `"serial_number":${q(cert.serial.toUpperCase())},"not_before":${q(cert.notBefore)},"not_after":${q(cert.notAfter)},` +
      `"alternative_names":${q(cert.altNames)}}`;
    fragment = `"hash":{"sha256":${q(cert.sha256.toUpperCase())}},${x509}`;
    if (this.includePem) fragment += `,"certificate":${q(cert.pem)}`;
    this.certFragments.set(certId, fragment);
    return fragment;
  }

  private clientFragment(tls: TlsClientClass): string {
    let fragment = this.clientFragments.get(tls.id);
    if (fragment === undefined) {
      fragment = `"tls":{"version":${q(tls.version)},"version_protocol":"tls","cipher":${q(tls.cipher)},"client":{"ja3":${q(tls.ja3)},"ja4":${q(tls.ja4)}`;
      this.clientFragments.set(tls.id, fragment);
    }
    return fragment;
  }

  private geoFragment(city: City): string {
    let fragment = this.geoFragments.get(city);
    if (fragment === undefined) {
      fragment = `,"geo":{"country_iso_code":${q(city.country)},"city_name":${q(city.city)},"location":{"lat":${city.lat},"lon":${city.lon}}}`;
      this.geoFragments.set(city, fragment);
    }
    return fragment;
  }

  /** JSON string literal of a value, cached: names, ids and addresses repeat across millions of events. */
  private quote(value: string): string {
    let quoted = this.quoted.get(value);
    if (quoted === undefined) {
      quoted = q(value);
      if (this.quoted.size < 1_000_000) this.quoted.set(value, quoted);
    }
    return quoted;
  }

  /** Everything up to and including `tls.client.ja4` (the per-event part of the line). */
  private prefix(e: GatewayEvent): string {
    let line = `{"@timestamp":"${new Date(e.ts).toISOString()}",${this.head}"${e.outcome}"}`;
    if (e.user !== null) line += `,"user":{"name":${this.quote(e.user)}}`;
    if (e.device !== null) line += `,"device":{"id":${this.quote(e.device)}}`;
    const bytesOut = e.bytesOut === undefined ? '' : `,"bytes":${e.bytesOut}`;
    line += `,"source":{"ip":"${e.sourceIp}"${e.geo ? this.geoFragment(e.geo) : ''}${bytesOut}}`;
    // ECS: destination.bytes = bytes sent from the destination back to the source; network.bytes = both ways.
    if (e.bytesIn !== undefined) {
      line += `,"destination":{"bytes":${e.bytesIn}}`;
      line += `,"network":{"bytes":${e.bytesIn + (e.bytesOut ?? 0)}}`;
    }
    line += `,"service":{"name":${this.quote(e.service)}},"url":{"domain":${this.quote(e.domain)}},`;
    return line + this.clientFragment(e.tls);
  }

  /** One ECS JSON object as a string. */
  format(e: GatewayEvent): string {
    const head = this.prefix(e);
    return e.certId === null ? `${head}}}}` : `${head},${this.certFragment(e.certId)}}}}`;
  }

  /**
   * Writes one event as a line (with `\n`) into `buffer` at `offset`; returns the new offset, or -1
   * when it does not fit (flush and retry). The certificate part is copied from a cached UTF-8
   * buffer, which is what makes the benchmark generator fast.
   */
  formatInto(e: GatewayEvent, buffer: Buffer, offset: number): number {
    const head = this.prefix(e);
    let tail: Buffer | undefined = this.tailBuffers.get(e.certId ?? '');
    if (tail === undefined) {
      tail = Buffer.from(e.certId === null ? '}}}\n' : `,${this.certFragment(e.certId)}}}}\n`);
      this.tailBuffers.set(e.certId ?? '', tail);
    }
    // Worst case 3 bytes per UTF-16 unit for the head.
    if (offset + head.length * 3 + tail.length > buffer.length) return -1;
    const written = buffer.write(head, offset);
    tail.copy(buffer, offset + written);
    return offset + written + tail.length;
  }
}
