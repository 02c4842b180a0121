// Unit tests for the Zeek source on hand-written logs: TSV headers (repeated mid-file),
// escapes, (empty) and -, JSON logs, the x509 join (new fingerprints and old fuids), and the
// client-certificate visibility rules.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagList, feed } from '../../../tests/sources/feed.ts';
import { zeekSslSource, zeekX509Source, zeekX509Store } from './source.ts';

const HDR = ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-'];
const SSL_FIELDS =
  'ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\tserver_name\testablished\tcert_chain_fps\tclient_cert_chain_fps\tja3\tja4';
const SSL_TYPES =
  'time\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tbool\tvector[string]\tvector[string]\tstring\tstring';
const X509_FIELDS =
  'ts\tfingerprint\tcertificate.serial\tcertificate.subject\tcertificate.issuer\tcertificate.not_valid_before\tcertificate.not_valid_after\tcertificate.key_type\tcertificate.key_length\tcertificate.curve\tsan.dns\tsan.email\tbasic_constraints.ca\thost_cert\tclient_cert';
const X509_TYPES =
  'time\tstring\tstring\tstring\tstring\ttime\ttime\tstring\tcount\tstring\tvector[string]\tvector[string]\tbool\tbool\tbool';
const FP_LEAF = 'aa'.repeat(32);
const FP_CA = 'bb'.repeat(32);
const FP_SRV = 'cc'.repeat(32);

const sslHeader = [...HDR, '#path\tssl', '#open\t2026-01-05-09-00-00', `#fields\t${SSL_FIELDS}`, `#types\t${SSL_TYPES}`];
const x509Log = [
  ...HDR,
  '#path\tx509',
  `#fields\t${X509_FIELDS}`,
  `#types\t${X509_TYPES}`,
  `1767603600.000000\t${FP_LEAF}\t0A1B\tCN=alice\\x09tab,O=Example\tCN=Example CA\t1767225600.000000\t1798761600.000000\tecdsa\t256\tprime256v1\t(empty)\talice@example.com\tF\tF\tT`,
  `1767603600.000000\t${FP_CA}\t01\tCN=Example CA\tCN=Example CA\t1767225600.000000\t1798761600.000000\trsa\t2048\t-\t-\t-\tT\tF\tF`,
];

test('x509 records fill the shared map and produce no observations', () => {
  const shared = new Map();
  const { observations, diagnostics, counts } = feed(zeekX509Source, x509Log, { shared });
  assert.equal(observations.length, 0);
  assert.deepEqual(diagList(diagnostics), []);
  assert.deepEqual(counts, { records: 2, ignored: 0 });
  const entry = zeekX509Store(shared).byFingerprint.get(FP_LEAF);
  assert.ok(entry);
  assert.deepEqual(entry.cert, {
    sha256: FP_LEAF,
    sha1: null,
    subject: 'CN=alice\ttab,O=Example',
    issuer: 'CN=Example CA',
    serial: '0A1B',
    serial_format: 'hex',
    not_before: '2026-01-01T00:00:00.000Z',
    not_after: '2027-01-01T00:00:00.000Z',
    san_dns: [],
    san_email: ['alice@example.com'],
    san_uri: [],
    san_ip: [],
    key_algorithm: 'ec',
    key_size: 256,
    key_curve: 'prime256v1',
    is_ca: false,
  });
  assert.equal(entry.client_cert, true);
  assert.equal(entry.host_cert, false);
  assert.equal(zeekX509Store(shared).byFingerprint.get(FP_CA)?.cert.is_ca, true);
});

test('ssl records join client and server chains against x509 and map connection fields', () => {
  const shared = new Map();
  feed(zeekX509Source, x509Log, { shared });
  const ssl = [
    ...sslHeader,
    `1767603600.123456\tCabc\t10.0.0.2\t50000\t10.0.0.9\t443\tTLSv12\tTLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\tapi.internal\tT\t${FP_SRV}\t${FP_LEAF},${FP_CA}\tja3hash\tt12d_ja4`,
  ];
  const { observations, diagnostics } = feed(zeekSslSource, ssl, { shared, file: 'ssl.log' });
  assert.deepEqual(diagList(diagnostics), []);
  const o = observations[0];
  assert.equal(o.ts, 1767603600123);
  assert.equal(o.record_id, 'Cabc');
  assert.equal(o.source_ip, '10.0.0.2');
  assert.equal(o.source_port, 50000);
  assert.equal(o.destination_ip, '10.0.0.9');
  assert.equal(o.destination_port, 443);
  assert.equal(o.tls_version, 'TLS 1.2');
  assert.equal(o.sni, 'api.internal');
  assert.equal(o.service, 'api.internal');
  assert.equal(o.outcome, 'success');
  assert.equal(o.ja3, 'ja3hash');
  assert.equal(o.ja4, 't12d_ja4');
  assert.equal(o.client_certificate_visibility, 'present');
  assert.equal(o.client_certificate?.subject, 'CN=alice\ttab,O=Example');
  assert.equal(o.client_chain?.[0]?.subject, 'CN=Example CA');
  // Not in x509.log: still identified by its fingerprint.
  assert.deepEqual(o.server_certificate, { sha256: FP_SRV });
});

test('visibility: empty client column in TLS 1.2 = absent; TLS 1.3 = not_visible; no column = not_visible', () => {
  const row = (version: string, clientFps: string) =>
    `1767603600.0\tC1\t10.0.0.2\t50000\t10.0.0.9\t443\t${version}\t-\t-\tT\t${FP_SRV}\t${clientFps}\t-\t-`;
  const { observations } = feed(zeekSslSource, [
    ...sslHeader,
    row('TLSv12', '(empty)'),
    row('TLSv12', '-'),
    row('TLSv13', '-'),
    row('-', '(empty)'),
  ]);
  assert.deepEqual(
    observations.map((o) => o.client_certificate_visibility),
    ['absent', 'absent', 'not_visible', 'not_visible'],
  );
  const noColumn = feed(zeekSslSource, [
    ...HDR,
    '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcert_chain_fps',
    `1.0\tC2\t1.1.1.1\t1\t2.2.2.2\t443\tTLSv12\t${FP_SRV}`,
  ]);
  assert.equal(noColumn.observations[0].client_certificate_visibility, 'not_visible');
});

test('headers repeated mid-file (concatenated logs) switch columns; canonicalised ts is kept as null with a warning', () => {
  const other = [
    ...HDR,
    '#path\tssl',
    '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tserver_name',
    '#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring',
  ];
  const lines = [
    ...sslHeader,
    `1.5\tC1\t10.0.0.2\t1\t10.0.0.9\t443\tTLSv12\t-\ta.example\tF\t-\t-\t-\t-`,
    '#close\t2026-01-05-10-00-00',
    ...other,
    'XXXXXXXXXX.XXXXXX\tC2\t10.0.0.3\t2\t10.0.0.9\t443\tTLSv13\tb.example',
  ];
  const { observations, diagnostics, counts } = feed(zeekSslSource, lines);
  assert.deepEqual(
    observations.map((o) => [o.record_id, o.sni, o.ts, o.outcome]),
    [
      ['C1', 'a.example', 1500, 'failure'],
      ['C2', 'b.example', null, 'unknown'],
    ],
  );
  assert.deepEqual(diagList(diagnostics), [`warning:bad-timestamp@${lines.length}:ts`]);
  assert.deepEqual(counts, { records: 2, ignored: 0 });
});

test('a record with the wrong number of columns is skipped; a bad port warns', () => {
  const lines = [...sslHeader, 'too\tfew', `1.0\tC1\t10.0.0.2\tnotaport\t10.0.0.9\t443\tTLSv12\t-\t-\tT\t-\t-\t-\t-`];
  const { observations, diagnostics } = feed(zeekSslSource, lines);
  assert.equal(observations.length, 1);
  assert.equal(observations[0].source_port, null);
  assert.deepEqual(diagList(diagnostics), [
    `error:zeek-column-count@${sslHeader.length + 1}`,
    `warning:wrong-type@${sslHeader.length + 2}:id.orig_p`,
  ]);
});

test('a non-TLS Zeek log is ignored with one warning', () => {
  const lines = [...HDR, '#path\tconn', '#fields\tts\tuid\tid.orig_h\tproto', '1.0\tC1\t1.1.1.1\ttcp', '2.0\tC2\t1.1.1.1\ttcp'];
  const { observations, diagnostics, counts } = feed(zeekSslSource, lines);
  assert.equal(observations.length, 0);
  assert.deepEqual(diagList(diagnostics), ['warning:unsupported-zeek-log@7']);
  assert.deepEqual(counts, { records: 2, ignored: 2 });
});

test('zeek-cut -m output (plain header line) is read', () => {
  const { observations } = feed(zeekSslSource, [
    'uid\tid.orig_h\tid.resp_h\tid.resp_p\tversion\tserver_name',
    'C1\t1.1.1.1\t2.2.2.2\t443\tTLSv12\tx.example',
  ]);
  assert.equal(observations[0].sni, 'x.example');
  assert.equal(observations[0].destination_port, 443);
});

test('Zeek JSON logs: flat dotted keys and nested id objects, x509 joined by fingerprint', () => {
  const shared = new Map();
  const x509 = JSON.stringify({
    ts: 1767603600.0,
    fingerprint: FP_LEAF,
    'certificate.subject': 'CN=bob',
    'certificate.serial': '0F',
    'certificate.not_valid_after': 1798761600.0,
    'san.dns': ['bob.example'],
  });
  feed(zeekX509Source, [x509], { shared });
  const flat = JSON.stringify({
    ts: 1767603600.5,
    uid: 'Cj1',
    'id.orig_h': '10.0.0.2',
    'id.orig_p': 5000,
    'id.resp_h': '10.0.0.9',
    'id.resp_p': 443,
    version: 'TLSv12',
    established: true,
    cert_chain_fps: [FP_SRV],
    client_cert_chain_fps: [FP_LEAF],
  });
  const nested = JSON.stringify({
    ts: '2026-01-05T09:00:00.500Z',
    uid: 'Cj2',
    id: { orig_h: '10.0.0.3', orig_p: 5001, resp_h: '10.0.0.9', resp_p: 443 },
    version: 'TLSv13',
    established: false,
    client_cert_chain_fps: [],
  });
  const { observations, diagnostics } = feed(zeekSslSource, [flat, nested], { shared });
  assert.deepEqual(diagList(diagnostics), []);
  assert.equal(observations[0].ts, 1767603600500);
  assert.equal(observations[0].client_certificate?.subject, 'CN=bob');
  assert.deepEqual(observations[0].client_certificate?.san_dns, ['bob.example']);
  assert.equal(observations[0].client_certificate?.not_after, '2027-01-01T00:00:00.000Z');
  assert.equal(observations[1].ts, Date.parse('2026-01-05T09:00:00.500Z'));
  assert.equal(observations[1].source_ip, '10.0.0.3');
  assert.equal(observations[1].source_port, 5001);
  assert.equal(observations[1].outcome, 'failure');
  assert.equal(observations[1].client_certificate_visibility, 'not_visible');
});

test('old Zeek: cert_chain_fuids / client_cert_chain_fuids joined to x509 by id; client_subject as a fallback', () => {
  const shared = new Map();
  feed(
    zeekX509Source,
    [
      ...HDR,
      '#path\tx509',
      '#fields\tts\tid\tcertificate.serial\tcertificate.subject\tcertificate.issuer',
      '1.0\tFclient1\t0A\tCN=carol\tCN=Old CA',
      '1.0\tFsrv1\t0B\tCN=server\tCN=Old CA',
    ],
    { shared },
  );
  const lines = [
    ...HDR,
    '#path\tssl',
    '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcert_chain_fuids\tclient_cert_chain_fuids\tclient_subject',
    '#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tvector[string]\tvector[string]\tstring',
    '2.0\tC1\t1.1.1.1\t1\t2.2.2.2\t443\tTLSv12\tFsrv1\tFclient1\tCN=carol',
    '3.0\tC2\t1.1.1.1\t1\t2.2.2.2\t443\tTLSv12\tFsrv1\tFunknown\tCN=dave',
    '4.0\tC3\t1.1.1.1\t1\t2.2.2.2\t443\tTLSv12\tFsrv1\t(empty)\t-',
  ];
  const { observations } = feed(zeekSslSource, lines, { shared });
  assert.equal(observations[0].client_certificate?.subject, 'CN=carol');
  assert.equal(observations[0].client_certificate?.serial, '0A');
  assert.equal(observations[0].server_certificate?.subject, 'CN=server');
  assert.equal(observations[1].client_certificate?.subject, 'CN=dave');
  assert.equal(observations[1].client_certificate_visibility, 'present');
  assert.equal(observations[2].client_certificate_visibility, 'absent');
});

test('detection: #path, #fields and JSON keys', () => {
  const d = (lines: string[]) => [
    zeekSslSource.detect({ name: 'x', firstLines: lines }),
    zeekX509Source.detect({ name: 'x', firstLines: lines }),
  ];
  assert.deepEqual(d(sslHeader), [1, 0]);
  assert.deepEqual(d(x509Log.slice(0, 7)), [0, 1]);
  assert.deepEqual(d([`#fields\t${SSL_FIELDS}`]), [0.95, 0]);
  assert.deepEqual(d([JSON.stringify({ ts: 1, uid: 'C', 'id.orig_h': '1.1.1.1', version: 'TLSv12' })]), [0.95, 0]);
  assert.deepEqual(d([JSON.stringify({ ts: 1, fingerprint: FP_LEAF, 'certificate.subject': 'CN=x' })]), [0, 0.95]);
  assert.deepEqual(d([JSON.stringify({ '@timestamp': 'x', tls: {} })]), [0, 0]);
});
