// A real PKI for generated fleets: root, device issuing and workload automation CAs, leaf
// certificates, self-signed and foreign-CA certificates, and CRLs — ECDSA P-256 keys via WebCrypto,
// signed through @peculiar/x509. Key material is random; everything else (names, serials,
// validity) comes from the caller, so a plan made from a seed always describes the same PKI.
import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface KeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

/** A distinguished name as [attribute, value] pairs in DER order (most general first: C, O, OU, CN). */
export type Dn = readonly (readonly [string, string])[];

function escapeRfc4514(value: string): string {
  let out = value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** RFC 4514 string (most specific RDN first, comma-separated), e.g. `CN=alice,OU=IT,O=Example Corp`. */
export function dnToRfc4514(dn: Dn): string {
  return [...dn]
    .reverse()
    .map(([k, v]) => `${k}=${escapeRfc4514(v)}`)
    .join(',');
}

/** @peculiar/x509 parses a DN string in DER order, so hand it the pairs in that order. */
function dnToPeculiar(dn: Dn): string {
  return dn.map(([k, v]) => `${k}=${escapeRfc4514(v)}`).join(', ');
}

/** The common name of a DN (last CN in DER order), or null. */
export function dnCommonName(dn: Dn): string | null {
  for (let i = dn.length - 1; i >= 0; i--) if (dn[i][0] === 'CN') return dn[i][1];
  return null;
}

/** A generated certificate with the facts event writers need (no re-parsing per event). */
export interface FleetCertificate {
  /** The plan id this certificate was issued for. */
  id: string;
  pem: string;
  der: Uint8Array;
  /** SHA-256 of the DER, lowercase hex. */
  sha256: string;
  /** RFC 4514. */
  subject: string;
  subjectCn: string | null;
  issuer: string;
  issuerCn: string | null;
  /** Canonical serial: lowercase hex, no leading zeros. */
  serial: string;
  /** ISO 8601 UTC. */
  notBefore: string;
  notAfter: string;
  /** SAN values (e-mail, DNS, URI) in the order they were issued (UPNs are in `upn`: gateways rarely log otherNames). */
  altNames: string[];
  /** UPN SANs (otherName), usually empty. */
  upn: string[];
  keys: KeyPair;
}

/** What to issue. */
export interface CertificateSpec {
  id: string;
  subject: Dn;
  /** Hex serial (positive: first byte < 0x80). */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  email?: readonly string[];
  dns?: readonly string[];
  uri?: readonly string[];
  /** Microsoft UPN SANs (otherName 1.3.6.1.4.1.311.20.2.3), as AD CS puts an account into a certificate. */
  upn?: readonly string[];
  /** Reuse a key pair (key-reuse scenarios); a fresh one is generated otherwise. */
  keys?: KeyPair;
  ca?: boolean;
  /** A TLS server certificate (EKU serverAuth) instead of a client certificate. */
  serverAuth?: boolean;
}

export async function generateKeyPair(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as KeyPair;
}

function canonicalSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

function leafExtensions(spec: CertificateSpec): x509.Extension[] {
  const exts: x509.Extension[] = [];
  if (spec.ca) {
    exts.push(new x509.BasicConstraintsExtension(true, 0, true));
    exts.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true));
  } else {
    exts.push(new x509.BasicConstraintsExtension(false, undefined, true));
    exts.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
    const usage = spec.serverAuth ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth;
    exts.push(new x509.ExtendedKeyUsageExtension([usage], false));
  }
  const names: x509.JsonGeneralName[] = [
    ...(spec.email ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(spec.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.uri ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(spec.upn ?? []).map((value) => ({ type: 'upn' as const, value })),
  ];
  if (names.length > 0) exts.push(new x509.SubjectAlternativeNameExtension(names, false));
  return exts;
}

function wrap(id: string, spec: CertificateSpec, issuerDn: Dn, cert: x509.X509Certificate, keys: KeyPair): FleetCertificate {
  const der = new Uint8Array(cert.rawData);
  return {
    id,
    pem: cert.toString('pem'),
    der,
    sha256: createHash('sha256').update(der).digest('hex'),
    subject: dnToRfc4514(spec.subject),
    subjectCn: dnCommonName(spec.subject),
    issuer: dnToRfc4514(issuerDn),
    issuerCn: dnCommonName(issuerDn),
    serial: canonicalSerial(cert.serialNumber),
    notBefore: spec.notBefore.toISOString(),
    notAfter: spec.notAfter.toISOString(),
    altNames: [...(spec.email ?? []), ...(spec.dns ?? []), ...(spec.uri ?? [])],
    upn: [...(spec.upn ?? [])],
    keys,
  };
}

/** A certificate authority that can issue leaves, subordinate CAs and CRLs. */
export class FleetCA {
  readonly certificate: FleetCertificate;
  readonly dn: Dn;
  private readonly x509Cert: x509.X509Certificate;
  private akiExtension: x509.Extension | null = null;

  constructor(certificate: FleetCertificate, dn: Dn) {
    this.certificate = certificate;
    this.dn = dn;
    this.x509Cert = new x509.X509Certificate(certificate.der);
  }

  /** Issues a certificate signed by this CA. */
  async issue(spec: CertificateSpec): Promise<FleetCertificate> {
    const keys = spec.keys ?? (await generateKeyPair());
    this.akiExtension ??= await x509.AuthorityKeyIdentifierExtension.create(this.x509Cert);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: spec.serial,
      subject: dnToPeculiar(spec.subject),
      issuer: dnToPeculiar(this.dn),
      notBefore: spec.notBefore,
      notAfter: spec.notAfter,
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: this.certificate.keys.privateKey,
      extensions: [...leafExtensions(spec), this.akiExtension, await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
    });
    return wrap(spec.id, spec, this.dn, cert, keys);
  }

  /** Issues a subordinate CA (path length 0). */
  async subordinate(spec: Omit<CertificateSpec, 'ca'>): Promise<FleetCA> {
    const cert = await this.issue({ ...spec, ca: true });
    return new FleetCA(cert, spec.subject);
  }

  /** A CRL signed by this CA. Returns PEM and DER. */
  async crl(
    entries: readonly { serial: string; revokedAt: Date; reason?: x509.X509CrlReason }[],
    thisUpdate: Date,
    nextUpdate: Date,
  ): Promise<{ pem: string; der: Uint8Array }> {
    const crl = await x509.X509CrlGenerator.create({
      issuer: dnToPeculiar(this.dn),
      thisUpdate,
      nextUpdate,
      signingAlgorithm: ALG,
      signingKey: this.certificate.keys.privateKey,
      entries: entries.map((e) => ({
        serialNumber: e.serial,
        revocationDate: e.revokedAt,
        reason: e.reason ?? x509.X509CrlReason.keyCompromise,
      })),
      extensions: [this.akiExtension ?? (await x509.AuthorityKeyIdentifierExtension.create(this.x509Cert))],
    });
    return { pem: crl.toString('pem'), der: new Uint8Array(crl.rawData) };
  }
}

/** Creates a self-signed root CA. */
export async function createRootCA(spec: Omit<CertificateSpec, 'ca' | 'keys'>): Promise<FleetCA> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: spec.serial,
    name: dnToPeculiar(spec.subject),
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return new FleetCA(wrap(spec.id, spec, spec.subject, cert, keys), spec.subject);
}

/** A self-signed client (non-CA) certificate, as an attacker or a misconfigured client presents. */
export async function createSelfSignedLeaf(spec: CertificateSpec): Promise<FleetCertificate> {
  const keys = spec.keys ?? (await generateKeyPair());
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: spec.serial,
    name: dnToPeculiar(spec.subject),
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    signingAlgorithm: ALG,
    keys,
    extensions: leafExtensions({ ...spec, ca: false }),
  });
  return wrap(spec.id, spec, spec.subject, cert, keys);
}

export { x509 };
