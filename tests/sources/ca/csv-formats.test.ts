// The generic CSV/JSON formats: ca-csv (PEM inside quotes over several lines, PEM with \n
// escapes, epoch s/ms times, colon serials, typed SANs), mdm-csv and mdm-json (enrollment events),
// and their bad input: bad time, unknown event, missing required column (ONE error naming the
// header), unterminated quote, broken JSON, missing device/action.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Diagnostics } from '../../../src/diagnostics.ts';
import { Normalizer } from '../../../src/normalize/normalize.ts';
import { caCsvSource } from '../../../src/sources/ca/ca-csv.ts';
import { parseSanList } from '../../../src/sources/ca/common.ts';
import { splitCsvRecord } from '../../../src/sources/ca/csv.ts';
import { mdmCsvSource, mdmJsonSource } from '../../../src/sources/mdm/source.ts';
import { diagList, feed } from '../feed.ts';
import { caCsvText, MDM_CSV, MDM_JSON, makePki } from './fixtures.ts';

const pki = await makePki();
const lines = (text: string) => text.replace(/\n$/, '').split('\n');

test('ca-csv: rows become issuance / revocation / request events with their CA fields', () => {
  const r = feed(caCsvSource, lines(caCsvText(pki)), { file: 'issuance.csv' });
  const pemLines = pki.device.pem.trim().split('\n').length;
  assert.deepEqual(
    r.observations.map((o) => `${o.line}:${o.kind}:${o.ca?.operation}:${o.outcome}`),
    [
      '2:issuance:issue:success',
      `${2 + pemLines}:issuance:renew:success`,
      `${3 + pemLines}:revocation:revoke:success`,
      `${4 + pemLines}:request:deny:failure`,
    ],
  );
  assert.deepEqual(diagList(r.diagnostics), [
    `error:bad-timestamp@${5 + pemLines}:time`,
    `error:bad-value@${6 + pemLines}:event`,
  ]);
  assert.deepEqual(r.counts, { records: 6, ignored: 0 });

  const [issued, renewed, revoked, denied] = r.observations;
  assert.equal(issued.client_certificate?.pem, pki.device.pem.trim(), 'PEM with real newlines inside quotes');
  assert.equal(issued.device, 'lt-bob-01');
  assert.equal(issued.user, 'bob');
  assert.deepEqual(issued.ca, {
    ca: 'corp-issuing',
    requester: 'mdm-connector',
    template: 'DeviceAuth',
    request_id: 'r-1',
    operation: 'issue',
    requested_san: [],
    reason: null,
  });
  assert.equal(renewed.client_certificate?.pem, pki.aliceRenewed.pem.trim(), 'PEM with \\n escapes');
  assert.equal(renewed.user, 'alice@corp.example', 'UPN SAN when there is no user column value');
  assert.equal(renewed.ts, 1772442000 * 1000, 'epoch seconds');
  assert.equal(revoked.ts, 1772528400000, 'epoch milliseconds');
  assert.equal(revoked.ca?.reason, 'keyCompromise');
  assert.equal(denied.user, 'administrator@corp.example');
  assert.equal(denied.ca?.requester, 'mallory');
});

test('ca-csv: normalize takes the certificates from the PEM and the colon serial canonicalises', () => {
  const r = feed(caCsvSource, lines(caCsvText(pki)));
  const diagnostics = new Diagnostics();
  const n = new Normalizer({ diagnostics });
  const [issued, renewed, revoked] = r.observations.map((o) => n.normalize(o)?.event);
  assert.equal(issued?.certificate?.source, 'der');
  assert.equal(issued?.certificate?.serial, pki.device.serial);
  assert.deepEqual(issued?.certificate?.san.dns, ['lt-bob-01.corp.example']);
  assert.equal(renewed?.certificate?.serial, pki.aliceRenewed.serial);
  assert.equal(revoked?.certificate?.serial, pki.alice.serial);
  assert.equal(revoked?.certificate?.issuer, 'CN=Corp Issuing CA,O=Corp');
  assert.deepEqual(diagnostics.kept, [], 'logged serials agree with the PEMs');
});

test('ca-csv: a header without `time` is ONE error naming the header; every row counts as skipped', () => {
  const diagnostics = new Diagnostics();
  const r = feed(caCsvSource, ['when,serial,subject', '2026-01-01,01,CN=a', '2026-01-02,02,CN=b'], { diagnostics });
  assert.equal(r.observations.length, 0);
  assert.deepEqual(diagList(diagnostics), ['error:csv-missing-column@1:time']);
  assert.match(diagnostics.kept[0].message, /when,serial,subject/);
  assert.equal(diagnostics.skippedRecords, 2);
  assert.deepEqual(r.counts, { records: 2, ignored: 0 });
});

test('ca-csv: an unterminated quote is reported at the line it opened; bad serial and dates are field warnings', () => {
  const r = feed(caCsvSource, [
    'time,serial,subject,not_after,san',
    '2026-01-01T00:00:00Z,zz:top,CN=a,someday,"dns:a.example;fax:123"',
    '2026-01-01T00:00:00Z,0a,"CN=b',
    'still open',
  ]);
  assert.deepEqual(diagList(r.diagnostics), [
    'warning:bad-value@2:serial',
    'warning:bad-value@2:not_after',
    'warning:bad-value@2:san',
    'error:csv-unterminated-quote@3',
  ]);
  assert.equal(r.observations.length, 1);
  assert.deepEqual(r.observations[0].client_certificate?.san_dns, ['a.example']);
});

test('mdm-csv: enrollment events; missing device and bad time are skipped with their field', () => {
  const r = feed(mdmCsvSource, MDM_CSV.split('\n'), { file: 'enrollments.csv' });
  assert.deepEqual(
    r.observations.map((o) => `${o.line}:${o.kind}:${o.device}:${o.enrollment?.action}:${o.user}`),
    ['2:enrollment:lt-bob-01:enrolled:bob', '3:enrollment:lt-bob-01:re-enrolled:bob', '4:enrollment:lt-old-07:wiped:null'],
  );
  assert.deepEqual(r.observations[0].enrollment, { action: 'enrolled', mdm: 'Jamf', platform: 'macOS', serial: 'C02XK0AAJG5H' });
  assert.deepEqual(diagList(r.diagnostics), ['error:missing-field@5:device', 'error:bad-timestamp@6:time']);
});

test('mdm-csv: a header without `action` is one error', () => {
  const r = feed(mdmCsvSource, ['time,device,user', '2026-01-01T00:00:00Z,lt-1,bob']);
  assert.deepEqual(diagList(r.diagnostics), ['error:csv-missing-column@1:action']);
  assert.equal(r.observations.length, 0);
});

test('mdm-json: enrollment events from time or @timestamp; broken JSON and missing action reported', () => {
  const r = feed(mdmJsonSource, MDM_JSON.split('\n'), { file: 'enrollments.ndjson' });
  assert.deepEqual(
    r.observations.map((o) => `${o.line}:${o.kind}:${o.device}:${o.enrollment?.action}:${o.enrollment?.mdm}:${o.ts}`),
    [
      `1:enrollment:lt-bob-01:enrolled:Jamf:${Date.parse('2026-03-01T08:00:00Z')}`,
      `2:enrollment:ph-carol-02:unenrolled:Intune:${Date.parse('2026-03-06T08:00:00Z')}`,
    ],
  );
  assert.deepEqual(diagList(r.diagnostics), ['error:invalid-json@3', 'error:missing-field@4:action']);
});

test('CSV record splitting and SAN lists', () => {
  assert.deepEqual(splitCsvRecord('a,"b,c","d ""q""",,e'), ['a', 'b,c', 'd "q"', '', 'e']);
  const { sans, unknown } = parseSanList(
    'dns:a.example; email:x@y.example;upn:u@corp;uri:spiffe://corp/x;ip:10.0.0.1;plain.example;fax:1',
  );
  assert.deepEqual(sans.all, [
    'dns:a.example',
    'email:x@y.example',
    'upn:u@corp',
    'uri:spiffe://corp/x',
    'ip:10.0.0.1',
    'dns:plain.example',
  ]);
  assert.deepEqual(unknown, ['fax:1']);
});

test('ca-csv: the requested_san column becomes ca.requested_san (typed), unknown types warn', () => {
  const text = [
    'time,event,serial,subject,requester,san,requested_san',
    '2026-03-02T10:00:00Z,issued,0a1b,CN=eve,eve,upn:eve@corp.example,upn:admin@corp.example;dns:dc1.corp.example',
    '2026-03-02T10:05:00Z,issued,0a1c,CN=eve,eve,,carrier:pigeon',
  ];
  const r = feed(caCsvSource, text, { file: 'esc1.csv' });
  assert.deepEqual(r.observations[0].ca?.requested_san, ['upn:admin@corp.example', 'dns:dc1.corp.example']);
  assert.deepEqual(r.observations[1].ca?.requested_san, []);
  assert.deepEqual(diagList(r.diagnostics), ['warning:bad-value@3:requested_san']);
});
