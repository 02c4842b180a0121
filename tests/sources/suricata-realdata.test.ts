// Real-data conformance for Suricata EVE: the TLS examples of Suricata's own EVE documentation,
// and an eve.json built from suricata-verify's expected values for the mTLS capture
// tests/tls/tls-store-02/tls-client-auth.pcap, with the certificates extracted from that pcap.

import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Diagnostics } from '../../src/diagnostics.ts';
import type { Observation } from '../../src/schema/event.ts';
import { readObservations } from '../../src/sources/read.ts';

const realdata = fileURLToPath(new URL('../../../shared/realdata/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'certsignal-eve-'));

async function read(file: string): Promise<{ obs: Observation[]; diagnostics: Diagnostics }> {
  const diagnostics = new Diagnostics();
  const obs: Observation[] = [];
  for await (const b of readObservations([file], { diagnostics })) obs.push(...b);
  return { obs, diagnostics };
}

/** The `"tls": { … }` blocks of the EVE format page, in order. */
function tlsExamples(): string[] {
  const lines = readFileSync(join(realdata, 'suricata/eve-json-format.rst'), 'utf8').split('\n');
  const blocks: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*"tls": \{\s*$/.test(lines[i])) continue;
    let depth = 0;
    const body: string[] = [];
    for (let j = i; j < lines.length; j++) {
      body.push(lines[j].trim());
      depth += (lines[j].match(/\{/g) ?? []).length - (lines[j].match(/\}/g) ?? []).length;
      if (depth === 0) break;
    }
    blocks.push(body.join(' '));
  }
  return blocks;
}

test('Suricata documentation TLS examples: valid ones map, the broken one is reported', async () => {
  const blocks = tlsExamples();
  assert.equal(blocks.length, 4);
  const events = blocks.map(
    (b, i) =>
      `{"timestamp":"2017-04-07T22:24:37.251547+0100","flow_id":${586497171462735 + i},"event_type":"tls","src_ip":"192.168.2.14","src_port":50096,"dest_ip":"209.53.113.5","dest_port":443,"proto":"TCP",${b}}`,
  );
  const file = join(dir, 'doc-examples.json');
  writeFileSync(file, `${events.join('\n')}\n`);
  const { obs, diagnostics } = await read(file);
  // The 4th example (custom logging) is missing a closing quote in the documentation itself.
  assert.deepEqual(
    diagnostics.kept.map((d) => [d.reason, d.line]),
    [['invalid-json', 4]],
  );
  assert.equal(obs.length, 3);
  const [regular, resumed, extended] = obs;
  assert.equal(regular.ts, Date.UTC(2017, 3, 7, 21, 24, 37, 251));
  assert.equal(regular.server_certificate?.subject, 'C=US, ST=California, L=Mountain View, O=Google Inc, CN=*.google.com');
  assert.equal(regular.server_certificate?.issuer, 'C=US, O=Google Inc, CN=Google Internet Authority G2');
  assert.equal(resumed.server_certificate, undefined);
  assert.equal(resumed.client_certificate_visibility, 'not_visible');
  assert.equal(extended.record_id, '586497171462737');
  assert.equal(extended.sni, 'calendar.google.com');
  assert.equal(extended.tls_version, 'TLS 1.2');
  assert.equal(extended.server_certificate?.serial, '0C:00:99:B7:D7:54:C9:F6:77:26:31:7E:BA:EA:7C:1C');
  assert.equal(extended.server_certificate?.sha1, '8f:51:12:06:a0:cc:4e:cd:e8:a3:8b:38:f8:87:59:e5:af:95:ca:cd');
  assert.equal(extended.server_certificate?.not_before, '2017-01-04T10:48:43.000Z');
  assert.equal(extended.server_certificate?.not_after, '2017-03-29T10:18:00.000Z');
  assert.equal(extended.client_certificate_visibility, 'absent');
});

interface Expected {
  test: string;
  tls_checks: { match: Record<string, unknown>; requires: { 'min-version'?: unknown } | null }[];
}

test('suricata-verify tls-store-02 mTLS: server and client certificate fields map onto the Observation', async () => {
  const all = JSON.parse(readFileSync(join(realdata, 'suricata-verify/EXPECTED-tls-checks.json'), 'utf8')) as Expected[];
  const entry = all.find((e) => e.test === 'tests/tls/tls-eve-custom-fields');
  assert.ok(entry);
  const m = entry.tls_checks.find((c) => c.match['tls.client.serial'] !== undefined)?.match;
  assert.ok(m);
  const der = (f: string) => readFileSync(join(realdata, 'derived-certs-from-pcaps/tls-client-auth', f));
  const serverDer = der('frame7_cert0.der');
  const rootDer = der('frame7_cert1.der');
  const clientDer = der('frame9_cert0.der');
  // Suricata writes DNs in wire order with ", " — derive the client's from its certificate.
  const clientSubject = new X509Certificate(clientDer).subject.split('\n').join(', ');
  const sha1Colon = (b: Buffer) => createHash('sha1').update(b).digest('hex').match(/../g)?.join(':');
  const eve = {
    timestamp: '2018-04-14T22:55:30.123456+0200',
    flow_id: 1306640469441183,
    event_type: 'tls',
    src_ip: '127.0.0.1',
    src_port: 34932,
    dest_ip: '127.0.0.1',
    dest_port: 4433,
    proto: 'TCP',
    tls: {
      subject: m['tls.subject'],
      issuerdn: m['tls.issuerdn'],
      subjectaltname: [m['tls.subjectaltname[0]']],
      serial: m['tls.serial'],
      fingerprint: m['tls.fingerprint'],
      sni: m['tls.sni'],
      version: m['tls.version'],
      notbefore: m['tls.notbefore'],
      notafter: m['tls.notafter'],
      certificate: serverDer.toString('base64'),
      chain: [serverDer.toString('base64'), rootDer.toString('base64')],
      client: {
        subject: clientSubject,
        issuerdn: m['tls.issuerdn'],
        serial: m['tls.client.serial'],
        fingerprint: sha1Colon(clientDer),
        notbefore: m['tls.client.notbefore'],
        notafter: m['tls.client.notafter'],
        certificate: clientDer.toString('base64'),
        chain: [clientDer.toString('base64'), rootDer.toString('base64')],
      },
    },
  };
  // The expected server fingerprint really is the SHA-1 of the certificate from the pcap.
  assert.equal(sha1Colon(serverDer), m['tls.fingerprint']);
  const file = join(dir, 'eve.json');
  writeFileSync(
    file,
    `${JSON.stringify({ timestamp: '2018-04-14T22:55:27.000000+0200', event_type: 'flow', flow_id: 1 })}\n${JSON.stringify(eve)}\n`,
  );
  const { obs, diagnostics } = await read(file);
  assert.deepEqual(
    diagnostics.kept.map((d) => d.reason),
    ['ignored-event-type'],
  );
  assert.equal(obs.length, 1);
  const o = obs[0];
  assert.equal(o.ts, Date.UTC(2018, 3, 14, 20, 55, 30, 123));
  assert.equal(o.record_id, '1306640469441183');
  assert.equal(o.tls_version, 'TLS 1.2');
  assert.equal(o.sni, 'localhost');
  assert.equal(o.destination_port, 4433);
  assert.deepEqual(o.server_certificate, {
    subject: 'C=HU, ST=Budapest, L=Budapest, O=TLSClientAuthSampleServer, CN=SampleServer',
    issuer: 'C=HU, ST=Budapest, L=Budapest, O=TLSClientAuthSampleCA, CN=SampleRoot',
    dn_syntax: 'wire-order',
    serial: '00:C7:D4:28:8B:80:E0:1E:25',
    serial_format: 'hex',
    sha1: '06:39:f9:5d:fe:81:53:c4:9d:f0:ac:80:3e:2d:42:07:e8:96:de:09',
    not_before: '2018-04-14T20:55:27.000Z',
    not_after: '2018-05-14T20:55:27.000Z',
    san_dns: ['localhost'],
    san_email: [],
    san_uri: [],
    san_ip: [],
    pem: serverDer.toString('base64'),
  });
  assert.equal(o.client_certificate_visibility, 'present');
  assert.equal(o.client_certificate?.serial, '00:C7:D4:28:8B:80:E0:1E:27');
  assert.equal(o.client_certificate?.subject, 'C=HU, ST=Budapest, L=Budapest, O=TLSClientAuthSampleClient, CN=SampleClientJane');
  assert.equal(o.client_certificate?.not_before, '2018-04-14T20:55:27.000Z');
  assert.equal(o.client_certificate?.not_after, '2018-05-14T20:55:27.000Z');
  assert.equal(o.client_certificate?.pem, clientDer.toString('base64'));
  assert.deepEqual(o.client_chain, [{ pem: rootDer.toString('base64') }]);
  // The logged body parses and matches the logged serial.
  assert.equal(new X509Certificate(Buffer.from(o.client_certificate?.pem ?? '', 'base64')).serialNumber, 'C7D4288B80E01E27');
});
