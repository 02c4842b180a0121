// The test-only MaxMind DB writer (tests/helpers/mmdb.ts) checked against the real reader
// (`maxmind`): every data type and size class, all three record sizes (including the 28-bit
// record's shared middle nibble, which only shows past 2^24), IPv4 and IPv6 trees, nested
// networks and the ::ffff:0:0/96 alias. If the writer were wrong here, every geo test would be
// testing a fiction.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Reader } from 'maxmind';
import {
  dbl,
  fixtureCityDatabase,
  MmdbUint,
  type MmdbValue,
  PARIS,
  SAO_PAULO,
  SYDNEY,
  u16,
  u64,
  writeMmdb,
} from '../helpers/mmdb.ts';

type Rec = Record<string, unknown>;
const read = (buf: Buffer) => new Reader<Rec>(buf);
const cityOf = (r: Rec | null) => ((r?.city as Rec | undefined)?.names as Rec | undefined)?.en ?? null;

describe('test .mmdb writer vs the maxmind reader', () => {
  for (const recordSize of [24, 28, 32] as const) {
    test(`record size ${recordSize}: IPv4 and IPv6 networks resolve to their records with their prefix lengths`, () => {
      const reader = read(fixtureCityDatabase({ recordSize }));
      assert.equal(reader.metadata.recordSize, recordSize);
      assert.equal(reader.metadata.ipVersion, 6);
      assert.equal(reader.metadata.databaseType, 'GeoLite2-City');
      assert.equal(reader.metadata.buildEpoch.toISOString(), '2026-01-01T00:00:00.000Z');
      assert.deepEqual(reader.metadata.languages, ['en', 'de', 'fr', 'ja']);
      const [paris, parisLen] = reader.getWithPrefixLength('2.2.200.4');
      assert.equal(cityOf(paris), 'Paris');
      // 2.2.0.0/16 was split around 2.2.99.0/24: its upper half is the node 2.2.128.0/17.
      assert.equal(parisLen, 17);
      assert.equal(reader.getWithPrefixLength('1.130.0.1')[1], 11);
      const loc = paris?.location as Rec;
      assert.deepEqual([loc.latitude, loc.longitude, loc.accuracy_radius], [PARIS.lat, PARIS.lon, PARIS.accuracy]);
      // The /24 inside the /16 wins; the rest of the /16 stays Paris on both sides of it.
      const [sp, spLen] = reader.getWithPrefixLength('2.2.99.200');
      assert.equal(cityOf(sp), SAO_PAULO.city);
      assert.equal(spLen, 24);
      assert.equal(cityOf(reader.get('2.2.98.255')), 'Paris');
      assert.equal(cityOf(reader.get('2.2.100.0')), 'Paris');
      assert.equal(cityOf(reader.get('1.159.255.255')), SYDNEY.city);
      assert.equal(reader.get('1.160.0.0'), null, 'just past 1.128.0.0/11');
      assert.equal(reader.get('8.8.8.8'), null);
      assert.equal(cityOf(reader.get('2a01:cb00:1234::1')), 'Paris');
      assert.equal(cityOf(reader.get('2001:8fff:ffff::1')), 'Sydney');
      assert.equal(reader.get('2001:9000::1'), null);
      // Without the alias an IPv4-mapped address is simply not in the tree.
      assert.equal(reader.get('::ffff:2.2.3.4'), null);
    });
  }

  test('::ffff:0:0/96 aliased to the IPv4 subtree, as MaxMind databases do', () => {
    const reader = read(fixtureCityDatabase({ aliasIpv4Mapped: true }));
    assert.equal(cityOf(reader.get('::ffff:2.2.3.4')), 'Paris');
    assert.equal(cityOf(reader.get('::ffff:1.128.0.1')), 'Sydney');
    assert.equal(cityOf(reader.get('2.2.3.4')), 'Paris');
  });

  test('an IPv4-only database (ip_version 4)', () => {
    const buf = writeMmdb([{ network: '1.128.0.0/11', data: { city: { names: { en: 'Sydney' } } } }], {
      databaseType: 'DBIP-City-Lite',
      ipVersion: 4,
      recordSize: 24,
    });
    const reader = read(buf);
    assert.equal(reader.metadata.ipVersion, 4);
    assert.equal(cityOf(reader.get('1.130.1.1')), 'Sydney');
    assert.equal(reader.get('2.2.3.4'), null);
  });

  test('every data type and size class round-trips', () => {
    const value: Record<string, MmdbValue> = {
      s0: '',
      s28: 'a'.repeat(28),
      s29: 'b'.repeat(29),
      s284: 'c'.repeat(284),
      s285: 'd'.repeat(285),
      s65820: 'e'.repeat(65820),
      s65821: 'f'.repeat(65821),
      utf8: 'São Paulo — 東京',
      u16: u16(65535),
      u32: 4294967295,
      u32zero: 0,
      u64: u64(2n ** 64n - 1n),
      u128: new MmdbUint(2n ** 100n + 7n, 128),
      i32: -123456,
      double: dbl(-33.8688),
      doubleInt: dbl(2),
      yes: true,
      no: false,
      bytes: Uint8Array.from([0, 1, 254, 255]),
      array: ['x', 1, dbl(1.5), [true]],
      nested: { a: { b: { c: 'deep' } } },
    };
    const reader = read(writeMmdb([{ network: '2.0.0.0/8', data: value }], { databaseType: 'Test-Types' }));
    const got = reader.get('2.1.2.3') as Rec;
    for (const key of ['s0', 's28', 's29', 's284', 's285', 's65820', 's65821', 'utf8']) assert.equal(got[key], value[key], key);
    assert.equal(got.u16, 65535);
    assert.equal(got.u32, 4294967295);
    assert.equal(got.u32zero, 0);
    assert.equal(BigInt(got.u64 as bigint), 2n ** 64n - 1n);
    assert.equal(BigInt(got.u128 as bigint), 2n ** 100n + 7n);
    assert.equal(got.i32, -123456);
    assert.equal(got.double, -33.8688);
    assert.equal(got.doubleInt, 2);
    assert.equal(got.yes, true);
    assert.equal(got.no, false);
    assert.deepEqual([...(got.bytes as Uint8Array)], [0, 1, 254, 255]);
    assert.deepEqual(got.array, ['x', 1, 1.5, [true]]);
    assert.deepEqual(got.nested, { a: { b: { c: 'deep' } } });
  });

  test('28-bit records past 2^24 use the middle nibble (data beyond 16 MiB)', () => {
    // A 17 MB record first pushes the second record's data pointer beyond 24 bits (one string
    // field may hold at most 16,843,036 bytes, so two).
    const half = 'x'.repeat(8.5 * 1024 * 1024);
    const big = [half, half];
    const buf = writeMmdb(
      [
        { network: '2.0.0.0/8', data: { filler: big } },
        { network: '3.0.0.0/8', data: { city: { names: { en: 'Far' } } } },
        { network: '2a00::/12', data: { city: { names: { en: 'FarV6' } } } },
      ],
      { databaseType: 'Test-Big', recordSize: 28 },
    );
    const reader = read(buf);
    assert.ok(buf.length > 2 ** 24);
    assert.equal(cityOf(reader.get('3.4.5.6')), 'Far');
    assert.equal(cityOf(reader.get('2a00:1::1')), 'FarV6');
    assert.deepEqual(
      ((reader.get('2.3.4.5') as Rec).filler as string[]).map((x) => x.length),
      [half.length, half.length],
    );
    assert.throws(
      () =>
        writeMmdb(
          [
            { network: '2.0.0.0/8', data: { filler: big } },
            { network: '3.0.0.0/8', data: 'y' },
          ],
          { databaseType: 'T', recordSize: 24 },
        ),
      /does not fit in 24 bits/,
    );
    assert.throws(
      () => writeMmdb([{ network: '2.0.0.0/8', data: 'z'.repeat(16_843_037) }], { databaseType: 'T' }),
      /larger than the format allows/,
    );
  });
});
