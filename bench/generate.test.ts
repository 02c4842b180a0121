// The benchmark data generator: the requested number of valid, time-ordered ECS events plus the
// enrichment files analyze needs; deterministic in structure under its seed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateBenchData } from './generate.ts';

const root = mkdtempSync(join(tmpdir(), 'certsignal-bench-'));
after(() => rmSync(root, { recursive: true, force: true }));

const lines = (dir: string): Record<string, any>[] =>
  readFileSync(join(dir, 'events.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

test('writes exactly N valid, time-ordered events and the enrichment files', async () => {
  const out = join(root, 'a');
  const r = await generateBenchData({ events: 3000, entities: 20, out, pem: true, seed: 's1', days: 2 });
  assert.equal(r.events, 3000);
  const events = lines(out);
  assert.equal(events.length, 3000);
  for (let i = 1; i < events.length; i++) assert.ok(events[i - 1]['@timestamp'] <= events[i]['@timestamp']);
  assert.ok(events.every((e) => e.tls.client.certificate.startsWith('-----BEGIN CERTIFICATE-----')));
  // A pool of certificates, each seen many times.
  const distinct = new Set(events.map((e) => e.tls.client.hash.sha256));
  assert.ok(distinct.size > 5 && distinct.size < 200, String(distinct.size));
  for (const f of ['assets.csv', 'identities.csv', 'trust-anchors.pem', 'crl.pem', 'certsignal.yaml'])
    assert.ok(existsSync(join(out, f)), f);
  const devices = new Set(
    readFileSync(join(out, 'assets.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]),
  );
  assert.ok(events.every((e) => devices.has(e.device.id)));
});

test('--no-pem output has no certificate field; the same seed gives the same event structure', async () => {
  const a = join(root, 'b');
  const b = join(root, 'c');
  await generateBenchData({ events: 500, entities: 12, out: a, pem: false, seed: 's2', days: 1 });
  await generateBenchData({ events: 500, entities: 12, out: b, pem: false, seed: 's2', days: 1 });
  const ea = lines(a);
  const eb = lines(b);
  assert.ok(ea.every((e) => e.tls.client.certificate === undefined));
  const shape = (e: Record<string, any>) => [
    e['@timestamp'],
    e.user.name,
    e.device.id,
    e.source.ip,
    e.service.name,
    e.tls.client.ja4,
    e.tls.client.x509.serial_number,
  ];
  assert.deepEqual(ea.map(shape), eb.map(shape));
});
