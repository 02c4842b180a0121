// One TLS (or DTLS / QUIC) session seen from the wire: feeds each direction into a
// HandshakeReader, parses the hellos and certificate messages, and computes the fingerprints.
// This is the glue the `pcap` command and the conformance tests share, so both run the same path.
import { TlsParseError } from './bytes.ts';
import { type Ja4Transport, ja3, ja3s, ja4, ja4s, ja4x } from './fingerprints.ts';
import { type ClientHello, parseCertificateMessage, parseClientHello, parseServerHello, type ServerHello } from './hello.ts';
import { type HandshakeMessage, HandshakeReader, HandshakeType } from './records.ts';

/** Fingerprints of one ClientHello. */
export interface ClientHelloFingerprints {
  hello: ClientHello;
  ja3: string;
  ja3_string: string;
  ja4: string;
  ja4_r: string;
  ja4_o: string;
  ja4_ro: string;
}

/** What a session's handshake showed. Fields the capture could not show are null. */
export interface TlsSessionResult {
  /** Every ClientHello in order (a second one follows a HelloRetryRequest or DTLS HelloVerifyRequest). */
  client_hellos: ClientHelloFingerprints[];
  /** The ServerHello that settled the session (not a HelloRetryRequest), or null. */
  server_hello: ServerHello | null;
  ja3s: string | null;
  ja3s_string: string | null;
  /** Opt-in (FoxIO License 1.1): only filled when `ja4plus` was requested. */
  ja4s: string | null;
  ja4s_r: string | null;
  /** Server certificate chain (DER, leaf first), or null when not seen. */
  server_certificates: Uint8Array[] | null;
  /** Client certificate chain (mutual TLS ≤ 1.2), or null. */
  client_certificates: Uint8Array[] | null;
  /** Opt-in JA4X of each server certificate, in chain order. */
  ja4x: string[] | null;
  /** Why the server certificates are null: `tls13-encrypted`, `not-seen`, or null when present. */
  certificates_reason: string | null;
  /** Parse problems and reader failures (reason codes), e.g. `client:sslv2-hello`, `ClientHello:truncated`. */
  problems: string[];
}

/** Collects both directions of one session. */
export class TlsSession {
  readonly transport: Ja4Transport;
  readonly client = new HandshakeReader();
  readonly server = new HandshakeReader();
  /** Handshake messages delivered directly (QUIC CRYPTO data has no record layer). */
  private readonly directClient: HandshakeMessage[] = [];
  private readonly directServer: HandshakeMessage[] = [];

  constructor(transport: Ja4Transport) {
    this.transport = transport;
  }

  /** Record-layer bytes of one direction (TCP chunk or DTLS datagram). */
  push(direction: 'c2s' | 's2c', data: Uint8Array): void {
    (direction === 'c2s' ? this.client : this.server).push(data);
  }

  /** Handshake-layer bytes without records (QUIC CRYPTO stream from offset 0). */
  pushHandshakeBytes(direction: 'c2s' | 's2c', data: Uint8Array): void {
    const into = direction === 'c2s' ? this.directClient : this.directServer;
    into.push(...splitHandshakeMessages(data));
  }

  /** True once both directions can yield nothing more (the caller may stop feeding bytes). */
  get done(): boolean {
    return this.client.done && this.server.done;
  }

  /** Parses what has arrived and computes the fingerprints; `ja4plus` enables JA4S and JA4X. */
  result(options: { ja4plus?: boolean } = {}): TlsSessionResult {
    const problems: string[] = [];
    if (this.client.failure) problems.push(`client:${this.client.failure}`);
    if (this.server.failure) problems.push(`server:${this.server.failure}`);
    const clientMessages = this.directClient.length > 0 ? this.directClient : this.client.messages();
    const serverMessages = this.directServer.length > 0 ? this.directServer : this.server.messages();
    const out: TlsSessionResult = {
      client_hellos: [],
      server_hello: null,
      ja3s: null,
      ja3s_string: null,
      ja4s: null,
      ja4s_r: null,
      server_certificates: null,
      client_certificates: null,
      ja4x: null,
      certificates_reason: null,
      problems,
    };
    const guard = <T>(what: string, fn: () => T): T | null => {
      try {
        return fn();
      } catch (err) {
        if (err instanceof TlsParseError) {
          problems.push(`${what}:${err.reason}`);
          return null;
        }
        throw err;
      }
    };
    for (const m of clientMessages) {
      if (m.type === HandshakeType.CLIENT_HELLO) {
        const hello = guard('ClientHello', () => parseClientHello(m.body));
        if (!hello) continue;
        const j3 = ja3(hello);
        out.client_hellos.push({ hello, ja3: j3.hash, ja3_string: j3.string, ...ja4(hello, this.transport) });
      }
    }
    for (const m of serverMessages) {
      if (m.type === HandshakeType.SERVER_HELLO) {
        const hello = guard('ServerHello', () => parseServerHello(m.body));
        if (hello && (out.server_hello === null || out.server_hello.hello_retry_request)) out.server_hello = hello;
      }
    }
    const sh = out.server_hello;
    const tls13 = sh !== null && (sh.version === 0x0304 || sh.version === 0xfefc);
    if (sh) {
      const j3s = ja3s(sh);
      out.ja3s = j3s.hash;
      out.ja3s_string = j3s.string;
      if (options.ja4plus) {
        const j4s = ja4s(sh, this.transport);
        out.ja4s = j4s.ja4s;
        out.ja4s_r = j4s.ja4s_r;
      }
    }
    out.server_certificates = firstCertificates(serverMessages, tls13, guard);
    out.client_certificates = firstCertificates(clientMessages, tls13, guard);
    if (out.server_certificates === null) {
      out.certificates_reason = tls13 || (this.server.encrypted && sh?.version === 0x0304) ? 'tls13-encrypted' : 'not-seen';
    }
    if (options.ja4plus && out.server_certificates) {
      const list: string[] = [];
      for (const der of out.server_certificates) {
        const fp = guard('Certificate', () => ja4x(der));
        if (fp) list.push(fp.ja4x);
      }
      out.ja4x = list;
    }
    return out;
  }
}

function firstCertificates(
  messages: readonly HandshakeMessage[],
  tls13: boolean,
  guard: <T>(what: string, fn: () => T) => T | null,
): Uint8Array[] | null {
  for (const m of messages) {
    if (m.type !== HandshakeType.CERTIFICATE) continue;
    const certs = guard('Certificate', () => parseCertificateMessage(m.body, tls13));
    if (certs && certs.length > 0) return certs;
  }
  return null;
}

/** Splits a run of handshake messages (no record layer); a trailing partial message is dropped. */
export function splitHandshakeMessages(data: Uint8Array): HandshakeMessage[] {
  const out: HandshakeMessage[] = [];
  let pos = 0;
  while (data.length - pos >= 4) {
    const length = (data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3];
    if (data.length - pos - 4 < length) break;
    out.push({ type: data[pos], body: data.subarray(pos + 4, pos + 4 + length) });
    pos += 4 + length;
  }
  return out;
}
