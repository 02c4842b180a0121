// Test helper: runs one source's parser over in-memory lines, as read.ts would, and returns the
// observations, the diagnostics and the parser's counts.
import { Diagnostics } from '../../src/diagnostics.ts';
import type { Observation } from '../../src/schema/event.ts';
import type { LineSource, SharedSourceState } from '../../src/sources/types.ts';

export interface FeedResult {
  observations: Observation[];
  diagnostics: Diagnostics;
  counts: { records: number; ignored: number } | undefined;
}

/** Feed `lines` (1-based numbering) to a fresh parser of `source`; `shared` carries state across files. */
export function feed(
  source: LineSource,
  lines: string[],
  options: { file?: string; shared?: SharedSourceState; diagnostics?: Diagnostics } = {},
): FeedResult {
  const diagnostics = options.diagnostics ?? new Diagnostics();
  const parser = source.open({ file: options.file ?? 'test.log', diagnostics, shared: options.shared ?? new Map() });
  const observations: Observation[] = [];
  lines.forEach((text, i) => {
    const r = parser.line(text, i + 1);
    if (Array.isArray(r)) observations.push(...r);
    else if (r) observations.push(r);
  });
  const tail = parser.end?.();
  if (tail) observations.push(...tail);
  return { observations, diagnostics, counts: parser.counts?.() };
}

/** Diagnostics as compact `reason@line[:field]` strings, for exact assertions. */
export function diagList(d: Diagnostics): string[] {
  return d.kept.map((k) => `${k.level}:${k.reason}@${k.line ?? '-'}${k.field ? `:${k.field}` : ''}`);
}
