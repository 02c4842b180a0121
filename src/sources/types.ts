// The extension point for input formats. A source turns the lines of one file into
// format-neutral Observations; it knows nothing of rules, scoring or sinks.
import type { Diagnostics } from '../diagnostics.ts';
import type { Observation } from '../schema/event.ts';

/** What a source sees when asked whether it can read a file. */
export interface DetectSample {
  /** File name (basename, `.gz` already stripped), or `-` for stdin. */
  name: string;
  /** The first few non-empty lines (at most 20, each cut at 64 KiB). */
  firstLines: string[];
}

/** State shared by all files of one run (e.g. Zeek x509 certificates by fingerprint for the ssl.log join). */
export type SharedSourceState = Map<string, unknown>;

/** Per-run options some sources honour (from certsignal.yaml `input`). */
export interface SourceOptions {
  /** Envoy: x-forwarded-client-cert elements trusted, counted from the last (default 1). */
  xfccTrustedHops?: number;
}

export interface FileContext {
  /** Path as given by the user (`-` for stdin). */
  file: string;
  diagnostics: Diagnostics;
  shared: SharedSourceState;
  /** Options from the run's configuration (absent: each source's defaults). */
  options?: SourceOptions;
}

/** Parses one file line by line. Created per file; may keep per-file state (e.g. Zeek `#fields`). */
export interface LineParser {
  /**
   * Parse one line (without its newline). Returns the observations it produced (usually 0 or 1).
   * Malformed input is reported through `ctx.diagnostics` (file, line, field, reason) — never thrown.
   */
  line(text: string, lineNumber: number): Observation[] | Observation | null;
  /** Called at end of file: flush anything buffered. */
  end?(): Observation[] | void;
  /**
   * Optional per-file counts for the run summary: `records` = data records read (headers and
   * blank lines excluded, skipped ones included); `ignored` = records deliberately not turned
   * into observations (e.g. Suricata events that are not `tls`). Without it, every non-empty
   * line counts as a record.
   */
  counts?(): { records: number; ignored: number };
}

export interface LineSource {
  kind: 'lines';
  /** Stable format id, accepted by `--format`. */
  id: string;
  description: string;
  /**
   * Files of a lower phase are read before files of a higher phase in one run
   * (Zeek x509.log = 0 so ssl.log = 1 can join on it). Default 1.
   */
  phase?: number;
  /** Confidence 0..1 that this source reads the sample; the highest wins, 0 = no. */
  detect(sample: DetectSample): number;
  open(ctx: FileContext): LineParser;
}

/** What a binary source gets for one file: the line-source context plus a byte-progress callback. */
export interface BinaryFileContext extends FileContext {
  /** Bytes of this file consumed so far (compressed bytes for .gz), for progress bars. */
  onBytes?: (bytesRead: number) => void;
}

/** The observations of one binary file, with its counts for the run summary once iterated. */
export interface BinaryRead extends AsyncIterable<Observation[]> {
  /**
   * `records` = units read (e.g. TCP/UDP conversations of a capture), `ignored` = units that were
   * not the kind this source turns into observations (non-TLS traffic), `units` = what the
   * format's low-level unit is counted as in `FileStats.lines` (packets), `bytes` = bytes consumed.
   */
  counts(): { records: number; ignored: number; units: number; bytes: number };
}

/**
 * A source that reads a binary container (pcap / pcapng) rather than lines. Detected by the
 * file's first bytes (decompressed when the file is gzip); cannot read stdin.
 */
export interface BinarySource {
  kind: 'binary';
  /** Stable format id, accepted by `--format`. */
  id: string;
  description: string;
  /** As LineSource.phase. Default 1. */
  phase?: number;
  /** Confidence 0..1 from the first bytes (at least 4 when the file has them) and the file name. */
  detectBytes(head: Uint8Array, name: string): number;
  /** Reads one file. Bad input becomes diagnostics on `ctx.diagnostics`; only an unopenable file may throw. */
  read(ctx: BinaryFileContext): BinaryRead;
}

export type Source = LineSource | BinarySource;
