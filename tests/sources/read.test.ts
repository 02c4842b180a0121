// End-to-end tests of readObservations: detection, phase order, Zeek sibling x509 logs (plain
// and rotated), --format, per-file stats, progress, and bad input of every kind (unknown
// format, missing file, truncated gzip, 10 MB line, stdin in a child process).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Diagnostics } from '../../src/diagnostics.ts';
import { CertsignalError } from '../../src/errors.ts';
import type { Observation } from '../../src/schema/event.ts';
import { detectFormat, type FileStats, listFormats, type ReadOptions, readObservations } from '../../src/sources/read.ts';

const root = mkdtempSync(join(tmpdir(), 'certsignal-read-'));
let n = 0;
const fresh = () => {
  const d = join(root, `case${n++}`);
  mkdirSync(d);
  return d;
};

const ecsLine = (i: number) =>
  JSON.stringify({
    '@timestamp': new Date(Date.UTC(2026, 0, 5, 9, 0, i)).toISOString(),
    ecs: { version: '8.11.0' },
    user: { name: `u${i}` },
  });
const HDR = ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-'];
const FP = 'ab'.repeat(32);
const x509Lines = [
  ...HDR,
  '#path\tx509',
  '#fields\tts\tfingerprint\tcertificate.subject',
  '#types\ttime\tstring\tstring',
  `1.0\t${FP}\tCN=joined`,
];
const sslLines = [
  ...HDR,
  '#path\tssl',
  '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcert_chain_fps\tclient_cert_chain_fps',
  '#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tvector[string]\tvector[string]',
  `2.0\tC1\t10.0.0.1\t1000\t10.0.0.2\t443\tTLSv12\t-\t${FP}`,
];

async function run(inputs: string[], options: Partial<ReadOptions> = {}) {
  const diagnostics = options.diagnostics ?? new Diagnostics();
  const stats: FileStats[] = [];
  const obs: Observation[] = [];
  for await (const b of readObservations(inputs, { ...options, diagnostics, onFile: (s) => stats.push(s) })) obs.push(...b);
  return { obs, stats, diagnostics };
}

test('formats are listed with their phase', () => {
  const ids = listFormats().map((f) => `${f.id}:${f.phase}`);
  assert.deepEqual(ids.sort(), [
    'adcs:1',
    'ca-csv:1',
    'ecs:1',
    'envoy:1',
    'mdm-csv:1',
    'mdm-json:1',
    'nginx:1',
    'step-ca:1',
    'suricata-eve:1',
    'vault-audit:1',
    'zeek-conn:0',
    'zeek-ssl:1',
    'zeek-x509:0',
  ]);
});

test('detectFormat tells each format apart, gz included', async () => {
  const d = fresh();
  writeFileSync(join(d, 'a.ndjson.gz'), gzipSync(`${ecsLine(1)}\n`));
  writeFileSync(
    join(d, 'eve.json'),
    `${JSON.stringify({ timestamp: '2026-01-05T10:00:00+0000', flow_id: 1, event_type: 'tls', src_ip: '1.1.1.1' })}\n`,
  );
  writeFileSync(join(d, 'ssl.log'), `${sslLines.join('\n')}\n`);
  writeFileSync(join(d, 'x509.log'), `${x509Lines.join('\n')}\n`);
  writeFileSync(join(d, 'notes.txt'), 'hello world\n');
  assert.equal(await detectFormat(join(d, 'a.ndjson.gz')), 'ecs');
  assert.equal(await detectFormat(join(d, 'eve.json')), 'suricata-eve');
  assert.equal(await detectFormat(join(d, 'ssl.log')), 'zeek-ssl');
  assert.equal(await detectFormat(join(d, 'x509.log')), 'zeek-x509');
  assert.equal(await detectFormat(join(d, 'notes.txt')), null);
});

test('x509 files are read before ssl files whatever the argument order', async () => {
  const d = fresh();
  writeFileSync(join(d, 'conn-ssl.log'), `${sslLines.join('\n')}\n`);
  writeFileSync(join(d, 'certs.log'), `${x509Lines.join('\n')}\n`);
  const { obs, stats } = await run([join(d, 'conn-ssl.log'), join(d, 'certs.log')]);
  assert.deepEqual(
    stats.map((s) => s.format),
    ['zeek-x509', 'zeek-ssl'],
  );
  assert.equal(obs[0].client_certificate?.subject, 'CN=joined');
});

test('sibling x509: rotated ssl.<suffix>.log.gz finds x509.<suffix>.log.gz; plain x509.log is the fallback', async () => {
  const d = fresh();
  const suffix = '.2024-01-01-00-00-00';
  writeFileSync(join(d, `ssl${suffix}.log.gz`), gzipSync(`${sslLines.join('\n')}\n`));
  writeFileSync(join(d, `x509${suffix}.log.gz`), gzipSync(`${x509Lines.join('\n')}\n`));
  writeFileSync(join(d, 'x509.log'), `${x509Lines.join('\n').replace('CN=joined', 'CN=wrong-file')}\n`);
  const { obs, stats } = await run([join(d, `ssl${suffix}.log.gz`)]);
  assert.deepEqual(
    stats.map((s) => [s.file.slice(d.length + 1), s.sibling]),
    [
      [`x509${suffix}.log.gz`, true],
      [`ssl${suffix}.log.gz`, false],
    ],
  );
  assert.equal(obs[0].client_certificate?.subject, 'CN=joined');

  const e = fresh();
  writeFileSync(join(e, 'ssl.log'), `${sslLines.join('\n')}\n`);
  writeFileSync(join(e, 'x509.json'), `${JSON.stringify({ ts: 1, fingerprint: FP, 'certificate.subject': 'CN=from-json' })}\n`);
  const r2 = await run([join(e, 'ssl.log')]);
  assert.equal(r2.obs[0].client_certificate?.subject, 'CN=from-json');
});

test('no sibling lookup when an x509 log was given', async () => {
  const d = fresh();
  writeFileSync(join(d, 'ssl.log'), `${sslLines.join('\n')}\n`);
  writeFileSync(join(d, 'x509.log'), `${x509Lines.join('\n')}\n`);
  const other = fresh();
  writeFileSync(join(other, 'mine.log'), `${x509Lines.join('\n').replace('CN=joined', 'CN=given')}\n`);
  const { obs, stats } = await run([join(d, 'ssl.log'), join(other, 'mine.log')]);
  assert.equal(stats.length, 2);
  assert.equal(obs[0].client_certificate?.subject, 'CN=given');
});

test('unknown format and missing file are diagnosed; the other files are still read', async () => {
  const d = fresh();
  writeFileSync(join(d, 'good.ndjson'), `${ecsLine(1)}\n${ecsLine(2)}\n`);
  writeFileSync(join(d, 'mystery.csv'), 'a,b,c\n1,2,3\n');
  const { obs, stats, diagnostics } = await run([join(d, 'mystery.csv'), join(d, 'missing.log'), join(d, 'good.ndjson')]);
  assert.equal(obs.length, 2);
  assert.deepEqual(
    diagnostics.kept.map((k) => [k.reason, k.file]),
    [
      ['unknown-format', join(d, 'mystery.csv')],
      ['file-unreadable', join(d, 'missing.log')],
    ],
  );
  assert.deepEqual(
    stats.map((s) => [s.format, s.observations]),
    [
      [null, 0],
      [null, 0],
      ['ecs', 2],
    ],
  );
});

test('--format overrides detection; an unknown --format is a usage error', async () => {
  const d = fresh();
  // Starts with a line no detector recognises, then ECS records.
  writeFileSync(join(d, 'odd.log'), `garbage first line\n${ecsLine(1)}\n`);
  const forced = await run([join(d, 'odd.log')], { format: 'ecs' });
  assert.equal(forced.obs.length, 1);
  assert.deepEqual(
    forced.diagnostics.kept.map((k) => [k.reason, k.line]),
    [['invalid-json', 1]],
  );
  await assert.rejects(
    run([join(d, 'odd.log')], { format: 'nginx-ish' }),
    (err: unknown) => err instanceof CertsignalError && err.code === 'E_USAGE' && /known: /.test(err.message),
  );
});

test('`--format zeek` picks ssl or x509 per file', async () => {
  const d = fresh();
  writeFileSync(join(d, 'a.log'), `${sslLines.join('\n')}\n`);
  writeFileSync(join(d, 'b.log'), `${x509Lines.join('\n')}\n`);
  const { stats, obs } = await run([join(d, 'a.log'), join(d, 'b.log')], { format: 'zeek' });
  assert.deepEqual(
    stats.map((s) => s.format),
    ['zeek-x509', 'zeek-ssl'],
  );
  assert.equal(obs[0].client_certificate?.subject, 'CN=joined');
});

test('a 10 MB line is skipped with its line number; the rest of the file still yields', async () => {
  const d = fresh();
  const big = JSON.stringify({ '@timestamp': '2026-01-05T09:00:00Z', pad: 'x'.repeat(10 * 1024 * 1024) });
  writeFileSync(join(d, 'big.ndjson'), `${ecsLine(1)}\n${big}\n${ecsLine(3)}\n`);
  const { obs, stats, diagnostics } = await run([join(d, 'big.ndjson')]);
  assert.deepEqual(
    obs.map((o) => [o.user, o.line]),
    [
      ['u1', 1],
      ['u3', 3],
    ],
  );
  assert.deepEqual(
    diagnostics.kept.map((k) => [k.reason, k.file, k.line]),
    [['line-too-long', join(d, 'big.ndjson'), 2]],
  );
  assert.deepEqual(stats[0], {
    file: join(d, 'big.ndjson'),
    format: 'ecs',
    lines: 3,
    records: 3,
    observations: 2,
    skipped: 1,
    ignored: 0,
    sibling: false,
  });
});

test('maxLineBytes is configurable', async () => {
  const d = fresh();
  writeFileSync(join(d, 'a.ndjson'), `${ecsLine(1)}\n${ecsLine(2)}\n`);
  const { obs, diagnostics } = await run([join(d, 'a.ndjson')], { maxLineBytes: 20 });
  assert.equal(obs.length, 0);
  assert.equal(diagnostics.counts.get('line-too-long'), 2);
});

test('truncated gzip: records before the cut are kept and the file is named', async () => {
  const d = fresh();
  const lines = Array.from({ length: 3000 }, (_, i) => ecsLine(i));
  const gz = gzipSync(`${lines.join('\n')}\n`);
  const f = join(d, 'cut.ndjson.gz');
  writeFileSync(f, gz.subarray(0, Math.floor(gz.length / 2)));
  const { obs, diagnostics } = await run([f]);
  assert.ok(obs.length > 100 && obs.length < 3000, `${obs.length}`);
  obs.forEach((o, i) => {
    assert.equal(o.user, `u${i}`);
  });
  const t = diagnostics.kept.find((k) => k.reason === 'truncated-gzip');
  assert.equal(t?.file, f);
  assert.ok((t?.line ?? 0) >= obs.length);
});

test('progress reaches the total size of the inputs', async () => {
  const d = fresh();
  writeFileSync(join(d, 'a.ndjson'), `${ecsLine(1)}\n`);
  writeFileSync(join(d, 'b.ndjson.gz'), gzipSync(`${ecsLine(2)}\n`));
  const total = statSync(join(d, 'a.ndjson')).size + statSync(join(d, 'b.ndjson.gz')).size;
  const calls: [number, number | null][] = [];
  await run([join(d, 'a.ndjson'), join(d, 'b.ndjson.gz')], { onProgress: (b, t) => calls.push([b, t]) });
  assert.deepEqual(calls.at(-1), [total, total]);
  assert.ok(
    calls.every(([b], i) => i === 0 || b >= calls[i - 1][0]),
    'monotonic',
  );
});

test('stdin injected as a stream is detected and read without losing the sampled lines', async () => {
  const lines = Array.from({ length: 40 }, (_, i) => ecsLine(i));
  const { obs, stats } = await run(['-'], { stdin: Readable.from([Buffer.from(`${lines.join('\n')}\n`)]) });
  assert.equal(obs.length, 40);
  assert.equal(obs[0].file, '-');
  assert.equal(stats[0].format, 'ecs');
});

test('stdin `-` in a child process: piped ECS lines, with a bad line diagnosed as -:line', () => {
  const readTs = fileURLToPath(new URL('../../src/sources/read.ts', import.meta.url));
  const diagTs = fileURLToPath(new URL('../../src/diagnostics.ts', import.meta.url));
  const script = `
    const { readObservations } = await import(${JSON.stringify(readTs)});
    const { Diagnostics } = await import(${JSON.stringify(diagTs)});
    const d = new Diagnostics();
    let users = [];
    for await (const b of readObservations(['-'], { diagnostics: d })) for (const o of b) users.push(o.user + '@' + o.line);
    process.stdout.write(JSON.stringify({ users, diags: d.kept.map((k) => k.file + ':' + k.line + ':' + k.reason) }));
  `;
  const input = `${ecsLine(1)}\nnot json\n${ecsLine(3)}\n`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { users: ['u1@1', 'u3@3'], diags: ['-:2:invalid-json'] });
});

test('an empty file is a warning, not an error', async () => {
  const d = fresh();
  writeFileSync(join(d, 'empty.log'), '\n\n');
  const { diagnostics, stats } = await run([join(d, 'empty.log')]);
  assert.deepEqual(
    diagnostics.kept.map((k) => [k.level, k.reason]),
    [['warning', 'empty-input']],
  );
  assert.equal(stats[0].format, null);
});

test('files of one phase are merged in time order; each keeps its own order and stats', async () => {
  const d = fresh();
  const at = (m: number) => new Date(Date.UTC(2026, 0, 5, 9, m)).toISOString();
  const line = (m: number, u: string) => JSON.stringify({ '@timestamp': at(m), ecs: { version: '8.11.0' }, user: { name: u } });
  // a: minutes 0, 10, 20, … ; b: minutes 5, 15, 25, … plus one bad line and one without a time.
  const a = Array.from({ length: 3000 }, (_, i) => line(i * 10, `a${i}`));
  const b = Array.from({ length: 2000 }, (_, i) => line(i * 10 + 5, `b${i}`));
  b.splice(3, 0, '{not json');
  writeFileSync(join(d, 'a.ndjson'), `${a.join('\n')}\n`);
  writeFileSync(join(d, 'b.ndjson'), `${b.join('\n')}\n`);
  const { obs, stats } = await run([join(d, 'a.ndjson'), join(d, 'b.ndjson')]);
  assert.equal(obs.length, 5000);
  for (let i = 1; i < obs.length; i++) assert.ok((obs[i - 1].ts as number) <= (obs[i].ts as number), `out of order at ${i}`);
  // Interleaved: a0 b0 a1 b1 … while both last, then the rest of a.
  assert.deepEqual(
    obs.slice(0, 4).map((o) => o.user),
    ['a0', 'b0', 'a1', 'b1'],
  );
  assert.equal(obs[obs.length - 1].user, 'a2999');
  const byFile = Object.fromEntries(stats.map((s) => [s.file.endsWith('a.ndjson') ? 'a' : 'b', s]));
  assert.equal(byFile.a.observations, 3000);
  assert.equal(byFile.a.skipped, 0);
  assert.equal(byFile.b.observations, 2000);
  assert.equal(byFile.b.skipped, 1);
});

test('phases still come first: a Zeek x509.log is read before the ssl.log that joins on it, even given last', async () => {
  const d = fresh();
  writeFileSync(join(d, 'conn-ssl.log'), `${sslLines.join('\n')}\n`);
  writeFileSync(join(d, 'certs.log'), `${x509Lines.join('\n')}\n`);
  const extra = join(d, 'later.ndjson');
  writeFileSync(extra, `${ecsLine(0)}\n`);
  const { obs } = await run([join(d, 'conn-ssl.log'), extra, join(d, 'certs.log')]);
  const ssl = obs.find((o) => o.format === 'zeek-ssl');
  assert.equal(ssl?.client_certificate?.subject, 'CN=joined');
});
