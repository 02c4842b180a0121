// IP parsing and the special-purpose ranges that are never geolocated. An address in one of these
// ranges says nothing about where a person is (a private address is wherever the network it
// belongs to is; a documentation or multicast address should not appear as a client at all), so
// it gets an explicit status instead of a database lookup — and never a guess.
// Sources: IANA IPv4 / IPv6 Special-Purpose Address Registries (RFC 6890 and successors),
// RFC 1918, RFC 6598 (shared address space, CGNAT), RFC 4193 (unique local), RFC 4291, RFC 5737,
// RFC 3849 and RFC 9637 (documentation), RFC 6052 / RFC 8215 (NAT64), RFC 3056 (6to4).
import { isIP } from 'node:net';

/** A parsed address: 4 bytes (IPv4) or 16 bytes (IPv6), network byte order. */
export interface ParsedIp {
  version: 4 | 6;
  bytes: Uint8Array;
}

/** `private`: inside some organisation's or provider's network; `reserved`: not a real client address. */
export type SpecialKind = 'private' | 'reserved';

/** A special-purpose range an address fell into. `label` is a stable short name (see docs/geo.md). */
export interface SpecialRange {
  kind: SpecialKind;
  label: string;
  cidr: string;
}

/**
 * Parses an IPv4 or IPv6 address as logs write it: surrounding brackets (`[2001:db8::1]`) and an
 * IPv6 zone (`fe80::1%eth0`) are accepted and dropped. Returns null for anything else (host
 * names, addresses with ports, garbage).
 */
export function parseIp(text: string): ParsedIp | null {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0 && s.includes(':')) s = s.slice(0, zone);
  const version = isIP(s);
  if (version === 4) return { version: 4, bytes: Uint8Array.from(s.split('.').map(Number)) };
  if (version !== 6) return null;
  const bytes = new Uint8Array(16);
  let tail = s;
  let v4: number[] | null = null;
  // A trailing dotted quad (`::ffff:192.0.2.1`) fills the last 32 bits.
  const lastColon = tail.lastIndexOf(':');
  if (tail.slice(lastColon + 1).includes('.')) {
    v4 = tail
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    tail = `${tail.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = tail.includes('::') ? tail.split('::') : [tail, null];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === null || rest === '' ? [] : rest.split(':');
  const groups =
    rest === null
      ? headGroups
      : [...headGroups, ...new Array(8 - headGroups.length - restGroups.length).fill('0'), ...restGroups];
  for (let i = 0; i < 8; i++) {
    const g = Number.parseInt(groups[i], 16);
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  }
  if (v4 !== null) bytes.set(v4, 12);
  return { version: 6, bytes };
}

/**
 * The IPv4 address an IPv6 address stands for, when it embeds one by definition: IPv4-mapped
 * (`::ffff:0:0/96`), the NAT64 well-known prefix (`64:ff9b::/96`) and 6to4 (`2002::/16`). Such an
 * address is classified and looked up as that IPv4 address (GeoIP databases alias them the same way).
 */
export function embeddedIpv4(ip: ParsedIp): ParsedIp | null {
  if (ip.version !== 6) return null;
  const b = ip.bytes;
  const zeros = (from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return { version: 4, bytes: b.slice(12, 16) };
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12))
    return { version: 4, bytes: b.slice(12, 16) };
  if (b[0] === 0x20 && b[1] === 0x02) return { version: 4, bytes: b.slice(2, 6) };
  return null;
}

/** Canonical text: dotted quad, or eight uncompressed hex groups for IPv6. */
export function formatIp(ip: ParsedIp): string {
  if (ip.version === 4) return Array.from(ip.bytes).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i] << 8) | ip.bytes[i + 1]).toString(16));
  return groups.join(':');
}

interface RangeEntry extends SpecialRange {
  bytes: Uint8Array;
  prefix: number;
}

function entry(cidr: string, kind: SpecialKind, label: string): RangeEntry {
  const [addr, len] = cidr.split('/');
  const parsed = parseIp(addr);
  if (parsed === null) throw new Error(`bad range ${cidr}`);
  return { cidr, kind, label, bytes: parsed.bytes, prefix: Number(len) };
}

// Most specific first where ranges nest (255.255.255.255 inside 240.0.0.0/4).
const IPV4_RANGES: readonly RangeEntry[] = [
  entry('0.0.0.0/8', 'reserved', 'this-network'),
  entry('10.0.0.0/8', 'private', 'rfc1918'),
  entry('100.64.0.0/10', 'private', 'cgnat'),
  entry('127.0.0.0/8', 'private', 'loopback'),
  entry('169.254.0.0/16', 'private', 'link-local'),
  entry('172.16.0.0/12', 'private', 'rfc1918'),
  entry('192.0.0.0/24', 'reserved', 'ietf-protocol'),
  entry('192.0.2.0/24', 'reserved', 'documentation'),
  entry('192.88.99.0/24', 'reserved', '6to4-relay'),
  entry('192.168.0.0/16', 'private', 'rfc1918'),
  entry('198.18.0.0/15', 'reserved', 'benchmarking'),
  entry('198.51.100.0/24', 'reserved', 'documentation'),
  entry('203.0.113.0/24', 'reserved', 'documentation'),
  entry('224.0.0.0/4', 'reserved', 'multicast'),
  entry('255.255.255.255/32', 'reserved', 'broadcast'),
  entry('240.0.0.0/4', 'reserved', 'future-use'),
];

const IPV6_RANGES: readonly RangeEntry[] = [
  entry('::/128', 'reserved', 'unspecified'),
  entry('::1/128', 'private', 'loopback'),
  entry('64:ff9b:1::/48', 'private', 'nat64-local'),
  entry('100::/64', 'reserved', 'discard-only'),
  entry('2001:db8::/32', 'reserved', 'documentation'),
  entry('2001::/23', 'reserved', 'ietf-protocol'),
  entry('3fff::/20', 'reserved', 'documentation'),
  entry('fc00::/7', 'private', 'unique-local'),
  entry('fe80::/10', 'private', 'link-local'),
  entry('fec0::/10', 'private', 'site-local'),
  entry('ff00::/8', 'reserved', 'multicast'),
];

/** Everything outside 2000::/3 that no entry above names is not global unicast (unassigned). */
const GLOBAL_UNICAST = entry('2000::/3', 'reserved', 'not-global-unicast');

function inRange(bytes: Uint8Array, r: RangeEntry): boolean {
  const full = r.prefix >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== r.bytes[i]) return false;
  const bits = r.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (bytes[full] & mask) === (r.bytes[full] & mask);
}

/**
 * The special-purpose range an address is in, or null for a public (geolocatable) address.
 * Pass the address after `embeddedIpv4` so that `::ffff:10.0.0.1` is seen as 10.0.0.1.
 */
export function specialRange(ip: ParsedIp): SpecialRange | null {
  const table = ip.version === 4 ? IPV4_RANGES : IPV6_RANGES;
  for (const r of table) {
    if (inRange(ip.bytes, r)) return { kind: r.kind, label: r.label, cidr: r.cidr };
  }
  if (ip.version === 6 && !inRange(ip.bytes, GLOBAL_UNICAST))
    return { kind: 'reserved', label: 'not-global-unicast', cidr: 'outside 2000::/3' };
  return null;
}
