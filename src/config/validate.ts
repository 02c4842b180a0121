// Turns typebox validation errors into one readable issue per problem, with its key path:
// `rules.cert-churn.window_minutes: expected integer ≥ 1, got "sixty"`, and unknown keys with
// a "did you mean". Knows nothing about YAML; the loader adds file:line:col.
import type { TSchema } from 'typebox';
import type { Validator } from 'typebox/compile';
import { Settings } from 'typebox/system';
import { didYouMean } from './suggest.ts';

/** One configuration problem: where (key path) and what. */
export interface ConfigIssue {
  /** Key path from the document root; numbers index lists. */
  path: (string | number)[];
  message: string;
  /** When the issue is about a key itself (unknown key) rather than its value. */
  atKey?: boolean;
}

/** `rules.cert-churn.window_minutes`, `allowlists[2].cert_sha256`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out === '' ? '(top level)' : out;
}

interface RawError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

/** Runs `validator` and returns every problem in `value` (typebox stops at 8 by default). */
export function collectIssues(validator: Validator, schema: TSchema, value: unknown): ConfigIssue[] {
  if (validator.Check(value)) return [];
  const previous = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: 10_000 });
  let raw: RawError[];
  try {
    raw = validator.Errors(value) as unknown as RawError[];
  } finally {
    Settings.Set({ maxErrors: previous });
  }
  return issuesFromErrors(raw, schema, value);
}

function decodePointer(pointer: string): string[] {
  if (pointer === '' || pointer === '#') return [];
  return pointer
    .replace(/^#/, '')
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Instance path segments, with list indexes as numbers (so they print as `[2]`). */
function instanceSegments(pointer: string, root: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  let node: unknown = root;
  for (const segment of decodePointer(pointer)) {
    if (Array.isArray(node)) {
      out.push(Number(segment));
      node = node[Number(segment)];
    } else {
      out.push(segment);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return out;
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let node: unknown = root;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

function schemaAt(root: TSchema, schemaPath: string): Record<string, unknown> | undefined {
  let node: unknown = root;
  for (const segment of decodePointer(schemaPath)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node !== null && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

function issuesFromErrors(errors: RawError[], schema: TSchema, value: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  // Errors under an anyOf that itself failed only explain why each branch did not match: the
  // anyOf error says it better ("one of …").
  const failedUnions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.schemaPath);
  const insideFailedUnion = (e: RawError) =>
    failedUnions.some((u) => e.schemaPath.startsWith(`${u}/anyOf/`) || e.schemaPath.startsWith(`${u}/oneOf/`));

  const byInstance = new Map<string, RawError[]>();
  for (const error of errors) {
    if (error.keyword === 'boolean') continue; // the additionalProperties error names the keys
    if (insideFailedUnion(error)) continue;
    if (error.keyword === 'additionalProperties') {
      const parentPath = instanceSegments(error.instancePath, value);
      const parentSchema = schemaAt(schema, error.schemaPath);
      const known = Object.keys((parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
      const isRulesBlock = parentPath.length === 1 && parentPath[0] === 'rules';
      for (const name of (error.params.additionalProperties as string[]) ?? []) {
        const suggestion = didYouMean(name, known);
        const what = isRulesBlock ? `unknown rule "${name}"` : `unknown key "${name}"`;
        const hint = suggestion
          ? ` (did you mean "${suggestion}"?)`
          : known.length > 0 && known.length <= 12
            ? ` (expected one of: ${known.join(', ')})`
            : '';
        issues.push({ path: [...parentPath, name], message: `${what}${hint}`, atKey: true });
      }
      continue;
    }
    if (error.keyword === 'required') {
      const parentPath = instanceSegments(error.instancePath, value);
      for (const name of (error.params.requiredProperties as string[]) ?? []) {
        issues.push({ path: [...parentPath, name], message: 'required key is missing', atKey: true });
      }
      continue;
    }
    const list = byInstance.get(error.instancePath);
    if (list) list.push(error);
    else byInstance.set(error.instancePath, [error]);
  }

  for (const [instancePath, group] of byInstance) {
    // The outermost failing schema describes the expected value best (the union, not one branch).
    const outermost = group.reduce((a, b) => (b.schemaPath.length < a.schemaPath.length ? b : a));
    const path = instanceSegments(instancePath, value);
    const actual = valueAt(value, path);
    const at = schemaAt(schema, outermost.schemaPath);
    if (outermost.keyword === 'uniqueItems') {
      const seen = new Set<string>();
      const duplicate = Array.isArray(actual)
        ? actual.map((v) => JSON.stringify(v)).find((v) => seen.size === seen.add(v).size)
        : undefined;
      issues.push({ path, message: `expected a list without duplicates${duplicate ? `, got ${duplicate} more than once` : ''}` });
      continue;
    }
    const expected = at ? describeSchema(at) : outermost.message;
    issues.push({ path, message: `expected ${expected}, got ${describeValue(actual)}${hintFor(at, actual)}` });
  }
  return issues;
}

function bounds(schema: Record<string, unknown>): string[] {
  const parts: string[] = [];
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = schema as Record<string, number | undefined>;
  if (minimum !== undefined && maximum !== undefined) return [`between ${minimum} and ${maximum}`];
  if (minimum !== undefined) parts.push(`≥ ${minimum}`);
  if (exclusiveMinimum !== undefined) parts.push(`> ${exclusiveMinimum}`);
  if (maximum !== undefined) parts.push(`≤ ${maximum}`);
  if (exclusiveMaximum !== undefined) parts.push(`< ${exclusiveMaximum}`);
  return parts;
}

/** Human phrase for what a schema accepts: `integer ≥ 1`, `one of "allow", "deny"`. */
export function describeSchema(schema: Record<string, unknown>): string {
  if (typeof schema['x-expected'] === 'string') return schema['x-expected'];
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const union = (schema.anyOf ?? schema.oneOf) as Record<string, unknown>[] | undefined;
  if (Array.isArray(union)) {
    if (union.every((m) => 'const' in m)) return `one of ${union.map((m) => JSON.stringify(m.const)).join(', ')}`;
    return union.map(describeSchema).join(' or ');
  }
  switch (schema.type) {
    case 'integer':
    case 'number':
      return [schema.type, ...bounds(schema)].join(' ');
    case 'string': {
      const parts = [schema.minLength === 1 ? 'non-empty string' : 'string'];
      if (typeof schema.pattern === 'string') parts.push(`matching /${schema.pattern}/`);
      return parts.join(' ');
    }
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'array': {
      const items = schema.items as Record<string, unknown> | undefined;
      const of = items && typeof items === 'object' ? ` of ${describeSchema(items)}` : '';
      return `list${of}${schema.uniqueItems ? ' without duplicates' : ''}`;
    }
    case 'object':
      return 'mapping';
    default:
      return 'a valid value';
  }
}

/** How a YAML value reads back to its author. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (Array.isArray(value)) return `a list (${value.length} item${value.length === 1 ? '' : 's'})`;
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** A nudge for the usual YAML surprises. */
function hintFor(schema: Record<string, unknown> | undefined, actual: unknown): string {
  if (!schema) return '';
  if (schema.type === 'boolean' && typeof actual === 'string' && /^(yes|no|on|off|y|n|true|false)$/i.test(actual)) {
    return ' (write true or false, unquoted)';
  }
  if (
    (schema.type === 'integer' || schema.type === 'number') &&
    typeof actual === 'string' &&
    actual.trim() !== '' &&
    Number.isFinite(Number(actual))
  ) {
    return ' (remove the quotes)';
  }
  if (schema.type === 'string' && (typeof actual === 'number' || typeof actual === 'boolean')) {
    return ` (quote it: "${actual}")`;
  }
  return '';
}
