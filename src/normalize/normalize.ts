// Observation (what a log line said) → NormalizedEvent (what certsignal understood): parse the
// client certificate (bytes win over logged fields), canonicalise names, versions and digests,
// derive the account from the certificate when the event has none. Format-agnostic.
import type { Diagnostics } from '../diagnostics.ts';
import type { CertInfo, NormalizedEvent, Observation } from '../schema/event.ts';
import { CertificateCache, type ParsedCertificate } from './certificate.ts';
import { certInfoFromRaw } from './raw-cert.ts';
import { canonicalTlsVersion } from './tls-version.ts';

export type UserFromCertificate = 'upn' | 'email' | 'cn';

export interface NormalizerOptions {
  diagnostics: Diagnostics;
  /** Order in which an account is derived from the client certificate when the event has none. */
  userFromCertificate?: readonly UserFromCertificate[];
  certCache?: CertificateCache;
}

export interface NormalizeResult {
  event: NormalizedEvent;
  /** Parsed client certificate and chain (bytes available), for trust/CRL checks in enrich. */
  client: ParsedCertificate | null;
  chain: ParsedCertificate[];
}

const EMPTY_CHAIN: ParsedCertificate[] = [];
/** ECMAScript's Date range (±100,000,000 days around 1970). */
const MAX_TIME_MS = 8.64e15;

export class Normalizer {
  readonly certCache: CertificateCache;
  private readonly diagnostics: Diagnostics;
  private readonly userFrom: readonly UserFromCertificate[];

  constructor(options: NormalizerOptions) {
    this.diagnostics = options.diagnostics;
    this.userFrom = options.userFromCertificate ?? ['upn', 'email', 'cn'];
    this.certCache = options.certCache ?? new CertificateCache();
  }

  /** Returns null (with a diagnostic) when the observation cannot become an event (no usable time). */
  normalize(obs: Observation): NormalizeResult | null {
    if (obs.ts === null || !Number.isFinite(obs.ts)) {
      this.diagnostics.skip({
        reason: 'no-timestamp',
        message: 'record has no usable timestamp; it was parsed but cannot be placed in time',
        file: obs.file,
        line: obs.line,
      });
      return null;
    }
    if (Math.abs(obs.ts) > MAX_TIME_MS) {
      this.diagnostics.skip({
        reason: 'bad-timestamp',
        message: `record time ${obs.ts} ms since 1970 is outside any representable date; skipped`,
        file: obs.file,
        line: obs.line,
      });
      return null;
    }
    const where = { file: obs.file, line: obs.line };
    let certificate: CertInfo | null = null;
    let client: ParsedCertificate | null = null;
    if (obs.client_certificate) {
      const r = certInfoFromRaw(obs.client_certificate, this.certCache, this.diagnostics, {
        ...where,
        field: 'client_certificate',
      });
      certificate = r.info;
      client = r.parsed;
    }
    let chainInfo: CertInfo[] = [];
    let chain = EMPTY_CHAIN;
    if (obs.client_chain && obs.client_chain.length > 0) {
      chain = [];
      chainInfo = [];
      for (const raw of obs.client_chain) {
        const r = certInfoFromRaw(raw, this.certCache, this.diagnostics, { ...where, field: 'client_chain' });
        chainInfo.push(r.info);
        if (r.parsed) chain.push(r.parsed);
      }
    }
    const server = obs.server_certificate
      ? certInfoFromRaw(obs.server_certificate, this.certCache, this.diagnostics, { ...where, field: 'server_certificate' }).info
      : null;

    let user = obs.user ?? null;
    let userFrom: NormalizedEvent['user_from'] = user ? 'event' : null;
    if (!user && certificate) {
      user = this.userFromCertificate(certificate);
      if (user) userFrom = 'certificate';
    }
    const visibility = obs.client_certificate_visibility ?? (certificate ? 'present' : 'not_visible');
    const event: NormalizedEvent = {
      time: new Date(obs.ts).toISOString(),
      ts: obs.ts,
      source: { format: obs.format, file: obs.file, line: obs.line, record_id: obs.record_id ?? null },
      kind: obs.kind ?? 'authentication',
      ca: obs.ca ?? null,
      enrollment: obs.enrollment ?? null,
      outcome: obs.outcome ?? 'unknown',
      user,
      user_from: userFrom,
      device: obs.device ?? null,
      source_ip: obs.source_ip ?? null,
      source_port: obs.source_port ?? null,
      geo: obs.geo ?? null,
      destination_ip: obs.destination_ip ?? null,
      destination_port: obs.destination_port ?? null,
      service: obs.service ?? obs.sni ?? null,
      tls: {
        version: canonicalTlsVersion(obs.tls_version),
        cipher: obs.tls_cipher ?? null,
        ja3: obs.ja3 ? obs.ja3.toLowerCase() : null,
        ja3s: obs.ja3s ? obs.ja3s.toLowerCase() : null,
        ja4: obs.ja4 ?? null,
        sni: obs.sni ?? null,
      },
      certificate,
      certificate_visibility: certificate ? 'present' : visibility === 'present' ? 'not_visible' : visibility,
      chain: chainInfo,
      server_certificate: server,
      bytes: obs.bytes ?? null,
      enrichment: { asset: null, identity: null, trust: null, revocation: null },
    };
    // Only sources that log a verification result (nginx) carry it; others keep the shape unchanged.
    if (obs.client_verify) event.tls.client_verify = obs.client_verify;
    return { event, client, chain };
  }

  private userFromCertificate(cert: CertInfo): string | null {
    for (const source of this.userFrom) {
      if (source === 'upn' && cert.san.upn.length > 0) return cert.san.upn[0];
      if (source === 'email' && cert.san.email.length > 0) return cert.san.email[0];
      if (source === 'cn' && cert.subject_cn) return cert.subject_cn;
    }
    return null;
  }
}
