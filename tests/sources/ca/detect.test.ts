// Format detection stays unambiguous with the CA and MDM sources registered: each CA/MDM sample
// is detected as its own format (and every ECS/Zeek/Suricata detector scores it lower), and the
// existing ECS, Zeek (real Zeek baselines) and Suricata samples keep their formats. Enrichment
// CSVs (assets, identities) are no input format at all.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Diagnostics } from '../../../src/diagnostics.ts';
import { LineReader } from '../../../src/sources/lines.ts';
import { detectFormat, listFormats } from '../../../src/sources/read.ts';
import { SOURCES } from '../../../src/sources/registry.ts';
import { REPO, SHARED } from '../../helpers/cli.ts';
import { makePki, writeFixtures } from './fixtures.ts';

const pki = await makePki();
const files = writeFixtures(pki);
const T1649 = join(SHARED, 'realdata/splunk-attack_data/T1649');
const ZEEK = join(SHARED, 'realdata/zeek/Baseline');
const OLD = new Set(['ecs', 'zeek-ssl', 'zeek-x509', 'suricata-eve']);

async function scores(path: string): Promise<Map<string, number>> {
  const reader = new LineReader(path, { diagnostics: new Diagnostics() });
  const lines = await reader.sample();
  reader.close();
  const name = path.slice(path.lastIndexOf('/') + 1);
  return new Map(SOURCES.map((s) => [s.id, s.detect({ name, firstLines: lines })]));
}

test('every CA/MDM format is listed by `formats` and documented in docs/formats.md', () => {
  const ids = listFormats().map((f) => f.id);
  const doc = readFileSync(join(REPO, 'docs/formats.md'), 'utf8');
  for (const id of ['step-ca', 'vault-audit', 'adcs', 'ca-csv', 'mdm-csv', 'mdm-json']) {
    assert.ok(ids.includes(id), id);
    assert.ok(doc.includes(`| \`${id}\` |`), `${id} in the table of docs/formats.md`);
    assert.match(doc, new RegExp(`^### .*\`${id}\``, 'm'), `${id} has a section`);
  }
});

test('each CA/MDM sample is detected as its format; no ECS/Zeek/Suricata detector outscores it', async () => {
  const expected: [string, string][] = [
    [files.stepCa, 'step-ca'],
    [files.vault, 'vault-audit'],
    [files.caCsv, 'ca-csv'],
    [files.mdmCsv, 'mdm-csv'],
    [files.mdmJson, 'mdm-json'],
    [join(T1649, 'certify_esc1_abuse_winsecurity.xml.log'), 'adcs'],
    [join(T1649, 'certipy_esc1_abuse.xml.log'), 'adcs'],
    [join(T1649, 'certify_esc1_abuse_bulk_adcs.xml.log'), 'adcs'],
  ];
  for (const [file, id] of expected) {
    assert.equal(await detectFormat(file), id, file);
    const s = await scores(file);
    const own = s.get(id) ?? 0;
    for (const old of OLD) assert.ok((s.get(old) ?? 0) < own, `${old} scores ${s.get(old)} ≥ ${id} ${own} on ${file}`);
    // Exactly one CA/MDM source claims it.
    const claimants = [...s].filter(([k, v]) => !OLD.has(k) && v > 0).map(([k]) => k);
    assert.deepEqual(claimants, [id], file);
  }
});

test('ECS, Zeek and Suricata samples keep their formats', async () => {
  assert.equal(await detectFormat(join(REPO, 'examples/demo/events.ndjson')), 'ecs');
  let zeekFiles = 0;
  for (const dir of readdirSync(ZEEK)) {
    for (const f of readdirSync(join(ZEEK, dir))) {
      if (!/^(ssl|x509)\.log$/.test(f)) continue;
      const id = await detectFormat(join(ZEEK, dir, f));
      assert.equal(id, f.startsWith('ssl') ? 'zeek-ssl' : 'zeek-x509', join(dir, f));
      zeekFiles++;
    }
  }
  assert.ok(zeekFiles >= 20, `only ${zeekFiles} Zeek baselines found`);

  const d = mkdtempSync(join(tmpdir(), 'certsignal-detect-'));
  const eve = join(d, 'eve.json');
  writeFileSync(
    eve,
    [
      {
        timestamp: '2026-01-05T10:00:00.000+0000',
        flow_id: 1,
        event_type: 'flow',
        src_ip: '10.0.0.1',
        dest_ip: '10.0.0.2',
        proto: 'TCP',
      },
      {
        timestamp: '2026-01-05T10:00:01.000+0000',
        flow_id: 2,
        event_type: 'tls',
        src_ip: '10.0.0.1',
        tls: { version: 'TLS 1.2', sni: 'a.example' },
      },
    ]
      .map((o) => JSON.stringify(o))
      .join('\n'),
  );
  assert.equal(await detectFormat(eve), 'suricata-eve');
  // An ECS event that happens to carry an enrollment-like action stays ECS (it has an `event` object).
  const ecs = join(d, 'ecs.ndjson');
  writeFileSync(
    ecs,
    `${JSON.stringify({ '@timestamp': '2026-01-05T10:00:00Z', event: { action: 'enrolled' }, device: { id: 'lt-1' }, user: { name: 'bob' } })}\n`,
  );
  assert.equal(await detectFormat(ecs), 'ecs');
  const zeekJson = join(d, 'ssl.json');
  writeFileSync(
    zeekJson,
    `${JSON.stringify({ ts: 1.5, uid: 'C1', 'id.orig_h': '10.0.0.1', 'id.orig_p': 5, 'id.resp_h': '10.0.0.2', 'id.resp_p': 443, version: 'TLSv12', path: '/x' })}\n`,
  );
  assert.equal(await detectFormat(zeekJson), 'zeek-ssl');
});

test('enrichment CSVs (assets, identities) are not mistaken for MDM or CA logs', async () => {
  assert.equal(await detectFormat(join(REPO, 'examples/demo/assets.csv')), null);
  assert.equal(await detectFormat(join(REPO, 'examples/demo/identities.csv')), null);
});
