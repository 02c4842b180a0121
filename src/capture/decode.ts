// Link layer → IP → TCP/UDP decoding of one frame. Allocation-free: addresses and payloads are
// offsets into the frame's buffer, handed to a handler that copies what it keeps. Tunnels that
// tshark also looks through (GRE incl. ERSPAN, IP-in-IP, VXLAN, Geneve) are decapsulated so that
// inner conversations exist and are numbered as tshark numbers them.

/** One TCP or UDP header as seen in a frame. Reused between packets. */
export interface Transport {
  buf: Buffer;
  /** 4 or 6. */
  family: number;
  /** Offsets of the source / destination address bytes (4 or 16 bytes) in `buf`. */
  srcAddr: number;
  dstAddr: number;
  srcPort: number;
  dstPort: number;
  /** TCP only. */
  seq: number;
  ack: number;
  flags: number;
  payloadStart: number;
  payloadEnd: number;
  /** The snaplen cut the payload: `payloadEnd` is earlier than the IP length says. */
  cut: boolean;
  /** UDP only: the datagram carries a tunnel (VXLAN, Geneve); its payload is not application data. */
  tunnel: boolean;
}

export interface TransportHandler {
  tcp(t: Transport): void;
  udp(t: Transport): void;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/** Link types read (LINKTYPE_* numbers as stored in pcap / pcapng). */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW_12: 12,
  RAW_14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const MAX_DEPTH = 4;
const VXLAN_PORT = 4789;
const GENEVE_PORT = 6081;

/** Decodes frames and calls the handler for each TCP / UDP header found; returns '' or a skip reason. */
export class PacketDecoder {
  private readonly t: Transport = {
    buf: Buffer.alloc(0),
    family: 4,
    srcAddr: 0,
    dstAddr: 0,
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    payloadStart: 0,
    payloadEnd: 0,
    cut: false,
    tunnel: false,
  };
  private readonly handler: TransportHandler;

  constructor(handler: TransportHandler) {
    this.handler = handler;
  }

  /** Decode one frame `buf[start, end)` of the given link type; `origLen` is its length on the wire. */
  decode(linkType: number, buf: Buffer, start: number, end: number): string {
    this.t.buf = buf;
    switch (linkType) {
      case LINKTYPE.ETHERNET:
        return this.ethernet(buf, start, end, 0);
      case LINKTYPE.RAW:
      case LINKTYPE.RAW_12:
      case LINKTYPE.RAW_14:
      case LINKTYPE.IPV4:
      case LINKTYPE.IPV6:
        return this.ipAny(buf, start, end, 0);
      case LINKTYPE.LINUX_SLL:
        if (end - start < 16) return 'malformed';
        return this.etherType(buf.readUInt16BE(start + 14), buf, start + 16, end, 0);
      case LINKTYPE.LINUX_SLL2:
        if (end - start < 20) return 'malformed';
        return this.etherType(buf.readUInt16BE(start), buf, start + 20, end, 0);
      case LINKTYPE.NULL:
      case LINKTYPE.LOOP: {
        if (end - start < 4) return 'malformed';
        // Host byte order of the capturing machine for NULL; big-endian for LOOP.
        const family = linkType === LINKTYPE.NULL && buf[start] !== 0 ? buf.readUInt32LE(start) : buf.readUInt32BE(start);
        if (family === 2) return this.ipv4(buf, start + 4, end, 0);
        if (family === 10 || family === 24 || family === 28 || family === 30) return this.ipv6(buf, start + 4, end, 0);
        return 'non-ip';
      }
      default:
        return 'unsupported-linktype';
    }
  }

  private ethernet(buf: Buffer, at: number, end: number, depth: number): string {
    if (end - at < 14) return 'malformed';
    return this.etherType(buf.readUInt16BE(at + 12), buf, at + 14, end, depth);
  }

  private etherType(type: number, buf: Buffer, at: number, end: number, depth: number): string {
    for (;;) {
      switch (type) {
        case 0x0800:
          return this.ipv4(buf, at, end, depth);
        case 0x86dd:
          return this.ipv6(buf, at, end, depth);
        case 0x8100:
        case 0x88a8:
        case 0x9100:
          if (end - at < 4) return 'malformed';
          type = buf.readUInt16BE(at + 2);
          at += 4;
          continue;
        case 0x8864: {
          // PPPoE session: 6-byte header, then a 2-byte PPP protocol.
          if (end - at < 8) return 'malformed';
          const ppp = buf.readUInt16BE(at + 6);
          at += 8;
          if (ppp === 0x0021) return this.ipv4(buf, at, end, depth);
          if (ppp === 0x0057) return this.ipv6(buf, at, end, depth);
          return 'non-ip';
        }
        case 0x8847:
        case 0x8848: {
          // MPLS: labels until the bottom-of-stack bit, then IP (guessed from the version nibble).
          for (;;) {
            if (end - at < 4) return 'malformed';
            const bottom = buf[at + 2] & 1;
            at += 4;
            if (bottom) break;
          }
          return this.ipAny(buf, at, end, depth);
        }
        default:
          return 'non-ip';
      }
    }
  }

  private ipAny(buf: Buffer, at: number, end: number, depth: number): string {
    if (at >= end) return 'malformed';
    const version = buf[at] >> 4;
    if (version === 4) return this.ipv4(buf, at, end, depth);
    if (version === 6) return this.ipv6(buf, at, end, depth);
    return 'non-ip';
  }

  private ipv4(buf: Buffer, at: number, end: number, depth: number): string {
    if (end - at < 20) return end > at ? 'snaplen-truncated' : 'malformed';
    const vihl = buf[at];
    const ihl = (vihl & 0x0f) * 4;
    if (vihl >> 4 !== 4 || ihl < 20) return 'malformed';
    const totalLen = buf.readUInt16BE(at + 2);
    if (totalLen < ihl) return 'malformed';
    if (end - at < ihl) return 'snaplen-truncated';
    const frag = buf.readUInt16BE(at + 6);
    if ((frag & 0x3fff) !== 0) return 'ip-fragment';
    let ipEnd = at + totalLen;
    let cut = false;
    // Shorter than the IP length: the snaplen cut it. Longer: Ethernet padding, dropped.
    if (ipEnd > end) {
      ipEnd = end;
      cut = true;
    }
    return this.transport(buf[at + 9], 4, at + 12, at + 16, buf, at + ihl, ipEnd, cut, depth);
  }

  private ipv6(buf: Buffer, at: number, end: number, depth: number): string {
    if (end - at < 40) return end > at ? 'snaplen-truncated' : 'malformed';
    if (buf[at] >> 4 !== 6) return 'malformed';
    const payloadLen = buf.readUInt16BE(at + 4);
    let next = buf[at + 6];
    let ipEnd = at + 40 + payloadLen;
    let cut = false;
    if (payloadLen === 0) ipEnd = end; // jumbogram or zero: take what was captured
    if (ipEnd > end) {
      ipEnd = end;
      cut = true;
    }
    let p = at + 40;
    for (;;) {
      switch (next) {
        case 0:
        case 43:
        case 60:
        case 135:
        case 139:
        case 140: {
          if (ipEnd - p < 8) return cut ? 'snaplen-truncated' : 'malformed';
          next = buf[p];
          p += (buf[p + 1] + 1) * 8;
          continue;
        }
        case 44: {
          if (ipEnd - p < 8) return cut ? 'snaplen-truncated' : 'malformed';
          if ((buf.readUInt16BE(p + 2) & 0xfff9) !== 0) return 'ip-fragment';
          next = buf[p];
          p += 8;
          continue;
        }
        case 51: {
          if (ipEnd - p < 8) return cut ? 'snaplen-truncated' : 'malformed';
          next = buf[p];
          p += (buf[p + 1] + 2) * 4;
          continue;
        }
        default:
          if (p > ipEnd) return 'malformed';
          return this.transport(next, 6, at + 8, at + 24, buf, p, ipEnd, cut, depth);
      }
    }
  }

  private transport(
    proto: number,
    family: number,
    src: number,
    dst: number,
    buf: Buffer,
    at: number,
    end: number,
    cut: boolean,
    depth: number,
  ): string {
    const t = this.t;
    if (proto === 6) {
      if (end - at < 20) return cut ? 'snaplen-truncated' : 'malformed';
      const dataOffset = (buf[at + 12] >> 4) * 4;
      if (dataOffset < 20 || at + dataOffset > end) return cut ? 'snaplen-truncated' : 'malformed';
      t.family = family;
      t.srcAddr = src;
      t.dstAddr = dst;
      t.srcPort = buf.readUInt16BE(at);
      t.dstPort = buf.readUInt16BE(at + 2);
      t.seq = buf.readUInt32BE(at + 4);
      t.ack = buf.readUInt32BE(at + 8);
      t.flags = buf[at + 13];
      t.payloadStart = at + dataOffset;
      t.payloadEnd = end;
      t.cut = cut;
      t.tunnel = false;
      this.handler.tcp(t);
      return '';
    }
    if (proto === 17) {
      if (end - at < 8) return cut ? 'snaplen-truncated' : 'malformed';
      const udpLen = buf.readUInt16BE(at + 4);
      if (udpLen !== 0 && udpLen < 8) return 'malformed';
      let udpEnd = udpLen === 0 ? end : at + udpLen;
      if (udpEnd > end) {
        udpEnd = end;
        cut = true;
      }
      const srcPort = buf.readUInt16BE(at);
      const dstPort = buf.readUInt16BE(at + 2);
      // Like tshark, either port selects the tunnel dissector, the lower port first.
      const low = Math.min(srcPort, dstPort);
      const high = Math.max(srcPort, dstPort);
      const tunnelPort = low === VXLAN_PORT || low === GENEVE_PORT ? low : high === VXLAN_PORT || high === GENEVE_PORT ? high : 0;
      const tunnel = depth < MAX_DEPTH && tunnelPort !== 0;
      t.family = family;
      t.srcAddr = src;
      t.dstAddr = dst;
      t.srcPort = srcPort;
      t.dstPort = dstPort;
      t.seq = 0;
      t.ack = 0;
      t.flags = 0;
      t.payloadStart = at + 8;
      t.payloadEnd = udpEnd;
      t.cut = cut;
      t.tunnel = tunnel;
      this.handler.udp(t);
      if (!tunnel) return '';
      return tunnelPort === VXLAN_PORT ? this.vxlan(buf, at + 8, udpEnd, depth + 1) : this.geneve(buf, at + 8, udpEnd, depth + 1);
    }
    if (depth < MAX_DEPTH) {
      if (proto === 4) return this.ipv4(buf, at, end, depth + 1);
      if (proto === 41) return this.ipv6(buf, at, end, depth + 1);
      if (proto === 47) return this.gre(buf, at, end, depth + 1);
    }
    return 'non-tcp-udp';
  }

  private vxlan(buf: Buffer, at: number, end: number, depth: number): string {
    if (end - at < 8) return 'malformed';
    return this.ethernet(buf, at + 8, end, depth);
  }

  private geneve(buf: Buffer, at: number, end: number, depth: number): string {
    if (end - at < 8) return 'malformed';
    const optLen = (buf[at] & 0x3f) * 4;
    const proto = buf.readUInt16BE(at + 2);
    const inner = at + 8 + optLen;
    if (proto === 0x6558) return this.ethernet(buf, inner, end, depth);
    return this.etherType(proto, buf, inner, end, depth);
  }

  private gre(buf: Buffer, at: number, end: number, depth: number): string {
    if (end - at < 4) return 'malformed';
    const flags = buf.readUInt16BE(at);
    const proto = buf.readUInt16BE(at + 2);
    if ((flags & 7) !== 0) return 'non-tcp-udp'; // GRE version 1 (PPTP) and others
    let p = at + 4;
    if (flags & 0x8000) p += 4; // checksum + reserved
    if (flags & 0x2000) p += 4; // key
    const hasSeq = (flags & 0x1000) !== 0;
    if (hasSeq) p += 4;
    if (p > end) return 'malformed';
    switch (proto) {
      case 0x6558:
        return this.ethernet(buf, p, end, depth);
      case 0x88be:
        // ERSPAN type II has an 8-byte header when the GRE sequence bit is set; type I has none.
        return this.ethernet(buf, hasSeq ? p + 8 : p, end, depth);
      case 0x22eb: {
        // ERSPAN type III: 12-byte header, plus an 8-byte platform sub-header when O is set.
        if (end - p < 12) return 'malformed';
        return this.ethernet(buf, p + 12 + (buf[p + 11] & 1 ? 8 : 0), end, depth);
      }
      default:
        return this.etherType(proto, buf, p, end, depth);
    }
  }
}
