// Conversation tracking: numbers TCP and UDP conversations as tshark's tcp.stream / udp.stream do
// (order of first packet, TCP port reuse by a new SYN), orients TCP client→server, feeds TCP
// reassembly and turns payloads into capture items.

import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Transport, type TransportHandler } from './decode.ts';
import { copyBytes, TcpDirection } from './tcp.ts';
import type { CaptureItem, FlowKey } from './types.ts';

interface TcpConv {
  id: number;
  /** Oriented client→server. */
  flow: FlowKey;
  /** Endpoint identity of the client (see `endpointKey`). */
  clientEndpoint: number | string;
  /** First sequence number seen from the client / server side (tshark's base_seq), -1 if none. */
  baseSeqClient: number;
  baseSeqServer: number;
  c2s: TcpDirection | null;
  s2c: TcpDirection | null;
  finClient: boolean;
  finServer: boolean;
  /** SOCKS handshake tracking (tshark numbers an extra conversation once SOCKS hands data on). */
  socks: number;
  socksClientMessages: number;
  socksServerMessages: number;
  socksVersion: number;
  socksMethod: number;
  closed: boolean;
  announced: boolean;
}

interface UdpConv {
  id: number;
  /** As seen on the first datagram; `reverse` is the other direction. */
  flow: FlowKey;
  reverse: FlowKey | null;
  firstEndpoint: number | string;
  bytesForward: number;
  bytesReverse: number;
  announced: boolean;
}

/** Tracker options. */
export interface FlowOptions {
  /** Stop delivering a direction (TCP) or a conversation side (UDP) after this many bytes. */
  maxStreamBytes: number;
  /** Out-of-order bytes held per TCP direction. */
  maxPendingBytes: number;
  /** Called with a reason for everything not delivered. */
  count: (reason: string) => void;
}

const SOCKS_PORT = 1080;
const SOCKS_NONE = 0;
const SOCKS_HANDSHAKE = 1;
const SOCKS_RELAYING = 2;

/** Formats the address at `buf[at]` (4 or 16 bytes) in the usual text form (RFC 5952 for IPv6). */
export function formatAddress(buf: Uint8Array, at: number, family: number): string {
  if (family === 4) return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((buf[at + i] << 8) | buf[at + i + 1]);
  // Longest run (≥2) of zero words becomes '::'.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** Tracks conversations and emits capture items into `items`. */
export class FlowTracker implements TransportHandler {
  /** Items produced since the caller last emptied this array. */
  items: CaptureItem[] = [];
  /** Timestamp (epoch ms) of the frame being decoded, set by the caller. */
  ts = 0;
  /** Frame number being decoded, set by the caller. */
  frameNumber = 0;
  /** Optional observer of new conversations (tests compare numbering with tshark). */
  onNewConversation?: (transport: 'tcp' | 'udp', streamId: number, frameNumber: number) => void;
  private readonly options: FlowOptions;
  // IPv4 keys are numbers (address·65536 + port) in a two-level map; IPv6 keys are strings.
  private readonly tcp4 = new Map<number, Map<number, TcpConv>>();
  private readonly tcp6 = new Map<string, TcpConv>();
  private readonly udp4 = new Map<number, Map<number, UdpConv>>();
  private readonly udp6 = new Map<string, UdpConv>();
  private nextTcpId = 0;
  private nextUdpId = 0;
  private openTcp = new Set<TcpConv>();
  private openUdp = new Set<UdpConv>();

  constructor(options: FlowOptions) {
    this.options = options;
  }

  /** Number of TCP / UDP conversations seen so far. */
  get conversationCounts(): { tcp: number; udp: number } {
    return { tcp: this.nextTcpId, udp: this.nextUdpId };
  }

  tcp(t: Transport): void {
    const src = endpointKey(t.buf, t.srcAddr, t.srcPort, t.family);
    const dst = endpointKey(t.buf, t.dstAddr, t.dstPort, t.family);
    const synOnly = (t.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    const payloadLen = t.payloadEnd - t.payloadStart;
    let conv = this.lookup(t.family === 4 ? this.tcp4 : null, this.tcp6, src, dst);
    if (conv !== undefined && synOnly) {
      const fromClient = src === conv.clientEndpoint;
      const base = fromClient ? conv.baseSeqClient : conv.baseSeqServer;
      // tshark: a SYN with a new ISN on a known 4-tuple is a new conversation (port reuse); with
      // the same ISN it is the same one, even after FIN/RST (then reassembly starts afresh).
      if (base !== -1 && base !== t.seq) {
        this.closeTcp(conv);
        conv = undefined;
      } else if (conv.closed && fromClient) {
        this.reopenTcp(conv);
      }
    }
    if (conv === undefined) {
      const clientIsDst = (t.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK);
      conv = this.newTcp(t, clientIsDst ? dst : src, clientIsDst);
      this.store(t.family === 4 ? this.tcp4 : null, this.tcp6, src, dst, conv);
    }
    const fromClient = src === conv.clientEndpoint;
    if (fromClient) {
      if (conv.baseSeqClient === -1) conv.baseSeqClient = t.seq;
    } else if (conv.baseSeqServer === -1) conv.baseSeqServer = t.seq;
    if (conv.socks !== SOCKS_NONE && payloadLen > 0) this.socksPacket(conv, fromClient, t);
    if (conv.closed) return;

    if ((t.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK) && !fromClient) {
      // The SYN-ACK acknowledges the client's ISN + 1: where client data starts, SYN seen or not.
      this.direction(conv, true).expect(t.ack);
    }
    if (t.cut && payloadLen > 0) {
      this.options.count('snaplen-truncated');
    } else {
      const dir = this.direction(conv, fromClient);
      const direction = fromClient ? 'c2s' : 's2c';
      const c = conv;
      const note = dir.segment(t.seq, (t.flags & TCP_SYN) !== 0, t.buf.subarray(t.payloadStart, t.payloadEnd), (data) => {
        c.announced = true;
        this.items.push({ kind: 'tcp', flow: c.flow, direction, ts: this.ts, data, stream_id: c.id });
      });
      if (note !== '' && note !== 'tcp-budget-exhausted') this.options.count(note);
    }
    if (t.flags & TCP_RST) {
      this.closeTcp(conv);
    } else if (t.flags & TCP_FIN) {
      if (fromClient) conv.finClient = true;
      else conv.finServer = true;
      if (conv.finClient && conv.finServer) this.closeTcp(conv);
    }
  }

  udp(t: Transport): void {
    const src = endpointKey(t.buf, t.srcAddr, t.srcPort, t.family);
    const dst = endpointKey(t.buf, t.dstAddr, t.dstPort, t.family);
    let conv = this.lookup(t.family === 4 ? this.udp4 : null, this.udp6, src, dst);
    if (conv === undefined) {
      conv = {
        id: this.nextUdpId++,
        flow: this.flowKey(t, false, 'udp'),
        reverse: null,
        firstEndpoint: src,
        bytesForward: 0,
        bytesReverse: 0,
        announced: false,
      };
      this.store(t.family === 4 ? this.udp4 : null, this.udp6, src, dst, conv);
      this.onNewConversation?.('udp', conv.id, this.frameNumber);
    }
    if (t.tunnel) return;
    if (t.cut) {
      this.options.count('snaplen-truncated');
      return;
    }
    const len = t.payloadEnd - t.payloadStart;
    if (len === 0) return;
    const first = t.buf[t.payloadStart];
    // RFC 7983 demultiplexing: 20–63 is DTLS; a QUIC long header has the form and fixed bits set.
    if (!((first >= 20 && first <= 63) || (first & 0xc0) === 0xc0)) {
      this.options.count('udp-not-dtls-quic');
      return;
    }
    const forward = src === conv.firstEndpoint;
    const used = forward ? conv.bytesForward : conv.bytesReverse;
    if (used >= this.options.maxStreamBytes) return;
    if (forward) conv.bytesForward += len;
    else conv.bytesReverse += len;
    let flow = conv.flow;
    if (!forward) {
      conv.reverse ??= this.flowKey(t, false, 'udp');
      flow = conv.reverse;
    }
    if (!conv.announced) {
      conv.announced = true;
      this.openUdp.add(conv);
    }
    this.items.push({
      kind: 'udp',
      flow,
      ts: this.ts,
      data: copyBytes(t.buf.subarray(t.payloadStart, t.payloadEnd)),
      stream_id: conv.id,
    });
  }

  /** Emits `end` for every conversation that produced items and is still open (end of capture). */
  finish(): void {
    for (const conv of this.openTcp) this.closeTcp(conv);
    for (const conv of this.openUdp) this.items.push({ kind: 'end', stream_id: conv.id, flow: conv.flow });
    this.openUdp.clear();
  }

  private newTcp(t: Transport, clientEndpoint: number | string, clientIsDst: boolean): TcpConv {
    const conv: TcpConv = {
      id: this.nextTcpId++,
      flow: this.flowKey(t, clientIsDst, 'tcp'),
      clientEndpoint,
      baseSeqClient: -1,
      baseSeqServer: -1,
      c2s: null,
      s2c: null,
      finClient: false,
      finServer: false,
      socks: t.srcPort === SOCKS_PORT || t.dstPort === SOCKS_PORT ? SOCKS_HANDSHAKE : SOCKS_NONE,
      socksClientMessages: 0,
      socksServerMessages: 0,
      socksVersion: 0,
      socksMethod: -1,
      closed: false,
      announced: false,
    };
    this.openTcp.add(conv);
    this.onNewConversation?.('tcp', conv.id, this.frameNumber);
    return conv;
  }

  private direction(conv: TcpConv, fromClient: boolean): TcpDirection {
    let dir = fromClient ? conv.c2s : conv.s2c;
    if (dir === null) {
      dir = new TcpDirection(this.options.maxStreamBytes, this.options.maxPendingBytes);
      if (fromClient) conv.c2s = dir;
      else conv.s2c = dir;
    }
    return dir;
  }

  private reopenTcp(conv: TcpConv): void {
    conv.closed = false;
    conv.finClient = false;
    conv.finServer = false;
    this.openTcp.add(conv);
  }

  /**
   * tshark's SOCKS dissector (TCP port 1080) creates a further TCP conversation, and so uses up a
   * tcp.stream number, at the first packet it hands to the next protocol after the SOCKS
   * handshake. Following it keeps later stream ids equal to tshark's.
   */
  private socksPacket(conv: TcpConv, fromClient: boolean, t: Transport): void {
    if (conv.socks === SOCKS_RELAYING) {
      conv.socks = SOCKS_NONE;
      this.nextTcpId++;
      return;
    }
    const first = t.buf[t.payloadStart];
    if (fromClient) {
      if (conv.socksClientMessages === 0) conv.socksVersion = first;
      conv.socksClientMessages++;
      if (conv.socksVersion !== 4 && conv.socksVersion !== 5) conv.socks = SOCKS_NONE;
      return;
    }
    conv.socksServerMessages++;
    if (conv.socksVersion === 4) {
      conv.socks = SOCKS_RELAYING;
    } else if (conv.socksVersion === 5) {
      if (conv.socksServerMessages === 1 && t.payloadEnd - t.payloadStart >= 2) conv.socksMethod = t.buf[t.payloadStart + 1];
      const needed = conv.socksMethod === 0 ? 2 : conv.socksMethod === 2 ? 3 : 0;
      if (needed === 0) conv.socks = SOCKS_NONE;
      else if (conv.socksServerMessages >= needed) conv.socks = SOCKS_RELAYING;
    }
  }

  private closeTcp(conv: TcpConv): void {
    if (conv.closed) return;
    conv.closed = true;
    conv.c2s = null;
    conv.s2c = null;
    this.openTcp.delete(conv);
    if (conv.announced) this.items.push({ kind: 'end', stream_id: conv.id, flow: conv.flow });
  }

  private flowKey(t: Transport, reversed: boolean, transport: 'tcp' | 'udp'): FlowKey {
    const a = formatAddress(t.buf, t.srcAddr, t.family);
    const b = formatAddress(t.buf, t.dstAddr, t.family);
    return reversed
      ? { src_ip: b, src_port: t.dstPort, dst_ip: a, dst_port: t.srcPort, transport }
      : { src_ip: a, src_port: t.srcPort, dst_ip: b, dst_port: t.dstPort, transport };
  }

  private lookup<C>(
    map4: Map<number, Map<number, C>> | null,
    map6: Map<string, C>,
    a: number | string,
    b: number | string,
  ): C | undefined {
    if (map4 !== null) {
      const lo = (a as number) < (b as number) ? (a as number) : (b as number);
      const hi = lo === a ? (b as number) : (a as number);
      return map4.get(lo)?.get(hi);
    }
    return map6.get(a < b ? `${a}|${b}` : `${b}|${a}`);
  }

  private store<C>(
    map4: Map<number, Map<number, C>> | null,
    map6: Map<string, C>,
    a: number | string,
    b: number | string,
    conv: C,
  ): void {
    if (map4 !== null) {
      const lo = (a as number) < (b as number) ? (a as number) : (b as number);
      const hi = lo === a ? (b as number) : (a as number);
      let inner = map4.get(lo);
      if (inner === undefined) {
        inner = new Map();
        map4.set(lo, inner);
      }
      inner.set(hi, conv);
      return;
    }
    map6.set(a < b ? `${a}|${b}` : `${b}|${a}`, conv);
  }
}

/** A number (IPv4: address·65536 + port) or a string (IPv6: 16 address bytes + port) naming one endpoint. */
function endpointKey(buf: Buffer, at: number, port: number, family: number): number | string {
  if (family === 4) return buf.readUInt32BE(at) * 65536 + port;
  return buf.toString('latin1', at, at + 16) + port;
}
