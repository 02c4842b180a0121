// Certificate revocation lists: parse (DER or PEM, several per file), verify each CRL's signature
// against the configured trust anchors (unverifiable → E_CRL, never a silent pass), and index the
// entries per issuer (issuer DN + authority key id) by canonical serial, so a lookup is O(1) and a
// serial is never matched without its issuer (dummy serials collide across issuers).
import { readFileSync } from 'node:fs';
import type { Diagnostics } from '../diagnostics.ts';
import { CertsignalError } from '../errors.ts';
import {
  DerError,
  type DerNode,
  decodeName,
  decodeOid,
  derChildren,
  type ParsedCertificate,
  readDer,
  readDerTime,
  type SignatureAlgorithm,
  serialFromInteger,
  verifySignedData,
} from '../normalize/certificate.ts';
import type { CertInfo, RevocationResult } from '../schema/event.ts';

/** A CRL that cannot be used; `reason` is a stable code (`crl-malformed`, `crl-delta-unsupported`, …). */
export class CrlError extends CertsignalError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super('E_CRL', message);
    this.reason = reason;
  }
}

export interface CrlEntry {
  /** ISO 8601 UTC. */
  revokedAt: string;
  /** RFC 5280 CRLReason name (`keyCompromise`, …) or null when the entry has none. */
  reason: string | null;
}

/** Scope limits from the IssuingDistributionPoint extension. */
export interface CrlScope {
  /** Full-name URIs of the distribution point (empty: the CRL is not partitioned by DP). */
  distributionPointUris: string[];
  onlyUserCerts: boolean;
  onlyCaCerts: boolean;
  /** True when onlySomeReasons is set: not listed does not mean good. */
  someReasonsOnly: boolean;
}

export interface ParsedCrl {
  /** Canonical RFC 4514 issuer DN. */
  issuer: string;
  /** AuthorityKeyIdentifier keyIdentifier, lowercase hex, or null. */
  authorityKeyId: string | null;
  thisUpdate: string;
  nextUpdate: string | null;
  crlNumber: string | null;
  scope: CrlScope;
  /** Canonical serial → entry. */
  entries: Map<string, CrlEntry>;
  tbs: Buffer;
  signatureAlgorithm: SignatureAlgorithm;
  signature: Buffer;
}

const REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  null, // 7 is not used
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

function algorithmOf(buf: Buffer, node: DerNode): SignatureAlgorithm {
  if (node.tag !== 0x30) throw new DerError('malformed', 'AlgorithmIdentifier expected');
  const kids = derChildren(buf, node);
  const oid = decodeOid(buf, kids[0] ?? node);
  const p = kids[1];
  return { oid, params: p && p.tag !== 0x05 ? Buffer.from(buf.subarray(p.start, p.end)) : null };
}

interface Extension {
  oid: string;
  critical: boolean;
  value: DerNode;
}

function readExtensions(buf: Buffer, seq: DerNode, allowEmpty = false): Extension[] {
  if (seq.tag !== 0x30) throw new CrlError('crl-malformed-extensions', 'extensions are not a SEQUENCE');
  const out: Extension[] = [];
  const seen = new Set<string>();
  for (const ext of derChildren(buf, seq)) {
    const parts = derChildren(buf, ext);
    if (parts.length < 2 || parts[0].tag !== 0x06)
      throw new CrlError('crl-malformed-extensions', `malformed extension at offset ${ext.start}`);
    const oid = decodeOid(buf, parts[0]);
    let critical = false;
    let value = parts[1];
    if (value.tag === 0x01) {
      critical = buf[value.contentStart] !== 0;
      value = parts[2];
    }
    if (!value || value.tag !== 0x04)
      throw new CrlError('crl-malformed-extensions', `extension ${oid} has no OCTET STRING value`);
    if (seen.has(oid)) throw new CrlError('crl-malformed-extensions', `extension ${oid} appears twice`);
    seen.add(oid);
    out.push({ oid, critical, value });
  }
  if (out.length === 0 && !allowEmpty) throw new CrlError('crl-malformed-extensions', 'empty extensions list');
  return out;
}

function inner(buf: Buffer, ext: Extension): DerNode {
  return readDer(buf, ext.value.contentStart, ext.value.end);
}

function parseIdp(buf: Buffer, node: DerNode): CrlScope {
  const scope: CrlScope = { distributionPointUris: [], onlyUserCerts: false, onlyCaCerts: false, someReasonsOnly: false };
  if (node.tag !== 0x30) throw new CrlError('crl-malformed-extensions', 'IssuingDistributionPoint is not a SEQUENCE');
  const bool = (n: DerNode): boolean => {
    const v = buf[n.contentStart];
    if (n.end - n.contentStart !== 1 || (v !== 0x00 && v !== 0xff))
      throw new CrlError('crl-malformed-extensions', 'bad BOOLEAN in IssuingDistributionPoint');
    return v !== 0;
  };
  for (const field of derChildren(buf, node)) {
    switch (field.tag) {
      case 0xa0: {
        const name = readDer(buf, field.contentStart, field.end);
        if (name.tag === 0xa0) {
          for (const gn of derChildren(buf, name)) {
            if (gn.tag === 0x86) scope.distributionPointUris.push(buf.subarray(gn.contentStart, gn.end).toString('latin1'));
            else if (gn.tag & 0x20 && (gn.tag & 0x1f) > 8)
              throw new CrlError('crl-malformed-extensions', 'unknown GeneralName in IssuingDistributionPoint');
          }
        } else if (name.tag === 0xa1) {
          throw new CrlError('crl-unsupported-idp', 'IssuingDistributionPoint nameRelativeToIssuer is not supported');
        } else {
          throw new CrlError('crl-malformed-extensions', 'unknown distribution point name in IssuingDistributionPoint');
        }
        break;
      }
      case 0x81:
        scope.onlyUserCerts = bool(field);
        break;
      case 0x82:
        scope.onlyCaCerts = bool(field);
        break;
      case 0x83:
        scope.someReasonsOnly = true;
        break;
      case 0x84:
        if (bool(field)) throw new CrlError('crl-indirect-unsupported', 'indirect CRLs are not supported');
        break;
      case 0x85:
        if (bool(field)) throw new CrlError('crl-unsupported-idp', 'CRL covers attribute certificates only');
        break;
      default:
        throw new CrlError('crl-malformed-extensions', `unknown field [${field.tag & 0x1f}] in IssuingDistributionPoint`);
    }
  }
  if (scope.onlyUserCerts && scope.onlyCaCerts)
    throw new CrlError('crl-malformed-extensions', 'IssuingDistributionPoint limits to both user and CA certificates');
  return scope;
}

const KNOWN_NONCRITICAL = new Set(['2.5.29.46', '1.3.6.1.5.5.7.1.1', '2.5.29.18', '2.5.29.60']);

/**
 * Parse one DER CRL. Throws CrlError with a reason code on anything certsignal cannot use
 * safely: malformed DER or times, version other than v1/v2, inner/outer signature algorithm
 * mismatch, delta or indirect CRLs, unknown critical (entry) extensions, bad CRL numbers or
 * revocation reasons. A missing nextUpdate is accepted (the CRL never counts as expired).
 */
export function parseCrl(der: Buffer): ParsedCrl {
  try {
    return parseCrlDer(der);
  } catch (err) {
    if (err instanceof CrlError) throw err;
    if (err instanceof DerError) {
      throw new CrlError(err.reason === 'bad-time' ? 'crl-bad-time' : 'crl-malformed', `CRL does not parse: ${err.message}`);
    }
    throw err;
  }
}

/** A CRL time; years before 1950 cannot be written in X.509 (RFC 5280 §5.1.2.4) and are rejected. */
function crlTime(der: Buffer, node: DerNode): string {
  const iso = readDerTime(der, node);
  if (iso < '1950') throw new CrlError('crl-bad-time', `time ${iso} is before 1950`);
  return iso;
}

function parseCrlDer(der: Buffer): ParsedCrl {
  if (der.length === 0 || der[0] !== 0x30) throw new CrlError('crl-malformed', 'not a DER CRL (no leading SEQUENCE)');
  const top = readDer(der, 0);
  const [tbsNode, algNode, sigNode] = derChildren(der, top);
  if (!tbsNode || !algNode || !sigNode || tbsNode.tag !== 0x30 || sigNode.tag !== 0x03)
    throw new CrlError('crl-malformed', 'not a CertificateList');
  const outerAlg = algorithmOf(der, algNode);
  const f = derChildren(der, tbsNode);
  let i = 0;
  let version = 0;
  if (f[i]?.tag === 0x02) {
    version = Number.parseInt(der.subarray(f[i].contentStart, f[i].end).toString('hex') || '0', 16);
    if (version !== 1)
      throw new CrlError('crl-unsupported-version', `unsupported CRL version field ${version} (only v2 = 1 may be written)`);
    i++;
  }
  const innerAlg = algorithmOf(der, f[i++]);
  if (innerAlg.oid !== outerAlg.oid || !(innerAlg.params ?? Buffer.alloc(0)).equals(outerAlg.params ?? Buffer.alloc(0))) {
    throw new CrlError(
      'crl-signature-algorithm-mismatch',
      `signature algorithm ${outerAlg.oid} differs from the signed one ${innerAlg.oid}`,
    );
  }
  const issuerNode = f[i++];
  if (!issuerNode || issuerNode.tag !== 0x30) throw new CrlError('crl-malformed', 'issuer missing');
  const issuer = decodeName(der, issuerNode);
  if (!f[i]) throw new CrlError('crl-malformed', 'thisUpdate missing');
  const thisUpdate = crlTime(der, f[i++]);
  let nextUpdate: string | null = null;
  if (f[i] && (f[i].tag === 0x17 || f[i].tag === 0x18)) nextUpdate = crlTime(der, f[i++]);
  const entries = new Map<string, CrlEntry>();
  if (f[i]?.tag === 0x30) {
    // Walk entries directly (no intermediate arrays): big CRLs hold tens of thousands.
    const list = f[i++];
    let pos = list.contentStart;
    while (pos < list.end) {
      const entry = readDer(der, pos, list.end);
      pos = entry.end;
      if (entry.tag !== 0x30) throw new CrlError('crl-malformed', `revoked entry at offset ${entry.start} is not a SEQUENCE`);
      const serialNode = readDer(der, entry.contentStart, entry.end);
      if (serialNode.tag !== 0x02) throw new CrlError('crl-malformed', `revoked entry at offset ${entry.start} has no serial`);
      const dateNode = readDer(der, serialNode.end, entry.end);
      const revokedAt = crlTime(der, dateNode);
      let reason: string | null = null;
      if (dateNode.end < entry.end) {
        if (version !== 1) throw new CrlError('crl-malformed', 'entry extensions in a v1 CRL');
        const extSeq = readDer(der, dateNode.end, entry.end);
        // An empty entry-extensions SEQUENCE is not DER-minimal but harmless: accepted.
        for (const ext of readExtensions(der, extSeq, true)) {
          if (ext.oid === '2.5.29.21') {
            const e = inner(der, ext);
            const code = e.tag === 0x0a && e.end - e.contentStart === 1 ? der[e.contentStart] : -1;
            const name = code >= 0 && code < REASONS.length ? REASONS[code] : null;
            if (!name)
              throw new CrlError('crl-unsupported-reason', `entry at offset ${entry.start}: unsupported revocation reason`);
            // RFC 5280: the unspecified reason should be left out rather than written.
            reason = name;
          } else if (ext.oid === '2.5.29.29') {
            throw new CrlError(
              'crl-indirect-unsupported',
              'entry names another certificate issuer (indirect CRL): not supported',
            );
          } else if (ext.oid === '2.5.29.24') {
            readDerTime(der, inner(der, ext));
          } else if (ext.critical) {
            throw new CrlError('crl-unknown-critical-extension', `entry has unknown critical extension ${ext.oid}`);
          }
        }
      }
      entries.set(serialFromInteger(der.subarray(serialNode.contentStart, serialNode.end)), { revokedAt, reason });
    }
  }
  let authorityKeyId: string | null = null;
  let crlNumber: string | null = null;
  let scope: CrlScope = { distributionPointUris: [], onlyUserCerts: false, onlyCaCerts: false, someReasonsOnly: false };
  if (f[i]?.tag === 0xa0) {
    if (version !== 1) throw new CrlError('crl-malformed', 'extensions in a v1 CRL');
    const extSeq = readDer(der, f[i].contentStart, f[i].end);
    for (const ext of readExtensions(der, extSeq)) {
      switch (ext.oid) {
        case '2.5.29.35':
          for (const field of derChildren(der, inner(der, ext))) {
            if (field.tag === 0x80) authorityKeyId = der.subarray(field.contentStart, field.end).toString('hex');
          }
          break;
        case '2.5.29.20': {
          const n = inner(der, ext);
          const bytes = der.subarray(n.contentStart, n.end);
          if (n.tag !== 0x02 || bytes.length === 0) throw new CrlError('crl-invalid-number', 'CRL number is not an INTEGER');
          if (bytes[0] & 0x80) throw new CrlError('crl-invalid-number', 'CRL number is negative');
          if (bytes.length > 21 || (bytes.length === 21 && bytes[0] !== 0))
            throw new CrlError('crl-invalid-number', 'CRL number is longer than 20 octets');
          crlNumber = serialFromInteger(bytes);
          break;
        }
        case '2.5.29.27':
          throw new CrlError('crl-delta-unsupported', 'delta CRLs are not supported (load the complete CRL)');
        case '2.5.29.28':
          scope = parseIdp(der, inner(der, ext));
          break;
        default:
          if (ext.critical && !KNOWN_NONCRITICAL.has(ext.oid)) {
            throw new CrlError('crl-unknown-critical-extension', `unknown critical CRL extension ${ext.oid}`);
          }
      }
    }
    i++;
  }
  if (i < f.length) throw new CrlError('crl-malformed', `unexpected field after the CRL extensions (offset ${f[i].start})`);
  return {
    issuer,
    authorityKeyId,
    thisUpdate,
    nextUpdate,
    crlNumber,
    scope,
    entries,
    tbs: der.subarray(tbsNode.start, tbsNode.end),
    signatureAlgorithm: outerAlg,
    signature: der.subarray(sigNode.contentStart + 1, sigNode.end),
  };
}

/** PEM CRL blocks; OpenSSL writes `X509 CRL`, some tools (@peculiar/x509) plain `CRL`. */
const PEM_CRL_RE = /-----BEGIN (?:X509 )?CRL-----([\s\S]*?)-----END (?:X509 )?CRL-----/g;

/** DER CRLs from file bytes: one DER CRL, or every CRL of a PEM file. */
export function crlDerBlobs(bytes: Buffer): Buffer[] {
  if (bytes.length > 0 && bytes[0] === 0x30) return [bytes];
  const text = bytes.toString('latin1');
  const out: Buffer[] = [];
  for (const m of text.matchAll(PEM_CRL_RE)) out.push(Buffer.from(m[1], 'base64'));
  return out;
}

/** A verified, indexed CRL. */
interface LoadedCrl extends ParsedCrl {
  source: string;
  /** SHA-256 of the certificate whose key verified the CRL. */
  verifiedBy: string | null;
  /** Epoch ms of nextUpdate, or +Infinity. */
  nextUpdateMs: number;
}

export interface CrlLookupOptions {
  /** Time the certificate was used (epoch ms); a CRL past its nextUpdate at that time is stale. Default: now. */
  at?: number;
  /** The certificate's AuthorityKeyIdentifier, when known: CRLs from another key of the same name are skipped. */
  authorityKeyId?: string | null;
  /** The certificate's CRL distribution point URIs, when known (partitioned CRLs only cover their own). */
  distributionPoints?: string[];
}

/** Issuer certificates a CRL may be signed by (trust anchors and the intermediates in their bundle). */
export interface CrlIssuerSource {
  /** Candidate issuers with this canonical subject DN. */
  issuersNamed(subjectDn: string): readonly ParsedCertificate[];
}

const UNKNOWN: RevocationResult = {
  status: 'unknown',
  crl_issuer: null,
  crl_this_update: null,
  revoked_at: null,
  reason_code: null,
};

/**
 * Verified CRLs indexed by issuer. `addCrl` throws CrlError (E_CRL) naming the file and the
 * reason when a CRL does not parse or its signature cannot be verified by a configured issuer.
 */
export class CrlStore {
  private readonly byIssuer = new Map<string, LoadedCrl[]>();
  private readonly issuers: CrlIssuerSource;
  private readonly diagnostics?: Diagnostics;
  private readonly now: () => number;
  /** Number of CRLs loaded. */
  count = 0;

  constructor(issuers: CrlIssuerSource, options: { diagnostics?: Diagnostics; now?: () => number } = {}) {
    this.issuers = issuers;
    this.diagnostics = options.diagnostics;
    this.now = options.now ?? Date.now;
  }

  /** Load CRLs from a path, or from bytes (`name` labels them in messages). Returns how many were added. */
  addCrl(pathOrBytes: string | Uint8Array, name?: string): number {
    let bytes: Buffer;
    let source: string;
    if (typeof pathOrBytes === 'string') {
      source = name ?? pathOrBytes;
      try {
        bytes = readFileSync(pathOrBytes);
      } catch (err) {
        throw new CrlError('crl-unreadable', `${source}: cannot read CRL file: ${(err as Error).message}`);
      }
    } else {
      source = name ?? 'CRL bytes';
      bytes = Buffer.from(pathOrBytes.buffer, pathOrBytes.byteOffset, pathOrBytes.byteLength);
    }
    const blobs = crlDerBlobs(bytes);
    if (blobs.length === 0)
      throw new CrlError('crl-malformed', `${source}: neither a DER CRL nor PEM with "BEGIN X509 CRL" / "BEGIN CRL" blocks`);
    blobs.forEach((der, k) => {
      const label = blobs.length > 1 ? `${source} (CRL #${k + 1})` : source;
      let crl: ParsedCrl;
      try {
        crl = parseCrl(der);
      } catch (err) {
        if (err instanceof CrlError) throw new CrlError(err.reason, `${label}: ${err.message}`);
        throw err;
      }
      this.add(crl, label);
    });
    return blobs.length;
  }

  private add(crl: ParsedCrl, source: string): void {
    const candidates = this.issuers.issuersNamed(crl.issuer);
    if (candidates.length === 0) {
      throw new CrlError(
        'crl-unverifiable',
        `${source}: CRL issuer "${crl.issuer}" is not among the trust anchors; its signature cannot be verified`,
      );
    }
    let verifiedBy: ParsedCertificate | null = null;
    let unsupported = false;
    for (const issuer of candidates) {
      if (crl.authorityKeyId && issuer.subjectKeyId && crl.authorityKeyId !== issuer.subjectKeyId) continue;
      // keyUsage, when present, must allow signing CRLs (bit 6, cRLSign).
      if (issuer.keyUsage !== null && (issuer.keyUsage & (1 << 6)) === 0) continue;
      const ok = verifySignedData(crl.tbs, crl.signatureAlgorithm, crl.signature, issuer.spki);
      if (ok === true) {
        verifiedBy = issuer;
        break;
      }
      if (ok === null) unsupported = true;
    }
    if (!verifiedBy) {
      const why = unsupported
        ? `signature algorithm ${crl.signatureAlgorithm.oid} or issuer key is not supported`
        : 'signature does not verify with any trust anchor of that name';
      throw new CrlError('crl-unverifiable', `${source}: CRL issued by "${crl.issuer}": ${why}`);
    }
    const nextUpdateMs = crl.nextUpdate ? Date.parse(crl.nextUpdate) : Number.POSITIVE_INFINITY;
    if (nextUpdateMs < this.now()) {
      this.diagnostics?.warn({
        reason: 'crl-expired',
        message: `CRL issued by "${crl.issuer}" expired at ${crl.nextUpdate}; loaded, but certificates it does not list are reported as unknown after that time`,
        file: source,
      });
    }
    const loaded: LoadedCrl = {
      ...crl,
      source,
      verifiedBy: verifiedBy.info.sha256,
      nextUpdateMs,
      authorityKeyId: crl.authorityKeyId ?? verifiedBy.subjectKeyId,
    };
    const list = this.byIssuer.get(crl.issuer);
    if (list) list.push(loaded);
    else this.byIssuer.set(crl.issuer, [loaded]);
    this.count++;
  }

  /**
   * Revocation status of a certificate by issuer DN + serial (never serial alone):
   * - `revoked` when an applicable CRL of that issuer lists the serial (even a stale CRL:
   *   revocation is permanent, except certificateHold);
   * - `good` when an applicable CRL, current at `at`, does not list it;
   * - `unknown` when no CRL of that issuer is loaded, or only stale/partial ones
   *   (`reason_code: 'crl-expired'` says a stale CRL was the only source).
   */
  lookup(cert: Pick<CertInfo, 'issuer' | 'serial' | 'is_ca'>, options: CrlLookupOptions = {}): RevocationResult {
    if (!cert.issuer || !cert.serial) return UNKNOWN;
    const crls = this.byIssuer.get(cert.issuer);
    if (!crls) return UNKNOWN;
    const at = options.at ?? this.now();
    let good: LoadedCrl | null = null;
    let stale: LoadedCrl | null = null;
    for (const crl of crls) {
      if (options.authorityKeyId && crl.authorityKeyId && options.authorityKeyId !== crl.authorityKeyId) continue;
      if (crl.scope.onlyUserCerts && cert.is_ca === true) continue;
      if (crl.scope.onlyCaCerts && cert.is_ca !== true) continue;
      if (crl.scope.distributionPointUris.length > 0 && options.distributionPoints && options.distributionPoints.length > 0) {
        if (!options.distributionPoints.some((u) => crl.scope.distributionPointUris.includes(u))) continue;
      }
      const entry = crl.entries.get(cert.serial);
      if (entry && Date.parse(entry.revokedAt) <= at) {
        return {
          status: 'revoked',
          crl_issuer: crl.issuer,
          crl_this_update: crl.thisUpdate,
          revoked_at: entry.revokedAt,
          reason_code: entry.reason,
        };
      }
      if (crl.scope.someReasonsOnly) continue;
      if (at > crl.nextUpdateMs) stale ??= crl;
      else if (!good || crl.thisUpdate > good.thisUpdate) good = crl;
    }
    if (good)
      return { status: 'good', crl_issuer: good.issuer, crl_this_update: good.thisUpdate, revoked_at: null, reason_code: null };
    if (stale)
      return {
        status: 'unknown',
        crl_issuer: stale.issuer,
        crl_this_update: stale.thisUpdate,
        revoked_at: null,
        reason_code: 'crl-expired',
      };
    return UNKNOWN;
  }

  /** Issuers (canonical DNs) with at least one CRL loaded. */
  get issuerNames(): string[] {
    return [...this.byIssuer.keys()];
  }
}
