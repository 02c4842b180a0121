// The conn.log byte join on real Zeek baselines and through the CLI: every directory of the
// Zeek/FoxIO real data that holds an ssl.log and a conn.log is read with ssl.log alone (the
// conn.log must be found as a sibling), and the number of ssl records that got bytes — and the
// bytes themselves — must equal an independent reading of the two files. Plus sibling discovery
// for rotated names and `certsignal normalize --output json ssl.log`.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Diagnostics } from '../../src/diagnostics.ts';
import type { Observation } from '../../src/schema/event.ts';
import { detectFormat, type FileStats, readObservations } from '../../src/sources/read.ts';
import { findZeekSiblings } from '../../src/sources/zeek/siblings.ts';
import { parseLines, runCli } from '../helpers/cli.ts';

const realdata = fileURLToPath(new URL('../../../shared/realdata/', import.meta.url));
const roots = [join(realdata, 'zeek/Baseline'), join(realdata, 'foxio-ja4/zeek/tests')];

/** Directories holding both an ssl.log and a conn.log. */
function findPairs(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  const entries = readdirSync(dir, { withFileTypes: true });
  const names = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
  if (names.has('ssl.log') && names.has('conn.log')) out.push(dir);
  for (const e of entries) if (e.isDirectory()) findPairs(join(dir, e.name), out);
  return out;
}

/** A minimal, independent TSV reader: rows as name → raw cell, from `#fields` or a zeek-cut name line. */
function rows(path: string): Record<string, string>[] {
  let names: string[] | null = null;
  const out: Record<string, string>[] = [];
  for (const l of readFileSync(path, 'utf8').split('\n')) {
    if (l.startsWith('#fields\t')) names = l.slice(8).split('\t');
    else if (l.length === 0 || l.startsWith('#')) continue;
    else if (names === null) names = l.split('\t');
    else {
      const cells = l.split('\t');
      out.push(Object.fromEntries(names.map((n, i) => [n, cells[i]])));
    }
  }
  return out;
}

/** uid → bytes from conn.log as documented: TLS only, payload sum, else IP sum, else none. */
function expectedBytes(connPath: string): Map<string, number> {
  const m = new Map<string, number>();
  const num = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : null);
  for (const r of rows(connPath)) {
    if (!(r.service ?? '').split(',').includes('ssl')) continue;
    const [ob, rb, oi, ri] = [num(r.orig_bytes), num(r.resp_bytes), num(r.orig_ip_bytes), num(r.resp_ip_bytes)];
    const b = ob !== null && rb !== null ? ob + rb : oi !== null && ri !== null ? oi + ri : null;
    if (b !== null) m.set(r.uid, b);
  }
  return m;
}

async function read(files: string[]): Promise<{ obs: Observation[]; stats: FileStats[]; diagnostics: Diagnostics }> {
  const diagnostics = new Diagnostics();
  const stats: FileStats[] = [];
  const obs: Observation[] = [];
  for await (const b of readObservations(files, { diagnostics, onFile: (s) => stats.push(s) })) obs.push(...b);
  return { obs, stats, diagnostics };
}

const pairs = roots.flatMap((r) => findPairs(r)).sort();
let joinedTotal = 0;

test('real data: ssl.log + conn.log pairs are found', () => {
  assert.ok(pairs.length >= 5, `found ${pairs.length}: ${pairs.join(', ')}`);
});

for (const dir of pairs) {
  test(`${dir.slice(realdata.length)}: ssl records with bytes = independent count from ssl.log and conn.log`, async () => {
    const sslPath = join(dir, 'ssl.log');
    const { obs, stats, diagnostics } = await read([sslPath]);
    assert.deepEqual(
      diagnostics.kept.filter((d) => d.level === 'error'),
      [],
    );
    const connStats = stats.find((s) => basename(s.file) === 'conn.log');
    assert.ok(connStats, 'conn.log found as a sibling');
    assert.equal(connStats.format, 'zeek-conn');
    assert.equal(connStats.sibling, true);
    assert.equal(connStats.observations, 0);
    assert.equal(connStats.records, rows(join(dir, 'conn.log')).length);

    const expected = expectedBytes(join(dir, 'conn.log'));
    const sslRows = rows(sslPath);
    const independent = sslRows.filter((r) => expected.has(r.uid)).length;
    const withBytes = obs.filter((o) => typeof o.bytes === 'number');
    assert.equal(obs.length, sslRows.length);
    assert.equal(withBytes.length, independent);
    for (const o of obs) assert.equal(o.bytes, expected.get(o.record_id ?? '') ?? undefined, `bytes of ${o.record_id}`);
    joinedTotal += withBytes.length;
  });
}

test('real data: the pairs joined at least four ssl records (xmpp, imap, pop3, irc STARTTLS)', () => {
  // Runs after the per-pair tests (node:test runs a file's tests in order).
  assert.ok(joinedTotal >= 4, `joined ${joinedTotal}`);
});

test('real data: every Zeek baseline conn*.log is detected as zeek-conn, and no other baseline file is', async () => {
  const base = join(realdata, 'zeek/Baseline');
  let conns = 0;
  for (const dir of readdirSync(base)) {
    for (const f of readdirSync(join(base, dir))) {
      const id = await detectFormat(join(base, dir, f));
      const isConn = /^conn.*\.log$/.test(f);
      if (isConn) conns++;
      assert.equal(id === 'zeek-conn', isConn, `${dir}/${f}: ${id}`);
    }
  }
  assert.ok(conns >= 12, `${conns} conn logs`);
});

test('imap STARTTLS baseline: bytes are orig_bytes + resp_bytes of the conn.log line (540 + 5653)', async () => {
  const { obs } = await read([join(realdata, 'zeek/Baseline/scripts.base.protocols.imap.starttls/ssl.log')]);
  assert.equal(obs[0].record_id, 'CHhAvVGS1DHFjwGM9');
  assert.equal(obs[0].bytes, 6193);
  // The x509 join still works beside the conn join.
  assert.equal(obs[0].server_certificate?.sha256, 'e0129ac9d82beb2ad399c85a2d246c0a5376e1094a5410ba9157cc42c3d514c1');
});

test('sibling conn logs: rotated suffix first, plain conn.log as fallback, nothing for non-ssl names', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cs-zeek-conn-'));
  const suffix = '.2024-01-01-00-00-00';
  for (const n of [
    `ssl${suffix}.log.gz`,
    `conn${suffix}.log.gz`,
    'conn.log',
    'conn.json',
    'ssl.log',
    'ssl.09:00:00-10:00:00.log',
    'http.log',
  ])
    writeFileSync(join(d, n), '');
  assert.deepEqual(await findZeekSiblings(join(d, `ssl${suffix}.log.gz`), 'conn'), [join(d, `conn${suffix}.log.gz`)]);
  assert.deepEqual(await findZeekSiblings(join(d, 'ssl.log'), 'conn'), [join(d, 'conn.log')]);
  assert.deepEqual(await findZeekSiblings(join(d, 'ssl.09:00:00-10:00:00.log'), 'conn'), [join(d, 'conn.log')]);
  assert.deepEqual(await findZeekSiblings(join(d, 'http.log'), 'conn'), []);
  assert.deepEqual(await findZeekSiblings(join(d, 'ssl.log'), 'x509'), []);
});

test('a rotated gzip ssl log alone reads its rotated conn log; a given conn log is not looked up again', async () => {
  const src = join(realdata, 'zeek/Baseline/scripts.base.protocols.pop3.starttls');
  const d = mkdtempSync(join(tmpdir(), 'cs-zeek-conn-'));
  const suffix = '.2024-01-01-00-00-00';
  writeFileSync(join(d, `ssl${suffix}.log.gz`), gzipSync(readFileSync(join(src, 'ssl.log'))));
  writeFileSync(join(d, `conn${suffix}.log.gz`), gzipSync(readFileSync(join(src, 'conn.log'))));
  const alone = await read([join(d, `ssl${suffix}.log.gz`)]);
  assert.deepEqual(
    alone.stats.map((s) => [basename(s.file), s.format, s.sibling]),
    [
      [`conn${suffix}.log.gz`, 'zeek-conn', true],
      [`ssl${suffix}.log.gz`, 'zeek-ssl', false],
    ],
  );
  assert.equal(alone.obs[0].bytes, 851 + 2590);
  const given = await read([join(d, `ssl${suffix}.log.gz`), join(d, `conn${suffix}.log.gz`)]);
  assert.deepEqual(
    given.stats.map((s) => [basename(s.file), s.sibling]),
    [
      [`conn${suffix}.log.gz`, false],
      [`ssl${suffix}.log.gz`, false],
    ],
  );
  assert.equal(given.obs[0].bytes, 3441);
});

test('e2e: certsignal normalize --output json ssl.log finds conn.log and shows bytes; a connection without a conn line has null bytes', async () => {
  // The real xmpp STARTTLS baselines, with their canonicalised timestamps replaced by a real one
  // (normalize cannot place a record without a time), plus one ssl record whose connection was
  // still open when conn.log was written (no conn line).
  const src = join(realdata, 'zeek/Baseline/scripts.base.protocols.xmpp.starttls');
  const d = mkdtempSync(join(tmpdir(), 'cs-zeek-conn-e2e-'));
  const fix = (t: string) => t.replaceAll('XXXXXXXXXX.XXXXXX', '1767603600.000000');
  const sslText = fix(readFileSync(join(src, 'ssl.log'), 'utf8'));
  const sslLines = sslText.split('\n');
  const record = sslLines.find((l) => l.includes('CHhAvVGS1DHFjwGM9'));
  assert.ok(record);
  const open = record.replace('CHhAvVGS1DHFjwGM9', 'CStillOpen000001').replace('1767603600.000000', '1767603660.000000');
  writeFileSync(join(d, 'ssl.log'), `${sslText.trimEnd()}\n${open}\n`);
  writeFileSync(join(d, 'conn.log'), fix(readFileSync(join(src, 'conn.log'), 'utf8')));
  const r = await runCli(['normalize', '--output', 'json', join(d, 'ssl.log')]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /\berror:/);
  assert.match(r.stderr, /conn\.log \[zeek-conn\]/);
  const events = parseLines<{ source: { format: string }; bytes: number | null; source_ip: string | null }>(r.stdout);
  assert.equal(events.length, 2);
  assert.ok(events.every((e) => e.source.format === 'zeek-ssl'));
  assert.deepEqual(
    events.map((e) => e.bytes),
    [676 + 4678, null],
  );
});
