// The fleet generator: deterministic structure under a seed, valid ECS events whose PEM matches
// tls.client.hash.sha256, and a demo plan whose scenarios are over their rules' thresholds while
// the benign background stays clean.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { baselineEvents } from './activity.ts';
import { TLS_CLIENTS } from './catalog.ts';
import { DEMO_START, planDemo, renderDemo } from './demo.ts';
import { EcsFormatter } from './ecs.ts';
import { generateEstate } from './estate.ts';
import { createFleetPki, issuePlans, planDeviceCertificates } from './plan.ts';

const DAY = 86_400_000;
const window = { start: Date.parse('2026-03-02T00:00:00Z'), days: 2 };

function smallStream(seed: string) {
  const estate = generateEstate({ seed, humans: 8, services: 3 });
  const plans = planDeviceCertificates(estate, window);
  const events = baselineEvents(estate, plans.certIdFor, { window });
  return { estate, plans, events };
}

/** Event structure without anything derived from key material. */
const structure = (s: ReturnType<typeof smallStream>) => ({
  users: s.estate.users,
  devices: s.estate.devices,
  plans: s.plans.plans,
  events: s.events.map((e) => ({ ...e, tls: e.tls.id })),
});

test('the same seed generates the same estate, certificate plans and events', () => {
  assert.deepEqual(structure(smallStream('seed-1')), structure(smallStream('seed-1')));
});

test('a different seed generates different users, devices and event times', () => {
  const a = smallStream('seed-1');
  const b = smallStream('seed-2');
  assert.notDeepEqual(
    a.estate.users.map((u) => u.name),
    b.estate.users.map((u) => u.name),
  );
  assert.notDeepEqual(
    a.estate.devices.map((d) => d.id),
    b.estate.devices.map((d) => d.id),
  );
  assert.notDeepEqual(
    a.events.map((e) => e.ts),
    b.events.map((e) => e.ts),
  );
});

test('baseline events are time-ordered, inside the window, and each device keeps one TLS client', () => {
  const { events, estate } = smallStream('order');
  assert.ok(events.length > 20);
  for (let i = 1; i < events.length; i++) assert.ok(events[i - 1].ts <= events[i].ts);
  assert.ok(events.every((e) => e.ts >= window.start && e.ts < window.start + window.days * DAY));
  const devices = new Map(estate.devices.map((d) => [d.id, d]));
  for (const e of events) assert.equal(e.tls.id, devices.get(e.device ?? '')?.tls);
});

test('rendered ECS events parse back with the gateway fields, and each PEM matches tls.client.hash.sha256', async () => {
  const { estate, plans, events } = smallStream('ecs');
  const pki = await createFleetPki('ecs');
  const certs = await issuePlans(pki, plans.plans);
  const formatter = new EcsFormatter(certs);
  const users = new Set(estate.users.map((u) => u.name));
  const devices = new Set(estate.devices.map((d) => d.id));
  for (const e of events) {
    const doc = JSON.parse(formatter.format(e));
    assert.equal(doc['@timestamp'], new Date(e.ts).toISOString());
    assert.ok(doc.event.outcome === 'success' || doc.event.outcome === 'failure');
    assert.ok(users.has(doc.user.name));
    assert.ok(devices.has(doc.device.id));
    assert.match(doc.source.ip, /^\d+\.\d+\.\d+\.\d+$/);
    if (doc.source.ip.startsWith('10.')) assert.equal(doc.source.geo, undefined);
    else {
      assert.match(doc.source.geo.country_iso_code, /^[A-Z]{2}$/);
      assert.equal(typeof doc.source.geo.city_name, 'string');
      assert.equal(typeof doc.source.geo.location.lat, 'number');
      assert.equal(typeof doc.source.geo.location.lon, 'number');
    }
    assert.equal(typeof doc.service.name, 'string');
    assert.match(doc.url.domain, /\.example\.com$/);
    assert.ok(['1.3', '1.2', '1.0'].includes(doc.tls.version));
    assert.equal(doc.tls.version_protocol, 'tls');
    assert.equal(typeof doc.tls.cipher, 'string');
    assert.match(doc.tls.client.ja3, /^[0-9a-f]{32}$/);
    assert.match(doc.tls.client.ja4, /^t1[0-3]d\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/);
    const x = doc.tls.client.x509;
    const pem: string = doc.tls.client.certificate;
    const parsed = new X509Certificate(pem);
    const der = parsed.raw;
    assert.equal(doc.tls.client.hash.sha256, createHash('sha256').update(der).digest('hex').toUpperCase());
    assert.equal(x.serial_number, parsed.serialNumber.replace(/^0+/, '').toUpperCase());
    assert.equal(x.subject.common_name[0], /CN=([^\n]+)/.exec(parsed.subject)?.[1]);
    assert.equal(x.subject.distinguished_name, parsed.subject.split('\n').reverse().join(','));
    assert.equal(x.issuer.distinguished_name, parsed.issuer.split('\n').reverse().join(','));
    assert.equal(Date.parse(x.not_before), Date.parse(parsed.validFrom));
    assert.equal(Date.parse(x.not_after), Date.parse(parsed.validTo));
    assert.ok(Array.isArray(x.alternative_names) && x.alternative_names.length > 0);
    // Every certificate in the benign stream is valid when it is used.
    assert.ok(Date.parse(x.not_before) <= e.ts && e.ts <= Date.parse(x.not_after), `${x.serial_number} at ${doc['@timestamp']}`);
  }
});

test('includePem: false leaves out tls.client.certificate but keeps the hash and x509 fields', async () => {
  const { plans, events } = smallStream('nopem');
  const certs = await issuePlans(await createFleetPki('nopem'), plans.plans.slice(0, 3));
  const e = events.find((x) => x.certId !== null && certs.has(x.certId));
  assert.ok(e);
  const doc = JSON.parse(new EcsFormatter(certs, { includePem: false }).format(e));
  assert.equal(doc.tls.client.certificate, undefined);
  assert.match(doc.tls.client.hash.sha256, /^[0-9A-F]{64}$/);
  assert.equal(typeof doc.tls.client.x509.serial_number, 'string');
});

test('workload certificates rotate daily from the automation CA; people keep one certificate per device', () => {
  const { estate, plans, events } = smallStream('rotation');
  const byId = new Map(plans.plans.map((p) => [p.id, p]));
  for (const d of estate.devices) {
    const used = new Set(events.filter((e) => e.device === d.id).map((e) => e.certId));
    if (d.certMode === 'rotating') {
      assert.ok(used.size >= window.days, `${d.id} used ${used.size}`);
      for (const id of used) assert.equal(byId.get(id ?? '')?.authority, 'automation');
    } else assert.ok(used.size <= 1);
  }
});

// ---- the demo plan: scenarios over threshold, background clean ----

const demo = planDemo();
const planById = new Map(demo.plans.map((p) => [p.id, p]));
const scenarioEvents = (id: string) => demo.events.filter((e) => e.scenario === id);

test('the demo plan is deterministic under its seed and changes with the seed', () => {
  const again = planDemo();
  const strip = (p: typeof demo) => ({ ...p, events: p.events.map((e) => ({ ...e, tls: e.tls.id })) });
  assert.deepEqual(strip(again), strip(demo));
  assert.notDeepEqual(
    planDemo('another-seed').events.map((e) => e.user),
    demo.events.map((e) => e.user),
  );
});

test('the demo covers every rule with at least one scenario', () => {
  const rules = new Set(demo.scenarios.map((s) => s.rule));
  for (const r of [
    'cert-churn',
    'key-reuse',
    'subject-mismatch',
    'untrusted-issuer',
    'expired-cert',
    'revoked-cert',
    'tls-fingerprint-change',
  ]) {
    assert.ok(rules.has(r), r);
  }
  for (const s of demo.scenarios) assert.ok(scenarioEvents(s.id).length >= 2, s.id);
  assert.ok(demo.events.length >= 800 && demo.events.length <= 5000, String(demo.events.length));
  const start = DEMO_START;
  assert.ok(demo.events.every((e) => e.ts >= start && e.ts < start + 7 * DAY));
});

test('only the injected expired certificate is outside its validity window when used', () => {
  const invalid = demo.events.filter((e) => {
    const p = planById.get(e.certId ?? '');
    assert.ok(p, `event cert ${e.certId} is planned`);
    return e.ts < Date.parse(p.notBefore) || e.ts > Date.parse(p.notAfter);
  });
  assert.ok(invalid.length > 0);
  assert.deepEqual(new Set(invalid.map((e) => e.scenario)), new Set(['e']));
  assert.deepEqual(new Set(invalid.map((e) => e.certId)), new Set(['cert:expired']));
});

test('cert-churn scenario: at least 4 never-seen certificates on one device within 60 minutes, from distinct /24s', () => {
  const evs = scenarioEvents('a');
  const firstUse = new Map<string, number>();
  for (const e of demo.events) if (e.certId && !firstUse.has(e.certId)) firstUse.set(e.certId, e.ts);
  const newCerts = [...new Set(evs.map((e) => e.certId))].filter(
    (id) => firstUse.get(id ?? '') === evs.find((e) => e.certId === id)?.ts,
  );
  assert.ok(newCerts.length >= 4);
  const times = newCerts.map((id) => firstUse.get(id ?? '') ?? 0).sort((a, b) => a - b);
  assert.ok(times[times.length - 1] - times[0] < 60 * 60_000);
  assert.equal(new Set(evs.map((e) => e.device)).size, 1);
  const subnets = new Set(evs.map((e) => e.sourceIp.split('.').slice(0, 3).join('.')));
  assert.ok(subnets.size >= 4);
});

test('key-reuse scenario: two accounts, one key group, both used within 24 hours', () => {
  const group = demo.plans.filter((p) => p.keyGroup === 'reused-key');
  assert.equal(group.length, 2);
  const accounts = new Set(group.map((p) => p.subject.find(([k]) => k === 'CN')?.[1]));
  assert.equal(accounts.size, 2);
  const borrowed = scenarioEvents('b');
  const ownerUses = demo.events.filter((e) => e.certId === group[0].id && e.scenario === undefined);
  const first = borrowed[0].ts;
  assert.ok(
    ownerUses.some((e) => Math.abs(e.ts - first) < DAY),
    'owner used the key within 24 h',
  );
});

test('fingerprint scenarios: ≥ 30 events over ≥ 2 days of one TLS 1.3 JA4 before the change', () => {
  for (const id of ['g1', 'g2']) {
    const change = scenarioEvents(id)[0];
    const before = demo.events.filter((e) => e.device === change.device && e.ts < change.ts);
    assert.ok(before.length >= 30, `${id}: ${before.length}`);
    assert.ok(before[before.length - 1].ts - before[0].ts >= 2 * DAY);
    assert.equal(new Set(before.map((e) => e.tls.ja4)).size, 1);
    assert.ok(before.every((e) => e.tls.version === '1.3'));
    assert.notEqual(change.tls.ja4, before[0].tls.ja4);
  }
  assert.equal(scenarioEvents('g2')[0].tls, TLS_CLIENTS.legacy10);
});

test('revoked-cert scenario: the certificate is used before revocation (benign) and after it (alert)', () => {
  const [rev] = demo.revocations;
  const revokedAt = Date.parse(rev.revokedAt);
  const uses = demo.events.filter((e) => e.certId === rev.certId);
  assert.ok(uses.some((e) => e.ts < revokedAt && e.scenario === undefined));
  const after = uses.filter((e) => e.ts > revokedAt);
  assert.ok(after.length >= 2 && after.every((e) => e.scenario === 'f'));
});

test('subject-mismatch scenarios: a service certificate on a laptop, and a laptop presenting a non-owner certificate', () => {
  const devices = new Map(demo.estate.devices.map((d) => [d.id, d]));
  const users = new Map(demo.estate.users.map((u) => [u.name, u]));
  const [c1] = scenarioEvents('c1');
  assert.equal(users.get(c1.user ?? '')?.kind, 'service');
  assert.equal(devices.get(c1.device ?? '')?.kind, 'laptop');
  const [c2] = scenarioEvents('c2');
  const laptop = devices.get(c2.device ?? '');
  assert.equal(laptop?.kind, 'laptop');
  assert.notEqual(laptop?.owner, c2.user);
  assert.equal(users.get(c2.user ?? '')?.kind, 'human');
});

test('every event device is in the estate except the self-signed scenario (none) and the two unregistered-device scenarios', () => {
  const ids = new Set(demo.estate.devices.map((d) => d.id));
  for (const e of demo.events) {
    if (e.device === null) assert.equal(e.scenario, 'd1');
    else if (!ids.has(e.device)) assert.ok(e.scenario === 'a' || e.scenario === 'i', `${e.device} (${e.scenario})`);
  }
});

test('renderDemo writes every demo file and stays under 2 MB', async () => {
  const rendered = await renderDemo(demo);
  const names = Object.keys(rendered.files).sort();
  assert.deepEqual(names, [
    'SCENARIOS.md',
    'assets.csv',
    'ca-issuance.csv',
    'certsignal.yaml',
    'corp.crl',
    'events.ndjson',
    'identities.csv',
    'mdm-enrollments.csv',
    'trust-anchors.pem',
  ]);
  const total = Object.values(rendered.files).reduce((n, s) => n + Buffer.byteLength(s), 0);
  assert.ok(total < 2_000_000, String(total));
  assert.equal(rendered.files['events.ndjson'].trim().split('\n').length, demo.events.length);
});
