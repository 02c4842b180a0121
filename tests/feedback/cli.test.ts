// End to end through the real CLI on the demo data: analyze --state finds an alert, `certsignal
// feedback` marks it, the next analyze --state run over later data suppresses (or, for a true
// positive or an expired verdict, does not suppress) the same rule for the same entity and says
// so in its summary, and `certsignal rules stats` reports the verdicts and precision.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RuleStats } from '../../src/feedback/stats.ts';
import type { Alert } from '../../src/schema/alert.ts';
import { SqliteStateStore } from '../../src/store/sqlite.ts';
import { DEMO, DEMO_ARGS, parseAlerts, parseLines, runCli } from '../helpers/cli.ts';

const demoArgs = [...DEMO_ARGS];
// The demo's certificate-churn scenario fires twice for one account, 20 minutes apart: cutting
// between the two makes run 1 find the first and run 2 (with the state of run 1) the second.
const CUT = Date.parse('2026-02-03T13:30:00Z');
const RULE = 'cert-churn';

let dir: string;
let part1: string;
let part2: string;
let counter = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'certsignal-feedback-'));
  const lines = readFileSync(`${DEMO}events.ndjson`, 'utf8').split('\n').filter(Boolean);
  const early = lines.filter((l) => Date.parse(JSON.parse(l)['@timestamp']) < CUT);
  const late = lines.filter((l) => Date.parse(JSON.parse(l)['@timestamp']) >= CUT);
  assert.ok(early.length > 50 && late.length > 50);
  part1 = join(dir, 'part1.ndjson');
  part2 = join(dir, 'part2.ndjson');
  writeFileSync(part1, `${early.join('\n')}\n`);
  writeFileSync(part2, `${late.join('\n')}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const entityOf = (a: Alert) => `${a.entity.kind}:${a.entity.id}`;

/** Run 1 on a fresh state file; returns the state path and the cert-churn alert it found. */
async function firstRun(): Promise<{ state: string; alert: Alert }> {
  counter += 1;
  const state = join(dir, `state-${counter}.sqlite`);
  const r = await runCli(['analyze', ...demoArgs, '--state', state, '--output', 'json', part1]);
  assert.equal(r.code, 0, r.stderr);
  const found = parseAlerts<Alert>(r.stdout).filter((a) => a.rule === RULE);
  assert.equal(found.length, 1, `run 1 finds one ${RULE} alert`);
  return { state, alert: found[0] };
}

async function secondRun(state: string): Promise<{ alerts: Alert[]; stderr: string }> {
  const r = await runCli(['analyze', ...demoArgs, '--state', state, '--output', 'json', part2]);
  assert.equal(r.code, 0, r.stderr);
  return { alerts: parseAlerts<Alert>(r.stdout), stderr: r.stderr };
}

async function stats(state: string): Promise<Map<string, RuleStats>> {
  const r = await runCli(['rules', 'stats', '--state', state, '--output', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return new Map(parseLines<RuleStats>(r.stdout).map((row) => [row.rule, row]));
}

describe('certsignal feedback round trip (demo data, real CLI)', () => {
  let control: Alert[];
  let controlAlert: Alert;

  before(async () => {
    // Without feedback, run 2 fires the same rule again for the same entity (a new alert id).
    const { state, alert } = await firstRun();
    const second = await secondRun(state);
    control = second.alerts;
    const again = control.filter((a) => a.rule === RULE && entityOf(a) === entityOf(alert));
    assert.equal(again.length, 1, `run 2 without feedback alerts ${RULE} for ${entityOf(alert)} again`);
    assert.notEqual(again[0].id, alert.id);
    controlAlert = again[0];
    assert.doesNotMatch(second.stderr, /analyst feedback/);
  });

  test('false positive, scope rule: run 2 suppresses that rule for that entity, counts it, and rules stats shows FP and precision', async () => {
    const { state, alert } = await firstRun();
    const fb = await runCli([
      'feedback',
      alert.id,
      '--false-positive',
      '--scope',
      'rule',
      '--expires',
      '30d',
      '--reason',
      'rotation test',
      '--state',
      state,
    ]);
    assert.equal(fb.code, 0, fb.stderr);
    assert.match(fb.stdout, new RegExp(`false-positive for ${alert.id}.*${RULE}`));

    const second = await secondRun(state);
    assert.ok(!second.alerts.some((a) => a.rule === RULE && entityOf(a) === entityOf(alert)), 'suppressed');
    assert.deepEqual(
      second.alerts.map((a) => a.id).sort(),
      control
        .filter((a) => a.id !== controlAlert.id)
        .map((a) => a.id)
        .sort(),
      'every other alert of run 2 is still reported',
    );
    const line = /suppressed by analyst feedback: (.*)/.exec(second.stderr);
    assert.ok(line, second.stderr);
    const counted = Number(new RegExp(`${RULE} (\\d+)`).exec(line[1])?.[1]);
    assert.ok(counted >= 1, line[0]);

    const rows = await stats(state);
    const row = rows.get(RULE);
    assert.ok(row);
    assert.equal(row.alerts, 1, 'only run 1 stored a cert-churn alert');
    assert.equal(row.false_positives, 1);
    assert.equal(row.true_positives, 0);
    assert.equal(row.precision, 0);
    assert.equal(row.suppressions_active, 1);
    assert.deepEqual(row.suppressions_by_scope, { alert: 0, rule: 1, entity: 0 });
    for (const [rule, other] of rows) if (rule !== RULE) assert.equal(other.precision, null, `${rule} has no verdicts`);

    const table = await runCli(['rules', 'stats', '--state', state, '--output', 'table']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`${RULE}\\s*│\\s*1\\s*│\\s*0\\s*│\\s*1\\s*│\\s*0%\\s*│\\s*1 \\(1 rule\\)`));
    const list = await runCli(['rules', '--output', 'json']);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(
      parseLines<{ id: string }>(list.stdout).some((r) => r.id === RULE),
      '`certsignal rules` still lists the rules',
    );
  });

  test('true positive: run 2 still alerts, nothing is suppressed, precision is 1', async () => {
    const { state, alert } = await firstRun();
    const fb = await runCli(['feedback', alert.id, '--true-positive', '--scope', 'rule', '--state', state]);
    assert.equal(fb.code, 0, fb.stderr);
    const second = await secondRun(state);
    assert.deepEqual(second.alerts.map((a) => a.id).sort(), control.map((a) => a.id).sort());
    assert.doesNotMatch(second.stderr, /analyst feedback/);
    const row = (await stats(state)).get(RULE);
    assert.equal(row?.true_positives, 1);
    assert.equal(row?.precision, 1);
    assert.equal(row?.suppressions_active, 0);
  });

  test('an expired false positive no longer suppresses', async () => {
    const { state, alert } = await firstRun();
    // What `feedback --false-positive --scope rule --expires 30d` stores, given 31 days ago.
    const store = new SqliteStateStore(state);
    try {
      await store.saveFeedback({
        alert_id: alert.id,
        verdict: 'false-positive',
        scope: 'rule',
        rule: alert.rule,
        entity: alert.entity,
        reason: null,
        created_at: new Date(Date.now() - 31 * 86_400_000).toISOString(),
        expires_at: new Date(Date.now() - 86_400_000).toISOString(),
      });
    } finally {
      await store.close();
    }
    const second = await secondRun(state);
    assert.ok(
      second.alerts.some((a) => a.id === controlAlert.id),
      'the alert is back',
    );
    assert.doesNotMatch(second.stderr, /analyst feedback/);
    const row = (await stats(state)).get(RULE);
    assert.equal(row?.false_positives, 1, 'an expired verdict still counts for precision');
    assert.equal(row?.suppressions_active, 0);
  });

  test('usage errors exit 2 with a clear message and change nothing', async () => {
    const { state, alert } = await firstRun();
    const unknown = await runCli(['feedback', 'cs-000000000000000000000000', '--false-positive', '--state', state]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /alert cs-000000000000000000000000 is not in this state store/);
    assert.doesNotMatch(unknown.stderr, /at .*\.ts:\d+/, 'no stack trace');
    const neither = await runCli(['feedback', alert.id, '--state', state]);
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /exactly one of --false-positive or --true-positive/);
    const badExpiry = await runCli(['feedback', alert.id, '--false-positive', '--expires', '30', '--state', state]);
    assert.equal(badExpiry.code, 2);
    assert.match(badExpiry.stderr, /--expires expects a duration/);
    const badScope = await runCli(['feedback', alert.id, '--false-positive', '--scope', 'everything', '--state', state]);
    assert.equal(badScope.code, 2);
    const missing = join(dir, 'never-written.sqlite');
    const noStore = await runCli(['feedback', alert.id, '--false-positive', '--state', missing]);
    assert.equal(noStore.code, 2);
    assert.match(noStore.stderr, /does not exist/);
    assert.equal(existsSync(missing), false, 'no empty state file is created');
    const row = (await stats(state)).get(RULE);
    assert.equal(row?.false_positives, 0, 'no verdict was stored by the failed commands');
  });
});
