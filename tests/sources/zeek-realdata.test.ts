// Real-data conformance: every Zeek ssl*/x509* baseline log from Zeek's own test suite and from
// FoxIO's JA4 Zeek package parses with no error-level diagnostics, with record counts checked
// against an independent count of the data lines, plus spot checks of mapped values.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Diagnostics } from '../../src/diagnostics.ts';
import type { Observation } from '../../src/schema/event.ts';
import { type FileStats, readObservations } from '../../src/sources/read.ts';

const realdata = fileURLToPath(new URL('../../../shared/realdata/', import.meta.url));
const roots = [join(realdata, 'zeek/Baseline'), join(realdata, 'foxio-ja4/zeek/tests')];

function findLogs(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) findLogs(p, out);
    else if (/^(ssl|x509).*\.log$/.test(e.name)) out.push(p);
  }
  return out;
}

/** `zeek-cut` output without its header (`zeek-cut uid ssl_history`): no field names, not parseable by anyone. */
const HEADERLESS = new Set(['ssl-max-history-length-3.log', 'ssl-max-history-length-default.log']);

/** Data records counted independently: non-empty lines not starting with '#', minus a zeek-cut -m name line. */
function countRecords(path: string): number {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  const hasFieldsHeader = readFileSync(path, 'utf8').includes('\n#fields\t');
  return hasFieldsHeader ? lines.length : lines.length - 1;
}

async function read(files: string[]): Promise<{ obs: Observation[]; stats: FileStats[]; diagnostics: Diagnostics }> {
  const diagnostics = new Diagnostics();
  const stats: FileStats[] = [];
  const obs: Observation[] = [];
  for await (const b of readObservations(files, { diagnostics, onFile: (s) => stats.push(s) })) obs.push(...b);
  return { obs, stats, diagnostics };
}

const logs = roots.flatMap((r) => findLogs(r)).sort();

test('the real-data Zeek logs are all found', () => {
  assert.ok(logs.length >= 60, `found ${logs.length}`);
  assert.ok(logs.some((l) => l.includes('foxio-ja4')));
});

for (const path of logs) {
  const name = path.slice(realdata.length);
  if (HEADERLESS.has(basename(path))) {
    test(`${name}: header-less zeek-cut output is reported as unknown-format, not guessed`, async () => {
      const { obs, diagnostics } = await read([path]);
      assert.equal(obs.length, 0);
      assert.equal(diagnostics.counts.get('unknown-format'), 1);
    });
    continue;
  }
  test(`${name}: parses with exact record count and no errors`, async () => {
    const { obs, stats, diagnostics } = await read([path]);
    const errors = diagnostics.kept.filter((d) => d.level === 'error');
    assert.deepEqual(errors, []);
    // Warnings allowed: canonicalised `XXXXXXXXXX.XXXXXX` timestamps (and a zeek-cut extract with no ts column).
    for (const w of diagnostics.kept) assert.ok(['bad-timestamp', 'missing-timestamp'].includes(w.reason), w.reason);
    const own = stats.find((s) => s.file === path);
    assert.ok(own);
    const expected = countRecords(path);
    assert.equal(own.records, expected);
    assert.equal(own.skipped, 0);
    const isX509 = basename(path).startsWith('x509');
    assert.equal(own.format, isX509 ? 'zeek-x509' : 'zeek-ssl');
    const mine = obs.filter((o) => o.file === path);
    assert.equal(mine.length, isX509 ? 0 : expected);
    for (const o of mine) {
      assert.equal(o.format, 'zeek-ssl');
      assert.ok(o.record_id?.startsWith('C'), `uid ${o.record_id}`);
      assert.ok(o.client_certificate_visibility);
      if (o.ts === null)
        assert.ok(
          diagnostics.kept.some((d) => d.line === o.line),
          'a null ts is explained by a warning',
        );
    }
  });
}

const B = (p: string) => join(realdata, 'zeek/Baseline', p);

test('validate-certs/ssl-all.log: first record maps cert_chain_fps and shows no client certificate', async () => {
  const { obs } = await read([B('scripts.policy.protocols.ssl.validate-certs/ssl-all.log')]);
  assert.equal(obs.length, 5);
  const first = obs[0];
  assert.equal(first.record_id, 'CHhAvVGS1DHFjwGM9');
  assert.equal(first.source_ip, '192.168.4.149');
  assert.equal(first.destination_port, 443);
  assert.equal(first.tls_version, 'TLS 1.0');
  assert.equal(first.tls_cipher, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA');
  assert.equal(first.server_certificate?.sha256, '7920ebd7acfb8c3c569b83db76e7e61b8a0a5bcdf55bdee5519f838f73732173');
  assert.equal(first.client_certificate, undefined);
  assert.equal(first.client_certificate_visibility, 'absent');
  assert.equal(first.ts, null);
});

test('xmpp server-dialback-dpd: client_cert_chain_fps gives a client certificate and chain', async () => {
  const { obs } = await read([B('scripts.base.protocols.xmpp.server-dialback-dpd/ssl.log')]);
  assert.equal(obs.length, 1);
  assert.equal(obs[0].client_certificate_visibility, 'present');
  assert.equal(obs[0].client_certificate?.sha256, '573a503f5361eec2f4642c8b230212c5e8af96632bcd6904cef5771c6c56ebcf');
  assert.deepEqual(
    obs[0].client_chain?.map((c) => c.sha256),
    [
      '973a41276ffd01e027a2aad49e34c37846d3e976ff6a620b6712e33832041aa6',
      '3a2fbe92891e57fe05d57087f48e730f17e5a5f53ef403d618e5b74d7a7e6ecb',
      'c3846bf24b9e93ca64274c0ec67c1ecc5e024ffcacd2d74019350e81fe546ae4',
    ],
  );
  assert.equal(obs[0].server_certificate?.sha256, 'a9fe6fe31272268b3245c130a086531e056a8b463eae2b81200ca07def26a8a8');
});

test('dtls-stun-dpd: DTLS client certificate, subject taken from client_subject (no x509.log there)', async () => {
  const { obs } = await read([B('scripts.base.protocols.ssl.dtls-stun-dpd/ssl.log')]);
  const o = obs[0];
  assert.equal(o.tls_version, 'DTLS 1.0');
  assert.equal(o.client_certificate_visibility, 'present');
  assert.equal(o.client_certificate?.sha256, 'd0f7ee6396c98da4e74888006af667bfeaecc8cd1babb67e900558a9bd649b9f');
  assert.equal(o.client_certificate?.subject, 'CN=mantis.tokbox.com,O=Tokbox,L=San Francisco,ST=California,C=US');
  assert.equal(o.server_certificate?.subject, 'CN=a');
});

test('ssl.basic: the sibling x509.log is read first and joined by fingerprint', async () => {
  const { obs, stats } = await read([B('scripts.base.protocols.ssl.basic/ssl.log')]);
  assert.deepEqual(
    stats.map((s) => [basename(s.file), s.format, s.sibling]),
    [
      ['x509.log', 'zeek-x509', true],
      ['ssl.log', 'zeek-ssl', false],
    ],
  );
  const server = obs[0].server_certificate;
  assert.equal(server?.sha256, 'a580247a25324adf4add5af648de4ac5798030dfd622f26a5f2280d7528ae244');
  assert.equal(server?.subject, 'CN=*.gstatic.com,O=Google Inc,L=Mountain View,ST=California,C=US');
  assert.equal(server?.serial, '36F5DA5300000000505E');
  assert.equal(server?.not_before, '2012-04-11T00:04:37.000Z');
  assert.deepEqual(server?.san_dns, ['*.gstatic.com', 'gstatic.com', '*.metric.gstatic.com']);
  assert.equal(server?.key_algorithm, 'rsa');
  assert.equal(server?.key_size, 1024);
});

test('log-certs-base64 x509.log: the logged DER becomes the certificate body', async () => {
  const path = B('scripts.policy.protocols.ssl.log-certs-base64/x509.log');
  const { stats, diagnostics } = await read([path]);
  assert.equal(stats[0].records, 3);
  assert.deepEqual(diagnostics.kept, []);
});

test('FoxIO JA4 ssl.log: ja4 column, real epoch timestamps, TLS 1.3 client certificates not visible', async () => {
  const { obs, diagnostics } = await read([join(realdata, 'foxio-ja4/zeek/tests/Traces/Scripts.ja4-tls-handshake/ssl.log')]);
  assert.deepEqual(diagnostics.kept, []);
  const o = obs[0];
  assert.equal(o.ts, 1675707161245);
  assert.equal(o.sni, 'www.facebook.com');
  assert.equal(o.ja4, 'q13d0310h3_55b375c5d22e_cd85d2d88918');
  assert.equal(o.tls_version, 'TLS 1.3');
  assert.equal(o.client_certificate_visibility, 'not_visible');
  assert.ok(obs.every((x) => x.ts !== null && x.ja4));
});
