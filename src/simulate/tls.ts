// TLS client classes the simulator adds to the fleet catalogue: TLS 1.2 stacks (so passive
// sensors still see client certificates for part of the estate), the "next" browser build a
// fleet-wide update rolls out, and attacker tooling. JA4 values are computed from a concrete
// ClientHello (cipher, extension and signature-algorithm lists) with FoxIO's JA4 algorithm, and
// JA3 is the MD5 of the matching JA3 string, so every fingerprint is the real digest of a handshake.
import { TLS_CLIENTS, type TlsClientClass } from '../fleet/index.ts';
import { ja3, ja4 } from '../tls/fingerprints.ts';
import type { ClientHello as WireClientHello } from '../tls/hello.ts';

/** A ClientHello reduced to what JA3 and JA4 read (GREASE already removed). */
export interface ClientHello {
  /** Highest version offered: "13", "12", "10". */
  version: '13' | '12' | '11' | '10';
  /** Cipher suites, hex, in wire order. */
  ciphers: readonly string[];
  /** Extensions, hex, in wire order (0000 = SNI, 0010 = ALPN included). */
  extensions: readonly string[];
  /** Signature algorithms, hex, in wire order. */
  signatureAlgorithms: readonly string[];
  /** First ALPN value, or null. */
  alpn: string | null;
  /** Supported groups and point formats as JA3 writes them (decimal). */
  groups: readonly number[];
  pointFormats: readonly number[];
}

const VERSION_NUMBER: Record<ClientHello['version'], number> = { '13': 0x0304, '12': 0x0303, '11': 0x0302, '10': 0x0301 };

/** The simulator's reduced hello as the wire-level ClientHello that src/tls fingerprints. */
function toWireHello(hello: ClientHello): WireClientHello {
  const version = VERSION_NUMBER[hello.version];
  const hex = (h: string): number => Number.parseInt(h, 16);
  const alpnData = hello.alpn ? alpnExtension(hello.alpn) : new Uint8Array(0);
  return {
    legacy_version: Math.min(version, 0x0303),
    version,
    cipher_suites: hello.ciphers.map(hex),
    extensions: hello.extensions.map((e) => ({ type: hex(e), data: e === '0010' ? alpnData : new Uint8Array(0) })),
    sni: hello.extensions.includes('0000') ? 'sim.example' : null,
    alpn: hello.alpn ? [hello.alpn] : [],
    supported_groups: [...hello.groups],
    ec_point_formats: [...hello.pointFormats],
    signature_algorithms: hello.signatureAlgorithms.map(hex),
    supported_versions: version === 0x0304 ? [0x0304, 0x0303] : [],
  };
}

/** ALPN extension body: a 2-byte list length, then one length-prefixed protocol name. */
function alpnExtension(protocol: string): Uint8Array {
  const name = Buffer.from(protocol, 'latin1');
  const out = new Uint8Array(3 + name.length);
  out[0] = 0;
  out[1] = name.length + 1;
  out[2] = name.length;
  out.set(name, 3);
  return out;
}

/** FoxIO JA4 of the hello (TCP), computed by certsignal's own JA4 implementation (src/tls). */
export function ja4Of(hello: ClientHello): string {
  return ja4(toWireHello(hello), 'tcp').ja4;
}

/** The JA3 string (`version,ciphers,extensions,groups,point formats`, decimal). */
export function ja3StringOf(hello: ClientHello): string {
  return ja3(toWireHello(hello)).string;
}

function clientFrom(
  id: string,
  label: string,
  version: string,
  cipher: string,
  hello: ClientHello,
): TlsClientClass & { ja3String: string } {
  const wire = toWireHello(hello);
  const fingerprint = ja3(wire);
  return { id, label, version, cipher, ja3: fingerprint.hash, ja4: ja4(wire, 'tcp').ja4, ja3String: fingerprint.string };
}

// Chrome's ClientHello as in FoxIO's JA4 documentation (raw, original order).
const CHROME_CIPHERS = [
  '1301',
  '1302',
  '1303',
  'c02b',
  'c02f',
  'c02c',
  'c030',
  'cca9',
  'cca8',
  'c013',
  'c014',
  '009c',
  '009d',
  '002f',
  '0035',
];
const CHROME_SIGALGS = ['0403', '0804', '0401', '0503', '0805', '0501', '0806', '0601'];
const chromeExtensions = (alps: string): string[] => [
  '001b',
  '0000',
  '0033',
  '0010',
  alps,
  '0017',
  '002d',
  '000d',
  '0005',
  '0023',
  '0012',
  '002b',
  'ff01',
  '000b',
  '000a',
  '0015',
];

/** Chrome before the update, as FoxIO documents it (JA4 t13d1516h2_8daaf6152771_e5627efa2ab1). */
export const CHROME_DOCUMENTED_HELLO: ClientHello = {
  version: '13',
  ciphers: CHROME_CIPHERS,
  extensions: chromeExtensions('4469'),
  signatureAlgorithms: CHROME_SIGALGS,
  alpn: 'h2',
  groups: [29, 23, 24],
  pointFormats: [0],
};

// TLS 1.2-only clients: Java 8 JSSE and Windows Schannel with TLS 1.3 disabled by policy.
const JAVA8_HELLO: ClientHello = {
  version: '12',
  ciphers: [
    'c02c',
    'c02b',
    'c030',
    'c02f',
    '009f',
    '009e',
    'c024',
    'c023',
    'c028',
    'c027',
    'c00a',
    'c009',
    'c014',
    'c013',
    '009d',
    '009c',
    '003d',
    '003c',
    '0035',
    '002f',
    '00ff',
  ],
  extensions: ['0000', '000a', '000b', '000d', '0017', 'ff01'],
  signatureAlgorithms: ['0603', '0601', '0503', '0501', '0403', '0401', '0303', '0301', '0203', '0201'],
  alpn: null,
  groups: [23, 24, 25, 29],
  pointFormats: [0],
};

const CURL_PYTHON_HELLO: ClientHello = {
  version: '13',
  ciphers: [
    '1302',
    '1303',
    '1301',
    'c02c',
    'c030',
    '009f',
    'cca9',
    'cca8',
    'ccaa',
    'c02b',
    'c02f',
    '009e',
    'c024',
    'c028',
    '006b',
    'c023',
    'c027',
    '0067',
    'c00a',
    'c014',
    '0039',
    'c009',
    'c013',
    '0033',
    '009d',
    '009c',
    '003d',
    '003c',
    '0035',
    '002f',
    '00ff',
  ],
  extensions: ['0000', '000b', '000a', '0023', '0016', '0017', '000d', '002b', '002d', '0033'],
  signatureAlgorithms: [
    '0403',
    '0503',
    '0603',
    '0807',
    '0808',
    '0809',
    '080a',
    '080b',
    '0804',
    '0805',
    '0806',
    '0401',
    '0501',
    '0601',
  ],
  alpn: null,
  groups: [29, 23, 30, 25, 24],
  pointFormats: [0, 1, 2],
};

/** Client stacks added by the simulator (the fleet catalogue's are used as they are). */
export const SIM_TLS_CLIENTS = {
  /** Chrome after an update: the ALPS extension moved from 0x4469 to 0x44cd, so JA4's extension hash changes. */
  chromeNext: clientFrom('chrome-next', 'Chrome (desktop), next release', '1.3', 'TLS_AES_128_GCM_SHA256', {
    ...CHROME_DOCUMENTED_HELLO,
    extensions: chromeExtensions('44cd'),
  }),
  java8: clientFrom('java8', 'Java 8 JSSE workload (TLS 1.2)', '1.2', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', JAVA8_HELLO),
  /** An attacker's curl/OpenSSL 3 client. */
  curl: clientFrom('curl', 'curl / OpenSSL 3 command line', '1.3', 'TLS_AES_256_GCM_SHA384', CURL_PYTHON_HELLO),
} as const;

/** Every client class the simulator may emit, by id. */
export const ALL_TLS_CLIENTS: ReadonlyMap<string, TlsClientClass> = new Map<string, TlsClientClass>([
  ...Object.values(TLS_CLIENTS).map((c): [string, TlsClientClass] => [c.id, c]),
  ...Object.values(SIM_TLS_CLIENTS).map((c): [string, TlsClientClass] => [c.id, c]),
]);

/** The next release of a client class after a fleet-wide update (only Chrome is modelled). */
export function updatedClient(id: string): TlsClientClass | null {
  return id === 'chrome' ? SIM_TLS_CLIENTS.chromeNext : null;
}
