// Writes large, realistic ECS NDJSON data sets for the benchmark (default 1,000,000 events) plus
// the enrichment files analyze needs to run every rule: assets.csv, identities.csv,
// trust-anchors.pem, crl.pem, certsignal.yaml — and, for the SQL comparison, revoked.csv (the CRL
// as a table) and cases.json (the deliberately injected cases). Events are generated in time order
// and streamed to disk; certificates come from a fixed pool (one per device, daily rotation for
// workloads) so each certificate appears in many events, as in real telemetry. A few deterministic
// cases are injected on top: certificate churn, key reuse across accounts (same certificate, and
// same key in two different certificates), expired and revoked certificate use, and a new hire
// whose first four certificates all appear within an hour (a cold start, not an attack).
// Usage: node_modules/.bin/node bench/generate.ts [--events N] [--entities N] [--out DIR] [--pem|--no-pem] [--seed S]
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { locate, pickHumanService, workloadService } from '../src/fleet/activity.ts';
import { TLS_CLIENTS } from '../src/fleet/catalog.ts';
import { EcsFormatter, type GatewayEvent } from '../src/fleet/ecs.ts';
import { assetsCsv, type FleetDevice, type FleetUser, generateEstate, identitiesCsv } from '../src/fleet/estate.ts';
import { dnToRfc4514, type FleetCertificate } from '../src/fleet/pki.ts';
import {
  AUTOMATION_DN,
  type CertPlan,
  createFleetPki,
  type FleetPki,
  issuePlans,
  planDeviceCertificates,
  randomSerial,
  userSubject,
} from '../src/fleet/plan.ts';
import { createRng, type Rng } from '../src/fleet/prng.ts';

export interface BenchDataOptions {
  events: number;
  /** Accounts (people + service accounts); devices are ~1.3× this. */
  entities: number;
  /** Output directory for this data set. */
  out: string;
  pem: boolean;
  seed: string;
  /** Days the events span (default 14). */
  days?: number;
  log?: (line: string) => void;
}

export interface BenchDataResult {
  dir: string;
  eventsFile: string;
  events: number;
  bytes: number;
  certificates: number;
  /** Seconds spent issuing certificates (real keys and signatures); shared by the sets of one call. */
  pkiSeconds: number;
  /** Seconds spent generating and writing the events. */
  eventSeconds: number;
  eventsPerSecond: number;
}

/**
 * The injected cases, by the entity each of the three seed rules should name (certificate digests
 * are lowercase SHA-256 of the DER). Written to `cases.json` beside the events.
 */
export interface InjectedCases {
  /** Users whose laptop presents 4 new certificates within 24 minutes (after a baseline use of their own). */
  churnUsers: string[];
  /** A new hire whose first 4 certificates (4 new devices) appear within 30 minutes: a naive count fires, a first-certificate baseline does not. */
  coldStartUsers: string[];
  /** Certificates presented by a second account (the very same certificate). */
  reusedCertificates: string[];
  /** Distinct certificates for two accounts that share one key pair: visible only from the certificate itself (SPKI). */
  reusedKeyCertificates: string[];
  /** Certificates used after their notAfter. */
  expiredCertificates: string[];
  /** Certificates on the CRL, used after their revocation. */
  revokedCertificates: string[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MINUTE = 60_000;
export const BENCH_START = Date.parse('2026-03-02T00:00:00Z');
/** Bump when the generated content changes, so cached data sets in bench/data/ are not reused. */
export const DATA_VERSION = 2;

/** The directory name a data set with these parameters is written to. */
export function benchDataName(o: { events: number; entities: number; pem: boolean; seed: string }): string {
  return `ecs${DATA_VERSION}-${o.events}-${o.entities}-${o.pem ? 'pem' : 'nopem'}-${o.seed}`;
}

/** Generates one data set (see file header). */
export async function generateBenchData(o: BenchDataOptions): Promise<BenchDataResult> {
  const [r] = await generateBenchDataSets(o, [{ events: o.events, pem: o.pem, out: o.out }]);
  return r;
}

/**
 * Generates several data sets (sizes, with or without PEM) from ONE estate and PKI: issuing the
 * certificates is the slow part (real keys and signatures), so sets of one seed share it. Each
 * set is the same scenario; only the event count and the PEM differ.
 */
export async function generateBenchDataSets(
  base: { entities: number; seed: string; days?: number; log?: (line: string) => void },
  sets: readonly { events: number; pem: boolean; out: string }[],
): Promise<BenchDataResult[]> {
  const log = base.log ?? (() => {});
  const days = base.days ?? 14;
  const window = { start: BENCH_START, days };
  const services = Math.max(3, Math.round(base.entities * 0.02));
  const estate = generateEstate({ seed: base.seed, humans: base.entities - services, services, phoneShare: 0.3 });
  const devicePlans = planDeviceCertificates(estate, window);

  const t0 = performance.now();
  const pki = await createFleetPki(base.seed);
  const certs = await issuePlans(pki, devicePlans.plans);
  // Revoke a few device certificates at the start, so the revocation path is exercised on real hits.
  const revokedPlans = devicePlans.plans.filter((p) => p.authority === 'issuing').slice(0, 5);
  const injected = await planInjected(base.seed, estate, revokedPlans, pki, certs, window);
  const pkiSeconds = (performance.now() - t0) / 1000;
  log(`issued ${certs.size} certificates in ${pkiSeconds.toFixed(1)} s`);
  const crl = await pki.issuing.crl(
    revokedPlans.map((p) => ({ serial: p.serial, revokedAt: new Date(BENCH_START - DAY) })),
    new Date(BENCH_START - DAY),
    new Date('2036-01-01T00:00:00Z'),
  );
  const issuingDn = dnToRfc4514(pki.issuing.dn);
  const revokedCsv = `issuer,serial,revoked_at\n${revokedPlans
    .map((p) => `"${issuingDn}",${(certs.get(p.id) as FleetCertificate).serial},${new Date(BENCH_START - DAY).toISOString()}`)
    .join('\n')}\n`;

  const results: BenchDataResult[] = [];
  for (const set of sets) {
    mkdirSync(set.out, { recursive: true });
    writeFileSync(join(set.out, 'assets.csv'), assetsCsv([...estate.devices, ...injected.extraDevices]));
    writeFileSync(join(set.out, 'identities.csv'), identitiesCsv([...estate.users, ...injected.extraUsers]));
    writeFileSync(
      join(set.out, 'trust-anchors.pem'),
      `${[pki.root, pki.issuing, pki.automation].map((c) => c.certificate.pem.trim()).join('\n')}\n`,
    );
    writeFileSync(join(set.out, 'crl.pem'), crl.pem);
    writeFileSync(join(set.out, 'revoked.csv'), revokedCsv);
    writeFileSync(join(set.out, 'cases.json'), `${JSON.stringify(injected.cases, null, 2)}\n`);
    writeFileSync(join(set.out, 'certsignal.yaml'), `automation_issuers:\n  - "${dnToRfc4514(AUTOMATION_DN)}"\n`);
    const r = writeEvents(base.seed, estate, devicePlans, certs, injected.events, days, set, log);
    results.push({ ...r, certificates: certs.size, pkiSeconds });
  }
  return results;
}

/** Streams the events of one set to disk; injected events take the place of the regular event of a slot. */
function writeEvents(
  seed: string,
  estate: ReturnType<typeof generateEstate>,
  devicePlans: ReturnType<typeof planDeviceCertificates>,
  certs: ReadonlyMap<string, FleetCertificate>,
  injected: readonly GatewayEvent[],
  days: number,
  set: { events: number; pem: boolean; out: string },
  log: (line: string) => void,
): Omit<BenchDataResult, 'certificates' | 'pkiSeconds'> {
  // Who can be active in each hour of the week (UTC): laptops in their owner's working hours on
  // workdays, phones 07–22 local every day, servers always. Precomputed so each event is a lookup.
  const users = new Map(estate.users.map((u) => [u.name, u]));
  const activeByHour: FleetDevice[][] = [];
  for (let h = 0; h < 7 * 24; h++) {
    const at = BENCH_START + h * HOUR; // BENCH_START is a Monday
    const list: FleetDevice[] = [];
    for (const d of estate.devices) {
      const u = users.get(d.owner) as FleetUser;
      const local = new Date(at + u.home.utcOffsetHours * HOUR);
      const hour = local.getUTCHours();
      const workday = local.getUTCDay() >= 1 && local.getUTCDay() <= 5;
      if (d.kind === 'server')
        list.push(d, d); // workloads call more often than people sign in
      else if (d.kind === 'phone' && hour >= 7 && hour < 22) list.push(d);
      else if (d.kind === 'laptop' && hour >= 8 && hour < 19 && workday) list.push(d, d, d);
    }
    activeByHour.push(list.length > 0 ? list : estate.devices.filter((d) => d.kind === 'server'));
  }

  const rng = createRng(`${seed}/bench-stream`);
  const formatter = new EcsFormatter(certs, { includePem: set.pem });
  const eventsFile = join(set.out, 'events.ndjson');
  const fd = openSync(eventsFile, 'w');
  const span = days * DAY;
  const slot = span / set.events;
  const event: GatewayEvent = {
    ts: 0,
    outcome: 'success',
    user: null,
    device: null,
    sourceIp: '',
    geo: null,
    service: '',
    domain: '',
    tls: TLS_CLIENTS.chrome,
    certId: null,
  };
  const buffer = Buffer.allocUnsafe(8 << 20);
  let offset = 0;
  let bytes = 0;
  const flush = (): void => {
    writeSync(fd, buffer, 0, offset);
    bytes += offset;
    offset = 0;
  };
  let nextInjected = 0;
  const t0 = performance.now();
  for (let i = 0; i < set.events; i++) {
    // Slot i of the window with jitter inside the slot: strictly time-ordered output.
    const ts = BENCH_START + Math.floor((i + rng.next()) * slot);
    const hourOfWeek = Math.floor((ts - BENCH_START) / HOUR) % (7 * 24);
    const active = activeByHour[hourOfWeek];
    const device = active[Math.floor(rng.next() * active.length)];
    const user = users.get(device.owner) as FleetUser;
    const where = locate(user, device, user.office !== null && rng.next() < user.officeDays, rng);
    const service = device.kind === 'server' ? workloadService(user) : pickHumanService(rng);
    const failure = rng.next() < 0.01;
    let out: GatewayEvent = event;
    if (nextInjected < injected.length && injected[nextInjected].ts <= ts) {
      // An injected event due by now takes this slot (at the slot's time, so the order holds).
      // The regular draws above still happen, so the regular stream does not depend on injection.
      out = { ...injected[nextInjected++], ts };
    } else {
      event.ts = ts;
      event.outcome = failure ? 'failure' : 'success';
      event.user = user.name;
      event.device = device.id;
      event.sourceIp = where.ip;
      event.geo = where.geo;
      event.service = service.name;
      event.domain = service.domain;
      event.tls = TLS_CLIENTS[device.tls];
      event.certId = devicePlans.certIdFor(device, ts);
    }
    let next = formatter.formatInto(out, buffer, offset);
    if (next < 0) {
      flush();
      next = formatter.formatInto(out, buffer, offset);
    }
    offset = next;
    if ((i + 1) % 1_000_000 === 0) log(`  ${(i + 1).toLocaleString('en')} events`);
  }
  flush();
  closeSync(fd);
  if (nextInjected < injected.length)
    log(`  warning: ${injected.length - nextInjected} injected events did not fit (too few events)`);
  const eventSeconds = (performance.now() - t0) / 1000;
  return { dir: set.out, eventsFile, events: set.events, bytes, eventSeconds, eventsPerSecond: set.events / eventSeconds };
}

interface InjectedPlan {
  events: GatewayEvent[];
  cases: InjectedCases;
  extraDevices: FleetDevice[];
  extraUsers: FleetUser[];
}

/**
 * Plans and issues the injected cases. Victims are people with a laptop whose certificates are not
 * on the CRL, picked by the seed; times are fixed fractions of the window so small test files hold
 * them too. With fewer such people than roles (tiny estates), roles wrap around.
 */
async function planInjected(
  seed: string,
  estate: ReturnType<typeof generateEstate>,
  revokedPlans: readonly CertPlan[],
  pki: FleetPki,
  certs: Map<string, FleetCertificate>,
  window: { start: number; days: number },
): Promise<InjectedPlan> {
  const rng = createRng(`${seed}/bench-cases`);
  const span = window.days * DAY;
  const at = (fraction: number): number => window.start + Math.floor(span * fraction);
  const revokedDevices = new Set(revokedPlans.map((p) => p.id.replace(/^cert:/, '')));
  const laptops = new Map<string, FleetDevice>();
  for (const d of estate.devices) if (d.kind === 'laptop' && !laptops.has(d.owner)) laptops.set(d.owner, d);
  const revokedOwners = new Set(estate.devices.filter((d) => revokedDevices.has(d.id)).map((d) => d.owner));
  const pool = estate.users.filter((u) => u.kind === 'human' && laptops.has(u.name) && !revokedOwners.has(u.name));
  shuffle(pool, rng);
  if (pool.length === 0) throw new Error('bench data: the estate has no person with a laptop to inject cases for');
  let nextVictim = 0;
  const victim = (): FleetUser => pool[nextVictim++ % pool.length];

  const plans: CertPlan[] = [];
  const events: GatewayEvent[] = [];
  const plan = (id: string, user: FleetUser, o: { notBefore?: number; notAfter?: number; keyGroup?: string } = {}): string => {
    const nb = o.notBefore ?? window.start - 30 * DAY;
    plans.push({
      id,
      authority: 'issuing',
      subject: userSubject(user.name, user.department),
      serial: randomSerial(rng),
      notBefore: new Date(nb).toISOString(),
      notAfter: new Date(o.notAfter ?? nb + 365 * DAY).toISOString(),
      email: [user.email],
      keyGroup: o.keyGroup,
    });
    return id;
  };
  const use = (ts: number, user: FleetUser, device: FleetDevice | string, certId: string, ip: string): void => {
    const d = typeof device === 'string' ? null : device;
    events.push({
      ts,
      outcome: 'success',
      user: user.name,
      device: typeof device === 'string' ? device : device.id,
      sourceIp: ip,
      geo: user.home,
      service: 'vpn-gateway',
      domain: 'vpn.corp.example.com',
      tls: TLS_CLIENTS[d?.tls ?? 'chrome'],
      certId,
    });
  };
  const ownCert = (u: FleetUser): string => `cert:${(laptops.get(u.name) as FleetDevice).id}`;
  const laptop = (u: FleetUser): FleetDevice => laptops.get(u.name) as FleetDevice;

  const churnUsers: FleetUser[] = [];
  for (let j = 0; j < 3; j++) {
    // The seed's case study: the laptop presents new certificates from different subnets within an hour.
    const u = victim();
    churnUsers.push(u);
    const t = at(0.2 + 0.25 * j);
    use(t - 30 * MINUTE, u, laptop(u), ownCert(u), u.homeIp);
    for (let m = 0; m < 4; m++)
      use(
        t + m * 8 * MINUTE,
        u,
        laptop(u),
        plan(`inj:churn:${j}:${m}`, u),
        `${[203, 198, 192, 100][m]}.${[0, 51, 0, 64][m]}.${113 + m}.${10 + j}`,
      );
  }

  // A new hire enrolling four devices within half an hour (the asset registry knows them).
  const template = pool[0];
  const hire: FleetUser = {
    ...template,
    name: `newhire-${
      seed
        .replace(/[^a-z0-9]/gi, '')
        .slice(0, 8)
        .toLowerCase() || 'x'
    }`,
    email: `newhire@example.com`,
    activity: 1,
  };
  const extraDevices: FleetDevice[] = [];
  for (let m = 0; m < 4; m++) {
    const kind = m === 1 ? 'phone' : 'laptop';
    const d: FleetDevice = {
      ...laptop(template),
      id: `${hire.name}-dev${m}`,
      owner: hire.name,
      kind,
      hostname: `${hire.name}-dev${m}.corp.example.com`,
      enrolledAt: new Date(at(0.35) - HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    extraDevices.push(d);
    use(at(0.35) + m * 10 * MINUTE, hire, d, plan(`inj:hire:${m}`, hire, { notBefore: at(0.35) - HOUR }), `10.1.${m}.20`);
  }

  // Key reuse, same certificate: A's own certificate presented by B from B's laptop.
  const reusedCertIds: string[] = [];
  for (let j = 0; j < 2; j++) {
    const a = victim();
    const b = victim();
    const t = at(0.3 + 0.3 * j);
    use(t - 20 * MINUTE, a, laptop(a), ownCert(a), a.homeIp);
    for (let m = 0; m < 3; m++) use(t + m * 5 * MINUTE, b, laptop(b), ownCert(a), b.homeIp);
    reusedCertIds.push(ownCert(a));
  }

  // Key reuse, same key in two different certificates (different subjects, serials, digests).
  const c = victim();
  const d = victim();
  const y1 = plan('inj:key:0', c, { keyGroup: 'inj:shared-key' });
  const y2 = plan('inj:key:1', d, { keyGroup: 'inj:shared-key' });
  for (let m = 0; m < 3; m++) {
    use(at(0.45) + m * 10 * MINUTE, c, laptop(c), y1, c.homeIp);
    use(at(0.45) + (30 + m * 10) * MINUTE, d, laptop(d), y2, d.homeIp);
  }

  // Expired certificates still accepted by the gateway (20 days and 400 days after notAfter).
  const expiredIds: string[] = [];
  for (let j = 0; j < 2; j++) {
    const u = victim();
    const notAfter = window.start - (j === 0 ? 20 : 400) * DAY;
    const id = plan(`inj:expired:${j}`, u, { notBefore: notAfter - 365 * DAY, notAfter });
    expiredIds.push(id);
    for (let m = 0; m < 3; m++) use(at(0.5 + 0.1 * j) + m * 15 * MINUTE, u, laptop(u), id, u.homeIp);
  }

  // Each revoked certificate used at least once, early (the regular stream uses them too).
  const usersByName = new Map(estate.users.map((u) => [u.name, u]));
  const devicesById = new Map(estate.devices.map((dv) => [dv.id, dv]));
  revokedPlans.forEach((p, j) => {
    const dv = devicesById.get(p.id.replace(/^cert:/, '')) as FleetDevice;
    const owner = usersByName.get(dv.owner) as FleetUser;
    use(at(0.1 + 0.02 * j), owner, dv, p.id, owner.homeIp);
  });

  for (const [id, cert] of await issuePlans(pki, plans)) certs.set(id, cert);
  events.sort((x, y) => x.ts - y.ts);
  const sha = (id: string): string => (certs.get(id) as FleetCertificate).sha256;
  return {
    events,
    extraDevices,
    extraUsers: [hire],
    cases: {
      churnUsers: unique(churnUsers.map((u) => u.name)),
      coldStartUsers: [hire.name],
      reusedCertificates: unique(reusedCertIds.map(sha)),
      reusedKeyCertificates: [sha(y1), sha(y2)],
      expiredCertificates: expiredIds.map(sha),
      revokedCertificates: revokedPlans.map((p) => sha(p.id)),
    },
  };
}

function shuffle<T>(items: T[], rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}

const unique = (xs: string[]): string[] => [...new Set(xs)];

/** Parses the shared flags; `--quick` means 100,000 events. */
export function benchFlags(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string' },
      entities: { type: 'string', default: '2000' },
      out: { type: 'string' },
      pem: { type: 'boolean', default: true },
      'no-pem': { type: 'boolean', default: false },
      seed: { type: 'string', default: 'bench-2026' },
      quick: { type: 'boolean', default: false },
      format: { type: 'string' },
    },
    strict: true,
  });
  const events = values.events ? Number(values.events.replace(/_/g, '')) : values.quick ? 100_000 : 1_000_000;
  const entities = Number(values.entities);
  if (!Number.isInteger(events) || events <= 0) throw new Error(`--events must be a positive integer, got ${values.events}`);
  if (!Number.isInteger(entities) || entities < 10) throw new Error(`--entities must be an integer ≥ 10, got ${values.entities}`);
  const pem = values.pem && !values['no-pem'];
  const dataRoot = new URL('./data/', import.meta.url).pathname;
  const out = values.out ?? join(dataRoot, benchDataName({ events, entities, pem, seed: values.seed }));
  return { events, entities, pem, seed: values.seed, out, format: values.format, quick: values.quick };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const flags = benchFlags(process.argv.slice(2));
    const r = await generateBenchData({ ...flags, log: (l) => console.error(l) });
    console.log(
      `${r.events.toLocaleString('en')} events (${(r.bytes / 1e6).toFixed(0)} MB, ${r.certificates} certificates) → ${r.eventsFile}\n` +
        `generation: ${Math.round(r.eventsPerSecond).toLocaleString('en')} events/s (${r.eventSeconds.toFixed(2)} s; PKI ${r.pkiSeconds.toFixed(1)} s)`,
    );
  } catch (err) {
    console.error(`bench/generate: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
