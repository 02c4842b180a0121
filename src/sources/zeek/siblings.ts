// Finds the x509.log and conn.log that belong to an ssl.log, so a user can pass just ssl.log and
// still get certificate details (Zeek writes them to x509.log, joined by fingerprint) and byte
// counts (conn.log, joined by uid).
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const EXTENSIONS = ['.log', '.log.gz', '.json', '.json.gz'];
const STEMS = ['ssl', 'x509', 'conn'] as const;

/** A Zeek log that can sit beside an ssl.log and be read with it. */
export type ZeekSiblingStem = 'x509' | 'conn';

/** `ssl.2024-01-01-00-00-00.log.gz` → { stem: 'ssl', suffix: '.2024-01-01-00-00-00' }. */
function splitName(name: string): { stem: string; suffix: string } | null {
  let n = name.endsWith('.gz') ? name.slice(0, -3) : name;
  if (n.endsWith('.log')) n = n.slice(0, -4);
  else if (n.endsWith('.json')) n = n.slice(0, -5);
  else return null;
  const stem = STEMS.find((s) => n.startsWith(s));
  return stem ? { stem, suffix: n.slice(stem.length) } : null;
}

/**
 * `stem` logs beside `sslPath`: the same rotation suffix first (`conn.<suffix>.log[.gz]` for
 * `ssl.<suffix>.log[.gz]`), else a plain `conn.log`/`conn.log.gz`/`conn.json`. Existing files only;
 * at most one (the plain .log over .gz over .json).
 */
export async function findZeekSiblings(sslPath: string, stem: ZeekSiblingStem): Promise<string[]> {
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
  const pick = (suffix: string) => EXTENSIONS.map((ext) => `${stem}${suffix}${ext}`).filter((n) => present.has(n));
  let names = parts.suffix ? pick(parts.suffix) : [];
  if (names.length === 0) names = pick('');
  return names.slice(0, 1).map((n) => join(dir, n));
}

/** x509 logs beside `sslPath` (see findZeekSiblings). */
export function findX509Siblings(sslPath: string): Promise<string[]> {
  return findZeekSiblings(sslPath, 'x509');
}

/** conn logs beside `sslPath` (see findZeekSiblings). */
export function findConnSiblings(sslPath: string): Promise<string[]> {
  return findZeekSiblings(sslPath, 'conn');
}
