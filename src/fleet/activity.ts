// Benign behaviour of an estate over a time window: people sign in from office or home during their
// working hours (phones also in the evening), workloads call their APIs around the clock. Pure
// functions of the seed; certificates are referenced by plan id.
import { type City, SERVICE_ACCOUNTS, SERVICES, type ServiceDef, TLS_CLIENTS, WORKLOAD_SERVICES } from './catalog.ts';
import type { GatewayEvent } from './ecs.ts';
import type { Estate, FleetDevice, FleetUser } from './estate.ts';
import { createRng, type Rng } from './prng.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface ActivityWindow {
  /** Epoch ms of the first instant (use a UTC midnight). */
  start: number;
  days: number;
}

export interface ActivityOptions {
  window: ActivityWindow;
  /** Mean sign-ins per workday for a laptop of a typical user (default 4). */
  laptopEventsPerWorkday?: number;
  /** Mean sign-ins per day for a phone (default 1.2). */
  phoneEventsPerDay?: number;
  /** Mean API calls per day for a workload (default 5). */
  workloadEventsPerDay?: number;
  /** Share of requests the gateway rejects (authorisation failures; default 0.01). */
  failureRate?: number;
  /** Per-device mean events per workday, overriding the defaults (power users). */
  eventsPerDayOverride?: ReadonlyMap<string, number>;
}

/** Where a sign-in comes from: address and GeoIP city. */
export interface Location {
  ip: string;
  geo: City | null;
}

const serviceWeights = SERVICES.map((s) => s.weight);

/** A service a person uses (weighted by popularity). */
export function pickHumanService(rng: Rng): ServiceDef {
  return rng.weighted(SERVICES, serviceWeights);
}

/** The API a workload calls. */
export function workloadService(user: FleetUser): ServiceDef {
  const account = SERVICE_ACCOUNTS.find((a) => a.name === user.name);
  const target = WORKLOAD_SERVICES.find((s) => s.name === account?.target);
  // Generated workers beyond the named accounts spread over the APIs by name.
  return target ?? WORKLOAD_SERVICES[user.name.length % WORKLOAD_SERVICES.length];
}

/** Location of a sign-in: servers from their internal address, phones from the carrier, laptops from office or home. */
export function locate(user: FleetUser, device: FleetDevice, atOffice: boolean, rng: Rng): Location {
  if (device.internalIp !== null) return { ip: device.internalIp, geo: null };
  if (device.kind === 'phone') return { ip: `${user.mobileSubnet}.${rng.int(2, 254)}`, geo: user.home };
  if (atOffice && user.office) return { ip: `${user.office.subnet}.${rng.int(10, 250)}`, geo: user.office.city };
  return { ip: user.homeIp, geo: user.home };
}

/** A count drawn around `mean` (never negative). */
function countAround(mean: number, rng: Rng): number {
  return Math.max(0, Math.round(rng.normal(mean, Math.sqrt(mean))));
}

/** Events of one device on one UTC day of the window. */
function deviceDay(
  user: FleetUser,
  device: FleetDevice,
  dayStart: number,
  options: Required<Omit<ActivityOptions, 'eventsPerDayOverride' | 'window'>> & { override: number | undefined },
  certIdFor: (device: FleetDevice, ts: number) => string,
  rng: Rng,
): GatewayEvent[] {
  const events: GatewayEvent[] = [];
  const tls = TLS_CLIENTS[device.tls];
  const push = (ts: number, loc: Location, service: ServiceDef): void => {
    events.push({
      ts,
      outcome: rng.chance(options.failureRate) ? 'failure' : 'success',
      user: user.name,
      device: device.id,
      sourceIp: loc.ip,
      geo: loc.geo,
      service: service.name,
      domain: service.domain,
      tls,
      certId: certIdFor(device, ts),
    });
  };
  if (device.kind === 'server') {
    const service = workloadService(user);
    const n = countAround(options.override ?? options.workloadEventsPerDay, rng);
    for (let i = 0; i < n; i++) push(dayStart + Math.floor(rng.next() * DAY_MS), locate(user, device, false, rng), service);
    return events;
  }
  // The person's local day: 00:00 local = dayStart - offset.
  const localMidnight = dayStart - user.home.utcOffsetHours * HOUR_MS;
  const weekday = new Date(dayStart).getUTCDay();
  const workday = weekday >= 1 && weekday <= 5;
  const atOffice = workday && user.office !== null && rng.chance(user.officeDays);
  if (device.kind === 'phone') {
    const n = countAround(options.override ?? options.phoneEventsPerDay * (workday ? 1 : 0.6), rng);
    for (let i = 0; i < n; i++) {
      const ts = localMidnight + Math.floor((7 + rng.next() * 15) * HOUR_MS);
      push(ts, locate(user, device, false, rng), pickHumanService(rng));
    }
    return events;
  }
  const mean = workday ? (options.override ?? options.laptopEventsPerWorkday * user.activity) : rng.chance(0.2) ? 1.5 : 0;
  const n = countAround(mean, rng);
  for (let i = 0; i < n; i++) {
    const hours = workday ? 8 + rng.next() * 10 : 10 + rng.next() * 11;
    // Office workers start at the office; a few late sign-ins come from home.
    const fromOffice = atOffice && hours < 17.5;
    push(localMidnight + Math.floor(hours * HOUR_MS), locate(user, device, fromOffice, rng), pickHumanService(rng));
  }
  return events;
}

/**
 * Benign events for every device of the estate over the window, sorted by time. Every draw comes
 * from a stream forked per device and day, so changing one device does not reshuffle the rest.
 */
export function baselineEvents(
  estate: Estate,
  certIdFor: (device: FleetDevice, ts: number) => string,
  options: ActivityOptions,
): GatewayEvent[] {
  const resolved = {
    laptopEventsPerWorkday: options.laptopEventsPerWorkday ?? 4,
    phoneEventsPerDay: options.phoneEventsPerDay ?? 1.2,
    workloadEventsPerDay: options.workloadEventsPerDay ?? 5,
    failureRate: options.failureRate ?? 0.01,
  };
  const users = new Map(estate.users.map((u) => [u.name, u]));
  const root = createRng(`${estate.seed}/activity`);
  const events: GatewayEvent[] = [];
  const { start, days } = options.window;
  const end = start + days * DAY_MS;
  for (const device of estate.devices) {
    const user = users.get(device.owner);
    if (!user) continue;
    const override = options.eventsPerDayOverride?.get(device.id);
    for (let day = 0; day < days; day++) {
      const rng = root.fork(`${device.id}/${day}`);
      for (const e of deviceDay(user, device, start + day * DAY_MS, { ...resolved, override }, certIdFor, rng)) {
        if (e.ts >= start && e.ts < end) events.push(e);
      }
    }
  }
  return sortEvents(events);
}

/** Sorts by time, then by device and user, so equal timestamps order deterministically. */
export function sortEvents(events: GatewayEvent[]): GatewayEvent[] {
  return events.sort(
    (a, b) => a.ts - b.ts || (a.device ?? '').localeCompare(b.device ?? '') || (a.user ?? '').localeCompare(b.user ?? ''),
  );
}
