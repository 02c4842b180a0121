// Builders of tiny synthetic captures (pcap, pcapng, link/IP/TCP/UDP headers) for capture tests.

export interface TcpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  payload?: Uint8Array;
}

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

function v4(addr: string): number[] {
  return addr.split('.').map(Number);
}

function v6(addr: string): number[] {
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((w) => Number.parseInt(w, 16));
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

function tcpHeader(s: TcpSpec): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(s.sport, 0);
  h.writeUInt16BE(s.dport, 2);
  h.writeUInt32BE(s.seq >>> 0, 4);
  h.writeUInt32BE((s.ack ?? 0) >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = s.flags;
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, s.payload ?? Buffer.alloc(0)]);
}

function udpHeader(sport: number, dport: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** IPv4 header (optionally with options, i.e. IHL > 5) around a transport segment. */
export function ipv4(src: string, dst: string, proto: number, body: Uint8Array, options: Uint8Array = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(20 + options.length);
  h[0] = 0x40 | ((20 + options.length) / 4);
  h.writeUInt16BE(h.length + body.length, 2);
  h[8] = 64;
  h[9] = proto;
  Buffer.from(v4(src)).copy(h, 12);
  Buffer.from(v4(dst)).copy(h, 16);
  Buffer.from(options).copy(h, 20);
  return Buffer.concat([h, body]);
}

export function ipv6(src: string, dst: string, next: number, body: Uint8Array): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(body.length, 4);
  h[6] = next;
  h[7] = 64;
  Buffer.from(v6(src)).copy(h, 8);
  Buffer.from(v6(dst)).copy(h, 24);
  return Buffer.concat([h, body]);
}

export function tcp4(s: TcpSpec): Buffer {
  return ipv4(s.src, s.dst, 6, tcpHeader(s));
}

export function tcp6(s: TcpSpec): Buffer {
  return ipv6(s.src, s.dst, 6, tcpHeader(s));
}

export function udp4(src: string, dst: string, sport: number, dport: number, payload: Uint8Array): Buffer {
  return ipv4(src, dst, 17, udpHeader(sport, dport, payload));
}

export function udp6(src: string, dst: string, sport: number, dport: number, payload: Uint8Array): Buffer {
  return ipv6(src, dst, 17, udpHeader(sport, dport, payload));
}

/** Ethernet II frame, with 802.1Q tags (outermost first) when `vlans` is given. */
export function ethernet(ip: Uint8Array, vlans: number[] = []): Buffer {
  const version = ip[0] >> 4;
  const parts: Buffer[] = [Buffer.from('020000000001020000000002', 'hex')];
  for (const [i, id] of vlans.entries()) {
    const tag = Buffer.alloc(4);
    tag.writeUInt16BE(i === 0 && vlans.length > 1 ? 0x88a8 : 0x8100, 0);
    tag.writeUInt16BE(id, 2);
    parts.push(tag);
  }
  const type = Buffer.alloc(2);
  type.writeUInt16BE(version === 6 ? 0x86dd : 0x0800, 0);
  parts.push(type, Buffer.from(ip));
  return Buffer.concat(parts);
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276). */
export function sll2(ip: Uint8Array): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(ip[0] >> 4 === 6 ? 0x86dd : 0x0800, 0);
  h.writeUInt32BE(3, 4);
  h.writeUInt16BE(1, 8);
  h[10] = 0;
  h[11] = 6;
  return Buffer.concat([h, ip]);
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113). */
export function sll(ip: Uint8Array): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(1, 2);
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(ip[0] >> 4 === 6 ? 0x86dd : 0x0800, 14);
  return Buffer.concat([h, ip]);
}

export interface PcapPacket {
  /** Epoch seconds and fraction in the file's unit (µs or ns). */
  sec: number;
  frac: number;
  data: Uint8Array;
  origLen?: number;
}

/** Classic pcap. */
export function pcap(packets: PcapPacket[], opts: { linkType: number; bigEndian?: boolean; nano?: boolean }): Buffer {
  const be = opts.bigEndian === true;
  const u32 = (b: Buffer, v: number, at: number) => (be ? b.writeUInt32BE(v >>> 0, at) : b.writeUInt32LE(v >>> 0, at));
  const u16 = (b: Buffer, v: number, at: number) => (be ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at));
  const g = Buffer.alloc(24);
  u32(g, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(g, 2, 4);
  u16(g, 4, 6);
  u32(g, 262144, 16);
  u32(g, opts.linkType, 20);
  const parts = [g];
  for (const p of packets) {
    const r = Buffer.alloc(16);
    u32(r, p.sec, 0);
    u32(r, p.frac, 4);
    u32(r, p.data.length, 8);
    u32(r, p.origLen ?? p.data.length, 12);
    parts.push(r, Buffer.from(p.data));
  }
  return Buffer.concat(parts);
}

export interface NgInterface {
  linkType: number;
  /** if_tsresol option byte; omitted = microseconds. */
  tsresol?: number;
}

export interface NgPacket {
  iface: number;
  /** Timestamp in the interface's units. */
  ts: bigint;
  data: Uint8Array;
  /** Write a Simple Packet Block (interface 0, no timestamp) instead of an Enhanced one. */
  simple?: boolean;
}

/** One pcapng section: SHB, IDBs, then packets, with a custom block in between to be skipped. */
export function pcapng(interfaces: NgInterface[], packets: NgPacket[], opts: { bigEndian?: boolean } = {}): Buffer {
  const be = opts.bigEndian === true;
  const block = (type: number, body: Buffer): Buffer => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const total = 12 + padded.length;
    const b = Buffer.alloc(total);
    const w = (v: number, at: number) => (be ? b.writeUInt32BE(v >>> 0, at) : b.writeUInt32LE(v >>> 0, at));
    w(type, 0);
    w(total, 4);
    padded.copy(b, 8);
    w(total, total - 4);
    return b;
  };
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    if (be) b.writeUInt32BE(v >>> 0);
    else b.writeUInt32LE(v >>> 0);
    return b;
  };
  const u16 = (v: number) => {
    const b = Buffer.alloc(2);
    if (be) b.writeUInt16BE(v);
    else b.writeUInt16LE(v);
    return b;
  };
  const shb = Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)]);
  const parts = [block(0x0a0d0d0a, shb)];
  for (const i of interfaces) {
    const opts: Buffer[] = [];
    if (i.tsresol !== undefined) opts.push(u16(9), u16(1), Buffer.of(i.tsresol, 0, 0, 0), u16(0), u16(0));
    parts.push(block(1, Buffer.concat([u16(i.linkType), u16(0), u32(0), ...opts])));
  }
  parts.push(block(0x00000bad, Buffer.from('ignored custom block')));
  for (const p of packets) {
    if (p.simple) {
      parts.push(block(3, Buffer.concat([u32(p.data.length), Buffer.from(p.data)])));
      continue;
    }
    const hi = Number(p.ts >> 32n);
    const lo = Number(p.ts & 0xffffffffn);
    parts.push(
      block(6, Buffer.concat([u32(p.iface), u32(hi), u32(lo), u32(p.data.length), u32(p.data.length), Buffer.from(p.data)])),
    );
  }
  return Buffer.concat(parts);
}
