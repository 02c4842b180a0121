// `certsignal simulate` end to end on a small fleet (3 days, 20 accounts, every attack and benign
// behaviour): deterministic structure, labels.json per the contract, the three formats describing
// the same sessions with no diagnostics, and analyze catching every attack its labels say the
// current rules should catch (the honest recall check).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runSimulate } from '../../src/cli/simulate.ts';
import { getRule } from '../../src/detect/registry.ts';
import { Diagnostics } from '../../src/diagnostics.ts';
import { CertsignalError } from '../../src/errors.ts';
import type { Alert } from '../../src/schema/alert.ts';
import type { Observation } from '../../src/schema/event.ts';
import {
  ATTACK_TYPES,
  BENIGN_BEHAVIOURS,
  type Labels,
  planSimulation,
  resolveSimulateOptions,
  simulateFleet,
} from '../../src/simulate/index.ts';
import { promisedSeverity } from '../../src/simulate/severity.ts';
import { readObservations } from '../../src/sources/read.ts';
import { parseLines, runCli } from '../helpers/cli.ts';

const SMALL = { seed: '1', days: 3, users: 20 } as const;
const root = mkdtempSync(join(tmpdir(), 'certsignal-simulate-'));
after(() => rmSync(root, { recursive: true, force: true }));

const dir = join(root, 'fleet');
const result = await simulateFleet({ ...SMALL, outDir: dir, formats: ['ecs', 'zeek', 'suricata'] });
const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as Labels;
const ecsLines = readFileSync(join(dir, 'events.ndjson'), 'utf8').trim().split('\n');
const ecsEvents = ecsLines.map((l) => JSON.parse(l) as Record<string, any>);

async function read(files: string[]): Promise<{ observations: Observation[]; diagnostics: Diagnostics }> {
  const diagnostics = new Diagnostics();
  const observations: Observation[] = [];
  for await (const batch of readObservations(files, { diagnostics })) observations.push(...batch);
  return { observations, diagnostics };
}

/** Structure without key material: what must repeat under a seed. */
const structure = (seed: string) => {
  const plan = planSimulation(resolveSimulateOptions({ ...SMALL, seed }));
  return {
    users: plan.estate.users,
    devices: plan.estate.devices,
    plans: plan.plans,
    events: plan.events.map((e) => ({ ...e, tls: e.tls.id })),
    labels: plan.labels,
    caRecords: plan.caRecords,
    mdmRecords: plan.mdmRecords,
  };
};

test('the same seed plans the same estate, certificates, events and labels; another seed does not', () => {
  const a = structure('seed-a');
  assert.deepEqual(structure('seed-a'), a);
  const b = structure('seed-b');
  assert.notDeepEqual(
    b.events.map((e) => e.ts),
    a.events.map((e) => e.ts),
  );
  assert.notDeepEqual(
    b.labels.map((l) => l.users),
    a.labels.map((l) => l.users),
  );
});

test('labels.json follows the contract: every attack type and benign behaviour once, periods inside the window', () => {
  assert.equal(labels.version, 1);
  assert.equal(labels.generator, 'certsignal simulate');
  assert.equal(labels.seed, '1');
  assert.equal(labels.start, '2026-03-02T00:00:00.000Z');
  assert.equal(labels.end, '2026-03-05T00:00:00.000Z');
  assert.equal(labels.days, 3);
  assert.deepEqual(labels.formats, ['ecs', 'zeek', 'suricata']);
  assert.deepEqual(
    labels.attacks.map((a) => a.type),
    [...ATTACK_TYPES],
  );
  assert.deepEqual([...new Set(labels.benign.map((b) => b.behaviour))].sort(), [...BENIGN_BEHAVIOURS].sort());
  const ids = [...labels.attacks, ...labels.benign].map((l) => l.id);
  assert.equal(new Set(ids).size, ids.length);
  const hex64 = /^[0-9a-f]{64}$/;
  for (const l of [...labels.attacks, ...labels.benign]) {
    assert.ok(labels.start <= l.start && l.start <= l.end && l.end < labels.end, `${l.id} period ${l.start}–${l.end}`);
    assert.ok(l.users.length > 0, `${l.id} names its users`);
    for (const d of l.cert_sha256) assert.match(d, hex64);
    assert.ok(l.description.length > 20);
  }
  for (const a of labels.attacks) {
    assert.ok(a.cert_sha256.length > 0, `${a.id} lists its certificates`);
    for (const d of a.spki_sha256) assert.match(d, hex64);
    for (const r of a.expected_rules) {
      assert.ok(
        [
          'new-resource',
          'cert-churn',
          'key-reuse',
          'subject-mismatch',
          'tls-fingerprint-change',
          'untrusted-issuer',
          'expired-cert',
          'revoked-cert',
          'volume-spike',
          'issuance-without-enrollment',
          'requester-subject-mismatch',
        ].includes(r),
        r,
      );
    }
  }
  assert.deepEqual(labels.attacks.find((a) => a.type === 'night-service-sweep')?.expected_rules, []);
  assert.deepEqual(labels.attacks.find((a) => a.type === 'key-shared-across-accounts')?.spki_sha256.length, 1); // The promised severity comes from the one table, and only attacks some rule should catch get one.
  for (const a of labels.attacks) {
    if (a.expected_rules.length === 0) assert.equal('expected_severity' in a, false, `${a.id}: a promise without expected rules`);
    else {
      const variant =
        a.type === 'data-exfiltration' ? (/a request burst/.test(a.description) ? 'burst' : 'large-requests') : undefined;
      assert.equal(a.expected_severity, promisedSeverity(a.type, a.expected_rules, variant), `${a.id} (${a.type})`);
    }
  }
  assert.equal(labels.attacks.find((a) => a.type === 'rogue-issuance')?.expected_severity, 'high');
  assert.equal(labels.attacks.find((a) => a.type === 'expired-cert-use')?.expected_severity, 'medium');
});

test('population matches the CSV files, and every labelled user exists in identities.csv', () => {
  const identities = readFileSync(join(dir, 'identities.csv'), 'utf8').trim().split('\n').slice(1);
  const assets = readFileSync(join(dir, 'assets.csv'), 'utf8').trim().split('\n').slice(1);
  assert.equal(labels.population.users, 20);
  assert.equal(labels.population.users, identities.length);
  assert.equal(labels.population.human_users + labels.population.service_accounts, labels.population.users);
  assert.equal(labels.population.devices, assets.length);
  const names = new Set(identities.map((l) => l.split(',')[0]));
  for (const l of [...labels.attacks, ...labels.benign]) for (const u of l.users) assert.ok(names.has(u), `${l.id}: ${u}`);
});

test('every certificate digest in labels appears in the ECS events, inside the labelled period for attacks', () => {
  const seen = new Map<string, string[]>();
  for (const e of ecsEvents) {
    const sha = (e.tls?.client?.hash?.sha256 as string | undefined)?.toLowerCase();
    if (!sha) continue;
    const list = seen.get(sha) ?? [];
    list.push(e['@timestamp']);
    seen.set(sha, list);
  }
  for (const l of [...labels.attacks, ...labels.benign]) {
    for (const d of l.cert_sha256) assert.ok(seen.has(d), `${l.id}: ${d} not in events.ndjson`);
  }
  for (const a of labels.attacks) {
    const inPeriod = a.cert_sha256.some((d) => (seen.get(d) ?? []).some((t) => t >= a.start && t <= a.end));
    assert.ok(inPeriod, `${a.id}: no certificate of the attack used between ${a.start} and ${a.end}`);
  }
  const times = ecsEvents.map((e) => e['@timestamp'] as string);
  assert.deepEqual(times, [...times].sort(), 'events are sorted by time');
});

test('toggles: chosen attacks only, no benign behaviour, and no injected events when everything is off', () => {
  const some = planSimulation(
    resolveSimulateOptions({ ...SMALL, attacks: ['expired-cert-use', 'tls-stack-change'], benign: [] }),
  );
  assert.deepEqual(
    some.labels.map((l) => l.type),
    ['expired-cert-use', 'tls-stack-change'],
  );
  const none = planSimulation(resolveSimulateOptions({ ...SMALL, attacks: [], benign: [] }));
  assert.deepEqual(none.labels, []);
  assert.equal(none.events.filter((e) => e.scenario !== undefined).length, 0);
  assert.equal(none.revocations.length, 0);
  // Without automation-rotation every workload keeps one long-lived certificate.
  assert.equal(none.estate.devices.filter((d) => d.certMode === 'rotating').length, 0);
  const all = planSimulation(resolveSimulateOptions(SMALL));
  assert.ok(all.estate.devices.some((d) => d.certMode === 'rotating'));
  assert.ok(all.events.length > none.events.length);
});

test('the three formats describe the same sessions and parse without a single diagnostic', async () => {
  const ecs = await read([join(dir, 'events.ndjson')]);
  const zeek = await read([join(dir, 'zeek', 'ssl.log'), join(dir, 'zeek', 'x509.log')]);
  const suricata = await read([join(dir, 'suricata', 'eve.json')]);
  for (const [name, r] of Object.entries({ ecs, zeek, suricata })) {
    assert.deepEqual(
      r.diagnostics.kept.map((d) => `${d.level}:${d.reason}@${d.line}`),
      [],
      `${name} diagnostics`,
    );
  }
  assert.equal(ecs.observations.length, result.sessions);
  assert.equal(zeek.observations.length, result.sessions);
  assert.equal(suricata.observations.length, result.sessions);
  const key = (o: Observation) => `${o.ts}|${o.source_ip}|${o.sni ?? o.service}|${o.ja4}`;
  assert.deepEqual(
    zeek.observations.map(key).sort(),
    ecs.observations.map((o) => `${o.ts}|${o.source_ip}|${ecsEvents[o.line - 1].url.domain}|${o.ja4}`).sort(),
  );
  assert.deepEqual(suricata.observations.map(key).sort(), zeek.observations.map(key).sort());

  // Client certificates: ECS always has them; passive sensors only below TLS 1.3.
  const below13 = ecsEvents.filter((e) => e.tls.version !== '1.3');
  assert.ok(below13.length > 0 && below13.length < ecsEvents.length, 'a share of sessions uses TLS ≤ 1.2');
  assert.equal(result.passiveClientCertSessions, below13.length);
  const ecsDigests = below13.map((e) => (e.tls.client.hash.sha256 as string).toLowerCase()).sort();
  const zeekDigests = zeek.observations.filter((o) => o.client_certificate).map((o) => o.client_certificate?.sha256 as string);
  assert.deepEqual(zeekDigests.sort(), ecsDigests);
  const suricataWithClient = suricata.observations.filter((o) => o.client_certificate);
  assert.equal(suricataWithClient.length, below13.length);
  for (const o of [...zeek.observations, ...suricata.observations]) {
    if (o.tls_version === 'TLSv1.3') {
      assert.equal(o.client_certificate, undefined);
      assert.equal(o.client_certificate_visibility, 'not_visible');
    }
    assert.equal(o.user, undefined, 'network formats carry no user name');
  }
});

test('Zeek x509.log has at most one line per certificate per day and role', () => {
  const lines = readFileSync(join(dir, 'zeek', 'x509.log'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  assert.equal(lines.length, result.x509Records);
  const keys = lines.map((l) => {
    const c = l.split('\t');
    return `${Math.floor(Number(c[0]) / 86_400)}|${c[1]}|${c[20]}`;
  });
  assert.equal(new Set(keys).size, keys.length);
});

test('analyze on the ECS output raises, for each attack with expected rules, an alert of one of those rules', async () => {
  const r = await runCli([
    'analyze',
    '--assets',
    join(dir, 'assets.csv'),
    '--identities',
    join(dir, 'identities.csv'),
    '--trust-anchors',
    join(dir, 'trust-anchors.pem'),
    '--crl',
    join(dir, 'crl.pem'),
    '--config',
    join(dir, 'certsignal.yaml'),
    '--output',
    'json',
    '--quiet',
    join(dir, 'events.ndjson'),
    join(dir, 'ca', 'issuance.csv'),
    join(dir, 'mdm', 'enrollments.csv'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const alerts = parseLines<Alert>(r.stdout);
  const hour = 3_600_000;
  const belongs = (alert: Alert, a: Labels['attacks'][number]): boolean => {
    const t = Date.parse(alert.time);
    if (t < Date.parse(a.start) || t > Date.parse(a.end) + 24 * hour) return false;
    return (
      (alert.user !== null && a.users.includes(alert.user)) ||
      (alert.device !== null && a.devices.includes(alert.device)) ||
      (alert.cert_sha256 !== null && a.cert_sha256.includes(alert.cert_sha256)) ||
      (alert.spki_sha256 !== null && a.spki_sha256.includes(alert.spki_sha256)) ||
      (alert.source_ip !== null && a.source_ips.includes(alert.source_ip))
    );
  };
  const expecting = labels.attacks.filter((a) => a.expected_rules.length > 0);
  assert.ok(expecting.length >= 6, 'most attacks are within the current rules');
  // A rule another change has not landed yet cannot be asked for.
  const existing = (a: Labels['attacks'][number]) => a.expected_rules.filter((r) => getRule(r) !== undefined);
  const missed = expecting
    .filter((a) => existing(a).length > 0)
    .filter((a) => !alerts.some((alert) => belongs(alert, a) && existing(a).includes(alert.rule)))
    .map((a) => `${a.id} ${a.type} (expected ${a.expected_rules.join('/')})`);
  assert.deepEqual(missed, []);
});

test('the CLI refuses a non-empty --out without --force and names the valid attack types', async () => {
  const busy = join(root, 'busy');
  await runSimulate({ out: busy, days: '1', users: '20', noAttacks: true, noBenign: true, quiet: true });
  writeFileSync(join(busy, 'other.txt'), 'x');
  await assert.rejects(runSimulate({ out: busy, days: '1', users: '20', quiet: true }), (err: unknown) => {
    assert.ok(err instanceof CertsignalError);
    assert.match(err.message, /not empty.*--force/);
    return true;
  });
  await assert.rejects(
    runSimulate({ out: join(root, 'x'), attacks: 'churn-after-key-theft,teleport', quiet: true }),
    (err: unknown) => {
      assert.ok(err instanceof CertsignalError);
      assert.match(err.message, /unknown attack type "teleport"/);
      for (const t of ATTACK_TYPES) assert.ok(err.message.includes(t), t);
      return true;
    },
  );
  await assert.rejects(runSimulate({ out: join(root, 'y'), users: '3', quiet: true }), /too small/);
  assert.equal(
    await runSimulate({ out: busy, days: '1', users: '20', noAttacks: true, noBenign: true, quiet: true, force: true }),
    0,
  );
  const small = JSON.parse(readFileSync(join(busy, 'labels.json'), 'utf8')) as Labels;
  assert.deepEqual([small.attacks.length, small.benign.length], [0, 0]);
});

test("the simulator fingerprints its TLS clients with certsignal's own JA4: Chrome gives FoxIO's documented value", async () => {
  const { ja4Of, CHROME_DOCUMENTED_HELLO } = await import('../../src/simulate/tls.ts');
  assert.equal(ja4Of(CHROME_DOCUMENTED_HELLO), 't13d1516h2_8daaf6152771_e5627efa2ab1');
});

test("promised severity: the type's promise, raised by an expected rule or set by a variant; none without expected rules", () => {
  assert.equal(promisedSeverity('expired-cert-use', ['expired-cert']), 'medium');
  assert.equal(promisedSeverity('expired-cert-use', []), null);
  assert.equal(promisedSeverity('stolen-cert-replay', ['tls-fingerprint-change']), 'low');
  assert.equal(promisedSeverity('stolen-cert-replay', ['tls-fingerprint-change', 'impossible-travel']), 'medium');
  assert.equal(promisedSeverity('churn-after-key-theft', ['cert-churn']), 'medium');
  assert.equal(promisedSeverity('churn-after-key-theft', ['cert-churn', 'issuance-without-enrollment']), 'high');
  assert.equal(promisedSeverity('data-exfiltration', ['volume-spike'], 'burst'), 'low');
  assert.equal(promisedSeverity('data-exfiltration', ['volume-spike'], 'large-requests'), 'medium');
  assert.equal(promisedSeverity('rogue-issuance', ['issuance-without-enrollment', 'cert-churn']), 'high');
  assert.equal(promisedSeverity('esc1-request', ['requester-subject-mismatch']), 'high');
  assert.equal(promisedSeverity('some-future-attack', ['cert-churn']), null);
});
