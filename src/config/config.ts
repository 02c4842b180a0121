// The certsignal.yaml loader: parse, validate the whole file against the schema (every error with
// its key path and file:line:col, unknown keys with "did you mean"), fill in defaults, freeze.
// See docs/config.md for every key and its default.
import { readFileSync } from 'node:fs';
import { Compile, type Validator } from 'typebox/compile';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { Diagnostics } from '../diagnostics.ts';
import { CertsignalError } from '../errors.ts';
import type { Action, Severity } from '../schema/alert.ts';
import { Allowlist, type AllowlistCandidate, type AllowlistEntry, normalizeDigest, parseExpiry } from './allowlist.ts';
import { parseCidr } from './cidr.ts';
import { dnProblem } from './dn.ts';
import {
  ALLOWLIST_MATCH_KEYS,
  configSchema,
  DEFAULT_ASSETS_COLUMNS,
  DEFAULT_IDENTITIES_COLUMNS,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_OCSP,
  DEFAULT_SCORING,
  DEFAULT_WEIGHTS,
  type RuleSpec,
  USER_FROM_CERTIFICATE_FIELDS,
  type UserFromCertificateField,
} from './schema.ts';
import { didYouMean } from './suggest.ts';
import { type ConfigIssue, collectIssues, formatPath } from './validate.ts';

export type { AllowlistCandidate, AllowlistEntry, ExpiredAllowlistHit } from './allowlist.ts';
export { Allowlist, globToRegExp } from './allowlist.ts';
export { cidrContains, parseCidr, parseIp } from './cidr.ts';
export { normalizeDn } from './dn.ts';
export { DEFAULT_WEIGHTS, type RuleSpec, type UserFromCertificateField } from './schema.ts';
export type { ConfigIssue } from './validate.ts';

/** A rule's config block: `enabled` plus the rule's own keys, merged over its defaults. */
export type RuleConfigBlock = { enabled: boolean } & Record<string, unknown>;

/** The validated, defaulted, deep-frozen configuration. */
export interface Config {
  scoring: {
    /** Score weight per rule id or `rule-id.variant` (defaults, then rule metadata, then the file). */
    weights: Record<string, number>;
    correlation_window_minutes: number;
    decay_half_life_minutes: number;
    /** Risk ≥ medium → medium; > high → high; > critical → critical. */
    thresholds: { medium: number; high: number; critical: number };
    actions: Record<Severity, Action>;
  };
  /** One block per known rule id (every rule passed to loadConfig has one). */
  rules: Record<string, RuleConfigBlock>;
  /** RFC 4514 issuer DNs whose short-lived certificate churn is by design. */
  automation_issuers: string[];
  allowlists: AllowlistEntry[];
  enrichment: {
    assets_columns: { device_id: string; owner: string; kind: string; hostname: string; os: string; enrolled_at: string };
    identities_columns: { user: string; kind: string; role: string; department: string; country: string; email: string };
    /** Order in which a user is derived from the client certificate when the event names none. */
    user_from_certificate: UserFromCertificateField[];
    /** MaxMind-format .mmdb locating events without a location of their own (docs/geo.md); `--geoip` overrides it. Absent: none. */
    geoip?: string;
    /** OCSP lookups (docs/ocsp.md); `--ocsp` / `--ocsp-timeout` override `enabled` / `timeout_ms`. */
    ocsp: {
      enabled: boolean;
      timeout_ms: number;
      cache_size: number;
      responder_override: string | null;
      nonce: boolean;
      concurrency: number;
      budget_ms: number;
    };
  };
  input: { max_line_bytes: number; xfcc_trusted_hops: number };
}

/** Overrides for mergeConfig: any subset of Config, nested. Lists replace; mappings merge. */
export type ConfigOverrides = DeepPartial<Config>;
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface LoadConfigOptions {
  /** The rules of this build (detect/registry.ts RULES); their blocks are validated against their configSchema. */
  rules: readonly RuleSpec[];
}

/** A configuration error: every problem found, each with its key path (and file:line:col when known). */
export class ConfigError extends CertsignalError {
  /** Each problem on its own, already formatted (`file:line:col: key.path: message`). */
  readonly problems: string[];
  readonly issues: ConfigIssue[];
  constructor(source: string, problems: string[], issues: ConfigIssue[]) {
    const heading =
      problems.length === 1 ? problems[0] : `${source}: ${problems.length} configuration errors:\n  ${problems.join('\n  ')}`;
    super('E_CONFIG', heading);
    this.name = 'ConfigError';
    this.problems = problems;
    this.issues = issues;
  }
}

interface ConfigContext {
  rules: readonly RuleSpec[];
  source: string | undefined;
  validator: Validator;
  schema: ReturnType<typeof configSchema>;
}

/** What each Config was built from, for mergeConfig and allowlist diagnostics (Config itself stays plain data). */
const contexts = new WeakMap<Config, ConfigContext>();
const validators = new WeakMap<readonly RuleSpec[], { validator: Validator; schema: ReturnType<typeof configSchema> }>();

function compiledFor(rules: readonly RuleSpec[]): { validator: Validator; schema: ReturnType<typeof configSchema> } {
  let compiled = validators.get(rules);
  if (!compiled) {
    const schema = configSchema(rules);
    compiled = { validator: Compile(schema) as Validator, schema };
    validators.set(rules, compiled);
  }
  return compiled;
}

/**
 * Loads certsignal.yaml. With no `path`, returns the defaults: a `./certsignal.yaml` in the
 * working directory is deliberately NOT picked up on its own (pass `--config` explicitly), so a
 * run never changes behaviour because of a file someone left lying around.
 * Throws ConfigError (E_CONFIG) listing every problem, or CertsignalError E_CONFIG when the file
 * cannot be read or is not valid YAML (with file:line:col).
 */
export function loadConfig(path: string | undefined, options: LoadConfigOptions): Config {
  if (path === undefined) return buildConfig({}, options.rules, undefined, undefined);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new CertsignalError('E_CONFIG', `${path}: cannot read config file: ${why}`);
  }
  return parseConfig(text, path, options);
}

/** Like loadConfig, from YAML text already in memory; `source` names it in messages. */
export function parseConfig(text: string, source: string, options: LoadConfigOptions): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.slice(0, 10).map((error) => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      return `${source}:${line}:${col}: YAML syntax error: ${error.message.split('\n')[0]}`;
    });
    throw new CertsignalError(
      'E_CONFIG',
      problems.length === 1 ? problems[0] : `${source}: invalid YAML:\n  ${problems.join('\n  ')}`,
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new CertsignalError('E_CONFIG', `${source}: ${(error as Error).message}`);
  }
  if (data === null || data === undefined) data = {};
  const locate = (issue: ConfigIssue) => locateIssue(doc, lineCounter, issue);
  return buildConfig(data, options.rules, source, locate);
}

/**
 * Applies overrides (e.g. from CLI flags) to a loaded Config and validates the result like a file:
 * mappings merge, lists and scalars replace, undefined leaves a value alone. Returns a new frozen
 * Config; problems are reported against `source` (default "command line").
 */
export function mergeConfig(config: Config, overrides: ConfigOverrides, options: { source?: string } = {}): Config {
  const context = contexts.get(config);
  if (!context) throw new Error('mergeConfig: config was not produced by loadConfig');
  const merged = deepMerge(toPlain(config), overrides as Record<string, unknown>);
  return buildConfig(merged, context.rules, options.source ?? 'command line', undefined);
}

/**
 * Whether a signal (or alert-like record) is covered by a live allowlist entry: returns the reason
 * (`allowlists[2]: vendor device`) or null. Expiry is judged at `options.now` (default: the wall
 * clock); an expired entry that would have matched is reported once to `options.diagnostics`.
 */
export function allowlistMatches(
  config: Config,
  candidate: AllowlistCandidate,
  options: { now?: number; diagnostics?: Diagnostics } = {},
): string | null {
  return allowlistFor(config).match(candidate, options);
}

/** The compiled allowlist of a config (built once per Config; keeps which expired entries were reported). */
export function allowlistFor(config: Config): Allowlist {
  let allowlist = allowlists.get(config);
  if (!allowlist) {
    allowlist = new Allowlist(config.allowlists, contexts.get(config)?.source);
    allowlists.set(config, allowlist);
  }
  return allowlist;
}
const allowlists = new WeakMap<Config, Allowlist>();

// ---------------------------------------------------------------------------------------------

type Locate = (issue: ConfigIssue) => { line: number; col: number } | undefined;

function buildConfig(data: unknown, rules: readonly RuleSpec[], source: string | undefined, locate: Locate | undefined): Config {
  const { validator, schema } = compiledFor(rules);
  const label = source ?? 'defaults';
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(label, [`${label}: expected a mapping of settings at the top level`], []);
  }
  const input = dropNullSections(data as Record<string, unknown>);
  const issues = collectIssues(validator, schema, input);
  // Semantic checks only on values that passed the schema, so one mistake is reported once.
  const badPaths = new Set(issues.map((i) => formatPath(i.path)));
  issues.push(...semanticIssues(input as RawConfig, rules, badPaths));
  if (issues.length > 0) {
    issues.sort((a, b) => comparePosition(a, b, locate));
    const problems = issues.map((issue) => {
      const where = locate?.(issue);
      const prefix = where ? `${label}:${where.line}:${where.col}` : label;
      return `${prefix}: ${formatPath(issue.path)}: ${issue.message}`;
    });
    throw new ConfigError(label, problems, issues);
  }
  const config = deepFreeze(withDefaults(input as RawConfig, rules));
  contexts.set(config, { rules, source, validator, schema });
  return config;
}

function comparePosition(a: ConfigIssue, b: ConfigIssue, locate: Locate | undefined): number {
  const pa = locate?.(a);
  const pb = locate?.(b);
  if (pa && pb && (pa.line !== pb.line || pa.col !== pb.col)) return pa.line - pb.line || pa.col - pb.col;
  return formatPath(a.path) < formatPath(b.path) ? -1 : formatPath(a.path) > formatPath(b.path) ? 1 : 0;
}

/** The file as validated: every key optional. */
interface RawConfig {
  scoring?: Partial<Omit<Config['scoring'], 'thresholds' | 'actions'>> & {
    thresholds?: Partial<Config['scoring']['thresholds']>;
    actions?: Partial<Config['scoring']['actions']>;
  };
  rules?: Record<string, Record<string, unknown>>;
  automation_issuers?: string[];
  allowlists?: AllowlistEntry[];
  enrichment?: {
    assets_columns?: Partial<Config['enrichment']['assets_columns']>;
    identities_columns?: Partial<Config['enrichment']['identities_columns']>;
    user_from_certificate?: UserFromCertificateField[];
    geoip?: string;
    ocsp?: Partial<Config['enrichment']['ocsp']>;
  };
  input?: Partial<Config['input']>;
}

/** `scoring:` with nothing under it (YAML null) means "no overrides", like leaving it out. */
function dropNullSections(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (value === null) continue;
    if (key === 'scoring' || key === 'enrichment' || key === 'input') {
      out[key] = isPlainObject(value) ? dropNulls(value, false) : value;
    } else if (key === 'rules' && isPlainObject(value)) {
      out[key] = dropNulls(value, true);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Drops keys whose value is null when they are sections (nested mappings), or always when `all`. */
function dropNulls(section: Record<string, unknown>, all: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) {
    if (value === null && (all || key.endsWith('_columns') || key === 'thresholds' || key === 'actions' || key === 'weights'))
      continue;
    out[key] = value;
  }
  return out;
}

/** Checks the schema cannot express: cross-field order, known ids, parseable networks and dates. */
function semanticIssues(raw: RawConfig, rules: readonly RuleSpec[], badPaths: Set<string>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  // A path is fine for semantic checks when neither it nor anything under it failed the schema.
  const ok = (path: (string | number)[]) => {
    const text = formatPath(path);
    for (const bad of badPaths) {
      if (bad === text || bad.startsWith(`${text}.`) || bad.startsWith(`${text}[`)) return false;
    }
    return true;
  };
  const ruleIds = new Set([...rules.map((r) => r.meta.id), ...Object.keys(DEFAULT_WEIGHTS).map((k) => k.split('.')[0])]);
  const weightKeys = knownWeightKeys(rules);

  for (const key of Object.keys(raw.scoring?.weights ?? {})) {
    if (!ok(['scoring', 'weights', key]) || weightKeys.has(key)) continue;
    const [ruleId, variant] = splitRuleKey(key);
    const suggestion = didYouMean(key, weightKeys);
    const what =
      variant !== undefined && ruleIds.has(ruleId) ? `rule ${ruleId} has no variant "${variant}"` : `unknown rule "${ruleId}"`;
    issues.push({
      path: ['scoring', 'weights', key],
      message: `${what}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
      atKey: true,
    });
  }

  const thresholds = { ...DEFAULT_SCORING.thresholds, ...(raw.scoring?.thresholds ?? {}) };
  if (ok(['scoring', 'thresholds']) && !(thresholds.medium <= thresholds.high && thresholds.high <= thresholds.critical)) {
    issues.push({
      path: ['scoring', 'thresholds'],
      message: `must satisfy medium ≤ high ≤ critical, got medium ${thresholds.medium}, high ${thresholds.high}, critical ${thresholds.critical}`,
    });
  }

  (raw.automation_issuers ?? []).forEach((dn, index) => {
    const path = ['automation_issuers', index];
    if (!ok(path) || typeof dn !== 'string') return;
    const problem = dnProblem(dn);
    if (problem) issues.push({ path, message: problem });
  });

  (raw.allowlists ?? []).forEach((entry, index) => {
    const base: (string | number)[] = ['allowlists', index];
    if (badPaths.has(formatPath(base)) || !isPlainObject(entry)) return;
    if (!ALLOWLIST_MATCH_KEYS.some((key) => entry[key] !== undefined)) {
      issues.push({
        path: base,
        message: `entry matches nothing specific; give at least one of ${ALLOWLIST_MATCH_KEYS.join(', ')}`,
      });
    }
    if (typeof entry.rule === 'string' && ok([...base, 'rule']) && !ruleIds.has(entry.rule) && !weightKeys.has(entry.rule)) {
      const [ruleId, variant] = splitRuleKey(entry.rule);
      // rule-id.variant is fine for any variant of a known rule: variants need not have their own weight.
      if (!(variant !== undefined && ruleIds.has(ruleId))) {
        const suggestion = didYouMean(entry.rule, new Set([...ruleIds, ...weightKeys]));
        issues.push({
          path: [...base, 'rule'],
          message: `unknown rule "${entry.rule}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
        });
      }
    }
    if (typeof entry.source_cidr === 'string' && ok([...base, 'source_cidr'])) {
      const parsed = parseCidr(entry.source_cidr);
      if (!parsed.ok)
        issues.push({ path: [...base, 'source_cidr'], message: `invalid network "${entry.source_cidr}": ${parsed.error}` });
    }
    if (typeof entry.issuer === 'string' && ok([...base, 'issuer'])) {
      const problem = dnProblem(entry.issuer);
      if (problem) issues.push({ path: [...base, 'issuer'], message: problem });
    }
    if (typeof entry.expires === 'string' && ok([...base, 'expires']) && Number.isNaN(parseExpiry(entry.expires))) {
      issues.push({ path: [...base, 'expires'], message: `"${entry.expires}" is not a real date` });
    }
  });
  return issues;
}

function splitRuleKey(key: string): [string, string | undefined] {
  const dot = key.indexOf('.');
  return dot === -1 ? [key, undefined] : [key.slice(0, dot), key.slice(dot + 1)];
}

/** Weight keys a file may set: every rule id, every declared variant, every built-in default key. */
function knownWeightKeys(rules: readonly RuleSpec[]): Set<string> {
  const keys = new Set(Object.keys(DEFAULT_WEIGHTS));
  for (const rule of rules) {
    keys.add(rule.meta.id);
    for (const variant of Object.keys(rule.meta.variant_weights ?? {})) keys.add(`${rule.meta.id}.${variant}`);
  }
  return keys;
}

function defaultWeights(rules: readonly RuleSpec[]): Record<string, number> {
  const weights: Record<string, number> = { ...DEFAULT_WEIGHTS };
  for (const rule of rules) {
    // A rule's metadata is the authority on its own weights; the table covers rules not in this build.
    if (rule.meta.default_weight !== undefined) weights[rule.meta.id] = rule.meta.default_weight;
    for (const [variant, weight] of Object.entries(rule.meta.variant_weights ?? {}))
      weights[`${rule.meta.id}.${variant}`] = weight;
  }
  return weights;
}

function withDefaults(raw: RawConfig, rules: readonly RuleSpec[]): Config {
  const scoring = raw.scoring ?? {};
  const ruleBlocks: Record<string, RuleConfigBlock> = {};
  for (const rule of rules) {
    const block = raw.rules?.[rule.meta.id] ?? {};
    ruleBlocks[rule.meta.id] = deepMerge(
      { enabled: rule.meta.default_enabled ?? true, ...structuredClone(rule.defaults) },
      structuredClone(block),
    ) as RuleConfigBlock;
  }
  return {
    scoring: {
      weights: { ...defaultWeights(rules), ...(scoring.weights ?? {}) },
      correlation_window_minutes: scoring.correlation_window_minutes ?? DEFAULT_SCORING.correlation_window_minutes,
      decay_half_life_minutes: scoring.decay_half_life_minutes ?? DEFAULT_SCORING.decay_half_life_minutes,
      thresholds: { ...DEFAULT_SCORING.thresholds, ...(scoring.thresholds ?? {}) },
      actions: { ...DEFAULT_SCORING.actions, ...(scoring.actions ?? {}) },
    },
    rules: ruleBlocks,
    automation_issuers: [...(raw.automation_issuers ?? [])],
    allowlists: (raw.allowlists ?? []).map((entry) => {
      const out: AllowlistEntry = { ...entry };
      if (out.cert_sha256 !== undefined) out.cert_sha256 = normalizeDigest(out.cert_sha256);
      if (out.spki_sha256 !== undefined) out.spki_sha256 = normalizeDigest(out.spki_sha256);
      return out;
    }),
    enrichment: {
      assets_columns: { ...DEFAULT_ASSETS_COLUMNS, ...(raw.enrichment?.assets_columns ?? {}) },
      identities_columns: { ...DEFAULT_IDENTITIES_COLUMNS, ...(raw.enrichment?.identities_columns ?? {}) },
      user_from_certificate: [...(raw.enrichment?.user_from_certificate ?? USER_FROM_CERTIFICATE_FIELDS)],
      // Absent rather than null: the merged config is validated again, and the key takes a path only.
      ...(raw.enrichment?.geoip !== undefined ? { geoip: raw.enrichment.geoip } : {}),
      ocsp: { ...DEFAULT_OCSP, ...(raw.enrichment?.ocsp ?? {}) },
    },
    input: {
      max_line_bytes: raw.input?.max_line_bytes ?? DEFAULT_MAX_LINE_BYTES,
      xfcc_trusted_hops: raw.input?.xfcc_trusted_hops ?? 1,
    },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Mappings merge recursively; lists and scalars from `over` replace; undefined in `over` is ignored. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key] as Record<string, unknown>, value) : value;
  }
  return out;
}

/** A mutable deep copy (frozen objects cannot be merged into). */
function toPlain(config: Config): Record<string, unknown> {
  return structuredClone(config) as unknown as Record<string, unknown>;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}

/** file:line:col of an issue: the key itself for unknown keys, else the value. */
function locateIssue(doc: Document, lineCounter: LineCounter, issue: ConfigIssue): { line: number; col: number } | undefined {
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  let lastFound: Node | undefined = isNodeWithRange(node) ? node : undefined;
  for (const segment of issue.path) {
    keyNode = undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      keyNode = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      break;
    }
    if (isNodeWithRange(node)) lastFound = node;
    else if (keyNode) lastFound = keyNode;
  }
  const target = issue.atKey && keyNode ? keyNode : lastFound;
  const offset = target?.range?.[0];
  return offset === undefined ? undefined : lineCounter.linePos(offset);
}

function isNodeWithRange(node: unknown): node is Node {
  return node !== null && typeof node === 'object' && Array.isArray((node as Node).range);
}
