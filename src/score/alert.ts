// Turns a rule's Signal plus the entity's risk into an Alert record (the public output contract).
import { createHash } from 'node:crypto';
import type { EntityRef, Signal } from '../detect/types.ts';
import { type Action, ALERT_SCHEMA_VERSION, type Alert, type Severity } from '../schema/alert.ts';
import type { NormalizedEvent } from '../schema/event.ts';

/**
 * Deterministic alert id: derived only from the rule id and the signal's dedup key, so the same
 * finding gets the same id in every run and every process (feedback and sinks refer to it).
 */
export function alertId(rule: string, dedupKey: string): string {
  return `cs-${createHash('sha256').update(rule).update('\u0000').update(dedupKey).digest('hex').slice(0, 24)}`;
}

/** The entity whose risk a signal raises: the account when known, else the device, key or address. */
export function riskEntity(event: NormalizedEvent): EntityRef | null {
  if (event.user) return { kind: 'user', id: event.user };
  if (event.device) return { kind: 'device', id: event.device };
  const key = event.certificate?.spki_sha256 ?? event.certificate?.sha256;
  if (key) return { kind: 'key', id: key };
  if (event.source_ip) return { kind: 'source_ip', id: event.source_ip };
  return null;
}

export interface Scored {
  entity: EntityRef;
  weight: number;
  prior: number;
  score: number;
  signalsInWindow: number;
  severity: Severity;
  action: Action;
  title: string;
}

export function buildAlert(signal: Signal, scored: Scored): Alert {
  const e = signal.event;
  const cert = e.certificate;
  return {
    id: alertId(signal.rule, signal.dedup_key),
    rule: signal.rule,
    title: scored.title,
    severity: scored.severity,
    score: scored.score,
    action: scored.action,
    time: e.time,
    entity: scored.entity,
    user: e.user,
    device: e.device,
    cert_sha256: cert?.sha256 ?? null,
    spki_sha256: cert?.spki_sha256 ?? null,
    issuer: cert?.issuer ?? null,
    source_ip: e.source_ip,
    summary: signal.summary,
    evidence: {
      ...(signal.variant ? { variant: signal.variant } : {}),
      ...signal.evidence,
      scoring: {
        weight: scored.weight,
        confidence: signal.confidence ?? 1,
        prior_entity_score: scored.prior,
        entity_score: scored.score,
        signals_in_window: scored.signalsInWindow,
      },
      source: e.source,
    },
    schema_version: ALERT_SCHEMA_VERSION,
  };
}
