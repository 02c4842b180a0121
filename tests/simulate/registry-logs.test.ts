// The simulated fleet's CA issuance log (ca/issuance.csv) and MDM enrollment log
// (mdm/enrollments.csv), and the bytes on every session: read back through certsignal's own
// ca-csv / mdm-csv / ECS sources, checked against the telemetry and the labels.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Diagnostics } from '../../src/diagnostics.ts';
import type { Observation } from '../../src/schema/event.ts';
import {
  csvField,
  type Labels,
  planSimulation,
  resolveSimulateOptions,
  simulateFleet,
  VOLUME_HISTORY_DAYS,
} from '../../src/simulate/index.ts';
import { readObservations } from '../../src/sources/read.ts';

const root = mkdtempSync(join(tmpdir(), 'certsignal-registry-logs-'));
after(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, 'fleet');
const result = await simulateFleet({ seed: '7', days: 4, users: 30, outDir: dir });
const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as Labels;
const ecsEvents = readFileSync(join(dir, 'events.ndjson'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Record<string, any>);

async function read(file: string): Promise<{ observations: Observation[]; diagnostics: Diagnostics; formats: string[] }> {
  const diagnostics = new Diagnostics();
  const observations: Observation[] = [];
  const formats: string[] = [];
  for await (const batch of readObservations([file], { diagnostics, onFile: (f) => formats.push(String(f.format)) }))
    observations.push(...batch);
  return { observations, diagnostics, formats };
}

const ca = await read(join(dir, 'ca', 'issuance.csv'));
const mdm = await read(join(dir, 'mdm', 'enrollments.csv'));
const rogue = labels.attacks.find((a) => a.type === 'rogue-issuance') as Labels['attacks'][number];

test('both logs are detected as ca-csv and mdm-csv and parse with zero diagnostics, one event per row', () => {
  assert.deepEqual(ca.formats, ['ca-csv']);
  assert.deepEqual(mdm.formats, ['mdm-csv']);
  for (const [name, r] of Object.entries({ ca, mdm }))
    assert.deepEqual(
      r.diagnostics.kept.map((d) => `${d.level}:${d.reason}@${d.line}:${d.field}`),
      [],
      `${name} diagnostics`,
    );
  assert.equal(ca.observations.length, result.caRecords);
  assert.equal(mdm.observations.length, result.mdmRecords);
  // Subjects hold commas: a writer without quoting would shift every later column.
  for (const o of ca.observations)
    assert.match(o.client_certificate?.issuer ?? '', /^CN=Example Corp (Device Issuing CA 1|Workload Automation CA),/);
  const times = ca.observations.map((o) => o.ts as number);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    'CA log in time order',
  );
});

test('every certificate of the device issuing CA that the telemetry shows has an issued (or renewed) row with its serial', () => {
  const logged = new Map<string, Observation>();
  for (const o of ca.observations) {
    if (o.kind !== 'issuance') continue;
    logged.set((o.client_certificate?.sha256 ?? '').toLowerCase(), o);
  }
  let checked = 0;
  for (const e of ecsEvents) {
    const x = e.tls?.client?.x509;
    if (!x || !String(x.issuer.distinguished_name).startsWith('CN=Example Corp Device Issuing CA 1')) continue;
    const sha = String(e.tls.client.hash.sha256).toLowerCase();
    const row = logged.get(sha);
    assert.ok(row, `${sha} (${x.subject.distinguished_name}) has no issuance row`);
    assert.equal(row.client_certificate?.serial?.toLowerCase(), String(x.serial_number).toLowerCase());
    assert.ok((row.ts as number) <= Date.parse(e['@timestamp']), 'issued before it is used');
    checked++;
  }
  assert.ok(checked > 100, `${checked} sessions checked`);
});

test('every device certificate row follows an MDM enrollment of that device; the rogue device never enrolled', () => {
  const enrolled = new Map<string, number[]>();
  for (const o of mdm.observations) {
    if (o.enrollment?.action !== 'enrolled' && o.enrollment?.action !== 're-enrolled') continue;
    const list = enrolled.get(o.device as string) ?? [];
    list.push(o.ts as number);
    enrolled.set(o.device as string, list);
  }
  const rogueDevice = rogue.devices[0];
  assert.equal(enrolled.has(rogueDevice), false);
  assert.equal(readFileSync(join(dir, 'assets.csv'), 'utf8').includes(rogueDevice), false);
  let rogueRows = 0;
  let deviceRows = 0;
  for (const o of ca.observations) {
    if (o.kind !== 'issuance' || !o.device) continue;
    if (o.device === rogueDevice) {
      rogueRows++;
      continue;
    }
    // Attack certificates for an enrolled device (a stolen enrollment key) are checked by the attack labels.
    if (labels.attacks.some((a) => a.cert_sha256.includes((o.client_certificate?.sha256 ?? '').toLowerCase()))) continue;
    deviceRows++;
    const before = (enrolled.get(o.device) ?? []).filter((t) => t < (o.ts as number));
    assert.ok(before.length > 0, `${o.device}: issued at ${new Date(o.ts as number).toISOString()} without an enrollment before`);
  }
  assert.ok(rogueRows >= 4, `${rogueRows} issuances for the rogue device`);
  assert.ok(deviceRows >= 30, `${deviceRows} device issuances`);
  // Each MDM-managed device in assets.csv enrolled (the new hire's and the re-enrolled laptop too).
  const assets = readFileSync(join(dir, 'assets.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
  for (const [id, , kind] of assets) if (kind !== 'server') assert.ok(enrolled.has(id), `${id} (${kind}) has no enrollment row`);
});

test('the esc1 issuance names the requester and the admin UPN; revocations match the CRL scenario', () => {
  const esc1 = labels.attacks.find((a) => a.type === 'esc1-request') as Labels['attacks'][number];
  const row = ca.observations.find((o) => o.client_certificate?.sha256?.toLowerCase() === esc1.cert_sha256[0]);
  assert.ok(row);
  assert.equal(row.ca?.requester, esc1.users[0]);
  assert.equal(row.user, esc1.users[1]);
  assert.equal(row.ca?.template, 'Corp-VPN-User');
  assert.equal(Date.parse(esc1.start), row.ts, 'the attack starts at the issuance');
  const revoked = ca.observations.filter((o) => o.kind === 'revocation');
  assert.equal(revoked.length, 4, 'the stolen laptop and the three older revocations on crl.pem');
  for (const o of revoked) assert.equal(o.ca?.reason, 'keyCompromise');
});

test('CSV fields are quoted when they must be, and a quoted subject survives the ca-csv source', async () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('CN=a,O=b'), '"CN=a,O=b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(' padded'), '" padded"');
  assert.equal(csvField(null), '');
  const file = join(root, 'quoted.csv');
  const subject = 'CN=o\\"brien\\, jr,OU=R&D,O=Example Corp';
  writeFileSync(
    file,
    `time,event,serial,subject,issuer,user\n${['2026-03-02T10:00:00Z', 'issued', '0a:1b', subject, 'CN=CA,O=Example Corp', 'obrien'].map(csvField).join(',')}\n`,
  );
  const r = await read(file);
  assert.deepEqual(r.diagnostics.kept, []);
  assert.equal(r.observations.length, 1);
  assert.equal(r.observations[0].user, 'obrien');
  assert.ok(String(r.observations[0].client_certificate?.subject).includes('brien'));
});

test('every ECS session carries source.bytes and destination.bytes; workloads are steady, people heavy-tailed', () => {
  const per = new Map<string, number[]>();
  for (const e of ecsEvents) {
    assert.ok(Number.isInteger(e.source.bytes) && e.source.bytes > 0, 'source.bytes');
    assert.ok(Number.isInteger(e.destination.bytes) && e.destination.bytes > 0, 'destination.bytes');
    assert.equal(e.network.bytes, e.source.bytes + e.destination.bytes);
    const key = `${e.user?.name}|${e.service.name}`;
    const list = per.get(key) ?? [];
    list.push(e.destination.bytes);
    per.set(key, list);
  }
  const spread = (xs: number[]) => Math.max(...xs) / Math.min(...xs);
  const payments = per.get('svc-payments|payments-api') ?? [];
  assert.ok(payments.length > 5 && spread(payments) < 3, `steady workload volume (spread ${spread(payments)})`);
  const people = [...per.entries()].filter(([k, xs]) => !k.startsWith('svc-') && xs.length >= 4);
  assert.ok(
    people.some(([, xs]) => spread(xs) > 10),
    'some person has a heavy tail',
  );
});

test('backup window and data exfiltration: the nightly job is alike every night; the exfiltration is 30–100× the usual hour', () => {
  const plan = planSimulation(resolveSimulateOptions({ seed: '3', days: 10, users: 60 }));
  const backup = plan.labels.find((l) => l.type === 'backup-window');
  assert.ok(backup);
  const nightly = new Map<number, number>();
  for (const e of plan.events)
    if (e.scenario === backup.id)
      nightly.set(Math.floor(e.ts / 86_400_000), (nightly.get(Math.floor(e.ts / 86_400_000)) ?? 0) + (e.bytesOut ?? 0));
  assert.equal(nightly.size, 10);
  const nights = [...nightly.values()];
  assert.ok(
    Math.min(...nights) > 2e9 && Math.max(...nights) / Math.min(...nights) < 1.6,
    `nights ${nights.map((n) => (n / 1e9).toFixed(1))}`,
  );

  const exfil = plan.labels.find((l) => l.type === 'data-exfiltration');
  assert.ok(exfil);
  assert.deepEqual(exfil.expectedRules, ['volume-spike']);
  const attack = plan.events.filter((e) => e.scenario === exfil.id);
  const start = attack[0].ts;
  assert.ok(start - plan.options.start >= VOLUME_HISTORY_DAYS * 86_400_000, 'after a week of history');
  assert.ok(attack.at(-1)!.ts - start <= 2 * 3_600_000, 'within two hours');
  const hourly = new Map<number, number>();
  for (const e of plan.events) {
    if (e.user !== exfil.users[0] || e.ts >= start || e.outcome === 'failure') continue;
    const h = Math.floor(e.ts / 3_600_000);
    hourly.set(h, (hourly.get(h) ?? 0) + (e.bytesIn ?? 0) + (e.bytesOut ?? 0));
  }
  const sorted = [...hourly.values()].sort((a, b) => a - b);
  const usual = sorted[Math.floor(sorted.length / 2)];
  const pulled = attack.reduce((n, e) => n + (e.bytesIn ?? 0) + (e.bytesOut ?? 0), 0);
  assert.ok(pulled >= 29 * usual && pulled <= 101 * usual, `${(pulled / usual).toFixed(1)}× the usual hour`);
  assert.ok(pulled > 3 * sorted.at(-1)!, 'clearly above the busiest hour');
});
