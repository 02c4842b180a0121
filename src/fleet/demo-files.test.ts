// The committed demo data set in examples/demo/ is present and self-consistent: events parse, every
// device and user is known, PEMs match their hashes, the trust anchors chain, the CRL verifies
// against the issuing CA and lists a certificate the events use after its revocation, and only one
// certificate is expired when used.
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

test('every event device is in assets.csv (except the device-less self-signed scenario) and every user in identities.csv', () => {
  const assets = new Map(csv('assets.csv').map((a) => [a.device_id, a]));
  const identities = new Set(csv('identities.csv').map((i) => i.user));
  for (const a of assets.values()) assert.ok(identities.has(a.owner), `owner ${a.owner}`);
  let withoutDevice = 0;
  for (const e of events) {
    assert.ok(identities.has(e.user.name), e.user.name);
    if (e.device?.id === undefined) {
      withoutDevice++;
      assert.equal(
        e.tls.client.x509.subject.distinguished_name,
        e.tls.client.x509.issuer.distinguished_name,
        'only the self-signed scenario lacks a device',
      );
    } else assert.ok(assets.has(e.device.id), e.device.id);
  }
  assert.ok(withoutDevice >= 1 && withoutDevice <= 5);
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
  ]) {
    assert.ok(md.includes(`\`${r}\``), r);
  }
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
