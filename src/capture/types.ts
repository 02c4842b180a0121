// Contract between the capture layer (pcap/pcapng → TCP streams and UDP datagrams) and the TLS
// layer (handshake parsing and fingerprints). See .tmp/CAPTURE.md for the agreed shape.

/** The two ends of a conversation. For TCP it is oriented client→server; for UDP it is as seen. */
export interface FlowKey {
  src_ip: string;
  src_port: number;
  dst_ip: string;
  dst_port: number;
  transport: 'tcp' | 'udp';
}

/** Reassembled, in-order application bytes of one direction of one TCP connection, delivered incrementally. */
export interface StreamChunk {
  kind: 'tcp';
  /** Oriented client→server: src is the side that sent the SYN (or, without a SYN, the first sender). */
  flow: FlowKey;
  direction: 'c2s' | 's2c';
  /** Epoch milliseconds of the packet that completed these bytes. */
  ts: number;
  data: Uint8Array;
  /** Per connection, 0-based in capture order: tshark's `tcp.stream`. */
  stream_id: number;
}

/** One UDP payload (DTLS, QUIC). */
export interface Datagram {
  kind: 'udp';
  /** As seen on this datagram (src is its sender). */
  flow: FlowKey;
  /** Epoch milliseconds. */
  ts: number;
  data: Uint8Array;
  /** Per conversation, 0-based in capture order: tshark's `udp.stream`. */
  stream_id: number;
}

/** No more items will follow for this conversation (closed, idle, or end of capture). */
export interface FlowEnd {
  kind: 'end';
  stream_id: number;
  flow: FlowKey;
}

export type CaptureItem = StreamChunk | Datagram | FlowEnd;

/** Counters of one capture read. */
export interface CaptureStats {
  /** Complete frames read (tshark's frame count). */
  packets: number;
  /** Bytes of the capture file consumed (compressed bytes for .gz). */
  bytes: number;
  /** Reason → count of packets (or segments) that were not turned into items. */
  skipped: Record<string, number>;
  /** Distinct link types seen, in order of first appearance. */
  link_types: number[];
}
