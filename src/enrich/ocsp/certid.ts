// The pieces of an OCSP CertID (RFC 6960 §4.1.1) and of certificates OCSP needs, read straight
// from the DER with the certificate module's reader: the AIA OCSP URLs of a certificate, the
// bytes of its issuer/subject Name fields, its serial INTEGER, and the issuer key hash input.
import { createHash } from 'node:crypto';
import { type DerNode, decodeOid, derChildren, readDer } from '../../normalize/certificate.ts';

const AIA_OID = '1.3.6.1.5.5.7.1.1';
const ID_AD_OCSP = '1.3.6.1.5.5.7.48.1';

/** The fields of a certificate's tbsCertificate OCSP needs, as DER slices. */
interface TbsFields {
  serialContent: Buffer;
  issuerName: Buffer;
  subjectName: Buffer;
  spki: Buffer;
  extensions: DerNode | null;
  der: Buffer;
}

function tbsFields(der: Buffer): TbsFields {
  const top = readDer(der, 0);
  const [tbs] = derChildren(der, top);
  const f = derChildren(der, tbs);
  let i = f[0]?.tag === 0xa0 ? 1 : 0;
  const serial = f[i++];
  i++; // signature algorithm
  const issuer = f[i++];
  i++; // validity
  const subject = f[i++];
  const spki = f[i++];
  if (!serial || !issuer || !subject || !spki || serial.tag !== 0x02) throw new Error('not a certificate');
  let extensions: DerNode | null = null;
  for (; i < f.length; i++) if (f[i].tag === 0xa3) extensions = f[i];
  return {
    serialContent: der.subarray(serial.contentStart, serial.end),
    issuerName: der.subarray(issuer.start, issuer.end),
    subjectName: der.subarray(subject.start, subject.end),
    spki: der.subarray(spki.start, spki.end),
    extensions,
    der,
  };
}

/**
 * OCSP responder URLs from the certificate's Authority Information Access extension, in order
 * (every id-ad-ocsp uniformResourceIdentifier). Empty when there is none or it does not parse.
 */
export function ocspUrls(der: Buffer): string[] {
  const out: string[] = [];
  try {
    const { extensions } = tbsFields(der);
    if (!extensions) return out;
    const seq = readDer(der, extensions.contentStart, extensions.end);
    for (const ext of derChildren(der, seq)) {
      const parts = derChildren(der, ext);
      if (parts[0]?.tag !== 0x06 || decodeOid(der, parts[0]) !== AIA_OID) continue;
      const value = parts[parts.length - 1];
      if (value.tag !== 0x04) return out;
      const aia = readDer(der, value.contentStart, value.end);
      for (const ad of derChildren(der, aia)) {
        const [method, location] = derChildren(der, ad);
        if (method?.tag !== 0x06 || decodeOid(der, method) !== ID_AD_OCSP) continue;
        // accessLocation GeneralName: uniformResourceIdentifier [6] IA5String.
        if (location?.tag === 0x86) out.push(der.subarray(location.contentStart, location.end).toString('latin1'));
      }
    }
  } catch {
    // A malformed AIA is the same as none: the lookup reports `no-aia`.
  }
  return out;
}

/** What identifies a certificate to its issuer's responder (the hash inputs, not the hashes). */
export interface CertIdInput {
  /** DER of the issuer Name (the checked certificate's issuer field, else the issuer's subject). */
  issuerName: Buffer;
  /** The issuer's subjectPublicKey BIT STRING value (without the unused-bits octet). */
  issuerKey: Buffer;
  /** Content octets of the serialNumber INTEGER. */
  serial: Buffer;
}

/** Hash algorithms a CertID may use (OID → node:crypto name). */
export const CERTID_HASHES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
export const SHA1_OID = '1.3.14.3.2.26';

/** The subjectPublicKey bits of a SubjectPublicKeyInfo (what issuerKeyHash and byKey hash). */
export function publicKeyBits(spki: Buffer): Buffer {
  const top = readDer(spki, 0);
  const [, bits] = derChildren(spki, top);
  if (!bits || bits.tag !== 0x03) throw new Error('SubjectPublicKeyInfo has no BIT STRING');
  return spki.subarray(bits.contentStart + 1, bits.end);
}

/** CertID inputs for a certificate whose DER is known, issued by `issuerSpki`. */
export function certIdFromDer(leafDer: Buffer, issuerSpki: Buffer): CertIdInput {
  const leaf = tbsFields(leafDer);
  return { issuerName: leaf.issuerName, issuerKey: publicKeyBits(issuerSpki), serial: leaf.serialContent };
}

/**
 * CertID inputs when only the logged serial is known: the issuer Name comes from the issuer
 * certificate's subject field.
 */
export function certIdFromSerial(serialHex: string, issuerDer: Buffer, issuerSpki: Buffer): CertIdInput {
  return { issuerName: tbsFields(issuerDer).subjectName, issuerKey: publicKeyBits(issuerSpki), serial: serialContent(serialHex) };
}

/** DER INTEGER content octets for a canonical positive hex serial (a 0x00 pad keeps it positive). */
export function serialContent(serialHex: string): Buffer {
  const hex = serialHex.length % 2 ? `0${serialHex}` : serialHex;
  const bytes = Buffer.from(hex, 'hex');
  return bytes.length === 0 || bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

/** The two CertID hashes under one algorithm. */
export function certIdHashes(input: CertIdInput, hash: string): { nameHash: Buffer; keyHash: Buffer } {
  return {
    nameHash: createHash(hash).update(input.issuerName).digest(),
    keyHash: createHash(hash).update(input.issuerKey).digest(),
  };
}
