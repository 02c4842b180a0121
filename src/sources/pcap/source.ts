// The `pcap` input source: a pcap / pcapng capture (gzip too) read as a binary source. Each TLS
// session (TCP, DTLS, QUIC) becomes ONE Observation carrying its fingerprints and the
// certificates the handshake showed, so every rule applies to captures as to logs.
import { sniffFormat } from '../../capture/frames.ts';
import type { Observation, RawCertificate } from '../../schema/event.ts';
import type { BinaryFileContext, BinaryRead, BinarySource } from '../types.ts';
import { type PcapSession, readSessions } from './sessions.ts';

/** Observation of one session (`line` = 1-based session number within the file). */
export function sessionObservation(s: PcapSession, file: string, line: number): Observation {
  const r = s.result;
  const first = r.client_hellos[0];
  const client = r.client_certificates;
  const server = r.server_certificates;
  const sni = first?.hello.sni ?? null;
  return {
    ts: s.ts,
    format: 'pcap',
    file,
    line,
    record_id: `pcap:${s.flow.transport}:${s.stream_id}`,
    outcome: s.outcome,
    source_ip: s.flow.src_ip,
    source_port: s.flow.src_port,
    destination_ip: s.flow.dst_ip,
    destination_port: s.flow.dst_port,
    service: sni,
    sni,
    tls_version: s.version,
    tls_cipher: s.cipher,
    ja3: first?.ja3 ?? null,
    ja3s: r.ja3s,
    ja4: first?.ja4 ?? null,
    client_certificate: client && client.length > 0 ? { der: client[0] } : null,
    client_chain: client ? client.slice(1).map((der): RawCertificate => ({ der })) : [],
    client_certificate_visibility: s.client_certificate_visibility,
    server_certificate: server && server.length > 0 ? { der: server[0] } : null,
  };
}

/** Reads a capture file into Observations, one per TLS session. */
function read(ctx: BinaryFileContext): BinaryRead {
  const sessions = readSessions(ctx.file, {
    diagnostics: ctx.diagnostics,
    onProgress: ctx.onBytes ? (n) => ctx.onBytes?.(n) : undefined,
  });
  let line = 0;
  const iterate = async function* (): AsyncGenerator<Observation[]> {
    for await (const batch of sessions) {
      const out: Observation[] = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) out[i] = sessionObservation(batch[i], ctx.file, ++line);
      yield out;
    }
  };
  return {
    [Symbol.asyncIterator]: iterate,
    counts() {
      const c = sessions.counts();
      const st = sessions.stats();
      let ignored = 0;
      for (const n of Object.values(c.ignored)) ignored += n;
      return { records: c.conversations, ignored, units: st.packets, bytes: st.bytes };
    },
  };
}

/** pcap / pcapng capture → one Observation per TLS session. */
export const pcapSource: BinarySource = {
  kind: 'binary',
  id: 'pcap',
  description: 'pcap / pcapng packet capture (.gz ok): one event per TLS, DTLS or QUIC handshake',
  detectBytes(head: Uint8Array): number {
    const f = sniffFormat(head);
    return f === 'pcap' || f === 'pcapng' ? 1 : 0;
  },
  read,
};
