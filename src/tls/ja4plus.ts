// JA4S (server response) and JA4X (X.509 certificate) fingerprints.
//
// LICENSE NOTICE: JA4S and JA4X are part of JA4+ and are licensed by FoxIO under the FoxIO
// License 1.1, which permits non-commercial use only (see LICENSE and "License FAQ.md" in
// FoxIO-LLC/ja4). Unlike JA4 itself (BSD-3-Clause), certsignal computes them only when the user
// opts in (`--ja4plus`); commercial use needs a license from FoxIO.
import { hex4, isGrease, TlsParseError, toHex } from './bytes.ts';
import {
  alpnCode,
  count2,
  EMPTY_HASH,
  type Ja4Transport,
  ja4VersionCode,
  sha256Prefix12,
  transportChar,
} from './fingerprints.ts';
import type { ServerHello } from './hello.ts';

/**
 * JA4S of a ServerHello: `{t|q|d}{version}{extension count}{alpn}_{cipher}_{hash of extensions in
 * wire order}`, and `ja4s_r` with the raw extension list instead of the hash.
 * FoxIO License 1.1 (non-commercial): opt-in only.
 */
export function ja4s(sh: ServerHello, transport: Ja4Transport): { ja4s: string; ja4s_r: string } {
  let extensions = '';
  let n = 0;
  for (const e of sh.extensions) {
    if (isGrease(e.type)) continue;
    extensions += n === 0 ? hex4(e.type) : `,${hex4(e.type)}`;
    n++;
  }
  const alpn = sh.alpn === null ? null : Buffer.from(sh.alpn, 'latin1');
  const a = transportChar(transport) + ja4VersionCode(sh.version) + count2(n) + alpnCode(alpn);
  const cipher = hex4(sh.cipher_suite);
  return { ja4s: `${a}_${cipher}_${sha256Prefix12(extensions)}`, ja4s_r: `${a}_${cipher}_${extensions}` };
}

/** Minimal DER cursor: just enough to walk a certificate's TBS structure. */
interface Tlv {
  tag: number;
  start: number;
  end: number;
  next: number;
}

function tlv(der: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new TlsParseError('bad-der', 'certificate: truncated DER header');
  const tag = der[pos];
  let length = der[pos + 1];
  let start = pos + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > limit) throw new TlsParseError('bad-der', 'certificate: bad DER length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i];
    start += octets;
  }
  const end = start + length;
  if (end > limit) throw new TlsParseError('bad-der', 'certificate: DER value overruns its parent');
  return { tag, start, end, next: end };
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;

/** Hex of the attribute-type OIDs of a Name, in order across all RDNs. */
function nameOids(der: Uint8Array, name: Tlv): string[] {
  if (name.tag !== SEQUENCE) throw new TlsParseError('bad-der', 'certificate: Name is not a SEQUENCE');
  const out: string[] = [];
  for (let p = name.start; p < name.end; ) {
    const rdn = tlv(der, p, name.end);
    if (rdn.tag !== SET) throw new TlsParseError('bad-der', 'certificate: RDN is not a SET');
    for (let q = rdn.start; q < rdn.end; ) {
      const atv = tlv(der, q, rdn.end);
      const type = tlv(der, atv.start, atv.end);
      if (type.tag !== OID) throw new TlsParseError('bad-der', 'certificate: attribute type is not an OID');
      out.push(toHex(der.subarray(type.start, type.end)));
      q = atv.next;
    }
    p = rdn.next;
  }
  return out;
}

/**
 * JA4X of a DER certificate: `{issuer OIDs}_{subject OIDs}_{extension OIDs}`, each list the
 * hex of the OIDs' content bytes in certificate order, comma-joined, SHA-256 truncated to 12
 * (`000000000000` when empty); `ja4x_r` holds the lists themselves.
 * FoxIO License 1.1 (non-commercial): opt-in only.
 * @throws TlsParseError when the certificate's DER cannot be walked.
 */
export function ja4x(certDer: Uint8Array): { ja4x: string; ja4x_r: string } {
  const cert = tlv(certDer, 0, certDer.length);
  if (cert.tag !== SEQUENCE) throw new TlsParseError('bad-der', 'certificate: not a SEQUENCE');
  const tbs = tlv(certDer, cert.start, cert.end);
  if (tbs.tag !== SEQUENCE) throw new TlsParseError('bad-der', 'certificate: tbsCertificate is not a SEQUENCE');
  let p = tbs.start;
  let field = tlv(certDer, p, tbs.end);
  if (field.tag === 0xa0) field = tlv(certDer, field.next, tbs.end); // [0] version
  const signature = tlv(certDer, field.next, tbs.end); // field = serialNumber
  const issuer = tlv(certDer, signature.next, tbs.end);
  const validity = tlv(certDer, issuer.next, tbs.end);
  const subject = tlv(certDer, validity.next, tbs.end);
  const spki = tlv(certDer, subject.next, tbs.end);
  const extensionOids: string[] = [];
  for (p = spki.next; p < tbs.end; ) {
    const item = tlv(certDer, p, tbs.end);
    if (item.tag === 0xa3) {
      const list = tlv(certDer, item.start, item.end);
      for (let q = list.start; q < list.end; ) {
        const ext = tlv(certDer, q, list.end);
        const id = tlv(certDer, ext.start, ext.end);
        if (id.tag !== OID) throw new TlsParseError('bad-der', 'certificate: extnID is not an OID');
        extensionOids.push(toHex(certDer.subarray(id.start, id.end)));
        q = ext.next;
      }
    }
    p = item.next;
  }
  const issuerList = nameOids(certDer, issuer).join(',');
  const subjectList = nameOids(certDer, subject).join(',');
  const extensionList = extensionOids.join(',');
  const hash = (s: string) => (s === '' ? EMPTY_HASH : sha256Prefix12(s));
  return {
    ja4x: `${hash(issuerList)}_${hash(subjectList)}_${hash(extensionList)}`,
    ja4x_r: `${issuerList}_${subjectList}_${extensionList}`,
  };
}
