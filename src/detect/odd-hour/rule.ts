// odd-hour (issue 4): an account is active at an hour of the week it (almost) never uses. Each
// account keeps a 168-bin UTC hour-of-week histogram of its successful events; the probability of
// an event's hour is smoothed over neighbouring hours (triangular kernel) plus a small uniform
// prior. Below `min_probability` on a mature history the rule fires, once per account per UTC
// day. A weak signal on its own, meant to add up with others for the same account.
import { Type } from 'typebox';
import type { NormalizedEvent } from '../../schema/event.ts';
import { certificateEvidence } from '../shared/certificate.ts';
import type { KeyedState, Rule, RuleContext, RuleInstance, Signal } from '../types.ts';

/** Config block `rules.odd-hour`. */
export interface Config {
  /** History maturity: at least this many successful events of the account… */
  min_history_events: number;
  /** …spanning at least this many days between the first and the latest of them. */
  min_history_days: number;
  /** Fire when the smoothed probability of the event's hour-of-week is below this. */
  min_probability: number;
  /** Half-width of the triangular smoothing kernel in hours (0 = no smoothing). */
  smoothing_hours: number;
  /** Share of the hour-of-day profile (all weekdays pooled, /7) in the probability; backs off a sparse week. */
  hour_of_day_weight: number;
  /** Pseudo-events spread evenly over the 168 hours (the prior). */
  prior_events: number;
  /** When the histogram holds this many events, every bin is halved (old habits fade; bounds the counts). */
  max_history_events: number;
  /** Confidence on an immature history (evidence `baseline: immature`); 0 = stay quiet. */
  immature_confidence: number;
}

export const configSchema = Type.Object(
  {
    min_history_events: Type.Integer({
      minimum: 1,
      default: 50,
      description: 'Successful events of the account before an odd hour can fire.',
    }),
    min_history_days: Type.Number({
      minimum: 0,
      default: 7,
      description: 'Days between the first and the latest event of the account before an odd hour can fire.',
    }),
    min_probability: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.001,
      description: 'Fire when the smoothed probability of the hour-of-week is below this.',
    }),
    smoothing_hours: Type.Integer({
      minimum: 0,
      maximum: 12,
      default: 2,
      description: 'Half-width in hours of the triangular smoothing kernel over neighbouring hours.',
    }),
    hour_of_day_weight: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'Share of the pooled hour-of-day profile in the probability (backs off sparse hour-of-week bins).',
    }),
    prior_events: Type.Number({
      minimum: 0,
      default: 1,
      description: 'Pseudo-events spread evenly over the 168 hours of the week.',
    }),
    max_history_events: Type.Integer({
      minimum: 100,
      default: 10000,
      description: 'Histogram total at which every bin is halved (forgetting; bounds the counts).',
    }),
    immature_confidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0,
      description: 'Confidence on an immature history; 0 keeps the rule quiet then.',
    }),
  },
  { additionalProperties: false },
);

export const defaults: Config = {
  min_history_events: 50,
  min_history_days: 7,
  min_probability: 0.001,
  smoothing_hours: 2,
  hour_of_day_weight: 0.5,
  prior_events: 1,
  max_history_events: 10000,
  immature_confidence: 0,
};

/** Per-account profile (namespace `odd-hour/account`, keyed by account). Times are epoch ms. */
export interface HourProfile {
  first: number;
  last: number;
  /** Successful events seen (capped at 10⁹; only the maturity threshold matters). */
  events: number;
  /** Sum of `hours` (may be fractional after halving). */
  total: number;
  /** 168 counts, bin 0 = Monday 00:00–00:59 UTC. */
  hours: number[];
  /** UTC day number (ts / 86 400 000, floored) of the last signal; -1 = never. */
  fired_day: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const WEEK_HOURS = 168;
const EVENTS_CAP = 1_000_000_000;
/** 1970-01-01 was a Thursday: epoch hour 0 is hour 72 of a Monday-based week. */
const EPOCH_HOUR_OF_WEEK = 72;
const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** UTC hour of the week of an epoch-ms time: 0 = Monday 00:00–00:59 UTC … 167 = Sunday 23:00–23:59. */
export function hourOfWeek(ts: number): number {
  const h = (Math.floor(ts / HOUR_MS) + EPOCH_HOUR_OF_WEEK) % WEEK_HOURS;
  return h < 0 ? h + WEEK_HOURS : h;
}

/** "Tue 03:00 UTC" for an hour-of-week bin. */
export function hourLabel(bin: number): string {
  const h = bin % 24;
  return `${DAY_NAMES[Math.floor(bin / 24)]} ${h < 10 ? '0' : ''}${h}:00 UTC`;
}

/**
 * Smoothed probability of hour-of-week `bin` under a histogram: the triangular-kernel sum over
 * `bin ± smoothing` (weight 1 − |k|/(smoothing+1), wrapping round the week) plus `prior/168`,
 * divided by the kernel mass times `total` plus `prior`, so the 168 probabilities sum to 1.
 */
export function weekProbability(hours: readonly number[], total: number, bin: number, smoothing: number, prior: number): number {
  let sum = 0;
  let mass = 0;
  for (let k = -smoothing; k <= smoothing; k++) {
    const w = 1 - Math.abs(k) / (smoothing + 1);
    mass += w;
    let j = bin + k;
    if (j < 0) j += WEEK_HOURS;
    else if (j >= WEEK_HOURS) j -= WEEK_HOURS;
    sum += w * hours[j];
  }
  const denom = mass * total + prior;
  if (denom <= 0) return 1 / WEEK_HOURS;
  return (sum + prior / WEEK_HOURS) / denom;
}

/**
 * The same for the hour of the day of `bin` with all seven days pooled, divided by 7 so that it is
 * again a distribution over the 168 hours of the week.
 */
export function dayProbability(hours: readonly number[], total: number, bin: number, smoothing: number, prior: number): number {
  const hour = bin % 24;
  let sum = 0;
  let mass = 0;
  for (let k = -smoothing; k <= smoothing; k++) {
    const w = 1 - Math.abs(k) / (smoothing + 1);
    mass += w;
    let h = hour + k;
    if (h < 0) h += 24;
    else if (h >= 24) h -= 24;
    for (let d = h; d < WEEK_HOURS; d += 24) sum += w * hours[d];
  }
  const denom = mass * total + prior;
  if (denom <= 0) return 1 / WEEK_HOURS;
  return (sum + prior / 24) / denom / 7;
}

/**
 * Probability of hour-of-week `bin`: `(1 − dayWeight) × weekProbability + dayWeight ×
 * dayProbability`. The hour-of-day part keeps a sparse week (a Thursday 13:00 never seen by an
 * account that works 13:00 on other days) from looking odd; the 168 values still sum to 1.
 */
export function smoothedProbability(
  hours: readonly number[],
  total: number,
  bin: number,
  smoothing: number,
  prior: number,
  dayWeight: number,
): number {
  const week = weekProbability(hours, total, bin, smoothing, prior);
  if (dayWeight <= 0) return week;
  return (1 - dayWeight) * week + dayWeight * dayProbability(hours, total, bin, smoothing, prior);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function days(ms: number): number {
  return Math.round((ms / DAY_MS) * 10) / 10;
}

class OddHour implements RuleInstance {
  private readonly config: Config;
  private readonly accounts: KeyedState<HourProfile>;
  private readonly minSpanMs: number;

  constructor(config: Config, ctx: RuleContext) {
    this.config = config;
    this.accounts = ctx.state<HourProfile>('account');
    this.minSpanMs = config.min_history_days * DAY_MS;
  }

  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    if (event.outcome === 'failure') return;
    const user = event.user;
    if (user === null) return;
    const ts = event.ts;
    const bin = hourOfWeek(ts);
    let s = this.accounts.get(user);
    if (s === undefined) {
      s = { first: ts, last: ts, events: 0, total: 0, hours: new Array<number>(WEEK_HOURS).fill(0), fired_day: -1 };
    } else {
      this.judge(s, event, user, bin, emit);
    }
    // Learn after judging: the event itself never makes its own hour familiar.
    if (ts < s.first) s.first = ts;
    if (ts > s.last) s.last = ts;
    if (s.events < EVENTS_CAP) s.events += 1;
    s.hours[bin] += 1;
    s.total += 1;
    if (s.total >= this.config.max_history_events) {
      let t = 0;
      for (let i = 0; i < WEEK_HOURS; i++) {
        s.hours[i] /= 2;
        t += s.hours[i];
      }
      s.total = t;
    }
    this.accounts.set(user, s);
  }

  private judge(s: HourProfile, event: NormalizedEvent, user: string, bin: number, emit: (signal: Signal) => void): void {
    const day = Math.floor(event.ts / DAY_MS);
    if (s.fired_day === day) return;
    const c = this.config;
    const p = smoothedProbability(s.hours, s.total, bin, c.smoothing_hours, c.prior_events, c.hour_of_day_weight);
    if (p >= c.min_probability) return;
    const span = s.last - s.first;
    const mature = s.events >= c.min_history_events && span >= this.minSpanMs;
    const confidence = mature ? 1 : c.immature_confidence;
    if (confidence <= 0) return;
    s.fired_day = day;
    // The account's usual hours: the five busiest bins.
    const busiest: { hour: string; events: number }[] = [];
    const order = s.hours.map((n, i) => [n, i] as const).filter(([n]) => n > 0);
    order.sort((x, y) => y[0] - x[0] || x[1] - y[1]);
    for (const [n, i] of order.slice(0, 5)) busiest.push({ hour: hourLabel(i), events: Math.round(n * 10) / 10 });
    const label = hourLabel(bin);
    const pRound = Number(p.toPrecision(3));
    const cert = event.certificate;
    emit({
      rule: 'odd-hour',
      summary: `${user} active at ${label}, an hour with smoothed probability ${pRound} in its profile of ${s.events} events over ${days(span)} days (threshold < ${c.min_probability})${mature ? '' : ' — immature baseline'}`,
      dedup_key: `${user}:${iso(day * DAY_MS).slice(0, 10)}`,
      event,
      ...(confidence < 1 ? { confidence } : {}),
      evidence: {
        account: user,
        hour_of_week: bin,
        hour_label: label,
        time_zone: 'UTC',
        probability: pRound,
        events_in_hour: s.hours[bin],
        baseline: mature ? 'mature' : 'immature',
        baseline_events: s.events,
        baseline_first_seen: iso(s.first),
        baseline_last_seen: iso(s.last),
        baseline_days: days(span),
        busiest_hours: busiest,
        device: event.device,
        service: event.service,
        source_ip: event.source_ip,
        certificate: cert === null ? null : certificateEvidence(cert),
        thresholds: {
          min_probability: c.min_probability,
          min_history_events: c.min_history_events,
          min_history_days: c.min_history_days,
          smoothing_hours: c.smoothing_hours,
          hour_of_day_weight: c.hour_of_day_weight,
          prior_events: c.prior_events,
        },
      },
    });
  }
}

/** The odd-hour rule. */
export const rule: Rule<Config> = {
  meta: {
    id: 'odd-hour',
    // Opt-in: on the 14-day, 200-user simulated fleet it raised 17 stand-alone false positives
    // (real but rare hours) for no extra detection; it is meant to feed correlated incidents.
    default_enabled: false,
    title: 'Account active at an unusual hour of the week',
    description:
      "An account with a mature history is active at a UTC hour of the week whose smoothed probability in the account's own hour-of-week profile is below a threshold; once per account per UTC day.",
    default_weight: 15,
    references: ['issue 4 (behavioural baselines: odd-hour)', 'seed 000: weak signals correlate per entity'],
    false_positives: [
      'Travel to another time zone, daylight-saving shifts, on-call duty, deadlines and changed shifts.',
      'Accounts with few events (a sparse profile makes every unused hour rare); raise min_history_events.',
      'Schedules that move (batch jobs re-timed, new cron entries for service accounts).',
    ],
  },
  configSchema,
  defaults,
  create(config: Config, ctx: RuleContext): RuleInstance {
    return new OddHour(config, ctx);
  },
};
