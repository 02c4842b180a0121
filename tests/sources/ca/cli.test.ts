// End to end through the real CLI: `certsignal normalize --output json` over one file of every CA
// and MDM format shows the kind, CA and enrollment fields; `certsignal analyze` over the real AD CS
// ESC1 file exits 0 without an error diagnostic; `certsignal formats` lists the new ids.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { NormalizedEvent } from '../../../src/schema/event.ts';
import { parseLines, runCli, SHARED } from '../../helpers/cli.ts';
import { colonSerial, makePki, writeFixtures } from './fixtures.ts';

const pki = await makePki();
const files = writeFixtures(pki);
const WINSECURITY = join(SHARED, 'realdata/splunk-attack_data/T1649/certify_esc1_abuse_winsecurity.xml.log');

test('normalize --output json: one file of each CA/MDM format', async () => {
  const r = await runCli([
    'normalize',
    '--output',
    'json',
    '--no-progress',
    files.stepCa,
    files.vault,
    files.caCsv,
    files.mdmCsv,
    files.mdmJson,
    WINSECURITY,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const events = parseLines<NormalizedEvent>(r.stdout);
  const by = (format: string) => events.filter((e) => e.source.format === format);

  const step = by('step-ca');
  assert.deepEqual(
    step.map((e) => `${e.kind}:${e.ca?.operation}`),
    ['issuance:sign', 'issuance:renew', 'issuance:rekey', 'revocation:revoke', 'request:sign'],
  );
  assert.equal(step[0].certificate?.serial, pki.alice.serial);
  assert.equal(step[0].user, 'alice@corp.example');
  assert.equal(step[0].ca?.template, 'corp-oidc');

  const vault = by('vault-audit');
  assert.deepEqual(
    vault.map((e) => `${e.kind}:${e.ca?.operation}:${e.outcome}`),
    [
      'issuance:issue:success',
      'issuance:issue:success',
      'issuance:sign:success',
      'revocation:revoke:success',
      'request:sign:failure',
    ],
  );
  assert.equal(vault[0].certificate?.serial, pki.carol.serial);
  assert.equal(vault[0].ca?.ca, 'pki_int');
  assert.ok(!r.stdout.includes('hmac-sha256:'), 'no HMAC value reaches the output');
  assert.match(
    r.stderr,
    /warning: field request\.data\.common_name,response\.data\.certificate,response\.data\.serial_number: 2 PKI audit entries .*audit_non_hmac_response_keys/,
  );

  const csv = by('ca-csv');
  assert.deepEqual(
    csv.map((e) => `${e.kind}:${e.ca?.operation}:${e.device ?? '-'}`),
    ['issuance:issue:lt-bob-01', 'issuance:renew:-', 'revocation:revoke:-', 'request:deny:-'],
  );
  assert.equal(csv[2].certificate?.serial, colonSerial(pki.alice).replace(/:/g, '').replace(/^0+/, ''));

  const mdm = [...by('mdm-csv'), ...by('mdm-json')];
  assert.deepEqual(
    mdm.map((e) => `${e.kind}:${e.device}:${e.enrollment?.action}:${e.enrollment?.mdm}`),
    [
      'enrollment:lt-bob-01:enrolled:Jamf',
      'enrollment:lt-bob-01:re-enrolled:Jamf',
      'enrollment:lt-old-07:wiped:Intune',
      'enrollment:lt-bob-01:enrolled:Jamf',
      'enrollment:ph-carol-02:unenrolled:Intune',
    ],
  );
  assert.ok(mdm.every((e) => e.ca === null && e.certificate === null));

  const adcs = by('adcs');
  assert.equal(adcs.length, 13);
  const esc1 = adcs.find((e) => e.kind === 'issuance' && e.user === 'victim_admin_user');
  assert.equal(esc1?.ca?.requester, 'attack_range\\attack_user');
  assert.deepEqual(esc1?.ca?.requested_san, ['dns:victim_machine.attack_range.local', 'upn:victim_admin_user']);
  assert.ok(events.filter((e) => e.kind === 'authentication').every((e) => e.ca === null && e.enrollment === null));

  // Bad input of the fixtures is reported with file:line and field, and the run went on.
  assert.match(r.stderr, /step-ca\.log:8: error: line is not valid JSON; skipped \[invalid-json\]/);
  assert.match(r.stderr, /vault_audit\.log:8: error: field time: unusable time "yesterday"; skipped \[bad-timestamp\]/);
  assert.match(r.stderr, /enrollments\.csv:5: error: field device: record has no device; skipped \[missing-field\]/);
});

test('analyze over the real AD CS ESC1 file exits 0 with no error diagnostic', async () => {
  const r = await runCli(['analyze', '--output', 'json', '--no-progress', WINSECURITY]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /: error:/);
  assert.match(r.stderr, /\[adcs\]: 13 records, 13 events/);
  // stdout carries JSON lines only (alerts of whatever CA rules are registered).
  assert.doesNotThrow(() => parseLines(r.stdout));
});

test('formats lists the CA and MDM formats', async () => {
  const r = await runCli(['formats']);
  assert.equal(r.code, 0);
  for (const id of ['step-ca', 'vault-audit', 'adcs', 'ca-csv', 'mdm-csv', 'mdm-json'])
    assert.match(r.stdout, new RegExp(`^${id}\\s`, 'm'));
});
