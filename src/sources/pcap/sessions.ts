// Capture → TLS sessions: runs the capture layer's items (reassembled TCP bytes, DTLS / QUIC
// datagrams) through the TLS layer's TlsSession, one per TCP or UDP conversation, and hands out
// each finished session with what the capture could and could not show (client-certificate
// visibility, handshake outcome). Shared by the `pcap` input source and `certsignal pcap`.
import { isQuicInitial, QuicInitialAssembler } from '../../capture/quic.ts';
import { readCapture } from '../../capture/read.ts';
import type { CaptureItem, CaptureStats, FlowKey } from '../../capture/types.ts';
import type { Diagnostics } from '../../diagnostics.ts';
import type { CertificateVisibility } from '../../schema/event.ts';
import type { Ja4Transport } from '../../tls/fingerprints.ts';
import { TlsSession, type TlsSessionResult } from '../../tls/session.ts';
import { cipherName, versionName } from './names.ts';

/** One TLS / DTLS / QUIC session as the capture showed it. */
export interface PcapSession {
  /** tshark's `tcp.stream` / `udp.stream` number of the conversation (separate counters). */
  stream_id: number;
  /** `tcp`, `udp` (DTLS) or `quic`. */
  transport: 'tcp' | 'udp' | 'quic';
  /** What the fingerprints were computed for. */
  kind: Ja4Transport;
  /** Oriented client → server. */
  flow: FlowKey;
  /** Epoch ms of the packet that completed the first ClientHello (else of the first packet seen). */
  ts: number;
  result: TlsSessionResult;
  /** Negotiated version (ServerHello) when seen, else the highest the client offered; canonical (`TLS 1.3`). */
  version: string | null;
  version_from: 'server_hello' | 'client_hello' | null;
  /** Negotiated cipher suite (IANA name or `0x….`), null without a ServerHello. */
  cipher: string | null;
  /** ALPN protocol the server selected, null when not seen or none. */
  alpn: string | null;
  /** See docs/pcap.md: `success` once both sides switched to encrypted records with no fatal alert in the clear. */
  outcome: 'success' | 'failure' | 'unknown';
  client_certificate_visibility: CertificateVisibility;
  /** Why client certificates are not shown (`tls13-encrypted`, `resumed-session`, `handshake-not-seen`, `handshake-incomplete`), else null. */
  client_certificates_reason: string | null;
  /** Why server certificates are not shown (`tls13-encrypted`, `resumed-session`, `not-seen`), else null. */
  server_certificates_reason: string | null;
}

/** Conversation counts of one capture: TLS sessions and what was ignored, by reason. */
export interface SessionCounts {
  /** TCP + UDP conversations that carried payload. */
  conversations: number;
  sessions: number;
  /** reason → conversations not turned into sessions: `non-tls`, `sslv2-hello`, `no-hello`, `malformed-tls`. */
  ignored: Record<string, number>;
}

/**
 * Reads TLS record headers of one direction to notice a fatal alert sent in the clear (before
 * that side switched to encryption), which means the handshake failed. Gives up at the first
 * encrypted record or at anything that is not a TLS record header (e.g. a CONNECT preamble).
 */
class AlertScanner {
  fatalAlert = false;
  stopped = false;
  private readonly header = new Uint8Array(5);
  private have = 0;
  /** Bytes of the current record body still to skip. */
  private skip = 0;
  /** The next byte is an alert level. */
  private alertLevelNext = false;

  push(d: Uint8Array): void {
    let i = 0;
    while (i < d.length && !this.stopped) {
      if (this.alertLevelNext) {
        this.alertLevelNext = false;
        if (d[i] === 2) this.fatalAlert = true;
        this.stopped = this.fatalAlert;
        continue; // the level byte is part of the body counted in `skip`
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, d.length - i);
        i += n;
        this.skip -= n;
        continue;
      }
      this.header[this.have++] = d[i++];
      if (this.have < 5) continue;
      this.have = 0;
      const type = this.header[0];
      if (type < 20 || type > 24 || this.header[1] !== 3) {
        this.stopped = true;
        break;
      }
      if (type === 20 || type === 23) {
        this.stopped = true; // encrypted from here on: later alerts cannot be read
        break;
      }
      this.skip = (this.header[3] << 8) | this.header[4];
      if (type === 21 && this.skip >= 2) this.alertLevelNext = true;
    }
  }
}

interface Conversation {
  flow: FlowKey;
  kind: Ja4Transport | null;
  session: TlsSession | null;
  quic: QuicInitialAssembler | null;
  firstTs: number;
  helloTs: number | null;
  clientAlerts: AlertScanner | null;
  serverAlerts: AlertScanner | null;
}

function looksLikeDtls(d: Uint8Array): boolean {
  return d.length >= 13 && d[0] >= 20 && d[0] <= 24 && d[1] === 0xfe;
}

/**
 * Turns capture items into finished sessions. Push every item in order; a session is handed to
 * `onSession` when its conversation ends (the capture layer ends every conversation at the end).
 */
export class SessionAssembler {
  readonly counts: SessionCounts = { conversations: 0, sessions: 0, ignored: {} };
  private readonly tcp = new Map<number, Conversation>();
  private readonly udp = new Map<number, Conversation>();
  private readonly ja4plus: boolean;
  private readonly onSession: (s: PcapSession) => void;
  private readonly onProblem?: (stream: string, problems: string[]) => void;

  constructor(options: {
    ja4plus?: boolean;
    onSession: (s: PcapSession) => void;
    onProblem?: (stream: string, problems: string[]) => void;
  }) {
    this.ja4plus = options.ja4plus === true;
    this.onSession = options.onSession;
    this.onProblem = options.onProblem;
  }

  push(item: CaptureItem): void {
    if (item.kind === 'tcp') {
      let c = this.tcp.get(item.stream_id);
      if (c === undefined) {
        c = {
          flow: item.flow,
          kind: 'tcp',
          session: new TlsSession('tcp'),
          quic: null,
          firstTs: item.ts,
          helloTs: null,
          clientAlerts: new AlertScanner(),
          serverAlerts: new AlertScanner(),
        };
        this.tcp.set(item.stream_id, c);
        this.counts.conversations++;
      }
      const session = c.session as TlsSession;
      session.push(item.direction, item.data);
      const scanner = item.direction === 'c2s' ? c.clientAlerts : c.serverAlerts;
      if (scanner !== null && !scanner.stopped) scanner.push(item.data);
      if (c.helloTs === null && item.direction === 'c2s' && session.client.messages().length > 0) c.helloTs = item.ts;
      return;
    }
    if (item.kind === 'udp') {
      let c = this.udp.get(item.stream_id);
      if (c === undefined) {
        c = {
          flow: item.flow,
          kind: null,
          session: null,
          quic: null,
          firstTs: item.ts,
          helloTs: null,
          clientAlerts: null,
          serverAlerts: null,
        };
        this.udp.set(item.stream_id, c);
        this.counts.conversations++;
      }
      if (c.kind === null) {
        // The conversation's client is the sender of its first DTLS record or QUIC Initial.
        const kind = looksLikeDtls(item.data) ? 'dtls' : isQuicInitial(item.data) ? 'quic' : null;
        if (kind === null) return;
        c.kind = kind;
        c.flow = item.flow;
        c.session = new TlsSession(kind);
        c.quic = kind === 'quic' ? new QuicInitialAssembler() : null;
      }
      const fromClient = item.flow.src_ip === c.flow.src_ip && item.flow.src_port === c.flow.src_port;
      if (c.kind === 'dtls') {
        const session = c.session as TlsSession;
        session.push(fromClient ? 'c2s' : 's2c', item.data);
        if (c.helloTs === null && fromClient && session.client.messages().length > 0) c.helloTs = item.ts;
      } else if (fromClient && c.quic !== null) {
        c.quic.push(item.data);
        c.helloTs ??= item.ts;
      }
      return;
    }
    const table = item.flow.transport === 'tcp' ? this.tcp : this.udp;
    const c = table.get(item.stream_id);
    if (c === undefined) return;
    table.delete(item.stream_id);
    this.finish(item.stream_id, c);
  }

  /** Ends every conversation still open (normally none: the capture layer ends them all). */
  flush(): void {
    for (const [id, c] of this.tcp) this.finish(id, c);
    this.tcp.clear();
    for (const [id, c] of this.udp) this.finish(id, c);
    this.udp.clear();
  }

  private ignore(reason: string): void {
    this.counts.ignored[reason] = (this.counts.ignored[reason] ?? 0) + 1;
  }

  private finish(streamId: number, c: Conversation): void {
    const session = c.session;
    if (session === null || c.kind === null) {
      this.ignore('non-tls');
      return;
    }
    if (c.kind === 'quic') {
      const crypto = c.quic?.cryptoData();
      if (crypto) session.pushHandshakeBytes('c2s', crypto);
    }
    const result = session.result({ ja4plus: this.ja4plus });
    const where = `${c.flow.transport}:${streamId}`;
    const problems = result.problems.filter((p) => !p.endsWith(':not-tls'));
    if (result.client_hellos.length === 0 && result.server_hello === null) {
      if (session.client.failure === 'sslv2-hello') this.ignore('sslv2-hello');
      else if (problems.length > 0) {
        this.ignore('malformed-tls');
        this.onProblem?.(where, problems);
      } else if (session.client.protocol !== null || session.server.protocol !== null) this.ignore('no-hello');
      else this.ignore('non-tls');
      return;
    }
    if (problems.length > 0) this.onProblem?.(where, problems);
    this.counts.sessions++;
    this.onSession(describe(streamId, c, session, result));
  }
}

const TLS13 = new Set([0x0304, 0xfefc]);

function describe(streamId: number, c: Conversation, session: TlsSession, result: TlsSessionResult): PcapSession {
  const kind = c.kind as Ja4Transport;
  const sh = result.server_hello;
  const ch = result.client_hellos[0]?.hello ?? null;
  const version = sh ? sh.version : ch ? ch.version : null;
  const tls13 = kind === 'quic' || (version !== null && TLS13.has(version) && sh !== null);

  const clientAlert = c.clientAlerts?.fatalAlert === true || c.serverAlerts?.fatalAlert === true;
  let outcome: PcapSession['outcome'] = 'unknown';
  if (clientAlert) outcome = 'failure';
  else if (kind !== 'quic' && session.client.encrypted && session.server.encrypted && sh !== null) outcome = 'success';

  // An abbreviated (resumed) TLS ≤ 1.2 handshake goes from ServerHello straight to ChangeCipherSpec.
  const resumed = !tls13 && sh !== null && result.server_certificates === null && session.server.encrypted;
  let serverReason: string | null = null;
  if (result.server_certificates === null) {
    serverReason = tls13 ? 'tls13-encrypted' : resumed ? 'resumed-session' : 'not-seen';
  }
  let visibility: CertificateVisibility;
  let clientReason: string | null = null;
  if (result.client_certificates !== null) visibility = 'present';
  else if (tls13) {
    visibility = 'not_visible';
    clientReason = 'tls13-encrypted';
  } else if (sh === null) {
    visibility = 'not_visible';
    clientReason = 'handshake-not-seen';
  } else if (resumed) {
    visibility = 'not_visible';
    clientReason = 'resumed-session';
  } else if (session.client.encrypted) {
    // The client reached ChangeCipherSpec: a Certificate message would have come before it.
    visibility = 'absent';
  } else {
    visibility = 'not_visible';
    clientReason = 'handshake-incomplete';
  }
  return {
    stream_id: streamId,
    transport: kind === 'quic' ? 'quic' : kind === 'dtls' ? 'udp' : 'tcp',
    kind,
    flow: c.flow,
    ts: c.helloTs ?? c.firstTs,
    result,
    version: version === null ? null : versionName(version),
    version_from: sh ? 'server_hello' : ch ? 'client_hello' : null,
    cipher: sh ? cipherName(sh.cipher_suite) : null,
    alpn: sh?.alpn ?? null,
    outcome,
    client_certificate_visibility: visibility,
    client_certificates_reason: clientReason,
    server_certificates_reason: serverReason,
  };
}

/** Sessions of one capture file, in batches, with the capture's and the session counts. */
export interface SessionReader extends AsyncIterable<PcapSession[]> {
  stats(): CaptureStats;
  counts(): SessionCounts;
}

/**
 * Reads one capture and yields its TLS sessions in batches as their conversations end. Packet
 * and TLS problems become diagnostics; throws CertsignalError only when the file cannot be opened.
 */
export function readSessions(
  path: string,
  options: { diagnostics?: Diagnostics; ja4plus?: boolean; onProgress?: (bytesRead: number, totalBytes: number) => void } = {},
): SessionReader {
  const capture = readCapture(path, { diagnostics: options.diagnostics, onProgress: options.onProgress });
  let counts: SessionCounts = { conversations: 0, sessions: 0, ignored: {} };
  const iterate = async function* (): AsyncGenerator<PcapSession[]> {
    let out: PcapSession[] = [];
    const assembler = new SessionAssembler({
      ja4plus: options.ja4plus,
      onSession: (s) => out.push(s),
      onProblem: (stream, problems) =>
        options.diagnostics?.warn({
          reason: 'tls-malformed',
          file: path,
          field: stream,
          message: `TLS handshake problems: ${problems.join(', ')}`,
        }),
    });
    counts = assembler.counts;
    for await (const batch of capture) {
      for (const item of batch) assembler.push(item);
      if (out.length > 0) {
        const ready = out;
        out = [];
        yield ready;
      }
    }
    assembler.flush();
    if (out.length > 0) yield out;
  };
  return { [Symbol.asyncIterator]: iterate, stats: () => capture.stats(), counts: () => counts };
}
