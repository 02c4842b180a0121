// Public API of the capture layer: pcap/pcapng → reassembled TCP streams, UDP datagrams and QUIC
// Initial decryption, for the TLS layer (src/tls) to parse handshakes from.

export { LINKTYPE } from './decode.ts';
export { formatAddress } from './flows.ts';
export { sniffFormat } from './frames.ts';
export {
  clientInitialKeys,
  decryptInitials,
  isQuicInitial,
  parseInitialFrames,
  QUIC_V1,
  QUIC_V2,
  QuicInitialAssembler,
} from './quic.ts';
export { type CaptureReader, type ReadCaptureOptions, readCapture } from './read.ts';
export type { CaptureItem, CaptureStats, Datagram, FlowEnd, FlowKey, StreamChunk } from './types.ts';
