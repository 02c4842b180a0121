// new-resource (issue 4): an account with a mature history accesses a service (`event.service`) it
// never used and that few accounts of its peer group (its role from the identity store, else the
// whole population) ever used. A single one is a weak signal; several within a short window (a
// "sweep": reconnaissance, lateral movement, data hunting) is a stronger variant.
import { Type } from 'typebox';
import type { NormalizedEvent } from '../../schema/event.ts';
import { certificateEvidence } from '../shared/certificate.ts';
import type { KeyedState, Rule, RuleContext, RuleInstance, Signal } from '../types.ts';

/** Config block `rules.new-resource`. */
export interface Config {
  /** Fire when fewer than this fraction of the peer group's accounts used the service. */
  max_peer_fraction: number;
  /** Accounts a peer group (role) needs to be judged; smaller roles fall back to the whole population. */
  min_peer_group_accounts: number;
  /** Account maturity: at least this many service-bearing successful events… */
  min_history_events: number;
  /** …spanning at least this many days between the first and the latest of them. */
  min_history_days: number;
  /** New rare services within `sweep_window_minutes` that make a sweep. */
  sweep_min_services: number;
  /** Window of a sweep. */
  sweep_window_minutes: number;
  /** Services remembered per account (least recently used forgotten first). */
  max_services_per_account: number;
  /** Hours a peer group must have been observed before its rarity counts (younger roles use the population). */
  min_peer_history_hours: number;
  /** Confidence of a sweep on an immature account history (evidence `baseline: immature`); 0 = stay quiet. */
  immature_sweep_confidence: number;
}

export const configSchema = Type.Object(
  {
    max_peer_fraction: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.05,
      description: "Fire when fewer than this fraction of the peer group's accounts used the service.",
    }),
    min_peer_group_accounts: Type.Integer({
      minimum: 1,
      default: 20,
      description:
        'Accounts a role needs to be the peer group; smaller roles use the whole population, a smaller population stays quiet.',
    }),
    min_history_events: Type.Integer({
      minimum: 1,
      default: 20,
      description: 'Service-bearing events of the account before a new service can fire.',
    }),
    min_history_days: Type.Number({
      minimum: 0,
      default: 3,
      description: 'Days between the first and the latest event of the account before a new service can fire.',
    }),
    sweep_min_services: Type.Integer({
      minimum: 2,
      default: 3,
      description: 'New rare services within the sweep window that make a sweep.',
    }),
    sweep_window_minutes: Type.Number({ exclusiveMinimum: 0, default: 60, description: 'Window of a sweep, in minutes.' }),
    max_services_per_account: Type.Integer({
      minimum: 1,
      maximum: 4096,
      default: 256,
      description: 'Services kept per account (least recently used evicted).',
    }),
    min_peer_history_hours: Type.Number({
      minimum: 0,
      default: 24,
      description: 'Hours a peer group must have been observed before service rarity in it counts.',
    }),
    immature_sweep_confidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description:
        'Confidence of a sweep on an immature account history; 0 keeps sweeps of immature accounts quiet (singles always are).',
    }),
  },
  { additionalProperties: false },
);

export const defaults: Config = {
  max_peer_fraction: 0.05,
  min_peer_group_accounts: 20,
  min_history_events: 20,
  min_history_days: 3,
  sweep_min_services: 3,
  sweep_window_minutes: 60,
  max_services_per_account: 256,
  min_peer_history_hours: 24,
  immature_sweep_confidence: 0.5,
};

/** Per-account history (namespace `new-resource/account`, keyed by account). Times are epoch ms. */
export interface AccountServices {
  first: number;
  last: number;
  /** Service-bearing successful events (capped at 10⁹). */
  events: number;
  /** Role the account is counted under in peer groups (first role seen); null = population only. */
  role: string | null;
  size: number;
  /** service → last used. */
  services: Record<string, number>;
  /** Times of recent new rare services (within the sweep window; at most 64). */
  recent: number[];
  /** Time of the last service of the current sweep, or -1: new services within the window of it extend it. */
  sweep_last: number;
}

/** Peer counts (namespace `new-resource/peer`, keyed `<group>\u0000<service>`; group = role or `*`). */
export interface PeerCount {
  accounts: number;
}

/** Peer group sizes (namespace `new-resource/group`, keyed by role or `*` for the whole population). */
export interface GroupSize {
  accounts: number;
  /** Time the group's first account was counted (epoch ms): the age of its baseline. */
  first: number;
}

/** Group key of the whole population. */
export const POPULATION = '*';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const EVENTS_CAP = 1_000_000_000;
const RECENT_CAP = 64;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function days(ms: number): number {
  return Math.round((ms / DAY_MS) * 10) / 10;
}

class NewResource implements RuleInstance {
  private readonly config: Config;
  private readonly accounts: KeyedState<AccountServices>;
  private readonly peers: KeyedState<PeerCount>;
  private readonly groups: KeyedState<GroupSize>;
  private readonly minSpanMs: number;
  private readonly windowMs: number;
  private readonly peerAgeMs: number;

  constructor(config: Config, ctx: RuleContext) {
    this.config = config;
    this.accounts = ctx.state<AccountServices>('account');
    this.peers = ctx.state<PeerCount>('peer');
    this.groups = ctx.state<GroupSize>('group');
    this.minSpanMs = config.min_history_days * DAY_MS;
    this.windowMs = config.sweep_window_minutes * MINUTE_MS;
    this.peerAgeMs = config.min_peer_history_hours * 3_600_000;
  }

  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    if (event.outcome === 'failure') return;
    const user = event.user;
    const service = event.service;
    if (user === null || service === null || service === '') return;
    const ts = event.ts;
    const role = event.enrichment.identity?.role ?? null;
    let s = this.accounts.get(user);
    if (s === undefined) {
      s = { first: ts, last: ts, events: 0, role: null, size: 0, services: {}, recent: [], sweep_last: -1 };
      this.join(POPULATION, ts);
    }
    if (s.role === null && role !== null && role !== '') this.joinRole(s, role, ts);
    const seen = s.services[service];
    if (seen !== undefined) {
      if (ts > seen) s.services[service] = ts;
    } else {
      this.judge(s, event, user, service, emit);
      this.learn(s, service, ts);
    }
    if (ts < s.first) s.first = ts;
    if (ts > s.last) s.last = ts;
    if (s.events < EVENTS_CAP) s.events += 1;
    this.accounts.set(user, s);
  }

  private bump(key: string): void {
    const v = this.peers.get(key);
    if (v === undefined) this.peers.set(key, { accounts: 1 });
    else {
      v.accounts += 1;
      this.peers.set(key, v);
    }
  }

  private join(group: string, ts: number): void {
    const g = this.groups.get(group);
    if (g === undefined) this.groups.set(group, { accounts: 1, first: ts });
    else {
      g.accounts += 1;
      if (ts < g.first) g.first = ts;
      this.groups.set(group, g);
    }
  }

  /** First role seen for the account: it joins that peer group with the services it already knows. */
  private joinRole(s: AccountServices, role: string, ts: number): void {
    s.role = role;
    this.join(role, ts);
    for (const svc in s.services) this.bump(`${role}\u0000${svc}`);
  }

  private judge(s: AccountServices, event: NormalizedEvent, user: string, service: string, emit: (signal: Signal) => void): void {
    const c = this.config;
    const span = s.last - s.first;
    const mature = s.events >= c.min_history_events && span >= this.minSpanMs;
    // Singles need a mature account; only a sweep may be reported on an immature one.
    if (!mature && c.immature_sweep_confidence <= 0) return;
    const ts = event.ts;
    // The peer group: the account's role when large and old enough, else the whole population;
    // rarity in a group that is too small or too young cannot be judged.
    let group: string = POPULATION;
    let g = s.role === null ? undefined : this.groups.get(s.role);
    if (s.role !== null && g !== undefined && g.accounts >= c.min_peer_group_accounts && ts - g.first >= this.peerAgeMs)
      group = s.role;
    else {
      g = this.groups.get(POPULATION);
      if (g === undefined || g.accounts < c.min_peer_group_accounts || ts - g.first < this.peerAgeMs) return;
    }
    const groupSize = g.accounts;
    const users = this.peers.get(`${group}\u0000${service}`)?.accounts ?? 0;
    const fraction = users / groupSize;
    if (fraction >= c.max_peer_fraction) return;
    // Sweep bookkeeping: recent new rare services within the window.
    const recent = s.recent;
    let drop = 0;
    while (drop < recent.length && ts - recent[drop] > this.windowMs) drop++;
    if (drop > 0) recent.splice(0, drop);
    if (recent.length >= RECENT_CAP) recent.shift();
    recent.push(ts);
    const peerGroup = group === POPULATION ? 'population' : 'role';
    const cert = event.certificate;
    const evidence: Record<string, unknown> = {
      account: user,
      service,
      role: s.role,
      peer_group: peerGroup,
      peer_group_key: group === POPULATION ? null : group,
      peer_group_accounts: groupSize,
      peer_accounts_using_service: users,
      peer_fraction: Number(fraction.toPrecision(3)),
      baseline: mature ? 'mature' : 'immature',
      baseline_events: s.events,
      baseline_first_seen: iso(s.first),
      baseline_last_seen: iso(s.last),
      baseline_days: days(span),
      known_services: s.size,
      device: event.device,
      source_ip: event.source_ip,
      certificate: cert === null ? null : certificateEvidence(cert),
      thresholds: {
        max_peer_fraction: c.max_peer_fraction,
        min_peer_group_accounts: c.min_peer_group_accounts,
        min_history_events: c.min_history_events,
        min_history_days: c.min_history_days,
        min_peer_history_hours: c.min_peer_history_hours,
        sweep_min_services: c.sweep_min_services,
        sweep_window_minutes: c.sweep_window_minutes,
      },
    };
    const groupText = group === POPULATION ? 'all accounts' : `role ${group}`;
    if (mature) {
      emit({
        rule: 'new-resource',
        variant: 'single',
        summary: `${user} used ${service} for the first time; ${users} of ${groupSize} accounts (${groupText}) ever used it (${(fraction * 100).toFixed(1)} %, threshold < ${c.max_peer_fraction * 100} %)`,
        dedup_key: `${user}:${service}`,
        event,
        evidence,
      });
    }
    if (s.sweep_last >= 0 && ts - s.sweep_last <= this.windowMs) {
      // Part of a sweep already reported: extend it, no second sweep signal.
      s.sweep_last = ts;
      return;
    }
    if (recent.length < c.sweep_min_services) return;
    const confidence = mature ? 1 : c.immature_sweep_confidence;
    const start = recent[0];
    s.sweep_last = ts;
    emit({
      rule: 'new-resource',
      variant: 'sweep',
      summary: `${user} used ${recent.length} services new to it and rare for its peers within ${Math.round((ts - start) / MINUTE_MS)} min (threshold ≥ ${c.sweep_min_services} in ${c.sweep_window_minutes} min)${mature ? '' : ' — immature baseline'}`,
      dedup_key: `${user}:sweep:${iso(start)}`,
      event,
      ...(confidence < 1 ? { confidence } : {}),
      evidence: { ...evidence, sweep_services: recent.length, sweep_start: iso(start), sweep_times: recent.map(iso) },
    });
  }

  private learn(s: AccountServices, service: string, ts: number): void {
    if (s.size >= this.config.max_services_per_account) {
      let oldest: string | null = null;
      let oldestTs = Number.POSITIVE_INFINITY;
      for (const k in s.services) {
        if (s.services[k] < oldestTs) {
          oldestTs = s.services[k];
          oldest = k;
        }
      }
      if (oldest !== null) {
        delete s.services[oldest];
        s.size -= 1;
      }
    }
    s.services[service] = ts;
    s.size += 1;
    // Peer counts: once per account and service while the account remembers it. A service evicted by
    // the cap and used again is counted a second time, so the counts are an upper bound (which can
    // only make the rule quieter).
    this.bump(`${POPULATION}\u0000${service}`);
    if (s.role !== null) this.bump(`${s.role}\u0000${service}`);
  }
}

/** The new-resource rule. */
export const rule: Rule<Config> = {
  meta: {
    id: 'new-resource',
    title: 'Account used a service new to it and rare for its peers',
    description:
      'An account with a mature history accesses a service it never used that fewer than a fraction of its peer group (role, else the whole population) ever used; several within a short window are a sweep.',
    default_weight: 10,
    variant_weights: { single: 10, sweep: 40 },
    references: ['issue 4 (behavioural baselines: new-resource)', 'seed 000/004: baselines per user, role and service'],
    false_positives: [
      'A new project, team move or role change (the identity store role is updated later than the access).',
      'Rarely used but legitimate tools (admin consoles, break-glass systems) used by a new member of the team.',
      'Small or mixed roles: the peer group falls back to the whole population, where specialist services are rare.',
    ],
  },
  configSchema,
  defaults,
  create(config: Config, ctx: RuleContext): RuleInstance {
    return new NewResource(config, ctx);
  },
};
