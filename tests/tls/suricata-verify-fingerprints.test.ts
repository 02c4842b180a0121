// Suricata's own expectations for JA3 / JA3S / JA4 / QUIC JA4 (suricata-verify test.yaml checks,
// gathered in EXPECTED-tls-checks.json): each expected value must be produced by certsignal for
// some session of the same pcap, read through readCapture → TlsSession. For `event_type: tls`
// checks (one EVE record per flow) the number of our sessions carrying the value must equal `count`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sha256Prefix12 } from '../../src/tls/fingerprints.ts';
import { type CapturedSession, captureSessions } from './helpers/capture-sessions.ts';

const SV = fileURLToPath(new URL('../../../shared/realdata/suricata-verify/', import.meta.url));

interface Check {
  count?: number;
  match: Record<string, unknown>;
}
interface Entry {
  test: string;
  pcap: string;
  tls_checks: Check[];
}

const FIELDS: Record<string, (s: CapturedSession) => string[]> = {
  'tls.ja3.hash': (s) => s.result.client_hellos.slice(0, 1).map((h) => h.ja3),
  'tls.ja3.string': (s) => s.result.client_hellos.slice(0, 1).map((h) => h.ja3_string),
  'tls.ja3s.hash': (s) => (s.result.ja3s ? [s.result.ja3s] : []),
  'tls.ja3s.string': (s) => (s.result.ja3s_string ? [s.result.ja3s_string] : []),
  'tls.ja4': (s) => (s.kind === 'tcp' ? s.result.client_hellos.slice(0, 1).map((h) => h.ja4) : []),
  'quic.ja4': (s) => (s.kind === 'quic' ? s.result.client_hellos.slice(0, 1).map((h) => h.ja4) : []),
};

/**
 * Suricata ≥ 8.0.3 hashes `extensions_` (a trailing underscore) when a ClientHello has no
 * signature_algorithms; JA4.md says the string "ends without an underscore" (its own example:
 * …,4469,ff01 → 6d807ffa2a79). certsignal follows the spec. Returns the Suricata-style JA4 of a
 * hello without signature algorithms, so the test can confirm that this — and only this — is the difference.
 */
function suricataNoSigalgJa4(s: CapturedSession): string | null {
  const h = s.result.client_hellos[0];
  if (!h || h.hello.signature_algorithms.length > 0) return null;
  const [a, , extensions] = h.ja4_r.split('_');
  if (!extensions) return null;
  return `${a}_${h.ja4.split('_')[1]}_${sha256Prefix12(`${extensions}_`)}`;
}

const entries = (JSON.parse(readFileSync(`${SV}EXPECTED-tls-checks.json`, 'utf8')) as Entry[]).filter((e) =>
  e.tls_checks.some((c) => Object.keys(c.match).some((k) => k in FIELDS)),
);

const cache = new Map<string, Promise<CapturedSession[]>>();
function sessionsOf(pcap: string): Promise<CapturedSession[]> {
  let p = cache.get(pcap);
  if (!p) {
    p = captureSessions(`${SV}${pcap}`);
    cache.set(pcap, p);
  }
  return p;
}

test('suricata-verify has JA3/JA3S/JA4 expectations to check', () => {
  assert.ok(entries.length >= 15, `${entries.length} tests with fingerprint checks`);
});

for (const entry of entries) {
  test(`suricata-verify ${entry.test}: fingerprints equal Suricata's expected EVE values`, async (t) => {
    const sessions = await sessionsOf(entry.pcap);
    let checked = 0;
    for (const check of entry.tls_checks) {
      const keys = Object.keys(check.match).filter((k) => k in FIELDS);
      if (keys.length === 0) continue;
      const matching = sessions.filter((s) => {
        if (check.match.src_port !== undefined && s.flow.src_port !== check.match.src_port) return false;
        if (check.match.dest_port !== undefined && s.flow.dst_port !== check.match.dest_port) return false;
        return keys.every((k) => FIELDS[k](s).includes(String(check.match[k])));
      });
      const what = keys.map((k) => `${k}=${check.match[k]}`).join(' ');
      if (matching.length === 0 && keys.length === 1 && keys[0] === 'tls.ja4') {
        const explained = sessions.filter((s) => suricataNoSigalgJa4(s) === check.match['tls.ja4']);
        if (explained.length === check.count) {
          t.diagnostic(
            `${what}: documented divergence — ours ${explained[0].result.client_hellos[0].ja4} follows JA4.md (no '_' without signature algorithms); Suricata hashes a trailing '_'`,
          );
          checked++;
          continue;
        }
      }
      if (check.match.event_type === 'tls' && check.count !== undefined) {
        assert.equal(matching.length, check.count, `${what}: ${matching.length} sessions, Suricata expects ${check.count}`);
      } else {
        // quic / alert records are per packet or per rule hit: the value must exist on some session.
        assert.ok(matching.length > 0, `${what}: no session has this value`);
      }
      checked++;
      t.diagnostic(`${what}: ${matching.length} session(s)`);
    }
    assert.ok(checked > 0);
  });
}
