import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Diagnostics, formatDiagnostic, redactPrivateKeys } from './diagnostics.ts';

test('diagnostics name file, line and field and count by reason', () => {
  const d = new Diagnostics();
  d.skip({ reason: 'invalid-json', message: 'line is not valid JSON', file: 'a.ndjson', line: 7 });
  d.warn({ reason: 'wrong-type', message: 'expected a number', file: 'a.ndjson', line: 9, field: 'source.port' });
  assert.equal(d.skippedRecords, 1);
  assert.equal(d.total, 2);
  assert.equal(formatDiagnostic(d.kept[0]), 'a.ndjson:7: error: line is not valid JSON [invalid-json]');
  assert.equal(formatDiagnostic(d.kept[1]), 'a.ndjson:9: warning: field source.port: expected a number [wrong-type]');
});

test('private key material echoed from input never reaches stderr', () => {
  const key = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBv2\n-----END EC PRIVATE KEY-----';
  const line = formatDiagnostic({
    level: 'warning',
    reason: 'wrong-type',
    message: `expected a certificate, got "${key}"`,
    file: 'x',
    line: 1,
  });
  assert.doesNotMatch(line, /MHcCAQEEIBv2/);
  assert.match(line, /\[private key redacted\]/);
  assert.equal(
    redactPrivateKeys('-----BEGIN PRIVATE KEY-----\nabc'),
    '[private key redacted]',
    'a truncated key is redacted too',
  );
  assert.equal(redactPrivateKeys('no secrets'), 'no secrets');
});
