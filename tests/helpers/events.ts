// Builds NormalizedEvents for rule tests from real certificates (see pki.ts), so rules are tested
// on exactly what normalize produces.

import { StateRegistry } from '../../src/detect/state.ts';
import { type Rule, type RuleContext, ruleEventKinds, type Signal } from '../../src/detect/types.ts';
import { parseCertificate } from '../../src/normalize/certificate.ts';
import type { Asset, Identity, NormalizedEvent, RevocationResult, TrustResult } from '../../src/schema/event.ts';
import type { TestCert } from './pki.ts';

export interface EventInit extends Partial<Omit<NormalizedEvent, 'certificate' | 'chain' | 'enrichment' | 'tls'>> {
  /** Event time (ISO string or epoch ms); default 2026-01-05T09:00:00Z. */
  at?: string | number;
  cert?: TestCert | null;
  chain?: TestCert[];
  tls?: Partial<NormalizedEvent['tls']>;
  asset?: Asset | null;
  identity?: Identity | null;
  trust?: TrustResult | null;
  revocation?: RevocationResult | null;
}

let line = 0;

export function makeEvent(init: EventInit = {}): NormalizedEvent {
  const ts =
    init.at === undefined ? Date.parse('2026-01-05T09:00:00Z') : typeof init.at === 'number' ? init.at : Date.parse(init.at);
  line += 1;
  const certificate = init.cert ? parseCertificate(init.cert.pem).info : null;
  return {
    time: new Date(ts).toISOString(),
    ts,
    source: { format: 'test', file: 'test', line, record_id: null },
    kind: init.kind ?? 'authentication',
    ca: init.ca ?? null,
    enrollment: init.enrollment ?? null,
    outcome: init.outcome ?? 'success',
    user: init.user ?? null,
    user_from: init.user_from ?? (init.user ? 'event' : null),
    device: init.device ?? null,
    source_ip: init.source_ip ?? null,
    source_port: init.source_port ?? null,
    geo: init.geo ?? null,
    destination_ip: init.destination_ip ?? null,
    destination_port: init.destination_port ?? null,
    service: init.service ?? null,
    tls: { version: null, cipher: null, ja3: null, ja3s: null, ja4: null, sni: null, ...init.tls },
    certificate,
    certificate_visibility: init.certificate_visibility ?? (certificate ? 'present' : 'not_visible'),
    chain: (init.chain ?? []).map((c) => parseCertificate(c.pem).info),
    server_certificate: null,
    bytes: init.bytes ?? null,
    enrichment: {
      asset: init.asset ?? null,
      identity: init.identity ?? null,
      trust: init.trust ?? null,
      revocation: init.revocation ?? null,
    },
  };
}

/** Runs a rule over events with fresh (or given) state; returns the signals it emitted. */
export function runRule<C>(
  rule: Rule<C>,
  events: NormalizedEvent[],
  options: { config?: Partial<C>; registry?: StateRegistry; facts?: Partial<RuleContext['facts']> } = {},
): Signal[] {
  const registry = options.registry ?? new StateRegistry();
  const ctx: RuleContext = {
    state: <T>(name: string) => registry.state<T>(`${rule.meta.id}/${name}`),
    facts: {
      trustAnchorsConfigured: true,
      crlsConfigured: true,
      assetsConfigured: true,
      identitiesConfigured: true,
      ...options.facts,
    },
  };
  const instance = rule.create({ ...rule.defaults, ...options.config } as C, ctx);
  const out: Signal[] = [];
  const emit = (s: Signal) => out.push(s);
  // As the engine does: a rule sees only the event kinds it declares, and finish() ends the input.
  const kinds = ruleEventKinds(rule);
  for (const e of events) if (kinds.has(e.kind)) instance.observe(e, emit);
  instance.finish?.(emit);
  return out;
}
