// The committed demo data set in examples/demo/ is present and self-consistent: events parse, every
// device and user is known, PEMs match their hashes, the trust anchors chain, the CRL verifies
// against the issuing CA and lists a certificate the events use after its revocation, and only one
// certificate is expired when used; the CA issuance log and the MDM log agree with the events and
// with each other except where a scenario says otherwise.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const dir = new URL('../../examples/demo/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');

function csv(name: string): Record<string, string>[] {
  const [header, ...rows] = read(name).trim().split('\n');
  const keys = header.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [keys[i], v])));
}

/** RFC 4180 CSV (quoted fields with commas, doubled quotes), header row → records. */
function quotedCsv(name: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const text = read(name);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(r.map((v, i) => [header[i], v])));
}

const events = read('events.ndjson')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));

test('all demo files exist and the directory stays under 2 MB', () => {
  const names = readdirSync(dir).sort();
  for (const n of [
    'SCENARIOS.md',
    'assets.csv',
    'certsignal.yaml',
    'corp.crl',
    'events.ndjson',
    'identities.csv',
    'ca-issuance.csv',
    'mdm-enrollments.csv',
    'trust-anchors.pem',
  ]) {
    assert.ok(names.includes(n), n);
  }
  const total = names.reduce((sum, n) => sum + statSync(new URL(n, dir)).size, 0);
  assert.ok(total < 2_000_000, `${total} bytes`);
});

test('assets.csv and identities.csv have the documented headers', () => {
  assert.equal(read('assets.csv').split('\n')[0], 'device_id,owner,kind,hostname,os,enrolled_at');
  assert.equal(read('identities.csv').split('\n')[0], 'user,kind,role,department,country,email');
});

test('every event device is in assets.csv (except the device-less self-signed scenario and two unregistered devices) and every user in identities.csv', () => {
  const assets = new Map(csv('assets.csv').map((a) => [a.device_id, a]));
  const identities = new Set(csv('identities.csv').map((i) => i.user));
  for (const a of assets.values()) assert.ok(identities.has(a.owner), `owner ${a.owner}`);
  let withoutDevice = 0;
  const unregistered = new Set<string>();
  for (const e of events) {
    assert.ok(identities.has(e.user.name), e.user.name);
    if (e.device?.id === undefined) {
      withoutDevice++;
      assert.equal(
        e.tls.client.x509.subject.distinguished_name,
        e.tls.client.x509.issuer.distinguished_name,
        'only the self-signed scenario lacks a device',
      );
    } else if (!assets.has(e.device.id)) unregistered.add(e.device.id);
  }
  assert.ok(withoutDevice >= 1 && withoutDevice <= 5);
  // The never-enrolled device of the seed 002 scenario and the new-device scenario's device; the MDM never saw either.
  assert.equal(unregistered.size, 2, [...unregistered].join(', '));
  const enrolled = new Set(quotedCsv('mdm-enrollments.csv').map((m) => m.device));
  for (const d of unregistered) assert.ok(!enrolled.has(d), `${d} is in mdm-enrollments.csv`);
});

test('every event PEM matches tls.client.hash.sha256 and the logged x509 fields', () => {
  for (const e of events) {
    const cert = new X509Certificate(e.tls.client.certificate);
    assert.equal(e.tls.client.hash.sha256, createHash('sha256').update(cert.raw).digest('hex').toUpperCase());
    assert.equal(e.tls.client.x509.serial_number, cert.serialNumber.replace(/^0+/, '').toUpperCase());
  }
});

const anchors = read('trust-anchors.pem')
  .split(/(?<=-----END CERTIFICATE-----)\s*/)
  .filter((p) => p.includes('BEGIN CERTIFICATE'))
  .map((p) => new X509Certificate(p));
const [root, issuing, automation] = anchors;

test('trust-anchors.pem holds the root, issuing and automation CAs, and both subordinates chain to the root', () => {
  assert.equal(anchors.length, 3);
  assert.ok(anchors.every((a) => a.ca));
  assert.ok(root.verify(root.publicKey) && root.checkIssued(root));
  assert.ok(issuing.checkIssued(root) && issuing.verify(root.publicKey));
  assert.ok(automation.checkIssued(root) && automation.verify(root.publicKey));
  assert.match(
    read('certsignal.yaml'),
    /automation_issuers:\s*\n\s*- "CN=Example Corp Workload Automation CA,OU=Platform,O=Example Corp,C=US"/,
  );
  assert.equal(
    automation.subject.split('\n').reverse().join(','),
    'CN=Example Corp Workload Automation CA,OU=Platform,O=Example Corp,C=US',
  );
});

test('corp.crl verifies against the issuing CA, is current far ahead, and lists a certificate used after its revocation', async () => {
  const crl = new x509.X509Crl(read('corp.crl'));
  const issuingPeculiar = new x509.X509Certificate(issuing.raw);
  assert.equal(await crl.verify({ publicKey: issuingPeculiar }), true);
  assert.equal(await crl.verify({ publicKey: new x509.X509Certificate(root.raw) }), false);
  assert.ok(crl.nextUpdate && crl.nextUpdate.getTime() > Date.parse('2035-01-01T00:00:00Z'));
  const revoked = new Map(
    crl.entries.map((entry) => [entry.serialNumber.replace(/^0+/, '').toUpperCase(), entry.revocationDate.getTime()]),
  );
  const issuerDn = issuing.subject.split('\n').reverse().join(',');
  const usedAfter = events.filter((e) => {
    const at = revoked.get(e.tls.client.x509.serial_number);
    return at !== undefined && e.tls.client.x509.issuer.distinguished_name === issuerDn && Date.parse(e['@timestamp']) > at;
  });
  assert.ok(usedAfter.length >= 2);
  assert.equal(new Set(usedAfter.map((e) => e.tls.client.x509.serial_number)).size, 1);
});

test('exactly one certificate is expired (or not yet valid) at the time it is used', () => {
  const bad = new Set<string>();
  for (const e of events) {
    const t = Date.parse(e['@timestamp']);
    const x = e.tls.client.x509;
    if (t < Date.parse(x.not_before) || t > Date.parse(x.not_after)) bad.add(x.serial_number);
  }
  assert.equal(bad.size, 1);
});

test('SCENARIOS.md names every rule and the regeneration command', () => {
  const md = read('SCENARIOS.md');
  for (const r of [
    'cert-churn',
    'key-reuse',
    'subject-mismatch',
    'untrusted-issuer',
    'expired-cert',
    'revoked-cert',
    'tls-fingerprint-change',
    'issuance-without-enrollment',
    'requester-subject-mismatch',
    'new-device',
    'volume-spike',
    'behaviour-anomaly',
  ]) {
    assert.ok(md.includes(`\`${r}\``), r);
  }
  assert.match(md, /certsignal simulate/, 'points to the simulator for the rules the demo cannot show');
  assert.ok(md.includes('node_modules/.bin/node scripts/make-demo.ts'));
});

test('the committed events are what planDemo() generates today (regenerate with scripts/make-demo.ts if not)', async () => {
  const { planDemo } = await import('./demo.ts');
  const plan = planDemo();
  const serials = new Map(plan.plans.map((p) => [p.id, p.serial.replace(/^0+/, '').toUpperCase()]));
  assert.equal(events.length, plan.events.length);
  plan.events.forEach((p, i) => {
    const e = events[i];
    assert.deepEqual(
      [e['@timestamp'], e.user.name, e.device?.id ?? null, e.source.ip, e.tls.client.ja4, e.tls.client.x509.serial_number],
      [new Date(p.ts).toISOString(), p.user, p.device, p.sourceIp, p.tls.ja4, serials.get(p.certId ?? '')],
      `event ${i + 1}`,
    );
  });
});

const caRows = quotedCsv('ca-issuance.csv');
const mdmRows = quotedCsv('mdm-enrollments.csv');

test('ca-issuance.csv and mdm-enrollments.csv have the documented ca-csv / mdm-csv headers', () => {
  assert.equal(
    read('ca-issuance.csv').split('\n')[0],
    'time,event,serial,subject,issuer,san,not_before,not_after,sha256,user,device,requester,template,ca,request_id,reason,requested_san',
  );
  assert.equal(read('mdm-enrollments.csv').split('\n')[0], 'time,device,action,user,platform,mdm,serial');
  assert.ok(caRows.length > 50 && mdmRows.length > 30);
  for (const r of caRows) assert.ok(!Number.isNaN(Date.parse(r.time)) && /^[0-9a-f]{64}$/.test(r.sha256), JSON.stringify(r));
});

test('every CA-issued certificate the events present is in the CA log with the same serial and issuer', () => {
  const bySha = new Map(caRows.filter((r) => r.event !== 'revoked').map((r) => [r.sha256.toUpperCase(), r]));
  const issuerDns = new Set(anchors.slice(1).map((a) => a.subject.split('\n').reverse().join(',')));
  let checked = 0;
  for (const e of events) {
    const x = e.tls.client.x509;
    if (!issuerDns.has(x.issuer.distinguished_name)) continue; // self-signed and partner-CA certificates
    const row = bySha.get(e.tls.client.hash.sha256);
    assert.ok(row, `certificate ${x.serial_number} used at ${e['@timestamp']} is not in ca-issuance.csv`);
    assert.equal(row.serial.replace(/^0+/, '').toUpperCase(), x.serial_number);
    assert.equal(row.issuer, x.issuer.distinguished_name);
    assert.ok(Date.parse(row.time) <= Date.parse(e['@timestamp']), 'issued before use');
    checked++;
  }
  assert.ok(checked > 800, `${checked}`);
});

test('endpoint certificates are issued minutes after an MDM enrollment, except the four of the never-enrolled device', () => {
  const enrollments = mdmRows.filter((m) => m.action === 'enrolled' || m.action === 're-enrolled');
  const orphans = caRows.filter((r) => {
    if (r.event !== 'issued' || r.device === '') return false;
    const t = Date.parse(r.time);
    return !enrollments.some(
      (m) => m.device === r.device && t - Date.parse(m.time) >= 0 && t - Date.parse(m.time) <= 30 * 60_000,
    );
  });
  assert.equal(orphans.length, 4, orphans.map((r) => `${r.time} ${r.device}`).join('; '));
  assert.equal(new Set(orphans.map((r) => r.device)).size, 1);
  assert.ok(!mdmRows.some((m) => m.device === orphans[0].device), 'the device never enrolled');
  const times = orphans.map((r) => Date.parse(r.time));
  assert.ok(Math.max(...times) - Math.min(...times) < 60 * 60_000, 'issued within an hour');
  const used = events.filter((e) => e.device?.id === orphans[0].device);
  assert.ok(used.length >= 4, 'and presented');
});

test('exactly one request carries a requested_san for another account (ESC1), and the certificate is then used as that account', () => {
  const esc1 = caRows.filter((r) => r.requested_san !== '');
  assert.equal(esc1.length, 1);
  const [row] = esc1;
  const account = /^upn:([^@]+)@/.exec(row.requested_san)?.[1];
  assert.ok(account && account !== row.requester, row.requested_san);
  assert.match(row.subject, new RegExp(`^CN=${row.requester},`), 'the subject stays the requester');
  const uses = events.filter((e) => e.tls.client.hash.sha256 === row.sha256.toUpperCase());
  assert.ok(uses.length >= 2);
  for (const e of uses) {
    assert.equal(e.user.name, account);
    assert.ok(Date.parse(e['@timestamp']) > Date.parse(row.time));
  }
  const identities = new Map(csv('identities.csv').map((i) => [i.user, i]));
  assert.equal(identities.get(account)?.department, 'IT');
});

test('the committed CA and MDM logs are what planDemo() generates today', async () => {
  const { planDemo } = await import('./demo.ts');
  const plan = planDemo();
  const serials = new Map(plan.plans.map((p) => [p.id, p.serial.replace(/^0+/, '').toLowerCase()]));
  const planned = [...plan.caRecords]
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.ts - b.r.ts || a.i - b.i)
    .map(({ r }) => [new Date(r.ts).toISOString(), r.event, serials.get(r.certId), r.requester, r.device ?? '']);
  assert.deepEqual(
    caRows.map((r) => [r.time, r.event, r.serial.replace(/^0+/, '').toLowerCase(), r.requester, r.device]),
    planned,
  );
  assert.deepEqual(
    mdmRows.map((m) => `${m.time} ${m.device} ${m.action}`),
    [...plan.mdmRecords].sort((a, b) => a.ts - b.ts).map((m) => `${new Date(m.ts).toISOString()} ${m.device} ${m.action}`),
  );
});
