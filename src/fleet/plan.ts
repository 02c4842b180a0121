// Certificate plans: which certificates an estate needs (names, serials, validity, which CA),
// decided from the seed before any key exists, then issued against a real FleetPki.
import { EMAIL_DOMAIN, ORG } from './catalog.ts';
import type { Estate, FleetDevice } from './estate.ts';
import { createRootCA, createSelfSignedLeaf, type Dn, type FleetCA, type FleetCertificate, type KeyPair } from './pki.ts';
import { createRng, type Rng } from './prng.ts';

export type AuthorityId = 'issuing' | 'automation' | 'self-signed' | 'foreign';

/** A certificate to issue, fully described except for its key. */
export interface CertPlan {
  id: string;
  authority: AuthorityId;
  subject: Dn;
  /** Hex serial. */
  serial: string;
  /** ISO 8601 UTC. */
  notBefore: string;
  notAfter: string;
  email?: string[];
  dns?: string[];
  uri?: string[];
  /** UPN SANs (AD CS style account mapping). */
  upn?: string[];
  /** Plans with the same key group share one key pair (key-reuse scenarios). */
  keyGroup?: string;
  /** A TLS server certificate (EKU serverAuth), e.g. the gateway's. */
  serverAuth?: boolean;
}

/** The CAs of a generated fleet. `foreign` is a partner CA that is deliberately NOT a trust anchor. */
export interface FleetPki {
  root: FleetCA;
  issuing: FleetCA;
  automation: FleetCA;
  foreignRoot: FleetCA;
  foreign: FleetCA;
}

export const ROOT_DN: Dn = [
  ['C', 'US'],
  ['O', ORG],
  ['CN', 'Example Corp Root CA G2'],
];
export const ISSUING_DN: Dn = [
  ['C', 'US'],
  ['O', ORG],
  ['CN', 'Example Corp Device Issuing CA 1'],
];
export const AUTOMATION_DN: Dn = [
  ['C', 'US'],
  ['O', ORG],
  ['OU', 'Platform'],
  ['CN', 'Example Corp Workload Automation CA'],
];
export const FOREIGN_ROOT_DN: Dn = [
  ['C', 'US'],
  ['O', 'Globex Partners'],
  ['CN', 'Globex Root CA'],
];
export const FOREIGN_DN: Dn = [
  ['C', 'US'],
  ['O', 'Globex Partners'],
  ['CN', 'Globex Partner Issuing CA'],
];

/** A positive 16-byte serial (as enterprise CAs issue), lowercase hex. */
export function randomSerial(rng: Rng): string {
  const first = rng.int(1, 0x7f).toString(16).padStart(2, '0');
  return first + rng.hex(15);
}

/** Creates the fleet's CAs (fixed names and validity; serials from the seed). */
export async function createFleetPki(seed: number | string): Promise<FleetPki> {
  const rng = createRng(`${seed}/pki`);
  const root = await createRootCA({
    id: 'ca:root',
    subject: ROOT_DN,
    serial: randomSerial(rng),
    notBefore: new Date('2024-01-01T00:00:00Z'),
    notAfter: new Date('2044-01-01T00:00:00Z'),
  });
  const issuing = await root.subordinate({
    id: 'ca:issuing',
    subject: ISSUING_DN,
    serial: randomSerial(rng),
    notBefore: new Date('2024-01-01T00:00:00Z'),
    notAfter: new Date('2034-01-01T00:00:00Z'),
  });
  const automation = await root.subordinate({
    id: 'ca:automation',
    subject: AUTOMATION_DN,
    serial: randomSerial(rng),
    notBefore: new Date('2025-06-01T00:00:00Z'),
    notAfter: new Date('2030-06-01T00:00:00Z'),
  });
  const foreignRoot = await createRootCA({
    id: 'ca:foreign-root',
    subject: FOREIGN_ROOT_DN,
    serial: randomSerial(rng),
    notBefore: new Date('2023-01-01T00:00:00Z'),
    notAfter: new Date('2043-01-01T00:00:00Z'),
  });
  const foreign = await foreignRoot.subordinate({
    id: 'ca:foreign',
    subject: FOREIGN_DN,
    serial: randomSerial(rng),
    notBefore: new Date('2023-01-01T00:00:00Z'),
    notAfter: new Date('2033-01-01T00:00:00Z'),
  });
  return { root, issuing, automation, foreignRoot, foreign };
}

/** Issues every plan; plans sharing a `keyGroup` get the same key pair. */
export async function issuePlans(pki: FleetPki, plans: readonly CertPlan[]): Promise<Map<string, FleetCertificate>> {
  const out = new Map<string, FleetCertificate>();
  const groupKeys = new Map<string, KeyPair>();
  for (const plan of plans) {
    const keys = plan.keyGroup ? groupKeys.get(plan.keyGroup) : undefined;
    const spec = {
      id: plan.id,
      subject: plan.subject,
      serial: plan.serial,
      notBefore: new Date(plan.notBefore),
      notAfter: new Date(plan.notAfter),
      email: plan.email,
      dns: plan.dns,
      uri: plan.uri,
      upn: plan.upn,
      keys,
      serverAuth: plan.serverAuth,
    };
    let cert: FleetCertificate;
    if (plan.authority === 'self-signed') cert = await createSelfSignedLeaf(spec);
    else cert = await pki[plan.authority].issue(spec);
    if (plan.keyGroup && !keys) groupKeys.set(plan.keyGroup, cert.keys);
    out.set(plan.id, cert);
  }
  return out;
}

const DAY_MS = 86_400_000;

/** Subject of a person's device certificate (Intune/SCEP style: CN = account, OU = department). */
export function userSubject(user: string, department: string): Dn {
  return [
    ['O', ORG],
    ['OU', department],
    ['CN', user],
  ];
}

/** Id of the long-lived certificate of a device. */
export function deviceCertId(device: FleetDevice): string {
  return `cert:${device.id}`;
}

/** Id of a rotating device's certificate for day `day` of the window. */
export function rotatingCertId(device: FleetDevice, day: number): string {
  return `cert:${device.id}:d${day}`;
}

export interface DevicePlans {
  plans: CertPlan[];
  /** The certificate a device presents at `ts` (long-lived, or that day's rotation). */
  certIdFor(device: FleetDevice, ts: number): string;
}

/**
 * Plans one long-lived certificate per endpoint (issuing CA, valid two years from enrolment) and,
 * for automation workloads, one certificate per day of the window from the automation CA
 * (valid 26 h from a little after midnight UTC, so every certificate is valid when it is used).
 */
export function planDeviceCertificates(estate: Estate, window: { start: number; days: number }): DevicePlans {
  const rng = createRng(`${estate.seed}/certs`);
  const usersByName = new Map(estate.users.map((u) => [u.name, u]));
  const plans: CertPlan[] = [];
  for (const device of estate.devices) {
    const owner = usersByName.get(device.owner);
    const department = owner?.department ?? 'Engineering';
    if (device.certMode === 'long-lived') {
      const from = Date.parse(device.enrolledAt);
      plans.push({
        id: deviceCertId(device),
        authority: 'issuing',
        subject: userSubject(device.owner, department),
        serial: randomSerial(rng),
        notBefore: new Date(from).toISOString(),
        notAfter: new Date(from + 730 * DAY_MS).toISOString(),
        email: owner?.kind === 'human' ? [`${device.owner}@${EMAIL_DOMAIN}`] : undefined,
        dns: [device.hostname],
      });
    } else {
      const workload = device.owner.replace(/^svc-/, '');
      // Day -1 too: the workload's previous certificate covers the first minutes before rotation.
      for (let day = -1; day < window.days; day++) {
        const from = window.start + day * DAY_MS + 5 * 60_000;
        plans.push({
          id: rotatingCertId(device, day),
          authority: 'automation',
          subject: [
            ['O', ORG],
            ['OU', 'workloads'],
            ['CN', device.owner],
          ],
          serial: randomSerial(rng),
          notBefore: new Date(from - 60 * 60_000).toISOString(),
          notAfter: new Date(from + 26 * 60 * 60_000).toISOString(),
          dns: [device.hostname],
          uri: [`spiffe://example.com/ns/prod/sa/${workload}`],
        });
      }
    }
  }
  return {
    plans,
    certIdFor(device, ts) {
      if (device.certMode === 'long-lived') return deviceCertId(device);
      // Rotation happens at 00:05 UTC; before that the previous day's certificate is still in use.
      const day = Math.floor((ts - window.start - 5 * 60_000) / DAY_MS);
      return rotatingCertId(device, Math.max(-1, Math.min(day, window.days - 1)));
    },
  };
}
