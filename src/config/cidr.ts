// IPv4/IPv6 address and CIDR parsing and matching, for allowlist `source_cidr`. Strict parsing
// (no octal-looking octets, no ports), IPv4-mapped IPv6 (::ffff:a.b.c.d) matched as the IPv4 address.

/** A parsed IP address: 4 bytes (IPv4) or 16 bytes (IPv6), network order. */
export interface IpAddress {
  version: 4 | 6;
  bytes: Uint8Array;
}

/** A parsed network: address with host bits zero, and prefix length. */
export interface Cidr extends IpAddress {
  prefix: number;
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (!DECIMAL_OCTET.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | null {
  const doubleColon = text.indexOf('::');
  if (doubleColon !== -1 && text.indexOf('::', doubleColon + 1) !== -1) return null;
  const head = doubleColon === -1 ? text : text.slice(0, doubleColon);
  const tail = doubleColon === -1 ? '' : text.slice(doubleColon + 2);
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const words: number[] = [];
  const tailWords: number[] = [];
  const all = [...headGroups.map((g) => [g, words] as const), ...tailGroups.map((g) => [g, tailWords] as const)];
  for (let i = 0; i < all.length; i++) {
    const [group, target] = all[i];
    const lastOfAddress = i === all.length - 1 && (doubleColon === -1 || tailGroups.length > 0);
    if (lastOfAddress && group.includes('.')) {
      // Embedded IPv4 in the last 32 bits (::ffff:192.0.2.1, 64:ff9b::192.0.2.1).
      const v4 = parseIpv4(group);
      if (!v4) return null;
      target.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      continue;
    }
    if (!HEX_GROUP.test(group)) return null;
    target.push(Number.parseInt(group, 16));
  }
  const total = words.length + tailWords.length;
  if (doubleColon === -1 ? total !== 8 : total > 7) return null;
  const full = [...words, ...new Array<number>(8 - total).fill(0), ...tailWords];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[i * 2] = full[i] >> 8;
    bytes[i * 2 + 1] = full[i] & 0xff;
  }
  return bytes;
}

/**
 * Parses an IPv4 or IPv6 address (`[::1]` brackets and `%zone` suffixes accepted and ignored).
 * Returns null for anything else, including ports and octal-looking octets (`010.0.0.1`).
 */
export function parseIp(text: string): IpAddress | null {
  let value = text.trim();
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
  const zone = value.indexOf('%');
  if (zone !== -1) value = value.slice(0, zone);
  if (value.includes(':')) {
    const bytes = parseIpv6(value);
    return bytes ? { version: 6, bytes } : null;
  }
  const bytes = parseIpv4(value);
  return bytes ? { version: 4, bytes } : null;
}

/** Result of parseCidr: the network, or why the text is not one. */
export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; error: string };

/**
 * Parses `address/prefix` (or a bare address, meaning /32 or /128). Host bits must be zero:
 * `10.1.2.3/8` is refused with a suggestion (`10.0.0.0/8`), since it is usually a typo.
 */
export function parseCidr(text: string): CidrParse {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  if (addressText.includes('%') || addressText.includes('[')) {
    return { ok: false, error: 'a network cannot carry a zone or brackets' };
  }
  const address = parseIp(addressText);
  if (!address) return { ok: false, error: `"${addressText}" is not an IPv4 or IPv6 address` };
  const maxPrefix = address.version === 4 ? 32 : 128;
  let prefix = maxPrefix;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > maxPrefix) {
      return { ok: false, error: `prefix length must be 0..${maxPrefix}, got "${prefixText}"` };
    }
    prefix = Number(prefixText);
  }
  const masked = maskBytes(address.bytes, prefix);
  if (!bytesEqual(masked, address.bytes)) {
    const suggestion = `${formatIp({ version: address.version, bytes: masked })}/${prefix}`;
    return { ok: false, error: `host bits are set (did you mean ${suggestion}?)` };
  }
  return { ok: true, cidr: { version: address.version, bytes: masked, prefix } };
}

/** Whether `ip` lies in `cidr`. IPv4 and IPv4-mapped IPv6 (::ffff:a.b.c.d) are treated as the same address. */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  let bytes = ip.bytes;
  if (cidr.version !== ip.version) {
    if (cidr.version === 4) {
      if (!isV4Mapped(ip.bytes)) return false;
      bytes = ip.bytes.subarray(12);
    } else {
      bytes = mapV4(ip.bytes);
    }
  }
  const fullBytes = cidr.prefix >> 3;
  for (let i = 0; i < fullBytes; i++) if (bytes[i] !== cidr.bytes[i]) return false;
  const remainingBits = cidr.prefix & 7;
  if (remainingBits === 0) return true;
  const mask = (0xff << (8 - remainingBits)) & 0xff;
  return (bytes[fullBytes] & mask) === cidr.bytes[fullBytes];
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run compressed). */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) return Array.from(ip.bytes).join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((ip.bytes[i] << 8) | ip.bytes[i + 1]);
  let bestStart = -1;
  let bestLength = 1; // RFC 5952: a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bitsHere = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = bytes[i] & ((0xff << (8 - bitsHere)) & 0xff);
  }
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function mapV4(v4: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4, 12);
  return out;
}
