// tls-fingerprint-change state layout: the compact single-fingerprint / single-version baseline,
// its growth into maps when a second value appears, and baselines persisted by the earlier
// map-only version loading and behaving exactly like the compact ones. Fingerprints are real JA4 /
// JA3 values (FoxIO and Salesforce reference outputs); the certificate comes from the test PKI.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCert } from '../../../tests/helpers/pki.ts';
import type { NormalizedEvent } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import { type DeviceState, type FingerprintBaseline, rule, type VersionBaseline } from './rule.ts';

const BASE = Date.parse('2026-01-05T09:00:00Z');
const HOUR = 3_600_000;
const CHROME = 't13d1516h2_8daaf6152771_e5627efa2ab1';
const TLS12_CLIENT = 't12d190800_d83cc789557e_7af1ed941c26';
const JA3_A = 'ada70206e40642a3e4461f35503241d5';

let deviceCert: TestCert;

before(async () => {
  const ca = await createRootCA('CN=Corp Device CA, O=Example Corp');
  deviceCert = await ca.issue({ subject: 'CN=lap-42.corp.example', dns: ['lap-42.corp.example'] });
});

function ev(hours: number, tls: Partial<NormalizedEvent['tls']>) {
  return makeEvent({ cert: deviceCert, at: BASE + hours * HOUR, device: 'lap-42', user: 'alice', tls });
}

/** 20 events over 24 h with JA4 CHROME, JA3 A and TLS 1.3. */
function baseline(): NormalizedEvent[] {
  const out = [];
  for (let i = 0; i < 20; i++) out.push(ev((i * 24) / 19, { ja4: CHROME, ja3: JA3_A, version: 'TLSv1.3' }));
  return out;
}

/** A baseline in the shape the earlier version persisted (`fps` map, `counts` map). */
function oldShape(s: DeviceState): DeviceState {
  const fb = (b: FingerprintBaseline | null) =>
    b === null || b.fps !== null
      ? b
      : {
          first: b.first,
          last: b.last,
          events: b.events,
          novel: b.novel,
          size: b.size,
          fps: { [b.fp as string]: [b.events, b.last] },
        };
  const vb = (b: VersionBaseline | null) =>
    b === null || b.counts !== null
      ? b
      : { first: b.first, last: b.last, events: b.events, counts: { [b.version as string]: b.events } };
  return JSON.parse(JSON.stringify({ ja4: fb(s.ja4), ja3: fb(s.ja3), versions: vb(s.versions) }));
}

describe('tls-fingerprint-change state', () => {
  test('one fingerprint and one version are stored as scalars, without maps', () => {
    const registry = new StateRegistry();
    runRule(rule, baseline(), { registry });
    const s = registry.state<DeviceState>('tls-fingerprint-change/device').get('lap-42');
    assert.ok(s);
    const last = BASE + 24 * HOUR;
    assert.deepEqual(s.ja4, { first: BASE, last, events: 20, novel: 1, size: 1, fps: null, fp: CHROME });
    assert.deepEqual(s.ja3, { first: BASE, last, events: 20, novel: 1, size: 1, fps: null, fp: JA3_A });
    assert.deepEqual(s.versions, { first: BASE, last, events: 20, counts: null, version: 'TLSv1.3' });
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  });

  test('a second fingerprint and a second version turn the scalars into maps (and the first fires as before)', () => {
    const registry = new StateRegistry();
    const signals = runRule(rule, [...baseline(), ev(25, { ja4: TLS12_CLIENT, version: 'TLSv1.2' })], { registry });
    assert.deepEqual(
      signals.map((x) => x.variant),
      ['new-fingerprint', 'downgrade'],
    );
    assert.deepEqual(signals[0].evidence.versions, { 'TLSv1.3': 20 });
    assert.deepEqual(signals[1].evidence.baseline_versions, { 'TLSv1.3': 20 });
    const s = registry.state<DeviceState>('tls-fingerprint-change/device').get('lap-42');
    assert.ok(s);
    assert.deepEqual(s.ja4?.fps, { [CHROME]: [20, BASE + 24 * HOUR], [TLS12_CLIENT]: [1, BASE + 25 * HOUR] });
    assert.equal(s.ja4?.size, 2);
    assert.equal('fp' in (s.ja4 as object), false);
    assert.deepEqual(s.versions?.counts, { 'TLSv1.3': 20, 'TLSv1.2': 1 });
    assert.equal('version' in (s.versions as object), false);
    // JA3 still has one fingerprint: still compact.
    assert.equal(s.ja3?.fps, null);
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  });

  test('baselines persisted by the map-only version load and behave exactly like the compact ones', () => {
    const compact = new StateRegistry();
    runRule(rule, baseline(), { registry: compact });
    const ns = 'tls-fingerprint-change/device';
    const s = compact.state<DeviceState>(ns).get('lap-42');
    assert.ok(s);
    const old = new StateRegistry();
    old.state(ns).preload(new Map([['lap-42', oldShape(s)]]));
    assert.deepEqual(old.state<DeviceState>(ns).get('lap-42')?.ja4?.fps, { [CHROME]: [20, BASE + 24 * HOUR] });
    const next = [
      ev(25, { ja4: CHROME, ja3: JA3_A, version: 'TLSv1.3' }),
      ev(26, { ja4: TLS12_CLIENT, version: 'TLSv1.2' }),
      ev(27, { ja4: CHROME, version: 'TLSv1.0' }),
    ];
    const fromOld = runRule(rule, next, { registry: old });
    const fromCompact = runRule(rule, next, { registry: compact });
    assert.deepEqual(
      fromOld.map((x) => x.variant),
      ['new-fingerprint', 'downgrade', 'downgrade'],
    );
    assert.deepEqual(
      fromOld.map((x) => [x.summary, x.dedup_key, x.evidence]),
      fromCompact.map((x) => [x.summary, x.dedup_key, x.evidence]),
    );
    // JA3 stayed single: the old record keeps its map, the compact one its scalars; same counts.
    assert.deepEqual(oldShape(compact.state<DeviceState>(ns).get('lap-42') as DeviceState), old.state(ns).get('lap-42'));
  });
});
