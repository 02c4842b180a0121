// The internal shapes every stage agrees on. Sources produce Observations (what a log line
// said, format-neutral); normalize turns them into NormalizedEvents (what certsignal understood),
// which is what rules see and what `certsignal normalize --output json` prints.
// Field names are snake_case because these objects are serialised as-is.

/** Subject Alternative Names, by type. */
export interface SubjectAltNames {
  dns: string[];
  email: string[];
  uri: string[];
  ip: string[];
  /** Microsoft UPN (otherName 1.3.6.1.4.1.311.20.2.3). */
  upn: string[];
}

/**
 * A certificate as certsignal understands it. When the certificate bytes were available
 * (`source: 'der'`), every field comes from them; when only a log's fields were available
 * (`source: 'logged'`), fields the log did not carry are null (never guessed).
 */
export interface CertInfo {
  source: 'der' | 'logged';
  /** SHA-256 of the DER, lowercase hex. */
  sha256: string | null;
  /** SHA-1 of the DER, lowercase hex (Suricata and nginx log this one). */
  sha1: string | null;
  /** SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex. */
  spki_sha256: string | null;
  /** The same digest in base64: the HPKP / curl `pin-sha256` form. */
  spki_pin_sha256: string | null;
  /** RFC 4514 distinguished names (most specific RDN first). */
  subject: string | null;
  issuer: string | null;
  subject_cn: string | null;
  /** Canonical serial: lowercase hex, no colons, no leading zeros ("0" for zero). */
  serial: string | null;
  /** ISO 8601 UTC. */
  not_before: string | null;
  not_after: string | null;
  san: SubjectAltNames;
  /** `rsa`, `ec`, `ed25519`, `ed448`, `dsa`, `ml-dsa-44`, … or null when unknown. */
  key_algorithm: string | null;
  /** Key size in bits (RSA modulus, EC field size). */
  key_size: number | null;
  key_curve: string | null;
  /** Subject == issuer and the certificate's signature verifies with its own key. */
  self_signed: boolean | null;
  is_ca: boolean | null;
  /** Extended key usages by name where known (`clientAuth`, `serverAuth`, …), else the OID. */
  eku: string[];
}

/** Whether the client certificate could be seen by the telemetry source. */
export type CertificateVisibility =
  /** A client certificate was presented and is described by `certificate`. */
  | 'present'
  /** The handshake was visible and no client certificate was presented. */
  | 'absent'
  /** The source could not see it (TLS 1.3 encrypts Certificate messages; the log has no field). */
  | 'not_visible';

export interface Geo {
  country_iso_code: string | null;
  country_name?: string | null;
  city_name: string | null;
  lat: number | null;
  lon: number | null;
  /** Where it came from: the event's own fields (`event`), or the `--geoip` database (`geoip`). Set by enrichment. */
  source?: 'event' | 'geoip';
  /** The database's accuracy radius in km (GeoLite2/GeoIP2 City), when it gives one: IP geolocation is approximate. */
  accuracy_radius_km?: number | null;
}

/**
 * How `geo` was decided (docs/geo.md): `event` (the event's own location), `geoip` (looked up in
 * the `--geoip` database), `private` / `reserved` (a special-purpose address, never looked up;
 * `geo_range` names the range), `not-found` (public address the database does not locate),
 * `no-database` (public address, no `--geoip`), `no-ip` (no source address), `invalid-ip`
 * (the source address does not parse). Anything but `event`/`geoip` leaves geo unknown.
 */
export type GeoStatus = 'event' | 'geoip' | 'private' | 'reserved' | 'not-found' | 'no-database' | 'no-ip' | 'invalid-ip';

/**
 * What an event records. Rules declare which kinds they observe (RuleMeta.event_kinds, default
 * `authentication` only), so certificate-use rules never see CA or MDM records.
 * - `authentication`: a certificate (or session) was used: gateway, IdP, sensor, capture, PKINIT.
 * - `issuance`: a CA issued a certificate (step-ca sign/renew, Vault PKI issue/sign, AD CS 4887).
 * - `request`: a CA received (outcome success) or denied (outcome failure) a request (AD CS 4886/4888).
 * - `revocation`: a CA revoked a certificate (AD CS 4870, Vault revoke, step-ca revoke).
 * - `enrollment`: an MDM / device-management enrollment event (enrolled, re-enrolled, unenrolled).
 */
export type EventKind = 'authentication' | 'issuance' | 'request' | 'revocation' | 'enrollment';
export const EVENT_KINDS: readonly EventKind[] = ['authentication', 'issuance', 'request', 'revocation', 'enrollment'];

/**
 * CA-side facts of an `issuance` / `request` / `revocation` event. On these events `user` and
 * `device` name the certificate's *subject* (whom it authenticates), `certificate` is the issued
 * (or revoked) certificate as far as the log shows it, and the requester is here.
 */
export interface CaRecord {
  /** CA name or host as logged (AD CS "CA", step-ca host, Vault mount path). */
  ca: string | null;
  /** Who asked for the certificate (AD CS Requester, Vault token display name, step-ca provisioner subject). */
  requester: string | null;
  /** AD CS template, Vault role, step-ca provisioner name. */
  template: string | null;
  /** CA request id (AD CS RequestId, step-ca request id, Vault request id). */
  request_id: string | null;
  /** What the CA did: `sign`, `renew`, `rekey`, `issue`, `revoke`, `request`, `deny`, … (lowercase). */
  operation: string | null;
  /** SANs the *requester* supplied in the request attributes (AD CS `SAN:upn=…`): the ESC1 signal. */
  requested_san: string[];
  /** Revocation reason as logged (revocation events). */
  reason: string | null;
}

/** MDM facts of an `enrollment` event (`device`/`user` on the event say which). */
export interface EnrollmentRecord {
  /** `enrolled`, `re-enrolled`, `unenrolled`, `wiped`, … (lowercase, as logged). */
  action: string;
  /** MDM product or source name as logged (Intune, Jamf, Workspace ONE…), or null. */
  mdm: string | null;
  platform: string | null;
  /** Hardware serial as logged, when present. */
  serial: string | null;
}

/** What a log line said about a certificate, before parsing/canonicalisation. */
export interface RawCertificate {
  /** PEM text or base64 DER; when present it is the source of truth over logged fields. */
  pem?: string | null;
  der?: Uint8Array | null;
  /** Digests as logged (any case, may contain colons). */
  sha256?: string | null;
  sha1?: string | null;
  /** DN as logged, in whatever DN syntax the source uses. */
  subject?: string | null;
  issuer?: string | null;
  /**
   * How `subject`/`issuer` are written (see normalize/dn.ts `canonicalDn`): `rfc4514` (default;
   * most specific RDN first, e.g. Zeek, nginx ≥ 1.11.6), `wire-order` (most general first, `, `
   * separated, unescaped: Suricata, ECS), `slash` (`/C=US/O=Example/CN=x`: legacy nginx).
   */
  dn_syntax?: 'rfc4514' | 'wire-order' | 'slash';
  /** Serial as logged: hex (with or without colons) unless `serial_format` says decimal. */
  serial?: string | null;
  serial_format?: 'hex' | 'decimal';
  not_before?: string | number | null;
  not_after?: string | number | null;
  san_dns?: string[];
  san_email?: string[];
  san_uri?: string[];
  san_ip?: string[];
  key_algorithm?: string | null;
  key_size?: number | null;
  key_curve?: string | null;
  is_ca?: boolean | null;
}

/**
 * One authentication / TLS observation, format-neutral: what a source produced from one record.
 * Everything except provenance is optional; normalize decides what it means.
 */
export interface Observation {
  /** Event time: epoch milliseconds, or null when the record carries no usable time. */
  ts: number | null;
  /** Provenance: source format id, file path (or `-` for stdin), 1-based line number. */
  format: string;
  file: string;
  line: number;
  /** The source's own id for the record (Zeek uid, Suricata flow_id, ECS event.id). */
  record_id?: string | null;
  /** Default `authentication`. */
  kind?: EventKind;
  ca?: CaRecord | null;
  enrollment?: EnrollmentRecord | null;
  outcome?: 'success' | 'failure' | 'unknown';
  user?: string | null;
  device?: string | null;
  source_ip?: string | null;
  source_port?: number | null;
  geo?: Geo | null;
  destination_ip?: string | null;
  destination_port?: number | null;
  /** Target service (service.name, destination.domain, url.domain, SNI…). */
  service?: string | null;
  tls_version?: string | null;
  tls_cipher?: string | null;
  ja3?: string | null;
  ja3s?: string | null;
  ja4?: string | null;
  sni?: string | null;
  /**
   * The gateway's own client-certificate verification result, as logged (nginx
   * `$ssl_client_verify`: `SUCCESS`, `FAILED:<reason>`, `NONE`). Kept verbatim: the reason says why.
   */
  client_verify?: string | null;
  /** Client certificate (leaf) and its chain (leaf excluded), when the source shows them. */
  client_certificate?: RawCertificate | null;
  client_chain?: RawCertificate[];
  /** Set when the source positively knows no client certificate was presented, or could not see. */
  client_certificate_visibility?: CertificateVisibility;
  server_certificate?: RawCertificate | null;
  /** Bytes transferred, when known (volume baselines use it later). */
  bytes?: number | null;
}

export interface Asset {
  device_id: string;
  owner: string | null;
  kind: string | null;
  hostname: string | null;
  os: string | null;
  enrolled_at: string | null;
}

export interface Identity {
  user: string;
  kind: 'human' | 'service' | string | null;
  role: string | null;
  department: string | null;
  country: string | null;
  email: string | null;
}

/** Result of checking a certificate's issuer against the configured trust anchors. */
export interface TrustResult {
  /** `trusted`: chains to an anchor (signature verified); `untrusted`: does not; `unknown`: cannot tell (no DER, no anchors configured). */
  status: 'trusted' | 'untrusted' | 'unknown';
  /** SHA-256 of the anchor (or intermediate) that signed it, when trusted. */
  anchor_sha256: string | null;
  anchor_subject: string | null;
  reason: string;
}

export interface RevocationResult {
  status: 'revoked' | 'good' | 'unknown';
  /** Which CRL said so (its issuer DN and thisUpdate). */
  crl_issuer: string | null;
  crl_this_update: string | null;
  revoked_at: string | null;
  reason_code: string | null;
  /**
   * The source that decided `status` when both CRLs and OCSP are in use (revoked by either wins;
   * see docs/ocsp.md). Absent when only CRLs are configured or nothing decided (`unknown`).
   */
  source?: 'crl' | 'ocsp';
  /** The OCSP answer for this certificate (`--ocsp`), whatever `status` says. */
  ocsp?: OcspResult | null;
}

/** What an OCSP responder said about a certificate (see docs/ocsp.md). */
export interface OcspResult {
  status: 'good' | 'revoked' | 'unknown';
  /** Why the status is `unknown`: `no-aia`, `no-issuer`, `timeout`, `bad-signature`, `stale`, … (null otherwise). */
  unknown_reason: string | null;
  /** Human-readable detail for an `unknown`. */
  detail: string | null;
  /** The responder asked (null when none could be asked). */
  responder_url: string | null;
  /** ISO 8601 UTC times from the signed response. */
  produced_at: string | null;
  this_update: string | null;
  next_update: string | null;
  revoked_at: string | null;
  /** RFC 5280 CRLReason name of a revocation, when the response gives one. */
  revocation_reason: string | null;
}

export interface Enrichment {
  asset: Asset | null;
  identity: Identity | null;
  trust: TrustResult | null;
  revocation: RevocationResult | null;
}

/** The one internal event shape: what rules see and `certsignal normalize` prints. */
export interface NormalizedEvent {
  /** ISO 8601 UTC. */
  time: string;
  /** Same instant, epoch milliseconds. */
  ts: number;
  source: { format: string; file: string; line: number; record_id: string | null };
  kind: EventKind;
  /** CA facts for issuance/request/revocation events, else null. */
  ca: CaRecord | null;
  /** MDM facts for enrollment events, else null. */
  enrollment: EnrollmentRecord | null;
  outcome: 'success' | 'failure' | 'unknown';
  /** Account; from the event, else derived from the certificate (see `user_from`). */
  user: string | null;
  user_from: 'event' | 'certificate' | null;
  device: string | null;
  source_ip: string | null;
  source_port: number | null;
  geo: Geo | null;
  /** How `geo` was decided; set by enrichment (absent on events that were not enriched). */
  geo_status?: GeoStatus;
  /** For `geo_status` `private` / `reserved`: the special-purpose range, e.g. `rfc1918`, `cgnat`, `loopback`, `documentation`. */
  geo_range?: string;
  destination_ip: string | null;
  destination_port: number | null;
  service: string | null;
  tls: {
    version: string | null;
    cipher: string | null;
    ja3: string | null;
    ja3s: string | null;
    ja4: string | null;
    sni: string | null;
    /** Observation.client_verify (e.g. nginx `FAILED:self-signed certificate`); absent when the source logs none. */
    client_verify?: string;
  };
  certificate: CertInfo | null;
  certificate_visibility: CertificateVisibility;
  chain: CertInfo[];
  server_certificate: CertInfo | null;
  bytes: number | null;
  enrichment: Enrichment;
}
