// Fixture fleets for the eval tests, laid out as `certsignal simulate` writes them (docs/eval.md):
// - a mini fleet built here with real certificates (tests/helpers/pki.ts): two detectable attacks,
//   one no current rule targets, a benign fleet browser update that does alert, and one unlabelled
//   false positive;
// - the bundled demo (examples/demo) with a labels.json written by hand from its SCENARIOS.md.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.ts';
import { createRootCA, type TestCert } from '../helpers/pki.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const JA4_CHROME = 't13d1516h2_8daaf6152771_02713d6af862';
const JA4_CHROME_NEW = 't13d1517h2_8daaf6152771_b0da82dd1658';
const JA4_CURL = 't13d311100_e8f1e7e78f70_d41ae481755e';

export interface MiniFleet {
  dir: string;
  start: number;
  days: number;
  users: string[];
  revokedCert: TestCert;
  expiredCert: TestCert;
}

interface GatewayEvent {
  ts: number;
  user: string;
  device: string | null;
  ip: string;
  service: string;
  cert: TestCert;
  ja4: string;
}

function ecsLine(e: GatewayEvent): string {
  return JSON.stringify({
    '@timestamp': iso(e.ts),
    event: { kind: 'event', category: ['network', 'authentication'], dataset: 'gateway.mtls', outcome: 'success' },
    user: { name: e.user },
    ...(e.device ? { device: { id: e.device } } : {}),
    source: { ip: e.ip },
    service: { name: e.service },
    tls: { version: '1.3', version_protocol: 'tls', client: { ja4: e.ja4, certificate: e.cert.pem } },
  });
}

/**
 * Writes the mini fleet into `dir`: six people over four days (8 sign-ins a workday each, so the
 * TLS fingerprint baseline is mature by day 3), trust anchors, a CRL, assets, identities,
 * certsignal.yaml, events.ndjson and labels.json. Times are relative to today so the CA (valid
 * from 30 days ago) covers them.
 */
export async function writeMiniFleet(dir: string): Promise<MiniFleet> {
  mkdirSync(dir, { recursive: true });
  const start = Math.floor(Date.now() / DAY) * DAY - 10 * DAY;
  const days = 4;
  const root = await createRootCA('CN=Mini Root CA, O=Mini Corp');
  const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
  const certOf = new Map<string, TestCert>();
  for (const u of users) {
    certOf.set(
      u,
      await root.issue({
        subject: `CN=${u}, O=Mini Corp`,
        notBefore: new Date(start - 30 * DAY),
        notAfter: new Date(start + 365 * DAY),
      }),
    );
  }
  const carolNew = await root.issue({
    subject: 'CN=carol, O=Mini Corp',
    notBefore: new Date(start + DAY),
    notAfter: new Date(start + 365 * DAY),
  });
  const expiredCert = await root.issue({
    subject: 'CN=erin, O=Mini Corp',
    notBefore: new Date(start - 400 * DAY),
    notAfter: new Date(start - 5 * DAY),
  });
  const revokedCert = certOf.get('carol') as TestCert;
  const revokedAt = start + DAY + 12 * HOUR;
  const crl = await root.crl([{ serial: revokedCert.serial, date: new Date(revokedAt) }], {
    thisUpdate: new Date(start + 2 * DAY),
    nextUpdate: new Date(Date.now() + 30 * DAY),
  });

  const events: GatewayEvent[] = [];
  users.forEach((user, i) => {
    for (let d = 0; d < days; d++) {
      for (let k = 0; k < 8; k++) {
        const ts = start + d * DAY + (9 + k) * HOUR + (i * 5 + 1) * 60_000;
        // carol moves to a new certificate before her old one is revoked (day 1, noon).
        const cert = user === 'carol' && ts >= revokedAt - HOUR ? carolNew : (certOf.get(user) as TestCert);
        // Day 3: a browser update changes alice's and bob's JA4 (labelled benign); frank's changes too (not
        // labelled) — as the third device making the same change within 72 h it is fleet drift and stays quiet.
        const updated = d === 3 && (user === 'alice' || user === 'bob' || user === 'frank');
        events.push({
          ts,
          user,
          device: `dev-${user}`,
          ip: `10.1.${i}.10`,
          service: `app-${k % 3}`,
          cert,
          ja4: updated ? JA4_CHROME_NEW : JA4_CHROME,
        });
      }
    }
  });
  // atk-01: erin's expired old phone certificate, day 2 14:00–14:30.
  const atk1 = start + 2 * DAY + 14 * HOUR;
  for (const m of [0, 30])
    events.push({
      ts: atk1 + m * 60_000,
      user: 'erin',
      device: 'dev-erin-phone',
      ip: '10.1.4.77',
      service: 'app-0',
      cert: expiredCert,
      ja4: JA4_CHROME,
    });
  // atk-02: carol's revoked certificate replayed from outside, no device, day 2 03:00–03:20.
  const atk2 = start + 2 * DAY + 3 * HOUR;
  for (const m of [0, 20])
    events.push({
      ts: atk2 + m * 60_000,
      user: 'carol',
      device: null,
      ip: '203.0.113.50',
      service: 'app-1',
      cert: revokedCert,
      ja4: JA4_CURL,
    });
  // atk-03: dave sweeps six services he never used, at night, with his own device: nothing in the
  // current ruleset looks at services or hours, so this must stay undetected.
  const atk3 = start + 2 * DAY + 2 * HOUR;
  for (let s = 0; s < 6; s++)
    events.push({
      ts: atk3 + s * 5 * 60_000,
      user: 'dave',
      device: 'dev-dave',
      ip: '10.1.3.10',
      service: `admin-${s}`,
      cert: certOf.get('dave') as TestCert,
      ja4: JA4_CHROME,
    });
  events.sort((a, b) => a.ts - b.ts);

  writeFileSync(join(dir, 'events.ndjson'), `${events.map(ecsLine).join('\n')}\n`);
  writeFileSync(join(dir, 'trust-anchors.pem'), root.cert.pem);
  writeFileSync(join(dir, 'crl.pem'), crl.pem);
  writeFileSync(
    join(dir, 'assets.csv'),
    [
      'device_id,owner,kind,hostname,os,enrolled_at',
      ...users.map((u) => `dev-${u},${u},laptop,lt-${u}.mini.example,macOS 14.7,2025-06-01T00:00:00Z`),
      'dev-erin-phone,erin,phone,ph-erin.mini.example,iOS 17,2024-01-01T00:00:00Z',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'identities.csv'),
    ['user,kind,role,department,country,email', ...users.map((u) => `${u},human,engineer,R&D,US,${u}@mini.example`), ''].join(
      '\n',
    ),
  );
  writeFileSync(join(dir, 'certsignal.yaml'), 'automation_issuers: []\n');
  const labels = {
    version: 1,
    generator: 'tests/eval/fixtures.ts',
    seed: 'mini',
    start: iso(start),
    end: iso(start + days * DAY),
    days,
    formats: ['ecs'],
    population: { users: 6, human_users: 6, service_accounts: 0, devices: 7 },
    attacks: [
      {
        id: 'atk-01',
        type: 'expired-cert-use',
        start: iso(atk1),
        end: iso(atk1 + 30 * 60_000),
        users: ['erin'],
        devices: ['dev-erin-phone'],
        cert_sha256: [],
        spki_sha256: [],
        source_ips: [],
        expected_rules: ['expired-cert'],
        description: "erin's expired phone certificate",
      },
      {
        id: 'atk-02',
        type: 'revoked-cert-use',
        start: iso(atk2),
        end: iso(atk2 + 20 * 60_000),
        users: ['carol'],
        devices: [],
        cert_sha256: [],
        spki_sha256: [],
        source_ips: ['203.0.113.50'],
        expected_rules: ['revoked-cert'],
        description: "carol's revoked certificate replayed",
      },
      {
        id: 'atk-03',
        type: 'night-service-sweep',
        start: iso(atk3),
        end: iso(atk3 + 25 * 60_000),
        users: ['dave'],
        devices: ['dev-dave'],
        cert_sha256: [],
        spki_sha256: [],
        source_ips: [],
        expected_rules: [],
        description: 'dave sweeps six new services at night',
      },
    ],
    benign: [
      {
        id: 'ben-01',
        behaviour: 'fleet-browser-update',
        start: iso(start + 3 * DAY),
        end: iso(start + 4 * DAY - 1),
        users: [],
        devices: ['dev-alice', 'dev-bob'],
        cert_sha256: [],
        description: 'browser update on the laptops of alice and bob',
      },
      {
        id: 'ben-02',
        behaviour: 'late-work',
        start: iso(start + DAY + 20 * HOUR),
        end: iso(start + DAY + 22 * HOUR),
        users: ['bob'],
        devices: [],
        cert_sha256: [],
        description: 'bob works late on day 1',
      },
    ],
  };
  writeFileSync(join(dir, 'labels.json'), `${JSON.stringify(labels, null, 2)}\n`);
  return { dir, start, days, users, revokedCert, expiredCert };
}

const DEMO = `${REPO}examples/demo/`;

/** Users of the demo's attack scenarios (SCENARIOS.md), for the benign entity-day count. */
export const DEMO_ATTACK_USERS = [
  'xenia.hoffmann',
  'quentin.meyer',
  'svc-reporting',
  'jana.hoffmann',
  'hana.smith',
  'hugo.weber',
  'karim.hoffmann',
  'tara.wagner',
  'greta.novak',
  'carla.moreau',
  'emma.taylor',
  'ines.park',
  'tara.walsh',
];

/**
 * Copies examples/demo into `dir` under the fleet file names (corp.crl → crl.pem) and writes a
 * labels.json transcribed by hand from examples/demo/SCENARIOS.md (times to the minute; entities
 * by user and device, not digests, which change when the demo is regenerated).
 */
export function writeDemoFleet(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const name of ['events.ndjson', 'assets.csv', 'identities.csv', 'trust-anchors.pem', 'certsignal.yaml'])
    copyFileSync(`${DEMO}${name}`, join(dir, name));
  copyFileSync(`${DEMO}corp.crl`, join(dir, 'crl.pem'));
  // The demo's CA and MDM logs, under the fleet's names (eval passes them to analyze).
  mkdirSync(join(dir, 'ca'), { recursive: true });
  mkdirSync(join(dir, 'mdm'), { recursive: true });
  copyFileSync(`${DEMO}ca-issuance.csv`, join(dir, 'ca', 'issuance.csv'));
  copyFileSync(`${DEMO}mdm-enrollments.csv`, join(dir, 'mdm', 'enrollments.csv'));
  const attack = (
    id: string,
    type: string,
    start: string,
    end: string,
    users: string[],
    devices: string[],
    expected: string[],
    description: string,
  ) => ({
    id,
    type,
    start: `${start}:00.000Z`,
    end: `${end}:59.999Z`,
    users,
    devices,
    cert_sha256: [],
    spki_sha256: [],
    source_ips: [],
    expected_rules: expected,
    description,
  });
  const labels = {
    version: 1,
    generator: 'hand-written from examples/demo/SCENARIOS.md',
    seed: 'certsignal-demo-2026',
    start: '2026-02-02T00:00:00.000Z',
    end: '2026-02-09T00:00:00.000Z',
    days: 7,
    formats: ['ecs'],
    attacks: [
      attack(
        'a',
        'rogue-issuance',
        '2026-02-03T13:09',
        '2026-02-03T13:43',
        ['xenia.hoffmann'],
        ['dev-162d9831'],
        ['issuance-without-enrollment', 'cert-churn'],
        '4 certificates issued to a never-enrolled device within 29 min, each presented minutes later',
      ),
      attack(
        'b',
        'key-shared-across-accounts',
        '2026-02-04T10:05',
        '2026-02-04T10:41',
        ['quentin.meyer'],
        ['dev-21fbbc64'],
        ['key-reuse'],
        "dana.park's key in quentin.meyer's certificate",
      ),
      attack(
        'c1',
        'service-cert-on-laptop',
        '2026-02-04T15:20',
        '2026-02-04T15:26',
        ['svc-reporting'],
        ['dev-d7a948b8'],
        ['subject-mismatch'],
        'svc-reporting certificate on a laptop',
      ),
      attack(
        'c2',
        'stolen-cert-replay',
        '2026-02-05T09:30',
        '2026-02-05T09:47',
        ['jana.hoffmann'],
        ['dev-d15dca68'],
        ['subject-mismatch'],
        "jana.hoffmann's certificate on ivan.bernard's laptop",
      ),
      attack(
        'd1',
        'foreign-or-self-signed-cert',
        '2026-02-06T02:14',
        '2026-02-06T02:31',
        ['hana.smith'],
        [],
        ['untrusted-issuer'],
        'self-signed copy of a corporate DN',
      ),
      attack(
        'd2',
        'foreign-or-self-signed-cert',
        '2026-02-06T11:05',
        '2026-02-06T11:40',
        ['hugo.weber'],
        ['dev-fdcdd656'],
        ['untrusted-issuer'],
        'partner CA certificate',
      ),
      attack(
        'e',
        'expired-cert-use',
        '2026-02-05T19:45',
        '2026-02-07T11:30',
        ['karim.hoffmann'],
        ['dev-f3c1db25'],
        ['expired-cert'],
        'old phone, certificate expired 7–9 days earlier',
      ),
      attack(
        'f',
        'revoked-cert-use',
        '2026-02-04T23:40',
        '2026-02-05T00:25',
        ['tara.wagner'],
        ['dev-0f94b603'],
        ['revoked-cert'],
        'stolen laptop, revoked certificate',
      ),
      attack(
        'g1',
        'tls-stack-change',
        '2026-02-05T14:10',
        '2026-02-05T14:40',
        ['greta.novak'],
        ['dev-77db43b1'],
        ['tls-fingerprint-change'],
        'Safari laptop speaks Python',
      ),
      attack(
        'g2',
        'tls-stack-change',
        '2026-02-05T16:05',
        '2026-02-05T16:30',
        ['carla.moreau'],
        ['dev-d22a5b79'],
        ['tls-fingerprint-change'],
        'TLS 1.0 downgrade',
      ),
      attack(
        'h',
        'esc1-request',
        '2026-02-04T14:30',
        '2026-02-04T15:03',
        ['emma.taylor', 'ines.park'],
        ['dev-a9d18fe5'],
        ['requester-subject-mismatch'],
        "emma.taylor requests a certificate with ines.park's UPN as requested SAN, then signs in as ines.park",
      ),
      attack(
        'i',
        'new-device',
        '2026-02-08T15:12',
        '2026-02-08T15:40',
        ['tara.walsh'],
        ['dev-b7d1da32'],
        ['new-device'],
        "tara.walsh's laptop certificate presented from an unregistered device never used by the account",
      ),
    ],
    benign: [
      {
        id: 'rot',
        behaviour: 'automation-rotation',
        start: '2026-02-02T00:00:00.000Z',
        end: '2026-02-08T23:59:59.999Z',
        users: ['svc-payments', 'svc-inventory', 'svc-backup', 'svc-monitoring', 'svc-ci'],
        devices: [],
        cert_sha256: [],
        description: 'workloads get a new 26 h certificate from the automation CA every day',
      },
    ],
  };
  writeFileSync(join(dir, 'labels.json'), `${JSON.stringify(labels, null, 2)}\n`);
}
