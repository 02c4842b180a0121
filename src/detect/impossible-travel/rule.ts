// impossible-travel (issue 4): two consecutive located uses of one account — or of one key (SPKI,
// else the certificate) — from places farther apart than anyone can travel in the time between
// them. Distance is the great-circle (haversine) distance between the events' geo points; a
// missing location is unknown and skipped, never guessed; short distances never fire (geo-IP noise).
// A trip between two known places — places the entity itself uses on several days, or places many
// accounts of the organisation use (offices, VPN egress, where staff live) — is not travel.
import { Type } from 'typebox';
import type { CertInfo, NormalizedEvent } from '../../schema/event.ts';
import type { KeyedState, Rule, RuleContext, RuleInstance, Signal } from '../types.ts';

/** Config block `rules.impossible-travel`. */
export interface Config {
  /** Fire when the implied speed is above this (airliners cruise at ~900 km/h). */
  max_speed_kmh: number;
  /** Below this distance nothing fires (geo-IP databases are often off by hundreds of km). */
  min_distance_km: number;
  /** Only compare with a previous location at most this old. */
  max_gap_minutes: number;
  /** A place the entity used on at least this many distinct UTC days is familiar to it; 0 = never. */
  familiar_place_min_days: number;
  /** A place at least this many accounts used is an organisation place; 0 = never. */
  org_place_min_accounts: number;
  /** Cold start: an account or key seen for less than this long has no places to judge against yet; it learns silently. */
  min_history_hours: number;
}

export const configSchema = Type.Object(
  {
    max_speed_kmh: Type.Number({
      exclusiveMinimum: 0,
      default: 900,
      description: 'Fire when the implied speed between two located uses is above this.',
    }),
    min_distance_km: Type.Number({ minimum: 0, default: 500, description: 'Distances below this never fire (geo-IP noise).' }),
    max_gap_minutes: Type.Number({
      exclusiveMinimum: 0,
      default: 1440,
      description: 'Only compare with a previous located use at most this many minutes earlier.',
    }),
    familiar_place_min_days: Type.Integer({
      minimum: 0,
      default: 2,
      description: 'Distinct UTC days an account or key must have used a place for it to be familiar; 0 disables.',
    }),
    org_place_min_accounts: Type.Integer({
      minimum: 0,
      maximum: 10000,
      default: 10,
      description: 'Accounts that must have used a place for it to be an organisation place; 0 disables.',
    }),
    min_history_hours: Type.Number({
      minimum: 0,
      default: 24,
      description: 'Cold start: an account or key first seen less than this long ago learns its places silently; 0 disables.',
    }),
  },
  { additionalProperties: false },
);

export const defaults: Config = {
  max_speed_kmh: 900,
  min_distance_km: 500,
  max_gap_minutes: 1440,
  familiar_place_min_days: 2,
  org_place_min_accounts: 10,
  min_history_hours: 24,
};

/** One located use. */
export interface LastPlace {
  ts: number;
  lat: number;
  lon: number;
  city: string | null;
  country: string | null;
  ip: string | null;
  user: string | null;
  device: string | null;
  /** Where the point came from (`event` / `geoip`) and the database's accuracy radius, when known (docs/geo.md). */
  geo_source?: 'event' | 'geoip';
  accuracy_radius_km?: number | null;
}

/**
 * Per account (namespace `impossible-travel/account`) or key (`…/key`): the last located use and
 * the places used, by cell (see `placeCell`) → [last UTC day index, distinct days], at most
 * PLACES_PER_ENTITY (least recently used forgotten first).
 */
export interface TravelState {
  /** First located use (epoch ms); absent in state written before it existed (treated as mature). */
  first?: number;
  last: LastPlace;
  places: Record<string, [number, number]>;
  size: number;
}

/** Places remembered per account or key. */
export const PLACES_PER_ENTITY = 32;

const EARTH_RADIUS_KM = 6371.0088;
const RAD = Math.PI / 180;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The ~11 km cell a point falls in (one decimal degree): geo-IP points of one city share it. */
export function placeCell(lat: number, lon: number): string {
  return `${Math.round(lat * 10) / 10},${Math.round(lon * 10) / 10}`;
}

/** Great-circle distance in km between two points given in degrees (haversine, mean Earth radius). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A usable point: finite, in range, and not 0,0 ("Null Island", the placeholder for "unknown"). */
function located(event: NormalizedEvent): boolean {
  const g = event.geo;
  if (g === null) return false;
  const lat = g.lat;
  const lon = g.lon;
  if (lat === null || lon === null || !Number.isFinite(lat) || !Number.isFinite(lon)) return false;
  if (lat < -90 || lat > 90 || lon < -180 || lon > 180) return false;
  return !(lat === 0 && lon === 0);
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

interface Trip {
  prev: LastPlace;
  distance: number;
  gapMs: number;
  /** km/h; null when both uses are at the same instant. */
  speed: number | null;
  fromKnown: 'familiar' | 'organisation' | null;
  toKnown: 'familiar' | 'organisation' | null;
}

class ImpossibleTravel implements RuleInstance {
  private readonly config: Config;
  private readonly accounts: KeyedState<TravelState>;
  private readonly keys: KeyedState<TravelState>;
  /** cell → accounts that used it (at most org_place_min_accounts). */
  private readonly orgPlaces: KeyedState<string[]>;
  private readonly maxGapMs: number;

  constructor(config: Config, ctx: RuleContext) {
    this.config = config;
    this.accounts = ctx.state<TravelState>('account');
    this.keys = ctx.state<TravelState>('key');
    this.orgPlaces = ctx.state<string[]>('place');
    this.maxGapMs = config.max_gap_minutes * MINUTE_MS;
  }

  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    // A failed authentication is not a use of the account; an event without a location is unknown.
    if (event.outcome === 'failure' || !located(event)) return;
    const g = event.geo as NonNullable<NormalizedEvent['geo']>;
    const cell = placeCell(g.lat as number, g.lon as number);
    const cert = event.certificate;
    const keyId = cert === null ? null : (cert.spki_sha256 ?? cert.sha256);
    const keyKind = cert === null ? null : cert.spki_sha256 !== null ? 'spki_sha256' : 'sha256';
    let accountFired = false;
    if (event.user !== null) {
      const trip = this.step(this.accounts, event.user, event, cell);
      if (trip !== null) {
        accountFired = true;
        this.report('account', event.user, trip, event, keyId, keyKind, emit);
      }
    }
    if (keyId !== null) {
      const trip = this.step(this.keys, keyId, event, cell);
      // The same user moving impossibly with the same key is one finding (the account one).
      if (trip !== null && !accountFired) this.report('key', keyId, trip, event, keyId, keyKind, emit);
    }
    if (event.user !== null) this.learnOrgPlace(cell, event.user);
  }

  /** Compares with the entity's last place, then learns this use; the trip if it is impossible. */
  private step(store: KeyedState<TravelState>, id: string, event: NormalizedEvent, cell: string): Trip | null {
    const g = event.geo as NonNullable<NormalizedEvent['geo']>;
    const lat = g.lat as number;
    const lon = g.lon as number;
    const s = store.get(id);
    const here: LastPlace = {
      ts: event.ts,
      lat,
      lon,
      city: g.city_name,
      country: g.country_iso_code,
      ip: event.source_ip,
      user: event.user,
      device: event.device,
      ...geoProvenance(g),
    };
    if (s === undefined) {
      store.set(id, { first: event.ts, last: here, places: { [cell]: [Math.floor(event.ts / DAY_MS), 1] }, size: 1 });
      return null;
    }
    const prev = s.last;
    let trip: Trip | null = null;
    const gapMs = Math.abs(event.ts - prev.ts);
    // Cold start: without a day of history there are no familiar places to tell travel from home/office.
    const mature = s.first === undefined || event.ts - s.first >= this.config.min_history_hours * HOUR_MS;
    if (mature && gapMs <= this.maxGapMs && (prev.lat !== lat || prev.lon !== lon)) {
      const distance = haversineKm(prev.lat, prev.lon, lat, lon);
      if (distance >= this.config.min_distance_km) {
        const speed = gapMs === 0 ? null : distance / (gapMs / HOUR_MS);
        if (speed === null || speed > this.config.max_speed_kmh) {
          const fromKnown = this.known(s, placeCell(prev.lat, prev.lon));
          const toKnown = this.known(s, cell);
          // Between two known places (home and office, a VPN egress the user always has) it is not travel.
          if (!(fromKnown !== null && toKnown !== null)) trip = { prev, distance, gapMs, speed, fromKnown, toKnown };
        }
      }
    }
    this.learnPlace(s, cell, event.ts);
    // An out-of-order older event is compared but does not replace the latest place.
    if (event.ts >= prev.ts) s.last = here;
    store.set(id, s);
    return trip;
  }

  /** Why a place is known to the entity (`familiar`, `organisation`), or null. Judged before learning the current use. */
  private known(s: TravelState, cell: string): 'familiar' | 'organisation' | null {
    const min = this.config.familiar_place_min_days;
    if (min > 0) {
      const p = s.places[cell];
      if (p !== undefined && p[1] >= min) return 'familiar';
    }
    const orgMin = this.config.org_place_min_accounts;
    if (orgMin > 0) {
      const accounts = this.orgPlaces.get(cell);
      if (accounts !== undefined && accounts.length >= orgMin) return 'organisation';
    }
    return null;
  }

  private learnPlace(s: TravelState, cell: string, ts: number): void {
    const day = Math.floor(ts / DAY_MS);
    const p = s.places[cell];
    if (p !== undefined) {
      if (day > p[0]) {
        p[0] = day;
        p[1] += 1;
      }
      return;
    }
    if (s.size >= PLACES_PER_ENTITY) {
      let oldest: string | null = null;
      let oldestDay = Number.POSITIVE_INFINITY;
      for (const k in s.places) {
        if (s.places[k][0] < oldestDay) {
          oldestDay = s.places[k][0];
          oldest = k;
        }
      }
      if (oldest !== null) {
        delete s.places[oldest];
        s.size -= 1;
      }
    }
    s.places[cell] = [day, 1];
    s.size += 1;
  }

  private learnOrgPlace(cell: string, user: string): void {
    const min = this.config.org_place_min_accounts;
    if (min <= 0) return;
    const accounts = this.orgPlaces.get(cell);
    if (accounts === undefined) {
      this.orgPlaces.set(cell, [user]);
      return;
    }
    // Once the place has enough accounts there is nothing more to learn.
    if (accounts.length >= min || accounts.includes(user)) return;
    accounts.push(user);
    this.orgPlaces.set(cell, accounts);
  }

  private report(
    variant: 'account' | 'key',
    id: string,
    trip: Trip,
    event: NormalizedEvent,
    keyId: string | null,
    keyKind: string | null,
    emit: (signal: Signal) => void,
  ): void {
    const g = event.geo as NonNullable<NormalizedEvent['geo']>;
    const { prev, distance, gapMs, speed, fromKnown, toKnown } = trip;
    const [a, b] = prev.ts <= event.ts ? [prev.ts, event.ts] : [event.ts, prev.ts];
    const here: LastPlace = {
      ts: event.ts,
      lat: g.lat as number,
      lon: g.lon as number,
      city: g.city_name,
      country: g.country_iso_code,
      ip: event.source_ip,
      user: event.user,
      device: event.device,
      ...geoProvenance(g),
    };
    const who = variant === 'account' ? (event.user as string) : `key ${id.slice(0, 16)}…`;
    const accounts =
      variant === 'key' && prev.user !== event.user ? ` (accounts ${prev.user ?? '-'} → ${event.user ?? '-'})` : '';
    const speedText = speed === null ? 'at the same instant' : `${Math.round(speed)} km/h`;
    emit({
      rule: 'impossible-travel',
      variant,
      summary: `${who}${accounts}: ${placeName(prev)} → ${placeName(here)}, ${Math.round(distance)} km in ${round1(gapMs / MINUTE_MS)} min = ${speedText} (threshold > ${this.config.max_speed_kmh} km/h, ≥ ${this.config.min_distance_km} km)`,
      dedup_key: `${variant}:${id}:${[placeCell(prev.lat, prev.lon), placeCell(here.lat, here.lon)].sort().join('|')}:${Math.floor(event.ts / DAY_MS)}`,
      event,
      evidence: {
        entity: variant,
        ...(variant === 'account' ? { account: id } : { accounts: [prev.user, event.user] }),
        from: { ...placeEvidence(prev), known_place: fromKnown },
        to: { ...placeEvidence(here), known_place: toKnown },
        distance_km: round1(distance),
        gap_minutes: round1(gapMs / MINUTE_MS),
        speed_kmh: speed === null ? null : Math.round(speed),
        ...(speed === null ? { simultaneous: true } : {}),
        key: keyId,
        key_kind: keyKind,
        certificate: certEvidence(event.certificate),
        thresholds: {
          max_speed_kmh: this.config.max_speed_kmh,
          min_distance_km: this.config.min_distance_km,
          max_gap_minutes: this.config.max_gap_minutes,
          familiar_place_min_days: this.config.familiar_place_min_days,
          org_place_min_accounts: this.config.org_place_min_accounts,
        },
      },
    });
  }
}

function placeName(p: LastPlace): string {
  if (p.city !== null && p.country !== null) return `${p.city} (${p.country})`;
  return p.city ?? p.country ?? `${p.lat},${p.lon}`;
}

function placeEvidence(p: LastPlace): Record<string, unknown> {
  const out: Record<string, unknown> = {
    time: new Date(p.ts).toISOString(),
    city: p.city,
    country: p.country,
    lat: p.lat,
    lon: p.lon,
    ip: p.ip,
    user: p.user,
    device: p.device,
  };
  // IP geolocation is approximate: say where the point came from and how precise the database claims it is.
  if (p.geo_source !== undefined) out.geo_source = p.geo_source;
  if (p.accuracy_radius_km !== undefined && p.accuracy_radius_km !== null) out.accuracy_radius_km = p.accuracy_radius_km;
  return out;
}

/** The provenance fields of a point, only when enrichment set them (keeps stored state small). */
function geoProvenance(g: NonNullable<NormalizedEvent['geo']>): Pick<LastPlace, 'geo_source' | 'accuracy_radius_km'> {
  const out: Pick<LastPlace, 'geo_source' | 'accuracy_radius_km'> = {};
  if (g.source !== undefined) out.geo_source = g.source;
  if (typeof g.accuracy_radius_km === 'number') out.accuracy_radius_km = g.accuracy_radius_km;
  return out;
}

function certEvidence(c: CertInfo | null): Record<string, unknown> | null {
  if (c === null) return null;
  return {
    sha256: c.sha256,
    spki_sha256: c.spki_sha256,
    subject: c.subject,
    issuer: c.issuer,
    serial: c.serial,
    not_after: c.not_after,
  };
}

/** The impossible-travel rule. */
export const rule: Rule<Config> = {
  meta: {
    id: 'impossible-travel',
    title: 'Impossible travel between two uses of an account or key',
    description:
      'Two consecutive located uses of one account, or of one key (SPKI, else certificate) across accounts, farther apart (≥ min_distance_km) than max_speed_kmh allows in the time between them, unless both places are known (familiar to the entity or used by many accounts).',
    default_weight: 50,
    variant_weights: { account: 50, key: 50 },
    references: [
      'issue 4 (behavioural baselines: impossible-travel)',
      'seed 000: new device + far geo + data spike escalates',
      'FIELD-NOTES: Elastic impossible travel (≥ 500 km, ≥ 800 km/h within 90 min)',
    ],
    false_positives: [
      'VPN or proxy egress in another country, and corporate egress points far from the user (allowlist the source ranges).',
      'Geo-IP errors (mobile carriers geolocated to their head office); the distance floor absorbs small ones.',
      'One key deliberately shared by clients in several regions (a workload deployed worldwide).',
      'The first days of a new estate, before home/office/egress places become familiar or organisation places.',
    ],
  },
  configSchema,
  defaults,
  create(config: Config, ctx: RuleContext): RuleInstance {
    return new ImpossibleTravel(config, ctx);
  },
};
