// End to end through the CLI over an Envoy json_format access log (the recommended format of
// docs/formats.md) with real certificates from tests/helpers/pki.ts: a mesh workload with a
// SPIFFE URI SAN (URL-encoded PEM, as %DOWNSTREAM_PEER_CERT% prints it), the same workload seen
// by an upstream Envoy through XFCC only, a self-signed client, and a TLS connection without a
// client certificate. Envoy itself cannot be installed here, so the log is written from its
// documented command-operator output.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { serializeXfcc } from '../../../src/gateway/xfcc.ts';
import { parseAlerts, parseLines, runCli } from '../../helpers/cli.ts';
import { createRootCA, createSelfSignedLeaf, type TestCert } from '../../helpers/pki.ts';

const SPIFFE = 'spiffe://cluster.local/ns/payments/sa/api';
const sha256 = (c: TestCert) => createHash('sha256').update(c.der).digest('hex');

let dir: string;
let api: TestCert;
let mallory: TestCert;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certsignal-envoy-'));
  const ca = await createRootCA('CN=Mesh CA, O=certsignal tests');
  api = await ca.issue({ subject: 'CN=api, O=Payments', uri: [SPIFFE] });
  mallory = await createSelfSignedLeaf({
    subject: 'CN=mallory, O=Payments',
    uri: ['spiffe://cluster.local/ns/payments/sa/mallory'],
  });
  writeFileSync(join(dir, 'ca.pem'), ca.cert.pem);
  const t0 = Date.now() - 3_600_000;
  const line = (i: number, extra: Record<string, unknown>) =>
    JSON.stringify({
      start_time: new Date(t0 + i * 1000).toISOString(),
      downstream_remote_address: i % 2 ? '10.0.3.7:40112' : '[fd00::7]:40112',
      downstream_local_address: '10.0.0.2:443',
      requested_server_name: 'pay.mesh.local',
      authority: 'pay.mesh.local',
      response_code: 200,
      bytes_received: 300,
      bytes_sent: 1200,
      downstream_tls_version: 'TLSv1.3',
      downstream_tls_cipher: 'TLS_AES_128_GCM_SHA256',
      downstream_peer_subject: '-',
      downstream_peer_issuer: '-',
      downstream_peer_serial: '-',
      downstream_peer_fingerprint_256: '-',
      downstream_peer_uri_san: '-',
      downstream_peer_cert: '-',
      x_forwarded_client_cert: '-',
      ...extra,
    });
  const xfcc = serializeXfcc([
    [
      { key: 'By', value: 'spiffe://cluster.local/ns/edge/sa/gateway' },
      { key: 'Hash', value: sha256(api) },
      { key: 'Subject', value: 'CN=api,O=Payments' },
      { key: 'URI', value: SPIFFE },
    ],
  ]);
  const lines = [
    line(1, {
      downstream_peer_cert: encodeURIComponent(api.pem),
      downstream_peer_subject: 'CN=api,O=Payments',
      downstream_peer_uri_san: SPIFFE,
      downstream_peer_fingerprint_256: sha256(api),
    }),
    // An upstream Envoy: no peer certificate of its own (the hop is plaintext inside the pod), only XFCC.
    line(2, {
      downstream_tls_version: '-',
      downstream_peer_subject: undefined,
      downstream_peer_issuer: undefined,
      downstream_peer_serial: undefined,
      downstream_peer_fingerprint_256: undefined,
      downstream_peer_uri_san: undefined,
      downstream_peer_cert: undefined,
      x_forwarded_client_cert: xfcc,
    }),
    // Accepted (Envoy without a trusted_ca, or with trust_chain_verification: ACCEPT_UNTRUSTED).
    line(3, { downstream_peer_cert: encodeURIComponent(mallory.pem) }),
    // Refused for want of a certificate.
    line(4, { response_code: 403 }),
  ];
  writeFileSync(join(dir, 'envoy.log'), `${lines.join('\n')}\n`);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('normalize: detected as envoy; SPIFFE URI SAN and SHA-256 from the PEM and from XFCC', async () => {
  const r = await runCli(['normalize', '--output', 'json', join(dir, 'envoy.log')]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /\b(error|warning):/, r.stderr);
  const events = parseLines<{
    source: { format: string };
    outcome: string;
    certificate: { sha256: string; source: string; san: { uri: string[] } } | null;
    certificate_visibility: string;
    service: string | null;
  }>(r.stdout);
  assert.deepEqual(
    events.map((e) => e.source.format),
    ['envoy', 'envoy', 'envoy', 'envoy'],
  );
  assert.deepEqual(
    events.map((e) => e.certificate?.sha256 ?? null),
    [sha256(api), sha256(api), sha256(mallory), null],
  );
  assert.deepEqual(
    events.map((e) => e.certificate?.source ?? null),
    ['der', 'logged', 'der', null],
  );
  assert.deepEqual(events[0].certificate?.san.uri, [SPIFFE]);
  assert.deepEqual(events[1].certificate?.san.uri, [SPIFFE]);
  assert.deepEqual(
    events.map((e) => e.certificate_visibility),
    ['present', 'present', 'present', 'absent'],
  );
  assert.deepEqual(
    events.map((e) => e.outcome),
    ['success', 'success', 'success', 'failure'],
  );
  assert.equal(events[0].service, 'pay.mesh.local');
});

test('analyze --trust-anchors: untrusted-issuer fires for the self-signed client certificate only', async () => {
  const r = await runCli(['analyze', '--trust-anchors', join(dir, 'ca.pem'), '--output', 'json', join(dir, 'envoy.log')]);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\berror:/, r.stderr);
  const untrusted = parseAlerts<{ rule: string; cert_sha256: string | null }>(r.stdout).filter(
    (a) => a.rule === 'untrusted-issuer',
  );
  assert.equal(untrusted.length, 1, r.stdout);
  assert.equal(untrusted[0].cert_sha256, sha256(mallory));
});
