// A minimal MaxMind DB (.mmdb) writer, for tests only: certsignal never writes these, but its
// tests need small databases with known contents (real GeoLite2 / DB-IP files are large and
// licensed). Written from the MaxMind DB File Format Specification v2.0:
// - a binary search tree, one level per address bit; each node holds two records (left = bit 0,
//   right = bit 1) of 24, 28 or 32 bits. A record < node_count is a node; == node_count means "no
//   data"; > node_count points into the data section at (record − node_count − 16);
// - 16 zero bytes, then the data section: fields with a control byte (type in the top 3 bits,
//   size in the low 5; types above 7 are "extended": type 0 plus a following byte type − 7; sizes
//   29/30/31 continue in 1/2/3 following bytes);
// - "\xAB\xCD\xEFMaxMind.com" and the metadata map.
// IPv4 networks in an IPv6 tree live at ::a.b.c.d/(96+len); `aliasIpv4Mapped` also points
// ::ffff:0:0/96 at that subtree, as MaxMind's own databases do.

/** A double (type 3): plain non-integer numbers are written as doubles too. */
export class MmdbDouble {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}
/** An unsigned integer of an explicit type (plain integers are written as uint32). */
export class MmdbUint {
  readonly value: bigint;
  readonly bits: 16 | 32 | 64 | 128;
  constructor(value: number | bigint, bits: 16 | 32 | 64 | 128) {
    this.value = BigInt(value);
    this.bits = bits;
  }
}
export const dbl = (n: number) => new MmdbDouble(n);
export const u16 = (n: number) => new MmdbUint(n, 16);
export const u64 = (n: number | bigint) => new MmdbUint(n, 64);

export type MmdbValue =
  | string
  | number
  | boolean
  | MmdbDouble
  | MmdbUint
  | Uint8Array
  | MmdbValue[]
  | { [key: string]: MmdbValue };

export interface MmdbNetwork {
  /** `a.b.c.d/len` or `ipv6/len`. */
  network: string;
  data: MmdbValue;
}

export interface MmdbOptions {
  databaseType: string;
  ipVersion?: 4 | 6;
  recordSize?: 24 | 28 | 32;
  /** Seconds since the epoch (default 2026-01-01T00:00:00Z). */
  buildEpoch?: number;
  languages?: string[];
  description?: Record<string, string>;
  /** IPv6 databases: point ::ffff:0:0/96 at the IPv4 subtree (default false). */
  aliasIpv4Mapped?: boolean;
}

// ---- data section encoding ------------------------------------------------------------------

function control(type: number, size: number): number[] {
  const out: number[] = [];
  let sizeBits: number;
  const extra: number[] = [];
  if (size < 29) sizeBits = size;
  else if (size < 29 + 256) {
    sizeBits = 29;
    extra.push(size - 29);
  } else if (size < 285 + 65536) {
    sizeBits = 30;
    const v = size - 285;
    extra.push(v >> 8, v & 0xff);
  } else {
    if (size > 65821 + 0xffffff) throw new Error(`field of ${size} bytes is larger than the format allows (16,843,036)`);
    sizeBits = 31;
    const v = size - 65821;
    extra.push((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
  }
  if (type <= 7) out.push((type << 5) | sizeBits);
  else out.push(sizeBits, type - 7);
  return [...out, ...extra];
}

function uintBytes(v: bigint): number[] {
  const out: number[] = [];
  let x = v;
  while (x > 0n) {
    out.unshift(Number(x & 0xffn));
    x >>= 8n;
  }
  return out;
}

/** Encodes one value (no pointers: every value is written in full). */
export function encodeValue(value: MmdbValue): Buffer {
  const ctl = (type: number, size: number, payload: Buffer[] = []) =>
    Buffer.concat([Buffer.from(control(type, size)), ...payload]);
  if (typeof value === 'string') {
    const b = Buffer.from(value, 'utf8');
    return ctl(2, b.length, [b]);
  }
  if (typeof value === 'boolean') return ctl(14, value ? 1 : 0);
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) return encodeValue(new MmdbUint(value, 32));
    if (Number.isInteger(value) && value < 0 && value >= -0x80000000) {
      const b = Buffer.alloc(4);
      b.writeInt32BE(value);
      return ctl(8, 4, [b]);
    }
    return encodeValue(new MmdbDouble(value));
  }
  if (value instanceof MmdbDouble) {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(value.value);
    return ctl(3, 8, [b]);
  }
  if (value instanceof MmdbUint) {
    const b = Buffer.from(uintBytes(value.value));
    const type = value.bits === 16 ? 5 : value.bits === 32 ? 6 : value.bits === 64 ? 9 : 10;
    return ctl(type, b.length, [b]);
  }
  if (value instanceof Uint8Array) return ctl(4, value.length, [Buffer.from(value)]);
  if (Array.isArray(value)) return ctl(11, value.length, value.map(encodeValue));
  const entries = Object.entries(value);
  return ctl(
    7,
    entries.length,
    entries.flatMap(([k, v]) => [encodeValue(k), encodeValue(v)]),
  );
}

// ---- search tree ----------------------------------------------------------------------------

interface TreeNode {
  children: [Child, Child];
}
type Child = TreeNode | { data: number } | null;

function isNode(c: Child): c is TreeNode {
  return c !== null && 'children' in c;
}

function parseAddress(text: string): number[] {
  if (!text.includes(':')) return text.split('.').map(Number);
  let head = text;
  let v4: number[] = [];
  const last = text.lastIndexOf(':');
  if (text.slice(last + 1).includes('.')) {
    v4 = text
      .slice(last + 1)
      .split('.')
      .map(Number);
    head = `${text.slice(0, last + 1)}0:0`;
  }
  const [l, r] = head.includes('::') ? head.split('::') : [head, null];
  const lg = l === '' ? [] : l.split(':');
  const rg = r === null || r === '' ? [] : r.split(':');
  const groups = r === null ? lg : [...lg, ...new Array(8 - lg.length - rg.length).fill('0'), ...rg];
  const bytes = groups.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
  if (v4.length === 4) bytes.splice(12, 4, ...v4);
  return bytes;
}

function bitsOf(network: string, ipVersion: 4 | 6): { bits: number[]; prefix: number } {
  const [addr, len] = network.split('/');
  let bytes = parseAddress(addr);
  let prefix = Number(len);
  if (bytes.length === 4 && ipVersion === 6) {
    bytes = [...new Array(12).fill(0), ...bytes];
    prefix += 96;
  }
  if (bytes.length === 16 && ipVersion === 4) throw new Error(`IPv6 network ${network} in an IPv4 database`);
  if (!(prefix >= 1 && prefix <= bytes.length * 8)) throw new Error(`bad prefix in ${network}`);
  const bits: number[] = [];
  for (let i = 0; i < prefix; i++) bits.push((bytes[i >> 3] >> (7 - (i & 7))) & 1);
  return { bits, prefix };
}

function insert(root: TreeNode, bits: number[], data: number): void {
  let node = root;
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    if (i === bits.length - 1) {
      node.children[b] = { data };
      return;
    }
    const child = node.children[b];
    if (isNode(child)) node = child;
    else {
      // A more specific network inside a data leaf: the leaf's value covers both halves below.
      const next: TreeNode = { children: [child, child] };
      node.children[b] = next;
      node = next;
    }
  }
}

/** Builds a complete .mmdb file. Networks are inserted shortest prefix first (more specific wins). */
export function writeMmdb(networks: readonly MmdbNetwork[], options: MmdbOptions): Buffer {
  const ipVersion = options.ipVersion ?? 6;
  const recordSize = options.recordSize ?? 28;
  // Data section: each distinct value once.
  const data: Buffer[] = [];
  let dataSize = 0;
  const offsets = new Map<string, number>();
  const prepared = networks.map((n) => {
    const key = JSON.stringify(n.data, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? [...v] : v));
    let offset = offsets.get(key);
    if (offset === undefined) {
      offset = dataSize;
      offsets.set(key, offset);
      const encoded = encodeValue(n.data);
      data.push(encoded);
      dataSize += encoded.length;
    }
    return { ...bitsOf(n.network, ipVersion), offset };
  });
  prepared.sort((a, b) => a.prefix - b.prefix);
  const root: TreeNode = { children: [null, null] };
  for (const p of prepared) insert(root, p.bits, p.offset);
  if (ipVersion === 6 && options.aliasIpv4Mapped) {
    // Walk/create ::/96, then make ::ffff:0:0/96 the same subtree.
    let v4root = root;
    for (let i = 0; i < 96; i++) {
      const c = v4root.children[0];
      if (isNode(c)) v4root = c;
      else {
        const next: TreeNode = { children: [c, c] };
        v4root.children[0] = next;
        v4root = next;
      }
    }
    const mapped = bitsOf('::ffff:0:0/96', 6).bits;
    let node = root;
    for (let i = 0; i < 95; i++) {
      const c = node.children[mapped[i]];
      if (isNode(c)) node = c;
      else {
        const next: TreeNode = { children: [c, c] };
        node.children[mapped[i]] = next;
        node = next;
      }
    }
    node.children[mapped[95]] = v4root;
  }
  // Number the nodes breadth first (root = 0); a shared subtree keeps one number.
  const order: TreeNode[] = [];
  const numbers = new Map<TreeNode, number>();
  const queue: TreeNode[] = [root];
  while (queue.length > 0) {
    const n = queue.shift() as TreeNode;
    if (numbers.has(n)) continue;
    numbers.set(n, order.length);
    order.push(n);
    for (const c of n.children) if (isNode(c) && !numbers.has(c)) queue.push(c);
  }
  const nodeCount = order.length;
  const record = (c: Child): number => {
    if (c === null) return nodeCount;
    if (isNode(c)) return numbers.get(c) as number;
    return nodeCount + 16 + c.data;
  };
  const max = 2 ** recordSize;
  const nodeBytes = recordSize / 4;
  const tree = Buffer.alloc(nodeCount * nodeBytes);
  order.forEach((n, i) => {
    const [l, r] = n.children.map(record);
    if (l >= max || r >= max) throw new Error(`record value does not fit in ${recordSize} bits`);
    const o = i * nodeBytes;
    if (recordSize === 24) {
      tree.writeUIntBE(l, o, 3);
      tree.writeUIntBE(r, o + 3, 3);
    } else if (recordSize === 28) {
      tree.writeUIntBE(l & 0xffffff, o, 3);
      tree[o + 3] = ((l >>> 24) << 4) | (r >>> 24);
      tree.writeUIntBE(r & 0xffffff, o + 4, 3);
    } else {
      tree.writeUInt32BE(l, o);
      tree.writeUInt32BE(r, o + 4);
    }
  });
  const metadata: MmdbValue = {
    node_count: nodeCount,
    record_size: u16(recordSize),
    ip_version: u16(ipVersion),
    database_type: options.databaseType,
    languages: options.languages ?? ['en'],
    binary_format_major_version: u16(2),
    binary_format_minor_version: u16(0),
    build_epoch: u64(options.buildEpoch ?? Date.parse('2026-01-01T00:00:00Z') / 1000),
    description: options.description ?? { en: `certsignal test database (${options.databaseType})` },
  };
  return Buffer.concat([
    tree,
    Buffer.alloc(16),
    ...data,
    Buffer.from([0xab, 0xcd, 0xef]),
    Buffer.from('MaxMind.com', 'ascii'),
    encodeValue(metadata),
  ]);
}

// ---- record shapes --------------------------------------------------------------------------

/** A GeoLite2-City-shaped record (the fields certsignal reads, plus a few it ignores). */
export function geoLite2City(p: {
  city?: string;
  country: string;
  countryName: string;
  continent: string;
  lat?: number;
  lon?: number;
  accuracy?: number;
}): MmdbValue {
  const rec: Record<string, MmdbValue> = {
    continent: { code: p.continent, geoname_id: 6255148, names: { en: p.continent, de: p.continent } },
    country: { geoname_id: 3017382, iso_code: p.country, names: { en: p.countryName, fr: p.countryName } },
    registered_country: { geoname_id: 3017382, iso_code: p.country, names: { en: p.countryName } },
  };
  if (p.city !== undefined) rec.city = { geoname_id: 2988507, names: { en: p.city, ja: `${p.city}-ja` } };
  if (p.lat !== undefined && p.lon !== undefined) {
    rec.location = { accuracy_radius: u16(p.accuracy ?? 20), latitude: dbl(p.lat), longitude: dbl(p.lon), time_zone: 'UTC' };
  }
  return rec;
}

/** A DB-IP Lite City-shaped record: names in English only, no accuracy radius, subdivisions as an array. */
export function dbipCity(p: {
  city: string;
  country: string;
  countryName: string;
  continent: string;
  lat: number;
  lon: number;
  region?: string;
}): MmdbValue {
  return {
    city: { names: { en: p.city } },
    continent: { code: p.continent, geoname_id: 6255148, names: { en: p.continent } },
    country: { geoname_id: 2077456, is_in_european_union: false, iso_code: p.country, names: { en: p.countryName } },
    location: { latitude: dbl(p.lat), longitude: dbl(p.lon) },
    subdivisions: [{ names: { en: p.region ?? p.city } }],
  };
}

// ---- the fixture the geo tests share --------------------------------------------------------

/** Places of the fixture database: two cities on different continents (and one more). */
export const PARIS = {
  city: 'Paris',
  country: 'FR',
  countryName: 'France',
  continent: 'EU',
  lat: 48.8566,
  lon: 2.3522,
  accuracy: 20,
};
export const SYDNEY = {
  city: 'Sydney',
  country: 'AU',
  countryName: 'Australia',
  continent: 'OC',
  lat: -33.8688,
  lon: 151.2093,
  accuracy: 50,
};
export const SAO_PAULO = {
  city: 'São Paulo',
  country: 'BR',
  countryName: 'Brazil',
  continent: 'SA',
  lat: -23.5505,
  lon: -46.6333,
  accuracy: 100,
};

/**
 * A small GeoLite2-City-shaped database: 2.2.0.0/16 and 2a01:cb00::/32 in Paris, 1.128.0.0/11
 * and 2001:8000::/20 in Sydney, 2.2.99.0/24 in São Paulo (more specific, inside the Paris /16),
 * 81.2.69.0/24 located to the United Kingdom only (country centre point, no city), and — to prove
 * they are never looked up — 10.0.0.0/8, 100.64.0.0/10 and 192.0.2.0/24 with real-looking cities.
 */
export function fixtureCityDatabase(options: Partial<MmdbOptions> = {}): Buffer {
  return writeMmdb(
    [
      { network: '2.2.0.0/16', data: geoLite2City(PARIS) },
      { network: '2.2.99.0/24', data: geoLite2City(SAO_PAULO) },
      { network: '2a01:cb00::/32', data: geoLite2City(PARIS) },
      { network: '1.128.0.0/11', data: geoLite2City(SYDNEY) },
      { network: '2001:8000::/20', data: geoLite2City(SYDNEY) },
      {
        network: '81.2.69.0/24',
        data: geoLite2City({
          country: 'GB',
          countryName: 'United Kingdom',
          continent: 'EU',
          lat: 51.4964,
          lon: -0.1224,
          accuracy: 1000,
        }),
      },
      { network: '10.0.0.0/8', data: geoLite2City(PARIS) },
      { network: '100.64.0.0/10', data: geoLite2City(SYDNEY) },
      { network: '192.0.2.0/24', data: geoLite2City(SYDNEY) },
    ],
    { databaseType: 'GeoLite2-City', languages: ['en', 'de', 'fr', 'ja'], ...options },
  );
}
