// Unit tests for the nginx JSON access-log source: the variable → Observation mapping, nginx's
// "-"/empty for unset variables, outcome and visibility rules, detection against ECS / Suricata /
// Zeek JSON, and bad lines as diagnostics with file:line:field. Certificates are real (pki.ts).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Diagnostics } from '../../../src/diagnostics.ts';
import { Normalizer } from '../../../src/normalize/normalize.ts';
import { nginxSource, parseTimeLocal } from '../../../src/sources/nginx/source.ts';
import { SOURCES } from '../../../src/sources/registry.ts';
import { createRootCA } from '../../helpers/pki.ts';
import { diagList, feed } from '../feed.ts';

/** A line as the documented log_format writes it: every value a string, unset ones empty. */
function line(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    time_iso8601: '2026-03-02T10:00:00+01:00',
    msec: '1772442000.250',
    request_id: 'abc123',
    remote_addr: '198.51.100.7',
    remote_port: '50211',
    remote_user: '',
    host: 'api.example.test',
    request: 'GET / HTTP/1.1',
    status: '200',
    bytes_sent: '1200',
    request_length: '300',
    http_user_agent: 'curl/8.5.0',
    ssl_protocol: 'TLSv1.3',
    ssl_cipher: 'TLS_AES_256_GCM_SHA384',
    ssl_server_name: 'gw.example.test',
    ssl_client_verify: 'NONE',
    ssl_client_s_dn: '',
    ssl_client_i_dn: '',
    ssl_client_serial: '',
    ssl_client_fingerprint: '',
    ssl_client_v_start: '',
    ssl_client_v_end: '',
    ssl_client_escaped_cert: '',
    ...fields,
  });
}

test('variables map onto the Observation; msec wins over time_iso8601 for precision', () => {
  const { observations, diagnostics, counts } = feed(nginxSource, [line()]);
  assert.deepEqual(diagList(diagnostics), []);
  assert.deepEqual(counts, { records: 1, ignored: 0 });
  const o = observations[0];
  assert.equal(o.ts, 1772442000250);
  assert.equal(o.format, 'nginx');
  assert.equal(o.record_id, 'abc123');
  assert.deepEqual([o.source_ip, o.source_port, o.user, o.device], ['198.51.100.7', 50211, undefined, undefined]);
  assert.deepEqual(
    [o.service, o.sni, o.tls_version, o.tls_cipher],
    ['gw.example.test', 'gw.example.test', 'TLS 1.3', 'TLS_AES_256_GCM_SHA384'],
  );
  assert.equal(o.bytes, 1500);
  assert.equal(o.outcome, 'success');
  assert.equal(o.client_certificate, undefined);
  assert.equal(o.client_certificate_visibility, 'absent');
  assert.equal(o.client_verify, 'NONE');
});

test('time falls back to time_iso8601, then time_local; remote_user becomes the account; host when no SNI', () => {
  const { observations, diagnostics } = feed(nginxSource, [
    line({ msec: '-', remote_user: 'bob', ssl_server_name: '' }),
    JSON.stringify({ time_local: '02/Mar/2026:10:00:00 +0100', remote_addr: '10.0.0.1', status: 200, request: 'GET /' }),
  ]);
  assert.deepEqual(diagList(diagnostics), []);
  assert.equal(observations[0].ts, Date.UTC(2026, 2, 2, 9, 0, 0));
  assert.equal(observations[0].user, 'bob');
  assert.equal(observations[0].service, 'api.example.test');
  assert.equal(observations[0].sni, null);
  assert.equal(observations[1].ts, Date.UTC(2026, 2, 2, 9, 0, 0));
  assert.equal(parseTimeLocal('31/Feb/2026:99:00:00 +0000'), null);
});

test('a log_format without ssl_client_* keys cannot see certificates: not_visible; unquoted numbers are fine', () => {
  const o = feed(nginxSource, [
    JSON.stringify({ time_iso8601: '2026-03-02T10:00:00Z', remote_addr: '10.0.0.1', status: 403, bytes_sent: 10 }),
  ]).observations[0];
  assert.equal(o.client_certificate_visibility, 'not_visible');
  assert.equal(o.outcome, 'failure');
  assert.equal(o.bytes, 10);
});

test('outcome: 401/403 fail, a rejected FAILED certificate fails, a served one succeeds with the reason kept', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ status: '401' }, 'failure'],
    [{ status: '403', ssl_client_verify: 'SUCCESS' }, 'failure'],
    [{ status: '400', ssl_client_verify: 'FAILED:certificate has expired' }, 'failure'],
    [{ status: '200', ssl_client_verify: 'FAILED:self-signed certificate' }, 'success'],
    [{ status: '304', ssl_client_verify: 'SUCCESS' }, 'success'],
    [{ status: '404' }, 'unknown'],
    [{ status: '502', ssl_client_verify: 'SUCCESS' }, 'unknown'],
    [{ status: '', ssl_client_verify: 'SUCCESS' }, 'success'],
    [{ status: '-', ssl_client_verify: 'FAILED:unable to get local issuer certificate' }, 'failure'],
  ];
  const { observations, diagnostics } = feed(
    nginxSource,
    cases.map(([f]) => line(f)),
  );
  assert.deepEqual(diagList(diagnostics), []);
  assert.deepEqual(
    observations.map((o) => o.outcome),
    cases.map(([, want]) => want),
  );
  assert.equal(observations[2].client_verify, 'FAILED:certificate has expired');
});

test('logged certificate fields: RFC 4514 DNs, hex serial, SHA-1; legacy slash DNs; a slash value in ssl_client_s_dn', () => {
  const { observations, diagnostics } = feed(nginxSource, [
    line({
      ssl_client_verify: 'SUCCESS',
      ssl_client_s_dn: 'CN=alice,O=Example',
      ssl_client_i_dn: 'CN=Issuing CA,O=Example',
      ssl_client_serial: '0A1B',
      ssl_client_fingerprint: '267F9AAA30357AAB56804210A415B8062B75AB14',
      ssl_client_v_start: 'Nov 24 18:38:48 2026 GMT',
      ssl_client_v_end: 'Nov 25 18:38:48 2027 GMT',
    }),
    JSON.stringify({
      msec: '1772442000.000',
      ssl_client_verify: 'SUCCESS',
      ssl_client_s_dn_legacy: '/O=Example/CN=alice',
      ssl_client_i_dn_legacy: '/O=Example/CN=Issuing CA',
    }),
    JSON.stringify({ msec: '1772442000.000', ssl_client_verify: 'SUCCESS', ssl_client_s_dn: '/O=Example/CN=alice' }),
  ]);
  assert.deepEqual(diagList(diagnostics), []);
  assert.deepEqual(observations[0].client_certificate, {
    subject: 'CN=alice,O=Example',
    issuer: 'CN=Issuing CA,O=Example',
    dn_syntax: 'rfc4514',
    serial: '0A1B',
    serial_format: 'hex',
    sha1: '267F9AAA30357AAB56804210A415B8062B75AB14',
    not_before: 'Nov 24 18:38:48 2026 GMT',
    not_after: 'Nov 25 18:38:48 2027 GMT',
  });
  assert.equal(observations[0].client_certificate_visibility, 'present');
  assert.equal(observations[1].client_certificate?.dn_syntax, 'slash');
  assert.equal(observations[2].client_certificate?.dn_syntax, 'slash');

  // Through normalize: the three spellings of one subject meet in one canonical DN and CN.
  const diags = new Diagnostics();
  const n = new Normalizer({ diagnostics: diags });
  const events = observations.map((o) => n.normalize(o)?.event);
  assert.deepEqual(diagList(diags), []);
  assert.deepEqual(
    events.map((e) => e?.certificate?.subject),
    ['CN=alice,O=Example', 'CN=alice,O=Example', 'CN=alice,O=Example'],
  );
  assert.deepEqual(
    [events[0]?.certificate?.serial, events[0]?.certificate?.sha1, events[0]?.certificate?.not_after],
    ['a1b', '267f9aaa30357aab56804210a415b8062b75ab14', '2027-11-25T18:38:48.000Z'],
  );
  assert.equal(events[0]?.user, 'alice');
  assert.equal(events[0]?.user_from, 'certificate');
  assert.equal(events[0]?.tls.client_verify, 'SUCCESS');
});

test('the escaped PEM is the certificate: normalize computes SHA-256, SANs and the account from it', async () => {
  const ca = await createRootCA();
  const leaf = await ca.issue({ subject: 'CN=alice, O=Example', email: ['alice@example.test'] });
  // nginx escapes the PEM like this: spaces and newlines percent-encoded, base64's + and / too.
  const escaped = leaf.pem
    .replace(/\r?\n/g, '\n')
    .replace(/[ \n+/=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  const { observations } = feed(nginxSource, [
    line({ ssl_client_verify: 'SUCCESS', ssl_client_escaped_cert: escaped, ssl_client_serial: leaf.serial.toUpperCase() }),
  ]);
  const diags = new Diagnostics();
  const event = new Normalizer({ diagnostics: diags }).normalize(observations[0])?.event;
  assert.deepEqual(diagList(diags), []);
  assert.equal(event?.certificate?.source, 'der');
  assert.equal(event?.certificate?.sha256, createHash('sha256').update(leaf.der).digest('hex'));
  assert.equal(event?.user, 'alice@example.test');
  assert.equal(event?.user_from, 'certificate');
  assert.equal(event?.certificate_visibility, 'present');
});

test('bad JSON, wrong types and bad or missing times are diagnosed with file:line:field', () => {
  const lines = [
    '{"msec":"1772442000.0", broken',
    '["not","an","object"]',
    line({ msec: 'yesterday', time_iso8601: 'not a time' }),
    JSON.stringify({ remote_addr: '10.0.0.1', status: '200' }),
    line({ remote_port: '99999', status: 'abc', bytes_sent: { n: 1 }, remote_addr: ['10.0.0.1'], ssl_client_verify: true }),
    '',
  ];
  const { observations, diagnostics, counts } = feed(nginxSource, lines, { file: 'gw/access.log' });
  assert.equal(observations.length, 1);
  assert.deepEqual(counts, { records: 5, ignored: 0 });
  assert.equal(diagnostics.skippedRecords, 4);
  assert.deepEqual(diagList(diagnostics), [
    'error:invalid-json@1',
    'error:invalid-json@2',
    'error:bad-timestamp@3:msec',
    'error:missing-timestamp@4:time_iso8601',
    'warning:wrong-type@5:remote_addr',
    'warning:wrong-type@5:remote_port',
    'warning:wrong-type@5:ssl_client_verify',
    'warning:wrong-type@5:status',
    'warning:wrong-type@5:bytes_sent',
  ]);
  assert.ok(diagnostics.kept.every((d) => d.file === 'gw/access.log'));
  const o = observations[0];
  // The record is kept; the bad fields are absent, the good ones still read.
  assert.deepEqual([o.source_ip, o.source_port, o.outcome, o.bytes, o.client_verify], [null, null, 'unknown', 300, undefined]);
});

test('detection claims nginx variable logs and never ECS, Suricata or Zeek JSON', () => {
  const pick = (firstLines: string[]) => {
    let best = { id: '', score: 0 };
    for (const s of SOURCES) {
      const score = s.detect({ name: 'access.log', firstLines });
      if (score > best.score) best = { id: s.id, score };
    }
    return best.id;
  };
  assert.equal(pick([line()]), 'nginx');
  assert.ok(nginxSource.detect({ name: 'x', firstLines: [line()] }) >= 0.9);
  // A minimal log_format without TLS variables is still nginx.
  assert.equal(
    pick([JSON.stringify({ time_iso8601: '2026-03-02T10:00:00Z', remote_addr: '10.0.0.1', status: '200', request: 'GET /' })]),
    'nginx',
  );
  const ecs = JSON.stringify({
    '@timestamp': '2026-03-02T10:00:00Z',
    source: { ip: '10.0.0.1' },
    tls: { version: '1.3' },
    event: { outcome: 'success' },
    status: '200',
    remote_addr: 'x',
    msec: '1',
  });
  const ecsDotted = JSON.stringify({
    '@timestamp': '2026-03-02T10:00:00Z',
    'source.ip': '10.0.0.1',
    'url.domain': 'x',
    request: 'GET /',
    status: 200,
    msec: '1',
  });
  const eve = JSON.stringify({
    timestamp: '2026-03-02T10:00:00+0000',
    flow_id: 1,
    event_type: 'tls',
    src_ip: '10.0.0.1',
    tls: { sni: 'x' },
  });
  const zeek = JSON.stringify({ ts: 1772442000, uid: 'C1', 'id.orig_h': '10.0.0.1', version: 'TLSv12' });
  for (const l of [ecs, ecsDotted, eve, zeek]) assert.equal(nginxSource.detect({ name: 'x', firstLines: [l] }), 0, l);
  assert.equal(pick([ecs]), 'ecs');
  assert.equal(pick([eve]), 'suricata-eve');
  // A generic JSON app log with a couple of nginx-like keys is not claimed.
  assert.equal(
    nginxSource.detect({
      name: 'x',
      firstLines: [JSON.stringify({ time_iso8601: 'x', status: 1, level: 'info', msg: 'a', app: 'b', pid: 1, thread: 't' })],
    }),
    0,
  );
});
