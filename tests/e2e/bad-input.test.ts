// End to end: bad input gives a clear message with file:line, the rest still runs, a summary
// counts what was skipped, and a user error never shows a stack trace.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseLines, runCli } from '../helpers/cli.ts';
import { createRootCA } from '../helpers/pki.ts';

let dir: string;
const ecs = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    '@timestamp': new Date(Date.UTC(2026, 0, 5, 9, 0, i)).toISOString(),
    event: { outcome: 'success' },
    user: { name: `user${i % 3}` },
    device: { id: `dev${i % 3}` },
    source: { ip: '10.0.0.1' },
    tls: { version: '1.3', version_protocol: 'tls', client: { ja4: 't13d1516h2_8daaf6152771_02713d6af862' } },
    ...extra,
  });

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'certsignal-bad-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function noStackTrace(stderr: string) {
  assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+/, `stack trace on stderr:\n${stderr}`);
}

test('a non-JSON line, a wrong-typed field and a 10 MB line are reported with file:line and the rest runs', async () => {
  const file = join(dir, 'mixed.ndjson');
  const lines = [
    ecs(1),
    'this is not json',
    ecs(2, { source: { ip: '10.0.0.2', port: 'abc' } }),
    'x'.repeat(10 * 1024 * 1024),
    ecs(3),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = await runCli(['normalize', '--format', 'ecs', file]);
  assert.equal(r.code, 0, r.stderr);
  const events = parseLines<{ source: { line: number } }>(r.stdout);
  assert.deepEqual(
    events.map((e) => e.source.line),
    [1, 3, 5],
    'lines 1, 3 (bad field ignored) and 5 still run',
  );
  assert.match(r.stderr, new RegExp(`${file}:2: .*invalid-json`));
  assert.match(r.stderr, new RegExp(`${file}:3: .*source\\.port`));
  assert.match(r.stderr, new RegExp(`${file}:4: .*line-too-long`));
  assert.match(r.stderr, /2 records skipped/);
  noStackTrace(r.stderr);
});

test('a truncated gzip keeps the lines before the cut and says where it stopped', async () => {
  const file = join(dir, 'cut.ndjson.gz');
  const body = Array.from({ length: 2000 }, (_, i) => ecs(i)).join('\n');
  const gz = gzipSync(body);
  writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.6)));
  const r = await runCli(['normalize', file]);
  assert.equal(r.code, 0, r.stderr);
  const n = parseLines(r.stdout).length;
  assert.ok(n > 100 && n < 2000, `kept ${n} events before the cut`);
  assert.match(r.stderr, /truncated-gzip/);
  assert.ok(r.stderr.includes(file));
  noStackTrace(r.stderr);
});

test('an unknown format is named; with nothing readable the exit code is 3', async () => {
  const file = join(dir, 'weird.txt');
  writeFileSync(file, 'hello world\nnothing to see\n');
  const r = await runCli(['analyze', '--output', 'json', file]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /unknown-format/);
  assert.ok(r.stderr.includes(file));
  assert.equal(r.stdout, '');
  noStackTrace(r.stderr);
});

test('a missing file is reported and the other files still run', async () => {
  const good = join(dir, 'good.ndjson');
  writeFileSync(good, `${ecs(1)}\n${ecs(2)}\n`);
  const r = await runCli(['normalize', join(dir, 'nope.ndjson'), good]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(parseLines(r.stdout).length, 2);
  assert.match(r.stderr, /nope\.ndjson.*file-unreadable|file-unreadable.*nope\.ndjson/);
});

test('an invalid certsignal.yaml exits 2 naming the key, without a stack trace', async () => {
  const cfg = join(dir, 'bad.yaml');
  writeFileSync(cfg, 'scoring:\n  correlation_window_minutes: sixty\n');
  const good = join(dir, 'good2.ndjson');
  writeFileSync(good, `${ecs(1)}\n`);
  const r = await runCli(['analyze', '--config', cfg, '--output', 'json', good]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /scoring\.correlation_window_minutes/);
  noStackTrace(r.stderr);
});

test('a CRL that does not verify against the trust anchors stops the run with exit 2', async () => {
  const anchors = await createRootCA('O=certsignal tests, CN=Anchor CA');
  const stranger = await createRootCA('O=elsewhere, CN=Stranger CA');
  const anchorsFile = join(dir, 'anchors.pem');
  const crlFile = join(dir, 'stranger.crl');
  writeFileSync(anchorsFile, anchors.cert.pem);
  writeFileSync(crlFile, (await stranger.crl([{ serial: '01' }])).pem);
  const good = join(dir, 'good3.ndjson');
  writeFileSync(good, `${ecs(1)}\n`);
  const r = await runCli(['analyze', '--trust-anchors', anchorsFile, '--crl', crlFile, '--output', 'json', good]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes('stranger.crl'), r.stderr);
  noStackTrace(r.stderr);
});

test('usage errors exit 2 with a helpful message', async () => {
  const r = await runCli(['analyze', '--output', 'yaml', 'x']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /output/);
  const none = await runCli(['frobnicate']);
  assert.equal(none.code, 2);
});
