// `simulateFleet`: plans a labelled fleet from the seed (scenario.ts), issues its certificates
// with real keys, and writes the fleet directory of the LABELS contract (docs/simulate.md): ECS
// NDJSON, optional Zeek and Suricata views of the same sessions, enrichment files, labels.json.
import { createHash, X509Certificate } from 'node:crypto';
import { closeSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CertsignalError } from '../errors.ts';
import {
  AUTOMATION_DN,
  assetsCsv,
  createFleetPki,
  dnToRfc4514,
  EcsFormatter,
  type FleetCertificate,
  identitiesCsv,
  issuePlans,
} from '../fleet/index.ts';
import { caIssuanceCsv, mdmEnrollmentsCsv, SCEP_CONNECTOR, WORKLOAD_PROVISIONER } from './calog.ts';
import { certificatesVisible, SuricataWriter, sessionNet, ZeekWriter } from './network.ts';
import { planSimulation, type SimulationPlan, TooFewUsersError } from './scenario.ts';
import { promisedSeverity } from './severity.ts';
import {
  ATTACK_TYPES,
  type AttackLabel,
  type AttackType,
  BENIGN_BEHAVIOURS,
  type BenignBehaviour,
  type BenignLabel,
  type Labels,
  OUTPUT_FORMATS,
  type OutputFormat,
  type SimulateOptions,
  type SimulationResult,
} from './types.ts';

export {
  CA_CSV_COLUMNS,
  CA_NAMES,
  type CaLogRecord,
  csvField,
  MDM_CSV_COLUMNS,
  type MdmLogRecord,
  SCEP_CONNECTOR,
  sanColumn,
  TEMPLATES,
  WORKLOAD_PROVISIONER,
} from './calog.ts';
export { planSimulation, type SimulationPlan, SWEEP_SERVICES, VOLUME_HISTORY_DAYS } from './scenario.ts';
export { ja3StringOf, ja4Of, SIM_TLS_CLIENTS } from './tls.ts';
export * from './types.ts';

const DAY = 86_400_000;

/** Monday 2 March 2026, 00:00 UTC. */
export const DEFAULT_START = Date.parse('2026-03-02T00:00:00Z');
export const DEFAULT_DAYS = 14;
export const DEFAULT_USERS = 200;
export const DEFAULT_SEED = '1';

/** Options of `simulateFleet`; everything but `outDir` has a default. */
export interface SimulateFleetOptions {
  outDir: string;
  seed?: string;
  days?: number;
  users?: number;
  /** Epoch ms or ISO date; truncated to its UTC midnight. */
  start?: number | string;
  attacks?: readonly AttackType[];
  benign?: readonly BenignBehaviour[];
  /** ECS is always written. */
  formats?: readonly OutputFormat[];
  /** Certificate bytes in the events (default true). */
  includeCertificates?: boolean;
  /** The command line written into README.md. */
  commandLine?: string;
}

/** Validated, defaulted options (throws CertsignalError on bad values). */
export function resolveSimulateOptions(o: Omit<SimulateFleetOptions, 'outDir'>): SimulateOptions {
  const days = o.days ?? DEFAULT_DAYS;
  const users = o.users ?? DEFAULT_USERS;
  if (!Number.isInteger(days) || days < 1 || days > 366)
    throw new CertsignalError('E_USAGE', `--days must be an integer from 1 to 366 (got ${days})`);
  if (!Number.isInteger(users) || users < 2 || users > 100_000)
    throw new CertsignalError('E_USAGE', `--users must be an integer from 2 to 100000 (got ${users})`);
  const startMs = typeof o.start === 'string' ? Date.parse(o.start) : (o.start ?? DEFAULT_START);
  if (!Number.isFinite(startMs)) throw new CertsignalError('E_USAGE', `--start is not a date: ${String(o.start)}`);
  const start = Math.floor(startMs / DAY) * DAY;
  for (const a of o.attacks ?? []) {
    if (!ATTACK_TYPES.includes(a))
      throw new CertsignalError('E_USAGE', `unknown attack type "${a}"; valid: ${ATTACK_TYPES.join(', ')}`);
  }
  for (const b of o.benign ?? []) {
    if (!BENIGN_BEHAVIOURS.includes(b))
      throw new CertsignalError('E_USAGE', `unknown benign behaviour "${b}"; valid: ${BENIGN_BEHAVIOURS.join(', ')}`);
  }
  for (const f of o.formats ?? []) {
    if (!OUTPUT_FORMATS.includes(f))
      throw new CertsignalError('E_USAGE', `unknown format "${f}"; valid: ${OUTPUT_FORMATS.join(', ')}`);
  }
  const wanted = new Set<OutputFormat>(['ecs', ...(o.formats ?? [])]);
  return {
    seed: o.seed ?? DEFAULT_SEED,
    days,
    users,
    start,
    // Keep the contract's order whatever order the user typed.
    attacks: ATTACK_TYPES.filter((a) => (o.attacks ?? ATTACK_TYPES).includes(a)),
    benign: BENIGN_BEHAVIOURS.filter((b) => (o.benign ?? BENIGN_BEHAVIOURS).includes(b)),
    formats: OUTPUT_FORMATS.filter((f) => wanted.has(f)),
    includeCertificates: o.includeCertificates ?? true,
  };
}

/** SHA-256 of a certificate's SubjectPublicKeyInfo, lowercase hex. */
function spkiSha256(cert: FleetCertificate): string {
  const spki = new X509Certificate(cert.der).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

/** Writes lines to a file in large chunks. */
class LineFile {
  private readonly fd: number;
  private chunk: string[] = [];
  private size = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  push(line: string): void {
    this.chunk.push(line);
    this.size += line.length;
    if (this.size > 4_000_000) this.flush();
  }
  private flush(): void {
    if (this.chunk.length > 0) writeSync(this.fd, `${this.chunk.join('\n')}\n`);
    this.chunk = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** labels.json from the plan and the issued certificates. */
function buildLabels(plan: SimulationPlan, certs: ReadonlyMap<string, FleetCertificate>): Labels {
  const { options, estate } = plan;
  const period = new Map<string, { first: number; last: number }>();
  const extend = (scenario: string | undefined, ts: number): void => {
    if (scenario === undefined) return;
    const p = period.get(scenario);
    if (!p) period.set(scenario, { first: ts, last: ts });
    else {
      p.first = Math.min(p.first, ts);
      p.last = Math.max(p.last, ts);
    }
  };
  for (const e of plan.events) extend(e.scenario, e.ts);
  // An attack that issues certificates starts at its first issuance (a CA-log rule alerts then).
  for (const c of plan.caRecords) extend(c.scenario, c.ts);
  for (const m of plan.mdmRecords) extend(m.scenario, m.ts);
  const digest = (ids: readonly string[]): string[] => [...new Set(ids.map((id) => (certs.get(id) as FleetCertificate).sha256))];
  const attacks: AttackLabel[] = [];
  const benign: BenignLabel[] = [];
  for (const l of plan.labels) {
    const p = period.get(l.id);
    const first = l.start ?? p?.first ?? options.start;
    const last = l.end ?? (l.start !== undefined ? plan.end - 1 : (p?.last ?? plan.end - 1));
    if (l.kind === 'attack') {
      if (!p) throw new Error(`attack ${l.id} has no events`);
      const severity = promisedSeverity(l.type, l.expectedRules, l.variant);
      attacks.push({
        id: l.id,
        type: l.type as AttackType,
        start: iso(p.first),
        end: iso(p.last),
        users: l.users,
        devices: l.devices,
        cert_sha256: digest(l.certIds),
        spki_sha256: [...new Set(l.certIds.map((id) => spkiSha256(certs.get(id) as FleetCertificate)))],
        source_ips: l.sourceIps,
        expected_rules: l.expectedRules,
        ...(severity ? { expected_severity: severity } : {}),
        description: l.description,
      });
    } else {
      benign.push({
        id: l.id,
        behaviour: l.type as BenignBehaviour,
        start: iso(first),
        end: iso(Math.max(first, last)),
        users: l.users,
        devices: l.devices,
        cert_sha256: digest(l.certIds),
        description: l.description,
      });
    }
  }
  const humans = estate.users.filter((u) => u.kind === 'human').length;
  return {
    version: 1,
    generator: 'certsignal simulate',
    seed: options.seed,
    start: iso(options.start),
    end: iso(plan.end),
    days: options.days,
    formats: [...options.formats],
    population: {
      users: estate.users.length,
      human_users: humans,
      service_accounts: estate.users.length - humans,
      devices: estate.devices.length,
    },
    attacks,
    benign,
  };
}

/** The command line that regenerates a fleet. */
export function simulateCommandLine(o: SimulateOptions, outDir: string): string {
  const parts = [
    'certsignal simulate',
    `--days ${o.days}`,
    `--users ${o.users}`,
    `--seed ${o.seed}`,
    `--start ${iso(o.start).slice(0, 10)}`,
  ];
  if (o.formats.length > 1) parts.push(`--formats ${o.formats.join(',')}`);
  if (o.attacks.length === 0) parts.push('--no-attacks');
  else if (o.attacks.length < ATTACK_TYPES.length) parts.push(`--attacks ${o.attacks.join(',')}`);
  if (o.benign.length === 0) parts.push('--no-benign');
  else if (o.benign.length < BENIGN_BEHAVIOURS.length) parts.push(`--benign ${o.benign.join(',')}`);
  if (o.includeCertificates === false) parts.push('--no-pem');
  parts.push(`--out ${outDir}`);
  return parts.join(' ');
}

function readme(labels: Labels, result: Omit<SimulationResult, 'elapsedMs' | 'labels' | 'outDir'>, commandLine: string): string {
  const lines = [
    '# Simulated fleet (certsignal simulate)',
    '',
    'Regenerate with (structure is deterministic under the seed; key material, hence certificate digests, is fresh each run):',
    '',
    '```sh',
    commandLine,
    '```',
    '',
    `Period ${labels.start} – ${labels.end} (${labels.days} days). Population: ${labels.population.human_users} people, ` +
      `${labels.population.service_accounts} service accounts, ${labels.population.devices} devices. ` +
      `${result.sessions} sessions, ${result.passiveClientCertSessions} of them below TLS 1.3 (client certificate visible to Zeek/Suricata). ` +
      `${result.certificatesIssued} certificates issued; ${result.caRecords} CA log rows, ${result.mdmRecords} MDM log rows.`,
    '',
    '| file | what |',
    '|---|---|',
    '| `events.ndjson` | ECS NDJSON as an mTLS gateway writes it (user, device, geo, client certificate) |',
  ];
  if (labels.formats.includes('zeek'))
    lines.push(
      '| `zeek/ssl.log`, `zeek/x509.log` | the same sessions as a Zeek sensor logs them (TSV; certificates only below TLS 1.3) |',
    );
  if (labels.formats.includes('suricata'))
    lines.push('| `suricata/eve.json` | the same sessions as Suricata EVE `tls` events (certificates only below TLS 1.3) |');
  lines.push(
    '| `ca/issuance.csv` | CA log (format `ca-csv`): every certificate the device issuing CA and the automation CA issued, renewed or revoked |',
    '| `mdm/enrollments.csv` | MDM log (format `mdm-csv`): device enrollments, wipes and retirements |',
    '| `assets.csv`, `identities.csv` | asset registry and identity store |',
    '| `trust-anchors.pem` | Root CA G2, Device Issuing CA 1, Workload Automation CA |',
    '| `crl.pem` | CRLs of the Device Issuing CA and the Workload Automation CA |',
    '| `certsignal.yaml` | lists the automation CA under `automation_issuers` |',
    '| `labels.json` | ground truth for `certsignal eval` (never read by `analyze`) |',
    '',
    'Analyze it:',
    '',
    '```sh',
    'certsignal analyze --assets assets.csv --identities identities.csv --trust-anchors trust-anchors.pem \\',
    '  --crl crl.pem --config certsignal.yaml events.ndjson ca/issuance.csv mdm/enrollments.csv',
    '```',
    '',
    '## Injected attacks',
    '',
    '| id | type | start (UTC) | expected rules | promised severity | what |',
    '|---|---|---|---|---|---|',
    ...labels.attacks.map(
      (a) =>
        `| ${a.id} | \`${a.type}\` | ${a.start.slice(0, 16)} | ${a.expected_rules.join(', ') || '(none)'} | ${a.expected_severity ?? '-'} | ${a.description} |`,
    ),
    '',
    '## Benign behaviour',
    '',
    '| id | behaviour | start (UTC) | what |',
    '|---|---|---|---|',
    ...labels.benign.map((b) => `| ${b.id} | \`${b.behaviour}\` | ${b.start.slice(0, 16)} | ${b.description} |`),
    '',
  );
  return lines.join('\n');
}

/** Simulates a labelled fleet and writes its directory. */
export async function simulateFleet(options: SimulateFleetOptions): Promise<SimulationResult> {
  const began = performance.now();
  const resolved = resolveSimulateOptions(options);
  let plan: SimulationPlan;
  try {
    plan = planSimulation(resolved);
  } catch (err) {
    if (err instanceof TooFewUsersError) throw new CertsignalError('E_USAGE', err.message);
    throw err;
  }
  const pki = await createFleetPki(resolved.seed);
  // Issue only the certificates some event presents (plus the gateway's and revoked ones), so
  // rotation plans for days a workload never called in are not signed for nothing.
  const usedIds = new Set<string>([plan.gatewayCertId, ...plan.revocations.map((r) => r.certId)]);
  for (const e of plan.events) if (e.certId) usedIds.add(e.certId);
  for (const l of plan.labels) for (const id of l.certIds) usedIds.add(id);
  // Every certificate in the CA log is issued too (its row carries the serial, digest and PEM).
  for (const c of plan.caRecords) usedIds.add(c.certId);
  const certs = await issuePlans(
    pki,
    plan.plans.filter((p) => usedIds.has(p.id)),
  );
  const caOf: Record<string, FleetCertificate | null> = {
    issuing: pki.issuing.certificate,
    automation: pki.automation.certificate,
    foreign: pki.foreign.certificate,
    'self-signed': null,
  };
  const chains = new Map<string, FleetCertificate[]>();
  for (const p of plan.plans) {
    const leaf = certs.get(p.id);
    if (!leaf) continue;
    const ca = caOf[p.authority];
    chains.set(p.id, ca ? [leaf, ca] : [leaf]);
  }
  const gatewayChain = chains.get(plan.gatewayCertId) as FleetCertificate[];

  const out = options.outDir;
  mkdirSync(out, { recursive: true });
  const include = resolved.includeCertificates !== false;
  const ecs = new EcsFormatter(certs, { includePem: include });
  const ecsFile = new LineFile(join(out, 'events.ndjson'));
  const wantZeek = resolved.formats.includes('zeek');
  const wantSuricata = resolved.formats.includes('suricata');
  const zeek = wantZeek ? new ZeekWriter(gatewayChain, include) : null;
  const suricata = wantSuricata ? new SuricataWriter(gatewayChain, include) : null;
  let eveFile: LineFile | null = null;
  if (suricata) {
    mkdirSync(join(out, 'suricata'), { recursive: true });
    eveFile = new LineFile(join(out, 'suricata', 'eve.json'));
  }
  let passive = 0;
  plan.events.forEach((e, index) => {
    ecsFile.push(ecs.format(e));
    const chain = e.certId ? (chains.get(e.certId) ?? []) : [];
    if (certificatesVisible(e.tls.version) && chain.length > 0) passive++;
    if (zeek || suricata) {
      const net = sessionNet(resolved.seed, index, e);
      zeek?.add(e, net, chain);
      eveFile?.push((suricata as SuricataWriter).format(e, net, chain));
    }
  });
  ecsFile.close();
  eveFile?.close();
  if (zeek) {
    mkdirSync(join(out, 'zeek'), { recursive: true });
    const logs = zeek.finish();
    writeFileSync(join(out, 'zeek', 'ssl.log'), logs.ssl);
    writeFileSync(join(out, 'zeek', 'x509.log'), logs.x509);
  }

  const revocationEntries = [
    ...plan.historicRevocations.map((r) => ({ serial: r.serial, revokedAt: new Date(r.revokedAt) })),
    ...plan.revocations.map((r) => ({
      serial: (certs.get(r.certId) as FleetCertificate).serial,
      revokedAt: new Date(r.revokedAt),
    })),
  ];
  // The CRL as published an hour before the end of the period. nextUpdate is ten years on (as in the
  // demo data): analyze warns about a CRL past its nextUpdate by the wall clock, and a fleet is
  // analysed long after its simulated period.
  const thisUpdate = new Date(plan.end - 3_600_000);
  const nextUpdate = new Date(thisUpdate.getTime() + 3652 * DAY);
  const issuingCrl = await pki.issuing.crl(revocationEntries, thisUpdate, nextUpdate);
  const automationCrl = await pki.automation.crl([], thisUpdate, nextUpdate);
  writeFileSync(join(out, 'crl.pem'), `${issuingCrl.pem.trim()}\n${automationCrl.pem.trim()}\n`);
  writeFileSync(
    join(out, 'trust-anchors.pem'),
    `${[pki.root, pki.issuing, pki.automation].map((ca) => ca.certificate.pem.trim()).join('\n')}\n`,
  );
  mkdirSync(join(out, 'ca'), { recursive: true });
  mkdirSync(join(out, 'mdm'), { recursive: true });
  const planById = new Map(plan.plans.map((p) => [p.id, p]));
  writeFileSync(join(out, 'ca', 'issuance.csv'), caIssuanceCsv(plan.caRecords, planById, certs, include));
  writeFileSync(join(out, 'mdm', 'enrollments.csv'), mdmEnrollmentsCsv(plan.mdmRecords));
  writeFileSync(join(out, 'assets.csv'), assetsCsv(plan.estate.devices));
  writeFileSync(join(out, 'identities.csv'), identitiesCsv(plan.estate.users));
  writeFileSync(
    join(out, 'certsignal.yaml'),
    [
      '# certsignal configuration for a simulated fleet (certsignal simulate).',
      '# Workload certificates from the automation CA rotate daily by design: listing that CA here keeps',
      '# rotation from being reported as certificate churn.',
      'automation_issuers:',
      `  - "${dnToRfc4514(AUTOMATION_DN)}"`,
      "# The MDM's SCEP connector and the workload provisioner request certificates for others by design",
      '# (ca/issuance.csv names them as requester of every device and workload certificate).',
      'rules:',
      '  requester-subject-mismatch:',
      `    allowed_requesters: ["${SCEP_CONNECTOR}", "${WORKLOAD_PROVISIONER}"]`,
      '',
    ].join('\n'),
  );
  const labels = buildLabels(plan, certs);
  writeFileSync(join(out, 'labels.json'), `${JSON.stringify(labels, null, 2)}\n`);
  const partial = {
    sessions: plan.events.length,
    passiveClientCertSessions: passive,
    x509Records: zeek?.x509Records ?? 0,
    certificatesIssued: certs.size,
    caRecords: plan.caRecords.length,
    mdmRecords: plan.mdmRecords.length,
    files: {} as Record<string, number>,
  };
  writeFileSync(join(out, 'README.md'), readme(labels, partial, options.commandLine ?? simulateCommandLine(resolved, out)));
  const names = [
    'events.ndjson',
    'assets.csv',
    'identities.csv',
    'trust-anchors.pem',
    'crl.pem',
    'certsignal.yaml',
    'labels.json',
    'README.md',
    'ca/issuance.csv',
    'mdm/enrollments.csv',
  ];
  if (zeek) names.push('zeek/ssl.log', 'zeek/x509.log');
  if (suricata) names.push('suricata/eve.json');
  for (const n of names) partial.files[n] = statSync(join(out, n)).size;
  return { outDir: out, labels, ...partial, elapsedMs: performance.now() - began };
}
