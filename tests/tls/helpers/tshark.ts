// Test helper: gets per-connection TCP payload bytes (and per-ClientHello JA3 values) out of a
// capture with tshark, independently of certsignal's own capture reader, so the TLS layer can be
// checked against a second opinion. tshark is a test-time tool only (CI installs it).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** True when a `tshark` binary can be run. */
export function haveTshark(): boolean {
  return spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;
}

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** One TCP connection as tshark numbers it (`tcp.stream`), with each direction's bytes in order. */
export interface TsharkTcpStream {
  stream: number;
  client: { ip: string; port: number };
  server: { ip: string; port: number };
  c2s: Uint8Array;
  s2c: Uint8Array;
}

interface Segment {
  seq: number;
  data: Buffer;
}

/** Orders a direction's segments by sequence number and keeps the contiguous prefix (dropping retransmitted bytes). */
function assemble(segments: Segment[], maxBytes: number): Uint8Array {
  segments.sort((a, b) => a.seq - b.seq);
  const parts: Buffer[] = [];
  let next = segments.length > 0 ? segments[0].seq : 0;
  let total = 0;
  for (const s of segments) {
    if (s.seq > next) break; // a gap: stop at what is contiguous
    const skip = next - s.seq;
    if (skip >= s.data.length) continue;
    const piece = s.data.subarray(skip);
    parts.push(piece);
    next += piece.length;
    total += piece.length;
    if (total >= maxBytes) break;
  }
  return Buffer.concat(parts);
}

/** Every TCP connection in the capture with its reassembled payload bytes (first `maxBytes` per direction). */
export function tsharkTcpStreams(pcap: string, maxBytes = 256 * 1024): TsharkTcpStream[] {
  const out = tshark([
    '-r',
    pcap,
    '-Y',
    'tcp',
    '-T',
    'fields',
    '-E',
    'occurrence=l',
    '-E',
    'separator=\t',
    '-o',
    'tcp.relative_sequence_numbers:TRUE',
    '-o',
    'tcp.analyze_sequence_numbers:TRUE',
    '-e',
    'tcp.stream',
    '-e',
    'ip.src',
    '-e',
    'ipv6.src',
    '-e',
    'tcp.srcport',
    '-e',
    'ip.dst',
    '-e',
    'ipv6.dst',
    '-e',
    'tcp.dstport',
    '-e',
    'tcp.seq',
    '-e',
    'tcp.flags.syn',
    '-e',
    'tcp.flags.ack',
    '-e',
    'tcp.payload',
  ]);
  const streams = new Map<
    number,
    { first: { ip: string; port: number; dip: string; dport: number }; synFrom: string | null; dirs: Map<string, Segment[]> }
  >();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [stream, ip4s, ip6s, sport, ip4d, ip6d, dport, seq, syn, ack, payload] = line.split('\t');
    const id = Number(stream);
    const src = ip4s || ip6s;
    const dst = ip4d || ip6d;
    const from = `${src}|${sport}`;
    let s = streams.get(id);
    if (!s) {
      s = { first: { ip: src, port: Number(sport), dip: dst, dport: Number(dport) }, synFrom: null, dirs: new Map() };
      streams.set(id, s);
    }
    const isSyn = syn === '1' || syn === 'True';
    const isAck = ack === '1' || ack === 'True';
    if (isSyn && !isAck && s.synFrom === null) s.synFrom = from;
    if (isSyn && isAck && s.synFrom === null) s.synFrom = `${dst}|${dport}`;
    if (payload) {
      let list = s.dirs.get(from);
      if (!list) {
        list = [];
        s.dirs.set(from, list);
      }
      list.push({ seq: Number(seq), data: Buffer.from(payload.replaceAll(':', ''), 'hex') });
    }
  }
  const result: TsharkTcpStream[] = [];
  for (const [stream, s] of streams) {
    let client = { ip: s.first.ip, port: s.first.port };
    let server = { ip: s.first.dip, port: s.first.dport };
    if (s.synFrom !== null && s.synFrom !== `${client.ip}|${client.port}`) [client, server] = [server, client];
    result.push({
      stream,
      client,
      server,
      c2s: assemble(s.dirs.get(`${client.ip}|${client.port}`) ?? [], maxBytes),
      s2c: assemble(s.dirs.get(`${server.ip}|${server.port}`) ?? [], maxBytes),
    });
  }
  return result.sort((a, b) => a.stream - b.stream);
}

/**
 * tshark's JA3 of every ClientHello: frame number, `tls.handshake.ja3`, `tls.handshake.ja3_full`
 * (DTLS too). A DTLS ClientHello retransmitted in the same conversation (same message_seq) is
 * listed once: a session has one ClientHello per handshake message, however often it was resent.
 */
export async function tsharkJa3(pcap: string): Promise<{ frame: number; ja3: string; ja3_full: string; quic: boolean }[]> {
  const { stdout: out } = await execFileAsync(
    'tshark',
    [
      '-r',
      pcap,
      '-Y',
      'tls.handshake.type == 1 || dtls.handshake.type == 1',
      '-T',
      'fields',
      '-E',
      'separator=\t',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=|',
      '-e',
      'frame.number',
      '-e',
      'frame.protocols',
      '-e',
      'udp.stream',
      '-e',
      'dtls.handshake.message_seq',
      '-e',
      'tls.handshake.ja3',
      '-e',
      'tls.handshake.ja3_full',
      '-e',
      'dtls.handshake.ja3',
      '-e',
      'dtls.handshake.ja3_full',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  const rows: { frame: number; ja3: string; ja3_full: string; quic: boolean }[] = [];
  const dtlsSeen = new Set<string>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [frame, protocols, udpStream, messageSeq, ja3, full, dja3, dfull] = line.split('\t');
    if (dja3) {
      const key = `${udpStream} ${messageSeq}`;
      if (dtlsSeen.has(key)) continue;
      dtlsSeen.add(key);
    }
    const quic = protocols.includes(':quic');
    const hashes = (ja3 || dja3).split('|');
    const fulls = (full || dfull).split('|');
    hashes.forEach((h, i) => {
      if (h) rows.push({ frame: Number(frame), ja3: h, ja3_full: fulls[i] ?? '', quic });
    });
  }
  return rows;
}
