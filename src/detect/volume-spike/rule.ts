// volume-spike (issue 4): an account makes far more requests, or moves far more bytes, in one fixed
// window than its own robust baseline allows. Each account (else its device) keeps a compact sketch
// of its past windows over the look-back — empty windows included — as log-binned histograms of
// requests and bytes per window in two halves (current and previous), plus each half's largest
// window. The current window is judged as it fills: once per account per window, as soon as it
// crosses. Bytes count only when spread over several requests (no single one carries more than
// `bytes_max_share` of the window): one big download is not a spike, an exfiltration pulls many
// objects. A weak-to-medium signal on its own, meant to add up with others for the same account
// ("new device + far geo + data spike").
import { Type } from 'typebox';
import type { NormalizedEvent } from '../../schema/event.ts';
import { certificateEvidence } from '../shared/certificate.ts';
import type { KeyedState, Rule, RuleContext, RuleInstance, Signal } from '../types.ts';

/** Config block `rules.volume-spike`. */
export interface Config {
  /** Length of the fixed windows (aligned to the epoch, so hourly windows start on the UTC hour). */
  window_minutes: number;
  /** Look-back of the baseline, kept as two halves: between half and all of it is in use. */
  lookback_days: number;
  /** k in `median + k × 1.4826 × MAD`. */
  mad_multiplier: number;
  /** The window must also exceed this multiple of the median of the account's active windows. */
  min_ratio: number;
  /** Absolute floor: requests per window at or below this never fire. */
  min_requests: number;
  /** Absolute floor: bytes per window at or below this never fire. */
  min_bytes: number;
  /** The window must exceed this multiple of the largest window of the look-back (0 = no precedent test). */
  precedent_ratio: number;
  /** Maturity: the account's first window at least this many days before the current one… */
  min_history_days: number;
  /** …and at least this many active windows (with bytes known, for the bytes metric) in the look-back. */
  min_active_windows: number;
  /** Confidence on an immature baseline (evidence `baseline: immature`); 0 = stay quiet. */
  immature_confidence: number;
  /**
   * Bytes fire only while the window's largest single request is at most this share of the window's
   * bytes: one big download is not a spike by itself, an exfiltration pulls many objects (1 = no test).
   */
  bytes_max_share: number;
}

export const configSchema = Type.Object(
  {
    window_minutes: Type.Integer({
      minimum: 5,
      maximum: 1440,
      default: 60,
      description: 'Length of the fixed windows in minutes (aligned to the epoch: hourly windows start on the UTC hour).',
    }),
    lookback_days: Type.Integer({
      minimum: 2,
      maximum: 90,
      default: 14,
      description: 'Days of past windows in the baseline (kept as two halves; between half and all of it is in use).',
    }),
    mad_multiplier: Type.Number({
      exclusiveMinimum: 0,
      default: 6,
      description: 'k in median + k × 1.4826 × MAD (over all windows and over active windows).',
    }),
    min_ratio: Type.Number({
      minimum: 1,
      default: 3,
      description: "The window must exceed this multiple of the median of the account's active windows.",
    }),
    min_requests: Type.Integer({ minimum: 1, default: 30, description: 'Requests per window at or below this never fire.' }),
    min_bytes: Type.Integer({ minimum: 1, default: 100000000, description: 'Bytes per window at or below this never fire.' }),
    precedent_ratio: Type.Number({
      minimum: 0,
      default: 1.5,
      description: 'The window must exceed this multiple of the largest window of the look-back; 0 disables.',
    }),
    min_history_days: Type.Number({
      minimum: 0,
      default: 7,
      description: "Days between the account's first window and the current one before it can fire.",
    }),
    min_active_windows: Type.Integer({
      minimum: 1,
      default: 12,
      description: 'Active windows (with bytes known, for bytes) in the look-back before it can fire.',
    }),
    immature_confidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0,
      description: 'Confidence on an immature baseline; 0 keeps the rule quiet then.',
    }),
    bytes_max_share: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.5,
      description:
        "Bytes fire only while the window's largest single request is at most this share of its bytes (one big download is not a spike by itself); 1 disables.",
    }),
  },
  { additionalProperties: false },
);

export const defaults: Config = {
  window_minutes: 60,
  lookback_days: 14,
  mad_multiplier: 6,
  min_ratio: 3,
  min_requests: 30,
  min_bytes: 100_000_000,
  precedent_ratio: 1.5,
  min_history_days: 7,
  min_active_windows: 12,
  immature_confidence: 0,
  bytes_max_share: 0.5,
};

/**
 * One half of the look-back. Histograms are `[first level, count, count, …]` (empty: `[]`) over
 * log-spaced levels (see `level`); windows with no request are not stored, their number follows
 * from the half's span.
 */
export interface Half {
  /** Active windows (at least one request). */
  n: number;
  /** Requests per active window. */
  r: number[];
  /** Bytes per active window whose bytes were known for at least one request. */
  b: number[];
  /** Largest requests / known bytes of a window in this half. */
  mr: number;
  mb: number;
}

/** Per-account profile (namespace `volume-spike/account`, keyed by account or `device:<id>`). */
export interface VolumeProfile {
  /** Window length in minutes the indices below are in (a config change resets the profile). */
  m: number;
  /** Current window index (epoch ms / window length, floored). */
  w: number;
  /** Requests, known bytes and requests with bytes known in the current window. */
  r: number;
  b: number;
  k: number;
  /** Bytes of the current window's largest single request (absent in profiles written before it: 0). */
  x?: number;
  /** 1 once the current window has fired. */
  f: number;
  /** The account's first window index. */
  s: number;
  /** First window index of the current half. */
  e: number;
  /** Current half, previous half. */
  h: [Half, Half];
}

/** Statistics of one metric over the look-back (values per window). */
export interface MetricBaseline {
  /** Windows in the look-back (empty ones included; for bytes, windows with unknown bytes excluded). */
  windows: number;
  /** Of which active (for bytes: with bytes known). */
  active_windows: number;
  median: number;
  mad: number;
  active_median: number;
  active_mad: number;
  /** Largest window of the look-back. */
  max: number;
}

export type Metric = 'requests' | 'bytes';
/** Which term of the threshold was the largest. */
export type Bound = 'mad' | 'active-mad' | 'ratio' | 'floor' | 'precedent';

export interface MetricThreshold {
  baseline: MetricBaseline;
  mature: boolean;
  threshold: number;
  bound: Bound;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Histogram levels per doubling: bins 26 % wide; representatives within ±12 % of any value in them. */
const LEVELS_PER_OCTAVE = 3;
/** Bytes below 1 KiB (0 included) share the 1 KiB level: far below any floor, and it bounds the histogram's span. */
const BYTES_MIN_LEVEL = level(1024);
/** Clamps: 2^24 requests and 2^50 bytes per window. */
const REQUESTS_MAX_LEVEL = level(2 ** 24);
const BYTES_MAX_LEVEL = level(2 ** 50);
/** 1.4826 × MAD estimates the standard deviation of a normal distribution. */
const MAD_SCALE = 1.4826;

/** Histogram level of a per-window value: 0 for 0, else 1 + ⌊3·log2 x⌋ (x = 1 → 1, 2 → 4, 1000 → 30). */
export function level(x: number): number {
  return x < 1 ? 0 : 1 + Math.floor(LEVELS_PER_OCTAVE * Math.log2(x) + 1e-9);
}

/** The value a level stands for: 0, else the geometric middle of its bin. */
export function representative(lvl: number): number {
  return lvl === 0 ? 0 : 2 ** ((lvl - 0.5) / LEVELS_PER_OCTAVE);
}

function emptyHalf(): Half {
  return { n: 0, r: [], b: [], mr: 0, mb: 0 };
}

/** Adds one window at `lvl` to a `[first level, counts…]` histogram, in place. */
function addLevel(h: number[], lvl: number): void {
  if (h.length === 0) {
    h.push(lvl, 1);
    return;
  }
  const first = h[0];
  if (lvl < first) {
    const pad = new Array<number>(first - lvl).fill(0);
    h.splice(1, 0, ...pad);
    h[0] = lvl;
    h[1] = 1;
    return;
  }
  const i = lvl - first + 1;
  while (h.length <= i) h.push(0);
  h[i] += 1;
}

/** Sum of a histogram's counts. */
function histTotal(h: readonly number[]): number {
  let t = 0;
  for (let i = 1; i < h.length; i++) t += h[i];
  return t;
}

/** Weighted median of (value, count) pairs sorted by value; 0 when empty. */
function weightedMedian(pairs: readonly (readonly [number, number])[], total: number): number {
  if (total <= 0) return 0;
  // Ranks (0-based) of the middle element(s): average them for an even total.
  const lo = Math.floor((total - 1) / 2);
  const hi = Math.floor(total / 2);
  let seen = 0;
  let vLo = 0;
  let found = false;
  for (const [v, c] of pairs) {
    if (!found && seen + c > lo) {
      vLo = v;
      found = true;
    }
    if (seen + c > hi) return (vLo + v) / 2;
    seen += c;
  }
  return vLo;
}

/** Median and MAD of the merged histograms plus `zeros` extra windows at value 0. */
function medianMad(hists: readonly (readonly number[])[], zeros: number): { median: number; mad: number; total: number } {
  const counts = new Map<number, number>();
  if (zeros > 0) counts.set(0, zeros);
  for (const h of hists)
    for (let i = 1; i < h.length; i++) if (h[i] > 0) counts.set(h[0] + i - 1, (counts.get(h[0] + i - 1) ?? 0) + h[i]);
  let total = 0;
  const pairs: [number, number][] = [];
  for (const [lvl, c] of [...counts].sort((x, y) => x[0] - y[0])) {
    pairs.push([representative(lvl), c]);
    total += c;
  }
  const median = weightedMedian(pairs, total);
  const dev: [number, number][] = pairs.map(([v, c]) => [Math.abs(v - median), c]);
  dev.sort((x, y) => x[0] - y[0]);
  return { median, mad: weightedMedian(dev, total), total };
}

/** Windows of the account in the current half before the current window, and in the previous half. */
function halfWindows(p: VolumeProfile, halfLen: number): [number, number] {
  const cur = Math.max(0, p.w - Math.max(p.e, p.s));
  const prevStart = p.e - halfLen;
  const prev = Math.max(0, p.e - Math.max(prevStart, p.s));
  return [cur, prev];
}

/** The baseline of one metric at the profile's current window. */
export function metricBaseline(p: VolumeProfile, metric: Metric, halfLen: number): MetricBaseline {
  const [w0, w1] = halfWindows(p, halfLen);
  const [h0, h1] = p.h;
  const windowsAll = w0 + w1;
  const active = h0.n + h1.n;
  const hists = metric === 'requests' ? [h0.r, h1.r] : [h0.b, h1.b];
  const known = metric === 'requests' ? active : histTotal(h0.b) + histTotal(h1.b);
  // Bytes: active windows whose bytes were unknown are left out, not counted as zero.
  const windows = metric === 'requests' ? windowsAll : windowsAll - active + known;
  const empty = Math.max(0, windowsAll - active);
  const all = medianMad(hists, empty);
  const act = medianMad(hists, 0);
  return {
    windows,
    active_windows: known,
    median: all.median,
    mad: all.mad,
    active_median: act.median,
    active_mad: act.mad,
    max: metric === 'requests' ? Math.max(h0.mr, h1.mr) : Math.max(h0.mb, h1.mb),
  };
}

/** The threshold of one metric: the largest of its five terms, and whether the baseline is mature. */
export function metricThreshold(p: VolumeProfile, metric: Metric, c: Config, halfLen: number, windowMs: number): MetricThreshold {
  const base = metricBaseline(p, metric, halfLen);
  const terms: [Bound, number][] = [
    ['floor', metric === 'requests' ? c.min_requests : c.min_bytes],
    ['mad', base.median + c.mad_multiplier * MAD_SCALE * base.mad],
    ['active-mad', base.active_median + c.mad_multiplier * MAD_SCALE * base.active_mad],
    ['ratio', c.min_ratio * base.active_median],
    ['precedent', c.precedent_ratio * base.max],
  ];
  let bound: Bound = 'floor';
  let threshold = terms[0][1];
  for (const [name, v] of terms)
    if (v > threshold) {
      threshold = v;
      bound = name;
    }
  const mature = (p.w - p.s) * windowMs >= c.min_history_days * DAY_MS && base.active_windows >= c.min_active_windows;
  return { baseline: base, mature, threshold, bound };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** 3 significant digits for evidence (baseline figures are sketch estimates, not exact counts). */
function sig(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(3));
}

/** "1.23 GB" (decimal units). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  return `${u === 0 ? v : v.toPrecision(3)} ${units[u]}`;
}

/** Thresholds of the current window, computed once per window per account (not persisted). */
interface WindowCache {
  w: number;
  requests: MetricThreshold;
  bytes: MetricThreshold;
}

class VolumeSpike implements RuleInstance {
  private readonly config: Config;
  private readonly accounts: KeyedState<VolumeProfile>;
  private readonly windowMs: number;
  private readonly halfLen: number;
  private readonly cache = new Map<string, WindowCache>();

  constructor(config: Config, ctx: RuleContext) {
    this.config = config;
    this.accounts = ctx.state<VolumeProfile>('account');
    this.windowMs = config.window_minutes * MINUTE_MS;
    this.halfLen = Math.max(1, Math.round((config.lookback_days * DAY_MS) / 2 / this.windowMs));
  }

  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    if (event.outcome === 'failure') return;
    const key = event.user ?? (event.device === null ? null : `device:${event.device}`);
    if (key === null) return;
    const w = Math.floor(event.ts / this.windowMs);
    let p = this.accounts.get(key);
    if (p === undefined || p.m !== this.config.window_minutes) {
      p = { m: this.config.window_minutes, w, r: 0, b: 0, k: 0, x: 0, f: 0, s: w, e: w, h: [emptyHalf(), emptyHalf()] };
    } else if (w > p.w) {
      this.close(p);
      this.roll(p, w);
      p.w = w;
      p.r = 0;
      p.b = 0;
      p.k = 0;
      p.x = 0;
      p.f = 0;
    } else if (w < p.w - 1) {
      // More than one window late (files are merged in time order, so only a re-read of old data
      // gets here): its window is closed and binned already; it neither counts nor fires.
      return;
    }
    // In the current window, or one window late (jitter across a boundary): counted in the current one.
    p.r += 1;
    if (event.bytes !== null) {
      p.b += event.bytes;
      p.k += 1;
      if (event.bytes > (p.x ?? 0)) p.x = event.bytes;
    }
    this.accounts.set(key, p);
    if (p.f === 0 && (p.r > this.config.min_requests || p.b > this.config.min_bytes)) this.judge(p, key, event, emit);
  }

  /** Puts the current window into the current half (it lies in it: halves are rolled on opening). */
  private close(p: VolumeProfile): void {
    if (p.r === 0) return;
    const h = p.h[0];
    h.n += 1;
    addLevel(h.r, Math.min(level(p.r), REQUESTS_MAX_LEVEL));
    if (p.r > h.mr) h.mr = p.r;
    if (p.k > 0) {
      addLevel(h.b, Math.min(Math.max(level(p.b), BYTES_MIN_LEVEL), BYTES_MAX_LEVEL));
      if (p.b > h.mb) h.mb = p.b;
    }
  }

  /** Advances the halves so that window `w` lies in the current one. */
  private roll(p: VolumeProfile, w: number): void {
    const steps = Math.floor((w - p.e) / this.halfLen);
    if (steps <= 0) return;
    p.h = steps === 1 ? [emptyHalf(), p.h[0]] : [emptyHalf(), emptyHalf()];
    p.e += steps * this.halfLen;
  }

  private judge(p: VolumeProfile, key: string, event: NormalizedEvent, emit: (signal: Signal) => void): void {
    const c = this.config;
    let cached = this.cache.get(key);
    if (cached === undefined || cached.w !== p.w) {
      cached = {
        w: p.w,
        requests: metricThreshold(p, 'requests', c, this.halfLen, this.windowMs),
        bytes: metricThreshold(p, 'bytes', c, this.halfLen, this.windowMs),
      };
      this.cache.set(key, cached);
    }
    const confidenceOf = (t: MetricThreshold) => (t.mature ? 1 : c.immature_confidence);
    const bytesConfidence = p.k > 0 && p.b > cached.bytes.threshold && this.spread(p) ? confidenceOf(cached.bytes) : 0;
    const requestsConfidence = p.r > cached.requests.threshold ? confidenceOf(cached.requests) : 0;
    if (bytesConfidence <= 0 && requestsConfidence <= 0) return;
    // One signal per window: the metric with the more mature baseline; bytes when both cross on the
    // same event (moving data is what the signal is about). The evidence shows both metrics.
    const metric: Metric = bytesConfidence >= requestsConfidence ? 'bytes' : 'requests';
    const confidence = Math.max(bytesConfidence, requestsConfidence);
    p.f = 1;
    this.accounts.set(key, p);
    this.cache.delete(key);
    this.emit(p, key, event, metric, cached, confidence, emit);
  }

  /**
   * Whether the window's bytes are spread over several requests: its largest single request is at
   * most `bytes_max_share` of them. A git clone or an ISO is one request carrying nearly all of its
   * hour; an exfiltration pulls many objects, none of which dominates. Judged after every event, so
   * a window that starts with a big download can still fire once enough other transfers follow.
   */
  private spread(p: VolumeProfile): boolean {
    return (p.x ?? 0) <= this.config.bytes_max_share * p.b;
  }

  private emit(
    p: VolumeProfile,
    key: string,
    event: NormalizedEvent,
    metric: Metric,
    t: WindowCache,
    confidence: number,
    emit: (signal: Signal) => void,
  ): void {
    const c = this.config;
    const start = p.w * this.windowMs;
    const m = t[metric];
    const observed = metric === 'bytes' ? p.b : p.r;
    const show = (x: number) => (metric === 'bytes' ? formatBytes(x) : `${Math.round(x).toLocaleString('en-US')} requests`);
    const vsMedian =
      m.baseline.active_median > 0
        ? `, ${sig(observed / m.baseline.active_median)}× its median active window (${show(m.baseline.active_median)})`
        : '';
    const block = (x: MetricThreshold, obs: number) => ({
      observed: obs,
      threshold: sig(x.threshold),
      bound: x.bound,
      baseline: x.mature ? 'mature' : 'immature',
      median: sig(x.baseline.median),
      mad: sig(x.baseline.mad),
      active_median: sig(x.baseline.active_median),
      active_mad: sig(x.baseline.active_mad),
      max: x.baseline.max,
      windows: x.baseline.windows,
      active_windows: x.baseline.active_windows,
    });
    const unknown = p.r - p.k;
    const cert = event.certificate;
    emit({
      rule: 'volume-spike',
      variant: metric,
      summary: `${key}: ${show(observed)} in the ${c.window_minutes}-min window from ${iso(start)} so far${vsMedian}; threshold ${show(m.threshold)} (${m.bound}) over ${m.baseline.windows} windows${m.mature ? '' : ' — immature baseline'}`,
      dedup_key: `${key}:${iso(start)}:${metric}`,
      event,
      ...(confidence < 1 ? { confidence } : {}),
      evidence: {
        account: event.user,
        entity: key,
        metric,
        window_start: iso(start),
        window_end: iso(start + this.windowMs),
        window_minutes: c.window_minutes,
        time_zone: 'UTC',
        baseline: m.mature ? 'mature' : 'immature',
        requests: block(t.requests, p.r),
        bytes: p.k > 0 ? block(t.bytes, p.b) : null,
        // The spread test of the bytes metric: the window's largest single request and its share.
        largest_request_bytes: p.k > 0 ? (p.x ?? null) : null,
        largest_request_share: p.k > 0 && p.x !== undefined && p.b > 0 ? sig(p.x / p.b) : null,
        requests_without_bytes: unknown,
        ...(unknown > 0
          ? {
              bytes_note:
                p.k === 0
                  ? 'no event of this window carried a byte count (the source does not log one): only requests were judged'
                  : `${unknown} of ${p.r} requests of this window carried no byte count: bytes are a lower bound`,
            }
          : {}),
        lookback_days: c.lookback_days,
        device: event.device,
        service: event.service,
        source_ip: event.source_ip,
        certificate: cert === null ? null : certificateEvidence(cert),
        thresholds: {
          mad_multiplier: c.mad_multiplier,
          min_ratio: c.min_ratio,
          min_requests: c.min_requests,
          min_bytes: c.min_bytes,
          precedent_ratio: c.precedent_ratio,
          min_history_days: c.min_history_days,
          min_active_windows: c.min_active_windows,
          bytes_max_share: c.bytes_max_share,
        },
      },
    });
  }
}

/** The volume-spike rule. */
export const rule: Rule<Config> = {
  meta: {
    id: 'volume-spike',
    title: "Requests or bytes far above the account's baseline",
    description:
      'An account (else its device) with a mature baseline makes more requests, or moves more bytes, in one fixed window than the largest of: median + k·MAD of its past windows (empty ones included, and of its active ones), a multiple of its median active window, its largest window of the look-back, and an absolute floor; bytes count only when no single request carries more than half of the window; once per account per window, as soon as the window crosses.',
    default_weight: 35,
    // Bytes weigh more: spread over many requests, far above the busiest hour, it is the clearer
    // signal (zero stand-alone false positives on 11 simulated fleets; see README "Weights").
    variant_weights: { requests: 35, bytes: 45 },
    references: [
      'issue 4 (behavioural baselines: volume-spike)',
      'seed 000: strange login + odd geolocation + spike in data requests',
      'seed 004: data access volumes, request frequency',
    ],
    false_positives: [
      'A one-off legitimate bulk job spread over many requests (a migration, a first full backup, a mirror sync) bigger than anything in the look-back; a single large download alone does not fire.',
      'A new heavy workload on an existing account: its first window fires; the look-back then remembers it as a precedent.',
      'Sources that log a byte count for some records only: bytes are a lower bound and compare against a baseline of the same mix.',
    ],
  },
  configSchema,
  defaults,
  create(config: Config, ctx: RuleContext): RuleInstance {
    return new VolumeSpike(config, ctx);
  },
};
