// Tests for expired-cert: validity-window boundaries with clock skew, one finding per certificate
// and variant, rejected uses as attempts, logged certificates, and state persisting across runs.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCA, type TestCert } from '../../../tests/helpers/pki.ts';
import type { NormalizedEvent } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import type { Signal } from '../types.ts';
import { type Config, rule } from './rule.ts';

const SECOND = 1000;
const DAY = 86_400_000;
const NOT_BEFORE = Date.parse('2023-01-01T00:00:00Z');
const NOT_AFTER = Date.parse('2024-01-01T00:00:00Z');
const SKEW_MS = 300 * SECOND;

let ca: TestCA;
let cert: TestCert;
let other: TestCert;

before(async () => {
  ca = await createRootCA('CN=Expiry Test CA, O=certsignal tests');
  cert = await ca.issue({ subject: 'CN=alice, O=Example', notBefore: new Date(NOT_BEFORE), notAfter: new Date(NOT_AFTER) });
  other = await ca.issue({ subject: 'CN=bob, O=Example', notBefore: new Date(NOT_BEFORE), notAfter: new Date(NOT_AFTER) });
});

describe('expired-cert', () => {
  it('does not fire at exactly not_after + clock skew, fires 1 ms later', () => {
    assert.equal(rule.defaults.clock_skew_seconds, 300);
    const edge = runOne([makeEvent({ cert, at: NOT_AFTER + SKEW_MS, user: 'alice' })]);
    assert.equal(edge.length, 0);
    const past = runOne([makeEvent({ cert, at: NOT_AFTER + SKEW_MS + 1, user: 'alice' })]);
    assert.equal(past.length, 1);
    assert.equal(past[0].variant, 'expired');
    assert.equal(past[0].rule, 'expired-cert');
    assert.equal(past[0].confidence, 1);
  });

  it('does not fire at exactly not_before - clock skew, fires 1 ms earlier as not-yet-valid', () => {
    assert.equal(runOne([makeEvent({ cert, at: NOT_BEFORE - SKEW_MS })]).length, 0);
    const early = runOne([makeEvent({ cert, at: NOT_BEFORE - SKEW_MS - 1 })]);
    assert.equal(early.length, 1);
    assert.equal(early[0].variant, 'not-yet-valid');
    assert.equal(early[0].evidence.seconds_until_valid, 300);
    assert.equal(early[0].evidence.days_until_valid, 0);
  });

  it('stays quiet for uses inside the validity window', () => {
    const inside = [NOT_BEFORE, NOT_BEFORE + 100 * DAY, NOT_AFTER].map((at) => makeEvent({ cert, at }));
    assert.equal(runOne(inside).length, 0);
  });

  it('honours clock_skew_seconds: 0 fires 1 ms after not_after', () => {
    const signals = runOne([makeEvent({ cert, at: NOT_AFTER + 1 })], { clock_skew_seconds: 0 });
    assert.equal(signals.length, 1);
    assert.equal(signals[0].evidence.clock_skew_seconds, 0);
    assert.equal(runOne([makeEvent({ cert, at: NOT_AFTER + 1 })]).length, 0);
  });

  it('reports a certificate used for 1,000+ days after expiry once, with the first use in evidence', () => {
    const firstUse = NOT_AFTER + 1000 * DAY + 5 * SECOND;
    const events = [];
    for (let i = 0; i < 500; i++) {
      events.push(
        makeEvent({
          cert,
          at: firstUse + i * 3 * 60 * 60 * SECOND,
          user: 'alice',
          source_ip: i === 0 ? '198.51.100.7' : '203.0.113.9',
          service: 'api.internal',
        }),
      );
    }
    const signals = runOne(events);
    assert.equal(signals.length, 1);
    const s = signals[0];
    const info = events[0].certificate;
    assert.ok(info?.sha256);
    assert.equal(s.dedup_key, `${info.sha256}|expired`);
    assert.equal(s.event, events[0]);
    assert.equal(s.evidence.days_expired, 1000);
    assert.equal(s.evidence.seconds_expired, 1000 * 86_400 + 5);
    assert.equal(s.evidence.not_after, '2024-01-01T00:00:00.000Z');
    assert.equal(s.evidence.not_before, '2023-01-01T00:00:00.000Z');
    const use = s.evidence.first_use as Record<string, unknown>;
    assert.equal(use.source_ip, '198.51.100.7');
    assert.equal(use.service, 'api.internal');
    assert.match(s.summary, /1,000 days after it expired/);
    assert.match(s.summary, /skew 300 s/);
  });

  it('reports each certificate separately, and expired vs not-yet-valid as separate findings', () => {
    const signals = runOne([
      makeEvent({ cert, at: NOT_AFTER + DAY }),
      makeEvent({ cert: other, at: NOT_AFTER + DAY }),
      makeEvent({ cert, at: NOT_BEFORE - DAY }),
      makeEvent({ cert, at: NOT_AFTER + 2 * DAY }),
    ]);
    assert.deepEqual(
      signals.map((s) => [s.event.certificate?.subject_cn, s.variant]),
      [
        ['alice', 'expired'],
        ['bob', 'expired'],
        ['alice', 'not-yet-valid'],
      ],
    );
    assert.equal(new Set(signals.map((s) => s.dedup_key)).size, 3);
  });

  it('reports a rejected use as an attempt (confidence 0.5), then escalates once on an accepted use', () => {
    const signals = runOne([
      makeEvent({ cert, at: NOT_AFTER + DAY, outcome: 'failure' }),
      makeEvent({ cert, at: NOT_AFTER + 2 * DAY, outcome: 'failure' }),
      makeEvent({ cert, at: NOT_AFTER + 3 * DAY, outcome: 'success' }),
      makeEvent({ cert, at: NOT_AFTER + 4 * DAY, outcome: 'failure' }),
      makeEvent({ cert, at: NOT_AFTER + 5 * DAY, outcome: 'unknown' }),
    ]);
    assert.equal(signals.length, 2);
    const [attempt, use] = signals;
    assert.equal(attempt.confidence, 0.5);
    assert.equal(attempt.evidence.attempt, true);
    assert.match(String(attempt.evidence.note), /rejected/);
    assert.match(attempt.dedup_key, /\|expired\|attempt$/);
    assert.equal(use.confidence, 1);
    assert.equal(use.evidence.attempt, false);
    assert.equal(use.evidence.days_expired, 3);
    assert.match(use.dedup_key, /\|expired$/);
    assert.equal(use.evidence.earlier_attempt_at, new Date(NOT_AFTER + DAY).toISOString());
  });

  it('does not report a rejected use after an accepted use was already reported', () => {
    const signals = runOne([
      makeEvent({ cert, at: NOT_AFTER + DAY }),
      makeEvent({ cert, at: NOT_AFTER + 2 * DAY, outcome: 'failure' }),
    ]);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].confidence, 1);
  });

  it('keeps its findings across runs sharing one StateRegistry', () => {
    const registry = new StateRegistry();
    const first = runOne([makeEvent({ cert, at: NOT_AFTER + DAY })], {}, registry);
    assert.equal(first.length, 1);
    const second = runOne(
      [makeEvent({ cert, at: NOT_AFTER + 30 * DAY }), makeEvent({ cert: other, at: NOT_AFTER + 30 * DAY })],
      {},
      registry,
    );
    assert.deepEqual(
      second.map((s) => s.event.certificate?.subject_cn),
      ['bob'],
    );
    // The persisted value is a plain JSON-serialisable object.
    const stored = registry.state<unknown>('expired-cert/reported').takeDirty();
    assert.equal(stored.length, 2);
    for (const [, value] of stored) assert.deepEqual(JSON.parse(JSON.stringify(value)), value);
  });

  it('skips a logged certificate without validity dates, and events without a certificate', () => {
    const e = makeEvent({ cert, at: NOT_AFTER + 100 * DAY });
    assert.ok(e.certificate);
    e.certificate = { ...e.certificate, source: 'logged', not_before: null, not_after: null };
    assert.equal(runOne([e, makeEvent({ cert: null, at: NOT_AFTER + 100 * DAY })]).length, 0);
  });

  it('dedups a logged certificate without digests by issuer (case-insensitive) + serial', () => {
    const logged = (issuer: string, at: number) => {
      const e = makeEvent({ cert, at });
      assert.ok(e.certificate);
      e.certificate = { ...e.certificate, source: 'logged', sha256: null, sha1: null, spki_sha256: null, issuer };
      return e;
    };
    const signals = runOne([
      logged('CN=Expiry Test CA,O=certsignal tests', NOT_AFTER + DAY),
      logged(' cn=expiry test ca,o=certsignal tests ', NOT_AFTER + 2 * DAY),
    ]);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].dedup_key, `issuer-serial:cn=expiry test ca,o=certsignal tests#${cert.serial}|expired`);
  });

  it('falls back to the SHA-1 fingerprint when only that was logged', () => {
    const e = makeEvent({ cert, at: NOT_AFTER + DAY });
    assert.ok(e.certificate?.sha1);
    e.certificate = { ...e.certificate, source: 'logged', sha256: null };
    const signals = runOne([e]);
    assert.equal(signals[0].dedup_key, `sha1:${e.certificate.sha1}|expired`);
  });

  it('judges a certificate with only not_after known', () => {
    const e = makeEvent({ cert, at: NOT_AFTER + DAY });
    assert.ok(e.certificate);
    e.certificate = { ...e.certificate, source: 'logged', not_before: null };
    assert.equal(runOne([e]).length, 1);
  });
});

function runOne(events: NormalizedEvent[], config: Partial<Config> = {}, registry = new StateRegistry()): Signal[] {
  return runRule(rule, events, { config, registry });
}
