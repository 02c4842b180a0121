// The bundled demo data set (examples/demo/): a ~40-person estate over one week of February 2026
// with one injected scenario per detection rule. `planDemo` decides everything from the seed
// without any key material (so it is testable for determinism); `renderDemo` issues the real
// certificates and CRL and renders the files.

import {
  type CaLogRecord,
  caIssuanceCsv,
  endpointIssuance,
  type MdmLogRecord,
  mdmEnrollmentsCsv,
  mdmOf,
  SCEP_CONNECTOR,
  serverRenewal,
  TEMPLATES,
  WORKLOAD_PROVISIONER,
  workloadRenewal,
} from '../simulate/calog.ts';
import { baselineEvents, locate, pickHumanService, sortEvents } from './activity.ts';
import { CITIES, type City, SERVICES, type ServiceDef, TLS_CLIENTS, type TlsClientClass, WORKLOAD_SERVICES } from './catalog.ts';
import { EcsFormatter, type GatewayEvent } from './ecs.ts';
import { assetsCsv, type Estate, type FleetDevice, type FleetUser, generateEstate, identitiesCsv } from './estate.ts';
import { dnToRfc4514, type FleetCertificate } from './pki.ts';
import {
  AUTOMATION_DN,
  type CertPlan,
  createFleetPki,
  deviceCertId,
  issuePlans,
  planDeviceCertificates,
  randomSerial,
  userSubject,
} from './plan.ts';
import { createRng, type Rng } from './prng.ts';

export const DEMO_DEFAULT_SEED = 'certsignal-demo-2026';
/** Monday 2 February 2026, 00:00 UTC: the demo week runs Monday to Sunday. */
export const DEMO_START = Date.parse('2026-02-02T00:00:00Z');
export const DEMO_DAYS = 7;

// Sign-in rates are kept low so the data set, with a PEM in every event (~2 KB a line), stays < 2 MB.
const DEMO_RATES = { laptopEventsPerWorkday: 3, phoneEventsPerDay: 1, workloadEventsPerDay: 4 };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** One injected scenario, as SCENARIOS.md describes it. */
export interface ScenarioDescription {
  /** Scenario letter in the brief (a … g) plus a suffix when a letter has two cases. */
  id: string;
  title: string;
  /** Rule expected to fire, and the variant when the rule has several. */
  rule: string;
  variant: string | null;
  /** Further rules the scenario is built to fire together with `rule` (one incident). */
  alsoRules?: string[];
  user: string | null;
  device: string | null;
  /** Certificate plan ids involved (rendered with their digests in SCENARIOS.md). */
  certificates: string[];
  why: string;
}

export interface Revocation {
  certId: string;
  /** ISO 8601 UTC. */
  revokedAt: string;
}

/** Everything about the demo except key material: a pure function of the seed. */
export interface DemoPlan {
  seed: string;
  estate: Estate;
  plans: CertPlan[];
  events: GatewayEvent[];
  scenarios: ScenarioDescription[];
  revocations: Revocation[];
  /** Earlier, unrelated revocations the CRL also lists (serials only). */
  historicRevocations: { serial: string; revokedAt: string }[];
  crlThisUpdate: string;
  crlNextUpdate: string;
  /** The CA issuance log (ca-issuance.csv) and the MDM enrollment log (mdm-enrollments.csv). */
  caRecords: CaLogRecord[];
  mdmRecords: MdmLogRecord[];
}

function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A device's hardware serial as the MDM records it (Apple-style for Apple devices): a function of seed and device id. */
function hardwareSerial(seed: string, d: FleetDevice): string {
  const h = createRng(`${seed}/hardware/${d.id}`);
  const apple = d.os.startsWith('macOS') || d.os.startsWith('iOS');
  const alnum = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  let out = apple ? 'C02' : d.kind === 'phone' ? 'R58' : 'PF';
  while (out.length < (apple ? 12 : 10)) out += alnum[h.int(0, alnum.length - 1)];
  return out;
}

/** Builds the demo's estate, certificate plans, events and scenarios from a seed. */
export function planDemo(seedInput: number | string = DEMO_DEFAULT_SEED): DemoPlan {
  const seed = String(seedInput);
  const estate = generateEstate({ seed, humans: 34 });
  const window = { start: DEMO_START, days: DEMO_DAYS };
  const devicePlans = planDeviceCertificates(estate, window);
  const plans = [...devicePlans.plans];
  const rng = createRng(`${seed}/scenarios`);
  const at = (iso: string): number => Date.parse(iso) + rng.int(0, 59) * 1000;

  const users = new Map(estate.users.map((u) => [u.name, u]));
  const laptopOf = (user: FleetUser): FleetDevice => {
    const d = estate.devices.find((x) => x.owner === user.name && x.kind === 'laptop');
    if (!d) throw new Error(`no laptop for ${user.name}`);
    return d;
  };
  // Actors: distinct people drawn from a seeded shuffle, each with the device traits a scenario needs.
  const pool = shuffle(
    estate.users.filter((u) => u.kind === 'human'),
    rng,
  );
  const used = new Set<string>();
  const take = (ok: (u: FleetUser) => boolean = () => true): FleetUser => {
    const u = pool.find((x) => !used.has(x.name) && ok(x));
    if (!u) throw new Error('not enough users for the demo scenarios');
    used.add(u.name);
    return u;
  };
  const tls13Laptop = (u: FleetUser): boolean => TLS_CLIENTS[laptopOf(u).tls].version === '1.3';
  const churnUser = take();
  const keyOwner = take();
  const keyBorrower = take();
  const svcLaptopUser = take();
  const certLender = take(); // "alice": her certificate turns up on bob's laptop
  const laptopOwner = take(); // "bob"
  const selfSignedUser = take();
  const foreignUser = take();
  const expiredUser = take();
  const revokedUser = take();
  const ja4User = take(tls13Laptop);
  const downgradeUser = take(tls13Laptop);
  // ESC1: an IT account and a colleague in the same country (the admin's sign-ins then come from
  // a plausible place: the certificate's story is what is odd).
  const esc1Admin = take((u) => u.department === 'IT');
  const esc1Requester = take((u) => u.department !== 'IT' && u.home.country === esc1Admin.home.country);
  // new-device judges only a mature account (≥ 20 events over ≥ 5 days before the new device):
  // pick someone whose ordinary week (phone or weekend sign-ins included) already is one by
  // Sunday afternoon, with a margin, rather than adding events to the size-limited data set.
  const newDeviceAt = Date.parse('2026-02-08T15:00:00Z');
  const matureBySunday = (u: FleetUser): boolean => {
    const own: Estate = { seed: estate.seed, users: [u], devices: estate.devices.filter((d) => d.owner === u.name) };
    const evs = baselineEvents(own, devicePlans.certIdFor, { window, ...DEMO_RATES }).filter(
      (e) => e.outcome === 'success' && e.ts < newDeviceAt,
    );
    return own.devices.some((d) => d.kind === 'laptop') && evs.length >= 24 && evs[evs.length - 1].ts - evs[0].ts >= 5.25 * DAY;
  };
  const newDeviceUser = take(matureBySunday);

  // Power users: enough history for a fingerprint baseline (≥ 2 days and ≥ 30 events) before Thursday.
  const overrides = new Map<string, number>([
    [laptopOf(ja4User).id, 14],
    [laptopOf(downgradeUser).id, 14],
  ]);

  const events: GatewayEvent[] = [];
  const scenarios: ScenarioDescription[] = [];
  const revocations: Revocation[] = [];
  const ev = (
    scenario: string,
    ts: number,
    user: string | null,
    device: FleetDevice | null,
    where: { ip: string; geo: City | null },
    service: ServiceDef,
    tls: TlsClientClass,
    certId: string,
  ): void => {
    events.push({
      ts,
      outcome: 'success',
      user,
      device: device?.id ?? null,
      sourceIp: where.ip,
      geo: where.geo,
      service: service.name,
      domain: service.domain,
      tls,
      certId,
      scenario,
    });
  };
  const elsewhere = (u: FleetUser, offset: number): City => {
    const others = CITIES.filter((c) => c.country !== u.home.country);
    return others[offset % others.length];
  };
  const attackerIp = (subnet: number): string => `198.19.${subnet}.${rng.int(2, 254)}`;
  const plan = (p: Omit<CertPlan, 'serial'>): CertPlan => {
    const full = { ...p, serial: randomSerial(rng) };
    plans.push(full);
    return full;
  };
  // The CA- and MDM-side scenarios (issue 4) draw from their own stream, so the draws of the
  // gateway-only scenarios (times, serials) stay what they were before the CA log existed.
  const rng4 = createRng(`${seed}/ca-mdm`);
  const at4 = (iso: string): number => Date.parse(iso) + rng4.int(0, 59) * 1000;
  const mdmRow = (ts: number, d: FleetDevice, action: MdmLogRecord['action']): MdmLogRecord => ({
    ts,
    device: d.id,
    action,
    user: d.owner,
    ...mdmOf(d),
    serial: hardwareSerial(seed, d),
  });
  /** CA log rows of scenario certificates (by plan id); every other certificate gets the fleet's usual row. */
  const caMeta = new Map<string, Omit<CaLogRecord, 'certId' | 'ca'>>();
  const mdmExtra: MdmLogRecord[] = [];

  // (a) cert-churn + issuance-without-enrollment — seed 002 case study: four certificates for one
  // account issued within 45 minutes to a device the MDM never enrolled, each presented minutes later from another /24.
  let rogueId = `dev-${rng4.hex(4)}`;
  while (estate.devices.some((d) => d.id === rogueId)) rogueId = `dev-${rng4.hex(4)}`;
  const rogue: FleetDevice = {
    id: rogueId,
    owner: churnUser.name,
    kind: 'laptop',
    hostname: `desktop-${rng4.hex(3)}.corp.example.com`,
    os: 'Windows 11 23H2',
    enrolledAt: '2026-02-03T13:09:00Z',
    tls: 'python',
    certMode: 'long-lived',
    internalIp: null,
  };
  {
    const device = rogue;
    // Four: over the seed's "> 3 in 60 min" for the account, and each a first sighting on the rogue device.
    const times = ['13:12', '13:21', '13:33', '13:41'].map((t) => at(`2026-02-03T${t}:00Z`));
    const ids: string[] = [];
    times.forEach((ts, i) => {
      const p = plan({
        id: `cert:churn:${i + 1}`,
        authority: 'issuing',
        subject: userSubject(churnUser.name, churnUser.department),
        notBefore: new Date(ts - 3 * MINUTE).toISOString(),
        notAfter: new Date(ts - 3 * MINUTE + DAY).toISOString(),
        email: [churnUser.email],
        dns: [device.hostname],
      });
      ids.push(p.id);
      // A stolen SCEP enrollment challenge: the connector requests each certificate for the rogue device id.
      caMeta.set(p.id, {
        ts: Date.parse(p.notBefore),
        event: 'issued',
        requester: SCEP_CONNECTOR,
        template: TEMPLATES.device,
        user: churnUser.name,
        device: device.id,
        scenario: 'a',
      });
      const where = {
        ip: attackerIp(200 + i),
        geo: i % 2 === 0 || i === times.length - 1 ? churnUser.home : elsewhere(churnUser, i),
      };
      ev('a', ts, churnUser.name, device, where, pickHumanService(rng), TLS_CLIENTS[device.tls], p.id);
      ev('a', ts + rng.int(2, 6) * MINUTE, churnUser.name, device, where, pickHumanService(rng), TLS_CLIENTS[device.tls], p.id);
    });
    scenarios.push({
      id: 'a',
      title: 'Certificates issued to a never-enrolled device, then churned (seed 002 case study)',
      rule: 'cert-churn',
      variant: null,
      alsoRules: ['issuance-without-enrollment'],
      user: churnUser.name,
      device: device.id,
      certificates: ids,
      why: `On Tuesday afternoon (UTC) the SCEP connector (\`${SCEP_CONNECTOR}\`, with a stolen enrollment challenge) gets ${ids.length} certificates for ${churnUser.name} issued within ${Math.round((times[times.length - 1] - times[0]) / MINUTE)} minutes to device ${device.id} (${device.hostname}), which has no row in mdm-enrollments.csv or assets.csv; each is valid one day and presented 3 minutes after issuance, each first from a different /24 (198.19.200–${199 + ids.length}.x), by a Python client. ${churnUser.name}'s own laptop keeps using its long-lived certificate. issuance-without-enrollment fires on the first issuance (no enrollment within 30 days before or 15 min after), cert-churn on the new certificates (${ids.length} in < 60 min is over the seed's "> 3 in 60 min"); together, within the hour, they make a high incident.`,
    });
  }

  // (b) key-reuse — a second account's certificate carries the first account's public key.
  {
    const ownerCert = plans.find((p) => p.id === deviceCertId(laptopOf(keyOwner)));
    if (!ownerCert) throw new Error('missing key owner certificate plan');
    ownerCert.keyGroup = 'reused-key';
    const device = laptopOf(keyBorrower);
    const p = plan({
      id: 'cert:key-reuse',
      authority: 'issuing',
      subject: userSubject(keyBorrower.name, keyBorrower.department),
      notBefore: '2026-01-20T09:00:00.000Z',
      notAfter: '2027-01-20T09:00:00.000Z',
      email: [keyBorrower.email],
      dns: [device.hostname],
      keyGroup: 'reused-key',
    });
    // Issued through the usual path (an MDM re-enrollment, then SCEP), only the CSR carried the copied key:
    // nothing on the CA side is unusual, so only key-reuse sees it.
    mdmExtra.push(mdmRow(Date.parse(p.notBefore) - 6 * MINUTE, device, 're-enrolled'));
    caMeta.set(p.id, {
      ts: Date.parse(p.notBefore),
      event: 'issued',
      requester: SCEP_CONNECTOR,
      template: TEMPLATES.device,
      user: keyBorrower.name,
      device: device.id,
      scenario: 'b',
    });
    for (const t of ['10:05', '10:20', '10:41']) {
      ev(
        'b',
        at(`2026-02-04T${t}:00Z`),
        keyBorrower.name,
        device,
        locate(keyBorrower, device, false, rng),
        pickHumanService(rng),
        TLS_CLIENTS[device.tls],
        p.id,
      );
    }
    scenarios.push({
      id: 'b',
      title: 'One key pair in certificates of two accounts',
      rule: 'key-reuse',
      variant: null,
      user: keyBorrower.name,
      device: device.id,
      certificates: [ownerCert.id, p.id],
      why: `The certificate ${keyBorrower.name} presents on Wednesday 10:05–10:41 UTC was issued for ${keyBorrower.name} but with the same public key (same SPKI SHA-256) as ${keyOwner.name}'s laptop certificate, which ${keyOwner.name} keeps using all week: one key, two accounts, within 24 h.`,
    });
  }

  // (c1) subject-mismatch: a service account's certificate used from a person's laptop.
  {
    const svc = users.get('svc-reporting');
    const server = estate.devices.find((d) => d.owner === 'svc-reporting');
    if (!svc || !server) throw new Error('svc-reporting missing from the estate');
    const device = laptopOf(svcLaptopUser);
    const reporting = WORKLOAD_SERVICES.find((s) => s.name === 'reporting-api') ?? WORKLOAD_SERVICES[0];
    for (const t of ['15:20', '15:26']) {
      ev(
        'c1',
        at(`2026-02-04T${t}:00Z`),
        svc.name,
        device,
        locate(svcLaptopUser, device, false, rng),
        reporting,
        TLS_CLIENTS[device.tls],
        deviceCertId(server),
      );
    }
    scenarios.push({
      id: 'c1',
      title: 'Service-account certificate used from a laptop',
      rule: 'subject-mismatch',
      variant: 'service-cert-on-endpoint',
      user: svc.name,
      device: device.id,
      certificates: [deviceCertId(server)],
      why: `svc-reporting (identities.csv kind=service) normally authenticates only from its server ${server.hostname}; on Wednesday 15:20 UTC its certificate is presented from ${svcLaptopUser.name}'s laptop (assets.csv kind=laptop). The laptop is not owned by svc-reporting either, so a not-device-owner finding may accompany it.`,
    });
  }

  // (c2) subject-mismatch: bob's laptop presents alice's certificate.
  {
    const device = laptopOf(laptopOwner);
    const lent = deviceCertId(laptopOf(certLender));
    for (const t of ['09:30', '09:47']) {
      ev(
        'c2',
        at(`2026-02-05T${t}:00Z`),
        certLender.name,
        device,
        locate(laptopOwner, device, false, rng),
        pickHumanService(rng),
        TLS_CLIENTS[device.tls],
        lent,
      );
    }
    scenarios.push({
      id: 'c2',
      title: "A laptop presents another person's certificate",
      rule: 'subject-mismatch',
      variant: 'not-device-owner',
      user: certLender.name,
      device: device.id,
      certificates: [lent],
      why: `Laptop ${device.hostname} belongs to ${laptopOwner.name} (assets.csv), but on Thursday 09:30 UTC it presents ${certLender.name}'s certificate (CN=${certLender.name}), which is otherwise only used on ${certLender.name}'s own laptop.`,
    });
  }

  // (d1) untrusted-issuer: a self-signed client certificate impersonating an employee.
  {
    const p = plan({
      id: 'cert:self-signed',
      authority: 'self-signed',
      subject: userSubject(selfSignedUser.name, selfSignedUser.department),
      notBefore: '2026-02-05T22:00:00.000Z',
      notAfter: '2027-02-05T22:00:00.000Z',
      email: [selfSignedUser.email],
    });
    const where = { ip: attackerIp(250), geo: elsewhere(selfSignedUser, 3) };
    for (const t of ['02:14', '02:16', '02:31']) {
      ev('d1', at(`2026-02-06T${t}:00Z`), selfSignedUser.name, null, where, SERVICES[1], TLS_CLIENTS.python, p.id);
    }
    scenarios.push({
      id: 'd1',
      title: 'Self-signed client certificate',
      rule: 'untrusted-issuer',
      variant: 'self-signed',
      user: selfSignedUser.name,
      device: null,
      certificates: [p.id],
      why: `On Friday 02:14 UTC a client with no enrolled device (no device.id) presents a self-signed certificate whose subject copies ${selfSignedUser.name}'s corporate DN; it chains to nothing in trust-anchors.pem.`,
    });
  }

  // (d2) untrusted-issuer: a certificate from a partner CA that is not a trust anchor.
  {
    const device = laptopOf(foreignUser);
    const p = plan({
      id: 'cert:foreign-ca',
      authority: 'foreign',
      subject: [
        ['O', 'Globex Partners'],
        ['CN', foreignUser.name],
      ],
      notBefore: '2025-11-01T00:00:00.000Z',
      notAfter: '2026-11-01T00:00:00.000Z',
      email: [`${foreignUser.name}@globex.example`],
    });
    for (const t of ['11:05', '11:40']) {
      ev(
        'd2',
        at(`2026-02-06T${t}:00Z`),
        foreignUser.name,
        device,
        locate(foreignUser, device, false, rng),
        pickHumanService(rng),
        TLS_CLIENTS[device.tls],
        p.id,
      );
    }
    scenarios.push({
      id: 'd2',
      title: 'Client certificate from a foreign CA',
      rule: 'untrusted-issuer',
      variant: 'unknown-issuer',
      user: foreignUser.name,
      device: device.id,
      certificates: [p.id],
      why: `On Friday 11:05 UTC ${foreignUser.name}'s laptop presents a certificate issued by "Globex Partner Issuing CA" (a partner PKI), which is not in trust-anchors.pem.`,
    });
  }

  // (e) expired-cert: an old, forgotten phone still presents its expired certificate.
  const oldPhone: FleetDevice = {
    id: `dev-${rng.hex(4)}`,
    owner: expiredUser.name,
    kind: 'phone',
    hostname: 'ph-0999.corp.example.com',
    os: 'iOS 16.7',
    enrolledAt: '2024-01-29T10:12:00Z',
    tls: 'safari',
    certMode: 'long-lived',
    internalIp: null,
  };
  {
    const p = plan({
      id: 'cert:expired',
      authority: 'issuing',
      subject: userSubject(expiredUser.name, expiredUser.department),
      notBefore: '2024-01-29T10:12:00.000Z',
      notAfter: '2026-01-29T10:12:00.000Z',
      email: [expiredUser.email],
      dns: [oldPhone.hostname],
    });
    for (const iso of ['2026-02-05T19:45:00Z', '2026-02-05T20:10:00Z', '2026-02-07T11:30:00Z']) {
      ev(
        'e',
        at(iso),
        expiredUser.name,
        oldPhone,
        locate(expiredUser, oldPhone, false, rng),
        pickHumanService(rng),
        TLS_CLIENTS.safari,
        p.id,
      );
    }
    scenarios.push({
      id: 'e',
      title: 'Expired certificate in use',
      rule: 'expired-cert',
      variant: null,
      user: expiredUser.name,
      device: oldPhone.id,
      certificates: [p.id],
      why: `${expiredUser.name}'s old phone (${oldPhone.hostname}, enrolled 2024) presents its certificate on Thursday and Saturday; it expired on 2026-01-29, 7–9 days earlier. Every other certificate in the data set is valid when used.`,
    });
  }

  // (f) revoked-cert: a stolen laptop's certificate is revoked, then used anyway.
  const revokedDevice = laptopOf(revokedUser);
  const revokedAt = '2026-02-03T19:00:00.000Z';
  const replacement: FleetDevice = {
    id: `dev-${rng.hex(4)}`,
    owner: revokedUser.name,
    kind: 'laptop',
    hostname: 'lt-0998.corp.example.com',
    os: revokedDevice.os,
    enrolledAt: '2026-02-04T08:30:00Z',
    tls: revokedDevice.tls,
    certMode: 'long-lived',
    internalIp: null,
  };
  {
    const revokedCert = deviceCertId(revokedDevice);
    revocations.push({ certId: revokedCert, revokedAt });
    plans.push({
      id: deviceCertId(replacement),
      authority: 'issuing',
      subject: userSubject(revokedUser.name, revokedUser.department),
      serial: randomSerial(rng),
      notBefore: '2026-02-04T08:30:00.000Z',
      notAfter: '2028-02-04T08:30:00.000Z',
      email: [revokedUser.email],
      dns: [replacement.hostname],
    });
    const where = { ip: attackerIp(251), geo: elsewhere(revokedUser, 5) };
    for (const iso of ['2026-02-04T23:40:00Z', '2026-02-05T00:10:00Z', '2026-02-05T00:25:00Z']) {
      ev('f', at(iso), revokedUser.name, revokedDevice, where, SERVICES[0], TLS_CLIENTS[revokedDevice.tls], revokedCert);
    }
    scenarios.push({
      id: 'f',
      title: 'Revoked certificate used after revocation',
      rule: 'revoked-cert',
      variant: null,
      user: revokedUser.name,
      device: revokedDevice.id,
      certificates: [revokedCert],
      why: `${revokedUser.name}'s laptop was reported stolen; its certificate was revoked (keyCompromise) on Tuesday 19:00 UTC and is listed in corp.crl. It is presented again on Wednesday 23:40 UTC and twice after midnight from an unfamiliar address. ${revokedUser.name} works from a replacement laptop (${replacement.hostname}) from Wednesday on; the earlier uses of the old certificate (Monday–Tuesday, before revocation) must not alert.`,
    });
  }

  // (g1) tls-fingerprint-change: a stable browser JA4 suddenly becomes a Python client.
  {
    const device = laptopOf(ja4User);
    for (const t of ['14:10', '14:25', '14:40']) {
      ev(
        'g1',
        at(`2026-02-05T${t}:00Z`),
        ja4User.name,
        device,
        locate(ja4User, device, false, rng),
        pickHumanService(rng),
        TLS_CLIENTS.python,
        deviceCertId(device),
      );
    }
    scenarios.push({
      id: 'g1',
      title: 'New TLS client fingerprint on a device',
      rule: 'tls-fingerprint-change',
      variant: 'new-ja4',
      user: ja4User.name,
      device: device.id,
      certificates: [deviceCertId(device)],
      why: `${ja4User.name}'s laptop used only ${TLS_CLIENTS[device.tls].label} (JA4 ${TLS_CLIENTS[device.tls].ja4}) for Monday–Thursday morning (~14 sign-ins a workday, > 30 events over > 2 days); on Thursday 14:10 UTC the same certificate arrives from a Python client (JA4 ${TLS_CLIENTS.python.ja4}).`,
    });
  }

  // (g2) tls-fingerprint-change: TLS 1.3 → 1.0 downgrade.
  {
    const device = laptopOf(downgradeUser);
    for (const t of ['16:05', '16:30']) {
      ev(
        'g2',
        at(`2026-02-05T${t}:00Z`),
        downgradeUser.name,
        device,
        locate(downgradeUser, device, false, rng),
        pickHumanService(rng),
        TLS_CLIENTS.legacy10,
        deviceCertId(device),
      );
    }
    scenarios.push({
      id: 'g2',
      title: 'TLS version downgrade on a device',
      rule: 'tls-fingerprint-change',
      variant: 'downgrade',
      user: downgradeUser.name,
      device: device.id,
      certificates: [deviceCertId(device)],
      why: `${downgradeUser.name}'s laptop negotiated TLS 1.3 for every sign-in Monday–Thursday morning (~14 a workday); on Thursday 16:05 UTC it negotiates TLS 1.0 with a legacy cipher (JA4 ${TLS_CLIENTS.legacy10.ja4}). The JA4 changes too, so a new-ja4 finding may accompany it.`,
    });
  }

  // (h) requester-subject-mismatch — AD CS ESC1: a user requests a certificate with an admin's UPN SAN, then signs in as the admin.
  {
    const device = laptopOf(esc1Requester);
    const issuedAt = Date.parse('2026-02-04T14:30:00Z') + rng4.int(0, 59) * 1000;
    const p = plan({
      id: 'cert:esc1',
      authority: 'issuing',
      subject: userSubject(esc1Requester.name, esc1Requester.department),
      notBefore: new Date(issuedAt).toISOString(),
      notAfter: new Date(issuedAt + 365 * DAY).toISOString(),
      upn: [esc1Admin.email],
    });
    caMeta.set(p.id, {
      ts: issuedAt,
      event: 'issued',
      requester: esc1Requester.name,
      template: TEMPLATES.enrolleeSuppliesSubject,
      user: esc1Admin.name,
      device: null,
      requestedSan: [`upn:${esc1Admin.email}`],
      scenario: 'h',
    });
    for (const minutes of [6, 19, 33]) {
      ev(
        'h',
        issuedAt + minutes * MINUTE + rng4.int(0, 59) * 1000,
        esc1Admin.name,
        device,
        locate(esc1Requester, device, false, rng4),
        pickHumanService(rng4),
        TLS_CLIENTS[device.tls],
        p.id,
      );
    }
    scenarios.push({
      id: 'h',
      title: "Certificate requested with another account's name (AD CS ESC1)",
      rule: 'requester-subject-mismatch',
      variant: 'requested-san',
      user: esc1Admin.name,
      device: device.id,
      certificates: [p.id],
      why: `On Wednesday 14:30 UTC ${esc1Requester.name} (${esc1Requester.department}) requests a certificate from the \`${TEMPLATES.enrolleeSuppliesSubject}\` template, which lets the enrollee supply the subject, with \`requested_san\` upn:${esc1Admin.email} — the UPN of ${esc1Admin.name} (IT, ${esc1Admin.role}); ca-issuance.csv logs requester ${esc1Requester.name}. Minutes later the certificate (subject CN=${esc1Requester.name}, UPN SAN ${esc1Admin.email}) signs in as ${esc1Admin.name} from ${esc1Requester.name}'s laptop: the \`used\` variant follows the \`requested-san\` one. Other findings accompany it: issuance-without-enrollment (a certificate for ${esc1Admin.name} with no MDM enrollment near it) and, when ${esc1Admin.name} signed in from ${esc1Admin.home.city} shortly before, impossible-travel to ${esc1Requester.home.city}.`,
    });
  }

  // (i) new-device: a mature account signs in from a device id no asset row lists.
  {
    const laptop = laptopOf(newDeviceUser);
    let unknownId = `dev-${rng4.hex(4)}`;
    while (estate.devices.some((d) => d.id === unknownId) || unknownId === rogue.id) unknownId = `dev-${rng4.hex(4)}`;
    const unknown: FleetDevice = { ...laptop, id: unknownId, hostname: 'unregistered', tls: 'firefox' };
    const where = { ip: newDeviceUser.homeIp, geo: newDeviceUser.home };
    const history = events
      .filter((e) => e.user === newDeviceUser.name)
      .concat(
        baselineEvents(
          { seed: estate.seed, users: [newDeviceUser], devices: estate.devices.filter((d) => d.owner === newDeviceUser.name) },
          devicePlans.certIdFor,
          { window, ...DEMO_RATES },
        ),
      )
      .filter((e) => e.outcome === 'success' && e.ts < newDeviceAt)
      .sort((x, y) => x.ts - y.ts);
    const known = history.length;
    const spanDays = ((history[known - 1].ts - history[0].ts) / DAY).toFixed(1);
    for (const t of ['15:12', '15:40']) {
      ev(
        'i',
        at4(`2026-02-08T${t}:00Z`),
        newDeviceUser.name,
        unknown,
        where,
        pickHumanService(rng4),
        TLS_CLIENTS.firefox,
        deviceCertId(laptop),
      );
    }
    scenarios.push({
      id: 'i',
      title: 'Account used from a new, unregistered device',
      rule: 'new-device',
      variant: null,
      user: newDeviceUser.name,
      device: unknownId,
      certificates: [deviceCertId(laptop)],
      why: `${newDeviceUser.name} worked all week from their own devices (${known} events over ${spanDays} days by Sunday afternoon: a mature history, over the rule's 20 events and 5 days). On Sunday 15:12 UTC the account signs in from their home address but from device ${unknownId}, which it never used and which has no row in assets.csv (or in mdm-enrollments.csv), presenting the laptop's certificate from a Firefox client: the certificate copied to a personal or attacker machine. A weak signal on its own (weight 30, low); it adds up with others for the same account.`,
    });
  }

  // Benign: the estate's normal week, minus the stolen laptop after its theft, plus its replacement.
  const baseline = baselineEvents(estate, devicePlans.certIdFor, {
    window,
    eventsPerDayOverride: overrides,
    ...DEMO_RATES,
  }).filter((e) => !(e.device === revokedDevice.id && e.ts >= Date.parse(revokedAt) - 2 * HOUR));
  const replacementEstate: Estate = { seed: `${seed}/replacement`, users: [revokedUser], devices: [replacement] };
  const replacementEvents = baselineEvents(replacementEstate, (d) => deviceCertId(d), { window, ...DEMO_RATES }).filter(
    (e) => e.ts >= Date.parse(replacement.enrolledAt),
  );
  estate.devices.push(oldPhone, replacement);

  // The CA log and the MDM log, as in the simulator (src/simulate/scenario.ts): every endpoint
  // certificate issued through the SCEP connector minutes after the device's MDM enrollment,
  // workload certificates renewed daily by the provisioner, the server's by the provisioner too
  // (servers are not MDM-managed), the stolen laptop wiped then revoked; scenario certificates as
  // their scenario says. Certificates of foreign and self-signed issuers have no row.
  const logRng = createRng(`${seed}/registry-logs`);
  const deviceByHost = new Map(estate.devices.map((d) => [d.hostname, d]));
  const caRecords: CaLogRecord[] = [];
  const mdmRecords: MdmLogRecord[] = [...mdmExtra];
  for (const p of plans) {
    if (p.authority !== 'issuing' && p.authority !== 'automation') continue;
    const notBefore = Date.parse(p.notBefore);
    const meta = caMeta.get(p.id);
    if (meta) {
      caRecords.push({ ...meta, certId: p.id, ca: p.authority });
      continue;
    }
    const d = deviceByHost.get(p.dns?.[0] ?? '');
    if (!d) throw new Error(`certificate plan ${p.id} has no CA log entry`);
    if (p.authority === 'automation') caRecords.push(workloadRenewal(p.id, notBefore, d.owner));
    else if (d.kind === 'server') caRecords.push(serverRenewal(p.id, notBefore, d.owner));
    else {
      mdmRecords.push(mdmRow(notBefore - logRng.int(2, 15) * MINUTE, d, 'enrolled'));
      caRecords.push(endpointIssuance(p.id, notBefore, d));
    }
  }
  for (const r of revocations) {
    // The laptop is reported stolen: the MDM wipes it, then the connector revokes its certificate.
    const revokedAt = Date.parse(r.revokedAt);
    mdmRecords.push(mdmRow(revokedAt - logRng.int(5, 30) * MINUTE, revokedDevice, 'wiped'));
    caRecords.push({
      ts: revokedAt,
      event: 'revoked',
      certId: r.certId,
      ca: 'issuing',
      requester: SCEP_CONNECTOR,
      template: TEMPLATES.device,
      user: revokedUser.name,
      device: revokedDevice.id,
      reason: 'keyCompromise',
    });
  }

  const historicRng = createRng(`${seed}/crl-history`);
  const historicRevocations = ['2025-03-11T08:00:00.000Z', '2025-07-02T14:30:00.000Z', '2025-11-19T10:15:00.000Z'].map(
    (revokedAtIso) => ({
      serial: randomSerial(historicRng),
      revokedAt: revokedAtIso,
    }),
  );

  return {
    seed,
    estate,
    plans,
    events: sortEvents([...baseline, ...replacementEvents, ...events]),
    scenarios,
    revocations,
    historicRevocations,
    crlThisUpdate: '2026-02-03T19:30:00.000Z',
    crlNextUpdate: '2036-02-03T19:30:00.000Z',
    caRecords,
    mdmRecords,
  };
}

export interface RenderedDemo {
  /** File name → contents, for examples/demo/. */
  files: Record<string, string>;
  certificates: Map<string, FleetCertificate>;
}

/** Issues the demo's certificates and CRL (real keys) and renders every file. */
export async function renderDemo(plan: DemoPlan, options: { includePem?: boolean } = {}): Promise<RenderedDemo> {
  const pki = await createFleetPki(plan.seed);
  const certificates = await issuePlans(pki, plan.plans);
  const formatter = new EcsFormatter(certificates, { includePem: options.includePem ?? true });
  const events = `${plan.events.map((e) => formatter.format(e)).join('\n')}\n`;

  const serialOf = (certId: string): string => {
    const c = certificates.get(certId);
    if (!c) throw new Error(`unknown certificate ${certId}`);
    return c.serial;
  };
  const crl = await pki.issuing.crl(
    [
      ...plan.historicRevocations.map((r) => ({ serial: r.serial, revokedAt: new Date(r.revokedAt) })),
      ...plan.revocations.map((r) => ({ serial: serialOf(r.certId), revokedAt: new Date(r.revokedAt) })),
    ],
    new Date(plan.crlThisUpdate),
    new Date(plan.crlNextUpdate),
  );
  const trustAnchors = `${[pki.root, pki.issuing, pki.automation].map((ca) => ca.certificate.pem.trim()).join('\n')}\n`;
  const config = [
    '# certsignal configuration for the bundled demo (examples/demo/).',
    '# Workload certificates from the automation CA rotate daily by design: list that CA here so',
    '# rotation is not reported as certificate churn.',
    'automation_issuers:',
    `  - "${dnToRfc4514(AUTOMATION_DN)}"`,
    "# The MDM's SCEP connector and the workload provisioner request certificates for others by design",
    '# (ca-issuance.csv names them as requester of every device and workload certificate).',
    'rules:',
    '  requester-subject-mismatch:',
    `    allowed_requesters: ["${SCEP_CONNECTOR}", "${WORKLOAD_PROVISIONER}"]`,
    '',
  ].join('\n');
  return {
    certificates,
    files: {
      'events.ndjson': events,
      'assets.csv': assetsCsv(plan.estate.devices),
      'identities.csv': identitiesCsv(plan.estate.users),
      'trust-anchors.pem': trustAnchors,
      'corp.crl': `${crl.pem.trim()}\n`,
      // Without PEMs: the events carry them, and the directory must stay small.
      'ca-issuance.csv': caIssuanceCsv(plan.caRecords, new Map(plan.plans.map((p) => [p.id, p])), certificates, false),
      'mdm-enrollments.csv': mdmEnrollmentsCsv(plan.mdmRecords),
      'certsignal.yaml': config,
      'SCENARIOS.md': scenariosMarkdown(plan, certificates),
    },
  };
}

function isoMinute(ts: number): string {
  return new Date(ts).toISOString().slice(0, 16).replace('T', ' ');
}

/** SCENARIOS.md: what was injected, when, and which rule must report it. */
export function scenariosMarkdown(plan: DemoPlan, certificates: ReadonlyMap<string, FleetCertificate>): string {
  const humans = plan.estate.users.filter((u) => u.kind === 'human').length;
  const services = plan.estate.users.length - humans;
  const lines: string[] = [
    '# Demo scenarios',
    '',
    `Generated by \`scripts/make-demo.ts\` with seed \`${plan.seed}\`. Regenerate with:`,
    '',
    '```sh',
    `node_modules/.bin/node scripts/make-demo.ts            # default seed ${DEMO_DEFAULT_SEED}`,
    'node_modules/.bin/node scripts/make-demo.ts --seed other --out /tmp/demo',
    '```',
    '',
    'The event stream, names, times, serials and validity windows are a function of the seed; key pairs',
    'and signatures are fresh on every run, so certificate digests (and the PEMs) change each time.',
    '',
    `Estate: ${humans} people and ${services} service accounts, ${plan.estate.devices.length} devices, ` +
      `${plan.events.length} ECS events from ${isoMinute(DEMO_START)} to ${isoMinute(DEMO_START + DEMO_DAYS * DAY)} UTC ` +
      '(an mTLS gateway shipped by Filebeat; `tls.client.certificate` carries the PEM).',
    '',
    '| file | what |',
    '|---|---|',
    '| `events.ndjson` | the gateway events (ECS, one JSON object per line) |',
    '| `assets.csv` | device inventory (`device_id,owner,kind,hostname,os,enrolled_at`) |',
    '| `identities.csv` | accounts (`user,kind,role,department,country,email`) |',
    '| `trust-anchors.pem` | Root CA G2, Device Issuing CA 1, Workload Automation CA |',
    '| `corp.crl` | CRL of the Device Issuing CA (nextUpdate 2036) |',
    `| \`ca-issuance.csv\` | the CAs' issuance log (format \`ca-csv\`, ${plan.caRecords.length} rows, with \`requester\`, \`template\`, \`requested_san\`) |`,
    `| \`mdm-enrollments.csv\` | the MDM's enrollment log (format \`mdm-csv\`, ${plan.mdmRecords.length} rows) |`,
    '| `certsignal.yaml` | lists the automation CA under `automation_issuers` and the SCEP connector and workload provisioner under `allowed_requesters` |',
    '',
    '## Injected scenarios (each must alert)',
    '',
  ];
  for (const s of plan.scenarios) {
    const evs = plan.events.filter((e) => e.scenario === s.id);
    const first = evs[0]?.ts;
    const last = evs[evs.length - 1]?.ts;
    const also = (s.alsoRules ?? []).map((r) => ` + \`${r}\``).join('');
    lines.push(`### ${s.id}. ${s.title} → \`${s.rule}\`${s.variant ? ` (variant \`${s.variant}\`)` : ''}${also}`);
    lines.push('');
    lines.push(
      `- When: ${first !== undefined ? isoMinute(first) : '?'} – ${last !== undefined ? isoMinute(last) : '?'} UTC, ${evs.length} events`,
    );
    lines.push(`- User: \`${s.user ?? '(none)'}\`; device: \`${s.device ?? '(none: no device.id)'}\``);
    for (const id of s.certificates) {
      const c = certificates.get(id);
      if (c)
        lines.push(
          `- Certificate \`${c.subject}\` issued by \`${c.issuer}\`, serial \`${c.serial}\`, valid ${c.notBefore.slice(0, 16)} – ${c.notAfter.slice(0, 16)}, sha256 \`${c.sha256}\``,
        );
    }
    const rows = plan.caRecords.filter((r) => r.scenario === s.id && s.certificates.includes(r.certId));
    if (rows.length > 0)
      lines.push(
        `- CA log: ${rows.length} row(s) in \`ca-issuance.csv\`, ${isoMinute(rows[0].ts)}${rows.length > 1 ? ` – ${isoMinute(rows[rows.length - 1].ts)}` : ''} UTC, requester \`${rows[0].requester}\`, template \`${rows[0].template}\`${rows[0].requestedSan ? `, requested_san \`${rows[0].requestedSan.join(';')}\`` : ''}`,
      );
    const revoked = plan.revocations.find((r) => s.certificates.includes(r.certId));
    if (revoked) lines.push(`- Revoked at ${revoked.revokedAt} (listed in \`corp.crl\`)`);
    lines.push(`- Why: ${s.why}`);
    lines.push('');
  }
  lines.push('## Benign behaviour that must NOT alert');
  lines.push('');
  lines.push(
    '- Workloads (`svc-payments`, `svc-inventory`, `svc-backup`, `svc-monitoring`, `svc-ci`) get a new certificate from the',
  );
  lines.push('  Workload Automation CA every day at 00:05 UTC (valid 26 h, SPIFFE URI SAN) and call their APIs around the clock');
  lines.push('  from internal addresses; `certsignal.yaml` lists that CA under `automation_issuers`.');
  lines.push('- `svc-reporting` uses one long-lived certificate from the Device Issuing CA, only from its own server.');
  lines.push('- Every person uses one long-lived certificate per enrolled device (laptop, some also a phone), issued at');
  lines.push('  enrolment and valid two years, from their office or home address during local working hours, and from a');
  lines.push('  mobile carrier address on phones. Each device keeps one TLS client (JA4) all week.');
  lines.push('- Every endpoint certificate in `ca-issuance.csv` is issued through the SCEP connector minutes after the');
  lines.push(
    "  device's enrollment in `mdm-enrollments.csv`; workload certificates are renewed by the provisioner, the server's too.",
  );
  lines.push('- About 1% of requests are rejected by the gateway (`event.outcome: failure`, authorisation), spread at random.');
  lines.push("- The Device Issuing CA's CRL also lists three older, unrelated revocations from 2025.");
  lines.push('');
  const unlisted = plan.scenarios.filter((s) => s.device !== null && !plan.estate.devices.some((d) => d.id === s.device));
  lines.push(
    `Devices missing from \`assets.csv\`: ${unlisted.map((s) => `\`${s.device}\` (scenario ${s.id})`).join(', ')}, by design; scenario d1 has no \`device.id\` at all.`,
  );
  lines.push('');
  lines.push('## Rules the demo cannot show');
  lines.push('');
  lines.push('`volume-spike` needs an account baseline of at least 7 days before the hour it judges, and `behaviour-anomaly`');
  lines.push(
    "needs accounts with 5 days of history and then 1,000 of their events before its model scores: the demo's one week of",
  );
  lines.push(
    `${plan.events.length} events is too short for either, and they stay quiet (learning, not seeing nothing). To see them, generate a`,
  );
  lines.push(
    'longer labelled fleet with `certsignal simulate --out /tmp/fleet` (14 days, 200 accounts; see docs/simulate.md) and analyze it.',
  );
  lines.push('');
  return lines.join('\n');
}
