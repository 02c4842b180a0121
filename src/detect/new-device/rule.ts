// new-device (issue 4): an account with a mature history authenticates from a device it was never
// seen on and that the asset registry does not register to it. A device registered to the
// account is a legitimate enrollment and stays quiet; an immature history (a new hire, a new
// deployment) stays quiet too. A weak signal on its own, meant to add up with others per entity.
import { Type } from 'typebox';
import type { Asset, NormalizedEvent } from '../../schema/event.ts';
import type { KeyedState, Rule, RuleContext, RuleInstance, Signal } from '../types.ts';

/** Config block `rules.new-device`. */
export interface Config {
  /** History maturity: at least this many device-bearing events for the account… */
  min_history_events: number;
  /** …spanning at least this many days between the first and the latest of them. */
  min_history_days: number;
  /** Devices remembered per account (least recently seen forgotten first). */
  max_devices_per_account: number;
  /** A device not seen for the account for this many days is forgotten (new again when it returns). */
  device_memory_days: number;
  /** Confidence when no asset registry is configured (the device cannot be checked); 0 = stay quiet. */
  no_registry_confidence: number;
  /** Confidence for a new device on an immature history (evidence `baseline: immature`); 0 = stay quiet. */
  immature_confidence: number;
}

export const configSchema = Type.Object(
  {
    min_history_events: Type.Integer({
      minimum: 1,
      default: 20,
      description: 'Device-bearing events of the account before a new device can fire.',
    }),
    min_history_days: Type.Number({
      minimum: 0,
      default: 5,
      description: 'Days between the first and the latest event of the account before a new device can fire.',
    }),
    max_devices_per_account: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 32,
      description: 'Devices kept per account (least recently seen evicted).',
    }),
    device_memory_days: Type.Number({
      minimum: 1,
      default: 90,
      description: 'Days after its last use that a device is forgotten for the account.',
    }),
    no_registry_confidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'Confidence when no asset registry is configured; 0 keeps the rule quiet then.',
    }),
    immature_confidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0,
      description: 'Confidence for a new device on an immature history; 0 keeps the rule quiet then.',
    }),
  },
  { additionalProperties: false },
);

export const defaults: Config = {
  min_history_events: 20,
  min_history_days: 5,
  max_devices_per_account: 32,
  device_memory_days: 90,
  no_registry_confidence: 0.5,
  immature_confidence: 0,
};

/** Per-account history (namespace `new-device/account`, keyed by account). Times are epoch ms. */
export interface AccountDevices {
  first: number;
  last: number;
  /** Device-bearing successful events (capped at EVENTS_CAP: only the threshold matters). */
  events: number;
  size: number;
  /** device id → last seen. */
  devices: Record<string, number>;
}

const DAY_MS = 86_400_000;
const EVENTS_CAP = 1_000_000_000;

/** Why the device counts as not the account's own. */
export type Registration = 'unregistered' | 'registered-to-other' | 'no-registry';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function days(ms: number): number {
  return Math.round((ms / DAY_MS) * 10) / 10;
}

/**
 * Whether an asset owner names this account: equal after trimming and lower-casing, or equal to
 * the local part of the other when exactly one of them is an e-mail address (`alice` ~
 * `alice@corp.example`).
 */
export function ownerIsAccount(owner: string, account: string): boolean {
  const o = owner.trim().toLowerCase();
  const a = account.trim().toLowerCase();
  if (o.length === 0 || a.length === 0) return false;
  if (o === a) return true;
  const oAt = o.indexOf('@');
  const aAt = a.indexOf('@');
  if (oAt > 0 && aAt < 0) return o.slice(0, oAt) === a;
  if (aAt > 0 && oAt < 0) return a.slice(0, aAt) === o;
  return false;
}

class NewDevice implements RuleInstance {
  private readonly config: Config;
  private readonly accounts: KeyedState<AccountDevices>;
  private readonly assetsConfigured: boolean;
  private readonly minSpanMs: number;
  private readonly memoryMs: number;

  constructor(config: Config, ctx: RuleContext) {
    this.config = config;
    this.accounts = ctx.state<AccountDevices>('account');
    this.assetsConfigured = ctx.facts.assetsConfigured;
    this.minSpanMs = config.min_history_days * DAY_MS;
    this.memoryMs = config.device_memory_days * DAY_MS;
  }

  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    if (event.outcome === 'failure') return;
    const user = event.user;
    const device = event.device;
    if (user === null || device === null) return;
    const ts = event.ts;
    const s = this.accounts.get(user);
    if (s === undefined) {
      this.accounts.set(user, { first: ts, last: ts, events: 1, size: 1, devices: { [device]: ts } });
      return;
    }
    const seen = s.devices[device];
    const priorLast = s.last;
    if (ts > s.last) s.last = ts;
    if (ts < s.first) s.first = ts;
    if (s.events < EVENTS_CAP) s.events += 1;
    // Known, and not forgotten by age: the common path is one lookup and two writes.
    if (seen !== undefined && ts - seen <= this.memoryMs) {
      if (ts > seen) s.devices[device] = ts;
      this.accounts.set(user, s);
      return;
    }
    if (seen !== undefined) {
      delete s.devices[device];
      s.size -= 1;
    }
    this.judge(s, priorLast, event, user, device, emit);
    this.learn(s, device, ts);
    this.accounts.set(user, s);
  }

  private judge(
    s: AccountDevices,
    priorLast: number,
    event: NormalizedEvent,
    user: string,
    device: string,
    emit: (signal: Signal) => void,
  ): void {
    const asset = event.enrichment.asset;
    let registration: Registration;
    if (!this.assetsConfigured) registration = 'no-registry';
    else if (asset === null) registration = 'unregistered';
    else if (asset.owner !== null && ownerIsAccount(asset.owner, user))
      return; // a legitimate enrollment
    else registration = 'registered-to-other';
    // History before this event (it has already been counted).
    const history = s.events - 1;
    const span = priorLast - s.first;
    const mature = history >= this.config.min_history_events && span >= this.minSpanMs;
    let confidence = 1;
    if (!mature) confidence = this.config.immature_confidence;
    if (registration === 'no-registry') confidence = Math.min(confidence, this.config.no_registry_confidence);
    if (confidence <= 0) return;
    const known = Object.entries(s.devices)
      .sort((x, y) => y[1] - x[1])
      .map(([id, lastSeen]) => ({ device: id, last_seen: iso(lastSeen) }));
    const cert = event.certificate;
    const where =
      registration === 'unregistered'
        ? 'not in the asset registry'
        : registration === 'registered-to-other'
          ? `registered to ${asset?.owner ?? 'nobody'}`
          : 'no asset registry configured';
    emit({
      rule: 'new-device',
      summary: `${user} authenticated from device ${device}, never seen for the account in ${history} events over ${days(span)} days (${known.length} known; ${where})${mature ? '' : ' — immature baseline'}`,
      dedup_key: `${user}:${device}`,
      event,
      ...(confidence < 1 ? { confidence } : {}),
      evidence: {
        account: user,
        device,
        registration,
        asset: asset === null ? null : assetEvidence(asset),
        ...(registration === 'no-registry'
          ? {
              registry_note: 'no asset registry configured: the device could not be checked against its owner (lower confidence)',
            }
          : {}),
        baseline: mature ? 'mature' : 'immature',
        baseline_events: history,
        baseline_first_seen: iso(s.first),
        baseline_last_seen: iso(priorLast),
        baseline_days: days(span),
        known_devices: known,
        source_ip: event.source_ip,
        geo: event.geo,
        certificate:
          cert === null
            ? null
            : {
                sha256: cert.sha256,
                spki_sha256: cert.spki_sha256,
                subject: cert.subject,
                issuer: cert.issuer,
                serial: cert.serial,
                not_after: cert.not_after,
              },
        thresholds: { min_history_events: this.config.min_history_events, min_history_days: this.config.min_history_days },
      },
    });
  }

  private learn(s: AccountDevices, device: string, ts: number): void {
    if (s.size >= this.config.max_devices_per_account) {
      // Forget devices past their memory first, else the least recently seen one.
      let oldest: string | null = null;
      let oldestTs = Number.POSITIVE_INFINITY;
      for (const k in s.devices) {
        const seen = s.devices[k];
        if (ts - seen > this.memoryMs) {
          delete s.devices[k];
          s.size -= 1;
        } else if (seen < oldestTs) {
          oldestTs = seen;
          oldest = k;
        }
      }
      if (s.size >= this.config.max_devices_per_account && oldest !== null) {
        delete s.devices[oldest];
        s.size -= 1;
      }
    }
    s.devices[device] = ts;
    s.size += 1;
  }
}

function assetEvidence(a: Asset): Record<string, unknown> {
  return { device_id: a.device_id, owner: a.owner, kind: a.kind, hostname: a.hostname, enrolled_at: a.enrolled_at };
}

/** The new-device rule. */
export const rule: Rule<Config> = {
  meta: {
    id: 'new-device',
    title: 'Account used from a new, unregistered device',
    description:
      'An account with a mature history authenticates from a device never seen for it that the asset registry does not register to it (no asset row, or another owner).',
    default_weight: 30,
    references: [
      'issue 4 (behavioural baselines: new-device)',
      'seed 000: new device + far geo + data spike escalates',
      'FIELD-NOTES: Entra ~5 days learning, Sentinel device look-back 30 days',
    ],
    false_positives: [
      'A device enrolled but not (yet) in the asset registry export, or registered under another spelling of the owner.',
      'Shared devices (kiosks, hot desks, lab machines) registered to one person or to nobody.',
      'Without an asset registry every new device (a replacement laptop too) is reported, at lower confidence.',
    ],
  },
  configSchema,
  defaults,
  create(config: Config, ctx: RuleContext): RuleInstance {
    return new NewDevice(config, ctx);
  },
};
