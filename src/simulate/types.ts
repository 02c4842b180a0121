// The contract of the fleet directory (.tmp/LABELS.md → docs/simulate.md): attack and benign
// behaviour names, labels.json (version 1) and the simulator's options and result.
import type { Severity } from '../schema/alert.ts';

/** Injected attacks, each toggleable (`--attacks a,b` / `--no-attacks`). */
export const ATTACK_TYPES = [
  'churn-after-key-theft',
  'stolen-cert-replay',
  'key-shared-across-accounts',
  'service-cert-on-laptop',
  'expired-cert-use',
  'revoked-cert-use',
  'foreign-or-self-signed-cert',
  'tls-stack-change',
  'night-service-sweep',
  'data-exfiltration',
  'rogue-issuance',
  'esc1-request',
] as const;
export type AttackType = (typeof ATTACK_TYPES)[number];

/** Legitimate behaviour that should not alarm, each toggleable (`--benign a,b` / `--no-benign`). */
export const BENIGN_BEHAVIOURS = [
  'automation-rotation',
  'device-reenrollment',
  'travel',
  'fleet-browser-update',
  'new-hire',
  'late-work',
  'backup-window',
] as const;
export type BenignBehaviour = (typeof BENIGN_BEHAVIOURS)[number];

/** Output formats; ECS is always written. */
export const OUTPUT_FORMATS = ['ecs', 'zeek', 'suricata'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** One injected attack in labels.json. */
export interface AttackLabel {
  id: string;
  type: AttackType;
  /** First and last malicious event time (ISO 8601 UTC, inclusive). */
  start: string;
  end: string;
  users: string[];
  devices: string[];
  cert_sha256: string[];
  spki_sha256: string[];
  source_ips: string[];
  expected_rules: string[];
  /** Minimum severity the attack must reach (PROMISED_SEVERITY in severity.ts); absent when expected_rules is empty. */
  expected_severity?: Severity;
  description: string;
}

/** One benign behaviour in labels.json. */
export interface BenignLabel {
  id: string;
  behaviour: BenignBehaviour;
  start: string;
  end: string;
  users: string[];
  devices: string[];
  cert_sha256: string[];
  description: string;
}

/** labels.json, version 1: ground truth for `certsignal eval`; never read by analyze. */
export interface Labels {
  version: 1;
  generator: 'certsignal simulate';
  seed: string;
  start: string;
  end: string;
  days: number;
  formats: OutputFormat[];
  population: { users: number; human_users: number; service_accounts: number; devices: number };
  attacks: AttackLabel[];
  benign: BenignLabel[];
}

/** What to simulate. */
export interface SimulateOptions {
  seed: string;
  days: number;
  /** Accounts in total (humans + service accounts). */
  users: number;
  /** Epoch ms of the first instant (UTC midnight). */
  start: number;
  attacks: readonly AttackType[];
  benign: readonly BenignBehaviour[];
  formats: readonly OutputFormat[];
  /** Certificate bytes in the events (ECS PEM, Suricata base64, Zeek `cert` column). Default true. */
  includeCertificates?: boolean;
}

/** What `simulateFleet` wrote. */
export interface SimulationResult {
  outDir: string;
  labels: Labels;
  /** Relative file name → size in bytes. */
  files: Record<string, number>;
  /** Sessions (= ECS events = Zeek ssl records = Suricata tls events). */
  sessions: number;
  /** Sessions whose client certificate a passive sensor can see (TLS ≤ 1.2). */
  passiveClientCertSessions: number;
  /** Zeek x509.log records (one per certificate per day). */
  x509Records: number;
  certificatesIssued: number;
  /** Rows of ca/issuance.csv and mdm/enrollments.csv. */
  caRecords: number;
  mdmRecords: number;
  elapsedMs: number;
}
