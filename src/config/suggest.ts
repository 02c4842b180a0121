// "Did you mean" suggestions for unknown config keys and rule ids.

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => {
    const row = new Array<number>(cols).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j < cols; j++) d[0][j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** `window-minutes`, `Window_Minutes` and `window_minutes` are the same word to a person. */
function fold(key: string): string {
  return key.toLowerCase().replace(/[-_ ]/g, '');
}

/**
 * The candidate closest to `input`, if close enough to be a likely typo (case, `-`/`_`,
 * or about one edit per three characters); undefined otherwise.
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const folded = fold(input);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === input) continue;
    const foldedCandidate = fold(candidate);
    // An abbreviation of a long key (`user_from_cert`) is as likely a slip as a typo.
    const abbreviation = folded.length >= 4 && foldedCandidate.startsWith(folded);
    const distance =
      foldedCandidate === folded ? 0 : abbreviation ? 1 : editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.floor(Math.min(input.length, best?.length ?? 0) / 3));
  return best !== undefined && bestDistance <= allowed ? best : undefined;
}
