// Cross-check: JA3 of every ClientHello in the shared pcaps (FoxIO, Zeek TLS traces,
// suricata-verify) equals tshark's `tls.handshake.ja3` / `ja3_full` (Wireshark computes JA3
// itself). certsignal's side runs the whole path (readCapture → TlsSession → ja3). Compared as
// multisets per file: every ClientHello tshark fingerprints must be one we fingerprint the same way.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { captureSessions } from './helpers/capture-sessions.ts';
import { haveTshark, tsharkJa3 } from './helpers/tshark.ts';

const REALDATA = fileURLToPath(new URL('../../../shared/realdata/', import.meta.url));

function pcapsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...pcapsUnder(path));
    else if (/\.(pcap|pcapng|cap)$/.test(name)) out.push(path);
  }
  return out.sort();
}

const files = [
  ...pcapsUnder(join(REALDATA, 'foxio-ja4/pcap')),
  ...pcapsUnder(join(REALDATA, 'zeek/Traces/tls')),
  ...pcapsUnder(join(REALDATA, 'suricata-verify/tests')),
];

test('JA3 of every ClientHello in the shared pcaps equals tshark', {
  skip: haveTshark() ? false : 'tshark not installed',
}, async (t) => {
  let tsharkTotal = 0;
  let matched = 0;
  let quicClientHellos = 0;
  let oursOnly = 0;
  const failures: string[] = [];
  // tshark dominates the run time: keep several running ahead, compare in file order.
  const AHEAD = 8;
  const runs = new Map<number, ReturnType<typeof tsharkJa3>>();
  const startRun = (i: number) => {
    if (i < files.length) runs.set(i, tsharkJa3(files[i]));
  };
  for (let i = 0; i < AHEAD; i++) startRun(i);
  for (const [index, file] of files.entries()) {
    startRun(index + AHEAD);
    const rel = file.slice(REALDATA.length);
    const theirs = await (runs.get(index) as ReturnType<typeof tsharkJa3>);
    runs.delete(index);
    quicClientHellos += theirs.filter((r) => r.quic).length;
    let sessions: Awaited<ReturnType<typeof captureSessions>>;
    try {
      sessions = await captureSessions(file);
    } catch (err) {
      failures.push(`${rel}: capture read failed: ${(err as Error).message}`);
      continue;
    }
    const ours = new Map<string, number>();
    for (const s of sessions) {
      for (const h of s.result.client_hellos) {
        const key = `${h.ja3} ${h.ja3_string}`;
        ours.set(key, (ours.get(key) ?? 0) + 1);
      }
    }
    let fileMatched = 0;
    for (const r of theirs) {
      tsharkTotal++;
      const key = `${r.ja3} ${r.ja3_full}`;
      const n = ours.get(key) ?? 0;
      if (n > 0) {
        ours.set(key, n - 1);
        matched++;
        fileMatched++;
      } else {
        failures.push(`${rel} frame ${r.frame}: tshark ${r.ja3} ${r.ja3_full} has no equal among ours`);
      }
    }
    const extra = [...ours.values()].reduce((a, b) => a + b, 0);
    oursOnly += extra;
    if (theirs.length > 0 || extra > 0)
      t.diagnostic(
        `${rel}: ${fileMatched}/${theirs.length} tshark JA3 matched${extra ? `; ${extra} more ClientHellos only we fingerprinted` : ''}`,
      );
  }
  t.diagnostic(
    `total: ${matched}/${tsharkTotal} tshark JA3 values matched over ${files.length} files; ${oursOnly} ClientHellos only certsignal fingerprinted; ${quicClientHellos} of tshark's were QUIC`,
  );
  assert.deepEqual(failures, []);
  assert.ok(tsharkTotal > 100, `tshark found ${tsharkTotal} ClientHellos`);
});
