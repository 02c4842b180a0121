// new-resource: account maturity boundaries, peer rarity threshold, the role peer group and its
// population fallback (small or young groups), single vs sweep (count and window edge, once per
// burst), sweeps on immature accounts at reduced confidence, and state across runs. Certificates
// come from the test PKI.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCert } from '../../../tests/helpers/pki.ts';
import type { NormalizedEvent } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import { type AccountServices, rule } from './rule.ts';

const BASE = Date.parse('2026-01-05T09:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
let cert: TestCert;

before(async () => {
  const ca = await createRootCA('CN=Corp Device CA, O=Example Corp');
  cert = await ca.issue({ subject: 'CN=alice, O=Example Corp' });
});

function ev(
  user: string,
  service: string,
  at: number,
  opts: { role?: string | null; outcome?: 'success' | 'failure' } = {},
): NormalizedEvent {
  const role = opts.role === undefined ? 'engineer' : opts.role;
  return makeEvent({
    cert,
    at,
    user,
    device: `dev-${user}`,
    service,
    outcome: opts.outcome ?? 'success',
    identity: role === null ? null : { user, kind: 'human', role, department: null, country: null, email: null },
  });
}

/** `n` engineer peers using mail and git at BASE, `rareUsers` of them db-admin too; alice then matures on mail (20 events over 3 days). */
function world(n = 20, rareUsers = 0, aliceRole: string | null = 'engineer'): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  for (let i = 0; i < n; i++) {
    out.push(ev(`u${i}`, 'mail', BASE), ev(`u${i}`, 'git', BASE + 1));
    if (i < rareUsers) out.push(ev(`u${i}`, 'db-admin', BASE + 2));
  }
  for (let i = 0; i < 20; i++) out.push(ev('alice', 'mail', BASE + Math.round((3 * DAY * i) / 19), { role: aliceRole }));
  return out;
}
const T = BASE + 4 * DAY;

describe('new-resource', () => {
  test('a service never used by the account and used by 0 of 21 role peers fires once (single, weight variant single)', () => {
    const signals = runRule(rule, [...world(), ev('alice', 'db-admin', T), ev('alice', 'db-admin', T + MIN)]);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.rule, 'new-resource');
    assert.equal(s.variant, 'single');
    assert.equal(s.dedup_key, 'alice:db-admin');
    assert.equal(s.confidence, undefined);
    assert.equal(s.evidence.peer_group, 'role');
    assert.equal(s.evidence.peer_group_key, 'engineer');
    assert.equal(s.evidence.peer_group_accounts, 21);
    assert.equal(s.evidence.peer_accounts_using_service, 0);
    assert.equal(s.evidence.baseline, 'mature');
    assert.match(s.summary, /alice used db-admin for the first time; 0 of 21 accounts \(role engineer\)/);
  });

  test('rarity threshold: 1 of 21 peers (4.8 %) fires, 2 of 21 (9.5 %) and a common service stay quiet', () => {
    assert.equal(runRule(rule, [...world(20, 1), ev('alice', 'db-admin', T)]).length, 1);
    assert.deepEqual(runRule(rule, [...world(20, 2), ev('alice', 'db-admin', T)]), []);
    assert.deepEqual(runRule(rule, [...world(), ev('alice', 'git', T)]), []);
  });

  test('account maturity boundaries: 19 events, or 20 events over 3 days minus 1 ms, keep singles quiet', () => {
    const others = world().filter((e) => e.user !== 'alice');
    const hist = (count: number, span: number) =>
      Array.from({ length: count }, (_, i) => ev('alice', 'mail', BASE + Math.round((span * i) / (count - 1))));
    assert.equal(runRule(rule, [...others, ...hist(20, 3 * DAY), ev('alice', 'db-admin', T)]).length, 1);
    assert.deepEqual(runRule(rule, [...others, ...hist(19, 3 * DAY), ev('alice', 'db-admin', T)]), []);
    assert.deepEqual(runRule(rule, [...others, ...hist(20, 3 * DAY - 1), ev('alice', 'db-admin', T)]), []);
  });

  test('a role below min_peer_group_accounts, or without a role, uses the whole population; too small a population stays quiet', () => {
    const [small] = runRule(rule, [...world(20, 0, 'dba'), ev('alice', 'db-admin', T, { role: 'dba' })]);
    assert.equal(small.evidence.role, 'dba');
    assert.equal(small.evidence.peer_group, 'population', 'a role of 1 account is below 20');
    assert.equal(small.evidence.peer_group_accounts, 21);
    const [noRole] = runRule(rule, [...world(20, 0, null), ev('alice', 'db-admin', T, { role: null })]);
    assert.equal(noRole.evidence.peer_group, 'population');
    assert.equal(noRole.evidence.role, null);
    assert.deepEqual(runRule(rule, [...world(), ev('alice', 'db-admin', T)], { config: { min_peer_group_accounts: 22 } }), []);
  });

  test('a peer group observed for less than min_peer_history_hours cannot judge rarity and stays quiet', () => {
    assert.deepEqual(
      runRule(rule, [...world(), ev('alice', 'db-admin', T)], { config: { min_peer_history_hours: 4 * 24 + 1 } }),
      [],
    );
    assert.equal(
      runRule(rule, [...world(), ev('alice', 'db-admin', T)], { config: { min_peer_history_hours: 4 * 24 } }).length,
      1,
    );
  });

  test('3 new rare services within 60 min are one sweep; 2, or 3 spread over 61 min, are not', () => {
    const burst = [
      ev('alice', 's1', T),
      ev('alice', 's2', T + 20 * MIN),
      ev('alice', 's3', T + 60 * MIN),
      ev('alice', 's4', T + 70 * MIN),
    ];
    const sweep = runRule(rule, [...world(), ...burst]);
    assert.deepEqual(
      sweep.map((s) => s.variant),
      ['single', 'single', 'single', 'sweep', 'single'],
      'the 4th service extends the sweep already reported',
    );
    const sw = sweep[3];
    assert.equal(sw.dedup_key, `alice:sweep:${new Date(T).toISOString()}`);
    assert.equal(sw.evidence.sweep_services, 3);
    assert.equal(sw.event, burst[2]);
    assert.equal(runRule(rule, [...world(), ...burst.slice(0, 2)]).filter((s) => s.variant === 'sweep').length, 0);
    const spread = [ev('alice', 's1', T), ev('alice', 's2', T + 20 * MIN), ev('alice', 's3', T + 61 * MIN)];
    assert.equal(runRule(rule, [...world(), ...spread]).filter((s) => s.variant === 'sweep').length, 0);
  });

  test('on an immature account singles stay quiet and a sweep reports at immature_sweep_confidence (0 = quiet)', () => {
    const others = world().filter((e) => e.user !== 'alice');
    const young = [
      ev('alice', 'mail', T - HOUR),
      ev('alice', 's1', T),
      ev('alice', 's2', T + 5 * MIN),
      ev('alice', 's3', T + 10 * MIN),
    ];
    const signals = runRule(rule, [...others, ...young]);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].variant, 'sweep');
    assert.equal(signals[0].confidence, 0.5);
    assert.equal(signals[0].evidence.baseline, 'immature');
    assert.match(signals[0].summary, /immature baseline/);
    assert.deepEqual(runRule(rule, [...others, ...young], { config: { immature_sweep_confidence: 0 } }), []);
  });

  test('failures neither learn nor fire; state carries across runs and stays bounded', () => {
    assert.deepEqual(runRule(rule, [...world(), ev('alice', 'db-admin', T, { outcome: 'failure' })]), []);
    const registry = new StateRegistry();
    assert.deepEqual(runRule(rule, world(), { registry }), []);
    assert.equal(runRule(rule, [ev('alice', 'db-admin', T)], { registry }).length, 1);
    assert.deepEqual(runRule(rule, [ev('alice', 'db-admin', T + DAY)], { registry }), [], 'known now');
    assert.deepEqual(runRule(rule, [ev('alice', 'db-admin', T)]), [], 'a fresh state has no peers and no history');
    const capped = new StateRegistry();
    const many = Array.from({ length: 10 }, (_, i) => ev('alice', `x${i}`, T + i * DAY));
    runRule(rule, [...world(), ...many], { registry: capped, config: { max_services_per_account: 4 } });
    const a = capped.state<AccountServices>('new-resource/account').get('alice');
    assert.ok(a);
    assert.equal(a.size, 4);
    assert.deepEqual(Object.keys(a.services).sort(), ['x6', 'x7', 'x8', 'x9']);
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  });

  test('defaults are valid config, equal the schema defaults, and unknown keys are rejected', () => {
    assert.equal(rule.meta.id, 'new-resource');
    assert.ok(Value.Check(rule.configSchema, rule.defaults));
    assert.deepEqual(Value.Default(rule.configSchema, {}), rule.defaults);
    assert.equal(Value.Check(rule.configSchema, { ...rule.defaults, surprise: 1 }), false);
  });
});
