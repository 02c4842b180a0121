// Unit tests for the streaming line reader: gzip by magic bytes, CRLF, over-long lines, broken
// gzip, unreadable files and stdin replay after sampling.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Diagnostics } from '../diagnostics.ts';
import { detectionName, type Line, LineReader } from './lines.ts';

const dir = mkdtempSync(join(tmpdir(), 'certsignal-lines-'));

async function readAll(reader: LineReader): Promise<Line[]> {
  const out: Line[] = [];
  for await (const b of reader.batches()) out.push(...b);
  return out;
}

test('plain file: lines numbered from 1, CRLF stripped, last line without newline kept', async () => {
  const f = join(dir, 'plain.txt');
  writeFileSync(f, 'a\r\nb\n\nc');
  const lines = await readAll(new LineReader(f, { diagnostics: new Diagnostics() }));
  assert.deepEqual(lines, [
    { text: 'a', number: 1 },
    { text: 'b', number: 2 },
    { text: '', number: 3 },
    { text: 'c', number: 4 },
  ]);
});

test('gzip is detected by magic bytes, not by name', async () => {
  const f = join(dir, 'looks-plain.log');
  writeFileSync(f, gzipSync('one\ntwo\n'));
  const r = new LineReader(f, { diagnostics: new Diagnostics() });
  const lines = await readAll(r);
  assert.equal(r.gzip, true);
  assert.deepEqual(
    lines.map((l) => l.text),
    ['one', 'two'],
  );
});

test('truncated gzip keeps the good lines and names the last good line', async () => {
  const body = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`).join('\n');
  const gz = gzipSync(body);
  const f = join(dir, 'cut.log.gz');
  writeFileSync(f, gz.subarray(0, Math.floor(gz.length * 0.6)));
  const d = new Diagnostics();
  const lines = await readAll(new LineReader(f, { diagnostics: d }));
  assert.ok(lines.length > 100 && lines.length < 5000, `got ${lines.length} lines`);
  // Every kept line is a complete, correct line of the original.
  lines.forEach((l, i) => {
    assert.equal(l.text, `line ${i} ${'x'.repeat(i % 50)}`);
  });
  const diag = d.kept.find((k) => k.reason === 'truncated-gzip');
  assert.ok(diag, 'truncated-gzip reported');
  assert.equal(diag.file, f);
  assert.equal(diag.line, lines.length);
  assert.match(diag.message, new RegExp(`last good line ${lines.length}`));
});

test('corrupt gzip (garbage after the header) is reported, not thrown', async () => {
  const gz = Buffer.from(gzipSync('hello\nworld\n'));
  for (let i = 12; i < gz.length - 8; i++) gz[i] ^= 0x5a;
  const f = join(dir, 'corrupt.gz');
  writeFileSync(f, gz);
  const d = new Diagnostics();
  await readAll(new LineReader(f, { diagnostics: d }));
  assert.equal(d.counts.get('truncated-gzip'), 1);
});

test('a line longer than maxLineBytes is skipped without stopping the file', async () => {
  const f = join(dir, 'long.txt');
  const big = 'y'.repeat(10 * 1024 * 1024);
  writeFileSync(f, `first\n${big}\nthird\n${'z'.repeat(2000)}\nlast`);
  const d = new Diagnostics();
  const r = new LineReader(f, { diagnostics: d, maxLineBytes: 1024 });
  const lines = await readAll(r);
  assert.deepEqual(
    lines.map((l) => [l.number, l.text]),
    [
      [1, 'first'],
      [3, 'third'],
      [5, 'last'],
    ],
  );
  const skipped = d.kept.filter((k) => k.reason === 'line-too-long').map((k) => k.line);
  assert.deepEqual(skipped, [2, 4]);
  assert.equal(r.skippedLines, 2);
  assert.equal(d.skippedRecords, 2);
});

test('the byte limit counts UTF-8 bytes, not characters', async () => {
  const f = join(dir, 'utf8.txt');
  writeFileSync(f, `${'é'.repeat(600)}\nok\n`); // 1200 bytes, 600 characters
  const d = new Diagnostics();
  const lines = await readAll(new LineReader(f, { diagnostics: d, maxLineBytes: 1000 }));
  assert.deepEqual(
    lines.map((l) => l.text),
    ['ok'],
  );
  assert.equal(d.counts.get('line-too-long'), 1);
});

test('multi-byte characters split across chunks decode correctly', async () => {
  const text = 'zürich→東京\nßecond\n';
  const bytes = Buffer.from(text);
  const chunks = Array.from(bytes, (b) => Buffer.from([b])); // one byte per chunk
  const r = new LineReader('-', { diagnostics: new Diagnostics(), stream: Readable.from(chunks) });
  assert.deepEqual(
    (await readAll(r)).map((l) => l.text),
    ['zürich→東京', 'ßecond'],
  );
});

test('missing file gives file-unreadable and no lines', async () => {
  const d = new Diagnostics();
  const r = new LineReader(join(dir, 'nope.log'), { diagnostics: d });
  assert.deepEqual(await r.sample(), []);
  assert.equal(r.failed, true);
  assert.deepEqual(await readAll(r), []);
  assert.equal(d.counts.get('file-unreadable'), 1);
  assert.match(d.kept[0].message, /no such file/);
});

test('stdin: sample() peeks and batches() still yields every line', async () => {
  const all = Array.from({ length: 50 }, (_, i) => `{"n":${i}}`);
  const stream = Readable.from([
    Buffer.from(`\n\n${all.slice(0, 10).join('\n')}\n`),
    Buffer.from(`${all.slice(10).join('\n')}\n`),
  ]);
  const r = new LineReader('-', { diagnostics: new Diagnostics(), stream });
  const sample = await r.sample();
  assert.equal(sample.length, 20);
  assert.equal(sample[0], '{"n":0}');
  const lines = (await readAll(r)).filter((l) => l.text !== '');
  assert.deepEqual(
    lines.map((l) => l.text),
    all,
  );
  assert.equal(lines[0].number, 3);
});

test('gzip on stdin is detected too', async () => {
  const r = new LineReader('-', { diagnostics: new Diagnostics(), stream: Readable.from([gzipSync('a\nb\n')]) });
  assert.deepEqual(await r.sample(), ['a', 'b']);
  assert.deepEqual(
    (await readAll(r)).map((l) => l.text),
    ['a', 'b'],
  );
});

test('UTF-8 BOM is dropped from the first line', async () => {
  const f = join(dir, 'bom.txt');
  writeFileSync(f, '\ufeff{"a":1}\n');
  assert.deepEqual(
    (await readAll(new LineReader(f, { diagnostics: new Diagnostics() }))).map((l) => l.text),
    ['{"a":1}'],
  );
});

test('detectionName strips directories and .gz', () => {
  assert.equal(detectionName('/var/log/zeek/ssl.log.gz'), 'ssl.log');
  assert.equal(detectionName('eve.json'), 'eve.json');
  assert.equal(detectionName('-'), '-');
});
