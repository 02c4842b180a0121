// Attribution and metric arithmetic on hand-made alerts and labels: window edges, each entity
// kind, benign vs baseline, recall/precision/benign-rate figures, empty cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Severity } from '../schema/alert.ts';
import { UserDays } from './activity.ts';
import type { LabelledAttack, LabelledBenign } from './labels.ts';
import { ATTRIBUTION_GRACE_MS, benignEntityDays, type ScoredAlert, scoreAlerts } from './score.ts';

const T0 = Date.parse('2026-03-04T13:00:00.000Z');
const T1 = Date.parse('2026-03-04T14:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
let n = 0;

function alert(init: Partial<ScoredAlert> & { at: number }): ScoredAlert {
  n += 1;
  const user = init.user ?? null;
  const device = init.device ?? null;
  return {
    id: init.id ?? `cs-${String(n).padStart(24, '0')}`,
    rule: init.rule ?? 'cert-churn',
    severity: init.severity ?? 'medium',
    time: iso(init.at),
    user,
    device,
    cert_sha256: init.cert_sha256 ?? null,
    spki_sha256: init.spki_sha256 ?? null,
    source_ip: init.source_ip ?? null,
    entity:
      init.entity ?? (user ? { kind: 'user', id: user } : device ? { kind: 'device', id: device } : { kind: 'none', id: '' }),
  };
}

const none = { users: [], devices: [], cert_sha256: [], spki_sha256: [], source_ips: [] };

function attack(init: Partial<LabelledAttack> & { id: string }): LabelledAttack {
  const startMs = init.startMs ?? T0;
  const endMs = init.endMs ?? T1;
  return {
    type: 'churn-after-key-theft',
    expected_rules: ['cert-churn'],
    description: '',
    ...none,
    ...init,
    start: iso(startMs),
    end: iso(endMs),
    startMs,
    endMs,
  };
}

function benign(init: Partial<LabelledBenign> & { id: string }): LabelledBenign {
  const startMs = init.startMs ?? T0;
  const endMs = init.endMs ?? T1;
  return { behaviour: 'travel', description: '', ...none, ...init, start: iso(startMs), end: iso(endMs), startMs, endMs };
}

const verdicts = (alerts: ScoredAlert[], attacks: LabelledAttack[], benigns: LabelledBenign[] = []) =>
  scoreAlerts(alerts, { attacks, benign: benigns }).alerts.map((a) => `${a.verdict}:${a.labels.join('+')}`);

test('the attribution window is [attack start, attack end + 24 h], both ends inclusive', () => {
  const atk = attack({ id: 'atk-01', users: ['alice'] });
  const alerts = [
    alert({ at: T0 - 1, user: 'alice' }),
    alert({ at: T0, user: 'alice' }),
    alert({ at: T1 + ATTRIBUTION_GRACE_MS, user: 'alice' }),
    alert({ at: T1 + ATTRIBUTION_GRACE_MS + 1, user: 'alice' }),
  ];
  assert.deepEqual(verdicts(alerts, [atk]), ['baseline:', 'attack:atk-01', 'attack:atk-01', 'baseline:']);
});

test('an alert matches an attack through any shared entity: user, device, certificate, key or source IP', () => {
  const atk = attack({
    id: 'atk-01',
    users: ['alice'],
    devices: ['dev-1'],
    cert_sha256: ['aa11'],
    spki_sha256: ['bb22'],
    source_ips: ['198.51.100.7'],
  });
  const at = T0 + 60_000;
  const cases: [string, ScoredAlert, boolean][] = [
    ['user', alert({ at, user: 'alice' }), true],
    ['user, other case', alert({ at, user: 'Alice' }), true],
    ['device', alert({ at, device: 'dev-1', user: 'mallory' }), true],
    ['certificate (uppercase hex)', alert({ at, user: 'mallory', cert_sha256: 'AA11' }), true],
    ['key', alert({ at, user: 'mallory', spki_sha256: 'bb22' }), true],
    ['source ip', alert({ at, user: 'mallory', source_ip: '198.51.100.7' }), true],
    ['device entity without a device field', alert({ at, entity: { kind: 'device', id: 'dev-1' } }), true],
    [
      'nothing shared',
      alert({ at, user: 'bob', device: 'dev-2', cert_sha256: 'cc33', spki_sha256: 'dd44', source_ip: '198.51.100.8' }),
      false,
    ],
    ['no entity at all', alert({ at }), false],
  ];
  for (const [name, a, expected] of cases) {
    const [verdict] = verdicts([a], [atk]);
    assert.equal(verdict === 'attack:atk-01', expected, `${name}: got ${verdict}`);
  }
});

test('false positives go to a benign behaviour sharing an entity in its window, else to baseline; attacks win over benign', () => {
  const atk = attack({ id: 'atk-01', users: ['alice'] });
  const travel = benign({ id: 'ben-01', behaviour: 'travel', users: ['bob', 'alice'], startMs: T0, endMs: T1 });
  const update = benign({ id: 'ben-02', behaviour: 'fleet-browser-update', devices: ['dev-b'], startMs: T0, endMs: T1 });
  const alerts = [
    alert({ at: T0 + 1000, user: 'alice' }), // attack and benign: the attack wins
    alert({ at: T0 + 2000, user: 'bob' }), // travel
    alert({ at: T0 + 3000, user: 'bob', device: 'dev-b' }), // travel and browser update: both
    alert({ at: T1 + ATTRIBUTION_GRACE_MS + 1, user: 'bob' }), // after the benign window: baseline
    alert({ at: T0 + 4000, user: 'carol' }), // nobody labelled: baseline
  ];
  assert.deepEqual(verdicts(alerts, [atk], [travel, update]), [
    'attack:atk-01',
    'benign:ben-01',
    'benign:ben-01+ben-02',
    'baseline:',
    'baseline:',
  ]);
  const r = scoreAlerts(alerts, { attacks: [atk], benign: [travel, update] });
  assert.deepEqual(
    r.benign.map((b) => [b.behaviour, b.alerts, b.instances]),
    [
      ['travel', 2, 1],
      ['fleet-browser-update', 1, 1],
    ],
  );
  assert.equal(r.totals.false_positives, 4);
  assert.equal(r.totals.false_positives_benign, 2);
  assert.equal(r.totals.false_positives_baseline, 2);
});

test('two instances of one behaviour claiming the same alert count it once for the behaviour', () => {
  const a = benign({ id: 'ben-01', behaviour: 'late-work', users: ['bob'] });
  const b = benign({ id: 'ben-02', behaviour: 'late-work', users: ['bob'] });
  const r = scoreAlerts([alert({ at: T0 + 1, user: 'bob', rule: 'tls-fingerprint-change' })], { attacks: [], benign: [a, b] });
  assert.deepEqual(r.benign, [
    {
      behaviour: 'late-work',
      alerts: 1,
      instances: 2,
      by_rule: { 'tls-fingerprint-change': 1 },
      label_ids: ['ben-01', 'ben-02'],
    },
  ]);
});

test('recall, targeted recall and precision: 2 of 3 attacks detected (the third targeted by no rule), 2 of 5 alerts on attacks', () => {
  const attacks = [
    attack({ id: 'atk-01', type: 'expired-cert-use', users: ['erin'], expected_rules: ['expired-cert'] }),
    attack({ id: 'atk-02', type: 'revoked-cert-use', users: ['carol'], expected_rules: ['revoked-cert'] }),
    attack({ id: 'atk-03', type: 'night-service-sweep', users: ['dave'], expected_rules: [] }),
  ];
  const alerts = [
    alert({ at: T0 + 600_000, user: 'erin', rule: 'expired-cert', severity: 'medium' }),
    alert({ at: T0 + 30_000, user: 'carol', rule: 'revoked-cert', severity: 'high' }),
    alert({ at: T0, user: 'alice', rule: 'tls-fingerprint-change' }),
    alert({ at: T0, user: 'bob', rule: 'tls-fingerprint-change' }),
    alert({ at: T0, user: 'frank', rule: 'tls-fingerprint-change' }),
  ];
  const r = scoreAlerts(
    alerts,
    { attacks, benign: [] },
    { rules: ['expired-cert', 'revoked-cert', 'tls-fingerprint-change', 'key-reuse'] },
  );
  assert.equal(r.recall, 0.6667);
  assert.equal(r.recall_targeted, 1);
  assert.equal(r.precision, 0.4);
  assert.deepEqual(
    r.attacks.map((a) => [a.id, a.detected, a.time_to_detect_seconds, a.max_severity, a.missed_expected_rules]),
    [
      ['atk-01', true, 600, 'medium', []],
      ['atk-02', true, 30, 'high', []],
      ['atk-03', false, null, null, []],
    ],
  );
  assert.deepEqual(r.totals, {
    attacks: 3,
    attacks_detected: 2,
    attacks_targeted: 2,
    attacks_targeted_detected: 2,
    attacks_untargeted: 1,
    attacks_severity_promised: 0,
    severity_met: 0,
    alerts: 5,
    true_positives: 2,
    false_positives: 3,
    false_positives_benign: 0,
    false_positives_baseline: 3,
    benign_users: 0,
    benign_entity_days: 0,
  });
  const rule = (id: string) => r.rules.find((x) => x.rule === id);
  assert.deepEqual(rule('tls-fingerprint-change'), {
    rule: 'tls-fingerprint-change',
    alerts: 3,
    true_positives: 0,
    false_positives: 3,
    precision: 0,
    attacks_expected: 0,
    attacks_expected_detected: 0,
    attacks_detected: 0,
    median_time_to_detect_seconds: null,
    max_severity: null,
  });
  assert.equal(rule('key-reuse')?.alerts, 0, 'a silent rule that ran is still listed');
  assert.equal(rule('key-reuse')?.precision, null);
  assert.deepEqual(
    r.by_type.find((t) => t.type === 'night-service-sweep'),
    {
      type: 'night-service-sweep',
      attacks: 1,
      detected: 0,
      recall: 0,
      expected_rules: [],
      detected_by: [],
      median_time_to_detect_seconds: null,
      max_severity: null,
      expected_severity: null,
      severity_promised: 0,
      severity_met: 0,
    },
  );
});

test('per attack: time to detect from the first attributed alert, the highest severity, rules in firing order, expected rules missed', () => {
  const atk = attack({
    id: 'atk-01',
    type: 'tls-stack-change',
    devices: ['dev-9'],
    expected_rules: ['tls-fingerprint-change', 'cert-churn'],
  });
  const severities: Severity[] = ['low', 'critical', 'medium'];
  const alerts = [
    alert({ at: T0 + 7200_000, device: 'dev-9', rule: 'subject-mismatch', severity: severities[2] }),
    alert({ at: T0 + 90_000, device: 'dev-9', rule: 'tls-fingerprint-change', severity: severities[0] }),
    alert({ at: T0 + 300_000, device: 'dev-9', rule: 'tls-fingerprint-change', severity: severities[1] }),
  ];
  const [a] = scoreAlerts(alerts, { attacks: [atk], benign: [] }).attacks;
  assert.equal(a.time_to_detect_seconds, 90);
  assert.equal(a.max_severity, 'critical');
  assert.equal(a.alerts, 3);
  assert.deepEqual(a.detected_by, ['subject-mismatch', 'tls-fingerprint-change']);
  assert.deepEqual(a.missed_expected_rules, ['cert-churn']);
  assert.deepEqual(a.by_rule, [
    { rule: 'tls-fingerprint-change', alerts: 2, time_to_detect_seconds: 90, max_severity: 'critical' },
    { rule: 'subject-mismatch', alerts: 1, time_to_detect_seconds: 7200, max_severity: 'medium' },
  ]);
});

test('one alert on two overlapping attacks detects both and counts once in precision', () => {
  const attacks = [
    attack({ id: 'atk-01', users: ['alice'] }),
    attack({ id: 'atk-02', type: 'key-shared-across-accounts', spki_sha256: ['bb22'] }),
  ];
  const r = scoreAlerts([alert({ at: T0 + 5, user: 'alice', spki_sha256: 'bb22' })], { attacks, benign: [] });
  assert.equal(r.recall, 1);
  assert.equal(r.precision, 1);
  assert.equal(r.totals.true_positives, 1);
  assert.deepEqual(r.alerts[0].labels, ['atk-01', 'atk-02']);
});

test('benign entity-days: active (user, UTC day) pairs of users in no attack, names merged case-insensitively', () => {
  const days = new UserDays();
  const day = (d: number, h = 9) => Date.parse(`2026-03-0${d}T0${h}:00:00.000Z`);
  days.observe('bob', day(2));
  days.observe('bob', day(2, 8)); // same day
  days.observe('Bob', day(3)); // same user, other spelling, next day
  days.observe('carol', day(2));
  days.observe('alice', day(2)); // in an attack: excluded
  days.observe('alice', day(3));
  days.observe(null, day(4)); // no user: not counted
  const attacks = [attack({ id: 'atk-01', users: ['ALICE'] })];
  assert.deepEqual(benignEntityDays(days.byUser, attacks), { users: 2, entityDays: 3 });
  const r = scoreAlerts(
    [alert({ at: T0, user: 'bob' }), alert({ at: T0, user: 'alice' })],
    { attacks, benign: [] },
    { userDays: days.byUser },
  );
  // 1 false positive over 3 benign entity-days.
  assert.equal(r.benign_alerts_per_1000_entity_days, 333.333);
  assert.equal(r.totals.benign_entity_days, 3);
});

test('empty cases: no alerts, no attacks, no activity give null ratios, not 0 or NaN', () => {
  const empty = scoreAlerts([], { attacks: [], benign: [] });
  assert.equal(empty.recall, null);
  assert.equal(empty.precision, null);
  assert.equal(empty.benign_alerts_per_1000_entity_days, null);
  assert.deepEqual(empty.attacks, []);
  assert.deepEqual(empty.benign, []);
  const days = new UserDays();
  days.observe('bob', T0);
  const quiet = scoreAlerts(
    [],
    { attacks: [attack({ id: 'atk-01', users: ['alice'] })], benign: [benign({ id: 'ben-01' })] },
    { userDays: days.byUser },
  );
  assert.equal(quiet.recall, 0);
  assert.equal(quiet.precision, null);
  assert.equal(quiet.benign_alerts_per_1000_entity_days, 0);
  assert.deepEqual(
    quiet.benign.map((b) => b.alerts),
    [0],
  );
});

test('promised severity: met at or above the promise, not met below it or when undetected, null without a promise', () => {
  const attacks = [
    // Met exactly: a medium alert on a medium promise.
    attack({ id: 'atk-01', users: ['alice'], expected_severity: 'medium' }),
    // Met above: the highest attributed alert counts, not the first.
    attack({ id: 'atk-02', users: ['bob'], type: 'rogue-issuance', expected_severity: 'high' }),
    // Detected, but below the promise.
    attack({ id: 'atk-03', users: ['carol'], type: 'esc1-request', expected_severity: 'high' }),
    // Promised but never detected.
    attack({ id: 'atk-04', users: ['dave'], type: 'expired-cert-use', expected_severity: 'low' }),
    // No promise (null), and no field at all (labels from before expected_severity).
    attack({ id: 'atk-05', users: ['erin'], type: 'night-service-sweep', expected_rules: [], expected_severity: null }),
    attack({ id: 'atk-06', users: ['frank'], type: 'tls-stack-change' }),
  ];
  const alerts = [
    alert({ at: T0 + 60_000, user: 'alice', severity: 'medium' }),
    alert({ at: T0 + 60_000, user: 'bob', severity: 'medium', rule: 'issuance-without-enrollment' }),
    alert({ at: T0 + 120_000, user: 'bob', severity: 'critical' }),
    alert({ at: T0 + 60_000, user: 'carol', severity: 'medium', rule: 'requester-subject-mismatch' }),
    alert({ at: T0 + 60_000, user: 'erin', severity: 'high', rule: 'new-resource' }),
    alert({ at: T0 + 60_000, user: 'frank', severity: 'low', rule: 'tls-fingerprint-change' }),
  ];
  const r = scoreAlerts(alerts, { attacks, benign: [] });
  assert.deepEqual(
    r.attacks.map((a) => [a.id, a.max_severity, a.expected_severity, a.severity_met]),
    [
      ['atk-01', 'medium', 'medium', true],
      ['atk-02', 'critical', 'high', true],
      ['atk-03', 'medium', 'high', false],
      ['atk-04', null, 'low', false],
      ['atk-05', 'high', null, null],
      ['atk-06', 'low', null, null],
    ],
  );
  assert.equal(r.totals.attacks_severity_promised, 4);
  assert.equal(r.totals.severity_met, 2);
  const byType = Object.fromEntries(r.by_type.map((t) => [t.type, [t.expected_severity, t.severity_promised, t.severity_met]]));
  assert.deepEqual(byType['esc1-request'], ['high', 1, 0]);
  assert.deepEqual(byType['rogue-issuance'], ['high', 1, 1]);
  assert.deepEqual(byType['night-service-sweep'], [null, 0, 0]);
});
