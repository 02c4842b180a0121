// HandshakeReader: record and handshake reassembly over arbitrary chunking, encryption detection,
// DTLS fragments, SSLv2 and non-TLS input, and a cleartext proxy preamble.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  certificateBody,
  clientHelloBody,
  concat,
  dtlsHandshakeRecord,
  ext,
  handshake,
  record,
  serverHelloBody,
} from '../../tests/tls/helpers/wire.ts';
import { HandshakeReader } from './records.ts';

const CH = handshake(1, clientHelloBody({ ciphers: [0x1301, 0xc02f], extensions: [ext.sni('a.example'), ext.alpn('h2')] }));
const SH = handshake(2, serverHelloBody({ cipher: 0xc02f, extensions: [ext.empty(0xff01)] }));
const CERT = handshake(11, certificateBody([Uint8Array.from([0x30, 0x03, 1, 2, 3]), Uint8Array.from([0x30, 0x01, 9])]));
const SHD = handshake(14, new Uint8Array(0));

function feed(chunks: Uint8Array[]): HandshakeReader {
  const r = new HandshakeReader();
  for (const c of chunks) r.push(c);
  return r;
}

function splitEvery(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

test('records split at every chunk size give the same messages', () => {
  const stream = concat(record(22, concat(SH, CERT, SHD)), record(20, Uint8Array.of(1)));
  const whole = feed([stream]).messages();
  assert.deepEqual(
    whole.map((m) => m.type),
    [2, 11, 14],
  );
  for (let size = 1; size <= 40; size++) {
    const r = feed(splitEvery(stream, size));
    assert.deepEqual(r.messages(), whole, `chunk size ${size}`);
    assert.equal(r.encrypted, true);
  }
});

test('one handshake message spread over several records is reassembled', () => {
  const parts = splitEvery(CERT, 7).map((p) => record(22, p));
  const r = feed([concat(record(22, SH), ...parts)]);
  assert.deepEqual(
    r.messages().map((m) => m.type),
    [2, 11],
  );
  assert.deepEqual(r.messages()[1].body, CERT.subarray(4));
});

test('a message body does not alias the caller buffer', () => {
  const chunk = record(22, CH);
  const r = feed([chunk]);
  chunk.fill(0);
  assert.equal(r.messages()[0].body[0], 0x03);
});

test('after ChangeCipherSpec the encrypted Finished is not read as a handshake message; application data ends the reader', () => {
  const finished = record(22, Uint8Array.from([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x99, 0x98, 0x97]));
  const r = feed([concat(record(22, CH), record(20, Uint8Array.of(1)), finished, record(23, Uint8Array.of(1, 2, 3)))]);
  assert.deepEqual(
    r.messages().map((m) => m.type),
    [1],
  );
  assert.equal(r.encrypted, true);
  assert.equal(r.done, true);
  assert.equal(r.failure, null);
});

test('a TLS 1.3 client second ClientHello after a compatibility ChangeCipherSpec is still read', () => {
  const r = feed([concat(record(22, CH), record(20, Uint8Array.of(1)), record(22, CH, 0x0303))]);
  assert.deepEqual(
    r.messages().map((m) => m.type),
    [1, 1],
  );
});

test('an SSLv2-compatible ClientHello is detected and skipped with a reason', () => {
  // 2-byte header with the high bit set, msg type 1 (CLIENT-HELLO), version 3.1, …
  const r = feed([Uint8Array.from([0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10])]);
  assert.equal(r.failure, 'sslv2-hello');
  assert.deepEqual(r.messages(), []);
});

test('plain text is not TLS once the preamble limit is passed; a SOCKS preamble before TLS is skipped', () => {
  const http = feed([Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\n${'X-Pad: y\r\n'.repeat(500)}\r\n`)]);
  assert.equal(http.failure, 'not-tls');
  const socks = feed([Uint8Array.from([0x04, 0x01, 0x01, 0xbb, 10, 0, 0, 1, 0x00]), record(22, CH)]);
  assert.equal(socks.failure, null);
  assert.equal(socks.preambleBytes, 9);
  assert.deepEqual(
    socks.messages().map((m) => m.type),
    [1],
  );
});

test('a record longer than the protocol allows stops the reader', () => {
  const r = feed([Uint8Array.from([22, 3, 3, 0xff, 0xff, 1, 2, 3])]);
  assert.equal(r.failure, 'record-too-long');
});

test('a handshake message larger than the limit stops the reader', () => {
  const r = new HandshakeReader({ maxMessageBytes: 100 });
  r.push(record(22, Uint8Array.from([11, 0x00, 0x10, 0x00, 1, 2])));
  assert.equal(r.failure, 'handshake-too-large');
});

test('DTLS: fragments out of order, with a retransmission, give one ClientHello; epoch 1 means encrypted', () => {
  const body = clientHelloBody({ version: 0xfefd, ciphers: [0xc02b], extensions: [ext.sni('d.example')], cookie: [1, 2, 3] });
  const frag = (offset: number, length: number, recordSeq: number) =>
    dtlsHandshakeRecord({ type: 1, body, messageSeq: 1, offset, length, recordSeq });
  const third = Math.ceil(body.length / 3);
  const r = new HandshakeReader();
  r.push(frag(2 * third, body.length - 2 * third, 3));
  r.push(frag(0, third, 1));
  r.push(frag(0, third, 4)); // retransmission
  assert.equal(r.messages().length, 0);
  r.push(frag(third, third, 2));
  assert.equal(r.protocol, 'dtls');
  assert.equal(r.messages().length, 1);
  assert.deepEqual(r.messages()[0].body, body);
  r.push(frag(0, body.length, 5)); // the whole message again: not delivered twice
  assert.equal(r.messages().length, 1);
  r.push(dtlsHandshakeRecord({ type: 20, body: new Uint8Array(12), messageSeq: 2, offset: 0, length: 12, epoch: 1 }));
  assert.equal(r.encrypted, true);
  assert.equal(r.messages().length, 1);
});

test('DTLS fragment beyond its message length is rejected', () => {
  const body = new Uint8Array(10);
  const bad = dtlsHandshakeRecord({ type: 1, body, messageSeq: 0, offset: 0, length: 10 });
  bad[13 + 3] = 0; // message length 10 → 0 … fragment now overruns it
  bad[13 + 2] = 0;
  bad[13 + 1] = 0;
  const r = new HandshakeReader();
  r.push(bad);
  assert.equal(r.failure, 'bad-dtls-fragment');
});
