// Passive-sensor views of the simulated sessions: Zeek ssl.log + x509.log (TSV with Zeek's
// headers; `ja3`/`ja4` columns as the salesforce and FoxIO packages add them) and Suricata EVE
// `tls` events. A sensor sees certificates only when the handshake is not TLS 1.3 (1.3 encrypts
// the Certificate messages), and it never sees user names: identities come from certificates,
// devices are addresses.
import { createHash } from 'node:crypto';
import { type FleetCertificate, type GatewayEvent, hashSeed } from '../fleet/index.ts';

/** Per-session network facts shared by both writers so both describe the same connection. */
export interface SessionNet {
  uid: string;
  flowId: string;
  sourcePort: number;
  destIp: string;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Deterministic connection facts for the n-th session (same for every format). */
export function sessionNet(seed: string, index: number, e: GatewayEvent): SessionNet {
  let h = hashSeed(`${seed}/net/${index}`);
  let uid = 'C';
  for (let i = 0; i < 17; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    uid += BASE62[h % 62];
  }
  const h2 = hashSeed(`${seed}/flow/${index}`);
  const destHash = hashSeed(e.domain);
  return {
    uid,
    // 16 decimal digits, like Suricata's 64-bit flow ids (kept as text: JSON numbers lose digits past 2^53).
    flowId: `${1 + (h2 % 9)}${String(hashSeed(`${seed}/f2/${index}`))
      .padStart(10, '0')
      .slice(0, 10)}${String(h2).padStart(10, '0').slice(0, 5)}`,
    sourcePort: 49152 + (h2 % 16384),
    destIp: `10.0.${1 + (destHash % 4)}.${10 + (destHash % 200)}`,
  };
}

/** Whether a passive sensor sees the certificates of a session negotiated with this ECS version. */
export const certificatesVisible = (tlsVersion: string): boolean => tlsVersion !== '1.3';

const ZEEK_VERSION: Record<string, string> = { '1.3': 'TLSv13', '1.2': 'TLSv12', '1.1': 'TLSv11', '1.0': 'TLSv10' };
const SURICATA_VERSION: Record<string, string> = { '1.3': 'TLS 1.3', '1.2': 'TLS 1.2', '1.1': 'TLS 1.1', '1.0': 'TLSv1' };

function sans(cert: FleetCertificate): { dns: string[]; email: string[]; uri: string[] } {
  const out = { dns: [] as string[], email: [] as string[], uri: [] as string[] };
  for (const n of cert.altNames) {
    if (n.includes('://')) out.uri.push(n);
    else if (n.includes('@')) out.email.push(n);
    else out.dns.push(n);
  }
  return out;
}

const zeekTime = (ms: number): string => (ms / 1000).toFixed(6);
const zeekSet = (values: readonly string[]): string => (values.length === 0 ? '(empty)' : values.join(','));
const zeekStr = (v: string | null | undefined): string =>
  v === null || v === undefined || v === '' ? '-' : v.replace(/\t/g, '\\x09');

function zeekHeader(path: string, fields: readonly string[], types: readonly string[], openTs: number): string {
  const open = new Date(openTs).toISOString().slice(0, 19).replace(/[T:]/g, '-');
  return [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    `#path\t${path}`,
    `#open\t${open}`,
    `#fields\t${fields.join('\t')}`,
    `#types\t${types.join('\t')}`,
  ].join('\n');
}

const SSL_COLUMNS: readonly [string, string][] = [
  ['ts', 'time'],
  ['uid', 'string'],
  ['id.orig_h', 'addr'],
  ['id.orig_p', 'port'],
  ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'],
  ['version', 'string'],
  ['cipher', 'string'],
  ['curve', 'string'],
  ['server_name', 'string'],
  ['resumed', 'bool'],
  ['last_alert', 'string'],
  ['next_protocol', 'string'],
  ['established', 'bool'],
  ['cert_chain_fps', 'vector[string]'],
  ['client_cert_chain_fps', 'vector[string]'],
  ['sni_matches_cert', 'bool'],
  ['ja3', 'string'],
  ['ja4', 'string'],
];

const X509_COLUMNS: readonly [string, string][] = [
  ['ts', 'time'],
  ['fingerprint', 'string'],
  ['certificate.version', 'count'],
  ['certificate.serial', 'string'],
  ['certificate.subject', 'string'],
  ['certificate.issuer', 'string'],
  ['certificate.not_valid_before', 'time'],
  ['certificate.not_valid_after', 'time'],
  ['certificate.key_alg', 'string'],
  ['certificate.sig_alg', 'string'],
  ['certificate.key_type', 'string'],
  ['certificate.key_length', 'count'],
  ['certificate.exponent', 'string'],
  ['certificate.curve', 'string'],
  ['san.dns', 'vector[string]'],
  ['san.uri', 'vector[string]'],
  ['san.email', 'vector[string]'],
  ['san.ip', 'vector[addr]'],
  ['basic_constraints.ca', 'bool'],
  ['basic_constraints.path_len', 'count'],
  ['host_cert', 'bool'],
  ['client_cert', 'bool'],
];

/** Accumulates Zeek ssl.log and x509.log lines for sessions added in time order. */
export class ZeekWriter {
  private readonly includeCertificates: boolean;
  private readonly gatewayChain: readonly FleetCertificate[];
  private readonly ssl: string[] = [];
  private readonly x509: string[] = [];
  private readonly x509Fragments = new Map<string, string>();
  /** Certificates already logged today, by role: Zeek de-duplicates x509 lines per certificate per day. */
  private seenToday = new Set<string>();
  private day = -1;
  private firstTs: number | null = null;
  private lastTs = 0;

  constructor(gatewayChain: readonly FleetCertificate[], includeCertificates: boolean) {
    this.gatewayChain = gatewayChain;
    this.includeCertificates = includeCertificates;
  }

  get x509Records(): number {
    return this.x509.length;
  }

  private x509Line(ts: number, cert: FleetCertificate, host: boolean): void {
    const key = `${cert.sha256}/${host ? 'h' : 'c'}`;
    if (this.seenToday.has(key)) return;
    this.seenToday.add(key);
    let fragment = this.x509Fragments.get(key);
    if (fragment === undefined) {
      const s = sans(cert);
      const isCa = cert.id.startsWith('ca:');
      const selfIssued = cert.subject === cert.issuer;
      const cols = [
        cert.sha256,
        '3',
        cert.serial.toUpperCase(),
        zeekStr(cert.subject),
        zeekStr(cert.issuer),
        zeekTime(Date.parse(cert.notBefore)),
        zeekTime(Date.parse(cert.notAfter)),
        'id-ecPublicKey',
        'ecdsa-with-SHA256',
        'ecdsa',
        '256',
        '-',
        'prime256v1',
        s.dns.length ? zeekSet(s.dns) : '-',
        s.uri.length ? zeekSet(s.uri) : '-',
        s.email.length ? zeekSet(s.email) : '-',
        '-',
        isCa ? 'T' : 'F',
        isCa && !selfIssued ? '0' : '-',
        host ? 'T' : 'F',
        host ? 'F' : 'T',
      ];
      if (this.includeCertificates) cols.push(Buffer.from(cert.der).toString('base64'));
      fragment = cols.join('\t');
      this.x509Fragments.set(key, fragment);
    }
    this.x509.push(`${zeekTime(ts)}\t${fragment}`);
  }

  /** Adds one session; `clientChain` is leaf first (empty when no certificate was presented). */
  add(e: GatewayEvent, net: SessionNet, clientChain: readonly FleetCertificate[]): void {
    this.firstTs ??= e.ts;
    this.lastTs = e.ts;
    const day = Math.floor(e.ts / 86_400_000);
    if (day !== this.day) {
      this.day = day;
      this.seenToday = new Set();
    }
    const visible = certificatesVisible(e.tls.version);
    if (visible) {
      for (const c of this.gatewayChain) this.x509Line(e.ts, c, true);
      for (const c of clientChain) this.x509Line(e.ts, c, false);
    }
    const alpn = e.tls.ja4.slice(8, 10);
    this.ssl.push(
      [
        zeekTime(e.ts),
        net.uid,
        e.sourceIp,
        String(net.sourcePort),
        net.destIp,
        '443',
        ZEEK_VERSION[e.tls.version] ?? e.tls.version,
        e.tls.cipher,
        'x25519',
        e.domain,
        'F',
        '-',
        alpn === '00' ? '-' : alpn,
        'T',
        visible ? zeekSet(this.gatewayChain.map((c) => c.sha256)) : '(empty)',
        visible ? zeekSet(clientChain.map((c) => c.sha256)) : '(empty)',
        visible ? 'T' : '-',
        e.tls.ja3,
        e.tls.ja4,
      ].join('\t'),
    );
  }

  /** The two log files. */
  finish(): { ssl: string; x509: string } {
    const open = this.firstTs ?? 0;
    const close = `#close\t${new Date(this.lastTs).toISOString().slice(0, 19).replace(/[T:]/g, '-')}`;
    const x509Cols = this.includeCertificates ? [...X509_COLUMNS, ['cert', 'string'] as [string, string]] : X509_COLUMNS;
    const render = (path: string, cols: readonly [string, string][], lines: string[]): string =>
      `${zeekHeader(
        path,
        cols.map((c) => c[0]),
        cols.map((c) => c[1]),
        open,
      )}\n${lines.length > 0 ? `${lines.join('\n')}\n` : ''}${close}\n`;
    return { ssl: render('ssl', SSL_COLUMNS, this.ssl), x509: render('x509', x509Cols, this.x509) };
  }
}

/** `C=US, O=Example Corp, CN=x`: Suricata prints DNs most general first, `, ` separated. */
function wireOrderDn(rfc4514: string): string {
  // Our DNs carry no escaped commas (names are plain words), so a split on `,` is exact.
  return rfc4514.split(',').reverse().join(', ');
}

const colonHex = (hex: string): string => (hex.length % 2 ? `0${hex}` : hex).toUpperCase().replace(/(..)(?!$)/g, '$1:');
const suricataDate = (iso: string): string => iso.slice(0, 19);

/** Writes Suricata EVE `tls` events (one JSON object per line). */
export class SuricataWriter {
  private readonly includeCertificates: boolean;
  private readonly fragments = new Map<string, string>();
  private readonly serverFragment: string;
  private readonly q = JSON.stringify;

  constructor(gatewayChain: readonly FleetCertificate[], includeCertificates: boolean) {
    this.includeCertificates = includeCertificates;
    this.serverFragment = this.certFields(gatewayChain, false);
  }

  /** subject … notafter (+ certificate/chain) for a chain, leaf first. */
  private certFields(chain: readonly FleetCertificate[], withSans: boolean): string {
    const leaf = chain[0];
    const sha1 = createHash('sha1')
      .update(leaf.der)
      .digest('hex')
      .replace(/(..)(?!$)/g, '$1:');
    let out =
      `"subject":${this.q(wireOrderDn(leaf.subject))},"issuerdn":${this.q(wireOrderDn(leaf.issuer))},` +
      `"serial":${this.q(colonHex(leaf.serial))},"fingerprint":${this.q(sha1)},` +
      `"notbefore":${this.q(suricataDate(leaf.notBefore))},"notafter":${this.q(suricataDate(leaf.notAfter))}`;
    if (withSans && leaf.altNames.length > 0) out += `,"subjectaltname":${this.q(leaf.altNames)}`;
    if (this.includeCertificates) {
      const b64 = chain.map((c) => Buffer.from(c.der).toString('base64'));
      out += `,"certificate":${this.q(b64[0])},"chain":${this.q(b64)}`;
    }
    return out;
  }

  private clientFragment(chain: readonly FleetCertificate[]): string {
    const key = chain[0].sha256;
    let f = this.fragments.get(key);
    if (f === undefined) {
      f = `,"client":{${this.certFields(chain, true)}}`;
      this.fragments.set(key, f);
    }
    return f;
  }

  /** One EVE line (no newline). */
  format(e: GatewayEvent, net: SessionNet, clientChain: readonly FleetCertificate[]): string {
    const visible = certificatesVisible(e.tls.version);
    const ts = new Date(e.ts).toISOString().replace('Z', '000+0000');
    let tls = visible ? `${this.serverFragment},` : '';
    tls += `"sni":${this.q(e.domain)},"version":${this.q(SURICATA_VERSION[e.tls.version] ?? e.tls.version)},"ja3":{"hash":${this.q(e.tls.ja3)}},"ja4":${this.q(e.tls.ja4)}`;
    if (visible && clientChain.length > 0) tls += this.clientFragment(clientChain);
    return (
      `{"timestamp":"${ts}","flow_id":${net.flowId},"in_iface":"eth1","event_type":"tls","src_ip":"${e.sourceIp}","src_port":${net.sourcePort},` +
      `"dest_ip":"${net.destIp}","dest_port":443,"proto":"TCP","pkt_src":"wire/pcap","tls":{${tls}}}`
    );
  }
}
