// Unit tests for the shared source helpers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalTlsVersion, certDateToIso, classifySans, isTls13, parseIsoTime, passiveVisibility } from './common.ts';

test('TLS versions from every source map to one spelling', () => {
  const cases: [string, string | undefined, string][] = [
    ['TLSv12', undefined, 'TLS 1.2'],
    ['TLSv13', undefined, 'TLS 1.3'],
    ['TLSv10', undefined, 'TLS 1.0'],
    ['TLSv13-draft14', undefined, 'TLS 1.3-draft14'],
    ['SSLv3', undefined, 'SSL 3.0'],
    ['DTLSv10', undefined, 'DTLS 1.0'],
    ['DTLSv13', undefined, 'DTLS 1.3'],
    ['TLS 1.2', undefined, 'TLS 1.2'],
    ['TLSv1', undefined, 'TLS 1.0'],
    ['TLSv1.3', undefined, 'TLS 1.3'],
    ['1.2', 'tls', 'TLS 1.2'],
    ['3', 'ssl', 'SSL 3.0'],
    ['weird', undefined, 'weird'],
  ];
  for (const [raw, proto, want] of cases) assert.equal(canonicalTlsVersion(raw, proto), want, raw);
});

test('isTls13 covers drafts and DTLS 1.3 only', () => {
  assert.equal(isTls13('TLS 1.3-draft14'), true);
  assert.equal(isTls13('DTLS 1.3'), true);
  assert.equal(isTls13('TLS 1.2'), false);
  assert.equal(isTls13(null), false);
});

test('passive visibility: TLS 1.3 or unknown version cannot show a client certificate', () => {
  assert.equal(passiveVisibility(true, 'TLS 1.3', true), 'present');
  assert.equal(passiveVisibility(false, 'TLS 1.3', true), 'not_visible');
  assert.equal(passiveVisibility(false, null, true), 'not_visible');
  assert.equal(passiveVisibility(false, 'TLS 1.2', true), 'absent');
  assert.equal(passiveVisibility(false, 'TLS 1.2', false), 'not_visible');
});

test('naive ISO times are UTC, offsets like +0200 are honoured', () => {
  assert.equal(parseIsoTime('2018-04-14T20:55:27'), Date.UTC(2018, 3, 14, 20, 55, 27));
  assert.equal(parseIsoTime('2018-04-14T22:55:27.123456+0200'), Date.UTC(2018, 3, 14, 20, 55, 27, 123));
  assert.equal(parseIsoTime('2018-04-14T20:55:27Z'), Date.UTC(2018, 3, 14, 20, 55, 27));
  assert.equal(parseIsoTime('XXXXXXXXXX.XXXXXX'), null);
  assert.equal(parseIsoTime('nope'), null);
});

test('certificate dates: epoch seconds and naive strings become ISO UTC', () => {
  assert.equal(certDateToIso(1334102677), '2012-04-11T00:04:37.000Z');
  assert.equal(certDateToIso('1334102677.000000'), '2012-04-11T00:04:37.000Z');
  assert.equal(certDateToIso('2018-05-14T20:55:27'), '2018-05-14T20:55:27.000Z');
  assert.equal(certDateToIso('garbage'), null);
});

test('untyped SANs are sorted by their look', () => {
  assert.deepEqual(classifySans(['a.example', 'bob@example.com', 'spiffe://x/y', '10.0.0.1', '2001:db8::1']), {
    dns: ['a.example'],
    email: ['bob@example.com'],
    uri: ['spiffe://x/y'],
    ip: ['10.0.0.1', '2001:db8::1'],
  });
});
