// Test helper: runs a capture through the whole certsignal path — readCapture → TlsSession
// (HandshakeReader per direction) or, for QUIC, the capture layer's QuicInitialAssembler → the
// same TlsSession — and returns one result per TCP / UDP conversation, keyed like FoxIO's output.
import { isQuicInitial, QuicInitialAssembler } from '../../../src/capture/quic.ts';
import { readCapture } from '../../../src/capture/read.ts';
import type { FlowKey } from '../../../src/capture/types.ts';
import { TlsSession, type TlsSessionResult } from '../../../src/tls/session.ts';

/** One conversation's handshake as certsignal saw it. */
export interface CapturedSession {
  transport: 'tcp' | 'udp';
  /** 'tcp', 'dtls' or 'quic'; null for UDP that is neither. */
  kind: 'tcp' | 'dtls' | 'quic' | null;
  stream_id: number;
  /** Oriented client → server (for UDP: the sender of the first datagram is the client). */
  flow: FlowKey;
  result: TlsSessionResult;
}

interface UdpState {
  flow: FlowKey;
  kind: 'dtls' | 'quic' | null;
  session: TlsSession | null;
  quic: QuicInitialAssembler | null;
}

function looksLikeDtls(d: Uint8Array): boolean {
  return d.length >= 13 && d[0] >= 20 && d[0] <= 24 && d[1] === 0xfe;
}

/** Reads a capture through certsignal's capture + TLS layers; `ja4plus` enables JA4S/JA4X. */
export async function captureSessions(path: string, options: { ja4plus?: boolean } = {}): Promise<CapturedSession[]> {
  const tcp = new Map<number, { flow: FlowKey; session: TlsSession }>();
  const udp = new Map<number, UdpState>();
  for await (const batch of readCapture(path)) {
    for (const item of batch) {
      if (item.kind === 'tcp') {
        let entry = tcp.get(item.stream_id);
        if (!entry) {
          entry = { flow: item.flow, session: new TlsSession('tcp') };
          tcp.set(item.stream_id, entry);
        }
        entry.session.push(item.direction, item.data);
      } else if (item.kind === 'udp') {
        let state = udp.get(item.stream_id);
        if (!state) {
          const kind = looksLikeDtls(item.data) ? 'dtls' : isQuicInitial(item.data) ? 'quic' : null;
          state = {
            flow: item.flow,
            kind,
            session: kind ? new TlsSession(kind) : null,
            quic: kind === 'quic' ? new QuicInitialAssembler() : null,
          };
          udp.set(item.stream_id, state);
        }
        const fromClient = item.flow.src_ip === state.flow.src_ip && item.flow.src_port === state.flow.src_port;
        if (state.kind === 'dtls') state.session?.push(fromClient ? 'c2s' : 's2c', item.data);
        else if (state.kind === 'quic' && fromClient) state.quic?.push(item.data);
      }
    }
  }
  const out: CapturedSession[] = [];
  for (const [stream_id, { flow, session }] of tcp) {
    out.push({ transport: 'tcp', kind: 'tcp', stream_id, flow, result: session.result(options) });
  }
  for (const [stream_id, state] of udp) {
    if (!state.session) continue;
    if (state.kind === 'quic') {
      const crypto = state.quic?.cryptoData();
      if (crypto) state.session.pushHandshakeBytes('c2s', crypto);
    }
    out.push({ transport: 'udp', kind: state.kind, stream_id, flow: state.flow, result: state.session.result(options) });
  }
  return out;
}
