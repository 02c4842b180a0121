// Tests for the IPv4/IPv6 address and CIDR matcher behind allowlist `source_cidr`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Cidr, cidrContains, formatIp, type IpAddress, parseCidr, parseIp } from './cidr.ts';

function ip(text: string): IpAddress {
  const parsed = parseIp(text);
  assert.ok(parsed, `${text} should parse`);
  return parsed;
}

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  assert.ok(parsed.ok, `${text} should parse: ${parsed.ok ? '' : parsed.error}`);
  return parsed.cidr;
}

function contains(network: string, address: string): boolean {
  return cidrContains(cidr(network), ip(address));
}

test('parseIp accepts IPv4 and every IPv6 spelling, canonicalising to the same bytes', () => {
  assert.deepEqual([...ip('192.0.2.1').bytes], [192, 0, 2, 1]);
  assert.deepEqual([...ip('0.0.0.0').bytes], [0, 0, 0, 0]);
  assert.deepEqual([...ip('255.255.255.255').bytes], [255, 255, 255, 255]);
  const full = ip('2001:0db8:0000:0000:0000:0000:0000:0001');
  for (const spelling of ['2001:db8::1', '2001:DB8:0:0:0:0:0:1', '[2001:db8::1]', '2001:db8::1%eth0', '2001:db8:0::0:1']) {
    assert.deepEqual(ip(spelling).bytes, full.bytes, spelling);
  }
  assert.deepEqual([...ip('::').bytes], new Array(16).fill(0));
  assert.equal(formatIp(ip('::1')), '::1');
  assert.equal(formatIp(ip('1::')), '1::');
  assert.equal(formatIp(ip('::ffff:192.0.2.1')), '::ffff:c000:201');
  assert.deepEqual([...ip('64:ff9b::192.0.2.33').bytes.subarray(12)], [192, 0, 2, 33]);
});

test('parseIp refuses malformed addresses, ports and octal-looking octets', () => {
  for (const bad of [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.04',
    '1.2.3.4:443',
    ' 1.2.3.4x',
    'a.b.c.d',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '1::2::3',
    ':::',
    ':1::',
    '12345::',
    'g::1',
    '1.2.3.4::',
    '::1.2.3',
    'localhost',
  ]) {
    assert.equal(parseIp(bad), null, JSON.stringify(bad));
  }
});

test('RFC 5952 formatting compresses the longest zero run, not a single zero group', () => {
  assert.equal(formatIp(ip('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(formatIp(ip('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIp(ip('2001:0:0:1:0:0:0:1')), '2001:0:0:1::1');
});

test('/0 matches every address of the family', () => {
  for (const address of ['0.0.0.0', '10.1.2.3', '255.255.255.255']) assert.ok(contains('0.0.0.0/0', address));
  for (const address of ['::', '2001:db8::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']) assert.ok(contains('::/0', address));
});

test('/32 and /128 match exactly one address; a bare address means the same', () => {
  assert.ok(contains('192.0.2.7/32', '192.0.2.7'));
  assert.ok(!contains('192.0.2.7/32', '192.0.2.6'));
  assert.ok(!contains('192.0.2.7/32', '192.0.2.8'));
  assert.ok(contains('192.0.2.7', '192.0.2.7'));
  assert.ok(!contains('192.0.2.7', '192.0.2.70'));
  assert.ok(contains('2001:db8::7/128', '2001:db8:0:0:0:0:0:7'));
  assert.ok(!contains('2001:db8::7/128', '2001:db8::6'));
  assert.ok(!contains('2001:db8::7/128', '2001:db8::7:0'));
  assert.ok(contains('2001:db8::7', '2001:db8::7'));
});

test('prefixes that do not fall on a byte boundary', () => {
  assert.ok(contains('10.0.0.0/9', '10.127.255.255'));
  assert.ok(!contains('10.0.0.0/9', '10.128.0.0'));
  assert.ok(contains('192.168.1.0/31', '192.168.1.1'));
  assert.ok(!contains('192.168.1.0/31', '192.168.1.2'));
  assert.ok(contains('2001:db8::/33', '2001:db8:7fff::1'));
  assert.ok(!contains('2001:db8::/33', '2001:db8:8000::'));
  assert.ok(contains('2001:db8::/127', '2001:db8::1'));
  assert.ok(!contains('2001:db8::/127', '2001:db8::2'));
  assert.ok(contains('fe80::/10', 'febf::1'));
  assert.ok(!contains('fe80::/10', 'fec0::1'));
});

test('IPv4 and IPv4-mapped IPv6 are the same address, in both directions', () => {
  assert.ok(contains('192.0.2.0/24', '::ffff:192.0.2.55'));
  assert.ok(!contains('192.0.2.0/24', '::ffff:198.51.100.1'));
  assert.ok(contains('::ffff:192.0.2.0/120', '192.0.2.55'));
  assert.ok(contains('::ffff:0:0/96', '203.0.113.9'));
  // not mapped: an IPv4 network does not contain arbitrary IPv6 addresses ending in those bytes
  assert.ok(!contains('192.0.2.0/24', '::192.0.2.55'));
  assert.ok(!contains('192.0.2.0/24', '2001:db8::c000:237'));
  assert.ok(!contains('2001:db8::/32', '192.0.2.1'));
  assert.ok(!contains('0.0.0.0/0', '2001:db8::1'));
});

test('parseCidr explains what is wrong, and suggests the network when host bits are set', () => {
  const cases: [string, RegExp][] = [
    ['10.1.2.3/8', /host bits are set \(did you mean 10\.0\.0\.0\/8\?\)/],
    ['2001:db8::1/32', /did you mean 2001:db8::\/32\?/],
    ['10.0.0.0/33', /prefix length must be 0\.\.32/],
    ['2001:db8::/129', /0\.\.128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/08', /prefix length/],
    ['10.0.0.0/-1', /prefix length/],
    ['10.0.0.0/8/8', /prefix length/],
    ['lab-net/24', /not an IPv4 or IPv6 address/],
    ['fe80::%eth0/64', /zone/],
  ];
  for (const [text, pattern] of cases) {
    const parsed = parseCidr(text);
    assert.equal(parsed.ok, false, text);
    if (!parsed.ok) assert.match(parsed.error, pattern, text);
  }
});

test('property: an IPv4 network contains every address sharing its prefix and no other', () => {
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (a, b, prefix) => {
      const toIp = (n: number): IpAddress => ({
        version: 4,
        bytes: new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]),
      });
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      const network = `${formatIp(toIp((a & mask) >>> 0))}/${prefix}`;
      const expected = (a & mask) >>> 0 === (b & mask) >>> 0;
      assert.equal(cidrContains(cidr(network), toIp(b)), expected);
      assert.ok(cidrContains(cidr(network), toIp(a)));
    }),
  );
});

test('property: IPv6 formatting round-trips and a network contains its own addresses', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }), (bytes, prefix) => {
      const address: IpAddress = { version: 6, bytes };
      const text = formatIp(address);
      assert.deepEqual(parseIp(text)?.bytes, bytes);
      const masked = new Uint8Array(16);
      for (let i = 0; i < 16; i++) {
        const bits = Math.max(0, Math.min(8, prefix - i * 8));
        masked[i] = bytes[i] & ((0xff << (8 - bits)) & 0xff);
      }
      assert.ok(cidrContains(cidr(`${formatIp({ version: 6, bytes: masked })}/${prefix}`), address));
    }),
  );
});
