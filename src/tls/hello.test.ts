// ClientHello / ServerHello / Certificate parsing: fields, DTLS cookie, HelloRetryRequest, and
// coded errors for truncated input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certificateBody, clientHelloBody, ext, serverHelloBody } from '../../tests/tls/helpers/wire.ts';
import { TlsParseError } from './bytes.ts';
import { parseCertificateMessage, parseClientHello, parseServerHello } from './hello.ts';

test('parseClientHello reads every field the fingerprints use, GREASE kept in wire order', () => {
  const ch = parseClientHello(
    clientHelloBody({
      ciphers: [0x0a0a, 0x1301, 0xc02f],
      extensions: [
        ext.empty(0x2a2a),
        ext.sni('www.example.com'),
        ext.alpn('h2', 'http/1.1'),
        ext.groups(0x4a4a, 29, 23),
        ext.pointFormats(0),
        ext.sigalgs(0x0403, 0x0804),
        ext.versions(0x6a6a, 0x0304, 0x0303),
      ],
    }),
  );
  assert.equal(ch.legacy_version, 0x0303);
  assert.equal(ch.version, 0x0304);
  assert.deepEqual(ch.cipher_suites, [0x0a0a, 0x1301, 0xc02f]);
  assert.deepEqual(
    ch.extensions.map((e) => e.type),
    [0x2a2a, 0, 16, 10, 11, 13, 43],
  );
  assert.equal(ch.sni, 'www.example.com');
  assert.deepEqual(ch.alpn, ['h2', 'http/1.1']);
  assert.deepEqual(ch.supported_groups, [0x4a4a, 29, 23]);
  assert.deepEqual(ch.ec_point_formats, [0]);
  assert.deepEqual(ch.signature_algorithms, [0x0403, 0x0804]);
  assert.deepEqual(ch.supported_versions, [0x6a6a, 0x0304, 0x0303]);
});

test('a DTLS ClientHello has its cookie skipped', () => {
  const ch = parseClientHello(
    clientHelloBody({ version: 0xfefd, cookie: [9, 9, 9, 9], ciphers: [0xc02b], extensions: [ext.sni('d.example')] }),
  );
  assert.deepEqual(ch.cipher_suites, [0xc02b]);
  assert.equal(ch.sni, 'd.example');
  assert.equal(ch.version, 0xfefd);
});

test('a ClientHello without an extension block parses (SSL 3.0 / early TLS)', () => {
  const ch = parseClientHello(clientHelloBody({ version: 0x0300, ciphers: [4, 5], extensions: null }));
  assert.deepEqual(ch.extensions, []);
  assert.equal(ch.sni, null);
});

test('a malformed known extension leaves its field empty without failing the hello', () => {
  const ch = parseClientHello(
    clientHelloBody({
      ciphers: [0x2f],
      extensions: [
        { type: 0, data: [0, 9, 0] },
        { type: 16, data: [0xff] },
      ],
    }),
  );
  assert.equal(ch.sni, null);
  assert.deepEqual(ch.alpn, []);
  assert.equal(ch.extensions.length, 2);
});

test('truncated hellos throw TlsParseError with reason truncated', () => {
  const body = clientHelloBody({ ciphers: [0x2f, 0x35], extensions: [ext.sni('x.example')] });
  for (const cut of [0, 1, 20, 36, body.length - 3]) {
    assert.throws(
      () => parseClientHello(body.subarray(0, cut)),
      (err: unknown) => err instanceof TlsParseError && err.reason === 'truncated',
      `cut at ${cut}`,
    );
  }
  assert.throws(() => parseServerHello(new Uint8Array(10)), TlsParseError);
});

test('parseServerHello: negotiated version from supported_versions, ALPN, HelloRetryRequest', () => {
  const sh = parseServerHello(serverHelloBody({ cipher: 0x1301, extensions: [ext.serverVersion(0x0304), ext.alpn('h2')] }));
  assert.equal(sh.legacy_version, 0x0303);
  assert.equal(sh.version, 0x0304);
  assert.equal(sh.cipher_suite, 0x1301);
  assert.equal(sh.alpn, 'h2');
  assert.equal(sh.hello_retry_request, false);
  const hrrRandom = [...Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex')];
  const hrr = parseServerHello(serverHelloBody({ cipher: 0x1301, random: hrrRandom, extensions: [ext.serverVersion(0x0304)] }));
  assert.equal(hrr.hello_retry_request, true);
});

test('parseCertificateMessage reads the TLS 1.2 and TLS 1.3 layouts', () => {
  const a = Uint8Array.from([0x30, 0x02, 1, 2]);
  const b = Uint8Array.from([0x30, 0x01, 3]);
  assert.deepEqual(parseCertificateMessage(certificateBody([a, b]), false), [a, b]);
  assert.deepEqual(parseCertificateMessage(certificateBody([a, b], true), true), [a, b]);
  assert.deepEqual(parseCertificateMessage(certificateBody([]), false), []);
  assert.throws(() => parseCertificateMessage(certificateBody([a, b]).subarray(0, 8), false), TlsParseError);
});
