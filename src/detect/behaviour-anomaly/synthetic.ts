// A seeded, stationary synthetic stream of ordinary authentication events for behaviour-anomaly's
// tests and speed measurement: accounts with office hours, one or two devices (one JA4 each), an
// office and a home network plus carrier networks for phones, a handful of usual services with an
// occasional rare one, log-normal transfer sizes, and now and then a trip to another city (new
// hotel network). Nothing in it is an attack; what the rule says about it is false positives.
import { mulberry32 } from '../../model/hst/hst.ts';
import type { NormalizedEvent } from '../../schema/event.ts';

export interface StreamOptions {
  accounts: number;
  days: number;
  seed: number;
  /** First day (UTC midnight, epoch ms); default 2026-01-05 (a Monday). */
  start?: number;
  /** Mean events per account per working day; default 8. */
  perDay?: number;
}

const CITIES: readonly [string, string, number, number][] = [
  ['DE', 'Berlin', 52.52, 13.4],
  ['DE', 'Munich', 48.14, 11.58],
  ['FR', 'Paris', 48.86, 2.35],
  ['GB', 'London', 51.51, -0.13],
  ['NL', 'Amsterdam', 52.37, 4.9],
  ['ES', 'Madrid', 40.42, -3.7],
  ['IT', 'Milan', 45.46, 9.19],
  ['PL', 'Warsaw', 52.23, 21.01],
  ['SE', 'Stockholm', 59.33, 18.07],
  ['AT', 'Vienna', 48.21, 16.37],
];
const POPULAR = Array.from({ length: 30 }, (_, i) => `app-${i}`);
const RARE = Array.from({ length: 100 }, (_, i) => `tool-${i}`);
const HOUR = 3_600_000;
const DAY = 86_400_000;

interface Persona {
  user: string;
  city: number;
  start: number;
  length: number;
  devices: { name: string; ja4: string; phone: boolean }[];
  home: string;
  services: string[];
  bytesLog2: number;
}

function makeEvent(p: Persona, ts: number, fields: Partial<NormalizedEvent>): NormalizedEvent {
  return {
    time: new Date(ts).toISOString(),
    ts,
    source: { format: 'synthetic', file: 'synthetic', line: 0, record_id: null },
    kind: 'authentication',
    ca: null,
    enrollment: null,
    outcome: 'success',
    user: p.user,
    user_from: 'event',
    device: null,
    source_ip: null,
    source_port: null,
    geo: null,
    destination_ip: null,
    destination_port: null,
    service: null,
    tls: { version: 'TLSv1.3', cipher: null, ja3: null, ja3s: null, ja4: null, sni: null },
    certificate: null,
    certificate_visibility: 'not_visible',
    chain: [],
    server_certificate: null,
    bytes: null,
    enrichment: { asset: null, identity: null, trust: null, revocation: null },
    ...fields,
  };
}

/** A geo record for a city with a little jitter (geo-IP imprecision). */
function geoOf(city: number, rnd: () => number): NormalizedEvent['geo'] {
  const [cc, name, lat, lon] = CITIES[city];
  return { country_iso_code: cc, city_name: name, lat: lat + (rnd() - 0.5) * 0.2, lon: lon + (rnd() - 0.5) * 0.2 };
}

/** Normal variate (Box–Muller) from the seeded generator. */
function gauss(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

/** The stream, sorted by time (ties by account). Deterministic for the options. */
export function stationaryStream(o: StreamOptions): NormalizedEvent[] {
  const rnd = mulberry32(o.seed);
  const start = o.start ?? Date.parse('2026-01-05T00:00:00Z');
  const perDay = o.perDay ?? 8;
  const personas: Persona[] = [];
  for (let a = 0; a < o.accounts; a++) {
    const user = `user${String(a).padStart(5, '0')}`;
    const devices = [{ name: `${user}-laptop`, ja4: `t13d1516h2_8daaf6152771_${(a % 7).toString(16)}`, phone: false }];
    if (rnd() < 0.6) devices.push({ name: `${user}-phone`, ja4: `t13d1715h2_5b57614c22b0_${(a % 5).toString(16)}`, phone: true });
    const services = new Set<string>();
    const n = 4 + Math.floor(rnd() * 5);
    while (services.size < n) services.add(POPULAR[Math.floor(rnd() ** 2 * POPULAR.length)]);
    personas.push({
      user,
      city: Math.floor(rnd() * CITIES.length),
      start: 6 + Math.floor(rnd() * 4),
      length: 8 + Math.floor(rnd() * 2),
      devices,
      home: `192.168.${a % 250}.${1 + Math.floor(rnd() * 200)}`,
      services: [...services],
      bytesLog2: 13 + rnd() * 7,
    });
  }
  const events: NormalizedEvent[] = [];
  for (const p of personas) {
    // A trip: 2–4 days in another city about once a month.
    let tripFrom = -1;
    let tripTo = -1;
    let tripCity = p.city;
    for (let d = 0; d < o.days; d++) {
      const dayStart = start + d * DAY;
      const weekday = d % 7 < 5;
      if (d > tripTo && rnd() < 1 / 30) {
        tripFrom = d;
        tripTo = d + 1 + Math.floor(rnd() * 3);
        tripCity = (p.city + 1 + Math.floor(rnd() * (CITIES.length - 1))) % CITIES.length;
      }
      const away = d >= tripFrom && d <= tripTo;
      const count = weekday ? Math.max(1, Math.round(perDay + gauss(rnd) * 2)) : rnd() < 0.3 ? 1 + Math.floor(rnd() * 3) : 0;
      for (let k = 0; k < count; k++) {
        let hour = p.start + rnd() * p.length;
        if (rnd() < 0.03) hour = p.start + p.length + 1 + rnd() * 3; // an evening session
        const ts = Math.floor(dayStart + hour * HOUR);
        const device = p.devices[Math.floor(rnd() * p.devices.length)];
        let ip: string;
        const city = away ? tripCity : p.city;
        if (away) ip = `203.0.${100 + ((tripCity * 13 + tripFrom) % 100)}.${1 + Math.floor(rnd() * 250)}`;
        else if (device.phone && rnd() < 0.3) ip = `100.64.${Math.floor(rnd() * 12)}.${1 + Math.floor(rnd() * 250)}`;
        else if (hour >= p.start + p.length || !weekday) ip = p.home;
        else ip = `10.${city}.1.${1 + Math.floor(rnd() * 250)}`;
        const service = rnd() < 0.01 ? RARE[Math.floor(rnd() * RARE.length)] : p.services[Math.floor(rnd() * p.services.length)];
        const bytes = Math.max(1, Math.round(2 ** (p.bytesLog2 + gauss(rnd) * 1.2)));
        events.push(
          makeEvent(p, ts, {
            device: device.name,
            source_ip: ip,
            geo: geoOf(city, rnd),
            service,
            bytes,
            tls: { version: 'TLSv1.3', cipher: null, ja3: null, ja3s: null, ja4: device.ja4, sni: service },
          }),
        );
      }
    }
  }
  events.sort((x, y) => x.ts - y.ts || (x.user as string).localeCompare(y.user as string));
  events.forEach((e, i) => {
    e.source.line = i + 1;
  });
  return events;
}
