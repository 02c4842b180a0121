import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalTlsVersion, tlsVersionRank } from './tls-version.ts';

test('every source spelling of a TLS version maps to one canonical form', () => {
  for (const s of ['TLSv12', 'TLSv1.2', 'TLS 1.2', 'tls1.2', '1.2', 'TLS1.2']) assert.equal(canonicalTlsVersion(s), 'TLS 1.2', s);
  assert.equal(canonicalTlsVersion('TLSv13'), 'TLS 1.3');
  assert.equal(canonicalTlsVersion('TLSv10'), 'TLS 1.0');
  assert.equal(canonicalTlsVersion('SSLv3'), 'SSL 3.0');
  assert.equal(canonicalTlsVersion('DTLSv12'), 'DTLS 1.2');
  assert.equal(canonicalTlsVersion('1.3', 'tls'), 'TLS 1.3');
  assert.equal(canonicalTlsVersion(''), null);
  assert.equal(canonicalTlsVersion('UNKNOWN-0x7f1c'), 'UNKNOWN-0x7f1c');
});

test('version ranks order SSL below TLS and 1.3 highest', () => {
  const ranks = ['SSL 2.0', 'SSL 3.0', 'TLS 1.0', 'TLS 1.1', 'TLS 1.2', 'TLS 1.3'].map(tlsVersionRank) as number[];
  for (let i = 1; i < ranks.length; i++) assert.ok(ranks[i] > ranks[i - 1]);
  assert.equal(tlsVersionRank('weird'), null);
});
