// Data for the entity sweep of the benchmark: N ECS events spread over E accounts (1k … 1M), each
// account with one device and one certificate. Issuing a million real certificates would take
// hours, so these events carry only the LOGGED certificate fields a gateway writes without the PEM
// (subject, issuer, serial, validity, SHA-256) with synthetic per-account values: the digest is
// SHA-256 of "<seed>/<account>", the serial is derived from it. The CAs, trust anchors and CRL are
// real (the fleet PKI), so the enrichment path runs as usual. Every account appears N/E times,
// interleaved over the window (a fixed stride through the accounts).
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TLS_CLIENTS } from '../src/fleet/catalog.ts';
import { dnToRfc4514 } from '../src/fleet/pki.ts';
import { AUTOMATION_DN, createFleetPki } from '../src/fleet/plan.ts';
import { BENCH_START } from './generate.ts';

export interface SyntheticOptions {
  events: number;
  /** Distinct accounts (each with one device and one certificate). */
  entities: number;
  out: string;
  seed: string;
  days?: number;
}

export interface SyntheticResult {
  dir: string;
  events: number;
  entities: number;
  bytes: number;
  seconds: number;
}

/** Directory name of a synthetic entity-sweep data set. */
export function syntheticDataName(o: { events: number; entities: number; seed: string }): string {
  return `synth-${o.events}-${o.entities}-${o.seed}`;
}

const DAY = 86_400_000;
const STRIDE = 7919; // prime: co-prime with every power of ten, so i·STRIDE mod E visits every account

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** The synthetic certificate digest and serial of account `k`. */
export function syntheticCertificate(seed: string, k: number): { sha256: string; serial: string } {
  const sha256 = createHash('sha256').update(`${seed}/${k}`).digest('hex');
  // Positive 16-byte serial, as enterprise CAs issue; derived from a different part of the digest space.
  const serial = `4${createHash('sha256').update(`${seed}/serial/${k}`).digest('hex').slice(1, 32)}`;
  return { sha256, serial };
}

/** Writes events.ndjson, trust-anchors.pem, crl.pem (5 accounts' certificates revoked) and certsignal.yaml. */
export async function generateSynthetic(o: SyntheticOptions): Promise<SyntheticResult> {
  const started = performance.now();
  const days = o.days ?? 14;
  mkdirSync(o.out, { recursive: true });
  const pki = await createFleetPki(o.seed);
  const issuer = dnToRfc4514(pki.issuing.dn);
  const revoked = [0, 1, 2, 3, 4].filter((k) => k < o.entities).map((k) => syntheticCertificate(o.seed, k).serial);
  const crl = await pki.issuing.crl(
    revoked.map((serial) => ({ serial, revokedAt: new Date(BENCH_START - DAY) })),
    new Date(BENCH_START - DAY),
    new Date('2036-01-01T00:00:00Z'),
  );
  writeFileSync(
    join(o.out, 'trust-anchors.pem'),
    `${[pki.root, pki.issuing, pki.automation].map((c) => c.certificate.pem.trim()).join('\n')}\n`,
  );
  writeFileSync(join(o.out, 'crl.pem'), crl.pem);
  writeFileSync(join(o.out, 'certsignal.yaml'), `automation_issuers:\n  - "${dnToRfc4514(AUTOMATION_DN)}"\n`);

  const tls = TLS_CLIENTS.chrome;
  const head = `"ecs":{"version":"8.11.0"},"event":{"kind":"event","category":["network","authentication"],"dataset":"gateway.mtls","outcome":"success"}`;
  const tlsHead = `"tls":{"version":${JSON.stringify(tls.version)},"version_protocol":"tls","cipher":${JSON.stringify(tls.cipher)},"client":{"ja3":"${tls.ja3}","ja4":"${tls.ja4}"`;
  const x509Tail = `"issuer":{"distinguished_name":${JSON.stringify(issuer)},"common_name":${JSON.stringify(pki.issuing.certificate.subjectCn ? [pki.issuing.certificate.subjectCn] : [])}},"not_before":"2025-09-01T00:00:00.000Z","not_after":"2027-09-01T00:00:00.000Z"`;
  const services = ['vpn-gateway', 'git', 'wiki', 'payroll-api', 'crm'];
  const stride = gcd(STRIDE, o.entities) === 1 ? STRIDE : 1;
  const slot = (days * DAY) / o.events;
  const fd = openSync(join(o.out, 'events.ndjson'), 'w');
  const buffer = Buffer.allocUnsafe(8 << 20);
  let offset = 0;
  let bytes = 0;
  for (let i = 0; i < o.events; i++) {
    const k = (i * stride) % o.entities;
    const { sha256, serial } = syntheticCertificate(o.seed, k);
    const user = `u${k}`;
    const service = services[i % services.length];
    const ts = new Date(BENCH_START + Math.floor((i + 0.5) * slot)).toISOString();
    const line =
      `{"@timestamp":"${ts}",${head},"user":{"name":"${user}"},"device":{"id":"d${k}"},` +
      `"source":{"ip":"10.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}"},"service":{"name":"${service}"},"url":{"domain":"${service}.corp.example.com"},` +
      `${tlsHead},"hash":{"sha256":"${sha256.toUpperCase()}"},"x509":{"subject":{"distinguished_name":"CN=${user},OU=Staff,O=Example Corp","common_name":["${user}"]},` +
      `${x509Tail},"serial_number":"${serial.toUpperCase()}","alternative_names":["${user}@example.com"]}}}}\n`;
    if (offset + line.length * 3 > buffer.length) {
      writeSync(fd, buffer, 0, offset);
      bytes += offset;
      offset = 0;
    }
    offset += buffer.write(line, offset);
  }
  writeSync(fd, buffer, 0, offset);
  bytes += offset;
  closeSync(fd);
  return { dir: o.out, events: o.events, entities: o.entities, bytes, seconds: (performance.now() - started) / 1000 };
}
