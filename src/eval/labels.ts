// Reads and validates a fleet's ground truth (labels.json, version 1, written by `certsignal
// simulate`; contract in docs/eval.md). Only `certsignal eval` reads it — never the detection pipeline.
import { readFileSync } from 'node:fs';
import { CertsignalError, ExitCode } from '../errors.ts';
import { SEVERITIES, type Severity } from '../schema/alert.ts';

/** Attack types and benign behaviours come from the simulator's contract (an unknown type in a
 * labels file is still accepted: newer simulators may add some). */
export { ATTACK_TYPES, BENIGN_BEHAVIOURS } from '../simulate/types.ts';

/** The entities a labelled attack or benign behaviour involves; every list may be empty. */
export interface LabelledEntities {
  users: string[];
  devices: string[];
  cert_sha256: string[];
  spki_sha256: string[];
  source_ips: string[];
}

export interface LabelledAttack extends LabelledEntities {
  id: string;
  type: string;
  /** ISO 8601 UTC: first and last malicious event (inclusive). */
  start: string;
  end: string;
  startMs: number;
  endMs: number;
  /** Rules of the current ruleset that should catch it; empty when none can. */
  expected_rules: string[];
  /** Minimum severity the attack must reach; null (or, in hand-built labels, absent) when the label makes no promise. */
  expected_severity?: Severity | null;
  description: string;
}

export interface LabelledBenign extends LabelledEntities {
  id: string;
  behaviour: string;
  start: string;
  end: string;
  startMs: number;
  endMs: number;
  description: string;
}

export interface Labels {
  version: 1;
  generator: string | null;
  seed: string | null;
  /** Simulated period [start, end), ISO 8601 UTC. */
  start: string;
  end: string;
  formats: string[];
  attacks: LabelledAttack[];
  benign: LabelledBenign[];
}

function fail(file: string, field: string, reason: string): never {
  throw new CertsignalError('E_INPUT', `${file}: ${field}: ${reason}`, ExitCode.INPUT);
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(obj: Json, key: string, path: string, file: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.length === 0)
    fail(file, `${path}${key}`, v === undefined ? 'missing' : 'expected a non-empty string');
  return v;
}

function optionalStr(obj: Json, key: string, path: string, file: string): string | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') fail(file, `${path}${key}`, 'expected a string');
  return v;
}

/** An optional severity (absent or null → null); anything but low|medium|high|critical is an error. */
function optionalSeverity(obj: Json, key: string, path: string, file: string): Severity | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || !(SEVERITIES as readonly string[]).includes(v))
    fail(file, `${path}${key}`, `expected one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(v)}`);
  return v as Severity;
}

function time(obj: Json, key: string, path: string, file: string): { iso: string; ms: number } {
  const iso = str(obj, key, path, file);
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) fail(file, `${path}${key}`, `not an ISO 8601 time: "${iso}"`);
  return { iso, ms };
}

/** A list of strings; `required` lists must be present, the others default to []. */
function strings(obj: Json, key: string, path: string, file: string, required = false): string[] {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (required) fail(file, `${path}${key}`, 'missing (use [] when empty)');
    return [];
  }
  if (!Array.isArray(v)) fail(file, `${path}${key}`, 'expected an array of strings');
  v.forEach((item, i) => {
    if (typeof item !== 'string') fail(file, `${path}${key}[${i}]`, 'expected a string');
  });
  return v as string[];
}

function entities(obj: Json, path: string, file: string): LabelledEntities {
  return {
    users: strings(obj, 'users', path, file),
    devices: strings(obj, 'devices', path, file),
    cert_sha256: strings(obj, 'cert_sha256', path, file),
    spki_sha256: strings(obj, 'spki_sha256', path, file),
    source_ips: strings(obj, 'source_ips', path, file),
  };
}

function window(obj: Json, path: string, file: string): { start: string; end: string; startMs: number; endMs: number } {
  const start = time(obj, 'start', path, file);
  const end = time(obj, 'end', path, file);
  if (end.ms < start.ms) fail(file, `${path}end`, `before ${path}start (${end.iso} < ${start.iso})`);
  return { start: start.iso, end: end.iso, startMs: start.ms, endMs: end.ms };
}

/**
 * Parses labels.json text. Throws a CertsignalError naming the file and the offending field
 * (`labels.json: attacks[2].start: not an ISO 8601 time`) on anything malformed.
 */
export function parseLabels(text: string, file = 'labels.json'): Labels {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new CertsignalError('E_INPUT', `${file}: not valid JSON (${(error as Error).message})`, ExitCode.INPUT);
  }
  if (!isObject(doc)) fail(file, '(root)', 'expected a JSON object');
  if (doc.version !== 1) fail(file, 'version', `expected 1, got ${JSON.stringify(doc.version)}`);
  const period = window(doc, '', file);
  if (!Array.isArray(doc.attacks))
    fail(file, 'attacks', doc.attacks === undefined ? 'missing (use [] when empty)' : 'expected an array');
  const benignRaw = doc.benign ?? [];
  if (!Array.isArray(benignRaw)) fail(file, 'benign', 'expected an array');
  const ids = new Set<string>();
  const uniqueId = (id: string, path: string) => {
    if (ids.has(id)) fail(file, `${path}id`, `duplicate id "${id}"`);
    ids.add(id);
  };
  const attacks = doc.attacks.map((raw, i): LabelledAttack => {
    const path = `attacks[${i}].`;
    if (!isObject(raw)) fail(file, `attacks[${i}]`, 'expected an object');
    const id = str(raw, 'id', path, file);
    uniqueId(id, path);
    return {
      id,
      type: str(raw, 'type', path, file),
      ...window(raw, path, file),
      ...entities(raw, path, file),
      expected_rules: strings(raw, 'expected_rules', path, file, true),
      expected_severity: optionalSeverity(raw, 'expected_severity', path, file),
      description: optionalStr(raw, 'description', path, file) ?? '',
    };
  });
  const benign = benignRaw.map((raw, i): LabelledBenign => {
    const path = `benign[${i}].`;
    if (!isObject(raw)) fail(file, `benign[${i}]`, 'expected an object');
    const id = str(raw, 'id', path, file);
    uniqueId(id, path);
    return {
      id,
      behaviour: str(raw, 'behaviour', path, file),
      ...window(raw, path, file),
      ...entities(raw, path, file),
      description: optionalStr(raw, 'description', path, file) ?? '',
    };
  });
  return {
    version: 1,
    generator: optionalStr(doc, 'generator', '', file),
    seed: optionalStr(doc, 'seed', '', file),
    start: period.start,
    end: period.end,
    formats: strings(doc, 'formats', '', file),
    attacks,
    benign,
  };
}

/** Reads and parses labels.json; a missing or unreadable file is a CertsignalError naming it. */
export function loadLabels(path: string): Labels {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'not found (eval needs the ground truth that `certsignal simulate` writes)'
        : `cannot be read (${code ?? (error as Error).message})`;
    throw new CertsignalError('E_INPUT', `${path}: ${why}`, ExitCode.INPUT);
  }
  return parseLabels(text, path);
}
