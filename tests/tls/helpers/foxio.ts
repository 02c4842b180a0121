// Test helper: FoxIO's reference outputs for its pcaps (shared/realdata/foxio-ja4): the Python
// implementation's JSON (the primary expectation) and the Rust implementation's insta snapshots
// (the second opinion, and the only one with QUIC JA4).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const FOXIO_DIR = fileURLToPath(new URL('../../../../shared/realdata/foxio-ja4/', import.meta.url));

/** One Python output record (stream, ports, then JA4.N / JA4S / JA4X.N … keys). */
export type PythonRecord = Record<string, string | number>;

/** The capture files of FoxIO's test set (their glob is `*.pcap*`, which leaves out `*.notest.cap`). */
export function foxioPcaps(): string[] {
  return readdirSync(`${FOXIO_DIR}pcap`)
    .filter((f) => f.includes('.pcap'))
    .sort();
}

/** Python expected records for a pcap that carry TLS fingerprints (JA4 / JA4S / JA4X keys). */
export function pythonTlsRecords(pcap: string): PythonRecord[] {
  const file = `${FOXIO_DIR}python/test/testdata/${pcap}.json`;
  if (!existsSync(file)) return [];
  const records = JSON.parse(readFileSync(file, 'utf8')) as PythonRecord[];
  return records.filter((r) => Object.keys(r).some((k) => /^JA4(_r|_o|_ro)?\.\d+$|^JA4S$|^JA4X\.\d+$/.test(k)));
}

/** One Rust snapshot record, reduced to the TLS fields. */
export interface RustRecord {
  stream: number;
  transport: string;
  src_port: number;
  dst_port: number;
  ja4: string | null;
  ja4s: string | null;
  /** JA4X of each certificate chain (tls_certs[i].x509[j].ja4x). */
  ja4x: string[][];
}

/** Rust snapshot records for a pcap (empty when there is no snapshot). */
export function rustRecords(pcap: string): RustRecord[] {
  const file = `${FOXIO_DIR}rust/ja4/src/snapshots/ja4__insta@${pcap}.snap`;
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  // insta: a front-matter block between `---` lines, then the YAML value.
  const body = text.slice(text.indexOf('\n---\n', 4) + 5);
  const doc = (parse(body) ?? []) as Record<string, unknown>[];
  return doc.map((r) => ({
    stream: Number(r.stream),
    transport: String(r.transport),
    src_port: Number(r.src_port),
    dst_port: Number(r.dst_port),
    ja4: typeof r.ja4 === 'string' ? r.ja4 : null,
    ja4s: typeof r.ja4s === 'string' ? r.ja4s : null,
    ja4x: Array.isArray(r.tls_certs)
      ? (r.tls_certs as { x509?: { ja4x?: string }[] }[]).map((c) => (c.x509 ?? []).map((x) => String(x.ja4x)))
      : [],
  }));
}

/** True when a pcapng file holds a Decryption Secrets Block (type 0x0000000A: a TLS key log). */
export function hasDecryptionSecrets(path: string): boolean {
  const d = readFileSync(path);
  if (d.length < 12 || d.readUInt32LE(0) !== 0x0a0d0d0a) return false;
  const le = d.readUInt32LE(8) === 0x1a2b3c4d;
  for (let p = 0; p + 12 <= d.length; ) {
    const type = le ? d.readUInt32LE(p) : d.readUInt32BE(p);
    const length = le ? d.readUInt32LE(p + 4) : d.readUInt32BE(p + 4);
    if (type === 0x0000000a) return true;
    if (length < 12) return false;
    p += length;
  }
  return false;
}
