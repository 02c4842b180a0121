// Every certificate in the shared real-data suites (x509-limbo, rustls-webpki, certificates
// extracted from pcaps) either parses or fails with a per-certificate CertificateParseError —
// never a crash — and what parses agrees with node:crypto/OpenSSL on the fields both read.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CertificateParseError,
  canonicalSerialHex,
  type ParsedCertificate,
  parseCertificate,
} from '../../src/normalize/certificate.ts';
import { canonicalDn } from '../../src/normalize/dn.ts';

const REAL = fileURLToPath(new URL('../../../shared/realdata/', import.meta.url));

interface Sample {
  where: string;
  data: string | Buffer;
}

interface LimboCase {
  id: string;
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
}

function limboSamples(tc: LimboCase, group: string): Sample[] {
  return [...tc.trusted_certs, ...tc.untrusted_intermediates, tc.peer_certificate].map((data) => ({
    where: `${group}:${tc.id}`,
    data,
  }));
}

function filesUnder(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, pattern));
    else if (pattern.test(name)) out.push(p);
  }
  return out.sort();
}

const groups: Record<string, Sample[]> = {
  'x509-limbo suite': (
    JSON.parse(readFileSync(join(REAL, 'x509-limbo/limbo-2023-12-02-ddc40b47.json'), 'utf8')).testcases as LimboCase[]
  ).flatMap((tc) => limboSamples(tc, 'limbo')),
  'x509-limbo online': readdirSync(join(REAL, 'x509-limbo/online')).flatMap((f) =>
    limboSamples(JSON.parse(readFileSync(join(REAL, 'x509-limbo/online', f), 'utf8')) as LimboCase, f),
  ),
  'x509-limbo assets': filesUnder(join(REAL, 'x509-limbo/assets'), /\.pem$/).map((p) => ({ where: p, data: readFileSync(p) })),
  'rustls-webpki': filesUnder(join(REAL, 'rustls-webpki/tests'), /\.(der|cer|crt|pem)$/)
    .filter((p) => !p.includes('/tests/crls/') && !/\.crl(\.der)?$/.test(p))
    .map((p) => ({ where: p, data: readFileSync(p) })),
  'derived-certs-from-pcaps': filesUnder(join(REAL, 'derived-certs-from-pcaps'), /\.(der|pem)$/).map((p) => ({
    where: p,
    data: readFileSync(p),
  })),
};

/** Parse, turning only CertificateParseError into a counted failure: anything else fails the test. */
function tryParse(s: Sample): ParsedCertificate | CertificateParseError {
  try {
    return parseCertificate(s.data);
  } catch (err) {
    if (err instanceof CertificateParseError) return err;
    throw new Error(`${s.where}: crashed with ${(err as Error).stack}`);
  }
}

describe('certificate parsing survives the real-data suites', () => {
  for (const [group, samples] of Object.entries(groups)) {
    it(`${group}: every certificate parses or gets a coded CertificateParseError`, () => {
      let parsed = 0;
      const diagnosed: Record<string, number> = {};
      for (const s of samples) {
        const r = tryParse(s);
        if (r instanceof CertificateParseError) {
          assert.match(r.reason, /^cert-[a-z-]+$/);
          diagnosed[r.reason] = (diagnosed[r.reason] ?? 0) + 1;
        } else {
          parsed++;
          assert.match(r.info.sha256 as string, /^[0-9a-f]{64}$/);
          assert.match(r.info.spki_sha256 as string, /^[0-9a-f]{64}$/);
        }
      }
      // Counts are part of the test output, per directory.
      console.log(`${group}: ${samples.length} certificates, ${parsed} parsed, diagnosed ${JSON.stringify(diagnosed)}`);
      assert.ok(samples.length > 0);
      // All of these are certificates some real implementation loads; none is byte garbage.
      assert.equal(parsed, samples.length);
    });
  }

  it('agrees with node:crypto on digest, serial, validity, SPKI and key type wherever OpenSSL loads the certificate', () => {
    let compared = 0;
    for (const samples of Object.values(groups)) {
      for (const s of samples) {
        const p = tryParse(s);
        if (p instanceof CertificateParseError) continue;
        let x: X509Certificate;
        try {
          x = new X509Certificate(p.der);
        } catch {
          continue;
        }
        compared++;
        const info = p.info;
        assert.equal(info.sha256, x.fingerprint256.replace(/:/g, '').toLowerCase(), s.where);
        assert.equal(info.serial, canonicalSerialHex(x.serialNumber), s.where);
        assert.equal(info.not_before, new Date(x.validFrom).toISOString(), s.where);
        assert.equal(info.not_after, new Date(x.validTo).toISOString(), s.where);
        let spki: Buffer | null = null;
        try {
          spki = x.publicKey.export({ type: 'spki', format: 'der' });
        } catch {
          // key node cannot export: our digest comes from the DER (checked below for ML-DSA)
        }
        if (spki && info.key_curve !== 'explicit') {
          assert.equal(info.spki_sha256, createHash('sha256').update(spki).digest('hex'), s.where);
          assert.equal(info.key_algorithm, x.publicKey.asymmetricKeyType, s.where);
        }
      }
    }
    assert.ok(compared > 450, `compared ${compared}`);
  });

  it('every x509-limbo online chain certificate parses with an SPKI pin and its peer has DNS SANs', () => {
    for (const f of readdirSync(join(REAL, 'x509-limbo/online'))) {
      const tc = JSON.parse(readFileSync(join(REAL, 'x509-limbo/online', f), 'utf8')) as LimboCase;
      const peer = parseCertificate(tc.peer_certificate);
      assert.match(peer.info.spki_pin_sha256 as string, /^[A-Za-z0-9+/]{43}=$/);
      assert.ok(peer.info.san.dns.length > 0, f);
      assert.equal(peer.info.is_ca, false, f);
    }
  });
});

describe('damaged certificates', () => {
  it('truncated or bit-flipped real certificates never crash the parser', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let outcomes = 0;
    for (const s of groups['rustls-webpki'].slice(0, 40)) {
      const der = parseCertificate(s.data).der;
      for (let k = 0; k < 60; k++) {
        const copy = Buffer.from(der);
        const mutated = k % 3 === 0 ? copy.subarray(0, rand(copy.length)) : copy;
        if (k % 3 !== 0) for (let f = 0; f < 1 + (k % 4); f++) mutated[rand(mutated.length)] ^= 1 << rand(8);
        const r = tryParse({ where: `${s.where} mutation ${k}`, data: mutated });
        outcomes++;
        if (!(r instanceof CertificateParseError)) assert.match(r.info.sha256 as string, /^[0-9a-f]{64}$/);
      }
    }
    assert.equal(outcomes, 40 * 60);
  });
});

describe('odd encodings', () => {
  const webpki = (p: string) => parseCertificate(readFileSync(join(REAL, 'rustls-webpki/tests', p)));

  it('negative, zero and large serials', () => {
    assert.equal(webpki('misc/serial_zero.der').info.serial, '0');
    assert.match(webpki('misc/serial_neg.der').info.serial as string, /^-[0-9a-f]+$/);
    assert.equal(webpki('misc/serial_neg.der').info.serial, '-11d4c2142bde21eb579d53fb0c223bff'); // openssl: serial=-11D4C2…
    assert.match(webpki('misc/serial_large_positive.der').info.serial as string, /^[1-9a-f][0-9a-f]{30,}$/);
    const neg = parseCertificate(readFileSync(join(REAL, 'x509-limbo/assets/negative_serial.pem')));
    assert.equal(neg.info.serial, canonicalSerialHex('-04316693ED'));
  });

  it('explicit-curve EC keys: curve "explicit", size from the field prime', () => {
    const p = parseCertificate(readFileSync(join(REAL, 'x509-limbo/assets/explicit_curve_leaf.pem')));
    assert.equal(p.info.key_algorithm, 'ec');
    assert.equal(p.info.key_curve, 'explicit');
    assert.equal(p.info.key_size, 256);
  });

  it('duplicate extensions and unknown critical extensions are parsed and flagged, not fatal', () => {
    const limbo = JSON.parse(readFileSync(join(REAL, 'x509-limbo/limbo-2023-12-02-ddc40b47.json'), 'utf8'))
      .testcases as LimboCase[];
    const dup = limbo.find((t) => t.id === 'rfc5280::duplicate-extensions') as LimboCase;
    assert.ok(parseCertificate(dup.peer_certificate).warnings.some((w) => w.startsWith('duplicate-extension:')));
    const crit = limbo.find((t) => t.id === 'rfc5280::unknown-critical-extension-ee') as LimboCase;
    assert.ok(parseCertificate(crit.peer_certificate).warnings.some((w) => w.startsWith('unknown-critical-extension:')));
  });

  it('real chains: netflix/cloudflare/sanofi leaves chain to their CA by signature', async () => {
    const { isIssuedBy } = await import('../../src/normalize/certificate.ts');
    for (const dir of ['netflix', 'cloudflare_dns', 'sanofi']) {
      const ee = webpki(`${dir}/ee.der`);
      const inter = webpki(`${dir}/inter.der`);
      const ca = webpki(`${dir}/ca.der`);
      assert.equal(isIssuedBy(ee, inter), true, dir);
      assert.equal(isIssuedBy(inter, ca), true, dir);
      assert.equal(isIssuedBy(ee, ca), false, dir);
    }
    assert.ok(webpki('netflix/ee.der').info.san.dns.includes('netflix.com'));
  });

  it('ML-DSA-44 certificate from the Zeek trace: key type from the OID, SPKI digest from the DER, matches Zeek x509.log', () => {
    // The certificate sits contiguously in the pcap; find it by the SHA-256 Zeek logged.
    const zeekLog = readFileSync(join(REAL, 'zeek/Baseline/scripts.base.protocols.ssl.ml-dsa-44-cert/x509.log'), 'utf8');
    const row = zeekLog
      .split('\n')
      .find((l) => l && !l.startsWith('#'))
      ?.split('\t') as string[];
    const [, fingerprint, , serial, subject, issuer] = row;
    const pcap = readFileSync(join(REAL, 'zeek/Traces/tls/ml-dsa-44-cert.pcap'));
    let found: ParsedCertificate | null = null;
    for (let i = 0; i + 4 < pcap.length && !found; i++) {
      if (pcap[i] !== 0x30 || pcap[i + 1] !== 0x82) continue;
      const end = i + 4 + ((pcap[i + 2] << 8) | pcap[i + 3]);
      if (end > pcap.length) continue;
      const der = pcap.subarray(i, end);
      if (createHash('sha256').update(der).digest('hex') === fingerprint) found = parseCertificate(der);
    }
    assert.ok(found, 'certificate with the logged fingerprint is in the pcap');
    assert.equal(found.info.key_algorithm, 'ml-dsa-44');
    assert.equal(found.info.serial, canonicalSerialHex(serial));
    assert.equal(found.info.subject, canonicalDn(subject));
    assert.equal(found.info.issuer, canonicalDn(issuer));
    assert.equal(found.info.spki_sha256, createHash('sha256').update(found.spki).digest('hex'));
    assert.equal(found.spki.length, 1312 + 22); // ML-DSA-44 public key + SPKI header
    assert.equal(found.info.self_signed, true);
  });
});
