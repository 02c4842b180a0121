// The simulation plan: the estate, its certificate plans, the benign event stream and every
// injected attack and benign behaviour, decided from the seed before any key exists (so the
// structure is testable for determinism). `index.ts` issues the certificates and writes the files.
import {
  ByteAssigner,
  baselineEvents,
  type CertPlan,
  CITIES,
  type City,
  createRng,
  deviceCertId,
  type Estate,
  type FleetDevice,
  type FleetUser,
  type GatewayEvent,
  generateEstate,
  locate,
  OFFICES,
  planDeviceCertificates,
  type Rng,
  randomSerial,
  rotatingCertId,
  SERVICES,
  sortEvents,
  TLS_CLIENTS,
  type TlsClientClass,
  totalBytes,
  userSubject,
} from '../fleet/index.ts';
import {
  type CaLogRecord,
  endpointIssuance,
  type MdmLogRecord,
  mdmOf,
  SCEP_CONNECTOR,
  serverRenewal,
  TEMPLATES,
  workloadRenewal,
} from './calog.ts';
import { SIM_TLS_CLIENTS, updatedClient } from './tls.ts';
import type { AttackType, BenignBehaviour, SimulateOptions } from './types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Share of accounts that are service accounts (at least one). */
export const SERVICE_ACCOUNT_SHARE = 0.1;
/** Share of Windows laptops whose client is pinned to TLS 1.2 (Schannel with TLS 1.3 off by policy). */
export const WINDOWS_TLS12_SHARE = 0.4;
/** Share of workloads running a Java 8 (TLS 1.2) client. */
export const WORKLOAD_TLS12_SHARE = 0.4;
/** Days of history a per-account volume baseline needs (the volume-spike rule's documented minimum). */
export const VOLUME_HISTORY_DAYS = 7;
/** Share of people who are power users (many more sign-ins a workday). */
export const POWER_USER_SHARE = 0.1;

/** Cities outside the estate's countries, where replayed credentials come from. */
export const FAR_CITIES: readonly City[] = [
  { city: 'Singapore', country: 'SG', lat: 1.3521, lon: 103.8198, utcOffsetHours: 8 },
  { city: 'Sao Paulo', country: 'BR', lat: -23.5558, lon: -46.6396, utcOffsetHours: -3 },
  { city: 'Bucharest', country: 'RO', lat: 44.4268, lon: 26.1025, utcOffsetHours: 2 },
  { city: 'Lagos', country: 'NG', lat: 6.5244, lon: 3.3792, utcOffsetHours: 1 },
  { city: 'Jakarta', country: 'ID', lat: -6.2088, lon: 106.8456, utcOffsetHours: 7 },
];

/** Internal services nobody uses day to day: what a night-time sweep probes. */
export const SWEEP_SERVICES: readonly { name: string; domain: string }[] = [
  'vault',
  'k8s-api',
  'jenkins',
  'grafana',
  'db-admin',
  'ldap-admin',
  'backup-console',
  'payroll-admin',
  'siem',
  'artifactory',
  'jira-admin',
  'sso-admin',
  'netbox',
  'bastion',
  'registry',
  'terraform',
].map((name) => ({ name, domain: `${name}.internal.example.com` }));

/** An attack or benign behaviour before certificate digests exist. */
export interface DraftLabel {
  id: string;
  kind: 'attack' | 'benign';
  type: AttackType | BenignBehaviour;
  users: string[];
  devices: string[];
  /** Certificate plan ids whose digests go into cert_sha256 (and spki_sha256 for attacks). */
  certIds: string[];
  sourceIps: string[];
  expectedRules: string[];
  /** The attack variant the scenario picked, when PROMISED_SEVERITY (severity.ts) promises it differently. */
  variant?: string;
  description: string;
  /** Explicit period when no event carries the label's id (never for attacks). */
  start?: number;
  end?: number;
}

/** Everything about a simulation except key material. */
export interface SimulationPlan {
  options: SimulateOptions;
  estate: Estate;
  plans: CertPlan[];
  /** Sorted by time; `scenario` holds the label id an event belongs to. */
  events: GatewayEvent[];
  labels: DraftLabel[];
  /** Revoked certificates (plan id and instant) listed on the issuing CA's CRL. */
  revocations: { certId: string; revokedAt: number }[];
  /** Earlier, unrelated revocations on the same CRL (each also has a certificate plan, `certId`). */
  historicRevocations: { serial: string; revokedAt: number; certId: string }[];
  /** Rows of ca/issuance.csv (sorted by time when written). */
  caRecords: CaLogRecord[];
  /** Rows of mdm/enrollments.csv. */
  mdmRecords: MdmLogRecord[];
  /** The gateway's TLS server certificate (plan id), seen by the passive sensors. */
  gatewayCertId: string;
  end: number;
}

function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function distanceKm(a: City, b: City): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

const isWorkday = (dayStart: number): boolean => {
  const wd = new Date(dayStart).getUTCDay();
  return wd >= 1 && wd <= 5;
};

/** Thrown when the estate is too small for the enabled scenarios (the CLI turns it into a usage error). */
export class TooFewUsersError extends Error {}

/** Builds the whole simulation from the options; a pure function of them. */
export function planSimulation(options: SimulateOptions): SimulationPlan {
  const { seed, days, start } = options;
  const end = start + days * DAY;
  const attacks = new Set(options.attacks);
  const benign = new Set(options.benign);
  const services = Math.max(1, Math.round(options.users * SERVICE_ACCOUNT_SHARE));
  const humans = options.users - services;
  if (humans < 1) throw new TooFewUsersError('--users must leave at least one human account');
  const estate = generateEstate({ seed, humans, services });
  const rng = createRng(`${seed}/simulate`);
  const laptopOf = new Map<string, FleetDevice>();
  for (const d of estate.devices) if (d.kind === 'laptop' && !laptopOf.has(d.owner)) laptopOf.set(d.owner, d);

  // TLS 1.2 share: passive sensors only see client certificates below TLS 1.3.
  const tlsRng = rng.fork('tls');
  const clientOverride = new Map<string, TlsClientClass>();
  for (const d of estate.devices) {
    if (d.kind === 'laptop' && d.os.startsWith('Windows') && tlsRng.chance(WINDOWS_TLS12_SHARE)) d.tls = 'wininet12';
    if (d.kind === 'server' && tlsRng.chance(WORKLOAD_TLS12_SHARE)) clientOverride.set(d.id, SIM_TLS_CLIENTS.java8);
  }
  const clientOf = (d: FleetDevice): TlsClientClass => clientOverride.get(d.id) ?? TLS_CLIENTS[d.tls];

  // Power users: a developer on git and the wiki all day signs in far more often.
  const powerRng = rng.fork('power');
  const overrides = new Map<string, number>();
  const humanUsers = estate.users.filter((u) => u.kind === 'human');
  const powerCount = Math.max(4, Math.round(humans * POWER_USER_SHARE));
  for (const u of shuffle(humanUsers, powerRng).slice(0, powerCount)) {
    const laptop = laptopOf.get(u.name);
    if (laptop) overrides.set(laptop.id, powerRng.int(12, 16));
  }

  if (!benign.has('automation-rotation')) {
    for (const d of estate.devices) if (d.certMode === 'rotating') d.certMode = 'long-lived';
  }

  // Actors: distinct people from a seeded shuffle.
  const pool = shuffle(humanUsers, rng.fork('actors'));
  const used = new Set<string>();
  // Power users are kept for the scenarios that need a device with a long history (fingerprint baselines).
  const take = (what: string, ok: (u: FleetUser) => boolean = () => true): FleetUser => {
    const free = (x: FleetUser): boolean => !used.has(x.name) && laptopOf.has(x.name) && ok(x);
    const u = pool.find((x) => free(x) && !overrides.has(laptop(x).id)) ?? pool.find(free);
    if (!u) {
      throw new TooFewUsersError(
        `--users ${options.users} is too small for the enabled attacks and benign behaviours (no person left for ${what}); use more users or fewer scenarios`,
      );
    }
    used.add(u.name);
    return u;
  };
  const laptop = (u: FleetUser): FleetDevice => laptopOf.get(u.name) as FleetDevice;
  /** A device's hardware serial as the MDM records it (Apple-style for Apple devices). */
  const hardwareSerial = (d: FleetDevice): string => {
    const h = createRng(`${seed}/hardware/${d.id}`);
    const apple = d.os.startsWith('macOS') || d.os.startsWith('iOS');
    const alnum = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
    let out = apple ? 'C02' : d.kind === 'phone' ? 'R58' : 'PF';
    while (out.length < (apple ? 12 : 10)) out += alnum[h.int(0, alnum.length - 1)];
    return out;
  };
  /** Former devices whose certificates are on the CRL (planned at the end). */
  const historicDevices: { device: FleetDevice; revokedAt: number; certId: string }[] = [];
  /** Like `take`, but null when nobody fits (for optional roles in a scenario). */
  const tryTake = (ok: (u: FleetUser) => boolean): FleetUser | null => {
    const u = pool.find((x) => !used.has(x.name) && laptopOf.has(x.name) && ok(x) && !overrides.has(laptop(x).id));
    if (u) used.add(u.name);
    return u ?? null;
  };

  // The new hire is decided before certificates are planned: their devices are enrolled mid-period.
  let newHire: { user: FleetUser; at: number } | null = null;
  if (benign.has('new-hire')) {
    const user = take('new-hire', (u) => !overrides.has(laptop(u).id));
    const hr = rng.fork('new-hire');
    const day = days > 1 ? hr.int(1, days - 1) : 0;
    const at = start + day * DAY - user.home.utcOffsetHours * HOUR + Math.floor((8.5 + hr.next() * 1.5) * HOUR);
    for (const d of estate.devices)
      if (d.owner === user.name) d.enrolledAt = new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    newHire = { user, at };
  }

  const window = { start, days };
  const devicePlans = planDeviceCertificates(estate, window);
  const plans: CertPlan[] = [...devicePlans.plans];
  const planById = new Map(plans.map((p) => [p.id, p]));
  const certRng = rng.fork('certs');
  const plan = (p: Omit<CertPlan, 'serial'>): CertPlan => {
    const full = { ...p, serial: randomSerial(certRng) };
    plans.push(full);
    planById.set(full.id, full);
    return full;
  };
  const gateway = plan({
    id: 'cert:gateway',
    authority: 'issuing',
    subject: [
      ['C', 'US'],
      ['O', 'Example Corp'],
      ['CN', 'gateway.example.com'],
    ],
    notBefore: '2025-09-01T00:00:00.000Z',
    notAfter: '2026-09-01T00:00:00.000Z',
    dns: ['gateway.example.com', '*.example.com', '*.internal.example.com'],
    serverAuth: true,
  });

  let events = baselineEvents(estate, devicePlans.certIdFor, { window, eventsPerDayOverride: overrides });
  for (const e of events) {
    const o = e.device ? clientOverride.get(e.device) : undefined;
    if (o) e.tls = o;
  }
  // Bytes of the ordinary sessions first, so scenarios can measure an account's usual volume.
  const byteAssigner = new ByteAssigner(estate);
  byteAssigner.assign(events);
  /** CA log facts of certificates a scenario issues (requester, template, subject account, device). */
  const caMeta = new Map<string, Omit<CaLogRecord, 'ts' | 'certId' | 'ca'> & { ts?: number }>();
  const caExtra: CaLogRecord[] = [];
  const mdmExtra: MdmLogRecord[] = [];
  if (newHire) {
    const hire = newHire;
    events = events.filter((e) => e.user !== hire.user.name || e.ts >= hire.at);
  }
  const deviceById = new Map(estate.devices.map((d) => [d.id, d]));
  const added: GatewayEvent[] = [];
  const labels: DraftLabel[] = [];
  const revocations: SimulationPlan['revocations'] = [];
  let attackCount = 0;
  let benignCount = 0;
  const nextId = (kind: 'attack' | 'benign'): string =>
    kind === 'attack' ? `atk-${String(++attackCount).padStart(2, '0')}` : `ben-${String(++benignCount).padStart(2, '0')}`;

  const ev = (
    id: string,
    ts: number,
    user: string | null,
    device: string | null,
    where: { ip: string; geo: City | null },
    service: { name: string; domain: string },
    tls: TlsClientClass,
    certId: string | null,
  ): number => {
    added.push({
      ts,
      outcome: 'success',
      user,
      device,
      sourceIp: where.ip,
      geo: where.geo,
      service: service.name,
      domain: service.domain,
      tls,
      certId,
      scenario: id,
    });
    return ts;
  };
  // Attacker /24s: 198.19.220–255 (never a home, mobile, office or hotel range).
  let attackerSubnet = 220;
  const attackerIp = (arng: Rng, subnet: number): string => `198.19.${subnet}.${arng.int(2, 254)}`;
  const newSubnet = (): number => {
    const s = attackerSubnet;
    attackerSubnet = attackerSubnet >= 255 ? 220 : attackerSubnet + 1;
    return s;
  };
  /** A random instant on a day (a workday when one exists) between local hours, for a person. */
  const localTime = (
    r: Rng,
    user: FleetUser,
    firstDay: number,
    lastDay: number,
    fromHour: number,
    toHour: number,
    workday = true,
  ): number => {
    const lo = Math.max(0, Math.min(firstDay, days - 1));
    const hi = Math.max(lo, Math.min(lastDay, days - 1));
    const candidates: number[] = [];
    for (let d = lo; d <= hi; d++) if (!workday || isWorkday(start + d * DAY)) candidates.push(d);
    const day = candidates.length > 0 ? r.pick(candidates) : r.int(lo, hi);
    const ts =
      start + day * DAY - user.home.utcOffsetHours * HOUR + Math.floor((fromHour + r.next() * (toHour - fromHour)) * HOUR);
    return Math.min(Math.max(ts, start), end - HOUR);
  };
  const pickService = (r: Rng) =>
    r.weighted(
      SERVICES,
      SERVICES.map((s) => s.weight),
    );
  /** When a device's fingerprint baseline matures (≥ 20 events over ≥ 24 h), or null. */
  const maturity = (() => {
    const byDevice = new Map<string, number[]>();
    for (const e of events) {
      if (!e.device || e.outcome === 'failure') continue;
      const list = byDevice.get(e.device);
      if (list) list.push(e.ts);
      else byDevice.set(e.device, [e.ts]);
    }
    return (deviceId: string): number | null => {
      const ts = byDevice.get(deviceId) ?? [];
      for (let i = 19; i < ts.length; i++) if (ts[i] - ts[0] >= DAY) return ts[i] + 1;
      return null;
    };
  })();
  // Devices whose JA4 the browser update changes stay out of fingerprint attacks, so each alert has one cause.
  const updatedClass = benign.has('fleet-browser-update') ? 'chrome' : null;
  /** A person whose laptop has a mature fingerprint baseline early enough, and a time after it. */
  const matureVictim = (r: Rng): { user: FleetUser; at: number } | null => {
    const candidates = pool.filter((u) => {
      if (used.has(u.name) || !laptopOf.has(u.name)) return false;
      if (updatedClass && laptop(u).tls === updatedClass) return false;
      const m = maturity(laptop(u).id);
      return m !== null && m < end - 4 * HOUR;
    });
    if (candidates.length === 0) return null;
    const user = r.pick(candidates);
    used.add(user.name);
    const from = (maturity(laptop(user).id) as number) + HOUR;
    const firstDay = Math.floor((from - start) / DAY);
    let at = localTime(r, user, firstDay, days - 1, 10, 17);
    if (at < from) at = from + Math.floor(r.next() * Math.max(1, Math.min(6 * HOUR, end - 3 * HOUR - from)));
    return { user, at };
  };
  const firstDay = days > 2 ? 1 : 0;

  // ---- attacks ---------------------------------------------------------------------------------
  if (attacks.has('churn-after-key-theft')) {
    const id = nextId('attack');
    const r = rng.fork(id);
    const victim = take('churn-after-key-theft');
    const device = laptop(victim);
    const firstSeen = events.find((e) => e.device === device.id)?.ts ?? start;
    let at = localTime(r, victim, firstDay, days - 1, 12, 16);
    if (at <= firstSeen) at = Math.min(firstSeen + 2 * HOUR, end - 2 * HOUR);
    const count = r.int(4, 5);
    const subnets = [newSubnet(), newSubnet(), newSubnet()];
    const certIds: string[] = [];
    const ips: string[] = [];
    let ts = at;
    for (let i = 0; i < count; i++) {
      const p = plan({
        id: `cert:${id}:${i + 1}`,
        authority: 'issuing',
        subject: userSubject(victim.name, victim.department),
        notBefore: new Date(ts - 2 * MINUTE).toISOString(),
        notAfter: new Date(ts - 2 * MINUTE + 365 * DAY).toISOString(),
        email: [victim.email],
        dns: [device.hostname],
      });
      certIds.push(p.id);
      // The stolen enrollment key lets the attacker enroll through the SCEP connector: the CA log
      // shows ordinary device issuances for an enrolled device, with no new MDM enrollment.
      caMeta.set(p.id, {
        event: 'issued',
        requester: SCEP_CONNECTOR,
        template: TEMPLATES.device,
        user: victim.name,
        device: device.id,
        scenario: id,
      });
      const ip = attackerIp(r, subnets[i % subnets.length]);
      ips.push(ip);
      const where = { ip, geo: victim.home };
      ev(id, ts, victim.name, device.id, where, pickService(r), SIM_TLS_CLIENTS.curl, p.id);
      if (r.chance(0.5))
        ev(id, ts + r.int(1, 4) * MINUTE, victim.name, device.id, where, pickService(r), SIM_TLS_CLIENTS.curl, p.id);
      ts += r.int(6, 12) * MINUTE;
    }
    labels.push({
      id,
      kind: 'attack',
      type: 'churn-after-key-theft',
      users: [victim.name],
      devices: [device.id],
      certIds,
      sourceIps: [...new Set(ips)],
      expectedRules: ['cert-churn'],
      description: `after the theft of ${victim.name}'s enrollment key, ${count} new certificates for ${victim.name}'s laptop (${device.id}) are enrolled and presented within ${Math.round((ts - at) / MINUTE)} min from 3 attacker subnets (198.19.${subnets[0]}–${subnets[2]}.0/24) with a curl client`,
    });
  }

  if (attacks.has('stolen-cert-replay')) {
    const id = nextId('attack');
    const r = rng.fork(id);
    const variant = r.weighted(['device-from-certificate', 'no-device', 'unknown-device'] as const, [2, 1, 1]);
    const mature = variant === 'device-from-certificate' ? matureVictim(r) : null;
    const victim = mature?.user ?? take('stolen-cert-replay');
    const device = laptop(victim);
    const far = r.pick(FAR_CITIES);
    // The attacker works in their own daytime.
    let at = mature?.at ?? localTime(r, { ...victim, home: far }, firstDay, days - 1, 9, 18, false);
    at = Math.min(Math.max(at, start), end - 4 * HOUR);
    const subnet = newSubnet();
    const ip = attackerIp(r, subnet);
    const shownDevice =
      variant === 'no-device' || (variant === 'device-from-certificate' && !mature)
        ? null
        : variant === 'unknown-device'
          ? `dev-${r.hex(4)}`
          : device.id;
    const n = r.int(3, 6);
    let ts = at;
    for (let i = 0; i < n; i++) {
      ev(id, ts, victim.name, shownDevice, { ip, geo: far }, pickService(r), TLS_CLIENTS.python, deviceCertId(device));
      ts += r.int(10, 40) * MINUTE;
    }
    const expected = shownDevice === device.id ? ['tls-fingerprint-change'] : [];
    const how =
      shownDevice === device.id
        ? `the gateway maps the certificate to ${device.id}, whose JA4 baseline is mature: tls-fingerprint-change should see the Python stack`
        : shownDevice === null
          ? 'no device id reaches the gateway; no current rule compares geo or keys fingerprints by certificate, so none is expected to fire'
          : `an unregistered device id (${shownDevice}) is sent; it has no baseline and no asset row, so no current rule is expected to fire`;
    labels.push({
      id,
      kind: 'attack',
      type: 'stolen-cert-replay',
      users: [victim.name],
      devices: shownDevice ? [shownDevice, ...(shownDevice === device.id ? [] : [device.id])] : [device.id],
      certIds: [deviceCertId(device)],
      sourceIps: [ip],
      expectedRules: expected,
      description: `${victim.name}'s laptop certificate is replayed ${n} times from ${far.city} (${far.country}, ${ip}) by a Python client; ${how}`,
    });
  }

  if (attacks.has('key-shared-across-accounts')) {
    const id = nextId('attack');
    const r = rng.fork(id);
    const owner = take('key-shared-across-accounts');
    const borrower = take('key-shared-across-accounts');
    const ownerCert = planById.get(deviceCertId(laptop(owner))) as CertPlan;
    ownerCert.keyGroup = `key:${id}`;
    const ownerFirst = events.find((e) => e.device === laptop(owner).id && e.outcome === 'success')?.ts ?? start;
    let at = localTime(r, borrower, firstDay, days - 1, 9, 15);
    if (at <= ownerFirst) at = Math.min(ownerFirst + HOUR, end - 3 * HOUR);
    const bDevice = laptop(borrower);
    const p = plan({
      id: `cert:${id}`,
      authority: 'issuing',
      subject: userSubject(borrower.name, borrower.department),
      notBefore: new Date(at - 20 * MINUTE).toISOString(),
      notAfter: new Date(at - 20 * MINUTE + 365 * DAY).toISOString(),
      email: [borrower.email],
      dns: [bDevice.hostname],
      keyGroup: `key:${id}`,
    });
    caMeta.set(p.id, {
      event: 'issued',
      requester: SCEP_CONNECTOR,
      template: TEMPLATES.device,
      user: borrower.name,
      device: bDevice.id,
      scenario: id,
    });
    // From then on the borrower's laptop presents the certificate built on the owner's key.
    ev(id, at, borrower.name, bDevice.id, locate(borrower, bDevice, false, r), pickService(r), clientOf(bDevice), p.id);
    for (const e of events) {
      if (e.device === bDevice.id && e.ts > at) {
        e.certId = p.id;
        e.scenario = id;
      }
    }
    labels.push({
      id,
      kind: 'attack',
      type: 'key-shared-across-accounts',
      users: [owner.name, borrower.name],
      devices: [laptop(owner).id, bDevice.id],
      certIds: [ownerCert.id, p.id],
      sourceIps: [],
      expectedRules: options.includeCertificates === false ? [] : ['key-reuse'],
      description: `a certificate for ${borrower.name} is issued on ${owner.name}'s public key (copied key pair) and used from ${borrower.name}'s laptop while ${owner.name} keeps using the original`,
    });
  }

  if (attacks.has('service-cert-on-laptop')) {
    const id = nextId('attack');
    const r = rng.fork(id);
    const human = take('service-cert-on-laptop');
    const svc = r.pick(estate.users.filter((u) => u.kind === 'service'));
    const server = estate.devices.find((d) => d.owner === svc.name) as FleetDevice;
    const device = laptop(human);
    const at = localTime(r, human, firstDay, days - 1, 10, 16);
    const n = r.int(2, 4);
    const certIds = new Set<string>();
    let ts = at;
    const where = locate(human, device, false, r);
    for (let i = 0; i < n; i++) {
      const certId = devicePlans.certIdFor(server, ts);
      certIds.add(certId);
      ev(
        id,
        ts,
        svc.name,
        device.id,
        where,
        { name: 'payments-api', domain: 'payments.internal.example.com' },
        SIM_TLS_CLIENTS.curl,
        certId,
      );
      ts += r.int(3, 25) * MINUTE;
    }
    labels.push({
      id,
      kind: 'attack',
      type: 'service-cert-on-laptop',
      users: [svc.name, human.name],
      devices: [device.id],
      certIds: [...certIds],
      sourceIps: [where.ip],
      expectedRules: ['subject-mismatch'],
      description: `${svc.name}'s workload certificate, copied from ${server.hostname}, is used with curl from ${human.name}'s laptop (${device.id})`,
    });
  }

  if (attacks.has('expired-cert-use')) {
    const id = nextId('attack');
    const r = rng.fork(id);
    const owner = take('expired-cert-use');
    const at = localTime(r, owner, firstDay, days - 1, 18, 22, false);
    const notAfter = at - r.int(3, 40) * DAY - r.int(0, 23) * HOUR;
    const ios = r.chance(0.5);
    const oldPhone: FleetDevice = {
      id: `dev-${r.hex(4)}`,
      owner: owner.name,
      kind: 'phone',
      hostname: `ph-${r.int(5000, 5999)}.corp.example.com`,
      os: ios ? 'iOS 16.7' : 'Android 12',
      enrolledAt: new Date(Math.floor((notAfter - 730 * DAY) / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      tls: ios ? 'safari' : 'chrome',
      certMode: 'long-lived',
      internalIp: null,
    };
    estate.devices.push(oldPhone);
    const p = plan({
      id: deviceCertId(oldPhone),
      authority: 'issuing',
      subject: userSubject(owner.name, owner.department),
      notBefore: new Date(notAfter - 730 * DAY).toISOString(),
      notAfter: new Date(notAfter).toISOString(),
      email: [owner.email],
      dns: [oldPhone.hostname],
    });
    const n = r.int(2, 4);
    let ts = at;
    for (let i = 0; i < n; i++) {
      ev(id, ts, owner.name, oldPhone.id, locate(owner, oldPhone, false, r), pickService(r), TLS_CLIENTS[oldPhone.tls], p.id);
      ts += r.int(10, 90) * MINUTE;
    }
    labels.push({
      id,
      kind: 'attack',
      type: 'expired-cert-use',
      users: [owner.name],
      devices: [oldPhone.id],
      certIds: [p.id],
      sourceIps: [],
      expectedRules: ['expired-cert'],
      description: `${owner.name}'s forgotten old phone (${oldPhone.id}, ${oldPhone.os}) presents its certificate, which expired ${Math.round((at - notAfter) / DAY)} days earlier`,
    });
  }

  if (attacks.has('revoked-cert-use')) {
    const id = nextId('attack');
    const r = rng.fork(id);
    const owner = take('revoked-cert-use');
    const stolen = laptop(owner);
    const revokedAt = start + Math.floor((0.3 + r.next() * Math.max(0.1, days - 1.8)) * DAY);
    const useAt = Math.min(revokedAt + r.int(4, 30) * HOUR, end - 3 * HOUR);
    revocations.push({ certId: deviceCertId(stolen), revokedAt });
    events = events.filter((e) => !(e.device === stolen.id && e.ts >= revokedAt - 2 * HOUR));
    const replacement: FleetDevice = {
      id: `dev-${r.hex(4)}`,
      owner: owner.name,
      kind: 'laptop',
      hostname: `lt-${r.int(8000, 8999)}.corp.example.com`,
      os: stolen.os,
      enrolledAt: new Date(Math.floor((revokedAt + r.int(12, 20) * HOUR) / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      tls: stolen.tls,
      certMode: 'long-lived',
      internalIp: null,
    };
    estate.devices.push(replacement);
    deviceById.set(replacement.id, replacement);
    plan({
      id: deviceCertId(replacement),
      authority: 'issuing',
      subject: userSubject(owner.name, owner.department),
      notBefore: replacement.enrolledAt.replace('Z', '.000Z'),
      notAfter: new Date(Date.parse(replacement.enrolledAt) + 730 * DAY).toISOString(),
      email: [owner.email],
      dns: [replacement.hostname],
    });
    const enrolled = Date.parse(replacement.enrolledAt);
    for (const e of baselineEvents({ seed: `${seed}/${id}`, users: [owner], devices: [replacement] }, (d) => deviceCertId(d), {
      window,
    })) {
      if (e.ts >= enrolled) added.push(e);
    }
    const subnet = newSubnet();
    const where = { ip: attackerIp(r, subnet), geo: r.pick(CITIES.filter((c) => c.country === owner.home.country)) };
    const n = r.int(2, 4);
    let ts = useAt;
    for (let i = 0; i < n; i++) {
      ev(id, ts, owner.name, stolen.id, where, pickService(r), clientOf(stolen), deviceCertId(stolen));
      ts += r.int(5, 40) * MINUTE;
    }
    labels.push({
      id,
      kind: 'attack',
      type: 'revoked-cert-use',
      users: [owner.name],
      devices: [stolen.id],
      certIds: [deviceCertId(stolen)],
      sourceIps: [where.ip],
      expectedRules: ['revoked-cert'],
      description: `${owner.name}'s laptop (${stolen.id}) is stolen; its certificate is revoked (keyCompromise) at ${new Date(revokedAt).toISOString()} and presented again ${Math.round((useAt - revokedAt) / HOUR)} h later from ${where.ip}; ${owner.name} works from a replacement laptop (${replacement.id}) meanwhile`,
    });
  }

  if (attacks.has('foreign-or-self-signed-cert')) {
    const id = nextId('attack');
    const r = rng.fork(id);
    const victim = take('foreign-or-self-signed-cert');
    const selfSigned = r.chance(0.5);
    const n = r.int(2, 4);
    if (selfSigned) {
      const at = localTime(r, victim, firstDay, days - 1, 1, 5, false);
      const p = plan({
        id: `cert:${id}`,
        authority: 'self-signed',
        subject: userSubject(victim.name, victim.department),
        notBefore: new Date(at - 3 * HOUR).toISOString(),
        notAfter: new Date(at - 3 * HOUR + 365 * DAY).toISOString(),
        email: [victim.email],
      });
      const where = { ip: attackerIp(r, newSubnet()), geo: r.pick(FAR_CITIES) };
      let ts = at;
      for (let i = 0; i < n; i++) {
        ev(id, ts, victim.name, null, where, pickService(r), SIM_TLS_CLIENTS.curl, p.id);
        ts += r.int(2, 20) * MINUTE;
      }
      labels.push({
        id,
        kind: 'attack',
        type: 'foreign-or-self-signed-cert',
        users: [victim.name],
        devices: [],
        certIds: [p.id],
        sourceIps: [where.ip],
        expectedRules: ['untrusted-issuer'],
        description: `a self-signed certificate copying ${victim.name}'s corporate subject is accepted ${n} times at night from ${where.geo.city} (${where.ip}), no device id`,
      });
    } else {
      const device = laptop(victim);
      const at = localTime(r, victim, firstDay, days - 1, 9, 17);
      const p = plan({
        id: `cert:${id}`,
        authority: 'foreign',
        subject: [
          ['O', 'Globex Partners'],
          ['CN', victim.name],
        ],
        notBefore: '2025-11-01T00:00:00.000Z',
        notAfter: '2026-11-01T00:00:00.000Z',
        email: [`${victim.name}@globex.example`],
      });
      const where = locate(victim, device, false, r);
      let ts = at;
      for (let i = 0; i < n; i++) {
        ev(id, ts, victim.name, device.id, where, pickService(r), clientOf(device), p.id);
        ts += r.int(10, 50) * MINUTE;
      }
      labels.push({
        id,
        kind: 'attack',
        type: 'foreign-or-self-signed-cert',
        users: [victim.name],
        devices: [device.id],
        certIds: [p.id],
        sourceIps: [],
        expectedRules: ['untrusted-issuer'],
        description: `${victim.name}'s laptop presents a certificate from a partner CA (Globex Partner Issuing CA) that is not a trust anchor, and the gateway accepts it`,
      });
    }
  }

  if (attacks.has('tls-stack-change')) {
    const id = nextId('attack');
    const r = rng.fork(id);
    const downgrade = r.chance(0.5);
    const mature = matureVictim(r);
    const victim = mature?.user ?? take('tls-stack-change');
    const device = laptop(victim);
    const at = mature?.at ?? localTime(r, victim, days - 1, days - 1, 10, 17);
    const client = downgrade ? TLS_CLIENTS.legacy10 : TLS_CLIENTS.python;
    const where = locate(victim, device, false, r);
    const n = r.int(2, 4);
    let ts = at;
    for (let i = 0; i < n; i++) {
      ev(id, ts, victim.name, device.id, where, pickService(r), client, deviceCertId(device));
      ts += r.int(5, 30) * MINUTE;
    }
    labels.push({
      id,
      kind: 'attack',
      type: 'tls-stack-change',
      users: [victim.name],
      devices: [device.id],
      certIds: [deviceCertId(device)],
      sourceIps: [],
      expectedRules: mature ? ['tls-fingerprint-change'] : [],
      description: downgrade
        ? `${victim.name}'s laptop (${device.id}, always ${clientOf(device).label}, TLS ${clientOf(device).version}) suddenly negotiates TLS 1.0 with a legacy client`
        : `${victim.name}'s laptop (${device.id}, always ${clientOf(device).label}) presents its certificate from a Python client (new JA4)` +
          (mature ? '' : '; the device has too little history for a fingerprint baseline, so no rule is expected to fire'),
    });
  }

  if (attacks.has('night-service-sweep')) {
    const id = nextId('attack');
    const r = rng.fork(id);
    const victim = take('night-service-sweep');
    const device = laptop(victim);
    const at = localTime(r, victim, firstDay, days - 1, 1, 3.5, false);
    const targets = shuffle(SWEEP_SERVICES, r).slice(0, r.int(10, 16));
    // new-resource needs a peer group (≥ 20 accounts seen) with a day of history; twice that many
    // accounts in the estate makes 20 active ones near-certain by then.
    const peerMature = at - start >= DAY && estate.users.length >= 40;
    const where = { ip: victim.homeIp, geo: victim.home };
    let ts = at;
    for (const service of targets) {
      ev(id, ts, victim.name, device.id, where, service, clientOf(device), deviceCertId(device));
      if (r.chance(0.4))
        ev(id, ts + r.int(10, 50) * 1000, victim.name, device.id, where, service, clientOf(device), deviceCertId(device));
      ts += r.int(1, 5) * MINUTE;
    }
    labels.push({
      id,
      kind: 'attack',
      type: 'night-service-sweep',
      users: [victim.name],
      devices: [device.id],
      certIds: [deviceCertId(device)],
      sourceIps: [where.ip],
      // new-resource judges rarity against the peer group once the population has a day of history.
      expectedRules: peerMature ? ['new-resource'] : [],
      description: `${victim.name}'s laptop, from home at local night, touches ${targets.length} internal services it never used before (${targets
        .slice(0, 4)
        .map((s) => s.name)
        .join(
          ', ',
        )}, …) in ${Math.round((ts - at) / MINUTE)} min${peerMature ? '' : ' — less than a day into the data, before any peer group is mature: no rule is expected to fire'}`,
    });
  }

  if (attacks.has('data-exfiltration')) {
    const id = nextId('attack');
    const r = rng.fork(id);
    // The volume rule compares an hour with the account's own robust baseline, learnt over about a
    // week: the attack comes after day 7 when the period allows, on a person with that much history.
    const firstEvent = new Map<string, number>();
    const activeDays = new Map<string, Set<number>>();
    for (const e of events) {
      if (!e.user) continue;
      if (!firstEvent.has(e.user)) firstEvent.set(e.user, e.ts);
      let set = activeDays.get(e.user);
      if (!set) {
        set = new Set();
        activeDays.set(e.user, set);
      }
      set.add(Math.floor((e.ts - start) / DAY));
    }
    const historyOk = (u: FleetUser): boolean =>
      (firstEvent.get(u.name) ?? end) <= start + DAY && (activeDays.get(u.name)?.size ?? 0) >= Math.min(6, days - 1);
    // The account's windows (UTC hours, as the rule counts them) before the attack: the usual
    // volume is the median active hour; the attack is 30–100× that and clearly above its busiest
    // hour, so a victim whose heavy tail already reaches that far is passed over.
    const windowsOf = (name: string, before: number): number[] => {
      const hourly = new Map<number, number>();
      for (const e of events) {
        if (e.user !== name || e.ts >= before || e.outcome === 'failure') continue;
        const h = Math.floor(e.ts / HOUR);
        hourly.set(h, (hourly.get(h) ?? 0) + totalBytes(e));
      }
      return [...hourly.values()].sort((a, b) => a - b);
    };
    const atFor = (u: FleetUser): number =>
      localTime(r.fork(u.name), u, Math.min(VOLUME_HISTORY_DAYS + 1, days - 1), days - 1, 10, 15);
    // The smallest multiple of the usual hour that clears the rule's documented bounds in the
    // attack's biggest hour (about half of it): 1.5× the busiest hour and the 100 MB floor.
    const minFactor = (w: readonly number[]): number => {
      const median = w[Math.floor(w.length / 2)];
      return Math.max(30, Math.ceil((4 * (w.at(-1) as number)) / median), Math.ceil(250_000_000 / median));
    };
    const fits = (u: FleetUser): boolean => {
      if (!historyOk(u)) return false;
      const w = windowsOf(u.name, atFor(u));
      return w.length >= 12 && minFactor(w) <= 100;
    };
    const victim = tryTake(fits) ?? take('data-exfiltration');
    const device = laptop(victim);
    const at = atFor(victim);
    const history = at - (firstEvent.get(victim.name) ?? at);
    const usedServices = new Set(events.filter((e) => e.user === victim.name && e.ts < at).map((e) => e.service));
    const past = windowsOf(victim.name, at);
    const usual = past.length > 0 ? past[Math.floor(past.length / 2)] : 5_000_000;
    const busiest = past.at(-1) ?? usual;
    const lowest = past.length > 0 ? minFactor(past) : 101;
    const mature = history >= VOLUME_HISTORY_DAYS * DAY && past.length >= 12 && lowest <= 100;
    const factor = r.int(Math.min(100, lowest), 100);
    const target = usual * factor;
    const burst = r.chance(0.5);
    const n = burst ? r.int(40, 120) : r.int(6, 14);
    const duration = r.int(60, 110) * MINUTE;
    // Data-rich services the account already uses (a new service would be a different signal).
    const heavy = ['crm', 'finance-erp', 'git', 'wiki', 'mail', 'intranet'].filter((sv) => usedServices.has(sv));
    const services = SERVICES.filter((sv) => (heavy.length > 0 ? heavy.includes(sv.name) : usedServices.has(sv.name)));
    const pool2 = services.length > 0 ? services : SERVICES.slice(0, 1);
    const replay = r.chance(0.5);
    const last = events.filter((e) => e.device === device.id && e.ts < at).at(-1);
    const where = replay
      ? { ip: attackerIp(r, newSubnet()), geo: victim.home }
      : { ip: last?.sourceIp ?? victim.homeIp, geo: last?.geo ?? victim.home };
    const weights = Array.from({ length: n }, () => Math.exp(0.4 * (r.next() + r.next() + r.next() - 1.5) * 2));
    const sum = weights.reduce((a, b) => a + b, 0);
    const offsets = Array.from({ length: n }, () => Math.floor(r.next() * duration)).sort((a, b) => a - b);
    offsets[0] = 0;
    for (let i = 0; i < n; i++) {
      ev(
        id,
        at + offsets[i],
        victim.name,
        replay ? null : device.id,
        where,
        r.pick(pool2),
        replay ? SIM_TLS_CLIENTS.curl : clientOf(device),
        deviceCertId(device),
      );
      const e = added[added.length - 1];
      e.bytesIn = Math.round((target * weights[i]) / sum);
      e.bytesOut = r.int(900, 6_000);
    }
    const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
    labels.push({
      id,
      kind: 'attack',
      type: 'data-exfiltration',
      users: [victim.name],
      devices: [device.id],
      certIds: [deviceCertId(device)],
      sourceIps: replay ? [where.ip] : [],
      expectedRules: mature ? ['volume-spike'] : [],
      variant: burst ? 'burst' : 'large-requests',
      description:
        `${replay ? `${victim.name}'s laptop certificate, replayed with curl from a hosting address in ${victim.home.city} (${where.ip}, no device id),` : `malware on ${victim.name}'s laptop (${device.id}), from its usual address,`} ` +
        `pulls ${mb(target)} in ${n} requests within ${Math.round(duration / MINUTE)} min from ${[...new Set(pool2.map((sv) => sv.name))].join(', ')}: ` +
        `${factor}× the account's usual ${mb(usual)} per active hour (its busiest hour so far: ${mb(busiest)})${burst ? ', a request burst' : ''}` +
        (mature
          ? ''
          : ` — the account's volume baseline is not mature (${(history / DAY).toFixed(1)} days, ${past.length} active hours; the rule needs ${VOLUME_HISTORY_DAYS} days and 12) or its busiest hour is too close: no rule is expected to fire`),
    });
  }

  if (attacks.has('rogue-issuance')) {
    const id = nextId('attack');
    const r = rng.fork(id);
    const victim = take('rogue-issuance');
    // Seed 002: certificates issued to a device the MDM never enrolled. Either a compromised
    // helpdesk/RA account issues them by hand, or a stolen SCEP challenge goes through the connector.
    const helpdesk = r.chance(0.5) ? tryTake((u) => u.role === 'helpdesk' || u.role === 'it-admin') : null;
    let rogueId = `dev-${r.hex(4)}`;
    while (deviceById.has(rogueId)) rogueId = `dev-${r.hex(4)}`;
    const rogueHost = `desktop-${r.hex(3)}.corp.example.com`;
    const at = localTime(r, victim, firstDay, days - 1, 8, 20, false);
    const count = r.int(4, 6);
    const subnets = [newSubnet(), newSubnet()];
    const certIds: string[] = [];
    const ips: string[] = [];
    let ts = at;
    for (let i = 0; i < count; i++) {
      const p = plan({
        id: `cert:${id}:${i + 1}`,
        authority: 'issuing',
        subject: userSubject(victim.name, victim.department),
        notBefore: new Date(ts).toISOString(),
        notAfter: new Date(ts + 365 * DAY).toISOString(),
        email: [victim.email],
        dns: [rogueHost],
      });
      certIds.push(p.id);
      caMeta.set(p.id, {
        event: 'issued',
        requester: helpdesk ? helpdesk.name : SCEP_CONNECTOR,
        template: helpdesk ? TEMPLATES.helpdesk : TEMPLATES.device,
        user: victim.name,
        device: rogueId,
        scenario: id,
      });
      const ip = attackerIp(r, subnets[i % subnets.length]);
      ips.push(ip);
      const where = { ip, geo: victim.home };
      ev(id, ts + r.int(1, 4) * MINUTE, victim.name, rogueId, where, pickService(r), SIM_TLS_CLIENTS.curl, p.id);
      if (r.chance(0.5))
        ev(id, ts + r.int(5, 9) * MINUTE, victim.name, rogueId, where, pickService(r), SIM_TLS_CLIENTS.curl, p.id);
      ts += r.int(5, 12) * MINUTE;
    }
    labels.push({
      id,
      kind: 'attack',
      type: 'rogue-issuance',
      users: helpdesk ? [victim.name, helpdesk.name] : [victim.name],
      devices: [rogueId],
      certIds,
      sourceIps: [...new Set(ips)],
      expectedRules: ['issuance-without-enrollment', 'cert-churn'],
      description:
        `${count} certificates for ${victim.name} are issued within ${Math.round((ts - at) / MINUTE)} min to ${rogueId} (${rogueHost}), a device the MDM never enrolled, ` +
        `${helpdesk ? `by the compromised helpdesk account ${helpdesk.name} (template ${TEMPLATES.helpdesk})` : `through the SCEP connector with a stolen enrollment challenge`}, ` +
        `and presented with curl from 198.19.${subnets[0]}–${subnets[1]}.0/24`,
    });
  }

  if (attacks.has('esc1-request')) {
    const id = nextId('attack');
    const r = rng.fork(id);
    const requester = take('esc1-request', (u) => u.department !== 'IT');
    const admin = tryTake((u) => u.role === 'it-admin') ?? take('esc1-request (admin)');
    const device = laptop(requester);
    const at = localTime(r, requester, firstDay, days - 1, 10, 16);
    // AD CS ESC1: a template that lets the enrollee supply the SAN. The subject stays the
    // requester's; the UPN SAN names the admin, and certificate mapping logs the holder in as the admin.
    const p = plan({
      id: `cert:${id}`,
      authority: 'issuing',
      subject: userSubject(requester.name, requester.department),
      notBefore: new Date(at).toISOString(),
      notAfter: new Date(at + 365 * DAY).toISOString(),
      upn: [admin.email],
    });
    caMeta.set(p.id, {
      event: 'issued',
      requester: requester.name,
      template: TEMPLATES.enrolleeSuppliesSubject,
      user: admin.name,
      device: null,
      requestedSan: [`upn:${admin.email}`],
      scenario: id,
    });
    const where = locate(requester, device, false, r);
    const n = r.int(2, 4);
    let ts = at + r.int(3, 20) * MINUTE;
    for (let i = 0; i < n; i++) {
      ev(id, ts, admin.name, device.id, where, pickService(r), clientOf(device), p.id);
      ts += r.int(5, 30) * MINUTE;
    }
    labels.push({
      id,
      kind: 'attack',
      type: 'esc1-request',
      users: [requester.name, admin.name],
      devices: [device.id],
      certIds: [p.id],
      sourceIps: [],
      expectedRules: ['requester-subject-mismatch'],
      description: `${requester.name} requests a certificate from the ${TEMPLATES.enrolleeSuppliesSubject} template (enrollee supplies the subject) with the UPN SAN of ${admin.role} ${admin.name} (AD CS ESC1), then uses it ${n} times from ${requester.name}'s laptop (${device.id}) to sign in as ${admin.name}`,
    });
  }

  // ---- benign behaviour ------------------------------------------------------------------------
  if (benign.has('automation-rotation')) {
    for (const d of estate.devices) {
      if (d.certMode !== 'rotating') continue;
      const id = nextId('benign');
      const certIds = new Set<string>();
      for (const e of events) {
        if (e.device !== d.id) continue;
        if (e.certId) certIds.add(e.certId);
        e.scenario ??= id;
      }
      labels.push({
        id,
        kind: 'benign',
        type: 'automation-rotation',
        users: [d.owner],
        devices: [d.id],
        certIds: [...certIds],
        sourceIps: [],
        expectedRules: [],
        description: `${d.owner} on ${d.hostname} rotates a 26 h certificate from the Workload Automation CA every day at 00:05 UTC`,
        start,
        end: end - 1,
      });
    }
  }

  if (benign.has('device-reenrollment')) {
    const id = nextId('benign');
    const r = rng.fork(id);
    const user = take('device-reenrollment');
    const old = laptop(user);
    const at = localTime(r, user, firstDay, days - 1, 9, 11);
    const macOs = r.chance(0.5);
    const fresh: FleetDevice = {
      id: `dev-${r.hex(4)}`,
      owner: user.name,
      kind: 'laptop',
      hostname: `lt-${r.int(7000, 7999)}.corp.example.com`,
      os: macOs ? 'macOS 15.3' : 'Windows 11 24H2',
      enrolledAt: new Date(Math.floor((at - 30 * MINUTE) / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      tls: macOs ? 'safari' : 'chrome',
      certMode: 'long-lived',
      internalIp: null,
    };
    estate.devices.push(fresh);
    const p = plan({
      id: deviceCertId(fresh),
      authority: 'issuing',
      subject: userSubject(user.name, user.department),
      notBefore: fresh.enrolledAt.replace('Z', '.000Z'),
      notAfter: new Date(Date.parse(fresh.enrolledAt) + 730 * DAY).toISOString(),
      email: [user.email],
      dns: [fresh.hostname],
    });
    events = events.filter((e) => !(e.device === old.id && e.ts >= at));
    // IT retires the old laptop from the MDM a day or two later.
    const retired = at + r.int(20, 60) * HOUR;
    if (retired < end)
      mdmExtra.push({
        ts: retired,
        device: old.id,
        action: 'unenrolled',
        user: user.name,
        ...mdmOf(old),
        serial: hardwareSerial(old),
      });
    for (const e of baselineEvents({ seed: `${seed}/${id}`, users: [user], devices: [fresh] }, (d) => deviceCertId(d), {
      window,
    })) {
      if (e.ts >= at) added.push({ ...e, scenario: id });
    }
    labels.push({
      id,
      kind: 'benign',
      type: 'device-reenrollment',
      users: [user.name],
      devices: [old.id, fresh.id],
      certIds: [p.id],
      sourceIps: [],
      expectedRules: [],
      description: `${user.name} replaces laptop ${old.id} with a newly enrolled ${fresh.os} laptop ${fresh.id} (in assets.csv, new certificate from the Device Issuing CA)`,
      start: at,
    });
  }

  if (benign.has('travel')) {
    const id = nextId('benign');
    const r = rng.fork(id);
    const user = take('travel');
    const dest = r.pick([...OFFICES.map((o) => o.city), ...CITIES].filter((c) => c.country !== user.home.country));
    const office = OFFICES.find((o) => o.city === dest) ?? null;
    const flight = Math.round((distanceKm(user.home, dest) / 800 + 2) * HOUR);
    const depart = localTime(r, user, 0, Math.max(0, days - 2), 6, 9);
    const arrive = depart + flight;
    const back = Math.min(arrive + r.int(2, 4) * DAY, end);
    const hotel = `198.19.${r.int(200, 219)}`;
    for (const e of events) {
      if (e.user !== user.name || e.ts < depart) continue;
      if (e.ts < arrive || (e.ts >= back && e.ts < back + flight)) {
        e.ts = -1; // in the air: no sign-ins
        continue;
      }
      if (e.ts >= back) continue;
      const device = e.device ? deviceById.get(e.device) : undefined;
      const localHour = ((((e.ts + dest.utcOffsetHours * HOUR) % DAY) + DAY) % DAY) / HOUR;
      e.sourceIp =
        office && device?.kind === 'laptop' && localHour < 17
          ? `${office.subnet}.${r.int(10, 250)}`
          : `${hotel}.${r.int(2, 254)}`;
      e.geo = dest;
      e.scenario = id;
    }
    events = events.filter((e) => e.ts >= 0);
    labels.push({
      id,
      kind: 'benign',
      type: 'travel',
      users: [user.name],
      devices: estate.devices.filter((d) => d.owner === user.name).map((d) => d.id),
      certIds: [],
      sourceIps: [],
      expectedRules: [],
      description: `${user.name} flies from ${user.home.city} to ${dest.city} (${Math.round(distanceKm(user.home, dest))} km, ${Math.round(flight / HOUR)} h door to door) and works from ${office ? 'the office and ' : ''}a hotel for ${Math.round((back - arrive) / DAY)} days`,
      start: depart,
      end: Math.min(back + flight, end - 1),
    });
  }

  if (benign.has('fleet-browser-update') && updatedClass) {
    const id = nextId('benign');
    const r = rng.fork(id);
    const next = updatedClient(updatedClass) as TlsClientClass;
    const dayIndex = days > 2 ? r.int(1, days - 2) : 0;
    const at = start + dayIndex * DAY + r.int(6, 12) * HOUR;
    const switchAt = new Map<string, number>();
    for (const d of estate.devices)
      if (d.tls === updatedClass && !clientOverride.has(d.id)) switchAt.set(d.id, at + r.int(0, 180) * MINUTE);
    const touched = new Set<string>();
    for (const list of [events, added]) {
      for (const e of list) {
        const s = e.device ? switchAt.get(e.device) : undefined;
        if (s === undefined || e.ts < s || e.tls.id !== updatedClass) continue;
        e.tls = next;
        touched.add(e.device as string);
        e.scenario ??= id;
      }
    }
    const devs = [...touched].sort();
    labels.push({
      id,
      kind: 'benign',
      type: 'fleet-browser-update',
      users: [...new Set(devs.map((d) => deviceById.get(d)?.owner ?? estate.devices.find((x) => x.id === d)?.owner ?? ''))]
        .filter(Boolean)
        .sort(),
      devices: devs,
      certIds: [],
      sourceIps: [],
      expectedRules: [],
      description: `Chrome updates on ${devs.length} devices within 3 h of ${new Date(at).toISOString()}: the ALPS extension code point changes, so every Chrome device's JA4 changes from ${TLS_CLIENTS.chrome.ja4} to ${next.ja4}`,
      start: at,
    });
  }

  if (newHire) {
    const id = nextId('benign');
    const hire = newHire;
    for (const e of events) if (e.user === hire.user.name) e.scenario ??= id;
    const devs = estate.devices.filter((d) => d.owner === hire.user.name);
    labels.push({
      id,
      kind: 'benign',
      type: 'new-hire',
      users: [hire.user.name],
      devices: devs.map((d) => d.id),
      certIds: devs.map((d) => deviceCertId(d)),
      sourceIps: [],
      expectedRules: [],
      description: `${hire.user.name} (${hire.user.role}, ${hire.user.department}) starts on ${new Date(hire.at).toISOString().slice(0, 10)}: ${devs.length} device(s) enrolled that morning, in assets.csv and identities.csv`,
      start: hire.at,
    });
  }

  if (benign.has('late-work')) {
    const r = rng.fork('late-work');
    const count = Math.min(3, Math.max(1, Math.round(humans / 60)));
    for (let k = 0; k < count; k++) {
      const id = nextId('benign');
      const user = take('late-work');
      const device = laptop(user);
      const at = localTime(r, user, 0, days - 1, 20.5, 21.5);
      const n = r.int(3, 6);
      let ts = at;
      for (let i = 0; i < n; i++) {
        ev(
          id,
          ts,
          user.name,
          device.id,
          { ip: user.homeIp, geo: user.home },
          pickService(r),
          clientOf(device),
          devicePlans.certIdFor(device, ts),
        );
        ts += r.int(10, 35) * MINUTE;
      }
      labels.push({
        id,
        kind: 'benign',
        type: 'late-work',
        users: [user.name],
        devices: [device.id],
        certIds: [],
        sourceIps: [],
        expectedRules: [],
        description: `${user.name} works late from home: ${n} sign-ins between ${new Date(at).toISOString().slice(11, 16)} and ${new Date(ts).toISOString().slice(11, 16)} UTC (evening in ${user.home.city})`,
      });
    }
  }

  if (benign.has('backup-window')) {
    const id = nextId('benign');
    const r = rng.fork(id);
    // The nightly backup/sync job: every night the same account uploads gigabytes in a burst of
    // requests. Its baseline contains the volume from the first night, which is what a volume rule
    // must tolerate.
    const services = estate.users.filter((u) => u.kind === 'service');
    const svc = services.find((u) => u.name === 'svc-backup') ?? services.find((u) => u.name !== 'svc-reporting') ?? services[0];
    const server = estate.devices.find((d) => d.owner === svc.name) as FleetDevice;
    const target = { name: 'backup-api', domain: 'backup.internal.example.com' };
    let total = 0;
    let sessions = 0;
    for (let day = 0; day < days; day++) {
      let ts = start + day * DAY + HOUR + r.int(0, 20) * MINUTE;
      const n = r.int(10, 14);
      for (let i = 0; i < n; i++) {
        ev(
          id,
          ts,
          svc.name,
          server.id,
          { ip: server.internalIp ?? svc.homeIp, geo: null },
          target,
          clientOf(server),
          devicePlans.certIdFor(server, ts),
        );
        const e = added[added.length - 1];
        e.bytesOut = Math.round(350_000_000 * Math.exp(0.2 * (r.next() + r.next() + r.next() - 1.5) * 2));
        e.bytesIn = r.int(40_000, 80_000);
        total += e.bytesOut;
        sessions++;
        ts += r.int(4, 9) * MINUTE;
      }
    }
    labels.push({
      id,
      kind: 'benign',
      type: 'backup-window',
      users: [svc.name],
      devices: [server.id],
      certIds: [],
      sourceIps: [],
      expectedRules: [],
      description: `${svc.name} on ${server.hostname} runs its nightly backup to backup-api from about 01:00 UTC: ${sessions} uploads over ${days} nights, ${(total / 1e9 / days).toFixed(1)} GB a night on average, every night alike`,
      start,
      end: end - 1,
    });
  }

  const historicRng = createRng(`${seed}/crl-history`);
  const historicDetails = historicRng.fork('certificates');
  const historicRevocations = [200, 120, 45].map((daysBefore, i) => {
    const serial = randomSerial(historicRng);
    const revokedAt = start - daysBefore * DAY + historicRng.int(8, 17) * HOUR;
    // The revoked certificates belonged to people's former devices (lost, replaced), now gone from assets.csv.
    const owner = historicDetails.pick(humanUsers);
    const notBefore = Math.floor((revokedAt - historicDetails.int(60, 400) * DAY) / 1000) * 1000;
    const device: FleetDevice = {
      id: `dev-${historicDetails.hex(4)}`,
      owner: owner.name,
      kind: 'laptop',
      hostname: `lt-${historicDetails.int(3000, 3999)}.corp.example.com`,
      os: historicDetails.pick(['Windows 11 23H2', 'macOS 14.7']),
      enrolledAt: new Date(notBefore).toISOString(),
      tls: 'chrome',
      certMode: 'long-lived',
      internalIp: null,
    };
    const certId = `cert:historic:${i + 1}`;
    plans.push({
      id: certId,
      authority: 'issuing',
      subject: userSubject(owner.name, owner.department),
      serial,
      notBefore: new Date(notBefore).toISOString(),
      notAfter: new Date(notBefore + 730 * DAY).toISOString(),
      email: [owner.email],
      dns: [device.hostname],
    });
    historicDevices.push({ device, revokedAt, certId });
    return { serial, revokedAt, certId };
  });

  /**
   * The CA log and the MDM log of the whole estate: one issuance per certificate of the fleet's CAs
   * (device certificates through the SCEP connector, a few minutes after the device's MDM
   * enrollment; workload certificates renewed daily by the provisioner; scenario certificates as
   * their scenario says), revocations with the MDM wipe that preceded them, and the extra MDM rows
   * scenarios added.
   */
  const registryLogs = (): { caRecords: CaLogRecord[]; mdmRecords: MdmLogRecord[] } => {
    const logRng = rng.fork('registry-logs');
    const deviceByCert = new Map<string, FleetDevice>();
    for (const d of estate.devices) if (d.certMode === 'long-lived') deviceByCert.set(deviceCertId(d), d);
    for (const h of historicDevices) deviceByCert.set(h.certId, h.device);
    const rotating = new Map<string, FleetDevice>();
    for (const d of estate.devices)
      if (d.certMode === 'rotating') for (let day = -1; day < days; day++) rotating.set(rotatingCertId(d, day), d);
    const caRecords: CaLogRecord[] = [];
    const mdmRecords: MdmLogRecord[] = [];
    const mdmRow = (ts: number, d: FleetDevice, action: MdmLogRecord['action']): MdmLogRecord => ({
      ts,
      device: d.id,
      action,
      user: d.owner,
      ...mdmOf(d),
      serial: hardwareSerial(d),
    });
    for (const p of plans) {
      if (p.authority !== 'issuing' && p.authority !== 'automation') continue;
      const notBefore = Date.parse(p.notBefore);
      const meta = caMeta.get(p.id);
      if (meta) {
        caRecords.push({ ts: notBefore, certId: p.id, ca: p.authority, ...meta });
        continue;
      }
      const workload = rotating.get(p.id);
      if (workload) {
        caRecords.push(workloadRenewal(p.id, notBefore, workload.owner));
        continue;
      }
      // Servers are not MDM-managed. Their certificates are renewals by the provisioner (the
      // server had one before the export starts), which is what a renewal proves: the old key.
      if (p.id === gateway.id) {
        caRecords.push(serverRenewal(p.id, notBefore, null, TEMPLATES.web));
        continue;
      }
      const d = deviceByCert.get(p.id);
      if (!d) throw new Error(`certificate plan ${p.id} has no CA log entry`);
      if (d.kind === 'server') {
        caRecords.push(serverRenewal(p.id, notBefore, d.owner));
        continue;
      }
      mdmRecords.push(mdmRow(notBefore - logRng.int(2, 15) * MINUTE, d, 'enrolled'));
      caRecords.push(endpointIssuance(p.id, notBefore, d));
    }
    const revoked = [
      ...revocations.map((r) => ({ ...r, device: deviceByCert.get(r.certId) as FleetDevice })),
      ...historicDevices,
    ];
    for (const r of revoked) {
      // The device is reported lost or stolen: the MDM wipes it, then the connector revokes its certificate.
      mdmRecords.push(mdmRow(r.revokedAt - logRng.int(5, 30) * MINUTE, r.device, 'wiped'));
      caRecords.push({
        ts: r.revokedAt,
        event: 'revoked',
        certId: r.certId,
        ca: 'issuing',
        requester: SCEP_CONNECTOR,
        template: TEMPLATES.device,
        user: r.device.owner,
        device: r.device.id,
        reason: 'keyCompromise',
      });
    }
    mdmRecords.push(...mdmExtra);
    return { caRecords, mdmRecords };
  };

  const all = [...events, ...added].filter((e) => e.ts >= start && e.ts < end);
  for (const d of estate.devices) byteAssigner.addDevice(d);
  const sorted = sortEvents(all);
  byteAssigner.assign(sorted);
  const { caRecords, mdmRecords } = registryLogs();
  return {
    options,
    estate,
    plans,
    events: sorted,
    labels,
    revocations,
    historicRevocations,
    caRecords,
    mdmRecords,
    gatewayCertId: gateway.id,
    end,
  };
}
