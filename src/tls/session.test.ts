// TlsSession: both directions together — certificates (server and mutual-TLS client chains), the
// TLS 1.3 "encrypted" reason, HelloRetryRequest, QUIC handshake bytes, and the JA4+ opt-in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRootCA } from '../../tests/helpers/pki.ts';
import {
  certificateBody,
  clientHelloBody,
  concat,
  ext,
  handshake,
  record,
  serverHelloBody,
} from '../../tests/tls/helpers/wire.ts';
import { TlsSession } from './session.ts';

const CH = handshake(1, clientHelloBody({ ciphers: [0xc02f], extensions: [ext.sni('s.example'), ext.sigalgs(0x0401)] }));

test('TLS 1.2 mutual auth: server and client chains are extracted; JA4S/JA4X only when opted in', async () => {
  const ca = await createRootCA();
  const server = await ca.issue({ subject: 'CN=s.example', dns: ['s.example'] });
  const client = await ca.issue({ subject: 'CN=alice' });
  const s = new TlsSession('tcp');
  s.push('c2s', record(22, CH));
  s.push(
    's2c',
    record(
      22,
      concat(
        handshake(2, serverHelloBody({ cipher: 0xc02f, extensions: [ext.empty(0xff01)] })),
        handshake(11, certificateBody([server.der, ca.cert.der])),
        handshake(13, Uint8Array.of(1, 1, 0, 0)),
        handshake(14, new Uint8Array(0)),
      ),
    ),
  );
  s.push(
    'c2s',
    concat(
      record(22, concat(handshake(11, certificateBody([client.der])), handshake(16, Uint8Array.of(0, 1, 2)))),
      record(20, Uint8Array.of(1)),
    ),
  );
  const plain = s.result();
  assert.equal(plain.client_hellos.length, 1);
  assert.equal(plain.ja3s_string, '771,49199,65281');
  assert.equal(plain.ja4s, null);
  assert.equal(plain.ja4x, null);
  assert.deepEqual(plain.server_certificates, [server.der, ca.cert.der]);
  assert.deepEqual(plain.client_certificates, [client.der]);
  assert.equal(plain.certificates_reason, null);
  const opted = s.result({ ja4plus: true });
  assert.equal(opted.ja4s, 't120100_c02f_' + opted.ja4s?.slice(-12));
  assert.equal(opted.ja4x?.length, 2);
});

test('TLS 1.3: certificates are reported encrypted, not guessed; the real ServerHello wins over a HelloRetryRequest', () => {
  const hrrRandom = [...Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex')];
  const s = new TlsSession('tcp');
  s.push('c2s', concat(record(22, CH), record(20, Uint8Array.of(1)), record(22, CH, 0x0303)));
  s.push(
    's2c',
    concat(
      record(22, handshake(2, serverHelloBody({ cipher: 0x1301, random: hrrRandom, extensions: [ext.serverVersion(0x0304)] }))),
      record(20, Uint8Array.of(1)),
      record(
        22,
        handshake(2, serverHelloBody({ cipher: 0x1302, extensions: [ext.serverVersion(0x0304), ext.empty(0x33)] })),
        0x0303,
      ),
      record(23, Uint8Array.of(1, 2, 3, 4), 0x0303),
    ),
  );
  const r = s.result();
  assert.equal(r.client_hellos.length, 2);
  assert.equal(r.server_hello?.cipher_suite, 0x1302);
  assert.equal(r.server_certificates, null);
  assert.equal(r.certificates_reason, 'tls13-encrypted');
  assert.equal(s.server.done, true);
  assert.equal(s.done, false); // the client direction has sent no application data yet
});

test('QUIC: CRYPTO-stream handshake bytes give a q JA4; problems are reported, not thrown', () => {
  const s = new TlsSession('quic');
  s.pushHandshakeBytes('c2s', concat(CH, Uint8Array.of(2, 0, 0)));
  const r = s.result();
  assert.match(r.client_hellos[0].ja4, /^q12d0102/);
  const bad = new TlsSession('tcp');
  bad.push('c2s', record(22, handshake(1, Uint8Array.of(3, 3, 0))));
  assert.deepEqual(bad.result().problems, ['ClientHello:truncated']);
  assert.equal(bad.result().certificates_reason, 'not-seen');
});
