// End to end: incident records of the bundled demo, through the real CLI and its SQLite state.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Value } from 'typebox/value';
import { type Alert, AlertSchema } from '../../src/schema/alert.ts';
import { type Incident, IncidentSchema } from '../../src/schema/incident.ts';
import { DEMO, DEMO_ARGS, parseAlerts, parseIncidents, parseLines, runCli } from '../helpers/cli.ts';

const demoArgs = [...DEMO_ARGS];

test('certsignal demo --output json: incident records after the alerts, every alert in exactly one incident', async () => {
  const r = await runCli(['demo', '--output', 'json', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const records = parseLines<Record<string, unknown>>(r.stdout);
  const firstIncident = records.findIndex((x) => x.type === 'incident');
  assert.ok(firstIncident > 0, 'alerts first, then incidents');
  assert.ok(
    records.slice(firstIncident).every((x) => x.type === 'incident'),
    'no alert after the first incident record',
  );
  const alerts = parseAlerts<Alert>(r.stdout);
  const incidents = parseIncidents<Incident>(r.stdout);
  for (const a of alerts)
    assert.ok(
      Value.Check(AlertSchema, a),
      `alert record changed shape: ${JSON.stringify([...Value.Errors(AlertSchema, a)].slice(0, 2))}`,
    );
  for (const i of incidents)
    assert.ok(
      Value.Check(IncidentSchema, i),
      `invalid incident: ${JSON.stringify([...Value.Errors(IncidentSchema, i)].slice(0, 2))}`,
    );

  const alertIds = new Set(alerts.map((a) => a.id));
  const owner = new Map<string, string>();
  for (const i of incidents) {
    assert.equal(i.alert_count, i.alerts.length);
    for (const id of i.alerts) {
      assert.ok(alertIds.has(id), `${i.id} names ${id}, which is not among the alert records`);
      assert.ok(!owner.has(id), `${id} belongs to ${owner.get(id)} and ${i.id}`);
      owner.set(id, i.id);
    }
  }
  assert.equal(owner.size, alertIds.size, 'every alert belongs to an incident');
  assert.equal(new Set(incidents.map((i) => i.id)).size, incidents.length);
  assert.ok(incidents.length < alerts.length, 'related alerts were grouped');

  // The stolen key (seed: dana.park's key presented by quentin.meyer from Boston within the hour):
  // key-reuse and impossible-travel form one incident, more severe than either alert alone.
  const stolen = incidents.find((i) => i.rules.includes('key-reuse'));
  assert.ok(stolen);
  assert.deepEqual([...stolen.rules].sort(), ['impossible-travel', 'key-reuse']);
  assert.equal(stolen.severity, 'high');
  assert.deepEqual(stolen.escalation, { strongest_alert: 'medium', incident: 'high', escalated: true });
  const members = alerts.filter((a) => stolen.alerts.includes(a.id));
  assert.ok(members.every((a) => a.user === 'quentin.meyer' && stolen.entities.keys.includes(a.spki_sha256 as string)));
  assert.match(stolen.summary, /^2 alerts for quentin\.meyer in under 1 min: /);
  // Same input, same incidents in another process.
  const again = await runCli(['demo', '--output', 'json', '--quiet']);
  assert.deepEqual(parseIncidents(again.stdout), incidents);
});

test('the table groups alerts under their incident and the summary counts incidents by severity', async () => {
  const json = parseIncidents<Incident>(
    (await runCli(['analyze', ...demoArgs, '--output', 'json', '--quiet', `${DEMO}events.ndjson`])).stdout,
  );
  const r = await runCli(['analyze', ...demoArgs, '--output', 'table', `${DEMO}events.ndjson`]);
  assert.equal(r.code, 0, r.stderr);
  const grouped = json.filter((i) => i.alert_count > 1);
  assert.ok(grouped.length >= 2);
  for (const i of grouped) assert.ok(r.stdout.includes(`incident ${i.id}`), `no heading for ${i.id}`);
  for (const i of json.filter((x) => x.alert_count === 1))
    assert.ok(!r.stdout.includes(i.id), 'single-alert incidents are just their row');
  // Each heading comes right before its own alerts: the first alert row after it is its first alert's time.
  const lines = r.stdout.split('\n');
  for (const i of grouped) {
    const at = lines.findIndex((l) => l.includes(`incident ${i.id}`));
    const row = lines.slice(at).find((l) => /│ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(l)) as string;
    assert.ok(row.includes(i.first_time.replace('T', ' ').slice(0, 19)), `${i.id}: ${row}`);
  }
  const count = (s: string) => json.filter((i) => i.severity === s).length;
  const expected = ['critical', 'high', 'medium', 'low']
    .filter((s) => count(s) > 0)
    .map((s) => `${count(s)} ${s}`)
    .join(', ');
  assert.ok(r.stderr.includes(`${json.length} incident(s) (${expected})`), r.stderr);
});

test('with --state, day 1 + day 2 give the incidents of one run over both days (same ids), and a repeat run emits none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'certsignal-incidents-'));
  try {
    const lines = readFileSync(`${DEMO}events.ndjson`, 'utf8').split('\n').filter(Boolean);
    // Cut inside the stolen-key incident's window (its alerts are at 2026-02-04 10:05), so open
    // incidents must be carried across in the state and closed by day 2.
    const cut = Date.parse('2026-02-04T12:00:00Z');
    writeFileSync(join(dir, 'day1.ndjson'), `${lines.filter((l) => Date.parse(JSON.parse(l)['@timestamp']) < cut).join('\n')}\n`);
    writeFileSync(
      join(dir, 'day2.ndjson'),
      `${lines.filter((l) => Date.parse(JSON.parse(l)['@timestamp']) >= cut).join('\n')}\n`,
    );
    const state = join(dir, 'state.sqlite');
    const run = async (file: string) => {
      const r = await runCli(['analyze', ...demoArgs, '--state', state, '--output', 'json', '--quiet', file]);
      assert.equal(r.code, 0, r.stderr);
      return r;
    };
    const day1 = parseIncidents<Incident>((await run(join(dir, 'day1.ndjson'))).stdout);
    const day2 = parseIncidents<Incident>((await run(join(dir, 'day2.ndjson'))).stdout);
    const whole = parseIncidents<Incident>(
      (await runCli(['analyze', ...demoArgs, '--output', 'json', '--quiet', `${DEMO}events.ndjson`])).stdout,
    );

    assert.ok(
      day1.some((i) => i.status === 'open'),
      'day 1 ends with open incidents',
    );
    assert.ok(
      day2.some((i) => day1.some((d) => d.id === i.id)),
      'day 2 re-emits a carried incident (closed or grown)',
    );
    const latest = new Map<string, Incident>();
    for (const i of [...day1, ...day2]) latest.set(i.id, i);
    for (const i of day2) for (const gone of i.merged) latest.delete(gone);
    const view = (list: Iterable<Incident>) =>
      [...list].map((i) => `${i.id} ${i.status} ${i.severity} ${i.score} ${i.alerts.join(',')}`).sort();
    assert.deepEqual(view(latest.values()), view(whole));

    const repeat = await run(join(dir, 'day2.ndjson'));
    assert.deepEqual(parseLines(repeat.stdout), [], 'nothing new: no alert and no incident is repeated');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
