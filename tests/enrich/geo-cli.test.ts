// `--geoip` end to end through the real CLI: an ECS log without source.geo, located by a small
// .mmdb written by the test; private addresses stay unknown and say why; unusable databases are
// usage errors (exit 2) naming the file; the config key and the demo/eval flags.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseLines, runCli } from '../helpers/cli.ts';
import { fixtureCityDatabase, writeMmdb } from '../helpers/mmdb.ts';

let dir: string;
let mmdb: string;

/** One ECS sign-in of `user` from `ip`, no source.geo. */
const signIn = (user: string, ip: string, at: string) =>
  JSON.stringify({
    '@timestamp': at,
    event: { kind: 'event', category: ['authentication'], outcome: 'success' },
    user: { name: user },
    device: { id: `${user}-laptop` },
    source: { ip },
    service: { name: 'vpn' },
    tls: { version: '1.3', version_protocol: 'tls', client: { ja4: 't13d1516h2_8daaf6152771_02713d6af862' } },
  });

function ndjson(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

// The two uses are the account's first: lift the 24 h cold start so exactly two sign-ins can fire.
const NO_COLD_START = ['--set', 'rules.impossible-travel.min_history_hours=0'];

function noStackTrace(stderr: string) {
  assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+/, `stack trace on stderr:\n${stderr}`);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'certsignal-geo-cli-'));
  mmdb = join(dir, 'test.mmdb');
  writeFileSync(mmdb, fixtureCityDatabase());
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('certsignal --geoip', () => {
  test('analyze: Paris then Sydney 30 min apart (no source.geo) → impossible-travel; summary names the database', async () => {
    const log = ndjson('travel.ndjson', [
      signIn('alice', '2.2.3.4', '2026-03-02T09:00:00Z'),
      signIn('alice', '1.128.0.9', '2026-03-02T09:30:00Z'),
    ]);
    const r = await runCli(['analyze', '--geoip', mmdb, '--output', 'json', '--no-progress', ...NO_COLD_START, log]);
    assert.equal(r.code, 0, r.stderr);
    const alerts = parseLines<{ rule: string; user: string; evidence: Record<string, Record<string, unknown>> }>(r.stdout);
    const travel = alerts.filter((a) => a.rule === 'impossible-travel');
    assert.equal(travel.length, 1, r.stdout);
    assert.equal(travel[0].user, 'alice');
    assert.deepEqual([travel[0].evidence.from.city, travel[0].evidence.to.city], ['Paris', 'Sydney']);
    assert.match(
      r.stderr,
      new RegExp(`geoip: GeoLite2-City built 2026-01-01 \\(${mmdb.replace(/[.]/g, '\\.')}\\) — events by geo_status: geoip 2`),
    );
    noStackTrace(r.stderr);

    // Without the database the same log has no locations, so nothing can be said about travel.
    const without = await runCli(['analyze', '--output', 'json', '--no-progress', ...NO_COLD_START, log]);
    assert.equal(without.code, 0, without.stderr);
    assert.deepEqual(
      parseLines<{ rule: string }>(without.stdout).filter((a) => a.rule === 'impossible-travel'),
      [],
    );
  });

  test('the same with private addresses (which the database even maps to Paris / Sydney) → no alert; normalize says private', async () => {
    const log = ndjson('private.ndjson', [
      signIn('bob', '10.1.2.3', '2026-03-02T09:00:00Z'),
      signIn('bob', '100.64.7.7', '2026-03-02T09:30:00Z'),
    ]);
    const r = await runCli(['analyze', '--geoip', mmdb, '--output', 'json', '--no-progress', ...NO_COLD_START, log]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      parseLines<{ rule: string }>(r.stdout).filter((a) => a.rule === 'impossible-travel'),
      [],
    );
    assert.match(r.stderr, /events by geo_status: private 2/);

    const n = await runCli(['normalize', '--geoip', mmdb, '--no-progress', log]);
    assert.equal(n.code, 0, n.stderr);
    const events = parseLines<{ source_ip: string; geo: unknown; geo_status: string; geo_range: string }>(n.stdout);
    assert.deepEqual(
      events.map((e) => [e.source_ip, e.geo, e.geo_status, e.geo_range]),
      [
        ['10.1.2.3', null, 'private', 'rfc1918'],
        ['100.64.7.7', null, 'private', 'cgnat'],
      ],
    );
  });

  test('normalize: a located event carries geo.source geoip and the accuracy radius; an event with source.geo keeps its own', async () => {
    const own = JSON.parse(signIn('carol', '2.2.3.4', '2026-03-02T10:00:00Z'));
    own.source.geo = { country_iso_code: 'DE', city_name: 'Berlin', location: { lat: 52.52, lon: 13.405 } };
    const log = ndjson('mixed.ndjson', [
      signIn('carol', '2.2.3.4', '2026-03-02T09:00:00Z'),
      JSON.stringify(own),
      signIn('carol', '8.8.8.8', '2026-03-02T11:00:00Z'),
    ]);
    const n = await runCli(['normalize', '--geoip', mmdb, '--no-progress', log]);
    assert.equal(n.code, 0, n.stderr);
    const [a, b, c] = parseLines<{ geo: Record<string, unknown> | null; geo_status: string }>(n.stdout);
    assert.equal(a.geo_status, 'geoip');
    assert.deepEqual(
      [a.geo?.city_name, a.geo?.country_iso_code, a.geo?.country_name, a.geo?.source, a.geo?.accuracy_radius_km],
      ['Paris', 'FR', 'France', 'geoip', 20],
    );
    assert.equal(b.geo_status, 'event');
    assert.deepEqual([b.geo?.city_name, b.geo?.source], ['Berlin', 'event']);
    assert.deepEqual([c.geo, c.geo_status], [null, 'not-found']);
  });

  test('a missing, corrupt or ASN database is a usage error (exit 2) naming the file and why', async () => {
    const log = ndjson('one.ndjson', [signIn('dave', '2.2.3.4', '2026-03-02T09:00:00Z')]);
    const missing = join(dir, 'missing.mmdb');
    const corrupt = join(dir, 'corrupt.mmdb');
    writeFileSync(corrupt, fixtureCityDatabase().subarray(0, 700));
    const asn = join(dir, 'GeoLite2-ASN.mmdb');
    writeFileSync(
      asn,
      writeMmdb([{ network: '2.2.0.0/16', data: { autonomous_system_number: 3215 } }], { databaseType: 'GeoLite2-ASN' }),
    );
    for (const [file, why] of [
      [missing, /no such file/],
      [corrupt, /not a MaxMind DB file/],
      [asn, /"GeoLite2-ASN" holds no locations/],
    ] as [string, RegExp][]) {
      // analyze for each; normalize shares the same loading (checked once, to keep the test short).
      for (const cmd of file === missing ? ['analyze', 'normalize'] : ['analyze']) {
        const r = await runCli([cmd, '--geoip', file, '--no-progress', log]);
        assert.equal(r.code, 2, `${cmd} ${file}: ${r.stderr}`);
        assert.ok(r.stderr.includes(`GeoIP database ${file}: `), r.stderr);
        assert.match(r.stderr, why);
        assert.equal(r.stdout, '');
        noStackTrace(r.stderr);
      }
    }
  });

  test('config key enrichment.geoip is used without the flag; the flag overrides it', async () => {
    const log = ndjson('cfg.ndjson', [signIn('erin', '2.2.3.4', '2026-03-02T09:00:00Z')]);
    const config = join(dir, 'certsignal.yaml');
    writeFileSync(config, `enrichment:\n  geoip: ${mmdb}\n`);
    const r = await runCli(['normalize', '--config', config, '--no-progress', log]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseLines<{ geo_status: string }>(r.stdout)[0].geo_status, 'geoip');
    const missing = join(dir, 'other.mmdb');
    const o = await runCli(['normalize', '--config', config, '--geoip', missing, '--no-progress', log]);
    assert.equal(o.code, 2);
    assert.ok(o.stderr.includes(missing), o.stderr);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'enrichment:\n  geoip: ""\n');
    const b = await runCli(['normalize', '--config', bad, '--no-progress', log]);
    assert.equal(b.code, 2, b.stderr);
    assert.match(b.stderr, /enrichment\.geoip/);
  });

  test('demo and eval accept --geoip', async () => {
    const demo = await runCli(['demo', '--geoip', mmdb, '--output', 'json']);
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stderr, /--geoip .*test\.mmdb/);
    assert.match(demo.stderr, /geoip: GeoLite2-City built 2026-01-01/);
    const demoBad = await runCli(['demo', '--geoip', join(dir, 'absent.mmdb'), '--output', 'json']);
    assert.equal(demoBad.code, 2);
    assert.match(demoBad.stderr, /absent\.mmdb: no such file/);

    const fleet = join(dir, 'fleet');
    const sim = await runCli(['simulate', '--out', fleet, '--days', '1', '--users', '5', '--no-attacks', '--no-benign', '-q']);
    assert.equal(sim.code, 0, sim.stderr);
    const ev = await runCli(['eval', fleet, '--geoip', mmdb, '--json', '-q']);
    assert.equal(ev.code, 0, ev.stderr);
    const report = JSON.parse(ev.stdout) as {
      analyze: { events: number; geoip: { database: { database_type: string }; statuses: Record<string, number> } };
    };
    assert.equal(report.analyze.geoip.database.database_type, 'GeoLite2-City');
    const counted = Object.values(report.analyze.geoip.statuses).reduce((a, b) => a + b, 0);
    assert.equal(counted, report.analyze.events, 'every event has a geo_status');
    const evBad = await runCli(['eval', fleet, '--geoip', join(dir, 'absent.mmdb'), '--json', '-q']);
    assert.equal(evBad.code, 2);
    assert.match(evBad.stderr, /absent\.mmdb: no such file/);
  });
});
