// behaviour-anomaly (issue 4): an online multivariate model over per-event behaviour features. Each
// event of a mature account becomes a 7-dimensional vector of deviations from that account's own
// baseline (hour, device, distance, service, bytes, TLS fingerprint, network; each in [0,1]); one
// fleet-wide Half-Space Trees model (src/model/hst) learns which combinations of deviations are
// ordinary and scores how rare this one is. Above a threshold, with both the account and the model
// mature, the rule emits a low-weight signal whose evidence names the three features that led the
// event into the sparse region (per-dimension mass deficits). Seeded: same input, same alerts.
import { Type } from 'typebox';
import { HalfSpaceTrees, type HstParams, type HstState, stateMatches } from '../../model/hst/hst.ts';
import type { NormalizedEvent } from '../../schema/event.ts';
import { certificateEvidence } from '../shared/certificate.ts';
import type { KeyedState, Rule, RuleContext, RuleInstance, Signal } from '../types.ts';
import {
  type AccountState,
  computeFeatures,
  DIMS,
  describeFeatures,
  type EventKeys,
  eventKeys,
  FEATURES,
  type FeatureName,
  type FleetState,
  type FleetView,
  learnEvent,
  newAccount,
} from './features.ts';

/** Config block `rules.behaviour-anomaly`. */
export interface Config {
  /** Fire when the event's anomaly score (0..1) is at or above this. */
  threshold: number;
  /** Account maturity: at least this many successful events… */
  min_account_events: number;
  /** …spanning at least this many days. */
  min_account_days: number;
  /** Half-Space Trees: trees in the ensemble. */
  trees: number;
  /** Half-Space Trees: depth of each tree (2^(depth+1) − 1 nodes). */
  depth: number;
  /** Half-Space Trees: events per window (the reference profile is the last full window). */
  window_size: number;
  /** Half-Space Trees: a node with fewer reference events than this fraction of the window ends a walk. */
  size_limit: number;
  /** Seed of the random trees: the same seed and input give the same alerts. */
  seed: number;
}

export const configSchema = Type.Object(
  {
    threshold: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.6,
      description: 'Fire when the anomaly score (0..1) of an event is at or above this.',
    }),
    min_account_events: Type.Integer({
      minimum: 1,
      default: 30,
      description: 'Successful events of the account before it is scored (and fed to the model).',
    }),
    min_account_days: Type.Number({
      minimum: 0,
      default: 5,
      description: 'Days between the first and the latest event of the account before it is scored.',
    }),
    trees: Type.Integer({ minimum: 1, maximum: 200, default: 25, description: 'Half-Space Trees in the ensemble.' }),
    depth: Type.Integer({ minimum: 2, maximum: 14, default: 10, description: 'Depth of each tree.' }),
    window_size: Type.Integer({
      minimum: 16,
      default: 1000,
      description: 'Events per model window; the model scores against the last complete window.',
    }),
    size_limit: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.1,
      description: 'A tree walk ends at a node holding fewer than this fraction of the window.',
    }),
    seed: Type.Integer({ minimum: 0, maximum: 4294967295, default: 2011, description: 'Seed of the random trees.' }),
  },
  { additionalProperties: false },
);

export const defaults: Config = {
  threshold: 0.6,
  min_account_events: 30,
  min_account_days: 5,
  trees: 25,
  depth: 10,
  window_size: 1000,
  size_limit: 0.1,
  seed: 2011,
};

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const MODEL_KEY = 'global';
const FLEET_KEY = 'fleet';

/** Model parameters of a config. */
export function modelParams(c: Config): HstParams {
  return { seed: c.seed, dims: DIMS, trees: c.trees, depth: c.depth, window: c.window_size, sizeLimit: c.size_limit };
}

function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const SUMMARY_LABEL: Record<FeatureName, string> = {
  hour: 'unusual hour',
  device: 'new device',
  geo: 'far from last location',
  service: 'rare service',
  bytes: 'large transfer',
  tls: 'new TLS fingerprint',
  network: 'new source network',
};

class BehaviourAnomaly implements RuleInstance {
  private readonly config: Config;
  private readonly accounts: KeyedState<AccountState>;
  private readonly models: KeyedState<HstState>;
  private readonly fleetState: KeyedState<FleetState>;
  private readonly services: KeyedState<number>;
  private readonly minSpanMs: number;
  private readonly params: HstParams;
  /** Loaded on first use: the pipeline preloads persisted state after rules are created. */
  private model: HalfSpaceTrees | null = null;
  private fleet: FleetState | null = null;
  private readonly x = new Array<number>(DIMS).fill(0);
  private readonly view: FleetView;

  constructor(config: Config, ctx: RuleContext) {
    this.config = config;
    this.accounts = ctx.state<AccountState>('account');
    this.models = ctx.state<HstState>('model');
    this.fleetState = ctx.state<FleetState>('fleet');
    this.services = ctx.state<number>('service');
    this.minSpanMs = config.min_account_days * DAY_MS;
    this.params = modelParams(config);
    const services = this.services;
    const self = this;
    this.view = {
      serviceAccounts: (s: string) => services.get(s) ?? 0,
      get fleetAccounts() {
        return self.fleet?.accounts ?? 0;
      },
    };
  }

  private load(): HalfSpaceTrees {
    const saved = this.models.get(MODEL_KEY);
    // A model saved under other parameters (trees, depth, window, seed changed) is dropped: it
    // could not be scored against the new trees. The new one warms up again.
    this.model = new HalfSpaceTrees(this.params, stateMatches(saved, this.params) ? saved : undefined);
    this.models.set(MODEL_KEY, this.model.state);
    this.fleet = this.fleetState.get(FLEET_KEY) ?? { accounts: 0 };
    return this.model;
  }

  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    if (event.outcome === 'failure') return;
    const user = event.user;
    if (user === null) return;
    const model = this.model ?? this.load();
    const fleet = this.fleet as FleetState;
    let acc = this.accounts.get(user);
    let keys: EventKeys | undefined;
    if (acc === undefined) {
      acc = newAccount(event.ts);
      fleet.accounts += 1;
      this.fleetState.set(FLEET_KEY, fleet);
    } else if (acc.events >= this.config.min_account_events && acc.last - acc.first >= this.minSpanMs) {
      // Only mature accounts are scored and learnt: on a young account everything is new, and its
      // vectors would teach the model that "everything new at once" is ordinary.
      keys = eventKeys(event);
      const x = computeFeatures(acc, event, this.view, this.x, keys);
      if (model.ready) this.judge(model, acc, event, user, x, emit);
      model.learn(x);
      this.models.set(MODEL_KEY, model.state);
    }
    if (learnEvent(acc, event, keys) && event.service !== null) {
      this.services.set(event.service, (this.services.get(event.service) ?? 0) + 1);
    }
    this.accounts.set(user, acc);
  }

  private judge(
    model: HalfSpaceTrees,
    acc: AccountState,
    event: NormalizedEvent,
    user: string,
    x: number[],
    emit: (signal: Signal) => void,
  ): void {
    const c = this.config;
    const hour = Math.floor(event.ts / HOUR_MS);
    if (acc.fired_hour === hour) return;
    const { mass, anomaly } = model.score(x);
    if (anomaly < c.threshold) return;
    acc.fired_hour = hour;
    const shares = model.attribution(x);
    const detail = describeFeatures(acc, event, this.view);
    // Top 3 by share of the mass deficit; ties by feature value, then by dimension order.
    const order = FEATURES.map((name, i) => ({ name, i })).filter(({ i }) => shares[i] > 0);
    order.sort((a, b) => shares[b.i] - shares[a.i] || x[b.i] - x[a.i] || a.i - b.i);
    const top = order
      .slice(0, 3)
      .map(({ name, i }) => ({ feature: name, value: round(x[i]), contribution: round(shares[i]), ...detail[name] }));
    const features: Record<string, number> = {};
    FEATURES.forEach((name, i) => {
      features[name] = round(x[i]);
    });
    const confidence = 0.5 + (0.5 * (anomaly - c.threshold)) / (1 - c.threshold || 1);
    const cert = event.certificate;
    const span = acc.last - acc.first;
    emit({
      rule: 'behaviour-anomaly',
      summary: `${user}: behaviour anomaly ${round(anomaly)} (threshold ${c.threshold}) — ${top.map((t) => SUMMARY_LABEL[t.feature]).join(', ') || 'no single feature stands out'}`,
      dedup_key: `${user}:${iso(hour * HOUR_MS).slice(0, 13)}`,
      event,
      confidence: round(Math.min(1, confidence)),
      evidence: {
        account: user,
        anomaly_score: round(anomaly),
        threshold: c.threshold,
        mass: round(mass, 1),
        top_features: top,
        attribution: 'share of the per-dimension mass deficit (bits lost below an even split) along the trees’ scoring paths',
        features,
        baseline: {
          events: acc.events,
          first_seen: iso(acc.first),
          last_seen: iso(acc.last),
          days: round(span / DAY_MS, 1),
        },
        model: {
          kind: 'half-space-trees',
          trees: c.trees,
          depth: c.depth,
          window_size: c.window_size,
          size_limit: c.size_limit,
          seed: c.seed,
          windows: model.state.windows,
        },
        device: event.device,
        service: event.service,
        source_ip: event.source_ip,
        certificate: cert === null ? null : certificateEvidence(cert),
        thresholds: { threshold: c.threshold, min_account_events: c.min_account_events, min_account_days: c.min_account_days },
      },
    });
  }
}

/** The behaviour-anomaly rule. */
export const rule: Rule<Config> = {
  meta: {
    id: 'behaviour-anomaly',
    title: 'Account behaviour unlike its own baseline (multivariate anomaly)',
    description:
      "An event of a mature account whose combination of deviations from the account's own baseline (hour, device, distance, service, bytes, TLS fingerprint, source network) is rare for a fleet-wide Half-Space Trees model; the evidence names the three features that contribute most. Once per account per UTC hour.",
    default_weight: 20,
    references: ['issue 4 (anomaly model)', 'seed 002: machine learning over baseline behaviour; weak signals add up per entity'],
    false_positives: [
      'Real changes of habit that touch several features at once: travel with a new laptop, a new job role with new services.',
      'Fleet-wide changes (a new VPN egress, a browser update changing every JA4) score as ordinary only once the model has seen a window of them.',
      'Accounts just past maturity with thin baselines; raise min_account_events.',
    ],
  },
  configSchema,
  defaults,
  create(config: Config, ctx: RuleContext): RuleInstance {
    return new BehaviourAnomaly(config, ctx);
  },
};
