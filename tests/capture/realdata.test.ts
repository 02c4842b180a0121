// readCapture on every shared real capture (FoxIO JA4, Zeek, Suricata-verify): no crash, the same
// frame count and the same TCP/UDP conversation numbering as tshark (tcp.stream / udp.stream), and
// QUIC Initials that decrypt to the ClientHello whose SNI FoxIO's Rust implementation reports.

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { QuicInitialAssembler } from '../../src/capture/quic.ts';
import { readCapture } from '../../src/capture/read.ts';
import { Diagnostics } from '../../src/diagnostics.ts';

const realdata = fileURLToPath(new URL('../../../shared/realdata/', import.meta.url));
const roots = ['foxio-ja4/pcap', 'zeek/Traces', 'suricata-verify/tests'].map((r) => join(realdata, r));

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...captures(path));
    else if (/\.(pcap|pcapng|cap|trace)(\.gz)?$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

const files = roots.flatMap(captures);
const tsharkPresent = spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;
const inCi = process.env.CI === 'true';
const tsharkSkip = tsharkPresent ? false : inCi ? false : 'tshark is not installed (apt-get install tshark); required under CI';
const run = promisify(execFile);

interface OurRead {
  packets: number;
  /** Stream id → frame number of its first packet. */
  tcp: Map<number, number>;
  udp: Map<number, number>;
}

async function readOurs(path: string): Promise<OurRead> {
  const ours: OurRead = { packets: 0, tcp: new Map(), udp: new Map() };
  const reader = readCapture(path, {
    diagnostics: new Diagnostics(),
    onNewConversation: (transport, id, frame) => ours[transport].set(id, frame),
  });
  for await (const _batch of reader) {
    // items are checked elsewhere; here the framing and numbering
  }
  ours.packets = reader.stats().packets;
  return ours;
}

async function readTshark(path: string): Promise<OurRead> {
  const { stdout } = await run(
    'tshark',
    ['-r', path, '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.stream', '-e', 'udp.stream'],
    {
      maxBuffer: 1 << 28,
    },
  );
  const theirs: OurRead = { packets: 0, tcp: new Map(), udp: new Map() };
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    theirs.packets++;
    const [frame, tcp, udp] = line.split('\t');
    for (const [map, ids] of [
      [theirs.tcp, tcp],
      [theirs.udp, udp],
    ] as const) {
      // Tunnelled frames list one id per layer.
      for (const id of (ids ?? '').split(',')) if (id !== '' && !map.has(Number(id))) map.set(Number(id), Number(frame));
    }
  }
  return theirs;
}

test('the shared captures are all found', () => {
  assert.ok(files.length >= 150, `found ${files.length} captures`);
  assert.ok(files.some((f) => f.endsWith('.pcapng')));
  assert.ok(files.some((f) => f.endsWith('.gz')));
});

describe('every shared capture reads without a crash and matches tshark', { concurrency: 8 }, () => {
  for (const file of files) {
    const name = file.slice(realdata.length);
    test(name, { skip: tsharkSkip }, async () => {
      const [ours, theirs] = await Promise.all([readOurs(file), readTshark(file)]);
      assert.ok(ours.packets > 0, 'frames read');
      assert.equal(ours.packets, theirs.packets, 'frame count equals tshark');
      assert.deepEqual([...ours.tcp], [...theirs.tcp], 'tcp.stream: first frame of each conversation');
      assert.deepEqual([...ours.udp], [...theirs.udp], 'udp.stream: first frame of each conversation');
    });
  }
});

describe('every shared capture reads without a crash (no tshark needed)', () => {
  for (const file of files) {
    test(file.slice(realdata.length), async () => {
      const diagnostics = new Diagnostics();
      const reader = readCapture(file, { diagnostics });
      let items = 0;
      for await (const batch of reader) items += batch.length;
      assert.ok(reader.stats().packets > 0);
      assert.ok(items >= 0);
    });
  }
});

/** SNI of a ClientHello handshake message (test-local parse: type, length, version, random, ids, suites, extensions). */
function sniOf(hello: Uint8Array): string | null {
  const b = Buffer.from(hello);
  let p = 4 + 2 + 32;
  p += 1 + b[p];
  p += 2 + b.readUInt16BE(p);
  p += 1 + b[p];
  const end = p + 2 + b.readUInt16BE(p);
  p += 2;
  while (p + 4 <= end) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    if (type === 0) {
      const nameLen = b.readUInt16BE(p + 4 + 3);
      return b.toString('latin1', p + 4 + 5, p + 4 + 5 + nameLen);
    }
    p += 4 + len;
  }
  return null;
}

describe('QUIC Initials in FoxIO pcaps decrypt to the ClientHello FoxIO reports', () => {
  const snapshots = join(realdata, 'foxio-ja4/rust/ja4/src/snapshots');
  for (const snap of readdirSync(snapshots).filter((s) => s.endsWith('.snap'))) {
    const text = readFileSync(join(snapshots, snap), 'utf8');
    const body = text.split(/^---$/m).slice(2).join('---');
    const entries = (parseYaml(body) ?? []) as {
      stream: number;
      transport: string;
      src_port: number;
      tls_server_name?: string;
    }[];
    const quic = entries.filter((e) => e.transport === 'udp' && e.tls_server_name);
    if (quic.length === 0) continue;
    const pcap = join(realdata, 'foxio-ja4/pcap', basename(snap, '.snap').replace('ja4__insta@', ''));
    test(`${basename(pcap)}: ${quic.length} QUIC ClientHello(s)`, async () => {
      const assemblers = new Map<string, QuicInitialAssembler>();
      for await (const batch of readCapture(pcap)) {
        for (const item of batch) {
          if (item.kind !== 'udp') continue;
          const key = `${item.stream_id}/${item.flow.src_port}`;
          let a = assemblers.get(key);
          if (a === undefined) {
            a = new QuicInitialAssembler();
            assemblers.set(key, a);
          }
          a.push(item.data);
        }
      }
      for (const e of quic) {
        const hello = assemblers.get(`${e.stream}/${e.src_port}`)?.clientHello() ?? null;
        assert.ok(hello, `stream ${e.stream}: ClientHello decrypted`);
        assert.equal(hello[0], 1);
        assert.equal(sniOf(hello), e.tls_server_name, `stream ${e.stream}`);
      }
    });
  }
});
