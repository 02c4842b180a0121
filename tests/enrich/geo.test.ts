// Geolocation enrichment: address parsing and the special-purpose ranges, opening and checking a
// .mmdb (each refusal names the file and why), GeoLite2 / DB-IP record shapes, the order of
// precedence (the event's own geo, then the database), the bounded cache, and impossible-travel
// run on what the Enricher produced. Databases are written by tests/helpers/mmdb.ts and read by
// the real `maxmind` reader.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { rule as travelRule } from '../../src/detect/impossible-travel/rule.ts';
import { Diagnostics } from '../../src/diagnostics.ts';
import {
  databaseKind,
  embeddedIpv4,
  formatIp,
  GeoEnricher,
  GeoIpDatabase,
  hasUsableGeo,
  LruCache,
  parseIp,
  specialRange,
} from '../../src/enrich/geo/index.ts';
import { Enricher } from '../../src/enrich/index.ts';
import { CertsignalError } from '../../src/errors.ts';
import type { Geo, NormalizedEvent } from '../../src/schema/event.ts';
import { makeEvent, runRule } from '../helpers/events.ts';
import { dbipCity, fixtureCityDatabase, PARIS, SAO_PAULO, SYDNEY, writeMmdb } from '../helpers/mmdb.ts';
import { createRootCA, type TestCert } from '../helpers/pki.ts';

let dir: string;
let cityPath: string;
let aliceCert: TestCert;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certsignal-geo-'));
  cityPath = join(dir, 'city.mmdb');
  writeFileSync(cityPath, fixtureCityDatabase());
  const ca = await createRootCA('CN=Geo Test CA, O=Example Corp');
  aliceCert = await ca.issue({ subject: 'CN=alice, O=Example Corp' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, data: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

/** The CertsignalError `fn` throws (E_GEOIP, exit 2) — its message must name the file. */
function geoError(fn: () => unknown, path: string): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof CertsignalError, String(error));
    assert.equal(error.code, 'E_GEOIP');
    assert.equal(error.exitCode, 2);
    assert.ok(error.message.includes(path), error.message);
    return error.message;
  }
  assert.fail('no error thrown');
}

describe('addresses', () => {
  test('parseIp: IPv4, IPv6 (compressed, embedded dotted quad, brackets, zone); garbage is null', () => {
    assert.equal(formatIp(parseIp('2.2.3.4') as never), '2.2.3.4');
    assert.equal(formatIp(parseIp('2a01:cb00::1') as never), '2a01:cb00:0:0:0:0:0:1');
    assert.equal(formatIp(parseIp('[2a01:cb00::1]') as never), '2a01:cb00:0:0:0:0:0:1');
    assert.equal(formatIp(parseIp('fe80::1%eth0') as never), 'fe80:0:0:0:0:0:0:1');
    assert.equal(formatIp(parseIp('::ffff:10.1.2.3') as never), '0:0:0:0:0:ffff:a01:203');
    assert.equal(formatIp(parseIp('1:2:3:4:5:6:7:8') as never), '1:2:3:4:5:6:7:8');
    assert.equal(formatIp(parseIp('::') as never), '0:0:0:0:0:0:0:0');
    for (const bad of ['', 'host.example.com', '1.2.3', '1.2.3.256', '01.2.3.4', '1.2.3.4:443', '2a01::cb00::1', 'gggg::1']) {
      assert.equal(parseIp(bad), null, bad);
    }
  });

  test('embedded IPv4: IPv4-mapped, NAT64 well-known prefix and 6to4 stand for their IPv4 address', () => {
    const v4 = (s: string) => {
      const e = embeddedIpv4(parseIp(s) as never);
      return e === null ? null : formatIp(e);
    };
    assert.equal(v4('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(v4('::ffff:0202:0304'), '2.2.3.4');
    assert.equal(v4('64:ff9b::1.128.0.1'), '1.128.0.1');
    assert.equal(v4('2002:0202:0304::1'), '2.2.3.4');
    assert.equal(v4('2a01:cb00::1'), null);
    assert.equal(v4('::1'), null);
    assert.equal(v4('1.2.3.4'), null);
  });

  test('special-purpose ranges: private vs reserved with their labels; public addresses are null', () => {
    const cases: [string, 'private' | 'reserved' | null, string | null][] = [
      ['10.0.0.1', 'private', 'rfc1918'],
      ['172.16.0.1', 'private', 'rfc1918'],
      ['172.31.255.255', 'private', 'rfc1918'],
      ['172.32.0.1', null, null],
      ['192.168.10.20', 'private', 'rfc1918'],
      ['100.64.0.1', 'private', 'cgnat'],
      ['100.127.255.255', 'private', 'cgnat'],
      ['100.128.0.1', null, null],
      ['127.0.0.1', 'private', 'loopback'],
      ['169.254.1.1', 'private', 'link-local'],
      ['0.0.0.0', 'reserved', 'this-network'],
      ['192.0.0.8', 'reserved', 'ietf-protocol'],
      ['192.0.2.10', 'reserved', 'documentation'],
      ['198.51.100.7', 'reserved', 'documentation'],
      ['203.0.113.99', 'reserved', 'documentation'],
      ['198.18.0.1', 'reserved', 'benchmarking'],
      ['198.19.255.255', 'reserved', 'benchmarking'],
      ['198.20.0.1', null, null],
      ['192.88.99.1', 'reserved', '6to4-relay'],
      ['224.0.0.251', 'reserved', 'multicast'],
      ['239.255.255.250', 'reserved', 'multicast'],
      ['240.0.0.1', 'reserved', 'future-use'],
      ['255.255.255.255', 'reserved', 'broadcast'],
      ['8.8.8.8', null, null],
      ['::', 'reserved', 'unspecified'],
      ['::1', 'private', 'loopback'],
      ['fc00::1', 'private', 'unique-local'],
      ['fd12:3456:789a::1', 'private', 'unique-local'],
      ['fe80::1', 'private', 'link-local'],
      ['febf::1', 'private', 'link-local'],
      ['fec0::1', 'private', 'site-local'],
      ['ff02::1', 'reserved', 'multicast'],
      ['2001:db8::1', 'reserved', 'documentation'],
      ['3fff::1', 'reserved', 'documentation'],
      ['2001::1', 'reserved', 'ietf-protocol'],
      ['100::1', 'reserved', 'discard-only'],
      ['64:ff9b:1::1', 'private', 'nat64-local'],
      ['4000::1', 'reserved', 'not-global-unicast'],
      ['2a01:cb00::1', null, null],
      ['2001:8000::1', null, null],
    ];
    for (const [ip, kind, label] of cases) {
      const r = specialRange(parseIp(ip) as never);
      assert.deepEqual(r === null ? [null, null] : [r.kind, r.label], [kind, label], ip);
    }
  });
});

describe('opening a database', () => {
  test('a GeoLite2-City file: type, kind, build date, IP version', () => {
    const db = GeoIpDatabase.open(cityPath);
    assert.deepEqual(
      { ...db.info },
      {
        path: cityPath,
        database_type: 'GeoLite2-City',
        kind: 'city',
        build_date: '2026-01-01T00:00:00.000Z',
        ip_version: 6,
        node_count: db.info.node_count,
        record_size: 28,
      },
    );
    assert.ok(db.info.node_count > 100);
  });

  test('database_type decides city / country / refused', () => {
    assert.equal(databaseKind('GeoLite2-City'), 'city');
    assert.equal(databaseKind('GeoIP2-City'), 'city');
    assert.equal(databaseKind('GeoIP2-Enterprise'), 'city');
    assert.equal(databaseKind('DBIP-City-Lite'), 'city');
    assert.equal(databaseKind('DBIP-Location (compat=City)'), 'city');
    assert.equal(databaseKind('GeoLite2-Country'), 'country');
    assert.equal(databaseKind('DBIP-Country-Lite'), 'country');
    for (const t of [
      'GeoLite2-ASN',
      'DBIP-ASN-Lite (compat=GeoLite2-ASN)',
      'GeoIP2-ISP',
      'GeoIP2-Anonymous-IP',
      'GeoIP2-Connection-Type',
      'GeoIP2-Domain',
    ]) {
      const k = databaseKind(t);
      assert.ok(typeof k !== 'string' && /holds no locations/.test(k.error), t);
    }
    const other = databaseKind('Corp-Internal-Ranges');
    assert.ok(typeof other !== 'string' && /not a City or Country database/.test(other.error));
  });

  test('missing, a directory, not an mmdb, truncated, wrong version, ASN: exit-2 errors naming the file and why', () => {
    const missing = join(dir, 'nope.mmdb');
    assert.match(
      geoError(() => GeoIpDatabase.open(missing), missing),
      /no such file/,
    );
    assert.match(
      geoError(() => GeoIpDatabase.open(dir), dir),
      /is a directory/,
    );
    const text = write('text.mmdb', Buffer.from('this is not a database\n'.repeat(100)));
    assert.match(
      geoError(() => GeoIpDatabase.open(text), text),
      /not a MaxMind DB file/,
    );
    const full = fixtureCityDatabase();
    const cut = write('cut.mmdb', full.subarray(0, Math.floor(full.length / 2)));
    assert.match(
      geoError(() => GeoIpDatabase.open(cut), cut),
      /not a MaxMind DB file .*truncated/,
    );
    // The tree cut short at the front: the metadata survives, but the tree it describes does not fit.
    const markerAt = full.lastIndexOf(Buffer.from('\xab\xcd\xefMaxMind.com', 'latin1'));
    const shortTree = write('short-tree.mmdb', full.subarray(markerAt - 1000));
    assert.match(
      geoError(() => GeoIpDatabase.open(shortTree), shortTree),
      /truncated or corrupt: the search tree/,
    );
    const asn = write(
      'asn.mmdb',
      writeMmdb([{ network: '2.2.0.0/16', data: { autonomous_system_number: 3215, autonomous_system_organization: 'Orange' } }], {
        databaseType: 'GeoLite2-ASN',
      }),
    );
    assert.match(
      geoError(() => GeoIpDatabase.open(asn), asn),
      /"GeoLite2-ASN" holds no locations .*City or Country database/,
    );
    const dbipAsn = write(
      'dbip-asn.mmdb',
      writeMmdb([{ network: '2.2.0.0/16', data: { autonomous_system_number: 3215 } }], {
        databaseType: 'DBIP-ASN-Lite (compat=GeoLite2-ASN)',
      }),
    );
    assert.match(
      geoError(() => GeoIpDatabase.open(dbipAsn), dbipAsn),
      /holds no locations/,
    );
    // binary_format_major_version is the 7th metadata key: rewrite the file with version 3.
    const v3 = Buffer.from(full);
    const key = Buffer.from('binary_format_major_version');
    const at = v3.lastIndexOf(key) + key.length;
    assert.equal(v3[at], 0xa1, 'uint16 of one byte');
    v3[at + 1] = 3;
    const v3Path = write('v3.mmdb', v3);
    assert.match(
      geoError(() => GeoIpDatabase.open(v3Path), v3Path),
      /unsupported MaxMind DB format version 3/,
    );
  });

  test('a gzipped .mmdb is read; a .tar.gz is refused with what to do', () => {
    const gz = write('city.mmdb.gz', gzipSync(fixtureCityDatabase()));
    assert.equal(GeoIpDatabase.open(gz).info.database_type, 'GeoLite2-City');
    const header = Buffer.alloc(512);
    header.write('GeoLite2-City_20260101/GeoLite2-City.mmdb', 0);
    header.write('ustar', 257);
    const tarGz = write('GeoLite2-City.tar.gz', gzipSync(Buffer.concat([header, fixtureCityDatabase()])));
    assert.match(
      geoError(() => GeoIpDatabase.open(tarGz), tarGz),
      /tar archive: extract the \.mmdb/,
    );
  });
});

describe('record shapes', () => {
  test('GeoLite2-City: country, name, city, point and accuracy radius; country-level records give no point', () => {
    const db = GeoIpDatabase.open(cityPath);
    const at = (ip: string) => db.lookup(parseIp(ip) as never);
    assert.deepEqual(at('2.2.3.4'), {
      country_iso_code: 'FR',
      country_name: 'France',
      city_name: 'Paris',
      lat: PARIS.lat,
      lon: PARIS.lon,
      source: 'geoip',
      accuracy_radius_km: 20,
    });
    assert.equal(at('2.2.99.1')?.city_name, SAO_PAULO.city);
    assert.deepEqual(
      [at('1.150.0.1')?.city_name, at('1.150.0.1')?.lat, at('1.150.0.1')?.accuracy_radius_km],
      ['Sydney', SYDNEY.lat, 50],
    );
    assert.equal(at('2001:8000::42')?.city_name, 'Sydney');
    // The UK record has a location (the country's centre, radius 1000 km) but no city: country only.
    assert.deepEqual(at('81.2.69.160'), {
      country_iso_code: 'GB',
      country_name: 'United Kingdom',
      city_name: null,
      lat: null,
      lon: null,
      source: 'geoip',
      accuracy_radius_km: null,
    });
    assert.equal(at('8.8.8.8'), null);
    assert.equal(at('2c0f:fb50::1'), null);
  });

  test('DB-IP Lite City: same Geo, no accuracy radius; an IPv4-only database answers null for IPv6', () => {
    const path = write(
      'dbip-city.mmdb',
      writeMmdb(
        [
          { network: '1.128.0.0/11', data: dbipCity(SYDNEY) },
          { network: '2.2.0.0/16', data: dbipCity(PARIS) },
        ],
        { databaseType: 'DBIP-City-Lite', ipVersion: 4, recordSize: 24 },
      ),
    );
    const db = GeoIpDatabase.open(path);
    assert.equal(db.info.kind, 'city');
    assert.deepEqual(db.lookup(parseIp('1.130.4.5') as never), {
      country_iso_code: 'AU',
      country_name: 'Australia',
      city_name: 'Sydney',
      lat: SYDNEY.lat,
      lon: SYDNEY.lon,
      source: 'geoip',
      accuracy_radius_km: null,
    });
    assert.equal(db.lookup(parseIp('2001:8000::1') as never), null);
  });

  test('Country databases (GeoLite2-Country, DB-IP Lite Country) give the country only', () => {
    const country = {
      continent: { code: 'EU', names: { en: 'Europe' } },
      country: { iso_code: 'FR', names: { en: 'France', de: 'Frankreich' } },
    };
    for (const type of ['GeoLite2-Country', 'DBIP-Country-Lite']) {
      // Even a record that (against the schema) carries a city and a point is read as a country.
      const path = write(
        `${type}.mmdb`,
        writeMmdb(
          [
            {
              network: '2.2.0.0/16',
              data: { ...country, city: { names: { en: 'Paris' } }, location: { latitude: 48.85, longitude: 2.35 } },
            },
          ],
          { databaseType: type },
        ),
      );
      const db = GeoIpDatabase.open(path);
      assert.equal(db.info.kind, 'country');
      assert.deepEqual(
        db.lookup(parseIp('2.2.3.4') as never),
        {
          country_iso_code: 'FR',
          country_name: 'France',
          city_name: null,
          lat: null,
          lon: null,
          source: 'geoip',
          accuracy_radius_km: null,
        },
        type,
      );
    }
  });

  test('names fall back to the database languages when there is no English one', () => {
    const path = write(
      'de.mmdb',
      writeMmdb(
        [{ network: '2.2.0.0/16', data: { country: { iso_code: 'DE', names: { fr: 'Allemagne', de: 'Deutschland' } } } }],
        { databaseType: 'GeoLite2-Country', languages: ['de', 'fr'] },
      ),
    );
    assert.equal(GeoIpDatabase.open(path).lookup(parseIp('2.2.0.1') as never)?.country_name, 'Deutschland');
  });
});

describe('GeoEnricher', () => {
  const event = (source_ip: string | null, geo: Geo | null = null) => makeEvent({ user: 'alice', source_ip, geo });

  test('precedence: the event’s own location wins; a usable one is kept and marked source event', () => {
    const geo = new GeoEnricher(GeoIpDatabase.open(cityPath));
    const berlin: Geo = { country_iso_code: 'DE', city_name: 'Berlin', lat: 52.52, lon: 13.405 };
    const e = event('2.2.3.4', { ...berlin });
    geo.apply(e);
    assert.equal(e.geo_status, 'event');
    assert.deepEqual(e.geo, { ...berlin, source: 'event' });
    // Country only counts as the event's location too (not replaced by the database's city).
    const c = event('2.2.3.4', { country_iso_code: 'DE', city_name: null, lat: null, lon: null });
    geo.apply(c);
    assert.equal(c.geo_status, 'event');
    assert.equal(c.geo?.city_name, null);
    // A city name alone, or the 0,0 placeholder, is not a location: the database is asked.
    for (const partial of [
      { country_iso_code: null, city_name: 'Somewhere', lat: null, lon: null },
      { country_iso_code: null, city_name: null, lat: 0, lon: 0 },
    ]) {
      const p = event('2.2.3.4', partial);
      geo.apply(p);
      assert.equal(p.geo_status, 'geoip');
      assert.equal(p.geo?.city_name, 'Paris');
    }
    assert.equal(hasUsableGeo(null), false);
  });

  test('public addresses are looked up (IPv4, IPv6, IPv4-mapped, 6to4); unknown ones stay unknown', () => {
    const geo = new GeoEnricher(GeoIpDatabase.open(cityPath));
    const cases: [string, string, string | null][] = [
      ['2.2.3.4', 'geoip', 'Paris'],
      ['1.128.7.7', 'geoip', 'Sydney'],
      ['2a01:cb00::beef', 'geoip', 'Paris'],
      ['[2001:8000::1]', 'geoip', 'Sydney'],
      // The fixture has no ::ffff:0:0/96 alias: found only because certsignal unwraps the address.
      ['::ffff:2.2.3.4', 'geoip', 'Paris'],
      ['::ffff:0101:0101', 'not-found', null],
      ['2002:0180:0001::1', 'geoip', 'Sydney'],
      ['8.8.8.8', 'not-found', null],
      ['81.2.69.160', 'geoip', null],
    ];
    for (const [ip, status, city] of cases) {
      const e = event(ip);
      geo.apply(e);
      assert.equal(e.geo_status, status, ip);
      assert.equal(e.geo?.city_name ?? null, city, ip);
      assert.equal(e.geo_range, undefined, ip);
    }
  });

  test('private and reserved addresses are never looked up, even where the database has a record', () => {
    const geo = new GeoEnricher(GeoIpDatabase.open(cityPath));
    const cases: [string, string, string][] = [
      ['10.20.0.10', 'private', 'rfc1918'],
      ['::ffff:10.20.0.10', 'private', 'rfc1918'],
      ['100.64.3.3', 'private', 'cgnat'],
      ['192.0.2.44', 'reserved', 'documentation'],
      ['127.0.0.1', 'private', 'loopback'],
      ['::1', 'private', 'loopback'],
      ['fd00:1::5', 'private', 'unique-local'],
      ['fe80::1%en0', 'private', 'link-local'],
      ['2002:0a00:0001::1', 'private', 'rfc1918'],
      ['239.1.1.1', 'reserved', 'multicast'],
    ];
    for (const [ip, status, range] of cases) {
      const e = event(ip);
      geo.apply(e);
      assert.deepEqual([e.geo, e.geo_status, e.geo_range], [null, status, range], ip);
    }
  });

  test('no database, no address, a bad address: explicit statuses; counts per status in stats', () => {
    const geo = new GeoEnricher(null);
    const statuses = ['2.2.3.4', '10.0.0.1', null, 'not-an-ip', '2.2.3.4'].map((ip) => {
      const e = event(ip);
      geo.apply(e);
      assert.equal(e.geo, null);
      return e.geo_status;
    });
    assert.deepEqual(statuses, ['no-database', 'private', 'no-ip', 'invalid-ip', 'no-database']);
    const stats = geo.stats();
    assert.equal(stats.database, null);
    assert.deepEqual(stats.statuses, { 'no-database': 2, private: 1, 'no-ip': 1, 'invalid-ip': 1 });
  });

  test('lookups are cached per address in a bounded LRU', () => {
    const geo = new GeoEnricher(GeoIpDatabase.open(cityPath), { cacheSize: 2 });
    const a1 = geo.resolve('2.2.3.4');
    assert.equal(geo.resolve('2.2.3.4'), a1, 'the same result object: served from the cache');
    geo.resolve('1.128.0.1');
    geo.resolve('8.8.8.8');
    const s = geo.stats().cache;
    assert.deepEqual([s.hits, s.misses, s.size, s.max], [1, 3, 2, 2]);
    // 2.2.3.4 was least recently used when 8.8.8.8 came: evicted, so this is a fresh lookup.
    assert.notEqual(geo.resolve('2.2.3.4'), a1);
    assert.deepEqual(geo.resolve('2.2.3.4').geo, a1.geo);

    const lru = new LruCache<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    assert.equal(lru.get('a'), 1);
    lru.set('c', 3);
    assert.deepEqual([lru.get('a'), lru.get('b'), lru.get('c'), lru.size], [1, undefined, 3, 2]);
    assert.throws(() => new LruCache(0), RangeError);
  });

  test('a record that does not decode is a diagnostic and an unknown location, not a crash', () => {
    const buf = Buffer.from(fixtureCityDatabase({ recordSize: 24 }));
    // The first data record sits right after the tree (node_count × 6 bytes) and the 16-byte
    // separator: make its control byte an extended type with an invalid type byte.
    const dataStart = (GeoIpDatabase.fromBuffer(buf, 'x.mmdb').info.node_count * 24) / 4 + 16;
    buf[dataStart] = 0x00;
    buf[dataStart + 1] = 0x00;
    const diagnostics = new Diagnostics();
    const geo = new GeoEnricher(GeoIpDatabase.fromBuffer(buf, 'broken.mmdb'), { diagnostics });
    const e = makeEvent({ user: 'alice', source_ip: '2.2.3.4' });
    geo.apply(e);
    assert.deepEqual([e.geo, e.geo_status], [null, 'not-found']);
    assert.equal(diagnostics.counts.get('geoip-bad-record'), 1);
    assert.match(diagnostics.kept[0].message, /broken\.mmdb: the record for 2\.2\.3\.4 does not decode/);
    assert.equal(diagnostics.kept[0].field, 'source.ip');
  });
});

describe('impossible-travel on enriched events', () => {
  const HOUR = 3_600_000;
  const T0 = Date.parse('2026-03-02T09:00:00Z');

  async function travel(
    ips: [string, string],
    geoip: string | null = cityPath,
  ): Promise<{ events: NormalizedEvent[]; signals: ReturnType<typeof runRule> }> {
    const enricher = await Enricher.create({ geoip });
    const events = ips.map((ip, i) =>
      makeEvent({ cert: aliceCert, user: 'alice', device: 'lap-1', source_ip: ip, at: T0 + i * 0.5 * HOUR }),
    );
    for (const e of events) enricher.enrich(e);
    // The cold-start wait is off: these are the account's first two uses.
    return { events, signals: runRule(travelRule, events, { config: { min_history_hours: 0 } }) };
  }

  test('Paris then Sydney 30 minutes later, both located by the database: an alert with both places', async () => {
    const { events, signals } = await travel(['2.2.3.4', '1.128.0.9']);
    assert.deepEqual(
      events.map((e) => e.geo_status),
      ['geoip', 'geoip'],
    );
    assert.equal(signals.length, 1);
    const ev = signals[0].evidence;
    const from = ev.from as Record<string, unknown>;
    const to = ev.to as Record<string, unknown>;
    assert.deepEqual(
      [from.city, from.country, from.ip, to.city, to.country, to.ip],
      ['Paris', 'FR', '2.2.3.4', 'Sydney', 'AU', '1.128.0.9'],
    );
    // Where the points came from and how precise the database says they are.
    assert.deepEqual(
      [from.geo_source, from.accuracy_radius_km, to.geo_source, to.accuracy_radius_km],
      ['geoip', PARIS.accuracy, 'geoip', SYDNEY.accuracy],
    );
    assert.ok((ev.distance_km as number) > 16_000 && (ev.distance_km as number) < 17_500, String(ev.distance_km));
    assert.ok((ev.speed_kmh as number) > 30_000);
  });

  test('the same over IPv6 and IPv4-mapped addresses', async () => {
    const { signals } = await travel(['2a01:cb00::10', '::ffff:1.128.0.9']);
    assert.equal(signals.length, 1);
  });

  test('private and reserved addresses never produce a travel alert (even though the database maps them far apart)', async () => {
    for (const pair of [
      ['10.1.1.1', '100.64.0.1'],
      ['10.1.1.1', '192.0.2.5'],
      ['2.2.3.4', '10.9.9.9'],
      ['10.1.1.1', '1.128.0.9'],
    ] as [string, string][]) {
      const { events, signals } = await travel(pair);
      assert.deepEqual(signals, [], pair.join(' → '));
      assert.ok(events.some((e) => e.geo === null && (e.geo_status === 'private' || e.geo_status === 'reserved')));
    }
  });

  test('a country-only location, an unknown address or no database: no alert (unknown is unknown)', async () => {
    assert.deepEqual((await travel(['81.2.69.1', '1.128.0.9'])).signals, []);
    assert.deepEqual((await travel(['8.8.8.8', '1.128.0.9'])).signals, []);
    const none = await travel(['2.2.3.4', '1.128.0.9'], null);
    assert.deepEqual(none.signals, []);
    assert.deepEqual(
      none.events.map((e) => e.geo_status),
      ['no-database', 'no-database'],
    );
  });
});
