// Certificate serial numbers as logs write them → the one canonical form certsignal compares:
// lowercase hex, no colons/spaces, no leading zeros ("0" for zero), `-` + magnitude for negative
// serials (the OpenSSL/Zeek/nginx convention). A serial alone never identifies a certificate:
// always pair it with the issuer.
import { canonicalSerialHex } from './certificate.ts';

const HEX_RE = /^-?(0x)?[0-9a-fA-F]+$/;
const DEC_RE = /^-?[0-9]+$/;

/**
 * Canonical serial from logged text, or null when it is not a serial in the given format.
 * `hex` accepts `00:C7:D4`, `c7d4`, `0xC7D4`, `C7 D4`; `decimal` (step-ca, AD CS in places)
 * accepts base-10 digits and converts them.
 */
export function canonicalSerial(
  text: string | number | bigint | null | undefined,
  format: 'hex' | 'decimal' = 'hex',
): string | null {
  if (text === null || text === undefined) return null;
  if (typeof text === 'number' || typeof text === 'bigint') {
    if (typeof text === 'number' && !Number.isSafeInteger(text)) return null;
    const v = BigInt(text);
    return v < 0n ? `-${(-v).toString(16)}` : v.toString(16);
  }
  const trimmed = text.trim();
  if (trimmed.length === 0) return null;
  if (format === 'decimal') {
    if (!DEC_RE.test(trimmed)) return null;
    const v = BigInt(trimmed);
    return v < 0n ? `-${(-v).toString(16)}` : v.toString(16);
  }
  const compact = trimmed.replace(/[:\s]/g, '');
  if (!HEX_RE.test(compact)) return null;
  return canonicalSerialHex(compact);
}
