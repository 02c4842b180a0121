// A tiny real PKI for tests: CAs, leaf certificates and CRLs with real keys and signatures
// (ECDSA P-256 via WebCrypto, through @peculiar/x509). Nothing here is mocked.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
let serialCounter = 0x1000;

export interface TestKeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

export interface TestCert {
  pem: string;
  der: Uint8Array;
  cert: x509.X509Certificate;
  keys: TestKeyPair;
  /** Canonical serial (lowercase hex, no leading zeros). */
  serial: string;
}

export interface IssueOptions {
  /** DN in x509 string form, e.g. `CN=alice, O=Example`. */
  subject: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Hex serial; a fresh one is chosen when omitted. */
  serial?: string;
  /** Reuse an existing key pair (key-reuse tests). */
  keys?: TestKeyPair;
  dns?: string[];
  /** URI SANs (e.g. SPIFFE IDs). */
  uri?: string[];
  email?: string[];
  upn?: string[];
  /** EKU OIDs; default clientAuth. */
  eku?: string[];
  ca?: boolean;
}

export async function generateKeys(): Promise<TestKeyPair> {
  return (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as TestKeyPair;
}

function nextSerial(): string {
  serialCounter += 1;
  return serialCounter.toString(16).padStart(8, '0');
}

function canonicalSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

function wrap(cert: x509.X509Certificate, keys: TestKeyPair): TestCert {
  const der = new Uint8Array(cert.rawData);
  return { pem: cert.toString('pem'), der, cert, keys, serial: canonicalSerial(cert.serialNumber) };
}

function extensionsFor(o: IssueOptions): x509.Extension[] {
  const exts: x509.Extension[] = [];
  if (o.ca) {
    exts.push(new x509.BasicConstraintsExtension(true, undefined, true));
    exts.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true));
  } else {
    exts.push(new x509.BasicConstraintsExtension(false, undefined, true));
    exts.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
    exts.push(new x509.ExtendedKeyUsageExtension(o.eku ?? [x509.ExtendedKeyUsage.clientAuth], false));
  }
  const names: x509.JsonGeneralName[] = [
    ...(o.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(o.email ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(o.upn ?? []).map((value) => ({ type: 'upn' as const, value })),
    ...(o.uri ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length > 0) exts.push(new x509.SubjectAlternativeNameExtension(names, false));
  return exts;
}

const DAY = 86_400_000;

export class TestCA {
  readonly cert: TestCert;
  constructor(cert: TestCert) {
    this.cert = cert;
  }

  get name(): string {
    return this.cert.cert.subject;
  }

  /** Issue a leaf (or intermediate, with `ca: true`) signed by this CA. */
  async issue(o: IssueOptions): Promise<TestCert> {
    const keys = o.keys ?? (await generateKeys());
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: o.serial ?? nextSerial(),
      subject: o.subject,
      issuer: this.cert.cert.subject,
      notBefore: o.notBefore ?? new Date(now - DAY),
      notAfter: o.notAfter ?? new Date(now + 365 * DAY),
      signingAlgorithm: alg,
      publicKey: keys.publicKey,
      signingKey: this.cert.keys.privateKey,
      extensions: [
        ...extensionsFor(o),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert.cert),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return wrap(cert, keys);
  }

  /** Issue a subordinate CA. */
  async subordinate(subject: string): Promise<TestCA> {
    return new TestCA(await this.issue({ subject, ca: true }));
  }

  /** A CRL signed by this CA listing the given serials (hex). Returns DER. */
  async crl(
    revoked: { serial: string; date?: Date; reason?: x509.X509CrlReason }[],
    o: { thisUpdate?: Date; nextUpdate?: Date; signingKey?: CryptoKey } = {},
  ): Promise<{ der: Uint8Array; pem: string }> {
    const now = Date.now();
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.cert.cert.subject,
      thisUpdate: o.thisUpdate ?? new Date(now - DAY),
      nextUpdate: o.nextUpdate ?? new Date(now + 7 * DAY),
      signingAlgorithm: alg,
      signingKey: o.signingKey ?? this.cert.keys.privateKey,
      entries: revoked.map((r) => ({
        serialNumber: r.serial,
        revocationDate: r.date ?? new Date(now - DAY),
        reason: r.reason ?? x509.X509CrlReason.keyCompromise,
      })),
    });
    return { der: new Uint8Array(crl.rawData), pem: crl.toString('pem') };
  }
}

/** A self-signed root CA. */
export async function createRootCA(subject = 'CN=Test Root CA, O=certsignal tests'): Promise<TestCA> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: subject,
    notBefore: new Date(Date.now() - 30 * DAY),
    notAfter: new Date(Date.now() + 3650 * DAY),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return new TestCA(wrap(cert, keys));
}

/** A self-signed leaf (not a CA), as an attacker or a misconfigured client would present. */
export async function createSelfSignedLeaf(o: IssueOptions): Promise<TestCert> {
  const keys = o.keys ?? (await generateKeys());
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: o.serial ?? nextSerial(),
    name: o.subject,
    notBefore: o.notBefore ?? new Date(Date.now() - DAY),
    notAfter: o.notAfter ?? new Date(Date.now() + 365 * DAY),
    signingAlgorithm: alg,
    keys,
    extensions: extensionsFor(o),
  });
  return wrap(cert, keys);
}
