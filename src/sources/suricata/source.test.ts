// Unit tests for the Suricata EVE source: tls mapping, client certificates, visibility, other
// event types ignored (counted, not errors), exact 64-bit flow ids and bad lines.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagList, feed } from '../../../tests/sources/feed.ts';
import { Diagnostics } from '../../diagnostics.ts';
import { CertificateCache } from '../../normalize/certificate.ts';
import { certInfoFromRaw } from '../../normalize/raw-cert.ts';
import { suricataSource } from './source.ts';

const tlsEvent = (tls: object, extra: object = {}) =>
  JSON.stringify({
    timestamp: '2026-01-05T10:00:00.000001+0100',
    flow_id: 1234,
    event_type: 'tls',
    src_ip: '10.0.0.2',
    src_port: 50000,
    dest_ip: '10.0.0.9',
    dest_port: 443,
    proto: 'TCP',
    tls,
    ...extra,
  });

test('server fields, SNI, version and fingerprints map onto the Observation', () => {
  const line = tlsEvent({
    subject: 'CN=srv',
    issuerdn: 'CN=CA',
    serial: '00:0A',
    fingerprint: '06:39:f9',
    sni: 'srv.example',
    version: 'TLS 1.2',
    notbefore: '2026-01-01T00:00:00',
    notafter: '2027-01-01T00:00:00',
    ja3: { hash: 'j3', string: '771,...' },
    ja3s: { hash: 'j3s' },
    ja4: 't12d_x',
  });
  const { observations, diagnostics } = feed(suricataSource, [line]);
  assert.deepEqual(diagList(diagnostics), []);
  const o = observations[0];
  assert.equal(o.ts, Date.UTC(2026, 0, 5, 9, 0, 0, 0));
  assert.equal(o.format, 'suricata-eve');
  assert.equal(o.record_id, '1234');
  assert.deepEqual([o.source_ip, o.source_port, o.destination_ip, o.destination_port], ['10.0.0.2', 50000, '10.0.0.9', 443]);
  assert.deepEqual(
    [o.sni, o.service, o.tls_version, o.ja3, o.ja3s, o.ja4],
    ['srv.example', 'srv.example', 'TLS 1.2', 'j3', 'j3s', 't12d_x'],
  );
  assert.deepEqual(o.server_certificate, {
    subject: 'CN=srv',
    issuer: 'CN=CA',
    dn_syntax: 'wire-order',
    serial: '00:0A',
    serial_format: 'hex',
    sha1: '06:39:f9',
    not_before: '2026-01-01T00:00:00.000Z',
    not_after: '2027-01-01T00:00:00.000Z',
  });
  assert.equal(o.client_certificate, undefined);
  assert.equal(o.client_certificate_visibility, 'absent');
});

test('tls.client becomes the client certificate; its chain drops the leaf', () => {
  const line = tlsEvent({
    subject: 'CN=srv',
    version: 'TLS 1.2',
    client: { subject: 'CN=jane', serial: '00:27', certificate: 'LEAFB64', chain: ['LEAFB64', 'CAB64'] },
  });
  const o = feed(suricataSource, [line]).observations[0];
  assert.deepEqual(o.client_certificate, {
    subject: 'CN=jane',
    dn_syntax: 'wire-order',
    serial: '00:27',
    serial_format: 'hex',
    pem: 'LEAFB64',
  });
  assert.deepEqual(o.client_chain, [{ pem: 'CAB64' }]);
  assert.equal(o.client_certificate_visibility, 'present');
});

test('TLS 1.3 and resumed sessions cannot show a client certificate', () => {
  const { observations } = feed(suricataSource, [
    tlsEvent({ version: 'TLS 1.3', sni: 'a' }),
    tlsEvent({ session_resumed: true, version: 'TLS 1.2' }),
    tlsEvent({ subject: 'CN=x', version: 'UNDETERMINED' }),
  ]);
  assert.deepEqual(
    observations.map((o) => o.client_certificate_visibility),
    ['not_visible', 'not_visible', 'not_visible'],
  );
  assert.equal(observations[2].tls_version, null);
});

test('other event types are counted as ignored with one warning, not errors', () => {
  const lines = [
    JSON.stringify({ timestamp: '2026-01-05T10:00:00+0000', event_type: 'flow', flow_id: 1 }),
    tlsEvent({ version: 'TLS 1.3' }),
    JSON.stringify({ timestamp: '2026-01-05T10:00:00+0000', event_type: 'alert', app_proto: 'tls', tls: { sni: 'x' } }),
    JSON.stringify({ timestamp: '2026-01-05T10:00:00+0000', event_type: 'dns' }),
  ];
  const { observations, diagnostics, counts } = feed(suricataSource, lines);
  assert.equal(observations.length, 1);
  assert.deepEqual(counts, { records: 4, ignored: 3 });
  assert.equal(diagnostics.skippedRecords, 0);
  assert.deepEqual(diagList(diagnostics), ['warning:ignored-event-type@1']);
  assert.match(diagnostics.kept[0].message, /3 EVE record/);
});

test('flow_id keeps all 64 bits (JSON numbers lose precision past 2^53)', () => {
  const line = tlsEvent({ version: 'TLS 1.2' }).replace('"flow_id":1234', '"flow_id":18446744073709551557');
  assert.equal(feed(suricataSource, [line]).observations[0].record_id, '18446744073709551557');
});

test('invalid JSON, missing timestamp and wrong types are diagnosed with line and field', () => {
  const lines = [
    '{"event_type":"tls", broken',
    JSON.stringify({ event_type: 'tls', tls: {} }),
    tlsEvent({ version: 'TLS 1.2', sni: 7 }, { src_port: 'abc' }),
  ];
  const { observations, diagnostics } = feed(suricataSource, lines);
  assert.equal(observations.length, 1);
  assert.deepEqual(diagList(diagnostics), [
    'error:invalid-json@1',
    'error:missing-timestamp@2:timestamp',
    'warning:wrong-type@3:tls.sni',
    'warning:wrong-type@3:src_port',
  ]);
});

test('detection needs event_type and timestamp', () => {
  assert.ok(suricataSource.detect({ name: 'eve.json', firstLines: [tlsEvent({})] }) >= 0.9);
  assert.equal(suricataSource.detect({ name: 'x', firstLines: [JSON.stringify({ '@timestamp': 'x', tls: {} })] }), 0);
});

test('logged Suricata DNs (wire order) come out in RFC 4514 order, most specific RDN first', () => {
  const diagnostics = new Diagnostics();
  const parser = suricataSource.open({ file: 'eve.json', diagnostics, shared: new Map() });
  const line = JSON.stringify({
    timestamp: '2026-03-02T10:00:00.000000+0000',
    event_type: 'tls',
    src_ip: '10.0.0.1',
    src_port: 50000,
    dest_ip: '10.0.0.2',
    dest_port: 443,
    tls: {
      version: 'TLS 1.2',
      subject: 'C=US, O=Example Corp, CN=gateway',
      issuerdn: 'C=US, O=Example Corp, CN=Issuing CA',
      client: { subject: 'O=Example Corp, OU=Sales, CN=alice', issuerdn: 'C=US, O=Example Corp, CN=Issuing CA', serial: '0A:1B' },
    },
  });
  const out = parser.line(line, 1);
  const obs = Array.isArray(out) ? out[0] : out;
  assert.ok(obs?.client_certificate);
  const info = certInfoFromRaw(obs.client_certificate, new CertificateCache()).info;
  assert.equal(info.subject, 'CN=alice,OU=Sales,O=Example Corp');
  assert.equal(info.issuer, 'CN=Issuing CA,O=Example Corp,C=US');
  assert.equal(info.serial, 'a1b');
});
