// Tests of the pcap bench's capture generator: address rewriting keeps the IPv4 and TCP / UDP
// checksums valid, and the generated file repeats the source packets with a fresh, disjoint set
// of addresses per repetition, in time order, as a pcap certsignal reads back.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSessions } from '../src/sources/pcap/sessions.ts';
import { generatePcap, ipv4Offset, readClassicPcap, rewriteIPv4 } from './pcap-generate.ts';

const REALDATA = new URL('../../shared/realdata/', import.meta.url).pathname;
const SOURCE = join(REALDATA, 'zeek/Traces/tls/client-certificate.pcap');

/** One's-complement checksum over b[start, end) plus `extra` (already-summed words); 0 when valid. */
function checksum(b: Buffer, start: number, end: number, extra = 0): number {
  let s = extra;
  for (let i = start; i < end; i += 2) s += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Verifies the IPv4 header checksum and the TCP / UDP checksum (pseudo-header included) of a frame. */
function checksumsValid(frame: Buffer): { ip: boolean; l4: boolean } {
  const ip = ipv4Offset(frame);
  const ihl = (frame[ip] & 0x0f) * 4;
  const total = frame.readUInt16BE(ip + 2);
  const proto = frame[ip + 9];
  const l4Len = total - ihl;
  let pseudo = proto + l4Len;
  for (let i = ip + 12; i < ip + 20; i += 2) pseudo += frame.readUInt16BE(i);
  return {
    ip: checksum(frame, ip, ip + ihl) === 0,
    l4: checksum(frame, ip + ihl, ip + ihl + l4Len, pseudo) === 0,
  };
}

/** An Ethernet + IPv4 + TCP frame with a payload and correct checksums. */
function tcpFrame(payload: Buffer): Buffer {
  const f = Buffer.alloc(14 + 20 + 20 + payload.length);
  f.writeUInt16BE(0x0800, 12);
  const ip = 14;
  f[ip] = 0x45;
  f.writeUInt16BE(20 + 20 + payload.length, ip + 2);
  f[ip + 8] = 64;
  f[ip + 9] = 6;
  f.writeUInt32BE(0xc0a80102, ip + 12); // 192.168.1.2
  f.writeUInt32BE(0x5db8d822, ip + 16); // 93.184.216.34
  const tcp = ip + 20;
  f.writeUInt16BE(51515, tcp);
  f.writeUInt16BE(443, tcp + 2);
  f.writeUInt32BE(123456789, tcp + 4);
  f[tcp + 12] = 0x50;
  f[tcp + 13] = 0x18;
  f.writeUInt16BE(65535, tcp + 14);
  payload.copy(f, tcp + 20);
  f.writeUInt16BE(checksum(f, ip, ip + 20), ip + 10);
  let pseudo = 6 + 20 + payload.length;
  for (let i = ip + 12; i < ip + 20; i += 2) pseudo += f.readUInt16BE(i);
  f.writeUInt16BE(checksum(f, tcp, f.length, pseudo), tcp + 16);
  return f;
}

test('rewriteIPv4 sets the addresses and keeps both checksums valid', () => {
  for (const payloadLength of [0, 1, 517]) {
    const payload = Buffer.alloc(payloadLength);
    for (let i = 0; i < payloadLength; i++) payload[i] = (i * 37 + 11) & 0xff;
    const f = tcpFrame(payload);
    assert.deepEqual(checksumsValid(f), { ip: true, l4: true });
    for (const [src, dst] of [
      [0x0a000001, 0x0a000002],
      [0x0affffff, 0x0a00ff00],
      [0xffffffff, 0x00000000],
    ]) {
      assert.equal(rewriteIPv4(f, src, dst), true);
      assert.equal(f.readUInt32BE(14 + 12), src >>> 0);
      assert.equal(f.readUInt32BE(14 + 16), dst >>> 0);
      assert.deepEqual(
        checksumsValid(f),
        { ip: true, l4: true },
        `payload ${payloadLength}, ${src.toString(16)} → ${dst.toString(16)}`,
      );
    }
  }
});

test('rewriteIPv4 refuses frames without an IPv4 header', () => {
  const f = tcpFrame(Buffer.alloc(4));
  f.writeUInt16BE(0x86dd, 12); // IPv6 ethertype
  assert.equal(rewriteIPv4(f, 1, 2), false);
  assert.equal(rewriteIPv4(Buffer.alloc(20), 1, 2), false);
});

test('generatePcap repeats a shared capture with disjoint addresses per repetition', {
  skip: existsSync(SOURCE) ? false : 'shared realdata not present',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcap-gen-'));
  try {
    const source = readClassicPcap(SOURCE);
    const sourceBytes = source.reduce((n, p) => n + 16 + p.data.length, 0);
    const out = join(dir, 'g.pcap');
    const r = generatePcap(out, 24 + sourceBytes * 3 - 1, [SOURCE]);
    assert.equal(r.repetitions, 3);
    const kept = source.filter((p) => ipv4Offset(p.data) >= 0);
    assert.equal(r.packets, kept.length * 3);

    const packets = readClassicPcap(out);
    assert.equal(packets.length, r.packets);
    const perRep: Set<number>[] = [new Set(), new Set(), new Set()];
    for (const [i, p] of packets.entries()) {
      if (i > 0) assert.ok(p.tsUs >= packets[i - 1].tsUs, `packet ${i} goes back in time`);
      const ip = ipv4Offset(p.data);
      assert.equal(checksum(p.data, ip, ip + (p.data[ip] & 0x0f) * 4), 0, `IPv4 checksum of packet ${i}`);
      const rep = Math.floor(i / kept.length);
      perRep[rep].add(p.data.readUInt32BE(ip + 12)).add(p.data.readUInt32BE(ip + 16));
      // Everything but the addresses and checksums is the source packet's.
      const orig = kept[i % kept.length].data;
      assert.equal(p.data.length, orig.length);
      const l4 = ip + (p.data[ip] & 0x0f) * 4;
      const csum = p.data[ip + 9] === 6 ? l4 + 16 : p.data[ip + 9] === 17 ? l4 + 6 : -1;
      const strip = (b: Buffer) => {
        const c = Buffer.from(b);
        c.fill(0, ip + 10, ip + 20); // checksum and addresses
        if (csum >= 0 && csum + 2 <= c.length) c.fill(0, csum, csum + 2);
        return c;
      };
      assert.ok(strip(p.data).equals(strip(orig)), `packet ${i} differs from its source beyond addresses and checksums`);
      if (p.data.length >= ip + p.data.readUInt16BE(ip + 2) && (p.data.readUInt16BE(ip + 6) & 0x3fff) === 0)
        assert.equal(checksumsValid(p.data).l4, checksumsValid(Buffer.from(orig)).l4, `transport checksum of packet ${i}`);
    }
    for (let a = 0; a < 3; a++)
      for (let b = a + 1; b < 3; b++)
        assert.ok(
          [...perRep[a]].every((x) => !perRep[b].has(x)),
          `reps ${a} and ${b} share an address`,
        );

    // certsignal reads it back: three times the source's sessions, the same JA3s.
    const ja3 = async (path: string) => {
      const hashes: string[] = [];
      for await (const batch of readSessions(path))
        for (const s of batch) for (const h of s.result.client_hellos) hashes.push(h.ja3);
      return hashes.sort();
    };
    const once = await ja3(SOURCE);
    assert.ok(once.length > 0);
    assert.deepEqual(await ja3(out), [...once, ...once, ...once].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
