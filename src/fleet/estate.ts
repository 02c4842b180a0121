// The simulated estate: people and service accounts, their devices (with OS and TLS client stack),
// where they live and work. A pure function of the seed; written out as assets.csv/identities.csv.
import {
  CITIES,
  type City,
  DEPARTMENTS,
  EMAIL_DOMAIN,
  FIRST_NAMES,
  HOST_DOMAIN,
  LAPTOP_OS,
  LAST_NAMES,
  OFFICES,
  type Office,
  PHONE_OS,
  SERVER_OS,
  SERVICE_ACCOUNTS,
  type TlsClientId,
} from './catalog.ts';
import { createRng, type Rng } from './prng.ts';

export type DeviceKind = 'laptop' | 'phone' | 'server';

export interface FleetUser {
  name: string;
  kind: 'human' | 'service';
  role: string;
  department: string;
  country: string;
  email: string;
  /** Where the person lives (home and mobile sign-ins geolocate here). Services: their data centre city. */
  home: City;
  /** Office the person commutes to on office days; null for remote workers and services. */
  office: Office | null;
  /** Share of workdays spent in the office (0..1). */
  officeDays: number;
  /** Home broadband address (stable for the week). */
  homeIp: string;
  /** Mobile carrier /24 (last octet varies per sign-in). */
  mobileSubnet: string;
  /** Relative activity level: 1 = typical; power users ~3. */
  activity: number;
}

export interface FleetDevice {
  id: string;
  owner: string;
  kind: DeviceKind;
  hostname: string;
  os: string;
  /** ISO 8601 UTC. */
  enrolledAt: string;
  tls: TlsClientId;
  /** `long-lived`: one certificate from the device issuing CA; `rotating`: a new automation-CA certificate every day. */
  certMode: 'long-lived' | 'rotating';
  /** Internal address for servers (no geo); null for endpoints. */
  internalIp: string | null;
}

export interface Estate {
  seed: string;
  users: FleetUser[];
  devices: FleetDevice[];
}

export interface EstateOptions {
  seed: number | string;
  /** Number of human users (default 34). */
  humans?: number;
  /** Number of service accounts (default 6; the first six have fixed names). */
  services?: number;
  /** Share of humans who also have an enrolled phone (default 0.35). */
  phoneShare?: number;
  /** Devices enrolled between these instants (epoch ms); defaults: 2024-06-01 .. 2025-12-15. */
  enrolledFrom?: number;
  enrolledUntil?: number;
}

const DAY_MS = 86_400_000;

function tlsForOs(os: string, rng: Rng): TlsClientId {
  if (os.startsWith('Windows')) return rng.weighted<TlsClientId>(['chrome', 'firefox', 'wininet12'], [70, 15, 15]);
  if (os.startsWith('macOS')) return rng.weighted<TlsClientId>(['safari', 'chrome', 'firefox'], [50, 40, 10]);
  if (os.startsWith('iOS')) return 'safari';
  if (os.startsWith('Android')) return 'chrome';
  if (os.startsWith('Ubuntu')) return rng.weighted<TlsClientId>(['firefox', 'chrome'], [60, 40]);
  return 'go';
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Builds a deterministic estate from a seed. */
export function generateEstate(options: EstateOptions): Estate {
  const seed = String(options.seed);
  const rng = createRng(`${seed}/estate`);
  const humans = options.humans ?? 34;
  const serviceCount = options.services ?? SERVICE_ACCOUNTS.length;
  const phoneShare = options.phoneShare ?? 0.35;
  const enrolledFrom = options.enrolledFrom ?? Date.parse('2024-06-01T00:00:00Z');
  const enrolledUntil = options.enrolledUntil ?? Date.parse('2025-12-15T00:00:00Z');

  const users: FleetUser[] = [];
  const devices: FleetDevice[] = [];
  const usedNames = new Set<string>();
  const usedIds = new Set<string>();
  const usedHomeSubnets = new Set<string>();

  const homeSubnet = (): string => {
    // Unique /24 per person so "different subnets" means something in the scenarios.
    for (;;) {
      // 198.18.0.0/24 … 198.19.199.0/24; 198.19.200–255 are left for scenario "attacker" addresses.
      const index = rng.int(0, 455);
      const subnet = index < 256 ? `198.18.${index}` : `198.19.${index - 256}`;
      if (!usedHomeSubnets.has(subnet) || usedHomeSubnets.size > 400) {
        usedHomeSubnets.add(subnet);
        return subnet;
      }
    }
  };
  const deviceId = (): string => {
    for (;;) {
      const id = `dev-${rng.hex(4)}`;
      if (!usedIds.has(id)) {
        usedIds.add(id);
        return id;
      }
    }
  };
  const enrolled = (): string => isoDay(enrolledFrom + Math.floor((rng.next() * (enrolledUntil - enrolledFrom)) / 1000) * 1000);
  let hostCounter = 0;
  const addDevice = (
    owner: string,
    kind: DeviceKind,
    os: string,
    certMode: FleetDevice['certMode'],
    internalIp: string | null,
  ): FleetDevice => {
    hostCounter += 1;
    const prefix = kind === 'laptop' ? 'lt' : kind === 'phone' ? 'ph' : 'srv';
    const device: FleetDevice = {
      id: deviceId(),
      owner,
      kind,
      hostname: `${prefix}-${String(hostCounter).padStart(4, '0')}.${HOST_DOMAIN}`,
      os,
      enrolledAt: enrolled(),
      tls: kind === 'server' ? 'go' : tlsForOs(os, rng),
      certMode,
      internalIp,
    };
    devices.push(device);
    return device;
  };

  const departments = Object.keys(DEPARTMENTS);
  for (let i = 0; i < humans; i++) {
    let name: string;
    for (let attempt = 0; ; attempt++) {
      const base = `${rng.pick(FIRST_NAMES)}.${rng.pick(LAST_NAMES)}`;
      name = attempt > 20 ? `${base}${i}` : base;
      if (!usedNames.has(name)) break;
    }
    usedNames.add(name);
    const department = rng.weighted(departments, [30, 10, 15, 5, 8, 4, 8]);
    const office = rng.chance(0.8) ? rng.pick(OFFICES) : null;
    // Office workers live near their office; remote workers anywhere.
    const nearby = office ? CITIES.filter((c) => c.country === office.city.country) : CITIES;
    const home = rng.pick(nearby);
    const subnet = homeSubnet();
    users.push({
      name,
      kind: 'human',
      role: rng.pick(DEPARTMENTS[department]),
      department,
      country: home.country,
      email: `${name}@${EMAIL_DOMAIN}`,
      home,
      office,
      officeDays: office ? 0.3 + rng.next() * 0.5 : 0,
      homeIp: `${subnet}.${rng.int(2, 254)}`,
      mobileSubnet: homeSubnet(),
      activity: 0.6 + rng.next() * 0.8,
    });
    addDevice(name, 'laptop', rng.pick(LAPTOP_OS), 'long-lived', null);
    if (rng.chance(phoneShare)) addDevice(name, 'phone', rng.pick(PHONE_OS), 'long-lived', null);
  }

  for (let i = 0; i < serviceCount; i++) {
    const fixed = SERVICE_ACCOUNTS[i];
    const name = fixed ? fixed.name : `svc-worker-${String(i).padStart(3, '0')}`;
    const dc = rng.pick(OFFICES).city;
    users.push({
      name,
      kind: 'service',
      role: fixed ? fixed.role : 'workload',
      department: fixed ? fixed.department : 'Engineering',
      country: dc.country,
      email: `${name}@${EMAIL_DOMAIN}`,
      home: dc,
      office: null,
      officeDays: 0,
      homeIp: `10.20.${Math.floor(i / 200)}.${(i % 200) + 10}`,
      mobileSubnet: '10.20.255',
      activity: 1,
    });
    // svc-reporting is a batch job with a long-lived certificate; the others are automated workloads.
    const certMode = name === 'svc-reporting' ? 'long-lived' : 'rotating';
    addDevice(name, 'server', rng.pick(SERVER_OS), certMode, `10.20.${Math.floor(i / 200)}.${(i % 200) + 10}`);
  }

  return { seed, users, devices };
}

/** Whole days between two instants (floor). */
export function dayIndex(ts: number, start: number): number {
  return Math.floor((ts - start) / DAY_MS);
}

function csvField(value: string | null): string {
  if (value === null) return '';
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** assets.csv: `device_id,owner,kind,hostname,os,enrolled_at`. */
export function assetsCsv(devices: readonly FleetDevice[]): string {
  const lines = ['device_id,owner,kind,hostname,os,enrolled_at'];
  for (const d of devices) lines.push([d.id, d.owner, d.kind, d.hostname, d.os, d.enrolledAt].map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

/** identities.csv: `user,kind,role,department,country,email`. */
export function identitiesCsv(users: readonly FleetUser[]): string {
  const lines = ['user,kind,role,department,country,email'];
  for (const u of users) lines.push([u.name, u.kind, u.role, u.department, u.country, u.email].map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}
