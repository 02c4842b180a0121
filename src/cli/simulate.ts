// `certsignal simulate`: writes a labelled, simulated fleet directory (events in ECS and optionally
// Zeek/Suricata, enrichment files, labels.json) for `certsignal eval` and the benchmarks.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { CertsignalError } from '../errors.ts';
import {
  ATTACK_TYPES,
  type AttackType,
  BENIGN_BEHAVIOURS,
  type BenignBehaviour,
  OUTPUT_FORMATS,
  type OutputFormat,
  resolveSimulateOptions,
  simulateCommandLine,
  simulateFleet,
} from '../simulate/index.ts';

export interface SimulateCliOptions {
  days?: string;
  users?: string;
  seed?: string;
  out: string;
  /** Comma-separated: ecs,zeek,suricata (ECS is always written). */
  formats?: string;
  /** Comma-separated attack types (default: all). */
  attacks?: string;
  /** Comma-separated benign behaviours (default: all). */
  benign?: string;
  noAttacks?: boolean;
  noBenign?: boolean;
  /** First day, ISO date (default 2026-03-02). */
  start?: string;
  /** Certificate bytes in the events (default true; `--no-pem` sets false). */
  pem?: boolean;
  quiet?: boolean;
  force?: boolean;
}

function list<T extends string>(value: string | undefined, valid: readonly T[], what: string, flag: string): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const item of items) {
    if (!(valid as readonly string[]).includes(item)) {
      throw new CertsignalError('E_USAGE', `${flag}: unknown ${what} "${item}"; valid: ${valid.join(', ')}`);
    }
  }
  return items as T[];
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new CertsignalError('E_USAGE', `${flag} must be a positive integer (got "${value}")`);
  return Number(value);
}

/** Runs `certsignal simulate`; returns the exit code. User errors throw CertsignalError. */
export async function runSimulate(opts: SimulateCliOptions): Promise<number> {
  if (!opts.out) throw new CertsignalError('E_USAGE', '--out DIR is required');
  if (existsSync(opts.out)) {
    if (!statSync(opts.out).isDirectory())
      throw new CertsignalError('E_USAGE', `--out ${opts.out} exists and is not a directory`);
    if (readdirSync(opts.out).length > 0 && !opts.force) {
      throw new CertsignalError('E_USAGE', `--out ${opts.out} exists and is not empty; use --force to write into it`);
    }
  }
  if (opts.noAttacks && opts.attacks !== undefined)
    throw new CertsignalError('E_USAGE', '--attacks and --no-attacks cannot be combined');
  if (opts.noBenign && opts.benign !== undefined)
    throw new CertsignalError('E_USAGE', '--benign and --no-benign cannot be combined');
  let start: string | undefined;
  if (opts.start !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}(T00:00(:00(\.000)?)?Z)?$/.test(opts.start) || Number.isNaN(Date.parse(opts.start))) {
      throw new CertsignalError('E_USAGE', `--start must be a date like 2026-03-02 (got "${opts.start}")`);
    }
    start = opts.start.length === 10 ? `${opts.start}T00:00:00Z` : opts.start;
  }
  const resolved = resolveSimulateOptions({
    seed: opts.seed,
    days: integer(opts.days, '--days'),
    users: integer(opts.users, '--users'),
    start,
    attacks: opts.noAttacks ? [] : list<AttackType>(opts.attacks, ATTACK_TYPES, 'attack type', '--attacks'),
    benign: opts.noBenign ? [] : list<BenignBehaviour>(opts.benign, BENIGN_BEHAVIOURS, 'benign behaviour', '--benign'),
    formats: list<OutputFormat>(opts.formats, OUTPUT_FORMATS, 'format', '--formats'),
    includeCertificates: opts.pem ?? true,
  });
  const result = await simulateFleet({ ...resolved, outDir: opts.out, commandLine: simulateCommandLine(resolved, opts.out) });
  if (!opts.quiet) {
    const kb = (n: number) => (n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`);
    const p = result.labels.population;
    process.stderr.write(
      `certsignal simulate: ${result.labels.days} days, ${p.human_users} people + ${p.service_accounts} service accounts, ${p.devices} devices, ` +
        `${result.sessions} sessions (${result.passiveClientCertSessions} below TLS 1.3), ${result.certificatesIssued} certificates, ` +
        `${result.labels.attacks.length} attacks, ${result.labels.benign.length} benign behaviours in ${(result.elapsedMs / 1000).toFixed(1)} s\n`,
    );
    for (const [name, size] of Object.entries(result.files))
      process.stderr.write(`  ${opts.out.replace(/\/$/, '')}/${name}  ${kb(size)}\n`);
  }
  return 0;
}
