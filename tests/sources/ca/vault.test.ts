// Vault audit log → PKI issuance / revocation observations: clear-text responses give the real
// certificate, HMAC'd ones ("hmac-sha256:…") never become names or serials and earn ONE warning
// per file naming the audit_non_hmac_* settings; request entries and other mounts are ignored.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Diagnostics } from '../../../src/diagnostics.ts';
import { Normalizer } from '../../../src/normalize/normalize.ts';
import { isHmac, pkiPath, vaultAuditSource } from '../../../src/sources/ca/vault.ts';
import { diagList, feed } from '../feed.ts';
import { colonSerial, makePki, vaultLines } from './fixtures.ts';

const pki = await makePki();

test('vault-audit: PKI responses become CA events; request entries and KV reads are ignored', () => {
  const r = feed(vaultAuditSource, vaultLines(pki), { file: 'vault_audit.log' });
  assert.deepEqual(
    r.observations.map((o) => `${o.line}:${o.kind}:${o.ca?.operation}:${o.ca?.template}:${o.outcome}`),
    [
      '2:issuance:issue:employees:success',
      '3:issuance:issue:devices:success',
      '4:issuance:sign:devices:success',
      '5:revocation:revoke:null:success',
      '6:request:sign:devices:failure',
    ],
  );
  assert.deepEqual(r.counts, { records: 8, ignored: 2 });
  const clear = r.observations[0];
  assert.equal(clear.ca?.ca, 'pki_int');
  assert.equal(clear.ca?.requester, 'oidc-carol');
  assert.equal(clear.ca?.request_id, 'v-1');
  assert.equal(clear.source_ip, '10.9.8.7');
  assert.equal(clear.client_certificate?.pem, pki.carol.pem);
  assert.equal(clear.client_certificate?.serial, colonSerial(pki.carol));
  const revoke = r.observations[3];
  assert.equal(revoke.ca?.requester, 'oidc-secops');
  assert.equal(revoke.client_certificate?.serial, colonSerial(pki.carol));
});

test('vault-audit: HMAC values are never names or serials; one warning per file names the settings', () => {
  const r = feed(vaultAuditSource, vaultLines(pki), { file: 'vault_audit.log' });
  for (const o of r.observations) {
    const values = [
      o.user,
      o.device,
      o.ca?.requester,
      o.client_certificate?.serial,
      o.client_certificate?.subject,
      o.client_certificate?.pem,
    ];
    assert.ok(!values.some(isHmac), `line ${o.line} carries an HMAC value`);
  }
  const hashed = r.observations[1];
  assert.equal(hashed.client_certificate?.pem, undefined);
  assert.equal(hashed.client_certificate?.serial, undefined);
  assert.equal(hashed.client_certificate?.subject, undefined);
  assert.equal(typeof hashed.client_certificate?.not_after, 'number', "expiration is a number: never HMAC'd");
  assert.equal(hashed.ca?.requester, 'approle-mdm', "display_name is not HMAC'd by default");

  const hmacWarnings = r.diagnostics.kept.filter((d) => d.reason === 'vault-hmac');
  assert.equal(hmacWarnings.length, 1);
  assert.equal(hmacWarnings[0].level, 'warning');
  assert.equal(hmacWarnings[0].line, 3, "first HMAC'd entry");
  assert.match(hmacWarnings[0].message, /^2 PKI audit entries/);
  assert.match(hmacWarnings[0].message, /audit_non_hmac_response_keys/);
  assert.match(hmacWarnings[0].message, /hmac_accessor/);
  assert.deepEqual(diagList(r.diagnostics), [
    'error:bad-timestamp@8:time',
    'warning:vault-hmac@3:request.data.common_name,response.data.certificate,response.data.serial_number',
  ]);
});

test('vault-audit: normalize reads the clear-text PEM — serial, UPN account, expiry', () => {
  const r = feed(vaultAuditSource, vaultLines(pki));
  const diagnostics = new Diagnostics();
  const n = new Normalizer({ diagnostics });
  const [clear, hashed, , revoke] = r.observations.map((o) => n.normalize(o)?.event);
  assert.equal(clear?.certificate?.source, 'der');
  assert.equal(clear?.certificate?.serial, pki.carol.serial);
  assert.equal(clear?.user, 'carol@corp.example');
  assert.equal(clear?.time, '2026-03-02T10:00:00.234Z', 'nanosecond RFC 3339 time');
  assert.equal(hashed?.user, null, 'nothing readable names the subject');
  assert.equal(
    hashed?.certificate?.not_after,
    new Date(Math.floor(pki.carol.cert.notAfter.getTime() / 1000) * 1000).toISOString(),
  );
  assert.equal(revoke?.certificate?.serial, pki.carol.serial, 'colon hex canonicalised');
  assert.equal(diagnostics.kept.length, 0);
});

test('vault-audit: PKI path forms', () => {
  assert.deepEqual(pkiPath('pki/issue/web', null), { mount: 'pki', operation: 'issue', role: 'web' });
  assert.deepEqual(pkiPath('pki_int/issuer/default/sign/devices', 'pki_int/'), {
    mount: 'pki_int',
    operation: 'sign',
    role: 'devices',
  });
  assert.deepEqual(pkiPath('team/a/pki/revoke', 'team/a/pki/'), { mount: 'team/a/pki', operation: 'revoke', role: null });
  assert.deepEqual(pkiPath('pki/sign-verbatim', null), { mount: 'pki', operation: 'sign-verbatim', role: null });
  assert.equal(pkiPath('pki/roles/web', 'pki/'), null);
  assert.equal(pkiPath('pki/issue', 'pki/'), null, 'issue needs a role');
  assert.equal(pkiPath('secret/data/app', null), null);
});
