// TLS version strings differ per source ("TLSv12" Zeek, "TLS 1.2" Suricata, "1.2" ECS, "TLSv1.2"
// nginx). Canonical form: "TLS 1.2", "TLS 1.3", "SSL 3.0", "DTLS 1.2"; anything else is kept as-is.

const cache = new Map<string, string>();

export function canonicalTlsVersion(raw: string | null | undefined, protocol?: string | null): string | null {
  if (raw === null || raw === undefined || raw === '') return null;
  const key = protocol ? `${protocol}|${raw}` : raw;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = compute(raw, protocol);
  if (cache.size < 1000) cache.set(key, value);
  return value;
}

function compute(raw: string, protocol?: string | null): string {
  const s = raw.trim();
  const m = /^(d?tls|ssl)?\s*v?\s*(\d)(?:\.?(\d))?$/i.exec(s);
  if (!m) return s;
  let proto = (m[1] ?? protocol ?? 'tls').toUpperCase();
  const major = m[2];
  const minor = m[3] ?? '0';
  if (proto !== 'DTLS' && proto !== 'SSL' && proto !== 'TLS') proto = 'TLS';
  return `${proto} ${major}.${minor}`;
}

/** Numeric rank for comparisons (downgrade detection): SSL 2.0 < SSL 3.0 < TLS 1.0 < … < TLS 1.3. */
export function tlsVersionRank(canonical: string | null): number | null {
  if (!canonical) return null;
  const m = /^(TLS|SSL|DTLS) (\d)\.(\d)$/.exec(canonical);
  if (!m) return null;
  const major = Number(m[2]);
  const minor = Number(m[3]);
  if (m[1] === 'SSL') return major - 4; // SSL 2.0 → -2, SSL 3.0 → -1
  if (m[1] === 'DTLS') return minor === 0 ? 1 : minor === 2 ? 2 : minor === 3 ? 3 : null; // DTLS 1.0≈TLS 1.1, 1.2, 1.3
  return minor; // TLS 1.0 → 0 … TLS 1.3 → 3
}
