// Real-capture tests of the session layer behind the pcap source and `certsignal pcap`: handshake
// outcome, client-certificate visibility, what is ignored, and that chunking does not matter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCapture } from '../../src/capture/read.ts';
import type { CaptureItem } from '../../src/capture/types.ts';
import { Diagnostics } from '../../src/diagnostics.ts';
import { type PcapSession, readSessions, SessionAssembler } from '../../src/sources/pcap/sessions.ts';
import { type FileStats, readObservations } from '../../src/sources/read.ts';
import { SHARED } from '../helpers/cli.ts';

const TLS = `${SHARED}realdata/zeek/Traces/tls/`;

async function sessions(file: string): Promise<{ list: PcapSession[]; ignored: Record<string, number> }> {
  const reader = readSessions(file, { diagnostics: new Diagnostics() });
  const list: PcapSession[] = [];
  for await (const batch of reader) list.push(...batch);
  return { list, ignored: reader.counts().ignored };
}

test('outcome: a fatal alert in the clear is a failure; a completed handshake a success', async () => {
  const failed = await sessions(`${TLS}tls-1.2-handshake-failure.pcap`);
  assert.equal(failed.list.length, 1);
  assert.equal(failed.list[0].outcome, 'failure');
  assert.equal(failed.list[0].client_certificate_visibility, 'not_visible');
  assert.equal(failed.list[0].client_certificates_reason, 'handshake-not-seen');

  const ok = await sessions(`${TLS}tls1.2.pcap`);
  assert.ok(ok.list.length > 0);
  for (const s of ok.list) {
    assert.equal(s.outcome, 'success');
    assert.equal(s.client_certificate_visibility, 'absent');
  }
});

test('TLS 1.3 after a HelloRetryRequest: both ClientHellos kept, negotiated 1.3, certificates not visible', async () => {
  const { list } = await sessions(`${TLS}hrr.pcap`);
  assert.equal(list.length, 1);
  const s = list[0];
  assert.equal(s.result.client_hellos.length, 2);
  assert.equal(s.version, 'TLS 1.3');
  assert.equal(s.version_from, 'server_hello');
  assert.equal(s.client_certificate_visibility, 'not_visible');
  assert.equal(s.client_certificates_reason, 'tls13-encrypted');
  assert.equal(s.outcome, 'success');
});

test('DTLS sessions are read over UDP; SSLv2 hellos are counted as ignored, not sessions', async () => {
  const dtls = await sessions(`${TLS}dtls1_2.pcap`);
  assert.equal(dtls.list.length, 1);
  assert.equal(dtls.list[0].transport, 'udp');
  assert.equal(dtls.list[0].kind, 'dtls');
  assert.equal(dtls.list[0].version, 'DTLS 1.2');
  assert.match(dtls.list[0].result.client_hellos[0].ja4, /^d/);

  const v2 = await sessions(`${TLS}ssl-v2.pcap`);
  assert.equal(v2.list.length, 0);
  assert.equal(v2.ignored['sslv2-hello'], 1);
});

test('the same capture fed one byte at a time gives the same sessions (alerts and records split anywhere)', async () => {
  for (const name of ['tls-1.2-handshake-failure.pcap', 'client-certificate.pcap', 'hrr.pcap']) {
    const items: CaptureItem[] = [];
    for await (const batch of readCapture(`${TLS}${name}`)) items.push(...batch);
    const run = (split: boolean) => {
      const out: PcapSession[] = [];
      const a = new SessionAssembler({ onSession: (s) => out.push(s) });
      for (const item of items) {
        if (split && item.kind === 'tcp') {
          for (let i = 0; i < item.data.length; i++) a.push({ ...item, data: item.data.subarray(i, i + 1) });
        } else a.push(item);
      }
      a.flush();
      return out.map((s) => ({
        outcome: s.outcome,
        visibility: s.client_certificate_visibility,
        ja4: s.result.client_hellos.map((c) => c.ja4),
        ja3s: s.result.ja3s,
        client: s.result.client_certificates?.length ?? null,
      }));
    };
    assert.deepEqual(run(true), run(false), name);
  }
});

test('readObservations detects captures by magic bytes and reports per-file stats', async () => {
  const files: FileStats[] = [];
  const diagnostics = new Diagnostics();
  let n = 0;
  for await (const batch of readObservations([`${TLS}client-certificate.pcap`, `${TLS}ssl-v2.pcap`], {
    diagnostics,
    onFile: (f) => files.push(f),
  })) {
    for (const o of batch) {
      n++;
      assert.equal(o.format, 'pcap');
      assert.equal(o.record_id, 'pcap:tcp:0');
      assert.equal(o.client_certificate_visibility, 'present');
      assert.ok(o.client_certificate?.der && o.client_certificate.der.length > 100);
      assert.equal(o.client_chain?.length, 1);
    }
  }
  assert.equal(n, 1);
  assert.deepEqual(
    files.map((f) => [f.format, f.records, f.observations, f.ignored]),
    [
      ['pcap', 1, 1, 0],
      ['pcap', 1, 0, 1],
    ],
  );
  assert.equal(files[0].lines, 31); // packets: tshark counts 31 frames in client-certificate.pcap
});
