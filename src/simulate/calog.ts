// The fleet's CA issuance log (`ca/issuance.csv`, format `ca-csv`) and MDM enrollment log
// (`mdm/enrollments.csv`, format `mdm-csv`): what the device issuing CA, the workload automation
// CA and the MDM recorded, as the planner decided it (records reference certificate plan ids;
// serials, digests and PEMs are filled in from the issued certificates when the CSV is written).
import type { CertPlan, FleetCertificate, FleetDevice } from '../fleet/index.ts';

/** The account the MDM's SCEP/PKCS connector (Intune Certificate Connector, Jamf) requests device certificates with. */
export const SCEP_CONNECTOR = 'svc-scep-connector';
/** The automation provisioner that requests workload certificates (SPIRE / step-ca style). */
export const WORKLOAD_PROVISIONER = 'svc-workload-provisioner';

/** CA templates (AD CS templates, step-ca/Vault roles) the fleet uses. */
export const TEMPLATES = {
  device: 'Device-SCEP',
  server: 'Server-ClientAuth',
  workload: 'workload-26h',
  web: 'WebServer',
  /** A user template that lets the enrollee supply the subject and SANs (the AD CS ESC1 misconfiguration). */
  enrolleeSuppliesSubject: 'Corp-VPN-User',
  helpdesk: 'Workstation-Manual',
} as const;

/** CA names as the log writes them. */
export const CA_NAMES = {
  issuing: 'Example Corp Device Issuing CA 1',
  automation: 'Example Corp Workload Automation CA',
} as const;

/** One row of the CA log, before key material exists. */
export interface CaLogRecord {
  ts: number;
  event: 'issued' | 'renewed' | 'revoked';
  certId: string;
  ca: keyof typeof CA_NAMES;
  requester: string;
  template: string;
  /** The account the certificate authenticates as. */
  user: string | null;
  /** The MDM device id the certificate was issued for; null for workloads and servers (not MDM-managed). */
  device: string | null;
  reason?: string;
  /** SANs the requester supplied in the request (`upn:…`), when the template lets the enrollee supply them. */
  requestedSan?: string[];
  /** Label id when the record belongs to an attack or benign behaviour. */
  scenario?: string;
}

/** One row of the MDM log. */
export interface MdmLogRecord {
  ts: number;
  device: string;
  action: 'enrolled' | 're-enrolled' | 'unenrolled' | 'wiped';
  user: string;
  platform: string;
  mdm: string;
  /** Hardware serial. */
  serial: string;
  scenario?: string;
}

/** Platform and MDM product of a device, from its OS. */
export function mdmOf(device: Pick<FleetDevice, 'os'>): { platform: string; mdm: string } {
  const os = device.os;
  if (os.startsWith('macOS')) return { platform: 'macOS', mdm: 'Jamf Pro' };
  if (os.startsWith('iOS')) return { platform: 'iOS', mdm: 'Jamf Pro' };
  if (os.startsWith('Android')) return { platform: 'Android', mdm: 'Intune' };
  if (os.startsWith('Windows')) return { platform: 'Windows', mdm: 'Intune' };
  return { platform: 'Linux', mdm: 'Intune' };
}

/**
 * One CSV field: quoted when it holds a comma, a quote, a line break or leading/trailing space,
 * with quotes doubled (RFC 4180). Subjects (`CN=…,OU=…,O=…`) always need it.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Joins rows of fields into CSV text (header first, `\n` line ends, final newline). */
export function csvText(header: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  const lines = [header.join(',')];
  for (const row of rows) lines.push(row.map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

/** The `san` column: `type:value` pairs separated by `;` (types dns, email, upn, uri, ip). */
export function sanColumn(plan: Pick<CertPlan, 'email' | 'dns' | 'uri' | 'upn'>): string {
  return [
    ...(plan.email ?? []).map((v) => `email:${v}`),
    ...(plan.upn ?? []).map((v) => `upn:${v}`),
    ...(plan.dns ?? []).map((v) => `dns:${v}`),
    ...(plan.uri ?? []).map((v) => `uri:${v}`),
  ].join(';');
}

/** The automation CA's daily renewal of a workload certificate (notBefore is backdated an hour; the renewal runs at notBefore + 1 h). */
export function workloadRenewal(certId: string, notBefore: number, owner: string | null): CaLogRecord {
  return {
    ts: notBefore + 3_600_000,
    event: 'renewed',
    certId,
    ca: 'automation',
    requester: WORKLOAD_PROVISIONER,
    template: TEMPLATES.workload,
    user: owner,
    device: null,
  };
}

/**
 * A server's (or gateway's) certificate renewed by the provisioner: servers are not MDM-managed,
 * and a renewal proves possession of the previous key.
 */
export function serverRenewal(
  certId: string,
  notBefore: number,
  owner: string | null,
  template: string = TEMPLATES.server,
): CaLogRecord {
  return {
    ts: notBefore,
    event: 'renewed',
    certId,
    ca: 'issuing',
    requester: WORKLOAD_PROVISIONER,
    template,
    user: owner,
    device: null,
  };
}

/** An endpoint certificate issued through the SCEP connector for an MDM-managed device. */
export function endpointIssuance(certId: string, notBefore: number, device: Pick<FleetDevice, 'id' | 'owner'>): CaLogRecord {
  return {
    ts: notBefore,
    event: 'issued',
    certId,
    ca: 'issuing',
    requester: SCEP_CONNECTOR,
    template: TEMPLATES.device,
    user: device.owner,
    device: device.id,
  };
}

export const CA_CSV_COLUMNS = [
  'time',
  'event',
  'serial',
  'subject',
  'issuer',
  'san',
  'not_before',
  'not_after',
  'sha256',
  'user',
  'device',
  'requester',
  'template',
  'ca',
  'request_id',
  'reason',
  'requested_san',
] as const;

export const MDM_CSV_COLUMNS = ['time', 'device', 'action', 'user', 'platform', 'mdm', 'serial'] as const;

/** Sorted by time; ties keep their planned order (an issuance before its revocation). */
function byTime<T extends { ts: number }>(records: readonly T[]): T[] {
  return records
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.ts - b.r.ts || a.i - b.i)
    .map((x) => x.r);
}

/**
 * ca/issuance.csv: one row per record, in time order, with request ids numbered per CA as an
 * AD CS database does. `pem` (newlines written as `\n`) only when certificates are included.
 */
export function caIssuanceCsv(
  records: readonly CaLogRecord[],
  plans: ReadonlyMap<string, CertPlan>,
  certs: ReadonlyMap<string, FleetCertificate>,
  includePem: boolean,
): string {
  const header: string[] = [...CA_CSV_COLUMNS];
  if (includePem) header.push('pem');
  const nextId: Record<string, number> = { issuing: 41_000, automation: 7_000_000 };
  const rows = byTime(records).map((r) => {
    const plan = plans.get(r.certId);
    const cert = certs.get(r.certId);
    if (!plan || !cert) throw new Error(`CA record for unissued certificate ${r.certId}`);
    const requestId = r.event === 'revoked' ? null : String(nextId[r.ca]++);
    const row: (string | null)[] = [
      new Date(r.ts).toISOString(),
      r.event,
      cert.serial,
      cert.subject,
      cert.issuer,
      sanColumn(plan),
      cert.notBefore,
      cert.notAfter,
      cert.sha256,
      r.user,
      r.device,
      r.requester,
      r.template,
      CA_NAMES[r.ca],
      requestId,
      r.reason ?? null,
      r.requestedSan && r.requestedSan.length > 0 ? r.requestedSan.join(';') : null,
    ];
    if (includePem) row.push(cert.pem.trim().replace(/\r?\n/g, '\\n'));
    return row;
  });
  return csvText(header, rows);
}

/** mdm/enrollments.csv, in time order. */
export function mdmEnrollmentsCsv(records: readonly MdmLogRecord[]): string {
  return csvText(
    MDM_CSV_COLUMNS,
    byTime(records).map((r) => [new Date(r.ts).toISOString(), r.device, r.action, r.user, r.platform, r.mdm, r.serial]),
  );
}
