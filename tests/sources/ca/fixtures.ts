// Test fixtures for the CA and MDM sources, in the shapes the products document: step-ca's JSON
// request log (fields of api.LogCertificate / logRevoke plus the logging middleware's HTTP
// fields), Vault's file audit device (request/response entries, HMAC'd by default), and the
// generic ca-csv / mdm-csv / mdm-json formats. Certificates are real (tests/helpers/pki.ts).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCA, type TestCA, type TestCert } from '../../helpers/pki.ts';

export interface CaPki {
  root: TestCA;
  /** Issuing CA: `CN=Corp Issuing CA, O=Corp`. */
  issuing: TestCA;
  /** `CN=alice` with e-mail SAN alice@corp.example. */
  alice: TestCert;
  /** `CN=alice` renewed (new key, new serial). */
  aliceRenewed: TestCert;
  /** `CN=lt-bob-01` device certificate with DNS SAN lt-bob-01.corp.example. */
  device: TestCert;
  /** `CN=carol` with UPN SAN carol@corp.example (Vault clear-text issue). */
  carol: TestCert;
}

export async function makePki(): Promise<CaPki> {
  const root = await createRootCA('CN=Corp Root CA, O=Corp');
  const issuing = await root.subordinate('CN=Corp Issuing CA, O=Corp');
  return {
    root,
    issuing,
    alice: await issuing.issue({ subject: 'CN=alice', email: ['alice@corp.example'] }),
    aliceRenewed: await issuing.issue({ subject: 'CN=alice', email: ['alice@corp.example'] }),
    device: await issuing.issue({ subject: 'CN=lt-bob-01', dns: ['lt-bob-01.corp.example'] }),
    carol: await issuing.issue({ subject: 'CN=carol', upn: ['carol@corp.example'] }),
  };
}

/** Base64 DER, as step-ca's `certificate` field carries it. */
export function b64(cert: TestCert): string {
  return Buffer.from(cert.der).toString('base64');
}

/** Decimal serial, as step-ca logs it (`cert.SerialNumber.String()`). */
export function decimalSerial(cert: TestCert): string {
  return BigInt(`0x${cert.serial}`).toString(10);
}

/** Colon-separated hex serial, as Vault returns `serial_number`. */
export function colonSerial(cert: TestCert): string {
  const hex = cert.serial.length % 2 === 1 ? `0${cert.serial}` : cert.serial;
  return hex.match(/../g)?.join(':') ?? hex;
}

const base64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** An OIDC-provisioner one-time token shape (header.payload.signature) whose payload names the e-mail. */
export function oidcOtt(email: string): string {
  return `${base64url({ alg: 'RS256', kid: 'k1' })}.${base64url({ iss: 'https://accounts.example', sub: '1234', email, aud: 'step-ca' })}.${Buffer.from('sig').toString('base64url')}`;
}

/** step-ca request-log fields common to every request. */
function stepRequest(time: string, path: string, status: number, requestId: string): Record<string, unknown> {
  return {
    duration: '4.21ms',
    'duration-ns': 4210000,
    'fields.time': time,
    level: status >= 400 ? 'error' : 'info',
    method: 'POST',
    msg: '',
    name: 'ca',
    path,
    protocol: 'HTTP/2.0',
    referer: '',
    'remote-address': '10.1.2.3',
    'request-id': requestId,
    size: 1432,
    status,
    time,
    'user-agent': 'Smallstep CLI/0.28.0 (linux/amd64)',
    'user-id': '',
  };
}

/** The fields step-ca's LogCertificate adds for an X.509 certificate. */
function stepCertificate(cert: TestCert, issuerCn: string, sans: Record<string, string[]>): Record<string, unknown> {
  return {
    serial: decimalSerial(cert),
    subject: cert.cert.subjectName.getField('CN')[0],
    issuer: issuerCn,
    sans,
    'valid-from': cert.cert.notBefore.toISOString().replace('.000Z', 'Z'),
    'valid-to': cert.cert.notAfter.toISOString().replace('.000Z', 'Z'),
    'public-key': 'ECDSA P-256',
    certificate: b64(cert),
  };
}

/** A step-ca JSON log: start-up line, sign (OIDC), renew, rekey, revoke, a denied sign, /health, and one broken line. */
export function stepCaLines(p: CaPki): string[] {
  return [
    JSON.stringify({ level: 'info', msg: 'Starting Smallstep CA/0.28.3 (linux/amd64)', time: '2026-03-02T09:00:00Z' }),
    JSON.stringify({
      ...stepRequest('2026-03-02T09:15:01Z', '/1.0/sign', 201, 'req-sign-1'),
      ...stepCertificate(p.alice, 'Corp Issuing CA', { email: ['alice@corp.example'] }),
      provisioner: 'corp-oidc (0oa1b2c3)',
      ott: oidcOtt('alice@corp.example'),
    }),
    JSON.stringify({ ...stepRequest('2026-03-02T09:16:00Z', '/health', 200, 'req-health') }),
    JSON.stringify({
      ...stepRequest('2026-03-03T09:15:00Z', '/renew', 201, 'req-renew-1'),
      ...stepCertificate(p.aliceRenewed, 'Corp Issuing CA', { email: ['alice@corp.example'] }),
      provisioner: 'corp-oidc (0oa1b2c3)',
    }),
    JSON.stringify({
      ...stepRequest('2026-03-03T10:00:00Z', '/rekey', 201, 'req-rekey-1'),
      ...stepCertificate(p.device, 'Corp Issuing CA', { dns: ['lt-bob-01.corp.example'] }),
      provisioner: 'devices',
    }),
    JSON.stringify({
      ...stepRequest('2026-03-04T08:00:00Z', '/revoke', 200, 'req-revoke-1'),
      serial: decimalSerial(p.alice),
      reasonCode: 1,
      reason: 'laptop stolen',
      passiveOnly: true,
      mTLS: false,
    }),
    JSON.stringify({
      ...stepRequest('2026-03-04T08:05:00Z', '/1.0/sign', 401, 'req-sign-denied'),
      error: 'authority.Authorize: token already used',
    }),
    '{"level":"info","path":"/1.0/sign", "time": broken',
  ];
}

const HMAC = (s: string) => `hmac-sha256:${Buffer.from(s).toString('hex').padEnd(64, '0').slice(0, 64)}`;

function vaultAuth(displayName: string): Record<string, unknown> {
  return {
    client_token: HMAC('token'),
    accessor: HMAC('accessor'),
    display_name: displayName,
    policies: ['default', 'pki-issue'],
    token_policies: ['default', 'pki-issue'],
    token_type: 'service',
    token_ttl: 2764800,
  };
}

function vaultRequest(id: string, path: string, data: Record<string, unknown>): Record<string, unknown> {
  return {
    id,
    operation: 'update',
    mount_type: 'pki',
    mount_point: 'pki_int/',
    client_token: HMAC('token'),
    client_token_accessor: HMAC('accessor'),
    namespace: { id: 'root' },
    path,
    data,
    remote_address: '10.9.8.7',
  };
}

/** A Vault audit log: request+response of a clear-text issue, an HMAC'd issue, a revoke, a failed sign, a KV read. */
export function vaultLines(p: CaPki): string[] {
  const exp = Math.floor(p.carol.cert.notAfter.getTime() / 1000);
  return [
    JSON.stringify({
      time: '2026-03-02T10:00:00.123456789Z',
      type: 'request',
      auth: vaultAuth('oidc-carol'),
      request: vaultRequest('v-1', 'pki_int/issue/employees', { common_name: 'carol' }),
    }),
    JSON.stringify({
      time: '2026-03-02T10:00:00.234567891Z',
      type: 'response',
      auth: vaultAuth('oidc-carol'),
      request: vaultRequest('v-1', 'pki_int/issue/employees', { common_name: 'carol' }),
      response: {
        mount_type: 'pki',
        data: {
          certificate: p.carol.pem,
          issuing_ca: p.issuing.cert.pem,
          private_key: HMAC('key'),
          private_key_type: 'ec',
          serial_number: colonSerial(p.carol),
          expiration: exp,
        },
      },
    }),
    // Default audit settings: every string of request/response data is HMAC'd.
    JSON.stringify({
      time: '2026-03-02T11:00:00Z',
      type: 'response',
      auth: vaultAuth('approle-mdm'),
      request: vaultRequest('v-2', 'pki_int/issue/devices', { common_name: HMAC('lt-dave-02') }),
      response: {
        mount_type: 'pki',
        data: {
          certificate: HMAC('pem'),
          issuing_ca: HMAC('ca'),
          serial_number: HMAC('serial'),
          private_key: HMAC('k'),
          expiration: exp,
        },
      },
    }),
    JSON.stringify({
      time: '2026-03-02T11:05:00Z',
      type: 'response',
      auth: vaultAuth('approle-mdm'),
      request: vaultRequest('v-3', 'pki_int/issuer/default/sign/devices', { csr: HMAC('csr'), common_name: HMAC('x') }),
      response: { mount_type: 'pki', data: { certificate: HMAC('pem'), serial_number: HMAC('serial'), expiration: exp } },
    }),
    JSON.stringify({
      time: '2026-03-03T12:00:00Z',
      type: 'response',
      auth: vaultAuth('oidc-secops'),
      request: vaultRequest('v-4', 'pki_int/revoke', { serial_number: colonSerial(p.carol) }),
      response: {
        mount_type: 'pki',
        data: { revocation_time: 1772539200, revocation_time_rfc3339: HMAC('t'), state: HMAC('revoked') },
      },
    }),
    JSON.stringify({
      time: '2026-03-03T12:30:00Z',
      type: 'response',
      error: 'common name evil.example not allowed by this role',
      auth: vaultAuth('approle-ci'),
      request: vaultRequest('v-5', 'pki_int/sign/devices', { common_name: 'evil.example' }),
      response: { mount_type: 'pki' },
    }),
    JSON.stringify({
      time: '2026-03-03T13:00:00Z',
      type: 'response',
      auth: vaultAuth('approle-app'),
      request: { ...vaultRequest('v-6', 'secret/data/app', {}), mount_type: 'kv', mount_point: 'secret/' },
      response: { mount_type: 'kv', data: { data: HMAC('x') } },
    }),
    JSON.stringify({
      time: 'yesterday',
      type: 'response',
      auth: vaultAuth('x'),
      request: vaultRequest('v-7', 'pki_int/issue/employees', {}),
      response: { data: {} },
    }),
  ];
}

/** Quote a CSV cell. */
export function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A ca-csv file: issued (PEM with real newlines inside quotes), renewed (PEM with \n escapes), revoked, denied, bad time, bad event. */
export function caCsvText(p: CaPki): string {
  const header =
    'time,event,serial,subject,issuer,san,not_before,not_after,sha256,user,device,requester,template,ca,request_id,reason,pem';
  const issuerDn = 'CN=Corp Issuing CA,O=Corp';
  const rows = [
    [
      '2026-03-02T09:00:00Z',
      'issued',
      p.device.serial,
      'CN=lt-bob-01',
      issuerDn,
      'dns:lt-bob-01.corp.example',
      '',
      '',
      '',
      'bob',
      'lt-bob-01',
      'mdm-connector',
      'DeviceAuth',
      'corp-issuing',
      'r-1',
      '',
      p.device.pem.trim(),
    ],
    [
      '1772442000',
      'renewed',
      p.aliceRenewed.serial,
      'CN=alice',
      issuerDn,
      'email:alice@corp.example;upn:alice@corp.example',
      '',
      '',
      '',
      '',
      '',
      'alice',
      'User',
      'corp-issuing',
      'r-2',
      '',
      p.aliceRenewed.pem.trim().replace(/\n/g, '\\n'),
    ],
    [
      '1772528400000',
      'revoked',
      p.alice.serial.match(/../g)?.join(':') ?? p.alice.serial,
      '',
      issuerDn,
      '',
      '',
      '',
      '',
      '',
      '',
      'secops',
      '',
      'corp-issuing',
      'r-3',
      'keyCompromise',
      '',
    ],
    [
      '2026-03-03T09:00:00Z',
      'denied',
      '',
      'CN=mallory',
      issuerDn,
      'upn:administrator@corp.example',
      '',
      '',
      '',
      '',
      '',
      'mallory',
      'User',
      'corp-issuing',
      'r-4',
      '',
      '',
    ],
    ['not a time', 'issued', 'abc', 'CN=x', issuerDn, '', '', '', '', '', '', '', '', '', '', '', ''],
    ['2026-03-03T10:00:00Z', 'exploded', 'abc', 'CN=x', issuerDn, '', '', '', '', '', '', '', '', '', '', '', ''],
  ];
  return `${header}\n${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}

export const MDM_CSV = [
  'time,device,action,user,platform,mdm,serial',
  '2026-03-01T08:00:00Z,lt-bob-01,enrolled,bob,macOS,Jamf,C02XK0AAJG5H',
  '2026-03-05T08:00:00Z,lt-bob-01,Re-Enrolled,bob,macOS,Jamf,C02XK0AAJG5H',
  '2026-03-06T08:00:00Z,lt-old-07,wiped,,Windows,Intune,',
  '2026-03-06T09:00:00Z,,enrolled,eve,Windows,Intune,',
  'garbage-time,lt-x,enrolled,eve,Windows,Intune,',
].join('\n');

export const MDM_JSON = [
  JSON.stringify({
    time: '2026-03-01T08:00:00Z',
    device: 'lt-bob-01',
    action: 'enrolled',
    user: 'bob',
    platform: 'macOS',
    mdm: 'Jamf',
    serial: 'C02XK0AAJG5H',
  }),
  JSON.stringify({
    '@timestamp': '2026-03-06T08:00:00Z',
    device: 'ph-carol-02',
    action: 'unenrolled',
    user: 'carol',
    platform: 'iOS',
    mdm: 'Intune',
  }),
  '{"time": "2026-03-06T09:00:00Z", "device": "x", ',
  JSON.stringify({ time: '2026-03-06T10:00:00Z', device: 'ph-x', user: 'x' }),
].join('\n');

/** Writes one file of every CA/MDM format into a fresh directory; returns their paths. */
export function writeFixtures(p: CaPki): Record<'stepCa' | 'vault' | 'caCsv' | 'mdmCsv' | 'mdmJson', string> {
  const dir = mkdtempSync(join(tmpdir(), 'certsignal-ca-'));
  mkdirSync(join(dir, 'ca'));
  const files = {
    stepCa: join(dir, 'ca', 'step-ca.log'),
    vault: join(dir, 'ca', 'vault_audit.log'),
    caCsv: join(dir, 'ca', 'issuance.csv'),
    mdmCsv: join(dir, 'enrollments.csv'),
    mdmJson: join(dir, 'enrollments.ndjson'),
  };
  writeFileSync(files.stepCa, `${stepCaLines(p).join('\n')}\n`);
  writeFileSync(files.vault, `${vaultLines(p).join('\n')}\n`);
  writeFileSync(files.caCsv, caCsvText(p));
  writeFileSync(files.mdmCsv, `${MDM_CSV}\n`);
  writeFileSync(files.mdmJson, `${MDM_JSON}\n`);
  return files;
}
