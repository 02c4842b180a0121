// Enrichment: joins each normalized event with the asset inventory (by device), the identity
// directory (by user), the trust anchors (does the client certificate chain to them?) and the
// loaded CRLs (is it revoked?), and locates it (its own geo, else the --geoip database: geo/).
// Everything is loaded once up front; per event it is a few Map lookups, with trust results cached
// per certificate and locations per source address.
import type { Diagnostics } from '../diagnostics.ts';
import type { CertificateCache, ParsedCertificate } from '../normalize/certificate.ts';
import type { Asset, CertInfo, Identity, NormalizedEvent, RevocationResult, TrustResult } from '../schema/event.ts';
import { CrlStore } from './crl.ts';
import { type AssetColumns, type IdentityColumns, loadAssets, loadIdentities } from './csv.ts';
import { GeoEnricher, GeoIpDatabase } from './geo/index.ts';
import { OcspChecker, type OcspOptions } from './ocsp/index.ts';
import { TrustStore } from './trust.ts';

export { CrlError, CrlStore, parseCrl } from './crl.ts';
export type { AssetColumns, IdentityColumns } from './csv.ts';
export { CaseInsensitiveMap, CsvParser, loadAssets, loadIdentities } from './csv.ts';
export { GeoEnricher, GeoIpDatabase, type GeoResolution, type GeoStats } from './geo/index.ts';
export { TrustStore } from './trust.ts';

/** The part of certsignal's config the enricher reads (column renames for the CSV files). */
export interface EnrichmentConfigLike {
  enrichment?: {
    asset_columns?: Partial<AssetColumns>;
    identity_columns?: Partial<IdentityColumns>;
  };
}

export interface EnricherOptions {
  /** Asset CSV path, or an already loaded map (device id → Asset, case-insensitive keys). */
  assets?: string | Map<string, Asset> | null;
  /** Identity CSV path, or an already loaded map (user → Identity, case-insensitive keys). */
  identities?: string | Map<string, Identity> | null;
  /** PEM bundle path (or text), or a TrustStore. */
  trustAnchors?: string | TrustStore | null;
  /** CRL files (DER or PEM); each must verify against the trust anchors (E_CRL otherwise). */
  crls?: readonly string[];
  /** MaxMind-format .mmdb (City or Country) for events without a location of their own (docs/geo.md); E_GEOIP when unusable. */
  geoip?: string | GeoIpDatabase | null;
  config?: EnrichmentConfigLike;
  diagnostics?: Diagnostics;
  /** Lets `enrich` find the bytes of a certificate when the caller passes only the event. */
  certCache?: CertificateCache;
  /** Clock for "is this CRL expired at load time" (default Date.now). */
  now?: () => number;
  /** Check certificates with their OCSP responders (`--ocsp`; network calls, off by default). */
  ocsp?: OcspOptions | null;
}

export interface EnrichmentFacts {
  trustAnchorsConfigured: boolean;
  crlsConfigured: boolean;
  assetsConfigured: boolean;
  identitiesConfigured: boolean;
  /** OCSP lookups are on (`--ocsp`). */
  ocspConfigured: boolean;
}

const NO_CERT_TRUST: TrustResult = {
  status: 'unknown',
  anchor_sha256: null,
  anchor_subject: null,
  reason: 'no client certificate',
};

export class Enricher {
  readonly assets: Map<string, Asset> | null;
  readonly identities: Map<string, Identity> | null;
  readonly trust: TrustStore | null;
  readonly crls: CrlStore | null;
  /** OCSP checker (`--ocsp`): the pipeline awaits `ocsp.enrichEvents` per batch after `enrich`. */
  readonly ocsp: OcspChecker | null;
  /** Location of events (their own, else the --geoip database) and how it was decided; always present. */
  readonly geo: GeoEnricher;
  readonly facts: EnrichmentFacts;
  private readonly certCache?: CertificateCache;
  /** Identities by e-mail address (lowercase), for accounts named by a certificate's e-mail/UPN SAN. */
  private readonly identitiesByEmail = new Map<string, Identity>();

  constructor(parts: {
    assets?: Map<string, Asset> | null;
    identities?: Map<string, Identity> | null;
    trust?: TrustStore | null;
    crls?: CrlStore | null;
    ocsp?: OcspChecker | null;
    geo?: GeoEnricher | null;
    certCache?: CertificateCache;
  }) {
    this.assets = parts.assets ?? null;
    this.identities = parts.identities ?? null;
    this.trust = parts.trust ?? null;
    this.crls = parts.crls && parts.crls.count > 0 ? parts.crls : null;
    this.ocsp = parts.ocsp ?? null;
    this.geo = parts.geo ?? new GeoEnricher(null);
    this.certCache = parts.certCache;
    if (this.identities) {
      for (const identity of this.identities.values()) {
        if (identity.email) this.identitiesByEmail.set(identity.email.toLowerCase(), identity);
      }
    }
    this.facts = {
      trustAnchorsConfigured: this.trust !== null && this.trust.size > 0,
      crlsConfigured: this.crls !== null,
      assetsConfigured: this.assets !== null,
      identitiesConfigured: this.identities !== null,
      ocspConfigured: this.ocsp !== null,
    };
  }

  /**
   * Load every configured source. Throws CertsignalError (E_CSV, E_CONFIG, E_CRL, E_GEOIP) naming the
   * file when one cannot be used; bad CSV rows become diagnostics instead.
   */
  static async create(options: EnricherOptions = {}): Promise<Enricher> {
    const cols = options.config?.enrichment;
    const load = { diagnostics: options.diagnostics };
    const assets =
      typeof options.assets === 'string' ? loadAssets(options.assets, cols?.asset_columns, load) : (options.assets ?? null);
    const identities =
      typeof options.identities === 'string'
        ? loadIdentities(options.identities, cols?.identity_columns, load)
        : (options.identities ?? null);
    const trust =
      typeof options.trustAnchors === 'string' ? TrustStore.fromPemBundle(options.trustAnchors) : (options.trustAnchors ?? null);
    let crls: CrlStore | null = null;
    if (options.crls && options.crls.length > 0) {
      crls = new CrlStore(trust ?? new TrustStore([]), { diagnostics: options.diagnostics, now: options.now });
      for (const path of options.crls) crls.addCrl(path);
    }
    const geoDb = typeof options.geoip === 'string' ? GeoIpDatabase.open(options.geoip) : (options.geoip ?? null);
    const geo = new GeoEnricher(geoDb, { diagnostics: options.diagnostics });
    const ocsp = options.ocsp ? new OcspChecker(trust, options.ocsp) : null;
    return new Enricher({ assets, identities, trust, crls, ocsp, geo, certCache: options.certCache });
  }

  /**
   * Fill `event.enrichment`. `client`/`chain` are the parsed client certificate and presented
   * chain from normalize; when omitted, they are looked up in the certificate cache by SHA-256.
   * Results are shared between events: treat them as read-only.
   */
  enrich(event: NormalizedEvent, client?: ParsedCertificate | null, chain?: readonly ParsedCertificate[]): void {
    const e = event.enrichment;
    this.geo.apply(event);
    if (this.assets && event.device) e.asset = this.assets.get(event.device) ?? null;
    if (this.identities && event.user) {
      let identity = this.identities.get(event.user) ?? null;
      if (identity === null && event.user.includes('@')) {
        identity = this.identitiesByEmail.get(event.user.toLowerCase()) ?? null;
        // An account derived from the certificate's e-mail/UPN becomes the directory's account
        // name, so one person is one entity across sources.
        if (identity !== null && event.user_from === 'certificate') event.user = identity.user;
      }
      e.identity = identity;
    }
    const cert = event.certificate;
    if (!cert) {
      if (this.trust) e.trust = NO_CERT_TRUST;
      return;
    }
    let parsed = client ?? null;
    if (!parsed && cert.source === 'der' && cert.sha256 && this.certCache) parsed = this.certCache.bySha256(cert.sha256) ?? null;
    if (this.trust) e.trust = this.trust.evaluate(parsed ?? cert, chain ?? []);
    if (this.crls) e.revocation = this.revocation(cert, parsed, event.ts);
  }

  private revocation(cert: CertInfo, parsed: ParsedCertificate | null, at: number): RevocationResult {
    return (this.crls as CrlStore).lookup(cert, {
      at,
      authorityKeyId: parsed?.authorityKeyId ?? null,
      distributionPoints: parsed?.crlDistributionPoints,
    });
  }
}
