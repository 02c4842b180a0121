// Unit tests for the Zeek conn.log byte join: TSV and JSON conn logs, the TLS filter (`service`
// has `ssl`), payload vs IP byte counts, unset and bad values (file:line:field diagnostics), the
// capped FIFO store and its eviction warning, and detection against the ssl/x509 sources.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagList, feed } from '../../../tests/sources/feed.ts';
import { Diagnostics } from '../../diagnostics.ts';
import { existingZeekConnStore, isTlsService, zeekConnSource, zeekConnStore } from './conn.ts';
import { zeekSslSource, zeekX509Source } from './source.ts';

const HDR = ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-'];
const CONN_FIELDS =
  'ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\torig_ip_bytes\tresp_ip_bytes\ttunnel_parents';
const CONN_TYPES =
  'time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tcount\tcount\tset[string]';
const connHeader = [...HDR, '#path\tconn', `#fields\t${CONN_FIELDS}`, `#types\t${CONN_TYPES}`];
/** One conn row: uid, service, orig_bytes, resp_bytes, orig_ip_bytes, resp_ip_bytes. */
const conn = (uid: string, service: string, ob: string, rb: string, oib: string, rib: string) =>
  `1767603600.0\t${uid}\t10.0.0.2\t50000\t10.0.0.9\t443\ttcp\t${service}\t1.5\t${ob}\t${rb}\tSF\t${oib}\t${rib}\t-`;

const sslHeader = [
  ...HDR,
  '#path\tssl',
  '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\testablished',
  '#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tbool',
];
const ssl = (uid: string) => `1767603600.0\t${uid}\t10.0.0.2\t50000\t10.0.0.9\t443\tTLSv12\tT`;

/** Feeds a conn log then an ssl log with these uids through one shared state; returns uid → bytes. */
function join(connLines: string[], uids: string[], shared = new Map()) {
  const c = feed(zeekConnSource, connLines, { shared, file: 'conn.log' });
  const s = feed(zeekSslSource, [...sslHeader, ...uids.map(ssl)], { shared, file: 'ssl.log' });
  assert.deepEqual(diagList(s.diagnostics), []);
  return { conn: c, bytes: Object.fromEntries(s.observations.map((o) => [o.record_id, o.bytes])) };
}

test('TSV: TLS connections get orig_bytes + resp_bytes; non-TLS and missing conn lines leave bytes unknown', () => {
  const lines = [
    ...connHeader,
    conn('C1', 'ssl', '100', '2000', '150', '2100'),
    conn('C2', 'xmpp,ssl', '676', '4678', '1676', '5442'),
    conn('C3', 'http', '10', '20', '30', '40'),
    conn('C4', '-', '10', '20', '30', '40'),
  ];
  const { conn: c, bytes } = join(lines, ['C1', 'C2', 'C3', 'C4', 'Cmissing']);
  assert.deepEqual(diagList(c.diagnostics), []);
  assert.equal(c.observations.length, 0);
  assert.deepEqual(c.counts, { records: 4, ignored: 2 });
  // `undefined` = unknown: the Observation has no bytes, which normalize turns into null, never 0.
  assert.deepEqual(bytes, { C1: 2100, C2: 5354, C3: undefined, C4: undefined, Cmissing: undefined });
});

test('unset payload counts fall back to the IP-level counts, never a mix; all unset = unknown', () => {
  const lines = [
    ...connHeader,
    conn('Cpay', 'ssl', '0', '0', '120', '80'),
    conn('Cip', 'ssl', '-', '-', '300', '400'),
    conn('Chalf', 'ssl', '500', '-', '600', '700'),
    conn('Cnone', 'ssl', '-', '-', '-', '-'),
    conn('Conlyone', 'ssl', '-', '-', '600', '-'),
  ];
  const { conn: c, bytes } = join(lines, ['Cpay', 'Cip', 'Chalf', 'Cnone', 'Conlyone']);
  assert.deepEqual(diagList(c.diagnostics), []);
  // A real zero payload (handshake only, counted by Zeek) is 0 bytes, not unknown.
  assert.deepEqual(bytes, { Cpay: 0, Cip: 700, Chalf: 1300, Cnone: undefined, Conlyone: undefined });
});

test('bad byte counts warn with file:line:field and leave that connection unknown', () => {
  const lines = [
    ...connHeader,
    conn('Cbad', 'ssl', '12x', '5', '1', '1'),
    conn('Cneg', 'ssl', '1', '2', '-3', '4'),
    conn('Cok', 'ssl', '1', '2', '3', '4'),
  ];
  const { conn: c, bytes } = join(lines, ['Cbad', 'Cneg', 'Cok']);
  const base = connHeader.length;
  assert.deepEqual(diagList(c.diagnostics), [
    `warning:wrong-type@${base + 1}:orig_bytes`,
    `warning:wrong-type@${base + 2}:orig_ip_bytes`,
  ]);
  assert.ok(c.diagnostics.kept.every((d) => d.file === 'conn.log'));
  assert.match(c.diagnostics.kept[0].message, /12x/);
  assert.deepEqual(bytes, { Cbad: undefined, Cneg: undefined, Cok: 3 });
});

test('JSON conn log: absent keys are unset, service array or string, bad JSON and bad numbers diagnosed', () => {
  const lines = [
    JSON.stringify({
      ts: 1767603600.1,
      uid: 'J1',
      'id.orig_h': '10.0.0.2',
      proto: 'tcp',
      service: 'ssl',
      orig_bytes: 10,
      resp_bytes: 32,
      conn_state: 'SF',
      orig_ip_bytes: 100,
      resp_ip_bytes: 200,
    }),
    // No orig_bytes/resp_bytes keys (Zeek omits unset fields): the IP counts are used.
    JSON.stringify({
      ts: 1767603600.2,
      uid: 'J2',
      id: { orig_h: '10.0.0.3' },
      proto: 'tcp',
      service: ['smtp', 'ssl'],
      conn_state: 'S1',
      orig_ip_bytes: 40,
      resp_ip_bytes: 60,
    }),
    // No service key: not TLS.
    JSON.stringify({
      ts: 1767603600.3,
      uid: 'J3',
      'id.orig_h': '10.0.0.4',
      proto: 'udp',
      conn_state: 'S0',
      orig_bytes: 1,
      resp_bytes: 1,
    }),
    '{"uid": "J4", "service": "ssl", truncated',
    JSON.stringify({
      ts: 1767603600.5,
      uid: 'J5',
      'id.orig_h': '10.0.0.5',
      proto: 'tcp',
      service: 'ssl',
      conn_state: 'SF',
      orig_bytes: 1.5,
      resp_bytes: 2,
    }),
  ];
  const { conn: c, bytes } = join(lines, ['J1', 'J2', 'J3', 'J4', 'J5']);
  assert.deepEqual(diagList(c.diagnostics), ['error:invalid-json@4', 'warning:wrong-type@5:orig_bytes']);
  assert.deepEqual(c.counts, { records: 5, ignored: 1 });
  assert.deepEqual(bytes, { J1: 42, J2: 100, J3: undefined, J4: undefined, J5: undefined });
});

test('the store is capped: the oldest TLS connection is evicted first, counted and warned about', () => {
  const shared = new Map();
  const store = zeekConnStore(shared, 2);
  const lines = [
    ...connHeader,
    conn('E1', 'ssl', '1', '1', '1', '1'),
    conn('E2', 'ssl', '2', '2', '2', '2'),
    conn('Ehttp', 'http', '9', '9', '9', '9'),
    conn('E3', 'ssl', '3', '3', '3', '3'),
  ];
  const { conn: c, bytes } = join(lines, ['E1', 'E2', 'E3'], shared);
  assert.equal(store.evicted, 1);
  assert.deepEqual([...store.bytes.keys()], ['E2', 'E3']);
  assert.deepEqual(bytes, { E1: undefined, E2: 4, E3: 6 });
  assert.deepEqual(diagList(c.diagnostics), ['warning:zeek-conn-evicted@-']);
  assert.match(c.diagnostics.kept[0].message, /^1 TLS connection\(s\) evicted .*cap 2/);
  // A second conn file warns about its own evictions only.
  const again = feed(zeekConnSource, [...connHeader, conn('E2', 'ssl', '5', '5', '5', '5')], { shared, file: 'conn2.log' });
  assert.deepEqual(diagList(again.diagnostics), []);
  assert.equal(store.bytes.get('E2'), 10);
});

test('without any conn log the ssl parser creates no store and sets no bytes', () => {
  const shared = new Map();
  const s = feed(zeekSslSource, [...sslHeader, ssl('C1')], { shared });
  assert.equal(s.observations[0].bytes, undefined);
  assert.equal(existingZeekConnStore(shared), null);
});

test('a conn log without service or byte columns, a TLS record without uid, a non-conn log', () => {
  const noService = feed(zeekConnSource, [
    ...HDR,
    '#path\tconn',
    '#fields\tts\tuid\tid.orig_h\tconn_state\torig_bytes\tresp_bytes',
    '1.0\tC1\t1.1.1.1\tSF\t1\t2',
    '2.0\tC2\t1.1.1.1\tSF\t1\t2',
  ]);
  assert.deepEqual(diagList(noService.diagnostics), ['warning:missing-field@7:service']);
  assert.deepEqual(noService.counts, { records: 2, ignored: 2 });

  const noBytes = feed(zeekConnSource, [
    'uid\tid.orig_h\tid.resp_h\tid.resp_p\tservice\thistory',
    'C1\t1.1.1.1\t2.2.2.2\t443\tssl\tShADadfF',
    'C2\t1.1.1.1\t2.2.2.2\t443\tssl\tShADadfF',
  ]);
  assert.deepEqual(diagList(noBytes.diagnostics), ['warning:missing-field@2:orig_bytes']);

  const noUid = feed(zeekConnSource, [...connHeader, conn('-', 'ssl', '1', '2', '3', '4')]);
  assert.deepEqual(diagList(noUid.diagnostics), [`error:missing-field@${connHeader.length + 1}:uid`]);

  const other = feed(zeekConnSource, [
    ...HDR,
    '#path\tdns',
    '#fields\tts\tuid\tid.orig_h\tquery',
    '1.0\tC1\t1.1.1.1\ta.example',
    '2.0\tC2\t1.1.1.1\tb.example',
  ]);
  assert.deepEqual(diagList(other.diagnostics), ['warning:unsupported-zeek-log@7']);
  assert.deepEqual(other.counts, { records: 2, ignored: 2 });

  const columns = feed(zeekConnSource, [...connHeader, 'too\tfew']);
  assert.deepEqual(diagList(columns.diagnostics), [`error:zeek-column-count@${connHeader.length + 1}`]);
});

test('isTlsService matches the ssl analyzer as a whole token only', () => {
  assert.deepEqual(['ssl', 'xmpp,ssl', 'SSL', ' ssl', 'sslx', 'http', '', '-'].map(isTlsService), [
    true,
    true,
    true,
    true,
    false,
    false,
    false,
    false,
  ]);
  assert.equal(isTlsService(['http', 'ssl']), true);
  assert.equal(isTlsService(null), false);
});

test('detection: conn logs go to zeek-conn, ssl and x509 logs do not', () => {
  const d = (lines: string[]) =>
    [zeekConnSource, zeekSslSource, zeekX509Source].map((s) => s.detect({ name: 'x', firstLines: lines }));
  assert.deepEqual(d(connHeader), [1, 0, 0]);
  assert.deepEqual(d([`#fields\t${CONN_FIELDS}`]), [0.95, 0, 0]);
  assert.deepEqual(
    d(['uid\tid.orig_h\tid.resp_h\tid.resp_p\tservice\thistory', 'C1\t1.1.1.1\t2.2.2.2\t80\t-\tShA']),
    [0.8, 0, 0],
  );
  assert.deepEqual(
    d([
      JSON.stringify({ ts: 1, uid: 'C1', 'id.orig_h': '1.1.1.1', proto: 'tcp', service: 'ssl', conn_state: 'SF', orig_bytes: 1 }),
    ]),
    [0.95, 0, 0],
  );
  assert.equal(d(sslHeader)[0], 0);
  assert.equal(d([JSON.stringify({ ts: 1, uid: 'C', 'id.orig_h': '1.1.1.1', version: 'TLSv12', established: true })])[0], 0);
  assert.equal(d([JSON.stringify({ '@timestamp': 'x', tls: {} })])[0], 0);
});

test('diagnostics from one Diagnostics object keep conn and ssl files apart', () => {
  const diagnostics = new Diagnostics();
  const shared = new Map();
  feed(zeekConnSource, [...connHeader, conn('C1', 'ssl', 'x', '1', '1', '1')], { shared, diagnostics, file: 'a/conn.log' });
  feed(zeekSslSource, [...sslHeader, ssl('C1')], { shared, diagnostics, file: 'a/ssl.log' });
  assert.deepEqual(
    diagnostics.kept.map((k) => `${k.file}:${k.line}:${k.field}`),
    [`a/conn.log:${connHeader.length + 1}:orig_bytes`],
  );
});
