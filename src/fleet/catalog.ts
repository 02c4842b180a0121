// Static reference data for the fleet generator: TLS client classes (real JA4/JA3 values where a
// public list has them), cities with coordinates, offices, names, departments, roles and services.
// Everything the generator draws from lives here so the generator itself stays about structure.
import { createHash } from 'node:crypto';

/** One TLS client stack as a gateway sees it: the handshake's fingerprints, version and cipher. */
export interface TlsClientClass {
  id: string;
  label: string;
  /** ECS `tls.version`: "1.3", "1.2", "1.0". */
  version: string;
  /** Negotiated cipher suite, IANA name (as ECS `tls.cipher` examples write it). */
  cipher: string;
  ja3: string;
  ja4: string;
}

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

// JA4 values for browsers, Go and Python come from FoxIO's ja4plus-mapping.csv; JA3 values for the
// browsers from salesforce/ja3's list. Where no list has the client, JA3 is the MD5 of a
// plausible JA3 string for that stack (a real digest of a synthetic handshake).
export const TLS_CLIENTS = {
  chrome: {
    id: 'chrome',
    label: 'Chrome (desktop)',
    version: '1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    ja3: '94c485bca29d5392be53f2b8cf7f4304',
    ja4: 't13d1516h2_8daaf6152771_02713d6af862',
  },
  firefox: {
    id: 'firefox',
    label: 'Firefox (desktop)',
    version: '1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    ja3: '0ffee3ba8e615ad22535e7f771690a28',
    ja4: 't13d1715h2_5b57614c22b0_7121afd63204',
  },
  safari: {
    id: 'safari',
    label: 'Safari / WebKit (macOS, iOS)',
    version: '1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    ja3: 'a312f9162a08eeedf7feb7a13cd7e9bb',
    ja4: 't13d2014h2_a09f3c656075_14788d8d241b',
  },
  go: {
    id: 'go',
    label: 'Go crypto/tls workload',
    version: '1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    ja3: md5(
      '771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49161-49171-49162-49172-156-157-47-53-49170-10,0-5-10-11-13-65281-16-18-43-51,29-23-24-25,0',
    ),
    ja4: 't13d190900_9dc949149365_97f8aa674fd9',
  },
  python: {
    id: 'python',
    label: 'Python (OpenSSL) script',
    version: '1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    ja3: md5(
      '771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-35-22-23-13-43-45-51,29-23-30-25-24,0-1-2',
    ),
    ja4: 't13d181000_85036bcba153_d41ae481755e',
  },
  wininet12: {
    id: 'wininet12',
    label: 'Windows WinINET (TLS 1.2)',
    version: '1.2',
    cipher: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
    ja3: md5(
      '771,49196-49195-49200-49199-159-158-49188-49187-49192-49191-49162-49161-49172-49171-157-156-61-60-53-47-10,0-10-11-13-35-23-65281,29-23-24,0',
    ),
    ja4: 't12d190800_d83cc789557e_7af1ed941c26',
  },
  // A legacy TLS 1.0 stack: the JA3 string is salesforce/ja3's README example; the JA4 is computed
  // from the same ClientHello (12 ciphers, SNI + 2 extensions, no ALPN, no signature algorithms).
  legacy10: {
    id: 'legacy10',
    label: 'Legacy TLS 1.0 client',
    version: '1.0',
    cipher: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
    ja3: 'ada70206e40642a3e4461f35503241d5',
    ja4: 't10d120300_d94e65cdb899_33a13ba74d1c',
  },
} as const satisfies Record<string, TlsClientClass>;

export type TlsClientId = keyof typeof TLS_CLIENTS;

export interface City {
  city: string;
  country: string;
  lat: number;
  lon: number;
  /** UTC offset in hours in February (no DST then in any listed city). */
  utcOffsetHours: number;
}

export const CITIES: readonly City[] = [
  { city: 'Berlin', country: 'DE', lat: 52.52, lon: 13.405, utcOffsetHours: 1 },
  { city: 'Munich', country: 'DE', lat: 48.1372, lon: 11.5756, utcOffsetHours: 1 },
  { city: 'Hamburg', country: 'DE', lat: 53.5511, lon: 9.9937, utcOffsetHours: 1 },
  { city: 'Paris', country: 'FR', lat: 48.8566, lon: 2.3522, utcOffsetHours: 1 },
  { city: 'Lyon', country: 'FR', lat: 45.764, lon: 4.8357, utcOffsetHours: 1 },
  { city: 'London', country: 'GB', lat: 51.5072, lon: -0.1276, utcOffsetHours: 0 },
  { city: 'Manchester', country: 'GB', lat: 53.4808, lon: -2.2426, utcOffsetHours: 0 },
  { city: 'Madrid', country: 'ES', lat: 40.4168, lon: -3.7038, utcOffsetHours: 1 },
  { city: 'New York', country: 'US', lat: 40.7128, lon: -74.006, utcOffsetHours: -5 },
  { city: 'Boston', country: 'US', lat: 42.3601, lon: -71.0589, utcOffsetHours: -5 },
  { city: 'Austin', country: 'US', lat: 30.2672, lon: -97.7431, utcOffsetHours: -6 },
];

/** Offices: where employees work, with the /24 the office egresses from (RFC 5737 documentation ranges). */
export interface Office {
  city: City;
  /** First three octets of the office egress /24. */
  subnet: string;
}

export const OFFICES: readonly Office[] = [
  { city: CITIES[0], subnet: '203.0.113' },
  { city: CITIES[5], subnet: '198.51.100' },
  { city: CITIES[8], subnet: '192.0.2' },
];

// Home and mobile addresses come from 198.18.0.0/15 (RFC 2544 benchmarking range: 512 /24s, none
// routable, so no real person's address appears); 198.19.200.0–198.19.255.255 is kept for scenarios.

export const FIRST_NAMES = [
  'alice',
  'bob',
  'carla',
  'dana',
  'erin',
  'felix',
  'gina',
  'hugo',
  'ines',
  'jonas',
  'julia',
  'kevin',
  'lena',
  'marco',
  'mike',
  'nadia',
  'omar',
  'paula',
  'quentin',
  'rosa',
  'sam',
  'tara',
  'uwe',
  'vera',
  'will',
  'xenia',
  'yusuf',
  'zoe',
  'anton',
  'bea',
  'chen',
  'diego',
  'emma',
  'farid',
  'greta',
  'hana',
  'ivan',
  'jana',
  'karim',
  'lucia',
] as const;

export const LAST_NAMES = [
  'schmidt',
  'meyer',
  'dubois',
  'kim',
  'walsh',
  'novak',
  'rossi',
  'garcia',
  'mueller',
  'martin',
  'fischer',
  'weber',
  'lopez',
  'bernard',
  'smith',
  'jones',
  'taylor',
  'brown',
  'wagner',
  'becker',
  'nguyen',
  'hoffmann',
  'moreau',
  'park',
] as const;

/** Departments and the roles found in each. */
export const DEPARTMENTS: Readonly<Record<string, readonly string[]>> = {
  Engineering: ['software-engineer', 'sre', 'engineering-manager'],
  Finance: ['accountant', 'controller'],
  Sales: ['account-executive', 'sales-manager'],
  HR: ['hr-partner'],
  IT: ['it-admin', 'helpdesk'],
  Legal: ['counsel'],
  Marketing: ['marketing-manager', 'designer'],
};

export const LAPTOP_OS = ['Windows 11 23H2', 'Windows 11 24H2', 'macOS 15.3', 'macOS 14.7', 'Ubuntu 24.04'] as const;
export const PHONE_OS = ['iOS 18.3', 'iOS 17.7', 'Android 15', 'Android 14'] as const;
export const SERVER_OS = ['Ubuntu 22.04', 'Debian 12', 'RHEL 9.5'] as const;

/** Internal services behind the mTLS gateway: service.name and url.domain. */
export interface ServiceDef {
  name: string;
  domain: string;
  /** Relative popularity among human users. */
  weight: number;
}

export const SERVICES: readonly ServiceDef[] = [
  { name: 'intranet', domain: 'intranet.example.com', weight: 30 },
  { name: 'mail', domain: 'mail.example.com', weight: 25 },
  { name: 'wiki', domain: 'wiki.example.com', weight: 12 },
  { name: 'git', domain: 'git.example.com', weight: 10 },
  { name: 'hr-portal', domain: 'hr.example.com', weight: 4 },
  { name: 'finance-erp', domain: 'erp.example.com', weight: 6 },
  { name: 'crm', domain: 'crm.example.com', weight: 8 },
  { name: 'vpn-portal', domain: 'vpn.example.com', weight: 5 },
];

/** APIs that service workloads call. */
export const WORKLOAD_SERVICES: readonly ServiceDef[] = [
  { name: 'payments-api', domain: 'payments.internal.example.com', weight: 1 },
  { name: 'inventory-api', domain: 'inventory.internal.example.com', weight: 1 },
  { name: 'reporting-api', domain: 'reporting.internal.example.com', weight: 1 },
  { name: 'backup-api', domain: 'backup.internal.example.com', weight: 1 },
  { name: 'metrics-api', domain: 'metrics.internal.example.com', weight: 1 },
];

/** Service accounts and the workload each runs (device = its server). */
export const SERVICE_ACCOUNTS = [
  { name: 'svc-payments', department: 'Engineering', role: 'workload', target: 'payments-api' },
  { name: 'svc-inventory', department: 'Engineering', role: 'workload', target: 'inventory-api' },
  { name: 'svc-backup', department: 'IT', role: 'workload', target: 'backup-api' },
  { name: 'svc-monitoring', department: 'IT', role: 'workload', target: 'metrics-api' },
  { name: 'svc-ci', department: 'Engineering', role: 'workload', target: 'inventory-api' },
  { name: 'svc-reporting', department: 'Finance', role: 'batch', target: 'reporting-api' },
] as const;

export const ORG = 'Example Corp';
export const EMAIL_DOMAIN = 'example.com';
export const HOST_DOMAIN = 'corp.example.com';
