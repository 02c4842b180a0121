// Tests for revoked-cert: the revocation-date boundary, quiet without CRLs or on good/unknown
// status, one finding per certificate, rejected uses as attempts, and state across runs.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCA, type TestCert } from '../../../tests/helpers/pki.ts';
import { mergeRevocation } from '../../enrich/ocsp/merge.ts';
import type { NormalizedEvent, OcspResult, RevocationResult } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import type { RuleContext, Signal } from '../types.ts';
import { rule } from './rule.ts';

const DAY = 86_400_000;
const REVOKED_AT = Date.parse('2026-01-10T12:00:00Z');
const THIS_UPDATE = '2026-01-11T00:00:00.000Z';

let ca: TestCA;
let cert: TestCert;
let other: TestCert;

before(async () => {
  ca = await createRootCA('CN=Revocation Test CA, O=certsignal tests');
  cert = await ca.issue({
    subject: 'CN=alice, O=Example',
    notBefore: new Date('2025-06-01T00:00:00Z'),
    notAfter: new Date('2027-06-01T00:00:00Z'),
  });
  other = await ca.issue({
    subject: 'CN=bob, O=Example',
    notBefore: new Date('2025-06-01T00:00:00Z'),
    notAfter: new Date('2027-06-01T00:00:00Z'),
  });
});

function revoked(overrides: Partial<RevocationResult> = {}): RevocationResult {
  return {
    status: 'revoked',
    crl_issuer: 'O=certsignal tests,CN=Revocation Test CA',
    crl_this_update: THIS_UPDATE,
    revoked_at: new Date(REVOKED_AT).toISOString(),
    reason_code: 'keyCompromise',
    ...overrides,
  };
}

function run(
  events: NormalizedEvent[],
  options: { registry?: StateRegistry; facts?: Partial<RuleContext['facts']> } = {},
): Signal[] {
  return runRule(rule, events, options);
}

describe('revoked-cert', () => {
  it('does not fire for a use 1 ms before revoked_at, fires for a use exactly at revoked_at', () => {
    assert.equal(run([makeEvent({ cert, at: REVOKED_AT - 1, revocation: revoked() })]).length, 0);
    const signals = run([
      makeEvent({ cert, at: REVOKED_AT, user: 'alice', source_ip: '192.0.2.10', service: 'vpn', revocation: revoked() }),
    ]);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.rule, 'revoked-cert');
    assert.equal(s.confidence, 1);
    assert.equal(s.dedup_key, s.event.certificate?.sha256);
    assert.equal(s.evidence.serial, cert.serial);
    assert.equal(s.evidence.issuer, s.event.certificate?.issuer);
    assert.match(String(s.evidence.issuer), /CN=Revocation Test CA/);
    assert.equal(s.evidence.crl_issuer, 'O=certsignal tests,CN=Revocation Test CA');
    assert.equal(s.evidence.crl_this_update, THIS_UPDATE);
    assert.equal(s.evidence.revoked_at, '2026-01-10T12:00:00.000Z');
    assert.equal(s.evidence.reason_code, 'keyCompromise');
    assert.equal(s.evidence.seconds_since_revocation, 0);
    assert.match(s.summary, new RegExp(`serial ${cert.serial}`));
    assert.match(s.summary, /reason keyCompromise/);
  });

  it('a use before revocation does not mask a later revoked use of the same certificate', () => {
    const signals = run([
      makeEvent({ cert, at: REVOKED_AT - DAY, revocation: revoked() }),
      makeEvent({ cert, at: REVOKED_AT + 3 * DAY + 1000, revocation: revoked() }),
    ]);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].evidence.days_since_revocation, 3);
    assert.equal(signals[0].evidence.seconds_since_revocation, 3 * 86_400 + 1);
  });

  it('stays quiet on good / unknown revocation status and without a revocation result', () => {
    const good: RevocationResult = {
      status: 'good',
      crl_issuer: 'x',
      crl_this_update: THIS_UPDATE,
      revoked_at: null,
      reason_code: null,
    };
    const unknown: RevocationResult = {
      status: 'unknown',
      crl_issuer: null,
      crl_this_update: null,
      revoked_at: null,
      reason_code: null,
    };
    const at = REVOKED_AT + DAY;
    assert.equal(
      run([makeEvent({ cert, at, revocation: good }), makeEvent({ cert, at, revocation: unknown }), makeEvent({ cert, at })])
        .length,
      0,
    );
  });

  it('stays quiet when no CRLs are configured', () => {
    const e = makeEvent({ cert, at: REVOKED_AT + DAY, revocation: revoked() });
    assert.equal(run([e], { facts: { crlsConfigured: false } }).length, 0);
    assert.equal(run([e], { facts: { crlsConfigured: true } }).length, 1);
  });

  it('fires on an OCSP-revoked certificate (OCSP only) naming the responder; an OCSP unknown never fires', () => {
    const answer = (o: Partial<OcspResult>): OcspResult => ({
      status: 'revoked',
      unknown_reason: null,
      detail: null,
      responder_url: 'http://ocsp.example.test/',
      produced_at: THIS_UPDATE,
      this_update: THIS_UPDATE,
      next_update: null,
      revoked_at: new Date(REVOKED_AT).toISOString(),
      revocation_reason: 'keyCompromise',
      ...o,
    });
    const facts = { crlsConfigured: false, ocspConfigured: true };
    const hit = run([makeEvent({ cert, at: REVOKED_AT + DAY, revocation: mergeRevocation(null, answer({})) })], { facts });
    assert.equal(hit.length, 1);
    assert.equal(hit[0].evidence.revocation_source, 'ocsp');
    assert.equal((hit[0].evidence.ocsp as { responder_url: string }).responder_url, 'http://ocsp.example.test/');
    assert.match(hit[0].summary, /per OCSP responder http:\/\/ocsp\.example\.test\//);
    const unknown = answer({ status: 'unknown', unknown_reason: 'timeout', revoked_at: null, revocation_reason: null });
    assert.equal(
      run([makeEvent({ cert, at: REVOKED_AT + DAY, revocation: mergeRevocation(null, unknown) })], { facts }).length,
      0,
    );
    // A CRL that says good does not outvote an OCSP revocation.
    const crlGood: RevocationResult = {
      status: 'good',
      crl_issuer: 'x',
      crl_this_update: THIS_UPDATE,
      revoked_at: null,
      reason_code: null,
    };
    assert.equal(run([makeEvent({ cert, at: REVOKED_AT + DAY, revocation: mergeRevocation(crlGood, answer({})) })]).length, 1);
    // Neither CRLs nor OCSP configured: quiet.
    assert.equal(
      run([makeEvent({ cert, at: REVOKED_AT + DAY, revocation: mergeRevocation(null, answer({})) })], {
        facts: { crlsConfigured: false },
      }).length,
      0,
    );
  });

  it('reports one finding per certificate across many uses and across runs', () => {
    const registry = new StateRegistry();
    const uses = Array.from({ length: 300 }, (_, i) => makeEvent({ cert, at: REVOKED_AT + i * 600_000, revocation: revoked() }));
    assert.equal(run(uses, { registry }).length, 1);
    const second = run(
      [
        makeEvent({ cert, at: REVOKED_AT + 40 * DAY, revocation: revoked() }),
        makeEvent({ cert: other, at: REVOKED_AT + 40 * DAY, revocation: revoked() }),
      ],
      { registry },
    );
    assert.deepEqual(
      second.map((s) => s.event.certificate?.subject_cn),
      ['bob'],
    );
  });

  it('reports a rejected use as an attempt with confidence 0.5, then once more when a use is accepted', () => {
    const signals = run([
      makeEvent({ cert, at: REVOKED_AT + DAY, outcome: 'failure', revocation: revoked() }),
      makeEvent({ cert, at: REVOKED_AT + 2 * DAY, outcome: 'failure', revocation: revoked() }),
      makeEvent({ cert, at: REVOKED_AT + 3 * DAY, outcome: 'success', revocation: revoked() }),
      makeEvent({ cert, at: REVOKED_AT + 4 * DAY, outcome: 'success', revocation: revoked() }),
    ]);
    assert.equal(signals.length, 2);
    assert.equal(signals[0].confidence, 0.5);
    assert.equal(signals[0].evidence.attempt, true);
    assert.match(String(signals[0].evidence.note), /rejected/);
    assert.equal(signals[0].dedup_key, `${signals[0].event.certificate?.sha256}|attempt`);
    assert.equal(signals[1].confidence, 1);
    assert.equal(signals[1].dedup_key, signals[1].event.certificate?.sha256);
  });

  it('uses the CRL thisUpdate as the boundary when the entry has no revocation date, and skips when neither is known', () => {
    const noDate = revoked({ revoked_at: null });
    const thisUpdate = Date.parse(THIS_UPDATE);
    assert.equal(run([makeEvent({ cert, at: thisUpdate - 1, revocation: noDate })]).length, 0);
    const signals = run([makeEvent({ cert, at: thisUpdate, revocation: noDate })]);
    assert.equal(signals.length, 1);
    assert.match(String(signals[0].evidence.note_revocation_date), /thisUpdate/);
    assert.equal(
      run([makeEvent({ cert, at: thisUpdate + DAY, revocation: revoked({ revoked_at: null, crl_this_update: null }) })]).length,
      0,
    );
  });
});
