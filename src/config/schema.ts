// The certsignal.yaml schema (typebox) and its documented defaults. Every key is optional in the
// file; loadConfig fills in the defaults below. Keep docs/config.md in step with this file.
import { type TSchema, Type } from 'typebox';

/** Default score weight per rule id (or `rule.variant`); a rule's own metadata overrides these. */
export const DEFAULT_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({
  'cert-churn': 40,
  'key-reuse': 60,
  'expired-cert': 70,
  'revoked-cert': 70,
  'subject-mismatch': 30,
  'untrusted-issuer': 50,
  'untrusted-issuer.self-signed': 50,
  'tls-fingerprint-change': 20,
  'tls-fingerprint-change.downgrade': 30,
});

export const DEFAULT_SCORING = Object.freeze({
  correlation_window_minutes: 1440,
  decay_half_life_minutes: 360,
  thresholds: Object.freeze({ medium: 40, high: 80, critical: 120 }),
  actions: Object.freeze({ low: 'allow', medium: 'step-up', high: 'deny', critical: 'deny' } as const),
});

export const DEFAULT_ASSETS_COLUMNS = Object.freeze({
  device_id: 'device_id',
  owner: 'owner',
  kind: 'kind',
  hostname: 'hostname',
  os: 'os',
  enrolled_at: 'enrolled_at',
});

export const DEFAULT_IDENTITIES_COLUMNS = Object.freeze({
  user: 'user',
  kind: 'kind',
  role: 'role',
  department: 'department',
  country: 'country',
  email: 'email',
});

/** Certificate fields a user name can be derived from, in the default order. */
export const USER_FROM_CERTIFICATE_FIELDS = ['upn', 'email', 'cn'] as const;
export type UserFromCertificateField = (typeof USER_FROM_CERTIFICATE_FIELDS)[number];

export const DEFAULT_MAX_LINE_BYTES = 1_048_576;

/** OCSP defaults (`enrichment.ocsp`; docs/ocsp.md). Off: network calls must be asked for. */
export const DEFAULT_OCSP = Object.freeze({
  enabled: false,
  timeout_ms: 2000,
  cache_size: 10_000,
  responder_override: null as string | null,
  nonce: true,
  concurrency: 8,
  budget_ms: 120_000,
});

/** Allowlist keys that select what an entry matches (an entry needs at least one). */
export const ALLOWLIST_MATCH_KEYS = [
  'rule',
  'user',
  'device',
  'cert_sha256',
  'spki_sha256',
  'issuer',
  'subject_pattern',
  'source_cidr',
] as const;

// `x-expected` is our own annotation: the phrase error messages use for a value this schema accepts.
const NonEmptyString = (description: string) => Type.String({ minLength: 1, description });
const ActionSchema = Type.Union([Type.Literal('allow'), Type.Literal('step-up'), Type.Literal('deny')]);
const Minutes = (description: string) => Type.Integer({ minimum: 1, description });
const ScoreThreshold = (description: string) => Type.Number({ minimum: 0, description });

const ScoringSchema = Type.Object(
  {
    weights: Type.Optional(
      Type.Record(Type.String(), Type.Number({ minimum: 0 }), {
        description: 'Score added per signal, by rule id or `rule-id.variant`.',
      }),
    ),
    correlation_window_minutes: Type.Optional(Minutes("Signals older than this no longer add to an entity's risk.")),
    decay_half_life_minutes: Type.Optional(Minutes("A signal's contribution halves every this many minutes.")),
    thresholds: Type.Optional(
      Type.Object(
        {
          medium: Type.Optional(ScoreThreshold('Risk at or above this is medium.')),
          high: Type.Optional(ScoreThreshold('Risk above this is high.')),
          critical: Type.Optional(ScoreThreshold('Risk above this is critical.')),
        },
        { additionalProperties: false },
      ),
    ),
    actions: Type.Optional(
      Type.Object(
        {
          low: Type.Optional(ActionSchema),
          medium: Type.Optional(ActionSchema),
          high: Type.Optional(ActionSchema),
          critical: Type.Optional(ActionSchema),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Sha256Hex = Type.String({
  pattern: '^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$',
  'x-expected': 'a SHA-256 digest (64 hex digits, colons allowed)',
});

const AllowlistEntrySchema = Type.Object(
  {
    rule: Type.Optional(NonEmptyString('Rule id (or rule-id.variant) this entry applies to.')),
    user: Type.Optional(NonEmptyString('User (case-insensitive).')),
    device: Type.Optional(NonEmptyString('Device id (case-insensitive).')),
    cert_sha256: Type.Optional(Sha256Hex),
    spki_sha256: Type.Optional(
      Type.String({
        pattern: '^(([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}|[A-Za-z0-9+/]{43}=)$',
        'x-expected': 'a SHA-256 digest (64 hex digits, or the 44-character base64 pin-sha256 form)',
      }),
    ),
    issuer: Type.Optional(NonEmptyString('Issuer DN (RFC 4514).')),
    subject_pattern: Type.Optional(NonEmptyString('Glob (`*`, `?`, case-insensitive) over the subject DN.')),
    source_cidr: Type.Optional(NonEmptyString('IPv4/IPv6 network or address.')),
    reason: Type.Optional(Type.String({ description: 'Why this exception exists (shown when it suppresses a signal).' })),
    expires: Type.Optional(
      Type.String({
        pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2}))?$',
        'x-expected': 'a date (YYYY-MM-DD, UTC midnight) or an ISO 8601 date-time with zone',
      }),
    ),
  },
  { additionalProperties: false },
);

const EnrichmentSchema = Type.Object(
  {
    assets_columns: Type.Optional(
      Type.Object(
        Object.fromEntries(
          Object.keys(DEFAULT_ASSETS_COLUMNS).map((k) => [k, Type.Optional(NonEmptyString('CSV column name.'))]),
        ),
        { additionalProperties: false },
      ),
    ),
    identities_columns: Type.Optional(
      Type.Object(
        Object.fromEntries(
          Object.keys(DEFAULT_IDENTITIES_COLUMNS).map((k) => [k, Type.Optional(NonEmptyString('CSV column name.'))]),
        ),
        { additionalProperties: false },
      ),
    ),
    user_from_certificate: Type.Optional(
      Type.Array(Type.Union(USER_FROM_CERTIFICATE_FIELDS.map((f) => Type.Literal(f))), { uniqueItems: true }),
    ),
    geoip: Type.Optional(
      NonEmptyString(
        'MaxMind-format .mmdb (City or Country database) for events without a location; relative to the working directory.',
      ),
    ),
    ocsp: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(
            Type.Boolean({
              description: 'Ask OCSP responders about client certificates (network calls; off by default). `--ocsp` turns it on.',
            }),
          ),
          timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, description: 'Per-request timeout (ms).' })),
          cache_size: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'OCSP answers kept in memory.' }),
          ),
          // null (the default) = use each certificate's AIA responder.
          responder_override: Type.Optional(
            Type.Union([
              Type.Null(),
              Type.String({
                pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
                'x-expected': 'an http:// or https:// URL',
                description: 'Ask this responder instead of the AIA one.',
              }),
            ]),
          ),
          nonce: Type.Optional(Type.Boolean({ description: 'Send a nonce and reject responses echoing another.' })),
          concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: 'Requests in flight at once.' })),
          budget_ms: Type.Optional(
            Type.Integer({ minimum: 0, description: 'Total time a run may wait on OCSP before it stops asking.' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const InputSchema = Type.Object(
  {
    max_line_bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_073_741_824 })),
    xfcc_trusted_hops: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 16,
        description:
          'How many x-forwarded-client-cert elements, counted from the last (nearest proxy), come from proxies you trust.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** What loadConfig needs to know about a rule (a subset of detect/types.ts Rule). */
export interface RuleSpec {
  meta: { id: string; default_weight?: number; variant_weights?: Record<string, number>; default_enabled?: boolean };
  configSchema: TSchema;
  defaults: object;
}

/**
 * The schema of a `rules.<id>` block: the rule's own properties, all optional (the block is merged
 * over the rule's defaults), plus `enabled`, and no other keys.
 */
export function ruleBlockSchema(rule: RuleSpec): TSchema {
  const schema = rule.configSchema as { type?: unknown; properties?: Record<string, TSchema> };
  if (schema.type !== 'object') {
    throw new Error(`rule ${rule.meta.id}: configSchema must be an object schema`);
  }
  return {
    type: 'object',
    properties: { enabled: { type: 'boolean' }, ...(schema.properties ?? {}) },
    additionalProperties: false,
  } as TSchema;
}

/** The whole certsignal.yaml schema for this set of rules. */
export function configSchema(rules: readonly RuleSpec[]): TSchema {
  const ruleBlocks: Record<string, TSchema> = {};
  for (const rule of rules) ruleBlocks[rule.meta.id] = ruleBlockSchema(rule);
  return Type.Object(
    {
      scoring: Type.Optional(ScoringSchema),
      rules: Type.Optional({ type: 'object', properties: ruleBlocks, additionalProperties: false } as TSchema),
      automation_issuers: Type.Optional(Type.Array(NonEmptyString('Issuer DN (RFC 4514).'))),
      allowlists: Type.Optional(Type.Array(AllowlistEntrySchema)),
      enrichment: Type.Optional(EnrichmentSchema),
      input: Type.Optional(InputSchema),
    },
    { additionalProperties: false, title: 'certsignal.yaml' },
  );
}
