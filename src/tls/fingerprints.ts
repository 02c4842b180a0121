// TLS client/server fingerprints computed exactly as their public specifications say, so that a
// value from certsignal matches the same value in a threat-intel feed:
// - JA3 / JA3S (salesforce/ja3 README, BSD-3-Clause): MD5 of a decimal comma string, GREASE removed (RFC 8701).
// - JA4 (FoxIO technical_details/JA4.md, BSD-3-Clause) with the _r, _o and _ro variants.
// JA4S and JA4X are under the FoxIO License 1.1 (non-commercial); they live in ./ja4plus.ts and are
// re-exported here for one import site — callers must only use them when the user opted in.
import { createHash } from 'node:crypto';
import { hex4, isGrease, toHex } from './bytes.ts';
import { alpnNames, type ClientHello, ExtensionType, type ServerHello } from './hello.ts';

export { ja4s, ja4x } from './ja4plus.ts';

/** How the hello travelled: TLS over TCP, QUIC, or DTLS. The first JA4 character. */
export type Ja4Transport = 'tcp' | 'quic' | 'dtls';

/** The value JA4 prints for an empty list instead of hashing nothing. */
export const EMPTY_HASH = '000000000000';

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** First 12 hex characters of SHA-256(text), or {@link EMPTY_HASH} for an empty list. */
export function sha256Prefix12(text: string): string {
  return text === '' ? EMPTY_HASH : createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function withoutGrease(values: readonly number[]): number[] {
  const out: number[] = [];
  for (const v of values) if (!isGrease(v)) out.push(v);
  return out;
}

/** JA3 of a ClientHello: `version,ciphers,extensions,groups,point_formats` (decimal, `-` joined) and its MD5. */
export function ja3(ch: ClientHello): { hash: string; string: string } {
  const extensionTypes: number[] = [];
  for (const e of ch.extensions) if (!isGrease(e.type)) extensionTypes.push(e.type);
  const text = [
    ch.legacy_version,
    withoutGrease(ch.cipher_suites).join('-'),
    extensionTypes.join('-'),
    withoutGrease(ch.supported_groups).join('-'),
    ch.ec_point_formats.join('-'),
  ].join(',');
  return { hash: md5(text), string: text };
}

/** JA3S of a ServerHello: `version,cipher,extensions` (decimal) and its MD5. */
export function ja3s(sh: ServerHello): { hash: string; string: string } {
  const extensionTypes: number[] = [];
  for (const e of sh.extensions) if (!isGrease(e.type)) extensionTypes.push(e.type);
  const text = `${sh.legacy_version},${sh.cipher_suite},${extensionTypes.join('-')}`;
  return { hash: md5(text), string: text };
}

/** The two-character JA4 version code (`13`, `12`, … `s3`, `s2`, `d1`, `d2`, `d3`, else `00`). */
export function ja4VersionCode(version: number): string {
  switch (version) {
    case 0x0304:
      return '13';
    case 0x0303:
      return '12';
    case 0x0302:
      return '11';
    case 0x0301:
      return '10';
    case 0x0300:
      return 's3';
    case 0x0002:
      return 's2';
    case 0xfeff:
      return 'd1';
    case 0xfefd:
      return 'd2';
    case 0xfefc:
      return 'd3';
    default:
      return '00';
  }
}

export function transportChar(transport: Ja4Transport): string {
  return transport === 'quic' ? 'q' : transport === 'dtls' ? 'd' : 't';
}

/** A count as two digits, capped at 99. */
export function count2(n: number): string {
  return n > 99 ? '99' : n < 10 ? `0${n}` : String(n);
}

function isAlnum(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

/**
 * JA4's ALPN code: first and last character of the first ALPN value; `00` when there is none or
 * it is empty; when either end byte is not ASCII alphanumeric, first and last hex digit instead.
 */
export function alpnCode(first: Uint8Array | null | undefined): string {
  if (!first || first.length === 0) return '00';
  const a = first[0];
  const z = first[first.length - 1];
  if (isAlnum(a) && isAlnum(z)) return String.fromCharCode(a, z);
  const hex = toHex(first);
  return hex[0] + hex[hex.length - 1];
}

/** Raw bytes of the first ALPN value in an extension list, or null. */
export function firstAlpn(extensions: readonly { type: number; data: Uint8Array }[]): Uint8Array | null {
  for (const e of extensions) {
    if (e.type !== ExtensionType.ALPN) continue;
    try {
      const names = alpnNames(e.data);
      return names.length > 0 ? names[0] : null;
    } catch {
      return null;
    }
  }
  return null;
}

function hexList(values: readonly number[]): string {
  let out = '';
  for (let i = 0; i < values.length; i++) out += i === 0 ? hex4(values[i]) : `,${hex4(values[i])}`;
  return out;
}

/**
 * JA4 of a ClientHello and its variants: `ja4` (sorted, hashed), `ja4_r` (sorted, raw),
 * `ja4_o` (original order, hashed; SNI and ALPN kept), `ja4_ro` (original order, raw).
 */
export function ja4(ch: ClientHello, transport: Ja4Transport): { ja4: string; ja4_r: string; ja4_o: string; ja4_ro: string } {
  const ciphers = withoutGrease(ch.cipher_suites);
  const extensionsOriginal: number[] = [];
  for (const e of ch.extensions) if (!isGrease(e.type)) extensionsOriginal.push(e.type);
  const signatureAlgorithms = withoutGrease(ch.signature_algorithms);

  const a =
    transportChar(transport) +
    ja4VersionCode(ch.version) +
    (ch.extensions.some((e) => e.type === ExtensionType.SERVER_NAME) ? 'd' : 'i') +
    count2(ciphers.length) +
    count2(extensionsOriginal.length) +
    alpnCode(firstAlpn(ch.extensions));

  const ciphersSorted = hexList([...ciphers].sort((x, y) => x - y));
  const ciphersOriginal = hexList(ciphers);
  const extSortedValues = extensionsOriginal
    .filter((t) => t !== ExtensionType.SERVER_NAME && t !== ExtensionType.ALPN)
    .sort((x, y) => x - y);
  const extSorted = hexList(extSortedValues);
  const extOriginal = hexList(extensionsOriginal);
  const sig = signatureAlgorithms.length > 0 ? `_${hexList(signatureAlgorithms)}` : '';

  // The spec's empty rule applies to the sorted list (SNI and ALPN removed); FoxIO's reference
  // output applies the same test to the _o hash, so a hello whose only extensions are SNI/ALPN
  // prints 000000000000 in both.
  const noExtensions = extSortedValues.length === 0;
  const cSorted = noExtensions ? EMPTY_HASH : sha256Prefix12(extSorted + sig);
  const cOriginal = noExtensions ? EMPTY_HASH : sha256Prefix12(extOriginal + sig);
  return {
    ja4: `${a}_${sha256Prefix12(ciphersSorted)}_${cSorted}`,
    ja4_r: `${a}_${ciphersSorted}_${extSorted}${sig}`,
    ja4_o: `${a}_${sha256Prefix12(ciphersOriginal)}_${cOriginal}`,
    ja4_ro: `${a}_${ciphersOriginal}_${extOriginal}${sig}`,
  };
}
