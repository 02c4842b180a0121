// readCapture on tiny captures written here: pcap byte orders and resolutions, pcapng interfaces
// and block types, link types, VLANs, IP options, TCP orientation / reassembly / stream numbering,
// UDP, truncated and non-capture files.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type ReadCaptureOptions, readCapture } from '../../src/capture/read.ts';
import type { CaptureItem, CaptureStats } from '../../src/capture/types.ts';
import { Diagnostics } from '../../src/diagnostics.ts';
import { CertsignalError } from '../../src/errors.ts';
import {
  ACK,
  ethernet,
  FIN,
  ipv4,
  type NgPacket,
  type PcapPacket,
  PSH,
  pcap,
  pcapng,
  RST,
  SYN,
  sll,
  sll2,
  tcp4,
  tcp6,
  udp4,
  udp6,
} from './build.ts';

const dir = mkdtempSync(join(tmpdir(), 'certsignal-capture-'));
let fileNo = 0;

function write(bytes: Uint8Array, ext = 'pcap'): string {
  const path = join(dir, `c${fileNo++}.${ext}`);
  writeFileSync(path, bytes);
  return path;
}

async function collect(path: string, options: ReadCaptureOptions = {}): Promise<{ items: CaptureItem[]; stats: CaptureStats }> {
  const reader = readCapture(path, options);
  const items: CaptureItem[] = [];
  for await (const batch of reader) items.push(...batch);
  return { items, stats: reader.stats() };
}

function text(items: CaptureItem[], direction: 'c2s' | 's2c', streamId = 0): string {
  return items
    .filter((i) => i.kind === 'tcp' && i.direction === direction && i.stream_id === streamId)
    .map((i) => Buffer.from((i as { data: Uint8Array }).data).toString('latin1'))
    .join('');
}

const C = '10.0.0.1';
const S = '192.0.2.7';
const b = (s: string) => Buffer.from(s, 'latin1');

/** A handshake, a request split in two segments sent out of order plus a retransmission, a response, FIN/FIN. */
function conversation(cport = 50000): Buffer[] {
  const c = { src: C, dst: S, sport: cport, dport: 443 };
  const s = { src: S, dst: C, sport: 443, dport: cport };
  return [
    tcp4({ ...c, seq: 1000, flags: SYN }),
    tcp4({ ...s, seq: 9000, ack: 1001, flags: SYN | ACK }),
    tcp4({ ...c, seq: 1001, flags: ACK }),
    tcp4({ ...c, seq: 1006, flags: ACK | PSH, payload: b('WORLD') }),
    tcp4({ ...c, seq: 1001, flags: ACK, payload: b('HELLO') }),
    tcp4({ ...c, seq: 1001, flags: ACK, payload: b('HELLO') }),
    tcp4({ ...s, seq: 9001, flags: ACK | PSH, payload: b('reply') }),
    tcp4({ ...c, seq: 1011, flags: FIN | ACK }),
    tcp4({ ...s, seq: 9006, flags: FIN | ACK }),
  ];
}

function packets(frames: Uint8Array[], wrap: (ip: Uint8Array) => Uint8Array = (ip) => ethernet(ip)): PcapPacket[] {
  return frames.map((ip, i) => ({ sec: 1700000000 + i, frac: 250000, data: wrap(ip) }));
}

test('pcap: both byte orders and µs / ns resolution give the same items and timestamps', async () => {
  const frames = conversation();
  const results = [];
  for (const [bigEndian, nano] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    const pk = packets(frames).map((p) => ({ ...p, frac: nano ? 250000123 : 250000 }));
    const { items, stats } = await collect(write(pcap(pk, { linkType: 1, bigEndian, nano })));
    assert.equal(stats.packets, frames.length);
    assert.deepEqual(stats.link_types, [1]);
    assert.equal(text(items, 'c2s'), 'HELLOWORLD');
    assert.equal(text(items, 's2c'), 'reply');
    const first = items[0];
    assert.equal(first.kind, 'tcp');
    // The request completes at the 5th packet (index 4): its timestamp.
    const expectedTs = (1700000000 + 4) * 1000 + (nano ? 250.000123 : 250);
    assert.ok(Math.abs((first as { ts: number }).ts - expectedTs) < 1e-3, `ts ${(first as { ts: number }).ts}`);
    results.push(items.map((i) => ({ ...i, ts: 0 })));
  }
  for (const r of results.slice(1)) assert.deepEqual(r, results[0]);
});

test('tcp: oriented client→server from the SYN, retransmission counted, one end after FIN/FIN', async () => {
  const { items, stats } = await collect(write(pcap(packets(conversation()), { linkType: 1 })));
  const chunk = items.find((i) => i.kind === 'tcp');
  assert.deepEqual(chunk?.flow, { src_ip: C, src_port: 50000, dst_ip: S, dst_port: 443, transport: 'tcp' });
  assert.equal(stats.skipped['tcp-retransmission'], 1);
  const ends = items.filter((i) => i.kind === 'end');
  assert.equal(ends.length, 1);
  assert.equal(items.at(-1)?.kind, 'end', 'end comes after the data');
});

test('tcp: a capture starting at the SYN-ACK still makes the SYN-ACK receiver the client', async () => {
  const frames = conversation().slice(1);
  const { items } = await collect(write(pcap(packets(frames), { linkType: 1 })));
  const chunk = items.find((i) => i.kind === 'tcp');
  assert.equal(chunk?.flow.src_ip, C);
  assert.equal(text(items, 'c2s'), 'HELLOWORLD');
});

test('stream ids: TCP and UDP numbered separately by first packet; a new ISN on the same ports is a new stream', async () => {
  const a = conversation(50001);
  const c = conversation(50002);
  const dtls = Buffer.from('16fefd000000000000000000010000', 'hex');
  const frames = [
    udp4(C, S, 5000, 4433, dtls),
    a[0],
    c[0],
    udp4(C, S, 5001, 4433, dtls),
    ...a.slice(1),
    ...c.slice(1),
    // Port reuse: a new SYN with another ISN after the first connection closed.
    tcp4({ src: C, dst: S, sport: 50001, dport: 443, seq: 777, flags: SYN }),
    tcp4({ src: C, dst: S, sport: 50001, dport: 443, seq: 778, flags: ACK | PSH, payload: b('again') }),
    udp4(S, C, 4433, 5000, dtls),
  ];
  const seen: string[] = [];
  const { items } = await collect(write(pcap(packets(frames), { linkType: 1 })), {
    onNewConversation: (t, id, frame) => seen.push(`${t}${id}@${frame}`),
  });
  assert.deepEqual(seen, ['udp0@1', 'tcp0@2', 'tcp1@3', 'udp1@4', 'tcp2@21']);
  assert.equal(text(items, 'c2s', 0), 'HELLOWORLD');
  assert.equal(text(items, 'c2s', 1), 'HELLOWORLD');
  assert.equal(text(items, 'c2s', 2), 'again');
  const udp = items.filter((i) => i.kind === 'udp');
  assert.deepEqual(
    udp.map((u) => [u.stream_id, u.flow.src_port]),
    [
      [0, 5000],
      [1, 5001],
      [0, 4433],
    ],
  );
});

test('ethernet with 802.1Q and QinQ tags, IPv4 options and IPv6 are decoded', async () => {
  const opts = Buffer.from('01010101', 'hex'); // four NOP options: IHL 6
  const seg = (payload: string) => ({ src: C, dst: S, sport: 40000, dport: 8443, seq: 1, flags: ACK | PSH, payload: b(payload) });
  const withOptions = ipv4(C, S, 6, tcp4(seg('opts')).subarray(20), opts);
  const v6 = tcp6({ src: '2001:db8::1', dst: '2001:db8::2', sport: 40001, dport: 443, seq: 1, flags: ACK, payload: b('six') });
  const frames = [ethernet(withOptions, [100]), ethernet(v6, [10, 20])];
  const { items, stats } = await collect(
    write(
      pcap(
        frames.map((data) => ({ sec: 1, frac: 0, data })),
        { linkType: 1 },
      ),
    ),
  );
  assert.equal(stats.packets, 2);
  assert.deepEqual(
    items.filter((i) => i.kind === 'tcp').map((i) => Buffer.from((i as { data: Uint8Array }).data).toString()),
    ['opts', 'six'],
  );
  const v6flow = items.find((i) => i.kind === 'tcp' && i.stream_id === 1)?.flow;
  assert.deepEqual(v6flow, { src_ip: '2001:db8::1', src_port: 40001, dst_ip: '2001:db8::2', dst_port: 443, transport: 'tcp' });
});

test('linux cooked SLL and SLL2 captures are decoded', async () => {
  for (const [linkType, wrap] of [
    [113, sll],
    [276, sll2],
  ] as const) {
    const { items, stats } = await collect(write(pcap(packets(conversation(), wrap), { linkType })));
    assert.deepEqual(stats.link_types, [linkType]);
    assert.deepEqual(stats.skipped, { 'tcp-retransmission': 1 });
    assert.equal(text(items, 'c2s'), 'HELLOWORLD');
  }
});

test('pcapng: two interfaces of different link types and resolutions, SPB, skipped custom block, both byte orders', async () => {
  const frames = conversation();
  for (const bigEndian of [false, true]) {
    const ngPackets: NgPacket[] = frames.map((ip, i) =>
      i % 2 === 0
        ? { iface: 0, ts: 1700000000_000000n + BigInt(i), data: ethernet(ip) }
        : { iface: 1, ts: 1700000000_000000000n + BigInt(i) * 1000n, data: ip },
    );
    ngPackets.push({ iface: 0, ts: 0n, data: ethernet(udp4(C, S, 1, 2, Buffer.from('hi'))), simple: true });
    const file = pcapng([{ linkType: 1 }, { linkType: 101, tsresol: 9 }], ngPackets, { bigEndian });
    const { items, stats } = await collect(write(file, 'pcapng'));
    assert.equal(stats.packets, frames.length + 1);
    assert.deepEqual(stats.link_types, [1, 101]);
    assert.equal(text(items, 'c2s'), 'HELLOWORLD');
    assert.equal(text(items, 's2c'), 'reply');
    const first = items.find((i) => i.kind === 'tcp') as { ts: number };
    assert.ok(Math.abs(first.ts - (1700000000000 + 0.004)) < 1e-6, `ts ${first.ts}`);
    assert.equal(stats.skipped['udp-not-dtls-quic'], 1);
  }
});

test('a truncated file yields the complete packets and a diagnostic naming the file and byte offset', async () => {
  const whole = pcap(packets(conversation()), { linkType: 1 });
  const path = write(whole.subarray(0, whole.length - 10));
  const diagnostics = new Diagnostics();
  const { items, stats } = await collect(path, { diagnostics });
  assert.equal(stats.packets, conversation().length - 1);
  assert.equal(stats.skipped.truncated, 1);
  assert.equal(text(items, 'c2s'), 'HELLOWORLD');
  const d = diagnostics.kept.find((k) => k.reason === 'truncated-capture');
  assert.ok(d);
  assert.equal(d.file, path);
  const lastRecord = whole.length - (16 + ethernet(conversation().at(-1) as Buffer).length);
  assert.match(d.message, new RegExp(`byte offset ${lastRecord}\\b`));
});

test('malformed, fragmented, non-IP and non-TCP/UDP packets are counted, never thrown', async () => {
  const bad = Buffer.from(tcp4({ src: C, dst: S, sport: 1, dport: 2, seq: 0, flags: SYN }));
  bad[0] = 0x43; // IHL 3
  const frag = Buffer.from(udp4(C, S, 1, 2, Buffer.alloc(30)));
  frag.writeUInt16BE(0x2000, 6); // more fragments
  const arp = Buffer.concat([Buffer.from('ffffffffffff0200000000010806', 'hex'), Buffer.alloc(28)]);
  const icmp = ipv4(C, S, 1, Buffer.alloc(8));
  const cut = ethernet(tcp4({ src: C, dst: S, sport: 1, dport: 2, seq: 0, flags: ACK, payload: b('x') })).subarray(0, 30);
  const frames = [ethernet(bad), ethernet(frag), arp, ethernet(icmp), cut, Buffer.alloc(3)];
  const diagnostics = new Diagnostics();
  const { stats } = await collect(
    write(
      pcap(
        frames.map((data) => ({ sec: 1, frac: 0, data })),
        { linkType: 1 },
      ),
    ),
    { diagnostics },
  );
  assert.equal(stats.packets, 6);
  assert.deepEqual(stats.skipped, { malformed: 2, 'ip-fragment': 1, 'non-ip': 1, 'non-tcp-udp': 1, 'snaplen-truncated': 1 });
  assert.equal(diagnostics.counts.get('packet-malformed'), 2);
});

test('udp: DTLS and QUIC-looking payloads are delivered as seen; others are counted', async () => {
  const dtls = Buffer.from('16feff0000', 'hex');
  const quicLong = Buffer.from('c000000001', 'hex');
  const dns = Buffer.from('12340100', 'hex');
  const frames = [udp6('2001:db8::1', '2001:db8::2', 5353, 443, quicLong), udp4(C, S, 7, 4433, dtls), udp4(C, S, 53, 53, dns)];
  const { items, stats } = await collect(write(pcap(packets(frames), { linkType: 1 })));
  const udp = items.filter((i) => i.kind === 'udp');
  assert.deepEqual(
    udp.map((u) => Buffer.from((u as { data: Uint8Array }).data).toString('hex')),
    [quicLong.toString('hex'), dtls.toString('hex')],
  );
  assert.equal(udp[0].flow.src_ip, '2001:db8::1');
  assert.equal(stats.skipped['udp-not-dtls-quic'], 1);
  assert.equal(items.filter((i) => i.kind === 'end').length, 2);
});

test('maxStreamBytes bounds what is delivered per direction', async () => {
  const { items } = await collect(write(pcap(packets(conversation()), { linkType: 1 })), { maxStreamBytes: 7 });
  assert.equal(text(items, 'c2s'), 'HELLOWO');
  assert.equal(text(items, 's2c'), 'reply');
});

test('gzip-compressed captures read like plain ones; progress ends at the file size', async () => {
  const raw = pcap(packets(conversation()), { linkType: 1 });
  const path = write(gzipSync(raw), 'pcap.gz');
  const progress: [number, number][] = [];
  const { items, stats } = await collect(path, { onProgress: (r, t) => progress.push([r, t]) });
  assert.equal(stats.packets, conversation().length);
  assert.equal(text(items, 'c2s'), 'HELLOWORLD');
  const [read, total] = progress.at(-1) ?? [0, 0];
  assert.equal(read, total);
  assert.equal(stats.bytes, total);
});

test('a cut gzip stream keeps what was decoded and reports the uncompressed offset', async () => {
  const raw = pcap(packets(conversation()), { linkType: 1 });
  const gz = gzipSync(raw);
  const path = write(gz.subarray(0, gz.length - 30), 'pcap.gz');
  const diagnostics = new Diagnostics();
  const { stats } = await collect(path, { diagnostics });
  assert.ok(stats.packets > 0 && stats.packets < conversation().length, `packets ${stats.packets}`);
  assert.equal(stats.skipped.truncated, 1);
  assert.match(diagnostics.kept[0]?.message ?? '', /cut short at uncompressed byte offset \d+/);
});

test('a file that is not a capture gives a diagnostic; a missing file a typed error', async () => {
  const diagnostics = new Diagnostics();
  const { items, stats } = await collect(write(Buffer.from('this is a log file, not a capture\n'), 'txt'), { diagnostics });
  assert.equal(items.length, 0);
  assert.equal(stats.skipped['not-a-capture'], 1);
  assert.equal(diagnostics.counts.get('not-a-capture'), 1);
  await assert.rejects(
    collect(join(dir, 'missing.pcap')),
    (err: unknown) => err instanceof CertsignalError && err.code === 'E_INPUT',
  );
});

test('reading in chunks smaller than a record gives the same result', async () => {
  const path = write(pcap(packets(conversation()), { linkType: 1 }));
  const small = await collect(path, { chunkBytes: 16 });
  const normal = await collect(path);
  assert.deepEqual(small.items, normal.items);
  assert.deepEqual(small.stats, normal.stats);
});

test('RST closes a conversation: later segments of it are ignored', async () => {
  const frames = [
    ...conversation().slice(0, 3),
    tcp4({ src: S, dst: C, sport: 443, dport: 50000, seq: 9001, flags: RST }),
    ...conversation().slice(3),
  ];
  const { items } = await collect(write(pcap(packets(frames), { linkType: 1 })));
  assert.equal(items.filter((i) => i.kind === 'tcp').length, 0);
});
