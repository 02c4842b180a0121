// Tests for untrusted-issuer: fires on `untrusted` (unknown-issuer / self-signed), quiet on trusted,
// unknown, rejected, unconfigured anchors and out-of-scope services; one finding per certificate
// (per certificate + service when scoped), persisting across runs.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, createSelfSignedLeaf, type TestCA, type TestCert } from '../../../tests/helpers/pki.ts';
import type { NormalizedEvent, TrustResult } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import type { RuleContext, Signal } from '../types.ts';
import { type Config, compileServiceGlobs, rule } from './rule.ts';

let internalCA: TestCA;
let rogueCA: TestCA;
let rogueIntermediate: TestCA;
let goodLeaf: TestCert;
let rogueLeaf: TestCert;
let selfSigned: TestCert;

const untrusted: TrustResult = {
  status: 'untrusted',
  anchor_sha256: null,
  anchor_subject: null,
  reason: 'no path to a configured anchor',
};
const selfSignedUntrusted: TrustResult = {
  status: 'untrusted',
  anchor_sha256: null,
  anchor_subject: null,
  reason: 'self-signed, not an anchor',
};

before(async () => {
  internalCA = await createRootCA('CN=Internal Root, O=Example');
  rogueCA = await createRootCA('CN=Rogue Root, O=Evil');
  rogueIntermediate = await rogueCA.subordinate('CN=Rogue Issuing CA, O=Evil');
  goodLeaf = await internalCA.issue({ subject: 'CN=alice, O=Example' });
  rogueLeaf = await rogueIntermediate.issue({ subject: 'CN=alice, O=Example' });
  selfSigned = await createSelfSignedLeaf({ subject: 'CN=mallory-laptop' });
});

function run(
  events: NormalizedEvent[],
  config: Partial<Config> = {},
  options: { registry?: StateRegistry; facts?: Partial<RuleContext['facts']> } = {},
): Signal[] {
  return runRule(rule, events, { config, ...options });
}

describe('untrusted-issuer', () => {
  it('fires unknown-issuer for a certificate from a CA outside the anchors, with reason and chain in evidence', () => {
    const e = makeEvent({
      cert: rogueLeaf,
      chain: [rogueIntermediate.cert],
      user: 'alice',
      service: 'api.internal',
      trust: untrusted,
    });
    const signals = run([e]);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.rule, 'untrusted-issuer');
    assert.equal(s.variant, 'unknown-issuer');
    assert.equal(s.dedup_key, e.certificate?.sha256);
    assert.equal(s.evidence.issuer, e.certificate?.issuer);
    assert.match(String(s.evidence.issuer), /CN=Rogue Issuing CA/);
    assert.equal(s.evidence.trust_reason, 'no path to a configured anchor');
    assert.equal(s.evidence.self_signed, false);
    assert.equal(s.evidence.chain_length, 1);
    assert.match(String(e.chain[0].issuer), /CN=Rogue Root/);
    assert.deepEqual(s.evidence.chain_presented, [
      { subject: e.chain[0].subject, issuer: e.chain[0].issuer, sha256: e.chain[0].sha256, self_signed: false },
    ]);
    assert.match(s.summary, /accepted on api\.internal from alice/);
    assert.match(s.summary, /no path to a configured anchor/);
  });

  it('fires self-signed for an untrusted self-signed client certificate', () => {
    const e = makeEvent({ cert: selfSigned, device: 'laptop-7', trust: selfSignedUntrusted });
    assert.equal(e.certificate?.self_signed, true);
    const signals = run([e]);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].variant, 'self-signed');
    assert.equal(signals[0].evidence.self_signed, true);
    assert.match(signals[0].summary, /^Self-signed client certificate "CN=mallory-laptop"/);
  });

  it('stays quiet for a self-signed certificate that is itself an anchor (trusted)', () => {
    const e = makeEvent({ cert: selfSigned });
    e.enrichment.trust = {
      status: 'trusted',
      anchor_sha256: e.certificate?.sha256 ?? null,
      anchor_subject: 'CN=mallory-laptop',
      reason: 'is a configured anchor',
    };
    assert.equal(run([e]).length, 0);
  });

  it('stays quiet on trusted, unknown and missing trust results', () => {
    const events = [
      makeEvent({
        cert: goodLeaf,
        trust: {
          status: 'trusted',
          anchor_sha256: 'ab'.repeat(32),
          anchor_subject: 'CN=Internal Root',
          reason: 'chains to anchor',
        },
      }),
      makeEvent({
        cert: rogueLeaf,
        trust: { status: 'unknown', anchor_sha256: null, anchor_subject: null, reason: 'no certificate bytes' },
      }),
      makeEvent({ cert: rogueLeaf, trust: null }),
      makeEvent({ cert: null, trust: untrusted }),
    ];
    assert.equal(run(events).length, 0);
  });

  it('stays quiet when no trust anchors are configured', () => {
    const e = makeEvent({ cert: rogueLeaf, trust: untrusted });
    assert.equal(run([e], {}, { facts: { trustAnchorsConfigured: false } }).length, 0);
    assert.equal(run([e], {}, { facts: { trustAnchorsConfigured: true } }).length, 1);
  });

  it('ignores uses the gateway rejected, and reports an accepted use afterwards', () => {
    const signals = run([
      makeEvent({ cert: rogueLeaf, outcome: 'failure', trust: untrusted }),
      makeEvent({ cert: rogueLeaf, outcome: 'unknown', trust: untrusted }),
    ]);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].event.outcome, 'unknown');
    assert.match(signals[0].summary, / presented /);
  });

  it('reports one finding per certificate however many times it is used, across runs', () => {
    const registry = new StateRegistry();
    const many = Array.from({ length: 200 }, (_, i) =>
      makeEvent({
        cert: rogueLeaf,
        at: Date.parse('2026-01-05T09:00:00Z') + i * 60_000,
        service: `svc-${i % 7}`,
        trust: untrusted,
      }),
    );
    assert.equal(run(many, {}, { registry }).length, 1);
    const second = run(
      [makeEvent({ cert: rogueLeaf, trust: untrusted }), makeEvent({ cert: selfSigned, trust: selfSignedUntrusted })],
      {},
      { registry },
    );
    assert.deepEqual(
      second.map((s) => s.variant),
      ['self-signed'],
    );
  });

  it('with services configured, fires only on matching services and dedups per certificate + service', () => {
    const config = { services: ['api-*.internal', 'payments'] };
    const at = (service: string | null) => makeEvent({ cert: rogueLeaf, service, trust: untrusted });
    const signals = run(
      [
        at('web.internal'),
        at(null),
        at('api-1.internal'),
        at('API-1.INTERNAL'),
        at('api-2.internal'),
        at('Payments'),
        at('payments-legacy'),
      ],
      config,
    );
    assert.deepEqual(
      signals.map((s) => s.event.service),
      ['api-1.internal', 'api-2.internal', 'Payments'],
    );
    const sha = signals[0].event.certificate?.sha256;
    assert.deepEqual(
      signals.map((s) => s.dedup_key),
      [`${sha}|api-1.internal`, `${sha}|api-2.internal`, `${sha}|payments`],
    );
    assert.deepEqual(signals[0].evidence.services_scope, config.services);
  });

  it('compiles service globs with literal dots and single-character ?', () => {
    const re = compileServiceGlobs(['a.b', 'h?st', 'x*']);
    assert.ok(re);
    assert.equal(re.test('a.b'), true);
    assert.equal(re.test('axb'), false);
    assert.equal(re.test('host'), true);
    assert.equal(re.test('hoost'), false);
    assert.equal(re.test('x'), true);
    assert.equal(re.test('yx'), false);
    assert.equal(compileServiceGlobs([]), null);
  });
});
