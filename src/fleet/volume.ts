// Bytes per session: what a gateway logs as ECS `source.bytes` (client → server: requests,
// uploads) and `destination.bytes` (server → client: responses, downloads). People's volumes are
// heavy-tailed (log-normal, wide σ: most requests are small pages, a few are clones and
// attachments), depend on the service, the role and the device, and follow the working day;
// workloads move steady volumes (narrow σ). A pure function of the seed, drawn from streams forked
// per device and day so that adding events elsewhere never changes a session's volume.

import type { GatewayEvent } from './ecs.ts';
import type { DeviceKind, FleetDevice, FleetUser } from './estate.ts';
import { createRng, type Rng } from './prng.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Median bytes and log-normal σ of one direction. */
export interface VolumeProfile {
  median: number;
  sigma: number;
}

/** A service's typical session: response, request, and an occasional upload. */
export interface ServiceVolume {
  in: VolumeProfile;
  out: VolumeProfile;
  /** Share of sessions that upload something (attachment, git push, file). */
  uploadShare: number;
  upload: VolumeProfile;
}

const v = (median: number, sigma: number): VolumeProfile => ({ median, sigma });
const NO_UPLOAD = { uploadShare: 0, upload: v(0, 0) };

/**
 * People's services. One gateway event stands for a sign-in session (a few per day), so the volumes
 * are a session's: pages, mailbox sync, documents; git fetches and mail attachments carry the tail.
 * A session sums many objects, so its log-normal σ is narrower than a single object's; most of the
 * spread between people comes from their own scale (see {@link personalScale}).
 */
export const HUMAN_SERVICE_VOLUME: Readonly<Record<string, ServiceVolume>> = {
  intranet: { in: v(2_500_000, 0.6), out: v(60_000, 0.5), ...NO_UPLOAD },
  mail: { in: v(3_000_000, 0.7), out: v(120_000, 0.6), uploadShare: 0.15, upload: v(2_000_000, 0.8) },
  wiki: { in: v(3_000_000, 0.6), out: v(80_000, 0.5), uploadShare: 0.05, upload: v(1_000_000, 0.7) },
  git: { in: v(8_000_000, 0.8), out: v(200_000, 0.7), uploadShare: 0.2, upload: v(1_500_000, 0.8) },
  'hr-portal': { in: v(1_500_000, 0.6), out: v(40_000, 0.5), ...NO_UPLOAD },
  'finance-erp': { in: v(4_000_000, 0.7), out: v(150_000, 0.6), uploadShare: 0.05, upload: v(1_500_000, 0.8) },
  crm: { in: v(3_500_000, 0.6), out: v(120_000, 0.5), uploadShare: 0.05, upload: v(1_200_000, 0.8) },
  'vpn-portal': { in: v(500_000, 0.5), out: v(30_000, 0.4), ...NO_UPLOAD },
};

/** Spread of people's own volume scale (log-normal σ): habits differ far more between people than between one person's days. */
export const PERSONAL_SCALE_SIGMA = 0.7;

/** A person's own volume multiplier (big repositories, heavy mailboxes), fixed per account and seed. */
export function personalScale(seed: string, user: string): number {
  return logNormal({ median: 1, sigma: PERSONAL_SCALE_SIGMA }, createRng(`${seed}/bytes-scale/${user}`));
}

/** Any other service a person touches (admin consoles, internal tools). */
const DEFAULT_HUMAN_VOLUME: ServiceVolume = { in: v(400_000, 0.8), out: v(20_000, 0.5), ...NO_UPLOAD };

/** Workload APIs: steady volumes per call (narrow σ). backup-api is a sync target, so it uploads. */
export const WORKLOAD_VOLUME: Readonly<Record<string, { in: VolumeProfile; out: VolumeProfile }>> = {
  'payments-api': { in: v(24_000, 0.12), out: v(6_000, 0.1) },
  'inventory-api': { in: v(150_000, 0.15), out: v(12_000, 0.1) },
  'reporting-api': { in: v(6_000_000, 0.2), out: v(20_000, 0.1) },
  'backup-api': { in: v(30_000, 0.1), out: v(8_000_000, 0.15) },
  'metrics-api': { in: v(4_000, 0.1), out: v(350_000, 0.12) },
};
const DEFAULT_WORKLOAD_VOLUME = { in: v(50_000, 0.15), out: v(8_000, 0.1) };

/** Download multiplier by role: engineers clone, designers move large files, finance pulls reports. */
const ROLE_IN: Readonly<Record<string, number>> = {
  'software-engineer': 1.5,
  sre: 1.5,
  designer: 1.8,
  accountant: 1.3,
  controller: 1.3,
};
/** Upload multiplier by role. */
const ROLE_UPLOAD: Readonly<Record<string, number>> = { designer: 2, 'marketing-manager': 1.5, 'software-engineer': 1.2 };
/** Phones fetch mobile views. */
const DEVICE_IN: Readonly<Record<DeviceKind, number>> = { laptop: 1, phone: 0.35, server: 1 };

/** A log-normal draw (Box–Muller: a real tail, unlike a sum of uniforms). */
export function logNormal(profile: VolumeProfile, rng: Rng): number {
  const u1 = 1 - rng.next();
  const u2 = rng.next();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return profile.median * Math.exp(profile.sigma * z);
}

/** Volume over the local working day: the morning sync is heavier, evenings lighter. */
export function diurnalFactor(localHour: number): number {
  const morning = 0.35 * Math.exp(-((localHour - 9) ** 2) / 2);
  const evening = localHour >= 19 || localHour < 6 ? -0.3 : 0;
  return 1 + morning + evening;
}

/** Bytes of one session: `out` = source.bytes (client → server), `in` = destination.bytes. */
export function sessionBytes(
  user: FleetUser | undefined,
  deviceKind: DeviceKind | null,
  service: string,
  ts: number,
  rng: Rng,
  scale = 1,
): { out: number; in: number } {
  // TLS records and HTTP headers: no session is smaller than a handshake plus one request.
  const floorOut = 600;
  const floorIn = 1_200;
  if (user?.kind === 'service' || deviceKind === 'server') {
    const p = WORKLOAD_VOLUME[service] ?? DEFAULT_WORKLOAD_VOLUME;
    return {
      out: Math.max(floorOut, Math.round(logNormal(p.out, rng))),
      in: Math.max(floorIn, Math.round(logNormal(p.in, rng))),
    };
  }
  const p = HUMAN_SERVICE_VOLUME[service] ?? DEFAULT_HUMAN_VOLUME;
  const offset = user?.home.utcOffsetHours ?? 0;
  const localHour = ((((ts + offset * HOUR_MS) % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  const d = diurnalFactor(localHour);
  const role = user?.role ?? '';
  const inBytes = logNormal(p.in, rng) * d * scale * (ROLE_IN[role] ?? 1) * DEVICE_IN[deviceKind ?? 'laptop'];
  let outBytes = logNormal(p.out, rng);
  if (p.uploadShare > 0 && rng.next() < p.uploadShare) outBytes += logNormal(p.upload, rng) * scale * (ROLE_UPLOAD[role] ?? 1);
  return { out: Math.max(floorOut, Math.round(outBytes)), in: Math.max(floorIn, Math.round(inBytes)) };
}

/**
 * Sets `bytesOut`/`bytesIn` on events that have none (scenarios set their own), drawing from a
 * stream per device (else user, else address) and UTC day. Streams persist across calls, so a
 * scenario's events added later continue the same device-day stream instead of repeating it.
 */
export class ByteAssigner {
  private readonly seed: string;
  private readonly users: Map<string, FleetUser>;
  private readonly devices: Map<string, FleetDevice>;
  private readonly streams = new Map<string, Rng>();
  private readonly scales = new Map<string, number>();

  constructor(estate: { seed: string; users: readonly FleetUser[]; devices: readonly FleetDevice[] }) {
    this.seed = estate.seed;
    this.users = new Map(estate.users.map((u) => [u.name, u]));
    this.devices = new Map(estate.devices.map((d) => [d.id, d]));
  }

  /** Registers a device added after construction (replacement laptops, scenario devices). */
  addDevice(device: FleetDevice): void {
    this.devices.set(device.id, device);
  }

  /** Assigns bytes to every event without them, in the given order. */
  assign(events: readonly GatewayEvent[]): void {
    for (const e of events) {
      if (e.bytesIn !== undefined && e.bytesOut !== undefined) continue;
      const key = `${e.device ?? e.user ?? e.sourceIp}/${Math.floor(e.ts / DAY_MS)}`;
      let rng = this.streams.get(key);
      if (!rng) {
        rng = createRng(`${this.seed}/bytes/${key}`);
        this.streams.set(key, rng);
      }
      const device = e.device ? this.devices.get(e.device) : undefined;
      const user = e.user ? this.users.get(e.user) : undefined;
      let scale = 1;
      if (user?.kind === 'human') {
        scale = this.scales.get(user.name) ?? personalScale(this.seed, user.name);
        this.scales.set(user.name, scale);
      }
      const b = sessionBytes(user, device?.kind ?? null, e.service, e.ts, rng, scale);
      e.bytesOut ??= b.out;
      e.bytesIn ??= b.in;
    }
  }
}

/** One-shot {@link ByteAssigner}: bytes for every event of an estate that has none. */
export function assignSessionBytes(
  events: readonly GatewayEvent[],
  estate: { seed: string; users: readonly FleetUser[]; devices: readonly FleetDevice[] },
): void {
  new ByteAssigner(estate).assign(events);
}

/** Total bytes (both directions) of an event. */
export function totalBytes(e: GatewayEvent): number {
  return (e.bytesIn ?? 0) + (e.bytesOut ?? 0);
}
