import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CertsignalError } from '../errors.ts';
import { maxLineBytesOverride, noInputReadable, parseSetFlags } from './output.ts';

test('--set builds nested overrides with YAML-typed values; weight keys keep their variant dot', () => {
  assert.deepEqual(
    parseSetFlags([
      'rules.cert-churn.max_new_certs=5',
      'scoring.weights.untrusted-issuer.self-signed=70',
      'automation_issuers=[CN=A, CN=B]',
    ]),
    {
      rules: { 'cert-churn': { max_new_certs: 5 } },
      scoring: { weights: { 'untrusted-issuer.self-signed': 70 } },
      automation_issuers: ['CN=A', 'CN=B'],
    },
  );
  assert.equal(parseSetFlags(undefined), undefined);
  assert.throws(() => parseSetFlags(['novalue']), CertsignalError);
});

test('--max-line-bytes must be a positive integer', () => {
  assert.deepEqual(maxLineBytesOverride('2048'), { input: { max_line_bytes: 2048 } });
  assert.throws(() => maxLineBytesOverride('lots'), /positive integer/);
  assert.deepEqual(maxLineBytesOverride(undefined), {});
});

test('exit code 3 only when every input failed to open or had an unknown format', () => {
  const files = [{ format: null }, { format: 'ecs' }];
  assert.equal(noInputReadable({ files, diagnostics: { 'file-unreadable': 1 }, events: 0 }), false);
  assert.equal(noInputReadable({ files, diagnostics: { 'file-unreadable': 1, 'unknown-format': 1 }, events: 0 }), true);
  assert.equal(noInputReadable({ files: [{ format: null }], diagnostics: { 'empty-input': 1 }, events: 0 }), false);
});
