// The OCSP line of the run summary.
import type { OcspStats } from './checker.ts';

/** `OCSP: 3 requests, 997 cache hits; good 2, revoked 1, unknown 1 (timeout 1); timed out: http://…` */
export function ocspSummary(stats: OcspStats): string {
  let good = 0;
  let revoked = 0;
  const unknown: [string, number][] = [];
  for (const [k, n] of Object.entries(stats.outcomes)) {
    if (k === 'good') good += n;
    else if (k === 'revoked') revoked += n;
    else unknown.push([k.replace(/^unknown:/, ''), n]);
  }
  const unknownTotal = unknown.reduce((a, [, n]) => a + n, 0);
  const why = unknown.length
    ? ` (${unknown
        .sort((a, b) => b[1] - a[1])
        .map(([r, n]) => `${r} ${n}`)
        .join(', ')})`
    : '';
  let line = `OCSP: ${stats.requests} request(s), ${stats.cacheHits} cache hit(s); good ${good}, revoked ${revoked}, unknown ${unknownTotal}${why}`;
  if (stats.timedOut.length) line += `; timed out: ${stats.timedOut.join(', ')}`;
  return line;
}
