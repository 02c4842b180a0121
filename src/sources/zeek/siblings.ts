// Finds the x509.log that belongs to an ssl.log, so a user can pass just ssl.log and still get
// certificate details (Zeek writes them to a separate log, joined by fingerprint).
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const EXTENSIONS = ['.log', '.log.gz', '.json', '.json.gz'];

/** `ssl.2024-01-01-00-00-00.log.gz` → { stem: 'ssl', suffix: '.2024-01-01-00-00-00' }. */
function splitName(name: string): { stem: string; suffix: string } | null {
  let n = name.endsWith('.gz') ? name.slice(0, -3) : name;
  if (n.endsWith('.log')) n = n.slice(0, -4);
  else if (n.endsWith('.json')) n = n.slice(0, -5);
  else return null;
  const stem = n.startsWith('ssl') ? 'ssl' : n.startsWith('x509') ? 'x509' : null;
  return stem ? { stem, suffix: n.slice(stem.length) } : null;
}

/**
 * x509 logs beside `sslPath`: the same rotation suffix first (`x509.<suffix>.log[.gz]` for
 * `ssl.<suffix>.log[.gz]`), else a plain `x509.log`/`x509.log.gz`/`x509.json`. Existing files only.
 */
export async function findX509Siblings(sslPath: string): Promise<string[]> {
  const parts = splitName(basename(sslPath));
  if (parts?.stem !== 'ssl') return [];
  const dir = dirname(sslPath);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const present = new Set(entries);
  const pick = (suffix: string) => EXTENSIONS.map((ext) => `x509${suffix}${ext}`).filter((n) => present.has(n));
  let names = parts.suffix ? pick(parts.suffix) : [];
  if (names.length === 0) names = pick('');
  // One x509 log per suffix is enough: prefer the plain .log over .gz over .json.
  return names.slice(0, 1).map((n) => join(dir, n));
}
