// The JSON record `certsignal pcap --output json` writes per TLS session: addresses, versions,
// fingerprints and certificate summaries, with `null` + a reason where the capture cannot show a
// field. Kept apart from the CLI so the record shape is one documented function.
import { createHash } from 'node:crypto';
import { type CertificateCache, CertificateParseError } from '../../normalize/certificate.ts';
import type { PcapSession } from './sessions.ts';

/** What `certsignal pcap` prints about one certificate. */
export interface CertificateSummary {
  sha256: string;
  sha1: string;
  spki_sha256: string | null;
  subject: string | null;
  issuer: string | null;
  /** Canonical: lowercase hex, no colons, no leading zeros. */
  serial: string | null;
  not_before: string | null;
  not_after: string | null;
  /** Only when the DER could not be parsed: the reason code. */
  parse_error?: string;
}

/** One session as `certsignal pcap --output json` writes it. */
export interface PcapRecord {
  src_ip: string;
  src_port: number;
  dst_ip: string;
  dst_port: number;
  transport: 'tcp' | 'udp' | 'quic';
  version: string | null;
  sni: string | null;
  alpn: string | null;
  cipher: string | null;
  ja4: string | null;
  ja4_r: string | null;
  ja4_o: string | null;
  ja4_ro: string | null;
  ja3: string | null;
  ja3_string: string | null;
  ja3s: string | null;
  ja3s_string: string | null;
  ja4s?: string | null;
  ja4x?: string[] | null;
  server_certificates: CertificateSummary[] | null;
  server_certificates_reason: string | null;
  client_certificates: CertificateSummary[] | null;
  client_certificates_reason: string | null;
  /** Extras: where the session is in the capture and how it ended. */
  stream_id: number;
  time: string;
  outcome: 'success' | 'failure' | 'unknown';
}

const summaries = new WeakMap<object, CertificateSummary>();

/** Certificate summary through the shared cache (each distinct certificate is parsed once). */
export function summarizeCertificate(der: Uint8Array, cache: CertificateCache): CertificateSummary {
  const parsed = cache.get(der);
  if (parsed instanceof CertificateParseError) {
    return {
      sha256: createHash('sha256').update(der).digest('hex'),
      sha1: createHash('sha1').update(der).digest('hex'),
      spki_sha256: null,
      subject: null,
      issuer: null,
      serial: null,
      not_before: null,
      not_after: null,
      parse_error: parsed.reason,
    };
  }
  let s = summaries.get(parsed);
  if (s === undefined) {
    const i = parsed.info;
    s = {
      sha256: i.sha256 as string,
      sha1: i.sha1 as string,
      spki_sha256: i.spki_sha256,
      subject: i.subject,
      issuer: i.issuer,
      serial: i.serial,
      not_before: i.not_before,
      not_after: i.not_after,
    };
    summaries.set(parsed, s);
  }
  return s;
}

/** The JSON record of one session; `ja4plus` adds `ja4s` and `ja4x` (FoxIO License 1.1). */
export function pcapRecord(s: PcapSession, cache: CertificateCache, ja4plus: boolean): PcapRecord {
  const r = s.result;
  const first = r.client_hellos[0] ?? null;
  const certs = (list: Uint8Array[] | null) => (list === null ? null : list.map((der) => summarizeCertificate(der, cache)));
  const record: PcapRecord = {
    src_ip: s.flow.src_ip,
    src_port: s.flow.src_port,
    dst_ip: s.flow.dst_ip,
    dst_port: s.flow.dst_port,
    transport: s.transport,
    version: s.version,
    sni: first?.hello.sni ?? null,
    alpn: s.alpn,
    cipher: s.cipher,
    ja4: first?.ja4 ?? null,
    ja4_r: first?.ja4_r ?? null,
    ja4_o: first?.ja4_o ?? null,
    ja4_ro: first?.ja4_ro ?? null,
    ja3: first?.ja3 ?? null,
    ja3_string: first?.ja3_string ?? null,
    ja3s: r.ja3s,
    ja3s_string: r.ja3s_string,
    ...(ja4plus ? { ja4s: r.ja4s, ja4x: r.ja4x } : {}),
    server_certificates: certs(r.server_certificates),
    server_certificates_reason: s.server_certificates_reason,
    // Visible handshake without a client Certificate message: an empty list, not null.
    client_certificates: s.client_certificate_visibility === 'absent' ? [] : certs(r.client_certificates),
    client_certificates_reason: s.client_certificates_reason,
    stream_id: s.stream_id,
    time: new Date(s.ts).toISOString(),
    outcome: s.outcome,
  };
  return record;
}
