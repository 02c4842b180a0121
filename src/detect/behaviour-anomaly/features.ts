// Per-event features of behaviour-anomaly, each in [0,1] (0 = as usual for this account, 1 = as far
// off as the scale goes), computed from a compact per-account state that only this rule keeps.
// Unknown inputs (no device, no location, no bytes…) give 0: the absence of a field is no evidence.
import type { NormalizedEvent } from '../../schema/event.ts';

/** Feature names, in model dimension order. */
export const FEATURES = ['hour', 'device', 'geo', 'service', 'bytes', 'tls', 'network'] as const;
export type FeatureName = (typeof FEATURES)[number];
export const DIMS = FEATURES.length;

/** Bounds of the per-account lists (most recently used first; the least recently used is evicted). */
export const MAX_DEVICES = 6;
export const MAX_TLS = 6;
export const MAX_NETWORKS = 8;
export const MAX_SERVICES = 16;
export const BYTES_RING = 9;
/** Hour histogram total at which every bin is halved (old habits fade; counts stay small). */
const HOURS_CAP = 1000;
/** A UTC hour holding at least this share of the account's events (and ≥ 1) is a usual hour. */
const USUAL_HOUR_SHARE = 0.03;
/** Hours from the nearest usual hour that give the hour feature 1. */
const HOUR_SCALE = 6;
/** Geo: feature = ln(1 + km/GEO_KM0) / ln(1 + GEO_KM_MAX/GEO_KM0), so 20,000 km (half the globe) is 1. */
const GEO_KM0 = 10;
const GEO_KM_MAX = 20_000;
/** Bytes: log2(bytes / median) at which the feature is 1 (1024× the account's median). */
const BYTES_LOG2_SCALE = 10;
const SERVICE_USES_CAP = 255;
const EVENTS_CAP = 1_000_000_000;

/**
 * Per-account state (namespace `behaviour-anomaly/account`, keyed by account). Identifiers are kept
 * as 32-bit FNV-1a hashes, so the state holds no names and stays a few hundred bytes.
 */
export interface AccountState {
  /** First and latest event time (epoch ms). */
  first: number;
  last: number;
  /** Successful events seen (capped at 10⁹). */
  events: number;
  /** 24 UTC hour-of-day counts (halved when their sum reaches 1000). */
  hours: number[];
  /** Hashes of devices, TLS fingerprints (JA4, else JA3) and source networks; most recent first. */
  devices: number[];
  tls: number[];
  networks: number[];
  /** Hashes of services, most recent first, and the account's uses of each (capped at 255). */
  services: number[];
  service_uses: number[];
  /** The last BYTES_RING transfer sizes as round(10 × log2(bytes)), oldest first. */
  bytes: number[];
  /** Last known location [lat, lon], rounded to 0.01°, or null. */
  geo: [number, number] | null;
  /** Epoch hour (ts / 3 600 000, floored) of the last signal; -1 = never. */
  fired_hour: number;
}

/** Fleet-wide facts the service feature needs (namespace `behaviour-anomaly/fleet`, key `fleet`). */
export interface FleetState {
  /** Accounts this rule has seen. */
  accounts: number;
}

/** A fresh account state. */
export function newAccount(ts: number): AccountState {
  return {
    first: ts,
    last: ts,
    events: 0,
    hours: new Array<number>(24).fill(0),
    devices: [],
    tls: [],
    networks: [],
    services: [],
    service_uses: [],
    bytes: [],
    geo: null,
    fired_hour: -1,
  };
}

/** 32-bit FNV-1a over UTF-16 code units. Collisions (≈ 1 in 4·10⁹ per pair) only hide a novelty. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** UTC hour of day of an epoch-ms time. */
export function hourOfDay(ts: number): number {
  const h = Math.floor(ts / 3_600_000) % 24;
  return h < 0 ? h + 24 : h;
}

/**
 * Source network of an address: IPv4 /24 (`10.1.2.0/24`), IPv6 /48 (`2001:db8:1::/48`; IPv4-mapped
 * addresses count as IPv4), or null when the text is not an IP address.
 */
export function sourceNetwork(ip: string | null): string | null {
  if (ip === null) return null;
  // The same few addresses recur on every event of an account: remember recent answers.
  const known = NETWORKS.get(ip);
  if (known !== undefined) return known;
  const net = parseNetwork(ip);
  if (NETWORKS.size >= NETWORKS_MAX) NETWORKS.clear();
  NETWORKS.set(ip, net);
  return net;
}

const NETWORKS = new Map<string, string | null>();
const NETWORKS_MAX = 65_536;

function parseNetwork(ip: string): string | null {
  let s = ip.trim();
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const o = v4.slice(1, 4).map(Number);
    if (o.some((n) => n > 255) || Number(v4[4]) > 255) return null;
    return `${o[0]}.${o[1]}.${o[2]}.0/24`;
  }
  if (!s.includes(':')) return null;
  // IPv4-mapped (::ffff:a.b.c.d) counts as IPv4; other embedded-IPv4 forms are not understood.
  const mapped = /^(?:::|0:0:0:0:0:)ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(s);
  if (mapped) return parseNetwork(mapped[1]);
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  if (halves.length === 1 && head.length !== 8) return null;
  if (head.length + tail.length > (halves.length === 2 ? 7 : 8)) return null;
  const groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return `${groups
    .slice(0, 3)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/48`;
}

/** Great-circle distance in km (haversine, mean Earth radius 6371 km). */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** The event's location when it has a valid one. */
export function eventLocation(event: NormalizedEvent): [number, number] | null {
  const g = event.geo;
  if (g === null || g.lat === null || g.lon === null) return null;
  if (!Number.isFinite(g.lat) || !Number.isFinite(g.lon) || Math.abs(g.lat) > 90 || Math.abs(g.lon) > 180) return null;
  return [g.lat, g.lon];
}

/** The TLS client fingerprint the rule tracks: JA4, else JA3. */
export function tlsFingerprint(event: NormalizedEvent): string | null {
  return event.tls.ja4 ?? event.tls.ja3 ?? null;
}

/** Hours (0–12) from `hour` to the nearest usual hour of the profile, or null without a profile. */
export function hoursFromUsual(hours: readonly number[], hour: number): number | null {
  let total = 0;
  for (const n of hours) total += n;
  if (total <= 0) return null;
  const min = Math.max(1, USUAL_HOUR_SHARE * total);
  for (let d = 0; d <= 12; d++) {
    if (hours[(hour + d) % 24] >= min || hours[(hour - d + 24) % 24] >= min) return d;
  }
  // No hour reaches the share (a flat, thin profile): nothing is unusual.
  return 0;
}

/** Median of the ring's log2 values (×10), or null with fewer than 3 values. */
export function medianLog2x10(ring: readonly number[]): number | null {
  if (ring.length < 3) return null;
  const s = [...ring].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}

/** Share of the fleet's accounts that use a service, given how many do. */
function serviceFeature(uses: number, serviceAccounts: number, fleetAccounts: number): number {
  // Novelty for the account: 1 for a service it never used (as far as its list remembers), 1/2
  // after one use, 1/3 after two…; scaled by global rarity: 1 − share of the fleet's accounts
  // using it, mapped to [0.5, 1] so a new but popular service still counts half.
  const novelty = 1 / (1 + uses);
  const share = fleetAccounts > 0 ? Math.min(1, serviceAccounts / fleetAccounts) : 0;
  return novelty * (0.5 + 0.5 * (1 - share));
}

/** Inputs for the features that are not in the account state. */
export interface FleetView {
  /** Accounts using a service (global rarity). */
  serviceAccounts(service: string): number;
  fleetAccounts: number;
}

/** What the features need from an event, hashed once (shared by scoring and learning). */
export interface EventKeys {
  device: number | null;
  tls: number | null;
  network: number | null;
  service: number | null;
}

/** The event's identifiers as hashes (null where the event has none). */
export function eventKeys(event: NormalizedEvent): EventKeys {
  const fp = tlsFingerprint(event);
  const net = sourceNetwork(event.source_ip);
  return {
    device: event.device === null ? null : fnv1a(event.device),
    tls: fp === null ? null : fnv1a(fp),
    network: net === null ? null : fnv1a(net),
    service: event.service === null ? null : fnv1a(event.service),
  };
}

/**
 * The feature vector of an event for an account, from the account's state *before* the event.
 * Writes into `out` (length DIMS) and returns it.
 */
export function computeFeatures(
  acc: AccountState,
  event: NormalizedEvent,
  fleet: FleetView,
  out: number[],
  keys: EventKeys = eventKeys(event),
): number[] {
  // hour: circular distance to the nearest usual UTC hour of day, 6 h or more = 1.
  const d = hoursFromUsual(acc.hours, hourOfDay(event.ts));
  out[0] = d === null ? 0 : clamp01(d / HOUR_SCALE);
  // device: never seen for the account (within its last MAX_DEVICES).
  out[1] = keys.device === null ? 0 : acc.devices.includes(keys.device) ? 0 : 1;
  // geo: distance from the last location, log-scaled.
  const loc = acc.geo === null ? null : eventLocation(event);
  out[2] =
    loc === null || acc.geo === null
      ? 0
      : clamp01(Math.log1p(distanceKm(acc.geo[0], acc.geo[1], loc[0], loc[1]) / GEO_KM0) / Math.log1p(GEO_KM_MAX / GEO_KM0));
  // service: new for the account × rare in the fleet.
  if (event.service === null || keys.service === null) out[3] = 0;
  else {
    const i = acc.services.indexOf(keys.service);
    out[3] = serviceFeature(i < 0 ? 0 : acc.service_uses[i], fleet.serviceAccounts(event.service), fleet.fleetAccounts);
  }
  // bytes: how many doublings above the account's median (smaller transfers are not suspicious).
  const med = medianLog2x10(acc.bytes);
  const b = event.bytes;
  out[4] = med === null || b === null || !(b > 0) ? 0 : clamp01((Math.log2(b) - med / 10) / BYTES_LOG2_SCALE);
  // tls: a JA4/JA3 never seen for the account (within its last MAX_TLS).
  out[5] = keys.tls === null ? 0 : acc.tls.includes(keys.tls) ? 0 : 1;
  // network: a /24 or /48 never seen for the account (within its last MAX_NETWORKS).
  out[6] = keys.network === null ? 0 : acc.networks.includes(keys.network) ? 0 : 1;
  return out;
}

/** Moves `h` to the front of a most-recent-first list (adding it, evicting beyond `cap`); returns its old index or -1. */
function touch(list: number[], h: number, cap: number): number {
  const i = list.indexOf(h);
  if (i === 0) return 0;
  if (i > 0) list.splice(i, 1);
  list.unshift(h);
  if (list.length > cap) list.length = cap;
  return i;
}

/**
 * Learns the event into the account state (after it was judged). Returns true when the service was
 * new to the account's list (so the caller can count one more account using it).
 */
export function learnEvent(acc: AccountState, event: NormalizedEvent, keys: EventKeys = eventKeys(event)): boolean {
  const ts = event.ts;
  if (ts < acc.first) acc.first = ts;
  if (ts > acc.last) acc.last = ts;
  if (acc.events < EVENTS_CAP) acc.events += 1;
  const hours = acc.hours;
  hours[hourOfDay(ts)] += 1;
  let total = 0;
  for (const n of hours) total += n;
  if (total >= HOURS_CAP) for (let i = 0; i < 24; i++) hours[i] = Math.floor(hours[i] / 2);
  if (keys.device !== null) touch(acc.devices, keys.device, MAX_DEVICES);
  if (keys.tls !== null) touch(acc.tls, keys.tls, MAX_TLS);
  if (keys.network !== null) touch(acc.networks, keys.network, MAX_NETWORKS);
  let newService = false;
  if (keys.service !== null) {
    const i = touch(acc.services, keys.service, MAX_SERVICES);
    const uses = i < 0 ? 0 : acc.service_uses.splice(i, 1)[0];
    acc.service_uses.unshift(Math.min(SERVICE_USES_CAP, uses + 1));
    if (acc.service_uses.length > MAX_SERVICES) acc.service_uses.length = MAX_SERVICES;
    newService = i < 0;
  }
  const b = event.bytes;
  if (b !== null && b > 0 && Number.isFinite(b)) {
    acc.bytes.push(Math.round(10 * Math.log2(b)));
    if (acc.bytes.length > BYTES_RING) acc.bytes.shift();
  }
  const loc = eventLocation(event);
  if (loc !== null) acc.geo = [Math.round(loc[0] * 100) / 100, Math.round(loc[1] * 100) / 100];
  return newService;
}

/** Human detail of each feature for the evidence (computed only when the rule fires). */
export function describeFeatures(
  acc: AccountState,
  event: NormalizedEvent,
  fleet: FleetView,
): Record<FeatureName, Record<string, unknown>> {
  const hour = hourOfDay(event.ts);
  const loc = eventLocation(event);
  const med = medianLog2x10(acc.bytes);
  const si = event.service === null ? -1 : acc.services.indexOf(fnv1a(event.service));
  return {
    hour: { hour_utc: hour, hours_from_usual: hoursFromUsual(acc.hours, hour) },
    device: { device: event.device, known_devices: acc.devices.length },
    geo: {
      km_from_last: loc === null || acc.geo === null ? null : Math.round(distanceKm(acc.geo[0], acc.geo[1], loc[0], loc[1])),
      last: acc.geo,
      now: loc === null ? null : [Math.round(loc[0] * 100) / 100, Math.round(loc[1] * 100) / 100],
      country: event.geo?.country_iso_code ?? null,
      city: event.geo?.city_name ?? null,
    },
    service: {
      service: event.service,
      account_uses: si < 0 ? 0 : acc.service_uses[si],
      fleet_accounts_using: event.service === null ? null : fleet.serviceAccounts(event.service),
      fleet_accounts: fleet.fleetAccounts,
    },
    bytes: { bytes: event.bytes, account_median_bytes: med === null ? null : Math.round(2 ** (med / 10)) },
    tls: { ja4: event.tls.ja4, ja3: event.tls.ja4 === null ? event.tls.ja3 : null },
    network: { source_ip: event.source_ip, network: sourceNetwork(event.source_ip) },
  };
}
