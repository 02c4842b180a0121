// XFCC parser tests: the examples of Envoy's documentation, hop reporting and trust selection,
// malformed headers (errors with offset and key, never a throw) and a round-trip property.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  clientElement,
  decodeXfccPem,
  parseXfcc,
  serializeXfcc,
  splitPemBundle,
  trustedElements,
  type XfccResult,
} from './xfcc.ts';

const HASH_A = '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688';
const HASH_B = '9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e';

function ok(r: XfccResult) {
  if (!r.ok) assert.fail(r.error.message);
  return r.elements;
}

test('Envoy docs example: By, Hash, quoted slash Subject, URI', () => {
  const [e, ...rest] = ok(
    parseXfcc(
      `By=http://frontend.lyft.com;Hash=${HASH_A};Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com`,
    ),
  );
  assert.equal(rest.length, 0);
  assert.deepEqual(e.by, ['http://frontend.lyft.com']);
  assert.equal(e.hash, HASH_A);
  assert.equal(e.subject, '/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client');
  assert.deepEqual(e.uri, ['http://testclient.lyft.com']);
  assert.deepEqual([e.index, e.hop, e.cert, e.chain], [0, 0, null, null]);
});

test('Envoy docs example: two elements (two hops); the last one is hop 0', () => {
  const es = ok(
    parseXfcc(
      `By=http://frontend.lyft.com;Hash=${HASH_A};URI=http://testclient.lyft.com,By=http://backend.lyft.com;Hash=${HASH_B};URI=http://frontend.lyft.com`,
    ),
  );
  assert.equal(es.length, 2);
  assert.deepEqual(
    es.map((e) => [e.index, e.hop, e.by[0], e.hash, e.uri[0]]),
    [
      [0, 1, 'http://frontend.lyft.com', HASH_A, 'http://testclient.lyft.com'],
      [1, 0, 'http://backend.lyft.com', HASH_B, 'http://frontend.lyft.com'],
    ],
  );
  // Default trust: the nearest proxy only.
  assert.equal(clientElement(es)?.by[0], 'http://backend.lyft.com');
  assert.deepEqual(
    trustedElements(es).map((e) => e.index),
    [1],
  );
  // Trusting both proxies: the farthest trusted element describes the original client.
  assert.equal(clientElement(es, 2)?.uri[0], 'http://testclient.lyft.com');
  assert.equal(clientElement(es, 0), null);
  assert.equal(es[1].offset, `By=http://frontend.lyft.com;Hash=${HASH_A};URI=http://testclient.lyft.com,`.length);
});

test('Envoy docs example: repeated DNS keys', () => {
  const [e] = ok(
    parseXfcc(`By=http://frontend.lyft.com;Hash=${HASH_A};URI=http://testclient.lyft.com;DNS=lyft.com;DNS=www.lyft.com`),
  );
  assert.deepEqual(e.dns, ['lyft.com', 'www.lyft.com']);
});

test('RFC 2253 Subject with commas, an escaped comma and an escaped quote; keys are case-insensitive', () => {
  const [e] = ok(
    parseXfcc(
      String.raw`by=spiffe://cluster.local/ns/gw/sa/envoy;HASH=${HASH_A};subject="CN=Doe\, John,OU=Eng;Ops,O=Ex \"Corp\",C=US";uri=spiffe://cluster.local/ns/app/sa/web`,
    ),
  );
  assert.equal(e.subject, String.raw`CN=Doe\, John,OU=Eng;Ops,O=Ex "Corp",C=US`);
  assert.deepEqual(e.by, ['spiffe://cluster.local/ns/gw/sa/envoy']);
  assert.deepEqual(e.uri, ['spiffe://cluster.local/ns/app/sa/web']);
  assert.deepEqual(
    e.pairs.map((p) => p.key),
    ['by', 'HASH', 'subject', 'uri'],
  );
});

test('whitespace around separators (HTTP header joining) and an empty header', () => {
  const es = ok(parseXfcc(' By=a ; Hash=b , By=c;URI="x" '));
  assert.deepEqual(
    es.map((e) => [e.by[0], e.hash, e.uri]),
    [
      ['a', 'b', []],
      ['c', null, ['x']],
    ],
  );
  assert.deepEqual(ok(parseXfcc('')), []);
  assert.deepEqual(ok(parseXfcc('   ')), []);
});

test('Cert and Chain: URL-encoded PEM decodes; the bundle splits into certificates', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB+zCC/abc=\n-----END CERTIFICATE-----\n';
  const enc = encodeURIComponent(pem);
  const [e] = ok(parseXfcc(`Hash=${HASH_A};Cert="${enc}";Chain="${enc}${enc}"`));
  assert.equal(decodeXfccPem(e.cert ?? ''), pem);
  assert.deepEqual(splitPemBundle(decodeXfccPem(e.chain ?? '') ?? ''), [pem, pem]);
  assert.equal(decodeXfccPem('%E0%A4%A'), null);
});

test('malformed headers: clear errors naming the offset and key, never a throw', () => {
  const cases: [string, string, number, string | null][] = [
    ['By=a;Subject="CN=x', 'unterminated-quote', 13, 'Subject'],
    ['By=a;Hash', 'missing-equals', 5, 'Hash'],
    ['By=a,,By=b', 'empty-element', 5, null],
    [',By=a', 'empty-element', 0, null],
    ['By=a,', 'empty-element', 5, null],
    ['By=a;;Hash=b', 'empty-pair', 5, null],
    ['=x', 'bad-key', 0, null],
    ['Subject="a"b', 'text-after-quote', 11, 'Subject'],
    ['By=a"b', 'stray-quote', 4, 'By'],
    ['Hash=a;Hash=b', 'duplicate-key', 7, 'Hash'],
  ];
  for (const [header, reason, offset, key] of cases) {
    const r = parseXfcc(header);
    assert.equal(r.ok, false, header);
    if (r.ok) continue;
    assert.deepEqual([r.error.reason, r.error.offset, r.error.key], [reason, offset, key], header);
    assert.match(r.error.message, new RegExp(`offset ${offset}`));
    if (key) assert.ok(r.error.message.includes(`key ${key}`), r.error.message);
    assert.deepEqual(r.elements, []);
  }
});

test('property: random elements serialise and parse back equal', () => {
  const key = fc.constantFrom('By', 'Hash', 'Cert', 'Chain', 'Subject', 'URI', 'DNS', 'X-Custom');
  // Values with every separator, quotes, backslashes, equals signs, spaces and unicode.
  const value = fc.oneof(
    fc.string({ unit: fc.constantFrom(',', ';', '=', '"', '\\', ' ', 'a', 'Z', '9', 'é', '日', '😀', '/', '%'), maxLength: 24 }),
    fc.string({ unit: 'grapheme', maxLength: 16 }),
  );
  const element = fc
    .array(
      fc.tuple(key, value).map(([k, v]) => ({ key: k, value: v })),
      { minLength: 1, maxLength: 6 },
    )
    // Hash/Cert/Chain/Subject are single-valued within an element.
    .map((pairs) =>
      pairs.filter(
        (p, i) => !['Hash', 'Cert', 'Chain', 'Subject'].includes(p.key) || pairs.findIndex((q) => q.key === p.key) === i,
      ),
    );
  fc.assert(
    fc.property(fc.array(element, { minLength: 1, maxLength: 4 }), (elements) => {
      const header = serializeXfcc(elements);
      const r = parseXfcc(header);
      if (!r.ok) throw new Error(`${r.error.message}: ${header}`);
      assert.equal(r.elements.length, elements.length);
      r.elements.forEach((e, i) => {
        assert.deepEqual(
          e.pairs.map((p) => ({ key: p.key, value: p.value })),
          elements[i],
        );
        assert.equal(e.hop, elements.length - 1 - i);
        assert.deepEqual(
          e.dns,
          elements[i].filter((p) => p.key === 'DNS').map((p) => p.value),
        );
        assert.equal(e.subject, elements[i].find((p) => p.key === 'Subject')?.value ?? null);
      });
    }),
    { numRuns: 500 },
  );
});

test('property: arbitrary text never throws', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(',', ';', '=', '"', '\\', ' ', 'a', 'B', '\t', 'é'), maxLength: 40 }), (s) => {
      const r = parseXfcc(s);
      if (!r.ok) assert.ok(r.error.offset >= 0 && r.error.offset <= s.length);
    }),
    { numRuns: 1000 },
  );
});
