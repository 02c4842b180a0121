// A MaxMind-format (.mmdb) geolocation database supplied by the operator (GeoLite2 / GeoIP2 City
// or Country, DB-IP Lite City or Country), read with the `maxmind` package. Nothing is
// downloaded: the file is read once, checked, and kept in memory.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type CityResponse, Reader } from 'maxmind';
import { CertsignalError } from '../../errors.ts';
import type { Geo } from '../../schema/event.ts';
import { formatIp, type ParsedIp } from './ip.ts';

/** `city`: records locate cities (coordinates); `country`: records name a country only. */
export type GeoDatabaseKind = 'city' | 'country';

/** What was loaded, for the run summary (`stats.geoip`). */
export interface GeoDatabaseInfo {
  path: string;
  /** The database's own `database_type` metadata, e.g. `GeoLite2-City`, `DBIP-City-Lite`. */
  database_type: string;
  kind: GeoDatabaseKind;
  /** `build_epoch` of the metadata as ISO 8601 (null when absent). */
  build_date: string | null;
  ip_version: 4 | 6;
  node_count: number;
  record_size: number;
}

const METADATA_MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');
const DATA_SECTION_SEPARATOR = 16;

/** Databases that carry no location at all; named in the error so the user picks the right file. */
const NO_LOCATION = /(^|[-_ ])(asn|isp|anonymous|connection[-_ ]?type|domain|user[-_ ]?count)([-_ ]|$)/i;

/**
 * The kind of a database from its `database_type`, or an explanation why it cannot locate anyone.
 * City shapes: GeoLite2-City, GeoIP2-City(-…), GeoIP2-Enterprise, DBIP-City-Lite,
 * `DBIP-Location (compat=City)`. Country shapes: GeoLite2-Country, GeoIP2-Country,
 * DBIP-Country-Lite. ASN / ISP / anonymous-IP / connection-type / domain databases are refused.
 */
export function databaseKind(databaseType: string): GeoDatabaseKind | { error: string } {
  const t = databaseType.replace(/\(compat=([^)]*)\)/i, ' $1 ');
  if (NO_LOCATION.test(databaseType)) {
    return {
      error: `database_type "${databaseType}" holds no locations (an ASN/ISP/anonymous-IP database); use a City or Country database such as GeoLite2-City or DB-IP Lite City`,
    };
  }
  if (/city|enterprise|location/i.test(t)) return 'city';
  if (/country/i.test(t)) return 'country';
  return {
    error: `database_type "${databaseType}" is not a City or Country database (GeoLite2-City, GeoIP2-City, DBIP-City-Lite, GeoLite2-Country, DBIP-Country-Lite…)`,
  };
}

interface NamedRecord {
  iso_code?: unknown;
  names?: Record<string, unknown>;
}

interface GeoRecordShape {
  country?: NamedRecord;
  city?: NamedRecord;
  location?: { latitude?: unknown; longitude?: unknown; accuracy_radius?: unknown };
}

function fail(path: string, why: string): never {
  throw new CertsignalError('E_GEOIP', `GeoIP database ${path}: ${why}`);
}

/** An opened, checked .mmdb; `lookup` maps one address to a Geo (or null: not in the database). */
export class GeoIpDatabase {
  readonly info: GeoDatabaseInfo;
  private readonly reader: Reader<CityResponse>;
  private readonly languages: string[];

  private constructor(reader: Reader<CityResponse>, info: GeoDatabaseInfo) {
    this.reader = reader;
    this.info = info;
    this.languages = ['en', ...(reader.metadata.languages ?? []).filter((l) => l !== 'en')];
  }

  /** Reads and checks `path`; throws CertsignalError E_GEOIP (exit 2) naming the file and why. */
  static open(path: string): GeoIpDatabase {
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      fail(
        path,
        e.code === 'ENOENT'
          ? 'no such file'
          : e.code === 'EISDIR'
            ? 'is a directory, not a .mmdb file'
            : `cannot read (${e.code ?? e.message})`,
      );
    }
    return GeoIpDatabase.fromBuffer(data, path);
  }

  /** Checks and opens an in-memory database (`path` names it in errors and the summary). */
  static fromBuffer(input: Buffer, path: string): GeoIpDatabase {
    let data = input;
    if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
      try {
        data = gunzipSync(data);
      } catch (error) {
        fail(path, `gzip data does not decompress (${(error as Error).message})`);
      }
      // GeoLite2 and DB-IP ship .tar.gz / .mmdb.gz: a tar archive has "ustar" at offset 257.
      if (data.length > 262 && data.subarray(257, 262).toString('latin1') === 'ustar') {
        fail(path, 'is a tar archive: extract the .mmdb file from it and pass that');
      }
    }
    const marker = data.lastIndexOf(METADATA_MARKER);
    if (marker < 0)
      fail(path, 'not a MaxMind DB file (no "\\xAB\\xCD\\xEFMaxMind.com" metadata marker; truncated or another format)');
    let reader: Reader<CityResponse>;
    try {
      reader = new Reader(data);
    } catch (error) {
      fail(path, `unreadable MaxMind DB metadata (${(error as Error).message})`);
    }
    const m = reader.metadata;
    if (m.binaryFormatMajorVersion !== 2)
      fail(path, `unsupported MaxMind DB format version ${m.binaryFormatMajorVersion} (expected 2)`);
    if (m.ipVersion !== 4 && m.ipVersion !== 6) fail(path, `bad metadata: ip_version ${m.ipVersion} (expected 4 or 6)`);
    if (!Number.isInteger(m.nodeCount) || m.nodeCount < 1) fail(path, `bad metadata: node_count ${m.nodeCount}`);
    if (m.searchTreeSize + DATA_SECTION_SEPARATOR > marker) {
      fail(
        path,
        `truncated or corrupt: the search tree (${m.nodeCount} nodes of ${m.recordSize} bits) runs past the data section`,
      );
    }
    if (typeof m.databaseType !== 'string' || m.databaseType === '') fail(path, 'bad metadata: no database_type');
    const kind = databaseKind(m.databaseType);
    if (typeof kind !== 'string') fail(path, kind.error);
    const built = m.buildEpoch instanceof Date && Number.isFinite(m.buildEpoch.getTime()) ? m.buildEpoch.toISOString() : null;
    return new GeoIpDatabase(reader, {
      path,
      database_type: m.databaseType,
      kind,
      build_date: built,
      ip_version: m.ipVersion,
      node_count: m.nodeCount,
      record_size: m.recordSize,
    });
  }

  /**
   * The location of a public address, or null when the database has no record for it or the
   * record names neither a country nor a city. Coordinates are taken only from records that
   * locate a city: country-level records in City databases carry the country's centre point,
   * which is a placeholder, not a place. Throws when the record cannot be decoded (corrupt file).
   */
  lookup(ip: ParsedIp): Geo | null {
    // An IPv4-only database cannot answer for an IPv6 address.
    if (ip.version === 6 && this.info.ip_version === 4) return null;
    // Read defensively: the file is the operator's, its records are whatever it holds.
    const record = this.reader.get(formatIp(ip)) as unknown as GeoRecordShape | null;
    if (record === null || typeof record !== 'object') return null;
    return this.toGeo(record);
  }

  private toGeo(r: GeoRecordShape): Geo | null {
    const iso = typeof r.country?.iso_code === 'string' && r.country.iso_code !== '' ? r.country.iso_code : null;
    const countryName = this.name(r.country);
    const city = this.info.kind === 'city' ? this.name(r.city) : null;
    const loc = r.location;
    let lat: number | null = null;
    let lon: number | null = null;
    let radius: number | null = null;
    if (city !== null && loc && typeof loc.latitude === 'number' && typeof loc.longitude === 'number') {
      if (
        Number.isFinite(loc.latitude) &&
        Number.isFinite(loc.longitude) &&
        Math.abs(loc.latitude) <= 90 &&
        Math.abs(loc.longitude) <= 180
      ) {
        lat = loc.latitude;
        lon = loc.longitude;
        if (typeof loc.accuracy_radius === 'number' && loc.accuracy_radius >= 0) radius = loc.accuracy_radius;
      }
    }
    if (iso === null && countryName === null && city === null && lat === null) return null;
    return {
      country_iso_code: iso,
      country_name: countryName,
      city_name: city,
      lat,
      lon,
      source: 'geoip',
      accuracy_radius_km: radius,
    };
  }

  /** English name, else the first of the database's languages, else any. */
  private name(rec: NamedRecord | undefined): string | null {
    const names = rec?.names;
    if (!names || typeof names !== 'object') return null;
    for (const lang of this.languages) {
      const n = names[lang];
      if (typeof n === 'string' && n !== '') return n;
    }
    for (const n of Object.values(names)) if (typeof n === 'string' && n !== '') return n;
    return null;
  }
}
