// JA3 / JA3S / JA4 against the worked examples of their specifications (salesforce/ja3 README,
// FoxIO JA4.md), built from wire bytes and parsed, with GREASE mixed in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientHelloBody, ext, serverHelloBody, type WireExtension } from '../../tests/tls/helpers/wire.ts';
import { alpnCode, count2, ja3, ja3s, ja4 } from './fingerprints.ts';
import { parseClientHello, parseServerHello } from './hello.ts';

const SPEC_CIPHERS = [
  0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
];
const SPEC_SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
const SPEC_EXT_ORDER = [
  0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
];

function specExtension(type: number): WireExtension {
  switch (type) {
    case 0x0000:
      return ext.sni('example.com');
    case 0x0010:
      return ext.alpn('h2', 'http/1.1');
    case 0x000d:
      return ext.sigalgs(...SPEC_SIGALGS);
    case 0x002b:
      return ext.versions(0x3a3a, 0x0304, 0x0303);
    default:
      return ext.empty(type);
  }
}

/** The JA4.md example hello, with GREASE cipher and extensions added as a browser would. */
function specHello(extensionOrder = SPEC_EXT_ORDER) {
  return parseClientHello(
    clientHelloBody({
      ciphers: [0x0a0a, ...SPEC_CIPHERS],
      extensions: [ext.empty(0x1a1a), ...extensionOrder.map(specExtension), ext.empty(0xfafa)],
    }),
  );
}

test('JA4 of the JA4.md example equals the spec, GREASE ignored', () => {
  const fp = ja4(specHello(), 'tcp');
  assert.equal(fp.ja4, 't13d1516h2_8daaf6152771_e5627efa2ab1');
  assert.equal(
    fp.ja4_r,
    't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
  );
  assert.equal(
    fp.ja4_ro,
    't13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601',
  );
  assert.equal(fp.ja4_o, 't13d1516h2_acb858a92679_18f69afefd3d');
});

test('JA4 is the same for any extension order; JA4_o is not', () => {
  const shuffled = [...SPEC_EXT_ORDER].reverse();
  const a = ja4(specHello(), 'tcp');
  const b = ja4(specHello(shuffled), 'tcp');
  assert.equal(b.ja4, a.ja4);
  assert.notEqual(b.ja4_o, a.ja4_o);
});

test('JA4 first character follows the transport; SNI absent gives i', () => {
  const noSni = SPEC_EXT_ORDER.filter((t) => t !== 0);
  assert.match(ja4(specHello(), 'quic').ja4, /^q13d/);
  assert.match(ja4(specHello(), 'dtls').ja4, /^d13d/);
  assert.match(ja4(specHello(noSni), 'tcp').ja4, /^t13i1515h2_/);
});

test('JA4 without signature algorithms hashes the extension list with no trailing underscore (spec: 6d807ffa2a79)', () => {
  const order = SPEC_EXT_ORDER.filter((t) => t !== 0x000d).concat([0x000d]);
  const hello = parseClientHello(
    clientHelloBody({
      ciphers: SPEC_CIPHERS,
      extensions: order.map((t) => (t === 0x000d ? ext.empty(0x000d) : specExtension(t))),
    }),
  );
  // An empty signature_algorithms extension still counts as an extension but adds no algorithms.
  const fp = ja4(hello, 'tcp');
  assert.equal(fp.ja4.split('_')[2], '6d807ffa2a79');
  assert.ok(!fp.ja4_r.endsWith('_'));
});

test('JA4 prints 000000000000 for empty cipher and extension lists; SNI/ALPN alone count but do not hash', () => {
  const hello = parseClientHello(clientHelloBody({ version: 0x0301, ciphers: [0x0a0a], extensions: [ext.sni('a.example')] }));
  const fp = ja4(hello, 'tcp');
  assert.equal(fp.ja4, 't10d000100_000000000000_000000000000');
  assert.equal(fp.ja4_o, 't10d000100_000000000000_000000000000');
  assert.equal(fp.ja4_ro, 't10d000100__0000');
});

test('JA4 version comes from supported_versions, else the hello version; unknown is 00', () => {
  const v = (version: number, extensions: WireExtension[]) =>
    ja4(parseClientHello(clientHelloBody({ version, ciphers: [0x2f], extensions })), 'tcp').ja4.slice(1, 3);
  assert.equal(v(0x0303, [ext.versions(0x0a0a, 0x0303, 0x0304)]), '13');
  assert.equal(v(0x0303, []), '12');
  assert.equal(v(0x0300, []), 's3');
  assert.equal(v(0xfefd, []), 'd2');
  assert.equal(v(0xfefd, [ext.versions(0xfefc, 0xfefd)]), 'd3');
  assert.equal(v(0x0305, []), '00');
});

test('count2 caps at 99', () => {
  assert.equal(count2(0), '00');
  assert.equal(count2(7), '07');
  assert.equal(count2(99), '99');
  assert.equal(count2(150), '99');
  const many = Array.from({ length: 120 }, (_, i) => 0x0100 + i);
  assert.match(ja4(parseClientHello(clientHelloBody({ ciphers: many, extensions: [] })), 'tcp').ja4, /^t12i9900/);
});

test('ALPN code follows every JA4.md example, including the hex rule', () => {
  const b = (...bytes: number[]) => Uint8Array.from(bytes);
  assert.equal(alpnCode(Buffer.from('h2')), 'h2');
  assert.equal(alpnCode(Buffer.from('http/1.1')), 'h1');
  assert.equal(alpnCode(Buffer.from('h')), 'hh');
  assert.equal(alpnCode(null), '00');
  assert.equal(alpnCode(b()), '00');
  assert.equal(alpnCode(b(0xab)), 'ab');
  assert.equal(alpnCode(b(0x20)), '20');
  assert.equal(alpnCode(b(0xab, 0xcd)), 'ad');
  assert.equal(alpnCode(b(0x20, 0x61)), '21');
  assert.equal(alpnCode(b(0x30, 0xab)), '3b');
  assert.equal(alpnCode(b(0x61, 0x20)), '60');
  assert.equal(alpnCode(b(0x30, 0x31, 0xab, 0xcd)), '3d');
  assert.equal(alpnCode(b(0x30, 0xab, 0xcd, 0x31)), '01');
});

test('JA3 of the salesforce README examples', () => {
  const first = parseClientHello(
    clientHelloBody({
      version: 769,
      ciphers: [47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4],
      extensions: [ext.sni('x.example'), ext.groups(23, 24, 25), ext.pointFormats(0)],
    }),
  );
  assert.deepEqual(ja3(first), {
    string: '769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0',
    hash: 'ada70206e40642a3e4461f35503241d5',
  });
  const second = parseClientHello(
    clientHelloBody({ version: 769, ciphers: [4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99], extensions: null }),
  );
  assert.deepEqual(ja3(second), { string: '769,4-5-10-9-100-98-3-6-19-18-99,,,', hash: 'de350869b8c85de67a350c8d186f11e6' });
});

test('JA3 drops GREASE from ciphers, extensions and groups (RFC 8701)', () => {
  const hello = parseClientHello(
    clientHelloBody({
      version: 769,
      ciphers: [0x0a0a, 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4],
      extensions: [
        ext.empty(0x2a2a),
        ext.sni('x.example'),
        ext.groups(0xdada, 23, 24, 25),
        ext.pointFormats(0),
        ext.empty(0xeaea),
      ],
    }),
  );
  assert.equal(ja3(hello).hash, 'ada70206e40642a3e4461f35503241d5');
});

test('JA3S is version,cipher,extensions of the ServerHello (TLS 1.3 keeps 771)', () => {
  const sh = parseServerHello(
    serverHelloBody({
      cipher: 49199,
      extensions: [ext.empty(65281), ext.empty(0), ext.pointFormats(0), ext.alpn('h2'), ext.empty(23)],
    }),
  );
  assert.deepEqual(ja3s(sh), { string: '771,49199,65281-0-11-16-23', hash: '5d79edf64e03689ff559a54e9d9487bc' });
  const tls13 = parseServerHello(serverHelloBody({ cipher: 0x1301, extensions: [ext.serverVersion(0x0304)] }));
  assert.equal(ja3s(tls13).string, '771,4865,43');
});
