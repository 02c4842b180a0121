// Entity risk: signals for one entity add up within a correlation window, older ones decaying
// exponentially (half-life), so many weak signals accumulate while a stale one fades.
// State is keyed by entity (`user:alice`) and persisted like any rule state.
import type { KeyedState } from '../detect/types.ts';

export interface RiskConfig {
  correlation_window_minutes: number;
  decay_half_life_minutes: number;
}

export interface EntityRisk {
  /** Score right after the last signal. */
  score: number;
  /** Time of the last signal (epoch ms). */
  ts: number;
  /** Signals that contributed within the current window. */
  signals: number;
}

export interface RiskUpdate {
  /** Score before this signal, decayed to the signal's time. */
  prior: number;
  /** Score after adding this signal. */
  score: number;
  /** Signals counted in the current correlation window (including this one). */
  signals: number;
}

/** Decayed value of a risk record at time `ts`. Out-of-order (earlier) times do not decay. */
export function decayedScore(risk: EntityRisk, ts: number, config: RiskConfig): number {
  const elapsedMinutes = (ts - risk.ts) / 60_000;
  if (elapsedMinutes <= 0) return risk.score;
  if (elapsedMinutes > config.correlation_window_minutes) return 0;
  return risk.score * 0.5 ** (elapsedMinutes / config.decay_half_life_minutes);
}

export class RiskScorer {
  private readonly config: RiskConfig;
  private readonly state: KeyedState<EntityRisk>;

  constructor(config: RiskConfig, state: KeyedState<EntityRisk>) {
    this.config = config;
    this.state = state;
  }

  /** Add `weight` to the entity's risk at time `ts`. */
  add(entityKey: string, weight: number, ts: number): RiskUpdate {
    const current = this.state.get(entityKey);
    const prior = current ? decayedScore(current, ts, this.config) : 0;
    const inWindow = current !== undefined && prior > 0;
    const score = round2(prior + weight);
    const signals = inWindow ? current.signals + 1 : 1;
    this.state.set(entityKey, { score, ts: Math.max(ts, current?.ts ?? ts), signals });
    return { prior: round2(prior), score, signals };
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
