// step-ca JSON request log → issuance / revocation observations: decimal serials, CN-only
// subjects, base64 DER certificates (real ones), provisioner and OIDC requester, ignored
// non-certificate requests, and a broken line reported with its line number.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Diagnostics } from '../../../src/diagnostics.ts';
import { Normalizer } from '../../../src/normalize/normalize.ts';
import { stepCaSource, stepOperation } from '../../../src/sources/ca/step-ca.ts';
import { diagList, feed } from '../feed.ts';
import { decimalSerial, makePki, stepCaLines } from './fixtures.ts';

const pki = await makePki();

test('step-ca: sign, renew, rekey and revoke become CA events; /health and start-up are ignored', () => {
  const lines = stepCaLines(pki);
  const r = feed(stepCaSource, lines, { file: 'step-ca.log' });
  assert.deepEqual(
    r.observations.map((o) => `${o.line}:${o.kind}:${o.ca?.operation}:${o.outcome}`),
    [
      '2:issuance:sign:success',
      '4:issuance:renew:success',
      '5:issuance:rekey:success',
      '6:revocation:revoke:success',
      '7:request:sign:failure',
    ],
  );
  assert.deepEqual(r.counts, { records: 8, ignored: 2 });
  assert.deepEqual(diagList(r.diagnostics), ['error:invalid-json@8']);

  const sign = r.observations[0];
  assert.equal(sign.client_certificate?.serial, decimalSerial(pki.alice));
  assert.equal(sign.client_certificate?.serial_format, 'decimal');
  assert.equal(sign.client_certificate?.subject, 'CN=alice');
  assert.equal(sign.client_certificate?.issuer, 'CN=Corp Issuing CA');
  assert.deepEqual(sign.client_certificate?.san_email, ['alice@corp.example']);
  assert.equal(sign.ca?.template, 'corp-oidc', 'provisioner name without its credential id');
  assert.equal(sign.ca?.requester, 'alice@corp.example', 'e-mail of the OIDC token');
  assert.equal(sign.ca?.request_id, 'req-sign-1');
  assert.equal(sign.source_ip, '10.1.2.3');

  const revoke = r.observations[3];
  assert.equal(revoke.client_certificate?.serial, decimalSerial(pki.alice));
  assert.equal(revoke.ca?.reason, 'laptop stolen');
});

test('step-ca: normalize parses the logged DER — decimal serial = the certificate serial, account from the SAN', () => {
  const r = feed(stepCaSource, stepCaLines(pki));
  const diagnostics = new Diagnostics();
  const n = new Normalizer({ diagnostics });
  const [sign, , rekey, revoke] = r.observations.map((o) => n.normalize(o)?.event);
  assert.equal(sign?.certificate?.source, 'der');
  assert.equal(sign?.certificate?.serial, pki.alice.serial);
  assert.equal(sign?.certificate?.sha256, createHash('sha256').update(pki.alice.der).digest('hex'));
  assert.equal(sign?.user, 'alice@corp.example');
  assert.equal(sign?.user_from, 'certificate');
  assert.equal(rekey?.certificate?.subject_cn, 'lt-bob-01');
  // A revoke logs only the decimal serial: it still canonicalises to the certificate's hex serial.
  assert.equal(revoke?.certificate?.source, 'logged');
  assert.equal(revoke?.certificate?.serial, pki.alice.serial);
  assert.equal(diagnostics.kept.filter((d) => d.reason === 'cert-field-mismatch').length, 0, 'logged serials agree with the DER');
});

test('step-ca: a logged serial that contradicts the DER is reported by normalize', () => {
  const line = JSON.parse(stepCaLines(pki)[1]) as Record<string, unknown>;
  line.serial = decimalSerial(pki.device);
  const r = feed(stepCaSource, [JSON.stringify(line)]);
  const diagnostics = new Diagnostics();
  const ev = new Normalizer({ diagnostics }).normalize(r.observations[0])?.event;
  assert.equal(ev?.certificate?.serial, pki.alice.serial, 'the bytes win');
  assert.deepEqual(
    diagnostics.kept.map((d) => d.reason),
    ['cert-field-mismatch'],
  );
});

test('step-ca: bad time and non-decimal serial are diagnostics with line and field', () => {
  const good = JSON.parse(stepCaLines(pki)[1]) as Record<string, unknown>;
  const r = feed(stepCaSource, [
    JSON.stringify({ ...good, time: 'soon', 'fields.time': undefined }),
    JSON.stringify({ ...good, serial: '0x1f', certificate: undefined }),
  ]);
  assert.deepEqual(diagList(r.diagnostics), ['error:bad-timestamp@1:time', 'warning:bad-value@2:serial']);
  assert.equal(r.observations.length, 1);
  assert.equal(r.observations[0].client_certificate?.serial, undefined);
});

test('step-ca: request paths map to operations', () => {
  assert.equal(stepOperation('/sign'), 'sign');
  assert.equal(stepOperation('/1.0/sign'), 'sign');
  assert.equal(stepOperation('/renew'), 'renew');
  assert.equal(stepOperation('/rekey'), 'rekey');
  assert.equal(stepOperation('/revoke'), 'revoke');
  assert.equal(stepOperation('/acme/acme/revoke-cert'), 'revoke');
  assert.equal(stepOperation('/acme/acme/order/abc/finalize'), 'sign');
  assert.equal(stepOperation('/ssh/sign'), null, 'SSH certificates are not X.509');
  assert.equal(stepOperation('/roots'), null);
});
