// Geolocation enrichment (docs/geo.md). An event's own location (ECS `source.geo.*`) wins; an event
// without one is looked up by source address in the operator's .mmdb (`--geoip`). Special-purpose
// addresses (private, loopback, link-local, CGNAT, documentation, multicast, …) are never looked up
// and say so in `geo_status`; whatever cannot be located stays unknown — never a guess.
import type { Diagnostics } from '../../diagnostics.ts';
import type { Geo, GeoStatus, NormalizedEvent } from '../../schema/event.ts';
import { type GeoDatabaseInfo, GeoIpDatabase } from './database.ts';
import { embeddedIpv4, parseIp, specialRange } from './ip.ts';
import { LruCache } from './lru.ts';

export { databaseKind, type GeoDatabaseInfo, type GeoDatabaseKind, GeoIpDatabase } from './database.ts';
export { embeddedIpv4, formatIp, type ParsedIp, parseIp, type SpecialRange, specialRange } from './ip.ts';
export { LruCache } from './lru.ts';

/** What one source address resolves to. */
export interface GeoResolution {
  geo: Geo | null;
  status: GeoStatus;
  /** The special-purpose range (`private` / `reserved` only). */
  range?: string;
}

/** Per-run figures for the summary (`stats.geoip` of analyze). */
export interface GeoStats {
  /** The database used, or null without `--geoip`. */
  database: GeoDatabaseInfo | null;
  /** Events per `geo_status`. */
  statuses: Partial<Record<GeoStatus, number>>;
  cache: { hits: number; misses: number; size: number; max: number };
}

/** Distinct source addresses remembered (each entry is a few hundred bytes). */
export const DEFAULT_GEO_CACHE_SIZE = 50_000;

/**
 * True when an event's own location can be used as it is: coordinates (other than the 0,0
 * placeholder) or at least a country.
 */
export function hasUsableGeo(geo: Geo | null): boolean {
  if (geo === null) return false;
  const { lat, lon } = geo;
  if (lat !== null && lon !== null && Number.isFinite(lat) && Number.isFinite(lon) && !(lat === 0 && lon === 0)) return true;
  return typeof geo.country_iso_code === 'string' && geo.country_iso_code !== '';
}

/** Fills `geo`, `geo_status` and `geo_range` of events; one per run, results cached per address. */
export class GeoEnricher {
  readonly database: GeoIpDatabase | null;
  private readonly cache: LruCache<string, GeoResolution>;
  private readonly diagnostics?: Diagnostics;
  private readonly statuses: Partial<Record<GeoStatus, number>> = {};

  constructor(database: GeoIpDatabase | null, options: { cacheSize?: number; diagnostics?: Diagnostics } = {}) {
    this.database = database;
    this.cache = new LruCache(options.cacheSize ?? DEFAULT_GEO_CACHE_SIZE);
    this.diagnostics = options.diagnostics;
  }

  /** Opens `path` (E_GEOIP naming the file when it cannot be used), or no database for null/undefined. */
  static open(path: string | null | undefined, options: { cacheSize?: number; diagnostics?: Diagnostics } = {}): GeoEnricher {
    return new GeoEnricher(path ? GeoIpDatabase.open(path) : null, options);
  }

  /** Decides the event's location and records how (`geo_status`, and `geo_range` for special addresses). */
  apply(event: NormalizedEvent): void {
    let status: GeoStatus;
    if (hasUsableGeo(event.geo)) {
      (event.geo as Geo).source = 'event';
      status = 'event';
    } else if (event.source_ip === null || event.source_ip === '') {
      status = 'no-ip';
    } else {
      const r = this.resolve(event.source_ip, event);
      status = r.status;
      // A partial location of the event's own (a city without country or point) stays unless the database does better.
      if (r.geo !== null) event.geo = r.geo;
      if (r.range !== undefined) event.geo_range = r.range;
    }
    event.geo_status = status;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }

  /** Resolves one source address (cached). `event` only names the record in a diagnostic. */
  resolve(ip: string, event?: NormalizedEvent): GeoResolution {
    const cached = this.cache.get(ip);
    if (cached !== undefined) return cached;
    const result = this.compute(ip, event);
    this.cache.set(ip, result);
    return result;
  }

  private compute(ip: string, event?: NormalizedEvent): GeoResolution {
    const parsed = parseIp(ip);
    if (parsed === null) return { geo: null, status: 'invalid-ip' };
    const address = embeddedIpv4(parsed) ?? parsed;
    const special = specialRange(address);
    if (special !== null) return { geo: null, status: special.kind, range: special.label };
    if (this.database === null) return { geo: null, status: 'no-database' };
    try {
      const geo = this.database.lookup(address);
      return geo === null ? { geo: null, status: 'not-found' } : { geo, status: 'geoip' };
    } catch (error) {
      // A record that does not decode is a broken database, not a location: report it, keep going.
      this.diagnostics?.warn({
        reason: 'geoip-bad-record',
        message: `GeoIP database ${this.database.info.path}: the record for ${ip} does not decode (${(error as Error).message}); location left unknown`,
        file: event?.source.file,
        line: event?.source.line,
        field: 'source.ip',
      });
      return { geo: null, status: 'not-found' };
    }
  }

  stats(): GeoStats {
    return {
      database: this.database?.info ?? null,
      statuses: { ...this.statuses },
      cache: { hits: this.cache.hits, misses: this.cache.misses, size: this.cache.size, max: this.cache.max },
    };
  }
}
