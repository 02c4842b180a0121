// Rule untrusted-issuer (seed 002 pattern 4): a client certificate accepted on a flow that should
// use internal PKI, but issued by a CA outside the configured trust anchors, or self-signed.
// Scoped to flows with anchors: ~38% of real mTLS connections have no valid client issuer
// (FIELD-NOTES), so without anchors (or outside `services`) this rule stays quiet.
import { Type } from 'typebox';
import type { CertInfo, NormalizedEvent } from '../../schema/event.ts';
import { certificateKey } from '../shared/certificate.ts';
import type { Rule, RuleInstance, Signal } from '../types.ts';

const RULE_ID = 'untrusted-issuer';
/** Chain certificates listed in evidence (a presented chain is attacker-controlled length). */
const MAX_CHAIN_EVIDENCE = 8;
/** Distinct service names whose scope decision is cached before the cache is reset. */
const MAX_SCOPE_CACHE = 10_000;

export const configSchema = Type.Object(
  {
    services: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Glob patterns (`*`, `?`, case-insensitive) of event.service values the trust anchors apply to; empty = every service.',
    }),
  },
  { additionalProperties: false },
);

/** Config block `rules.untrusted-issuer`. */
export interface Config {
  /** Glob patterns of `event.service` the anchors apply to; empty = all services. */
  services: string[];
}

/** Compiles glob patterns (`*` any run, `?` one character) into one anchored, case-insensitive RegExp. */
export function compileServiceGlobs(patterns: readonly string[]): RegExp | null {
  if (patterns.length === 0) return null;
  const alternatives = patterns.map((p) =>
    p
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join(''),
  );
  return new RegExp(`^(?:${alternatives.join('|')})$`, 'i');
}

export const rule: Rule<Config> = {
  meta: {
    id: RULE_ID,
    title: 'Client certificate from an untrusted or self-signed issuer',
    description:
      'A client certificate on a flow protected by configured trust anchors does not chain to any of them ' +
      '(unknown-issuer), or is self-signed without being an anchor itself (self-signed). Attackers who cannot ' +
      'obtain a certificate from the internal PKI mint their own. Requires --trust-anchors; reported once per ' +
      'certificate (per certificate and service when `services` scopes the anchors).',
    default_weight: 50,
    variant_weights: { 'unknown-issuer': 50, 'self-signed': 50 },
    references: [
      'seed 002 pattern 4 (Self-signed or externally issued certs accepted unexpectedly)',
      'FIELD-NOTES: IMC 2024 "Mutual TLS in Practice" (~38% of mTLS connections without a valid client issuer)',
    ],
    false_positives: [
      'Services that legitimately accept certificates from partner or public CAs: limit the anchors to internal flows with `services`, or add the partner CA to the trust anchors.',
      'An incomplete trust-anchor bundle (a missing intermediate or a newly rotated root): add it to --trust-anchors.',
      'Developer or test clients with self-signed certificates: allowlist the certificate sha256 or the service.',
    ],
  },
  configSchema,
  defaults: { services: [] },
  create(config, ctx): RuleInstance {
    if (!ctx.facts.trustAnchorsConfigured) return { observe() {} };
    const scope = compileServiceGlobs(config.services);
    const scopeCache = new Map<string, boolean>();
    const reported = ctx.state<number>('reported');

    function inScope(service: string | null): boolean {
      if (scope === null) return true;
      if (service === null) return false;
      let hit = scopeCache.get(service);
      if (hit === undefined) {
        if (scopeCache.size >= MAX_SCOPE_CACHE) scopeCache.clear();
        hit = scope.test(service);
        scopeCache.set(service, hit);
      }
      return hit;
    }

    return {
      observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
        // Pattern 4 is about certificates *accepted*; a rejection is the gateway doing its job.
        if (event.outcome === 'failure') return;
        const cert = event.certificate;
        if (cert === null) return;
        const trust = event.enrichment.trust;
        // `trusted` covers a self-signed certificate that is itself an anchor; `unknown` and a
        // missing result mean we cannot tell, and we never guess.
        if (trust === null || trust.status !== 'untrusted') return;
        if (!inScope(event.service)) return;
        const certKey = certificateKey(cert);
        if (certKey === null) return;
        const dedupKey = scope === null ? certKey : `${certKey}|${(event.service as string).toLowerCase()}`;
        if (reported.get(dedupKey) !== undefined) return;
        reported.set(dedupKey, event.ts);

        const selfSigned = cert.self_signed === true;
        const variant = selfSigned ? 'self-signed' : 'unknown-issuer';
        const name = cert.subject ?? cert.subject_cn ?? certKey;
        const on = event.service ? ` on ${event.service}` : '';
        const who = event.user ?? event.device ?? event.source_ip ?? 'unknown client';
        // `unknown` outcome (passive sensors) cannot say the gateway accepted it.
        const verb = event.outcome === 'success' ? 'accepted' : 'presented';
        const summary = selfSigned
          ? `Self-signed client certificate "${name}" ${verb}${on} from ${who}; it is not a configured trust anchor (${trust.reason})`
          : `Client certificate "${name}" issued by "${cert.issuer ?? 'unknown issuer'}" ${verb}${on} from ${who}; it does not chain to a configured trust anchor (${trust.reason})`;
        const chain = event.chain;
        emit({
          rule: RULE_ID,
          variant,
          summary,
          dedup_key: dedupKey,
          event,
          confidence: 1,
          evidence: {
            certificate: {
              sha256: cert.sha256,
              sha1: cert.sha1,
              spki_sha256: cert.spki_sha256,
              subject: cert.subject,
              issuer: cert.issuer,
              serial: cert.serial,
              not_after: cert.not_after,
              source: cert.source,
            },
            issuer: cert.issuer,
            subject: cert.subject,
            self_signed: cert.self_signed,
            trust_status: trust.status,
            trust_reason: trust.reason,
            chain_presented: chain.slice(0, MAX_CHAIN_EVIDENCE).map((c) => ({
              subject: c.subject,
              issuer: c.issuer,
              sha256: c.sha256,
              self_signed: c.self_signed,
            })),
            chain_length: chain.length,
            // What the gateway itself concluded (nginx `$ssl_client_verify`), when it logs it.
            ...(event.tls.client_verify ? { gateway_verify: event.tls.client_verify } : {}),
            service: event.service,
            services_scope: config.services.length === 0 ? 'all services' : config.services,
            first_use: {
              time: event.time,
              source_ip: event.source_ip,
              user: event.user,
              device: event.device,
              outcome: event.outcome,
            },
          },
        });
      },
    };
  },
};
