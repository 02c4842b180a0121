// Writes a large, realistic ECS NDJSON data set for the benchmark (default 1,000,000 events) plus
// the enrichment files analyze needs to run every rule: assets.csv, identities.csv,
// trust-anchors.pem, crl.pem, certsignal.yaml. Events are generated in time order and streamed to
// disk; certificates come from a fixed pool (one per device, daily rotation for workloads) so each
// certificate appears in many events, as in real telemetry.
// Usage: node_modules/.bin/node bench/generate.ts [--events N] [--entities N] [--out DIR] [--pem|--no-pem] [--seed S]
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { locate, pickHumanService, workloadService } from '../src/fleet/activity.ts';
import { TLS_CLIENTS } from '../src/fleet/catalog.ts';
import { EcsFormatter, type GatewayEvent } from '../src/fleet/ecs.ts';
import { assetsCsv, type FleetDevice, type FleetUser, generateEstate, identitiesCsv } from '../src/fleet/estate.ts';
import { dnToRfc4514 } from '../src/fleet/pki.ts';
import { AUTOMATION_DN, createFleetPki, issuePlans, planDeviceCertificates } from '../src/fleet/plan.ts';
import { createRng } from '../src/fleet/prng.ts';

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
  /** Seconds spent issuing certificates (real keys and signatures). */
  pkiSeconds: number;
  /** Seconds spent generating and writing the events. */
  eventSeconds: number;
  eventsPerSecond: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const BENCH_START = Date.parse('2026-03-02T00:00:00Z');

/** The directory name a data set with these parameters is written to. */
export function benchDataName(o: { events: number; entities: number; pem: boolean; seed: string }): string {
  return `ecs-${o.events}-${o.entities}-${o.pem ? 'pem' : 'nopem'}-${o.seed}`;
}

/** Generates the data set (see file header). */
export async function generateBenchData(o: BenchDataOptions): Promise<BenchDataResult> {
  const log = o.log ?? (() => {});
  const days = o.days ?? 14;
  const window = { start: BENCH_START, days };
  const services = Math.max(3, Math.round(o.entities * 0.02));
  const estate = generateEstate({ seed: o.seed, humans: o.entities - services, services, phoneShare: 0.3 });
  const devicePlans = planDeviceCertificates(estate, window);

  let t0 = performance.now();
  const pki = await createFleetPki(o.seed);
  const certs = await issuePlans(pki, devicePlans.plans);
  const pkiSeconds = (performance.now() - t0) / 1000;
  log(`issued ${certs.size} certificates in ${pkiSeconds.toFixed(1)} s`);

  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, 'assets.csv'), assetsCsv(estate.devices));
  writeFileSync(join(o.out, 'identities.csv'), identitiesCsv(estate.users));
  writeFileSync(
    join(o.out, 'trust-anchors.pem'),
    `${[pki.root, pki.issuing, pki.automation].map((c) => c.certificate.pem.trim()).join('\n')}\n`,
  );
  // Revoke a few device certificates at the start, so the revocation path is exercised on real hits.
  const revoked = devicePlans.plans.filter((p) => p.authority === 'issuing').slice(0, 5);
  const crl = await pki.issuing.crl(
    revoked.map((p) => ({ serial: p.serial, revokedAt: new Date(BENCH_START - DAY) })),
    new Date(BENCH_START - DAY),
    new Date('2036-01-01T00:00:00Z'),
  );
  writeFileSync(join(o.out, 'crl.pem'), crl.pem);
  writeFileSync(join(o.out, 'certsignal.yaml'), `automation_issuers:\n  - "${dnToRfc4514(AUTOMATION_DN)}"\n`);

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

  const rng = createRng(`${o.seed}/bench-stream`);
  const formatter = new EcsFormatter(certs, { includePem: o.pem });
  const eventsFile = join(o.out, 'events.ndjson');
  const fd = openSync(eventsFile, 'w');
  const span = days * DAY;
  const slot = span / o.events;
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
  t0 = performance.now();
  for (let i = 0; i < o.events; i++) {
    // Slot i of the window with jitter inside the slot: strictly time-ordered output.
    const ts = BENCH_START + Math.floor((i + rng.next()) * slot);
    const hourOfWeek = Math.floor((ts - BENCH_START) / HOUR) % (7 * 24);
    const active = activeByHour[hourOfWeek];
    const device = active[Math.floor(rng.next() * active.length)];
    const user = users.get(device.owner) as FleetUser;
    const where = locate(user, device, user.office !== null && rng.next() < user.officeDays, rng);
    const service = device.kind === 'server' ? workloadService(user) : pickHumanService(rng);
    event.ts = ts;
    event.outcome = rng.next() < 0.01 ? 'failure' : 'success';
    event.user = user.name;
    event.device = device.id;
    event.sourceIp = where.ip;
    event.geo = where.geo;
    event.service = service.name;
    event.domain = service.domain;
    event.tls = TLS_CLIENTS[device.tls];
    event.certId = devicePlans.certIdFor(device, ts);
    let next = formatter.formatInto(event, buffer, offset);
    if (next < 0) {
      flush();
      next = formatter.formatInto(event, buffer, offset);
    }
    offset = next;
    if ((i + 1) % 200_000 === 0) log(`  ${(i + 1).toLocaleString('en')} events`);
  }
  flush();
  closeSync(fd);
  const eventSeconds = (performance.now() - t0) / 1000;
  return {
    dir: o.out,
    eventsFile,
    events: o.events,
    bytes,
    certificates: certs.size,
    pkiSeconds,
    eventSeconds,
    eventsPerSecond: o.events / eventSeconds,
  };
}

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
  return { events, entities, pem, seed: values.seed, out, format: values.format };
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
