// AD CS on real data: splunk/attack_data T1649 (Certify / Certipy ESC1 abuse, MANIFEST §7a).
// Counts per event id as the MANIFEST states them, the ESC1 fields (requester ≠ the UPN the
// requester put in the SAN, template VulnerableTemplate_ESC1), the 4768 PKINIT user, serial and
// SHA-1 thumbprint, and the bulk file whose Sysmon / 4104 events are counted as ignored.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Diagnostics } from '../../../src/diagnostics.ts';
import { Normalizer } from '../../../src/normalize/normalize.ts';
import type { NormalizedEvent, Observation } from '../../../src/schema/event.ts';
import { adcsSource, parseAdcsAttributes } from '../../../src/sources/adcs/source.ts';
import { type FileStats, readObservations } from '../../../src/sources/read.ts';
import { SHARED } from '../../helpers/cli.ts';
import { diagList, feed } from '../feed.ts';

const T1649 = join(SHARED, 'realdata/splunk-attack_data/T1649');

async function read(file: string) {
  const diagnostics = new Diagnostics();
  const stats: FileStats[] = [];
  const obs: Observation[] = [];
  for await (const b of readObservations([join(T1649, file)], { diagnostics, onFile: (s) => stats.push(s) })) obs.push(...b);
  const n = new Normalizer({ diagnostics });
  const events = obs.map((o) => n.normalize(o)?.event).filter((e): e is NormalizedEvent => e !== undefined);
  return { obs, events, stats, diagnostics };
}

/** 4886 = request/request, 4887 = issuance/issue, 4768 = authentication (no CA record). */
function tally(events: NormalizedEvent[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const e of events) {
    const k =
      e.kind === 'authentication'
        ? '4768'
        : e.ca?.operation === 'issue'
          ? '4887'
          : e.ca?.operation === 'request'
            ? '4886'
            : `other:${e.kind}`;
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}

test('adcs: certify winsecurity file — 6×4886, 6×4887, 1×4768, no diagnostics', async () => {
  const { events, stats, diagnostics } = await read('certify_esc1_abuse_winsecurity.xml.log');
  assert.equal(stats[0].format, 'adcs', 'detected');
  assert.deepEqual(tally(events), { 4886: 6, 4887: 6, 4768: 1 });
  assert.deepEqual(
    { records: stats[0].records, ignored: stats[0].ignored, skipped: stats[0].skipped },
    { records: 13, ignored: 0, skipped: 0 },
  );
  assert.deepEqual(diagList(diagnostics), []);

  // The ESC1 issuance: attack_user asked, the certificate names victim_admin_user.
  const esc1 = events.filter((e) => e.kind === 'issuance' && e.ca?.requested_san.includes('upn:victim_admin_user'));
  assert.equal(esc1.length, 5, '5 of the 6 issued requests carry the UPN SAN, one only a DNS SAN');
  for (const e of esc1) {
    assert.equal(e.ca?.requester, 'attack_range\\attack_user');
    assert.equal(e.ca?.template, 'VulnerableTemplate_ESC1');
    assert.equal(e.ca?.ca, 'cert_authority.attack_range.local');
    assert.equal(e.user, 'victim_admin_user');
    assert.equal(e.user_from, 'event');
    assert.equal(e.certificate?.subject, 'CN=attack_user', 'the logged Subject is the requester');
    assert.equal(e.outcome, 'success');
  }
  const first = events[0];
  assert.equal(first.source.line, 1);
  assert.equal(first.source.record_id, '1830975491');
  assert.equal(first.time, '2023-05-25T12:47:37.394Z');
  assert.equal(first.ca?.request_id, '4');
  assert.deepEqual(first.ca?.requested_san, ['dns:victim_machine.attack_range.local', 'upn:victim_admin_user']);
  assert.equal(first.device, 'victim_machine.attack_range.local');

  // The DNS-only request: no UPN, so the account comes from the logged Subject.
  const dnsOnly = events.find((e) => e.kind === 'issuance' && e.ca?.request_id === '3');
  assert.deepEqual(dnsOnly?.ca?.requested_san, ['dns:victim_machine.attack_range.local']);
  assert.equal(dnsOnly?.user, 'attack_user');
  assert.equal(dnsOnly?.user_from, 'certificate');

  const pkinit = events.find((e) => e.kind === 'authentication');
  assert.equal(pkinit?.user, 'victim_admin_user');
  assert.equal(pkinit?.certificate?.serial, '7f00049982010d5a76de2c8ad0000000012345');
  assert.equal(pkinit?.certificate?.sha1, 'f4b9f00e378950153f18c0e8c5f38dbcf1712345');
  assert.equal(pkinit?.certificate?.issuer, 'CN=Attack Range Cert Authority');
  assert.equal(pkinit?.source_ip, '192.168.1.10');
  assert.equal(pkinit?.source_port, 49314);
  assert.equal(pkinit?.service, 'krbtgt');
  assert.equal(pkinit?.outcome, 'success');
  assert.equal(pkinit?.source.line, 17);
});

test('adcs: certipy file — 3×4886, 3×4887, 1×4768', async () => {
  const { events, diagnostics } = await read('certipy_esc1_abuse.xml.log');
  assert.deepEqual(tally(events), { 4886: 3, 4887: 3, 4768: 1 });
  assert.deepEqual(diagList(diagnostics), []);
  const issued = events.filter((e) => e.kind === 'issuance');
  assert.deepEqual(
    issued.map((e) => e.ca?.requester),
    Array(3).fill('attack_range\\attacker'),
  );
  assert.deepEqual(issued.map((e) => e.user).sort(), ['attacker', 'victim_admin', 'victim_admin']);
  assert.equal(events.find((e) => e.kind === 'authentication')?.user, 'victim_admin');
});

test('adcs: bulk file — Sysmon and PowerShell 4104 events are ignored, not errors', async () => {
  const { events, stats, diagnostics } = await read('certify_esc1_abuse_bulk_adcs.xml.log');
  assert.deepEqual(tally(events), { 4886: 6, 4887: 6, 4768: 1 });
  // 13 CA/PKINIT events + 23 Sysmon (1, 3, 11) + 2 PowerShell 4104; `#` section labels are not records.
  assert.deepEqual(
    { records: stats[0].records, ignored: stats[0].ignored, skipped: stats[0].skipped },
    { records: 38, ignored: 25, skipped: 0 },
  );
  assert.deepEqual(diagList(diagnostics), []);
});

test('adcs: Sysmon-only file is not an AD CS file, and its events are all ignored when forced', async () => {
  const diagnostics = new Diagnostics();
  const stats: FileStats[] = [];
  const obs: Observation[] = [];
  for await (const b of readObservations([join(T1649, 'certify_esc1_abuse_sysmon.xml.log')], {
    diagnostics,
    format: 'adcs',
    onFile: (s) => stats.push(s),
  }))
    obs.push(...b);
  assert.equal(obs.length, 0);
  assert.equal(stats[0].ignored, stats[0].records);
  assert.ok(stats[0].records > 0);
  assert.deepEqual(diagList(diagnostics), []);
});

const EVENT = (id: number, data: string, time = '2026-03-01T10:00:00.1234567Z') =>
  `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>${id}</EventID><TimeCreated SystemTime='${time}'/><EventRecordID>77</EventRecordID><Computer>ca01.corp.example</Computer></System><EventData>${data}</EventData></Event>`;

test('adcs: 4888 denied, 4870 revoked, several events on one line, and a 4768 without certificate', () => {
  const r = feed(adcsSource, [
    EVENT(
      4888,
      "<Data Name='RequestId'>9</Data><Data Name='Requester'>CORP\\mallory</Data><Data Name='Attributes'>CertificateTemplate:User&#10;SAN:upn=administrator%40corp.example</Data><Data Name='Disposition'>2</Data><Data Name='Subject'>CN=mallory</Data>",
    ) +
      EVENT(
        4870,
        "<Data Name='SubjectUserName'>secops</Data><Data Name='SubjectDomainName'>CORP</Data><Data Name='CertificateSerialNumber'>4400000014178d21c3ed6a4575000000000014</Data><Data Name='Reason'>1</Data>",
      ),
    EVENT(
      4768,
      "<Data Name='TargetUserName'>bob</Data><Data Name='Status'>0x0</Data><Data Name='PreAuthType'>2</Data><Data Name='CertThumbprint'></Data>",
    ),
  ]);
  assert.deepEqual(
    r.observations.map((o) => `${o.line}:${o.kind}:${o.ca?.operation}:${o.outcome}`),
    ['1:request:deny:failure', '1:revocation:revoke:success'],
  );
  const [denied, revoked] = r.observations;
  assert.equal(denied.user, 'administrator@corp.example', 'URL-encoded SAN value decoded');
  assert.equal(denied.ca?.template, 'User');
  assert.equal(denied.ts, Date.parse('2026-03-01T10:00:00.123Z'));
  assert.equal(revoked.ca?.requester, 'CORP\\secops');
  assert.equal(revoked.ca?.reason, '1');
  assert.equal(revoked.client_certificate?.serial, '4400000014178d21c3ed6a4575000000000014');
  assert.deepEqual(r.counts, { records: 3, ignored: 1 });
  assert.deepEqual(diagList(r.diagnostics), []);
});

test('adcs: malformed XML, missing EventID, bad time and an unterminated event are diagnostics with line and field', () => {
  const r = feed(adcsSource, [
    'this is not xml',
    EVENT(4887, "<Data Name='RequestId'>1</Data>").replace('<EventID>4887</EventID>', ''),
    EVENT(4887, "<Data Name='RequestId'>2</Data>", 'yesterday'),
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>4887</EventID>",
    EVENT(4886, "<Data Name='RequestId'>3</Data><Data Name='Requester'>CORP\\bob</Data>"),
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>4886</EventID>",
  ]);
  assert.deepEqual(diagList(r.diagnostics), [
    'error:invalid-xml@1',
    'error:invalid-xml@2:EventID',
    'error:bad-timestamp@3:TimeCreated.SystemTime',
    'error:invalid-xml@4',
    'error:invalid-xml@6',
  ]);
  assert.deepEqual(
    r.observations.map((o) => `${o.line}:${o.ca?.request_id}`),
    ['5:3'],
  );
  assert.deepEqual(r.counts, { records: 6, ignored: 0 });
});

test('adcs: request attributes', () => {
  const a = parseAdcsAttributes(
    'CertificateTemplate:1.3.6.1.4.1.311.21.8.1.2\nccm:ws01.corp.example\r\nSAN:upn=a@corp&dns=ws01.corp.example&email=a@corp.example&guid=abc',
  );
  assert.equal(a.template, '1.3.6.1.4.1.311.21.8.1.2');
  assert.deepEqual(a.sans.all, ['upn:a@corp', 'dns:ws01.corp.example', 'email:a@corp.example']);
});
