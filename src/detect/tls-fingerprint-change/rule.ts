// tls-fingerprint-change (seed 002 pattern 6): a device whose TLS client fingerprint (JA4, else
// JA3) has been stable for a mature baseline shows one it never showed before — a different TLS
// stack, i.e. another program or machine using the device's identity — or negotiates a TLS
// version lower than any it used before (a downgrade). New fingerprints join the baseline after
// the alert, so each device + fingerprint fires once. Fleet drift: when at least
// drift_min_devices devices make the same change (usual fingerprint → new one) within
// drift_window_hours — a browser update rolling out — the change is not judged an attack.
import { Type } from 'typebox';
import type { NormalizedEvent } from '../../schema/event.ts';
import type { KeyedState, Rule, RuleContext, RuleInstance, Signal } from '../types.ts';

/** Config block `rules.tls-fingerprint-change`. */
export interface Config {
  /** Baseline maturity: at least this many fingerprinted events for the device… */
  min_baseline_events: number;
  /** …spanning at least this many hours between the first and the latest baseline event. */
  min_baseline_hours: number;
  /** Fingerprints remembered per device (least recently seen forgotten first). */
  max_fingerprints_per_device: number;
  /**
   * A device whose baseline keeps producing new fingerprints (new ones / events above this) has no
   * stable fingerprint — e.g. Chrome's randomised JA3 — and gets no new-fingerprint signals.
   */
  max_novelty_ratio: number;
  /** Key devices by source IP when the event has no device (confidence is lowered; NAT mixes clients). */
  fallback_to_source_ip: boolean;
  /** Confidence of signals keyed by source IP. */
  source_ip_confidence: number;
  /** Devices making the same fingerprint transition within the window that make it fleet drift (quiet). */
  drift_min_devices: number;
  /** Window within which devices making the same transition count as peers. */
  drift_window_hours: number;
}

export const configSchema = Type.Object(
  {
    min_baseline_events: Type.Integer({
      minimum: 1,
      default: 20,
      description: 'Fingerprinted events before a baseline is mature.',
    }),
    min_baseline_hours: Type.Number({
      minimum: 0,
      default: 24,
      description: 'Hours between the first and the latest baseline event before it is mature.',
    }),
    max_fingerprints_per_device: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 32,
      description: 'Fingerprints kept per device and fingerprint type (LRU).',
    }),
    max_novelty_ratio: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.25,
      description: 'Above this share of events introducing a new fingerprint, the device is unstable and quiet.',
    }),
    fallback_to_source_ip: Type.Boolean({
      default: true,
      description: 'Use source_ip as the device key when event.device is null.',
    }),
    source_ip_confidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'Confidence of signals whose device key is a source IP.',
    }),
    drift_min_devices: Type.Integer({
      minimum: 2,
      maximum: 50,
      default: 3,
      description: 'Devices making the same fingerprint transition within the window that make it fleet drift (no signal).',
    }),
    drift_window_hours: Type.Number({
      exclusiveMinimum: 0,
      default: 72,
      description: 'Hours within which devices making the same transition count as peers.',
    }),
  },
  { additionalProperties: false },
);

export const defaults: Config = {
  min_baseline_events: 20,
  min_baseline_hours: 24,
  max_fingerprints_per_device: 32,
  max_novelty_ratio: 0.25,
  fallback_to_source_ip: true,
  source_ip_confidence: 0.5,
  drift_min_devices: 3,
  drift_window_hours: 72,
};

export type FingerprintType = 'ja4' | 'ja3';

/**
 * Baseline of one fingerprint type for one device. Times are epoch ms.
 *
 * Compact form: almost every device shows one fingerprint, so while the baseline holds a single
 * one, `fps` is null and `fp` names it. Every event of the type then had that fingerprint, so its
 * count is `events` and its last sighting `last` (and `novel` = `size` = 1); the map is created
 * when a second fingerprint appears (see expandFingerprints). State written by earlier versions
 * (always `fps`) is read as is.
 */
export interface FingerprintBaseline {
  first: number;
  last: number;
  /** Events of this type (halved with `novel` and the counts past COUNTER_HALVE_AT, to adapt). */
  events: number;
  /** Events that brought a fingerprint not in the baseline. */
  novel: number;
  size: number;
  /** fingerprint → [events, last seen]; null in the compact single-fingerprint form. */
  fps: Record<string, [number, number]> | null;
  /** The single fingerprint (compact form only). */
  fp?: string;
}

/**
 * TLS versions seen: canonical name → events. Compact form: while one version was seen, `counts`
 * is null and `version` names it (its count is `events`: both grow together from 1).
 */
export interface VersionBaseline {
  first: number;
  last: number;
  events: number;
  counts: Record<string, number> | null;
  version?: string;
}

/** Per-device state (namespaces `tls-fingerprint-change/device` and `…/ip`). */
export interface DeviceState {
  ja4: FingerprintBaseline | null;
  ja3: FingerprintBaseline | null;
  versions: VersionBaseline | null;
}

/**
 * Devices that made one fingerprint transition (namespace `tls-fingerprint-change/transition`,
 * key `<usual fingerprint>→<new fingerprint>`): [`<device|source_ip>:<key>`, first seen ms], oldest
 * first, at most MAX_DEVICES_PER_TRANSITION, entries older than the drift window pruned on touch.
 */
export interface TransitionState {
  devices: [string, number][];
}

/** Last touch of every transition key (namespace `…/transition-index`, key `all`), to bound them. */
export interface TransitionIndex {
  size: number;
  keys: Record<string, number>;
}

const HOUR_MS = 3_600_000;
const COUNTER_HALVE_AT = 100_000;
/** Devices remembered per transition (drift_min_devices is at most this). */
export const MAX_DEVICES_PER_TRANSITION = 50;
/** Transitions remembered; past this, those untouched for a drift window go, then the least recently touched. */
export const MAX_TRANSITIONS = 10_000;
const INDEX_KEY = 'all';

/** A TLS/SSL protocol version in canonical form with a comparable rank. */
export interface TlsVersion {
  name: string;
  rank: number;
}

const VERSIONS: Record<string, TlsVersion> = {
  ssl2: { name: 'SSLv2', rank: 2 },
  ssl3: { name: 'SSLv3', rank: 3 },
  tls10: { name: 'TLSv1.0', rank: 10 },
  tls11: { name: 'TLSv1.1', rank: 11 },
  tls12: { name: 'TLSv1.2', rank: 12 },
  tls13: { name: 'TLSv1.3', rank: 13 },
};
const RANK_BY_NAME = new Map(Object.values(VERSIONS).map((v) => [v.name, v.rank]));
/** Protocol version as sent on the wire (ClientHello/ServerHello). */
const WIRE = new Map<number, TlsVersion>([
  [0x0200, VERSIONS.ssl2],
  [0x0300, VERSIONS.ssl3],
  [0x0301, VERSIONS.tls10],
  [0x0302, VERSIONS.tls11],
  [0x0303, VERSIONS.tls12],
  [0x0304, VERSIONS.tls13],
]);
const versionCache = new Map<string, TlsVersion | null>();

/**
 * Normalises the many spellings of a protocol version: "TLSv1.2", "TLSv12", "TLS 1.2", "tls1.2",
 * "1.2", "TLSv1" (nginx, = 1.0), "SSLv3", wire values "0x0303" / "771". DTLS and anything
 * unrecognised → null (not compared). Cached per distinct spelling.
 */
export function normalizeTlsVersion(raw: string): TlsVersion | null {
  const cached = versionCache.get(raw);
  if (cached !== undefined) return cached;
  let v: TlsVersion | null = null;
  const s = raw.trim().toLowerCase().replace(/[\s_]/g, '');
  if (!s.startsWith('dtls')) {
    const wire = /^0x([0-9a-f]{4})$/.exec(s);
    if (wire) v = WIRE.get(Number.parseInt(wire[1], 16)) ?? null;
    else if (/^\d{3}$/.test(s)) v = WIRE.get(Number(s)) ?? null;
    else {
      const m = /^(ssl|tls)?v?(\d)(?:\.?(\d))?/.exec(s);
      if (m) {
        const family = m[1] ?? 'tls';
        const major = m[2];
        const minor = m[3] ?? '0';
        if (family === 'ssl') v = major === '2' ? VERSIONS.ssl2 : major === '3' ? VERSIONS.ssl3 : null;
        else if (major === '1') v = VERSIONS[`tls1${minor}`] ?? null;
      }
    }
  }
  if (versionCache.size >= 1000) versionCache.clear();
  versionCache.set(raw, v);
  return v;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function hours(ms: number): number {
  return Math.round((ms / HOUR_MS) * 10) / 10;
}

function halve(b: FingerprintBaseline): void {
  b.events = Math.ceil(b.events / 2);
  b.novel = Math.ceil(b.novel / 2);
  // Compact form: the single fingerprint's count is `events` itself.
  if (b.fps !== null) for (const k in b.fps) b.fps[k][0] = Math.ceil(b.fps[k][0] / 2);
}

/**
 * The baseline's fingerprint map, created (in place) from the compact single-fingerprint form:
 * the fingerprint had all `events`, last at `last` (pass the value from before the current event
 * when `last` was already advanced for it).
 */
export function expandFingerprints(b: FingerprintBaseline, last: number = b.last): Record<string, [number, number]> {
  if (b.fps !== null) return b.fps;
  const fps: Record<string, [number, number]> = {};
  if (b.fp !== undefined) fps[b.fp] = [b.events, last];
  b.fps = fps;
  // Deleted (not set to undefined) so the state stays equal to its JSON; it is the last-added
  // property, so the object stays in V8's fast mode.
  delete b.fp;
  return fps;
}

/**
 * Fingerprints stored as values (compact form) are interned here: the event's string is a fresh
 * copy per event, while map keys were shared by every device with the same fingerprint.
 */
const fingerprintIntern = new Map<string, string>();

function intern(fp: string): string {
  const known = fingerprintIntern.get(fp);
  if (known !== undefined) return known;
  if (fingerprintIntern.size >= 10_000) fingerprintIntern.clear();
  fingerprintIntern.set(fp, fp);
  return fp;
}

/** The version counts, created (in place) from the compact single-version form. */
export function expandVersions(b: VersionBaseline): Record<string, number> {
  if (b.counts !== null) return b.counts;
  const counts: Record<string, number> = {};
  if (b.version !== undefined) counts[b.version] = b.events;
  b.counts = counts;
  delete b.version;
  return counts;
}

/** A copy of the version counts (evidence), from either form. */
function versionCounts(b: VersionBaseline | null): Record<string, number> {
  if (b === null) return {};
  if (b.counts !== null) return { ...b.counts };
  return b.version === undefined ? {} : { [b.version]: b.events };
}

/** The baseline's most used fingerprint (ties: the most recently seen); null when empty. */
function usualFingerprint(b: FingerprintBaseline): string | null {
  if (b.fps === null) return b.fp ?? null;
  let best: string | null = null;
  let bestEvents = -1;
  let bestLast = -1;
  for (const k in b.fps) {
    const [events, last] = b.fps[k];
    if (events > bestEvents || (events === bestEvents && last > bestLast)) {
      best = k;
      bestEvents = events;
      bestLast = last;
    }
  }
  return best;
}

class TlsFingerprintChange implements RuleInstance {
  private readonly config: Config;
  private readonly devices: KeyedState<DeviceState>;
  private readonly ips: KeyedState<DeviceState>;
  private readonly transitions: KeyedState<TransitionState>;
  private readonly transitionIndex: KeyedState<TransitionIndex>;
  private readonly minSpanMs: number;
  private readonly driftWindowMs: number;
  /** Reused for every event (emit is synchronous): no allocation per event. */
  private readonly ctx: EmitContext = {
    key: '',
    keyKind: 'device',
    event: null as unknown as NormalizedEvent,
    emit: () => {},
    state: null as unknown as DeviceState,
  };

  constructor(config: Config, ctx: RuleContext) {
    this.config = config;
    this.devices = ctx.state<DeviceState>('device');
    this.ips = ctx.state<DeviceState>('ip');
    this.transitions = ctx.state<TransitionState>('transition');
    this.transitionIndex = ctx.state<TransitionIndex>('transition-index');
    this.minSpanMs = config.min_baseline_hours * HOUR_MS;
    this.driftWindowMs = config.drift_window_hours * HOUR_MS;
  }

  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    if (event.outcome === 'failure') return;
    let key = event.device;
    let store = this.devices;
    if (key === null) {
      if (!this.config.fallback_to_source_ip || event.source_ip === null) return;
      key = event.source_ip;
      store = this.ips;
    }
    const tls = event.tls;
    const ja4 = tls.ja4 || null;
    const ja3 = tls.ja3 || null;
    const version = tls.version ? normalizeTlsVersion(tls.version) : null;
    // Events without a fingerprint or a version teach nothing.
    if (ja4 === null && ja3 === null && version === null) return;
    let s = store.get(key);
    if (s === undefined) s = { ja4: null, ja3: null, versions: null };
    const ctx = this.ctx;
    ctx.key = key;
    ctx.keyKind = store === this.ips ? 'source_ip' : 'device';
    ctx.event = event;
    ctx.emit = emit;
    ctx.state = s;
    // Both types are learned; JA3 is judged only when there is no JA4 (JA3 is unstable since
    // Chrome randomised its extension order).
    if (ja4 !== null) s.ja4 = this.observeFingerprint(s.ja4, 'ja4', ja4, true, ctx);
    if (ja3 !== null) s.ja3 = this.observeFingerprint(s.ja3, 'ja3', ja3, ja4 === null, ctx);
    if (version !== null) s.versions = this.observeVersion(s.versions, version, ctx);
    store.set(key, s);
  }

  private mature(first: number, last: number, events: number): boolean {
    return events >= this.config.min_baseline_events && last - first >= this.minSpanMs;
  }

  private observeFingerprint(
    b: FingerprintBaseline | null,
    type: FingerprintType,
    fp: string,
    judge: boolean,
    ctx: EmitContext,
  ): FingerprintBaseline {
    const ts = ctx.event.ts;
    if (b === null) return { first: ts, last: ts, events: 1, novel: 1, size: 1, fps: null, fp: intern(fp) };
    // The baseline as it was before this event: maturity is judged on it.
    const priorLast = b.last;
    if (ts > b.last) b.last = ts;
    if (b.fps === null) {
      if (b.fp === fp) {
        b.events += 1;
        if (b.events > COUNTER_HALVE_AT) halve(b);
        return b;
      }
      expandFingerprints(b, priorLast);
    }
    const fps = b.fps as Record<string, [number, number]>;
    const hit = fps[fp];
    if (hit !== undefined) {
      hit[0] += 1;
      if (ts > hit[1]) hit[1] = ts;
      b.events += 1;
      if (b.events > COUNTER_HALVE_AT) halve(b);
      return b;
    }
    if (judge && this.mature(b.first, priorLast, b.events) && b.novel / b.events <= this.config.max_novelty_ratio) {
      const usual = usualFingerprint(b);
      const peers = usual === null ? 0 : this.recordTransition(`${usual}→${fp}`, `${ctx.keyKind}:${ctx.key}`, ts);
      // Fleet drift: enough devices (this one included) made the same change within the window.
      if (peers + 1 < this.config.drift_min_devices) this.emitNewFingerprint(b, type, fp, priorLast, peers, usual, ctx);
    }
    if (b.size >= this.config.max_fingerprints_per_device) {
      let oldest: string | null = null;
      let oldestTs = Number.POSITIVE_INFINITY;
      for (const k in fps) {
        if (fps[k][1] < oldestTs) {
          oldestTs = fps[k][1];
          oldest = k;
        }
      }
      if (oldest !== null) {
        delete fps[oldest];
        b.size -= 1;
      }
    }
    fps[fp] = [1, ts];
    b.size += 1;
    b.novel += 1;
    b.events += 1;
    if (b.events > COUNTER_HALVE_AT) halve(b);
    return b;
  }

  /**
   * Records that `device` made transition `key` at `ts`; returns how many other devices made it
   * within the drift window (at or after ts − window). Cost is bounded by the per-transition cap.
   */
  private recordTransition(key: string, device: string, ts: number): number {
    const cutoff = ts - this.driftWindowMs;
    const t = this.transitions.get(key) ?? { devices: [] };
    const kept: [string, number][] = [];
    let self = false;
    for (const entry of t.devices) {
      if (entry[1] < cutoff) continue;
      if (entry[0] === device) self = true;
      kept.push(entry);
    }
    const peers = self ? kept.length - 1 : kept.length;
    if (!self) {
      if (kept.length >= MAX_DEVICES_PER_TRANSITION) kept.shift();
      kept.push([device, ts]);
    }
    t.devices = kept;
    this.transitions.set(key, t);
    this.touchIndex(key, ts);
    return peers;
  }

  private touchIndex(key: string, ts: number): void {
    const idx = this.transitionIndex.get(INDEX_KEY) ?? { size: 0, keys: {} };
    const prev = idx.keys[key];
    if (prev === undefined) idx.size += 1;
    if (prev === undefined || ts > prev) idx.keys[key] = ts;
    if (idx.size > MAX_TRANSITIONS) {
      // Rare (only past the cap): forget transitions untouched for a window, else the oldest one.
      const cutoff = ts - this.driftWindowMs;
      let oldest: string | null = null;
      let oldestTs = Number.POSITIVE_INFINITY;
      for (const k in idx.keys) {
        const last = idx.keys[k];
        if (last < cutoff) {
          delete idx.keys[k];
          idx.size -= 1;
          this.transitions.delete(k);
        } else if (last < oldestTs && k !== key) {
          oldestTs = last;
          oldest = k;
        }
      }
      if (idx.size > MAX_TRANSITIONS && oldest !== null) {
        delete idx.keys[oldest];
        idx.size -= 1;
        this.transitions.delete(oldest);
      }
    }
    this.transitionIndex.set(INDEX_KEY, idx);
  }

  private emitNewFingerprint(
    b: FingerprintBaseline,
    type: FingerprintType,
    fp: string,
    priorLast: number,
    peers: number,
    usual: string | null,
    ctx: EmitContext,
  ): void {
    const baseline = Object.entries(expandFingerprints(b))
      .sort((x, y) => y[1][0] - x[1][0])
      .map(([fingerprint, [events, lastSeen]]) => ({ fingerprint, events, last_seen: iso(lastSeen) }));
    const label = ctx.keyKind === 'source_ip' ? `source IP ${ctx.key}` : `device ${ctx.key}`;
    const top = baseline[0];
    ctx.emit({
      rule: 'tls-fingerprint-change',
      variant: 'new-fingerprint',
      summary: `${label}: ${type.toUpperCase()} ${fp} never seen in its baseline of ${b.events} events over ${hours(priorLast - b.first)} h (${b.size} known; usual ${top?.fingerprint ?? '-'})`,
      dedup_key: `${ctx.keyKind}:${ctx.key}:${type}:${fp}`,
      event: ctx.event,
      ...(ctx.keyKind === 'source_ip' ? { confidence: this.config.source_ip_confidence } : {}),
      evidence: {
        device_key: ctx.key,
        device_key_kind: ctx.keyKind,
        ...(ctx.keyKind === 'source_ip'
          ? { device_key_note: 'no device id on the event: keyed by source IP (NAT can mix several clients)' }
          : {}),
        fingerprint_type: type,
        observed: fp,
        baseline_fingerprints: baseline,
        baseline_events: b.events,
        baseline_first_seen: iso(b.first),
        baseline_last_seen: iso(priorLast),
        novelty_ratio: Math.round((b.novel / b.events) * 1000) / 1000,
        usual_fingerprint: usual,
        peer_devices: peers,
        peer_note: `other devices that made the same change (${usual ?? '-'} → ${fp}) within ${this.config.drift_window_hours} h so far; ${this.config.drift_min_devices} devices in all make it fleet drift (no signal)`,
        versions: versionCounts(ctx.state.versions),
        observed_version: ctx.event.tls.version,
        thresholds: {
          min_baseline_events: this.config.min_baseline_events,
          min_baseline_hours: this.config.min_baseline_hours,
          max_novelty_ratio: this.config.max_novelty_ratio,
          drift_min_devices: this.config.drift_min_devices,
          drift_window_hours: this.config.drift_window_hours,
        },
      },
    });
  }

  private observeVersion(b: VersionBaseline | null, v: TlsVersion, ctx: EmitContext): VersionBaseline {
    const ts = ctx.event.ts;
    if (b === null) return { first: ts, last: ts, events: 1, counts: null, version: v.name };
    if (b.counts === null && b.version === v.name) {
      // Compact form: the version's count is `events`.
      b.events = Math.min(b.events + 1, Number.MAX_SAFE_INTEGER);
      if (ts > b.last) b.last = ts;
      return b;
    }
    const counts = expandVersions(b);
    const count = counts[v.name];
    if (count !== undefined) {
      counts[v.name] = count + 1;
      b.events = Math.min(b.events + 1, Number.MAX_SAFE_INTEGER);
      if (ts > b.last) b.last = ts;
      return b;
    }
    let lowest = Number.POSITIVE_INFINITY;
    let highest: string | null = null;
    let highestRank = -1;
    for (const name in counts) {
      const rank = RANK_BY_NAME.get(name) ?? 0;
      if (rank < lowest) lowest = rank;
      if (rank > highestRank) {
        highestRank = rank;
        highest = name;
      }
    }
    // A downgrade is a version below every version the device has used — a device that mixes
    // TLS 1.2 and 1.3 (two apps) does not fire for either.
    if (v.rank < lowest && this.mature(b.first, b.last, b.events)) {
      const label = ctx.keyKind === 'source_ip' ? `source IP ${ctx.key}` : `device ${ctx.key}`;
      ctx.emit({
        rule: 'tls-fingerprint-change',
        variant: 'downgrade',
        summary: `${label} negotiated ${v.name}, below every version in its baseline (highest ${highest}; ${b.events} events over ${hours(b.last - b.first)} h)`,
        dedup_key: `${ctx.keyKind}:${ctx.key}:downgrade:${v.name}`,
        event: ctx.event,
        ...(ctx.keyKind === 'source_ip' ? { confidence: this.config.source_ip_confidence } : {}),
        evidence: {
          device_key: ctx.key,
          device_key_kind: ctx.keyKind,
          ...(ctx.keyKind === 'source_ip'
            ? { device_key_note: 'no device id on the event: keyed by source IP (NAT can mix several clients)' }
            : {}),
          observed_version: v.name,
          observed_version_raw: ctx.event.tls.version,
          baseline_versions: { ...counts },
          baseline_highest_version: highest,
          baseline_events: b.events,
          baseline_first_seen: iso(b.first),
          baseline_last_seen: iso(b.last),
          fingerprint: ctx.event.tls.ja4 ?? ctx.event.tls.ja3,
          thresholds: {
            min_baseline_events: this.config.min_baseline_events,
            min_baseline_hours: this.config.min_baseline_hours,
          },
        },
      });
    }
    counts[v.name] = 1;
    b.events += 1;
    if (ts > b.last) b.last = ts;
    return b;
  }
}

interface EmitContext {
  key: string;
  keyKind: 'device' | 'source_ip';
  event: NormalizedEvent;
  emit: (signal: Signal) => void;
  state: DeviceState;
}

/** The tls-fingerprint-change rule. */
export const rule: Rule<Config> = {
  meta: {
    id: 'tls-fingerprint-change',
    title: 'TLS client fingerprint change or version downgrade',
    description:
      'A JA4 (JA3 when no JA4) never seen for a device with a mature, stable baseline, or a TLS version lower than any the device used in its baseline.',
    default_weight: 20,
    variant_weights: { 'new-fingerprint': 20, downgrade: 30 },
    references: ['seed 002 pattern 6 (abnormal TLS handshake characteristics)', 'FIELD-NOTES: JA3 fragility, JA4'],
    false_positives: [
      'Browser, OS or TLS library updates change the fingerprint once per device; once drift_min_devices devices made the same change within drift_window_hours it is fleet drift and quiet, but the first ones (before the threshold) still fire.',
      'Devices keyed by source IP behind NAT mix several clients (lower confidence; disable fallback_to_source_ip).',
      'A new application on the device (a fingerprint per TLS stack).',
    ],
  },
  configSchema,
  defaults,
  create(config: Config, ctx: RuleContext): RuleInstance {
    return new TlsFingerprintChange(config, ctx);
  },
};
