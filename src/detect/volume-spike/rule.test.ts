// volume-spike: an exfiltration hour and a request flood fire (once per account per window, as
// soon as the window crosses); a stable heavy service account, a nightly backup, gradual growth,
// the first days, and null byte counts stay quiet; dedup is deterministic; the profile survives a
// JSON round trip through StateRegistry and stays small. Certificates come from the test PKI;
// bulk history events carry none (the rule does not read them; it keeps the tests fast).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Value } from 'typebox/value';
import { type EventInit, makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCert } from '../../../tests/helpers/pki.ts';
import type { NormalizedEvent } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import { level, representative, rule, type VolumeProfile } from './rule.ts';

const T0 = Date.parse('2026-01-05T00:00:00Z'); // a Monday
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MB = 1_000_000;
let cert: TestCert;

before(async () => {
  const ca = await createRootCA('CN=Corp Device CA, O=Example Corp');
  cert = await ca.issue({ subject: 'CN=alice, O=Example Corp' });
});

/** `requests` events spread evenly over the hour from `start`, sharing `bytes` (null: unknown). */
function hour(
  user: string | null,
  start: number,
  requests: number,
  bytes: number | null,
  init: EventInit = {},
): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  const step = Math.floor(HOUR / requests);
  for (let i = 0; i < requests; i++) {
    let b: number | null = null;
    if (bytes !== null)
      b = i < requests - 1 ? Math.floor(bytes / requests) : bytes - Math.floor(bytes / requests) * (requests - 1);
    out.push(makeEvent({ at: start + i * step, user, device: 'lap-1', bytes: b, ...init }));
  }
  return out;
}

/** An office worker: weekdays 09–17 UTC, 15–25 requests an hour of ~500 kB each (bytes null: not logged). */
function office(days: number, withBytes = true, user: string | null = 'alice'): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  for (let d = 0; d < days; d++) {
    if (d % 7 >= 5) continue;
    for (let h = 9; h < 17; h++) {
      const requests = 15 + (((d * 8 + h) * 7) % 11);
      out.push(...hour(user, T0 + d * DAY + h * HOUR, requests, withBytes ? requests * 500_000 : null));
    }
  }
  return out;
}

/** Deterministic PRNG (mulberry32) for Poisson-like series. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poisson sample (Knuth for small λ, normal approximation above 30). */
function poisson(rand: () => number, lambda: number): number {
  if (lambda > 30) {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
  }
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k += 1;
    p *= rand();
  } while (p > l);
  return k - 1;
}

const EXFIL_DAY = T0 + 22 * DAY; // a Tuesday after three weeks of office history

describe('volume-spike', () => {
  test('histogram levels: 3 per doubling, representatives inside their bins', () => {
    assert.equal(level(0), 0);
    assert.equal(level(1), 1);
    assert.equal(level(2), 4);
    assert.equal(level(1024), 31);
    for (const x of [1, 7, 100, 12_345, 5e9]) {
      const r = representative(level(x));
      assert.ok(r / x < 1.27 && x / r < 1.27, `${x} → ${r}`);
    }
  });

  test('an exfiltration hour (50× the usual bytes) fires once, on the event that crossed, with the baseline in evidence', () => {
    const normal = office(22);
    const exfil = hour('alice', EXFIL_DAY + 10 * HOUR, 40, 500 * MB, { cert, service: 'files' });
    const signals = runRule(rule, [...normal, ...exfil]);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.rule, 'volume-spike');
    assert.equal(s.variant, 'bytes');
    assert.equal(s.confidence, undefined);
    assert.equal(s.dedup_key, 'alice:2026-01-27T10:00:00.000Z:bytes');
    const b = s.evidence.bytes as Record<string, number | string>;
    // The threshold is the 100 MB floor: the usual hour is ~10 MB, its busiest ~12.5 MB.
    assert.equal(b.bound, 'floor');
    assert.equal(b.threshold, 100 * MB);
    assert.equal(b.baseline, 'mature');
    assert.ok((b.active_median as number) > 7 * MB && (b.active_median as number) < 13 * MB, String(b.active_median));
    assert.equal(b.median, 0, 'most windows of an office worker are empty');
    assert.equal(b.max, 12_500_000);
    // The look-back in use: the previous 7-day half (168 hours) + 25 hours of the current one.
    assert.equal(b.windows, 168 + 25);
    // Fired as soon as it crossed: the 9th event of 12.5 MB (112.5 MB), not at the end of the hour.
    assert.equal(s.event, exfil[8]);
    assert.equal(b.observed, 9 * 12_500_000);
    assert.equal(s.evidence.window_start, '2026-01-27T10:00:00.000Z');
    assert.equal(s.evidence.service, 'files');
    assert.equal((s.evidence.certificate as { sha256: string }).sha256.length, 64);
    assert.match(
      s.summary,
      /^alice: 113 MB in the 60-min window from 2026-01-27T10:00:00.000Z so far, 1\d\.\d× its median active window/,
    );
  });

  test('one 400 MB download by a mature account is quiet; a 40-request 3 GB pull fires on bytes', () => {
    const normal = office(22);
    // A git clone or an ISO in the middle of an ordinary office hour: one request carries ~97 % of it.
    const download = makeEvent({ at: EXFIL_DAY + 10 * HOUR + 20 * 60_000, user: 'alice', device: 'lap-1', bytes: 400 * MB });
    const officeHour = hour('alice', EXFIL_DAY + 10 * HOUR, 20, 10 * MB);
    const withDownload = [...normal, ...officeHour, download].sort((x, y) => x.ts - y.ts);
    assert.deepEqual(runRule(rule, withDownload), []);
    // The same download alone in its hour is just as quiet; without the spread test it fires.
    assert.deepEqual(runRule(rule, [...normal, download]), []);
    const [old] = runRule(rule, [...normal, download], { config: { bytes_max_share: 1 } });
    assert.equal(old.variant, 'bytes');
    assert.equal(old.evidence.largest_request_share, 1);
    // 40 requests of 75 MB: no request dominates; it fires once the window is over 100 MB, on the
    // second transfer (150 MB, largest share 0.5 = bytes_max_share), long before 30 requests.
    const pull = hour('alice', EXFIL_DAY + 14 * HOUR, 40, 3000 * MB, { cert, service: 'files' });
    const signals = runRule(rule, [...normal, ...pull]);
    assert.equal(signals.length, 1);
    const [s] = signals;
    assert.equal(s.variant, 'bytes');
    assert.equal(s.event, pull[1]);
    assert.equal((s.evidence.bytes as { observed: number }).observed, 150 * MB);
    assert.equal(s.evidence.largest_request_bytes, 75 * MB);
    assert.equal(s.evidence.largest_request_share, 0.5);
    assert.equal((s.evidence.thresholds as { bytes_max_share: number }).bytes_max_share, 0.5);
  });

  test('a window that opens with a big download still fires once enough other transfers follow', () => {
    const normal = office(22);
    const start = EXFIL_DAY + 10 * HOUR;
    const download = makeEvent({ at: start, user: 'alice', device: 'lap-1', bytes: 300 * MB });
    // Then 20 pulls of 20 MB: the largest share falls to 300 / (300 + 20 n), ≤ 0.5 at n = 15.
    const pulls = hour('alice', start + 60_000, 20, 400 * MB);
    const [s, ...rest] = runRule(rule, [...normal, download, ...pulls]);
    assert.deepEqual(rest, []);
    assert.equal(s.variant, 'bytes');
    assert.equal(s.event, pulls[14]);
    assert.equal((s.evidence.bytes as { observed: number }).observed, 600 * MB);
    // With bytes_max_share 0.3 it stays quiet: after all 20 pulls the download is still 43 % of the window.
    assert.deepEqual(runRule(rule, [...normal, download, ...pulls], { config: { bytes_max_share: 0.3 } }), []);
  });

  test('a request flood fires on requests; without byte counts the evidence says only requests were judged', () => {
    const flood = hour('alice', EXFIL_DAY + 14 * HOUR, 2000, null);
    const [s, ...rest] = runRule(rule, [...office(22), ...flood]);
    assert.deepEqual(rest, []);
    assert.equal(s.variant, 'requests');
    // The office worker's median active hour is ~18 requests: 3× that is above the 30-request floor.
    const r = s.evidence.requests as { observed: number; threshold: number; bound: string };
    assert.equal(r.bound, 'ratio');
    assert.ok(r.threshold > 50 && r.threshold < 60, String(r.threshold));
    assert.equal(r.observed, Math.floor(r.threshold) + 1, 'fired on the first request over the threshold');
    assert.equal(s.evidence.bytes, null);
    assert.match(String(s.evidence.bytes_note), /only requests were judged/);
    // The same for an account known only by its device.
    const devFlood = [...office(22, true, null), ...hour(null, EXFIL_DAY + 14 * HOUR, 500, 500_000)];
    const [d] = runRule(rule, devFlood);
    assert.equal(d.dedup_key, 'device:lap-1:2026-01-27T14:00:00.000Z:requests');
    assert.equal(d.evidence.account, null);
  });

  test('one signal per account per window, deterministic: a flood with big bytes reports bytes once; the next window, no bigger, is quiet', () => {
    const events = [
      ...office(22),
      ...hour('alice', EXFIL_DAY + 10 * HOUR, 1000, 2000 * MB),
      ...hour('alice', EXFIL_DAY + 11 * HOUR, 1000, 2000 * MB),
    ];
    const a = runRule(rule, events);
    const b = runRule(rule, events);
    assert.deepEqual(
      a.map((s) => s.dedup_key),
      ['alice:2026-01-27T10:00:00.000Z:bytes'],
    );
    assert.deepEqual(
      b.map((s) => [s.dedup_key, s.summary]),
      a.map((s) => [s.dedup_key, s.summary]),
    );
    // Bytes crossed first (51 × 2 MB); requests crossing later (101) in the same window add nothing.
    assert.equal((a[0].evidence.requests as { observed: number }).observed, 51);
  });

  test('a stable heavy service account (24/7, ~1 GB an hour) stays quiet for three weeks', () => {
    const rand = prng(7);
    const events: NormalizedEvent[] = [];
    for (let h = 0; h < 21 * 24; h++) {
      const n = poisson(rand, 150);
      events.push(...hour('svc-sync', T0 + h * HOUR, n, n * Math.round(6 * MB * (0.8 + 0.4 * rand()))));
    }
    assert.deepEqual(runRule(rule, events), []);
    // The same account tripling its hour does fire (the ratio term).
    const spike = runRule(rule, [...events, ...hour('svc-sync', T0 + 21 * DAY, 1000, 1000 * 6 * MB)]);
    assert.equal(spike.length, 1);
    assert.equal((spike[0].evidence.requests as { bound: string }).bound, 'ratio');
  });

  test('a nightly backup (50 GB at 02:00 every night, light traffic otherwise) stays quiet: its baseline holds the precedent', () => {
    const events: NormalizedEvent[] = [];
    for (let d = 0; d < 21; d++)
      for (let h = 0; h < 24; h++) {
        if (h === 2) events.push(...hour('svc-backup', T0 + d * DAY + h * HOUR, 20, 50_000 * MB + d * 7 * MB));
        else events.push(...hour('svc-backup', T0 + d * DAY + h * HOUR, 3, 30_000));
      }
    assert.deepEqual(runRule(rule, events), []);
    // Without the precedent term the robust statistics alone see an outlier every night.
    assert.ok(runRule(rule, events, { config: { precedent_ratio: 0 } }).length >= 10);
  });

  test('gradual growth (5 % a day for four weeks) stays quiet', () => {
    const events: NormalizedEvent[] = [];
    for (let h = 0; h < 28 * 24; h++) {
      const n = Math.round(100 * 1.05 ** (h / 24));
      events.push(...hour('svc-api', T0 + h * HOUR, n, n * MB));
    }
    assert.deepEqual(runRule(rule, events), []);
  });

  test('the first days are immature and quiet (7 days, 12 active windows); immature_confidence reports them', () => {
    const early = [...office(3), ...hour('alice', T0 + 3 * DAY + 10 * HOUR, 40, 500 * MB)];
    assert.deepEqual(runRule(rule, early), []);
    const [s] = runRule(rule, early, { config: { immature_confidence: 0.4 } });
    assert.equal(s.confidence, 0.4);
    assert.equal(s.evidence.baseline, 'immature');
    assert.match(s.summary, /immature baseline/);
    // Boundary: an account active every hour since 09:00 day 0 is mature exactly 7 days later.
    const steady: NormalizedEvent[] = [];
    for (let h = 0; h < 7 * 24; h++) steady.push(...hour('svc', T0 + 9 * HOUR + h * HOUR, 2, 2 * MB));
    // Ten transfers of 50 MB (a single 500 MB request would be one download, quiet by bytes_max_share).
    const spike = (at: number) => hour('svc', at, 10, 500 * MB);
    assert.deepEqual(
      runRule(rule, [...steady.filter((e) => e.ts < T0 + 7 * DAY + 8 * HOUR), ...spike(T0 + 7 * DAY + 8 * HOUR)]),
      [],
    );
    assert.equal(runRule(rule, [...steady, ...spike(T0 + 7 * DAY + 9 * HOUR)]).length, 1);
  });

  test('null byte counts: normal request counts stay quiet, and bytes appearing for the first time have no baseline', () => {
    const noBytes = office(22, false);
    assert.deepEqual(runRule(rule, [...noBytes, ...hour('alice', EXFIL_DAY + 10 * HOUR, 25, null)]), []);
    // A source change starts logging bytes: 500 MB has nothing to compare with (bytes immature).
    assert.deepEqual(runRule(rule, [...noBytes, ...hour('alice', EXFIL_DAY + 10 * HOUR, 25, 500 * MB)]), []);
    // Partly known bytes are a lower bound, and the evidence says so.
    const mixed = [...hour('alice', EXFIL_DAY + 10 * HOUR, 20, 500 * MB), ...hour('alice', EXFIL_DAY + 10 * HOUR + 1, 5, null)];
    mixed.sort((x, y) => x.ts - y.ts);
    const [s] = runRule(rule, [...office(22), ...mixed]);
    assert.equal(s.variant, 'bytes');
    assert.match(String(s.evidence.bytes_note), /of \d+ requests of this window carried no byte count: bytes are a lower bound/);
  });

  test('failed events, and a re-read of old data in the same state, neither count nor fire', () => {
    const failed = hour('alice', EXFIL_DAY + 10 * HOUR, 2000, 5000 * MB, { outcome: 'failure' });
    assert.deepEqual(runRule(rule, [...office(22), ...failed]), []);
    const registry = new StateRegistry();
    const hist = office(22);
    assert.deepEqual(runRule(rule, hist, { registry }), []);
    assert.deepEqual(runRule(rule, hist, { registry }), [], 'late by more than one window: ignored');
  });

  test('the profile survives a JSON round trip through StateRegistry and stays a few hundred bytes', () => {
    const registry = new StateRegistry();
    runRule(rule, office(22), { registry });
    const ns = registry.state<VolumeProfile>('volume-spike/account');
    const dirty = ns.takeDirty();
    const json = JSON.stringify(dirty);
    const restored = new StateRegistry();
    restored.state<VolumeProfile>('volume-spike/account').preload(new Map(JSON.parse(json) as [string, unknown][]));
    const exfil = hour('alice', EXFIL_DAY + 10 * HOUR, 40, 500 * MB);
    const direct = runRule(rule, [...office(22), ...exfil]);
    const resumed = runRule(rule, exfil, { registry: restored });
    assert.deepEqual(
      resumed.map((s) => [s.dedup_key, s.evidence.bytes]),
      direct.map((s) => [s.dedup_key, s.evidence.bytes]),
    );
    // A changed window length resets the profile (the kept indices mean something else): quiet.
    const again = new StateRegistry();
    again.state<VolumeProfile>('volume-spike/account').preload(new Map(JSON.parse(json) as [string, unknown][]));
    assert.deepEqual(runRule(rule, exfil, { registry: again, config: { window_minutes: 30 } }), []);
    const reset = again.state<VolumeProfile>('volume-spike/account').get('alice');
    assert.equal(reset?.m, 30);
    assert.equal(reset?.s, Math.floor((EXFIL_DAY + 10 * HOUR) / (30 * 60_000)), 'a new first window: learning starts over');
    const alice = JSON.stringify(ns.get('alice'));
    assert.ok(alice.length <= 300, `office worker profile ${alice.length} bytes: ${alice}`);
    // A heavy 24/7 account, and a pathological one whose windows span every level, stay bounded.
    const wild = new StateRegistry();
    const rand = prng(3);
    const events: NormalizedEvent[] = [];
    for (let h = 0; h < 14 * 24; h++)
      events.push(...hour('wild', T0 + h * HOUR, 1 + Math.floor(rand() * 60), Math.floor(2 ** (10 + rand() * 40))));
    runRule(rule, events, { registry: wild });
    const w = JSON.stringify(wild.state<VolumeProfile>('volume-spike/account').get('wild'));
    assert.ok(w.length <= 2048, `worst-case profile ${w.length} bytes`);
  });

  test('property: a stationary Poisson-like series below the threshold never fires', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.double({ min: 0.05, max: 25, noNaN: true }),
        fc.integer({ min: 1_000, max: 5_000_000 }),
        fc.boolean(),
        (seed, lambda, bytesPerRequest, nullBytes) => {
          const rand = prng(seed);
          const events: NormalizedEvent[] = [];
          for (let h = 0; h < 16 * 24; h++) {
            const n = poisson(rand, lambda);
            for (let i = 0; i < n; i++)
              events.push(
                makeEvent({
                  at: T0 + h * HOUR + Math.floor((i * HOUR) / n),
                  user: 'p',
                  bytes: nullBytes ? null : Math.round(bytesPerRequest * (0.5 + rand())),
                }),
              );
          }
          assert.deepEqual(runRule(rule, events), []);
        },
      ),
      { numRuns: 15, seed: 20260105 },
    );
  });

  test('defaults are valid config, equal the schema defaults, and unknown keys are rejected', () => {
    assert.ok(Value.Check(rule.configSchema, rule.defaults));
    assert.deepEqual(Value.Default(rule.configSchema, {}), rule.defaults);
    assert.equal(Value.Check(rule.configSchema, { ...rule.defaults, surprise: 1 }), false);
  });
});
