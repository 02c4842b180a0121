// QUIC Initial decryption: RFC 9001 Appendix A / RFC 9369 Appendix A key vectors, and Initial
// packets sealed here with the RFC's published keys (not derived by the code under test).

import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import {
  clientInitialKeys,
  headerProtectionMask,
  parseInitialFrames,
  QUIC_V1,
  QUIC_V2,
  QuicInitialAssembler,
  readVarint,
} from './quic.ts';

const DCID = Buffer.from('8394c8f03e515708', 'hex');
// RFC 9001 A.1 (v1) and RFC 9369 A.1 (v2): client Initial key, iv, hp for DCID 0x8394c8f03e515708.
const RFC_KEYS: Record<number, { key: string; iv: string; hp: string }> = {
  [QUIC_V1]: { key: '1f369613dd76d5467730efcbe3b1a22d', iv: 'fa044b2f42a3fd3b46fb255c', hp: '9f50449e04a0e810283a1e9933adedd2' },
  [QUIC_V2]: { key: '8b1a0bc121284290a29e0971b5cd045d', iv: '91f73e2351d8fa91660e909f', hp: '45b95e15235d6f45a6b19cbcb0294ba9' },
};

test('client Initial keys equal the RFC 9001 A.1 and RFC 9369 A.1 vectors', () => {
  for (const version of [QUIC_V1, QUIC_V2]) {
    const keys = clientInitialKeys(version, DCID);
    assert.ok(keys);
    assert.equal(keys.key.toString('hex'), RFC_KEYS[version].key);
    assert.equal(keys.iv.toString('hex'), RFC_KEYS[version].iv);
    assert.equal(keys.hp.toString('hex'), RFC_KEYS[version].hp);
  }
  assert.equal(clientInitialKeys(0xff00001d, DCID), null);
});

test('header protection mask equals RFC 9001 A.2 (sample d1b1c98d…, mask 437b9aec36)', () => {
  const mask = headerProtectionMask(
    Buffer.from(RFC_KEYS[QUIC_V1].hp, 'hex'),
    Buffer.from('d1b1c98dd7689fb8ec11d242b123dc9b', 'hex'),
  );
  assert.equal(mask.subarray(0, 5).toString('hex'), '437b9aec36');
});

test('varints of 1, 2, 4 and 8 bytes decode (RFC 9000 A.1 examples)', () => {
  assert.deepEqual(readVarint(Buffer.from('25', 'hex'), 0, 1), [37, 1]);
  assert.deepEqual(readVarint(Buffer.from('7bbd', 'hex'), 0, 2), [15293, 2]);
  assert.deepEqual(readVarint(Buffer.from('9d7f3e7d', 'hex'), 0, 4), [494878333, 4]);
  assert.deepEqual(readVarint(Buffer.from('c2197c5eff14e88c', 'hex'), 0, 8), [Number(151288809941952652n), 8]);
  assert.equal(readVarint(Buffer.from('7b', 'hex'), 0, 1), null);
});

function varint(v: number): Buffer {
  if (v < 64) return Buffer.of(v);
  if (v < 16384) return Buffer.of(0x40 | (v >> 8), v & 0xff);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v | 0x80000000);
  return b;
}

function crypto(offset: number, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(0x06), varint(offset), varint(data.length), data]);
}

/** Seals one client Initial with the RFC's keys: AES-128-GCM, then AES-ECB header protection. */
function sealInitial(version: number, pn: number, frames: Buffer, padTo = 0): Buffer {
  const { key, iv, hp } = RFC_KEYS[version];
  const plain = frames.length < padTo ? Buffer.concat([frames, Buffer.alloc(padTo - frames.length)]) : frames;
  const typeBits = version === QUIC_V2 ? 1 : 0;
  const pnBytes = Buffer.alloc(2);
  pnBytes.writeUInt16BE(pn);
  const versionBytes = Buffer.alloc(4);
  versionBytes.writeUInt32BE(version);
  const header = Buffer.concat([
    Buffer.of(0xc0 | (typeBits << 4) | 0x01),
    versionBytes,
    Buffer.of(DCID.length),
    DCID,
    Buffer.of(0),
    varint(0),
    varint(2 + plain.length + 16),
    pnBytes,
  ]);
  const nonce = Buffer.from(iv, 'hex');
  nonce[10] ^= pnBytes[0];
  nonce[11] ^= pnBytes[1];
  const cipher = createCipheriv('aes-128-gcm', Buffer.from(key, 'hex'), nonce);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  const packet = Buffer.concat([header, body]);
  const pnOffset = header.length - 2;
  const ecb = createCipheriv('aes-128-ecb', Buffer.from(hp, 'hex'), null);
  ecb.setAutoPadding(false);
  const mask = ecb.update(packet.subarray(pnOffset + 4, pnOffset + 20));
  packet[0] ^= mask[0] & 0x0f;
  packet[pnOffset] ^= mask[1];
  packet[pnOffset + 1] ^= mask[2];
  return packet;
}

function fakeClientHello(): Buffer {
  const body = Buffer.alloc(700);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
  return Buffer.concat([Buffer.of(1, 0, (body.length >> 8) & 0xff, body.length & 0xff), body]);
}

for (const version of [QUIC_V1, QUIC_V2]) {
  test(`v${version === QUIC_V1 ? 1 : 2}: a ClientHello split over Initials, out of order and coalesced, is reassembled`, () => {
    const hello = fakeClientHello();
    const ack = Buffer.concat([Buffer.of(0x02), varint(3), varint(10), varint(1), varint(0), varint(0), varint(1)]);
    // Datagram 1: the tail only. Datagram 2: two coalesced packets with the head and the middle.
    const tail = sealInitial(version, 2, Buffer.concat([crypto(500, hello.subarray(500)), Buffer.of(0x01)]), 1100);
    const head = sealInitial(version, 0, Buffer.concat([crypto(0, hello.subarray(0, 250)), ack]));
    const middle = sealInitial(
      version,
      1,
      Buffer.concat([crypto(250, hello.subarray(250, 500)), crypto(100, hello.subarray(100, 300))]),
    );
    const assembler = new QuicInitialAssembler();
    assembler.push(tail);
    assert.equal(assembler.cryptoData(), null, 'offset 0 missing');
    assembler.push(Buffer.concat([head, middle]));
    assert.equal(assembler.packets, 3);
    assert.equal(assembler.version, version);
    assert.deepEqual(Buffer.from(assembler.clientHello() ?? []), hello);
  });
}

test('a tampered Initial fails authentication and is ignored', () => {
  const packet = sealInitial(QUIC_V1, 0, crypto(0, fakeClientHello()));
  packet[packet.length - 1] ^= 1;
  const assembler = new QuicInitialAssembler();
  assembler.push(packet);
  assert.equal(assembler.packets, 0);
  assert.equal(assembler.cryptoData(), null);
});

test('frames: unknown frame types in an Initial make the payload malformed', () => {
  assert.equal(parseInitialFrames(Buffer.of(0x08, 0x00)), null);
  assert.deepEqual(parseInitialFrames(Buffer.of(0x00, 0x01, 0x00)), []);
});
