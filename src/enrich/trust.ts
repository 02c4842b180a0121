// Trust anchors: the CA certificates this estate expects client certificates to come from (a PEM
// bundle; intermediates allowed and trusted as anchors too). `evaluate` says whether a client
// certificate chains to one of them, checking every signature with node:crypto, optionally through
// intermediates the client presented. Results are cached per leaf + presented chain.
import { readFileSync } from 'node:fs';
import { CertsignalError } from '../errors.ts';
import {
  CertificateParseError,
  isIssuedBy,
  type ParsedCertificate,
  parseCertificate,
  pemCertificates,
} from '../normalize/certificate.ts';
import type { CertInfo, TrustResult } from '../schema/event.ts';
import type { CrlIssuerSource } from './crl.ts';

const MAX_DEPTH = 8;
const KEY_CERT_SIGN = 1 << 5;

const NO_ANCHORS: TrustResult = {
  status: 'unknown',
  anchor_sha256: null,
  anchor_subject: null,
  reason: 'no trust anchors configured',
};

function isParsed(x: ParsedCertificate | CertInfo): x is ParsedCertificate {
  return (x as ParsedCertificate).der !== undefined && (x as ParsedCertificate).info !== undefined;
}

/** May `issuer` sign other certificates? (basicConstraints cA, and keyCertSign when keyUsage is present) */
function canIssue(issuer: ParsedCertificate): boolean {
  if (issuer.info.is_ca !== true) return false;
  return issuer.keyUsage === null || (issuer.keyUsage & KEY_CERT_SIGN) !== 0;
}

export class TrustStore implements CrlIssuerSource {
  /** Anchors by canonical subject DN. */
  private readonly bySubject = new Map<string, ParsedCertificate[]>();
  private readonly bySha = new Map<string, ParsedCertificate>();
  private readonly cache = new Map<string, TrustResult>();
  private readonly cacheMax: number;
  readonly anchors: readonly ParsedCertificate[];

  constructor(anchors: ParsedCertificate[], options: { cacheMax?: number } = {}) {
    this.cacheMax = options.cacheMax ?? 250_000;
    const unique: ParsedCertificate[] = [];
    for (const a of anchors) {
      const sha = a.info.sha256 as string;
      if (this.bySha.has(sha)) continue;
      this.bySha.set(sha, a);
      unique.push(a);
      const list = this.bySubject.get(a.subjectDn);
      if (list) list.push(a);
      else this.bySubject.set(a.subjectDn, [a]);
    }
    this.anchors = unique;
  }

  /**
   * Anchors from a PEM bundle: a file path, or the PEM text itself. Throws E_CONFIG naming the
   * source when it is unreadable, holds no certificate, or a certificate in it does not parse.
   */
  static fromPemBundle(pathOrText: string): TrustStore {
    let text: string;
    let source: string;
    if (pathOrText.includes('-----BEGIN')) {
      text = pathOrText;
      source = 'trust anchor bundle';
    } else {
      source = pathOrText;
      try {
        text = readFileSync(pathOrText, 'latin1');
      } catch (err) {
        throw new CertsignalError('E_CONFIG', `cannot read trust anchors ${source}: ${(err as Error).message}`);
      }
    }
    const ders = pemCertificates(text);
    if (ders.length === 0) throw new CertsignalError('E_CONFIG', `${source}: no "BEGIN CERTIFICATE" block found`);
    const anchors = ders.map((der, i) => {
      try {
        return parseCertificate(der);
      } catch (err) {
        const why = err instanceof CertificateParseError ? err.message : String(err);
        throw new CertsignalError('E_CONFIG', `${source}: certificate #${i + 1} does not parse: ${why}`);
      }
    });
    return new TrustStore(anchors);
  }

  get size(): number {
    return this.anchors.length;
  }

  /** Anchors whose subject is this canonical DN (used to verify CRLs). */
  issuersNamed(subjectDn: string): readonly ParsedCertificate[] {
    return this.bySubject.get(subjectDn) ?? [];
  }

  /**
   * Does the leaf chain to an anchor?
   * - bytes available: `trusted` when every signature from the leaf up to an anchor verifies
   *   (through presented intermediates that may issue certificates); a leaf that is itself an
   *   anchor is trusted; a self-signed leaf that is not an anchor is `untrusted` (`self-signed`);
   *   otherwise `untrusted` with the reason (issuer unknown, or signature does not verify).
   * - logged fields only: signatures cannot be checked. An issuer DN equal to an anchor's subject
   *   gives `unknown` with that anchor named (reason says the signature was not checked); an
   *   issuer DN matching no anchor gives `untrusted` (name-based). No issuer DN → `unknown`.
   * Validity dates are not checked here (rules see them on the certificate).
   */
  evaluate(leaf: ParsedCertificate | CertInfo, chain: readonly ParsedCertificate[] = []): TrustResult {
    if (this.anchors.length === 0) return NO_ANCHORS;
    if (!isParsed(leaf)) {
      const loggedKey = `logged|${leaf.sha256 ?? ''}|${leaf.issuer ?? ''}`;
      let r = this.cache.get(loggedKey);
      if (!r) {
        r = this.evaluateLogged(leaf);
        this.remember(loggedKey, r);
      }
      return r;
    }
    let key = leaf.info.sha256 as string;
    for (const c of chain) key += `|${c.info.sha256}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const result = this.evaluateParsed(leaf, chain);
    this.remember(key, result);
    return result;
  }

  private remember(key: string, result: TrustResult): void {
    if (this.cache.size >= this.cacheMax) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, result);
  }

  private evaluateLogged(info: CertInfo): TrustResult {
    if (info.sha256 && this.bySha.has(info.sha256)) {
      const a = this.bySha.get(info.sha256) as ParsedCertificate;
      return {
        status: 'trusted',
        anchor_sha256: a.info.sha256,
        anchor_subject: a.subjectDn,
        reason: 'certificate is a trust anchor (matched by SHA-256)',
      };
    }
    if (!info.issuer)
      return { status: 'unknown', anchor_sha256: null, anchor_subject: null, reason: 'no certificate bytes and no issuer name' };
    const named = this.bySubject.get(info.issuer);
    if (named && named.length > 0) {
      return {
        status: 'unknown',
        anchor_sha256: named[0].info.sha256,
        anchor_subject: named[0].subjectDn,
        reason: 'issuer name matches a trust anchor (signature not checked: no certificate bytes)',
      };
    }
    return {
      status: 'untrusted',
      anchor_sha256: null,
      anchor_subject: null,
      reason: 'issuer name is not among the trust anchors (no certificate bytes)',
    };
  }

  private evaluateParsed(leaf: ParsedCertificate, chain: readonly ParsedCertificate[]): TrustResult {
    const self = this.bySha.get(leaf.info.sha256 as string);
    if (self)
      return {
        status: 'trusted',
        anchor_sha256: self.info.sha256,
        anchor_subject: self.subjectDn,
        reason: 'certificate is a trust anchor',
      };
    if (leaf.issuerDn === leaf.subjectDn && leaf.info.self_signed !== false) {
      return { status: 'untrusted', anchor_sha256: null, anchor_subject: null, reason: 'self-signed' };
    }
    const presented = new Map<string, ParsedCertificate[]>();
    for (const c of chain) {
      const list = presented.get(c.subjectDn);
      if (list) list.push(c);
      else presented.set(c.subjectDn, [c]);
    }
    let failure: string | null = null;
    const visited = new Set<string>();
    const walk = (cert: ParsedCertificate, depth: number): TrustResult | null => {
      for (const anchor of this.bySubject.get(cert.issuerDn) ?? []) {
        const ok = isIssuedBy(cert, anchor);
        if (ok === true) {
          return {
            status: 'trusted',
            anchor_sha256: anchor.info.sha256,
            anchor_subject: anchor.subjectDn,
            reason:
              depth === 0 ? 'signed by a trust anchor' : `chains to a trust anchor through ${depth} presented intermediate(s)`,
          };
        }
        failure ??=
          ok === null
            ? `signature by "${anchor.subjectDn}" cannot be checked (unsupported algorithm or key)`
            : `signature does not verify with trust anchor "${anchor.subjectDn}"`;
      }
      if (depth >= MAX_DEPTH) return null;
      for (const inter of presented.get(cert.issuerDn) ?? []) {
        const sha = inter.info.sha256 as string;
        if (visited.has(sha) || !canIssue(inter)) continue;
        const ok = isIssuedBy(cert, inter);
        if (ok !== true) {
          failure ??= `signature does not verify with presented intermediate "${inter.subjectDn}"`;
          continue;
        }
        visited.add(sha);
        const up = walk(inter, depth + 1);
        if (up) return up;
      }
      return null;
    };
    const found = walk(leaf, 0);
    if (found) return found;
    return {
      status: 'untrusted',
      anchor_sha256: null,
      anchor_subject: null,
      reason: failure ?? `issuer "${leaf.issuerDn}" is not among the trust anchors`,
    };
  }
}
