// Unit tests for the `envoy` source: json_format keys, a real URL-encoded PEM (as
// %DOWNSTREAM_PEER_CERT% prints it), logged peer fields, XFCC-only lines with trusted-hop
// selection, visibility, and bad input as diagnostics. Envoy itself is not installable here, so
// the lines are built from Envoy's documented command operators.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serializeXfcc } from '../../../src/gateway/xfcc.ts';
import { CertificateCache } from '../../../src/normalize/certificate.ts';
import { certInfoFromRaw } from '../../../src/normalize/raw-cert.ts';
import { analyze } from '../../../src/pipeline/analyze.ts';
import { createEnvoySource, envoySource, splitAddress } from '../../../src/sources/envoy/source.ts';
import type { DetectSample } from '../../../src/sources/types.ts';
import { createRootCA } from '../../helpers/pki.ts';
import { diagList, feed } from '../feed.ts';

const SPIFFE = 'spiffe://cluster.local/ns/payments/sa/api';

/** URL-encodes a PEM the way Envoy does for %DOWNSTREAM_PEER_CERT% (newlines, `+`, `/`, `=` escaped). */
const envoyEncode = (pem: string) => encodeURIComponent(pem);

const base = {
  start_time: '2026-03-02T08:15:30.123Z',
  method: 'GET',
  path: '/v1/pay',
  protocol: 'HTTP/1.1',
  response_code: 200,
  response_flags: '-',
  bytes_received: 120,
  bytes_sent: 3400,
  duration: 12,
  upstream_host: '10.1.0.5:8080',
  downstream_remote_address: '203.0.113.7:51234',
  downstream_local_address: '10.0.0.2:443',
  requested_server_name: 'pay.example.com',
  authority: 'pay.example.com:443',
  request_id: 'f1b2c3',
  downstream_tls_version: 'TLSv1.3',
  downstream_tls_cipher: 'TLS_AES_128_GCM_SHA256',
};

test('a line with a real URL-encoded PEM: the certificate is the source of truth', async () => {
  const ca = await createRootCA();
  const leaf = await ca.issue({ subject: 'CN=api, O=Payments', uri: [SPIFFE], dns: ['api.payments.svc'] });
  const line = JSON.stringify({
    ...base,
    downstream_peer_cert: envoyEncode(leaf.pem),
    downstream_peer_subject: 'CN=api,O=Payments',
    downstream_peer_fingerprint_256: 'ignored-when-pem-parses',
  });
  const { observations, diagnostics, counts } = feed(envoySource, [line]);
  assert.deepEqual(diagList(diagnostics), []);
  assert.deepEqual(counts, { records: 1, ignored: 0 });
  const o = observations[0];
  assert.equal(o.format, 'envoy');
  assert.equal(o.ts, Date.UTC(2026, 2, 2, 8, 15, 30, 123));
  assert.deepEqual([o.source_ip, o.source_port, o.destination_ip, o.destination_port], ['203.0.113.7', 51234, '10.0.0.2', 443]);
  assert.deepEqual(
    [o.sni, o.service, o.tls_version, o.tls_cipher, o.record_id],
    ['pay.example.com', 'pay.example.com', 'TLS 1.3', 'TLS_AES_128_GCM_SHA256', 'f1b2c3'],
  );
  assert.equal(o.bytes, 3520);
  assert.equal(o.outcome, 'success');
  assert.equal(o.client_certificate_visibility, 'present');
  assert.equal(o.client_certificate?.pem, `${leaf.pem.replace(/\r\n/g, '\n').trimEnd()}\n`);
  const info = certInfoFromRaw(o.client_certificate ?? {}, new CertificateCache()).info;
  assert.equal(info?.source, 'der');
  assert.equal(info?.sha256, createHash('sha256').update(leaf.der).digest('hex'));
  assert.deepEqual(info?.san.uri, [SPIFFE]);
  assert.deepEqual(info?.san.dns, ['api.payments.svc']);
});

test('logged peer fields without PEM: RFC 2253 subject, hex serial, fingerprints, SAN lists, validity', () => {
  const line = JSON.stringify({
    ...base,
    downstream_peer_subject: 'CN=api,OU=Pay\\, Ops,O=Example',
    downstream_peer_issuer: 'CN=Mesh CA,O=Example',
    downstream_peer_serial: '0a1b2c',
    downstream_peer_fingerprint_256: 'AB'.repeat(32),
    downstream_peer_fingerprint_1: 'cd'.repeat(20),
    downstream_peer_uri_san: `${SPIFFE},spiffe://cluster.local/ns/payments/sa/api-v2`,
    downstream_peer_dns_san: 'api.payments.svc',
    downstream_peer_cert: '-',
    downstream_peer_cert_v_start: '2026-01-01T00:00:00.000Z',
    downstream_peer_cert_v_end: '2026-04-01T00:00:00.000Z',
  });
  const { observations, diagnostics } = feed(envoySource, [line]);
  assert.deepEqual(diagList(diagnostics), []);
  assert.deepEqual(observations[0].client_certificate, {
    subject: 'CN=api,OU=Pay\\, Ops,O=Example',
    issuer: 'CN=Mesh CA,O=Example',
    dn_syntax: 'rfc4514',
    serial: '0a1b2c',
    serial_format: 'hex',
    sha256: 'AB'.repeat(32),
    sha1: 'cd'.repeat(20),
    san_uri: [SPIFFE, 'spiffe://cluster.local/ns/payments/sa/api-v2'],
    san_dns: ['api.payments.svc'],
    not_before: '2026-01-01T00:00:00.000Z',
    not_after: '2026-04-01T00:00:00.000Z',
  });
  const info = certInfoFromRaw(observations[0].client_certificate ?? {}, new CertificateCache()).info;
  assert.equal(info?.subject_cn, 'api');
  assert.equal(info?.sha256, 'ab'.repeat(32));
});

test('XFCC-only line (upstream Envoy): the last element is used, the spoofed first one is not', async () => {
  const ca = await createRootCA();
  const leaf = await ca.issue({ subject: 'CN=web', uri: ['spiffe://cluster.local/ns/web/sa/frontend'] });
  const sha = createHash('sha256').update(leaf.der).digest('hex');
  const xfcc = serializeXfcc([
    // Written by the client itself (APPEND_FORWARD keeps it): must not be believed.
    [
      { key: 'Hash', value: 'f'.repeat(64) },
      { key: 'Subject', value: 'CN=admin,O=Example' },
      { key: 'URI', value: 'spiffe://cluster.local/ns/admin/sa/root' },
    ],
    [
      { key: 'By', value: SPIFFE },
      { key: 'Hash', value: sha },
      { key: 'Cert', value: envoyEncode(leaf.pem) },
      { key: 'Subject', value: 'CN=web' },
      { key: 'URI', value: 'spiffe://cluster.local/ns/web/sa/frontend' },
    ],
  ]);
  const { downstream_tls_version: _v, ...noTls } = base;
  const line = JSON.stringify({ ...noTls, requested_server_name: '-', x_forwarded_client_cert: xfcc });
  const { observations, diagnostics } = feed(envoySource, [line]);
  assert.deepEqual(diagList(diagnostics), []);
  const o = observations[0];
  assert.equal(o.client_certificate_visibility, 'present');
  assert.equal(o.service, 'pay.example.com', 'authority without its port when SNI is unset');
  assert.equal(o.client_certificate?.sha256, sha);
  assert.deepEqual(o.client_certificate?.san_uri, ['spiffe://cluster.local/ns/web/sa/frontend']);
  const info = certInfoFromRaw(o.client_certificate ?? {}, new CertificateCache()).info;
  assert.equal(info?.sha256, sha);
  assert.equal(info?.subject_cn, 'web');

  // Trusting two hops: the farthest trusted element (here the client-written one) is taken.
  const two = feed(createEnvoySource({ xfccTrustedHops: 2 }), [line]).observations[0];
  assert.equal(two.client_certificate?.sha256, 'f'.repeat(64));

  // The same through analyze and certsignal.yaml `input.xfcc_trusted_hops` (default 1).
  const dir = mkdtempSync(join(tmpdir(), 'certsignal-envoy-hops-'));
  const file = join(dir, 'envoy.log');
  writeFileSync(file, `${line}\n`);
  const certOf = async (hops?: number) => {
    const seen: (string | null | undefined)[] = [];
    await analyze({
      inputs: [file],
      detect: false,
      configOverrides: hops === undefined ? undefined : { input: { xfcc_trusted_hops: hops } },
      onEvent: (e) => seen.push(e.certificate?.sha256),
    });
    return seen;
  };
  assert.deepEqual(await certOf(), [sha]);
  assert.deepEqual(await certOf(2), ['f'.repeat(64)]);
});

test('XFCC with logged fields only, slash-syntax Subject (Envoy docs example)', () => {
  const xfcc =
    'By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com;DNS=lyft.com;DNS=www.lyft.com';
  const o = feed(envoySource, [
    JSON.stringify({ start_time: base.start_time, response_code: 200, x_forwarded_client_cert: xfcc }),
  ]).observations[0];
  assert.deepEqual(o.client_certificate, {
    sha256: '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688',
    subject: '/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client',
    dn_syntax: 'slash',
    san_uri: ['http://testclient.lyft.com'],
    san_dns: ['lyft.com', 'www.lyft.com'],
  });
  const info = certInfoFromRaw(o.client_certificate ?? {}, new CertificateCache()).info;
  assert.equal(info?.subject_cn, 'Test Client');
});

test('visibility: peer fields logged as unset → absent; no peer keys → not_visible', () => {
  const { observations } = feed(envoySource, [
    JSON.stringify({ ...base, downstream_peer_subject: '-', downstream_peer_fingerprint_256: null }),
    JSON.stringify(base),
    JSON.stringify({ ...base, x_forwarded_client_cert: '-' }),
  ]);
  assert.deepEqual(
    observations.map((o) => [o.client_certificate_visibility, o.client_certificate ?? null]),
    [
      ['absent', null],
      ['not_visible', null],
      ['not_visible', null],
    ],
  );
});

test('outcome from response_code; IPv6 and bare addresses; epoch start_time', () => {
  const { observations } = feed(envoySource, [
    JSON.stringify({ ...base, response_code: 403 }),
    JSON.stringify({ ...base, response_code: '496' }),
    JSON.stringify({ ...base, response_code: 0, downstream_remote_address: '[2001:db8::7]:443' }),
    JSON.stringify({ ...base, response_code: 503, start_time: 1772439330, bytes_sent: '-' }),
  ]);
  assert.deepEqual(
    observations.map((o) => o.outcome),
    ['failure', 'failure', 'unknown', 'unknown'],
  );
  assert.deepEqual([observations[2].source_ip, observations[2].source_port], ['2001:db8::7', 443]);
  assert.equal(observations[3].ts, 1772439330000);
  assert.equal(observations[3].bytes, 120);
  assert.deepEqual(splitAddress('2001:db8::1'), { ip: '2001:db8::1', port: null });
  assert.deepEqual(splitAddress('10.0.0.1'), { ip: '10.0.0.1', port: null });
  assert.equal(splitAddress('[::1'), null);
});

test('bad input becomes diagnostics, never a throw', () => {
  const { observations, diagnostics } = feed(envoySource, [
    'not json',
    JSON.stringify({ ...base, start_time: '-' }),
    JSON.stringify({ ...base, start_time: 'yesterday' }),
    JSON.stringify({ ...base, x_forwarded_client_cert: 'By=a;Subject="CN=x' }),
    JSON.stringify({
      ...base,
      downstream_peer_cert: '%E0%A4%A',
      downstream_remote_address: 'nonsense:99999',
      bytes_received: -1,
    }),
  ]);
  assert.deepEqual(diagList(diagnostics), [
    'error:invalid-json@1',
    'error:missing-timestamp@2:start_time',
    'error:bad-timestamp@3:start_time',
    'warning:xfcc-unterminated-quote@4:x_forwarded_client_cert',
    'warning:bad-address@5:downstream_remote_address',
    'warning:wrong-type@5:bytes_received',
    'warning:bad-certificate@5:downstream_peer_cert',
  ]);
  assert.equal(observations.length, 2);
  assert.match(diagnostics.kept[3].message, /offset 13 \(key Subject\)/);
  assert.equal(observations[0].client_certificate_visibility, 'not_visible');
  // A broken PEM with the peer key present: Envoy saw TLS, but nothing usable → absent, not a guess.
  assert.equal(observations[1].client_certificate_visibility, 'absent');
});

test('detection: Envoy/Istio JSON wins; nginx, ECS and Suricata JSON are not claimed', () => {
  const sample = (lines: object[], name = 'access.log'): DetectSample => ({
    name,
    firstLines: lines.map((l) => JSON.stringify(l)),
  });
  assert.ok(envoySource.detect(sample([base])) >= 0.9);
  assert.ok(envoySource.detect(sample([{ start_time: base.start_time, x_forwarded_client_cert: 'By=a' }])) >= 0.7);
  assert.equal(
    envoySource.detect(
      sample([
        {
          time_local: '02/Mar/2026:08:15:30 +0000',
          remote_addr: '1.2.3.4',
          ssl_client_s_dn: 'CN=x',
          status: 200,
          ssl_protocol: 'TLSv1.3',
        },
      ]),
    ),
    0,
  );
  assert.equal(
    envoySource.detect(sample([{ '@timestamp': base.start_time, tls: { version: '1.3' }, source: { ip: '1.2.3.4' } }])),
    0,
  );
  assert.equal(envoySource.detect(sample([{ timestamp: base.start_time, event_type: 'tls', src_ip: '1.2.3.4', tls: {} }])), 0);
  assert.equal(
    envoySource.detect({ name: 'x.log', firstLines: ['[2016-04-15T20:17:00.310Z] "POST /api HTTP/2" 204 - 154 0'] }),
    0,
  );
});
