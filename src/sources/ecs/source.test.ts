// Unit tests for the ECS NDJSON source: nested and dotted keys, field mapping, geo forms,
// wrong-typed fields, unusable lines, real certificates (tests/helpers/pki.ts) and detection.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRootCA } from '../../../tests/helpers/pki.ts';
import { diagList, feed } from '../../../tests/sources/feed.ts';
import { ecsSource, expandDottedKeys } from './source.ts';

const nested = {
  '@timestamp': '2026-01-05T09:00:00.250Z',
  ecs: { version: '8.11.0' },
  event: { id: 'evt-1', outcome: 'failure' },
  user: { name: 'alice' },
  host: { name: 'laptop-7' },
  source: {
    ip: '203.0.113.9',
    port: 51514,
    bytes: 900,
    geo: { country_iso_code: 'DE', country_name: 'Germany', city_name: 'Berlin', location: { lat: 52.52, lon: 13.4 } },
  },
  destination: { ip: '10.0.0.5', port: 443, domain: 'api.internal' },
  tls: {
    version: '1.2',
    version_protocol: 'tls',
    cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    client: {
      ja3: '771,4865-4866,0-23,29-23,0',
      ja4: 't13d1516h2_8daaf6152771_b0da82dd1658',
      server_name: 'api.internal',
      hash: { sha256: 'AB'.repeat(32), sha1: 'CD'.repeat(20) },
      x509: {
        subject: { distinguished_name: 'CN=alice,O=Example' },
        issuer: { distinguished_name: 'CN=Example CA' },
        serial_number: '0A1B2C',
        not_before: '2026-01-01T00:00:00Z',
        not_after: '2027-01-01T00:00:00Z',
        alternative_names: ['alice.example', 'alice@example.com'],
        public_key_algorithm: 'ECDSA',
        public_key_size: 256,
        public_key_curve: 'prime256v1',
      },
    },
    server: { ja3s: 'e35df3e00ca4ef31d42b34bebaa2f86e', x509: { subject: { common_name: ['api.internal'] } } },
  },
};

/** The same event with every leaf written as a dotted top-level key, as some shippers do. */
function flatten(o: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v) && key !== 'source.geo.location')
      flatten(v as Record<string, unknown>, key, out);
    else out[key] = v;
  }
  return out;
}

test('nested ECS maps every field the brief lists', () => {
  const { observations, diagnostics } = feed(ecsSource, [JSON.stringify(nested)]);
  assert.deepEqual(diagList(diagnostics), []);
  const o = observations[0];
  assert.equal(o.ts, Date.UTC(2026, 0, 5, 9, 0, 0, 250));
  assert.equal(o.format, 'ecs');
  assert.equal(o.record_id, 'evt-1');
  assert.equal(o.outcome, 'failure');
  assert.equal(o.user, 'alice');
  assert.equal(o.device, 'laptop-7');
  assert.equal(o.source_ip, '203.0.113.9');
  assert.equal(o.source_port, 51514);
  assert.deepEqual(o.geo, { country_iso_code: 'DE', country_name: 'Germany', city_name: 'Berlin', lat: 52.52, lon: 13.4 });
  assert.equal(o.destination_ip, '10.0.0.5');
  assert.equal(o.destination_port, 443);
  assert.equal(o.service, 'api.internal');
  assert.equal(o.tls_version, 'TLS 1.2');
  assert.equal(o.tls_cipher, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
  assert.equal(o.ja3, '771,4865-4866,0-23,29-23,0');
  assert.equal(o.ja4, 't13d1516h2_8daaf6152771_b0da82dd1658');
  assert.equal(o.ja3s, 'e35df3e00ca4ef31d42b34bebaa2f86e');
  assert.equal(o.sni, 'api.internal');
  assert.equal(o.bytes, 900);
  assert.equal(o.client_certificate_visibility, 'present');
  assert.deepEqual(o.client_certificate, {
    sha256: 'AB'.repeat(32),
    sha1: 'CD'.repeat(20),
    subject: 'CN=alice,O=Example',
    issuer: 'CN=Example CA',
    serial: '0A1B2C',
    serial_format: 'hex',
    not_before: '2026-01-01T00:00:00.000Z',
    not_after: '2027-01-01T00:00:00.000Z',
    san_dns: ['alice.example'],
    san_email: ['alice@example.com'],
    san_uri: [],
    san_ip: [],
    key_algorithm: 'ec',
    key_size: 256,
    key_curve: 'prime256v1',
  });
  assert.deepEqual(o.client_chain, []);
  assert.deepEqual(o.server_certificate, { subject: 'CN=api.internal' });
});

test('dotted keys give exactly the same observation as nested objects', () => {
  const dotted = flatten(nested);
  assert.ok('tls.client.x509.subject.distinguished_name' in dotted);
  const a = feed(ecsSource, [JSON.stringify(nested)]).observations[0];
  const b = feed(ecsSource, [JSON.stringify(dotted)]).observations[0];
  assert.deepEqual(b, a);
});

test('mixed: dotted keys inside nested objects are expanded too', () => {
  const o = expandDottedKeys({ tls: { 'client.ja3': 'x', client: { server_name: 'y' } }, 'user.name': 'u' });
  assert.deepEqual(o, { tls: { client: { server_name: 'y', ja3: 'x' } }, user: { name: 'u' } });
});

test('geo location in every Elasticsearch form', () => {
  const forms: unknown[] = [{ lat: 1.5, lon: 2.5 }, [2.5, 1.5], '1.5,2.5', 'POINT (2.5 1.5)'];
  for (const location of forms) {
    const { observations } = feed(ecsSource, [
      JSON.stringify({ '@timestamp': '2026-01-05T09:00:00Z', source: { geo: { location } } }),
    ]);
    assert.equal(observations[0].geo?.lat, 1.5, JSON.stringify(location));
    assert.equal(observations[0].geo?.lon, 2.5, JSON.stringify(location));
  }
});

test('service falls back: service.name, destination.domain, url.domain, url.full host, then SNI', () => {
  const base = { '@timestamp': '2026-01-05T09:00:00Z', tls: { client: { server_name: 'sni.example' } } };
  const svc = (extra: object) => feed(ecsSource, [JSON.stringify({ ...base, ...extra })]).observations[0].service;
  assert.equal(svc({ service: { name: 'vpn' }, destination: { domain: 'd.example' } }), 'vpn');
  assert.equal(svc({ destination: { domain: 'd.example' }, url: { domain: 'u.example' } }), 'd.example');
  assert.equal(svc({ url: { domain: 'u.example' } }), 'u.example');
  assert.equal(svc({ url: { full: 'https://user@Full.Example:8443/path?q' } }), 'full.example');
  assert.equal(svc({}), 'sni.example');
});

test('user falls back to user.id then user.email; device to host.id then host.name', () => {
  const one = (extra: object) =>
    feed(ecsSource, [JSON.stringify({ '@timestamp': '2026-01-05T09:00:00Z', ...extra })]).observations[0];
  assert.equal(one({ user: { id: 'S-1-5' } }).user, 'S-1-5');
  assert.equal(one({ user: { email: 'a@b.c' } }).user, 'a@b.c');
  assert.equal(one({ device: { id: 'dev-1' }, host: { id: 'h' } }).device, 'dev-1');
  assert.equal(one({ host: { id: 'hid', name: 'hn' } }).device, 'hid');
  assert.equal(one({ host: { name: 'hn' } }).device, 'hn');
});

test('wrong-typed fields warn with the field name and the event is kept', () => {
  const line = JSON.stringify({
    '@timestamp': '2026-01-05T09:00:00Z',
    user: { name: 42 },
    source: { port: 'abc', ip: '1.2.3.4' },
  });
  const { observations, diagnostics } = feed(ecsSource, [line]);
  assert.equal(observations.length, 1);
  assert.equal(observations[0].user, null);
  assert.equal(observations[0].source_port, null);
  assert.equal(observations[0].source_ip, '1.2.3.4');
  assert.deepEqual(diagList(diagnostics), ['warning:wrong-type@1:user.name', 'warning:wrong-type@1:source.port']);
  assert.equal(diagnostics.skippedRecords, 0);
});

test('a numeric string port is accepted; an out-of-range port is not', () => {
  const { observations, diagnostics } = feed(ecsSource, [
    JSON.stringify({ '@timestamp': '2026-01-05T09:00:00Z', source: { port: '443' } }),
    JSON.stringify({ '@timestamp': '2026-01-05T09:00:00Z', source: { port: 70000 } }),
  ]);
  assert.equal(observations[0].source_port, 443);
  assert.equal(observations[1].source_port, null);
  assert.deepEqual(diagList(diagnostics), ['warning:wrong-type@2:source.port']);
});

test('non-JSON lines and records without a usable @timestamp are skipped with file:line', () => {
  const lines = [
    JSON.stringify({ '@timestamp': '2026-01-05T09:00:00Z', user: { name: 'a' } }),
    'this is not json',
    JSON.stringify({ user: { name: 'b' } }),
    JSON.stringify({ '@timestamp': 'yesterday', user: { name: 'c' } }),
    '[1,2]',
    JSON.stringify({ '@timestamp': '2026-01-05T09:00:01Z', user: { name: 'd' } }),
  ];
  const { observations, diagnostics, counts } = feed(ecsSource, lines, { file: 'auth.ndjson' });
  assert.deepEqual(
    observations.map((o) => [o.user, o.line]),
    [
      ['a', 1],
      ['d', 6],
    ],
  );
  assert.deepEqual(diagList(diagnostics), [
    'error:invalid-json@2',
    'error:missing-timestamp@3:@timestamp',
    'error:bad-timestamp@4:@timestamp',
    'error:invalid-json@5',
  ]);
  assert.ok(diagnostics.kept.every((d) => d.file === 'auth.ndjson'));
  assert.equal(diagnostics.skippedRecords, 4);
  assert.deepEqual(counts, { records: 6, ignored: 0 });
});

test('a real PEM client certificate and its chain are carried through (leaf not repeated in the chain)', async () => {
  const root = await createRootCA();
  const inter = await root.subordinate('CN=Issuing CA, O=certsignal tests');
  const leaf = await inter.issue({ subject: 'CN=alice, O=certsignal tests', email: ['alice@example.com'] });
  const event = {
    '@timestamp': '2026-01-05T09:00:00Z',
    tls: { client: { certificate: leaf.pem, certificate_chain: [leaf.pem, inter.cert.pem] } },
  };
  const o = feed(ecsSource, [JSON.stringify(event)]).observations[0];
  assert.equal(o.client_certificate?.pem, leaf.pem);
  assert.deepEqual(o.client_chain, [{ pem: inter.cert.pem }]);
  assert.equal(o.client_certificate_visibility, 'present');

  // Only a chain: its first element is the leaf.
  const chainOnly = feed(ecsSource, [
    JSON.stringify({ '@timestamp': '2026-01-05T09:00:00Z', tls: { client: { certificate_chain: [leaf.pem, inter.cert.pem] } } }),
  ]).observations[0];
  assert.equal(chainOnly.client_certificate?.pem, leaf.pem);
  assert.deepEqual(chainOnly.client_chain, [{ pem: inter.cert.pem }]);
});

test('no client certificate fields: visibility is left to normalize (ECS cannot say)', () => {
  const o = feed(ecsSource, [
    JSON.stringify({ '@timestamp': '2026-01-05T09:00:00Z', tls: { version: '1.3', client: { ja3: 'x' } } }),
  ]).observations[0];
  assert.equal(o.client_certificate, undefined);
  assert.equal(o.client_certificate_visibility, undefined);
  assert.equal(o.tls_version, 'TLS 1.3');
});

test('detection: ECS lines score high, Suricata and Zeek JSON do not', () => {
  const s = (l: string) => ecsSource.detect({ name: 'x.json', firstLines: [l] });
  assert.ok(s(JSON.stringify({ '@timestamp': 'x', ecs: { version: '8' } })) >= 0.9);
  assert.ok(s(JSON.stringify({ '@timestamp': 'x', 'ecs.version': '8' })) >= 0.9);
  assert.ok(s(JSON.stringify({ '@timestamp': 'x', tls: {} })) >= 0.7);
  assert.ok(s(JSON.stringify({ timestamp: 'x', event_type: 'tls' })) === 0);
  assert.ok(s('#fields\tts\tuid') === 0);
});

test('bytes: source + destination, else network.bytes, else HTTP request + response, else one direction; wrong types warn', () => {
  const at = { '@timestamp': '2026-01-05T09:00:00Z' };
  const one = (extra: object) => feed(ecsSource, [JSON.stringify({ ...at, ...extra })]);
  const bytes = (extra: object) => one(extra).observations[0].bytes;
  // Both directions of the exchange add up; network.bytes (the same total) is not added on top.
  assert.equal(bytes({ source: { bytes: 1200 }, destination: { bytes: 48_000 }, network: { bytes: 49_200 } }), 49_200);
  assert.equal(bytes({ 'source.bytes': 1200, 'destination.bytes': 48_000 }), 49_200, 'dotted keys');
  assert.equal(bytes({ source: { bytes: 1200 }, network: { bytes: 50_000 } }), 50_000, 'one direction only: the total wins');
  assert.equal(bytes({ 'network.bytes': 7 }), 7);
  assert.equal(bytes({ network: { bytes: '5000' } }), 5000, 'numeric strings are accepted');
  assert.equal(bytes({ http: { request: { bytes: 300 }, response: { bytes: 2_000_000 } } }), 2_000_300);
  assert.equal(bytes({ http: { response: { bytes: 2_000_000 } } }), 2_000_000);
  assert.equal(bytes({ destination: { bytes: 900 } }), 900);
  assert.equal(bytes({ user: { name: 'a' } }), undefined, 'no bytes field: unknown, not zero');
  const bad = one({ source: { bytes: -5 }, destination: { bytes: 10 }, network: { bytes: 'lots' } });
  assert.equal(bad.observations[0].bytes, 10);
  assert.deepEqual(diagList(bad.diagnostics), ['warning:wrong-type@1:source.bytes', 'warning:wrong-type@1:network.bytes']);
});
