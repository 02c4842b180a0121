// `certsignal pcap FILE…`: one record per TLS session of each capture (addresses, versions, SNI,
// ALPN, JA4 / JA3 / JA3S, certificate summaries), as JSON lines or a table, with a summary of
// packets, sessions and what was skipped on stderr. JA4S / JA4X only with `--ja4plus`.

import { stat } from 'node:fs/promises';
import Table from 'cli-table3';
import { sniffFormat } from '../capture/frames.ts';
import { CertsignalError, ExitCode } from '../errors.ts';
import { CertificateCache } from '../normalize/certificate.ts';
import { NdjsonWriter } from '../sinks/ndjson.ts';
import { type PcapRecord, pcapRecord } from '../sources/pcap/record.ts';
import { readSessions } from '../sources/pcap/sessions.ts';
import { readHead } from '../sources/read.ts';
import { diagnosticsSummary, progressReporter, stderrDiagnostics } from './output.ts';

/** Options of `certsignal pcap`. */
export interface PcapCliOptions {
  /** `json` (one record per line) or `table`; default table on a TTY, else json. */
  output?: string;
  /** Adds JA4S and JA4X (FoxIO License 1.1, non-commercial use). */
  ja4plus?: boolean;
  quiet?: boolean;
  progress?: boolean;
}

export const JA4PLUS_NOTICE =
  'certsignal: note: JA4S and JA4X are licensed by FoxIO under the FoxIO License 1.1 (non-commercial use only; commercial use needs a FoxIO licence). JA4 itself is BSD-3-Clause.';

function short(value: string | null | undefined, max: number): string {
  if (!value) return '-';
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

function clientCertCell(r: PcapRecord): string {
  if (r.client_certificates === null) return `(${r.client_certificates_reason ?? 'not visible'})`;
  if (r.client_certificates.length === 0) return '(none)';
  return r.client_certificates[0].subject ?? r.client_certificates[0].sha256.slice(0, 16);
}

function renderTable(records: readonly PcapRecord[]): string {
  if (records.length === 0) return 'No TLS sessions.';
  const table = new Table({
    head: ['stream', 'client → server', 'proto', 'version', 'SNI', 'JA4', 'JA3', 'client certificate', 'outcome'],
    style: { head: [], border: [] },
  });
  for (const r of records) {
    table.push([
      String(r.stream_id),
      `${r.src_ip}:${r.src_port} → ${r.dst_ip}:${r.dst_port}`,
      r.transport,
      r.version ?? '-',
      short(r.sni, 30),
      r.ja4 ?? '-',
      r.ja3 ?? '-',
      short(clientCertCell(r), 40),
      r.outcome,
    ]);
  }
  return table.toString();
}

/**
 * Runs `certsignal pcap` over capture files; returns the exit code: 0 (diagnostics may have been
 * printed), 3 when no file could be read as a capture. Usage errors throw CertsignalError (2).
 */
export async function runPcap(files: string[], opts: PcapCliOptions): Promise<number> {
  if (files.length === 0) throw new CertsignalError('E_USAGE', 'no capture files given');
  let output: 'json' | 'table';
  if (opts.output === undefined) output = process.stdout.isTTY ? 'table' : 'json';
  else if (opts.output === 'json' || opts.output === 'table') output = opts.output;
  else throw new CertsignalError('E_USAGE', `--output must be json or table, got "${opts.output}"`);
  const ja4plus = opts.ja4plus === true;
  if (ja4plus) process.stderr.write(`${JA4PLUS_NOTICE}\n`);

  const diagnostics = stderrDiagnostics(opts.quiet === true);
  const progress = progressReporter(opts.progress !== false && opts.quiet !== true);
  const writer = output === 'json' ? new NdjsonWriter(process.stdout) : null;
  const table: PcapRecord[] = [];
  const cache = new CertificateCache();

  // Which inputs are captures at all (magic bytes, gzip looked through), before reading any.
  const readable: string[] = [];
  let totalBytes = 0;
  for (const file of files) {
    if (file === '-') {
      diagnostics.report({
        level: 'error',
        reason: 'unknown-format',
        file,
        message: 'certsignal pcap reads capture files, not stdin; give the file path',
      });
      continue;
    }
    const head = await readHead(file);
    if (head === null) {
      diagnostics.report({ level: 'error', reason: 'file-unreadable', file, message: `cannot read ${file}` });
      continue;
    }
    const format = sniffFormat(head);
    if (format !== 'pcap' && format !== 'pcapng') {
      const what = head.length === 0 ? 'the file is empty' : `first bytes ${Buffer.from(head.subarray(0, 4)).toString('hex')}`;
      diagnostics.report({
        level: 'error',
        reason: 'not-a-capture',
        file,
        message: `${file} is not a pcap or pcapng capture (${what}; expected magic a1b2c3d4, d4c3b2a1, a1b23c4d, 4d3cb2a1 or 0a0d0d0a, optionally gzip-compressed)`,
      });
      continue;
    }
    readable.push(file);
    totalBytes += (await stat(file)).size;
  }

  let sessions = 0;
  let packets = 0;
  let conversations = 0;
  const ignored: Record<string, number> = {};
  const skipped: Record<string, number> = {};
  let before = 0;
  try {
    for (const file of readable) {
      const reader = readSessions(file, {
        diagnostics,
        ja4plus,
        onProgress: (n) => progress.update(before + n, totalBytes),
      });
      try {
        for await (const batch of reader) {
          for (const s of batch) {
            const record = pcapRecord(s, cache, ja4plus);
            sessions++;
            if (writer) writer.write(record);
            else table.push(record);
          }
        }
      } catch (err) {
        if (!(err instanceof CertsignalError)) throw err;
        diagnostics.report({ level: 'error', reason: 'file-unreadable', file, message: err.message });
      }
      const st = reader.stats();
      const c = reader.counts();
      packets += st.packets;
      conversations += c.conversations;
      for (const [k, v] of Object.entries(c.ignored)) ignored[k] = (ignored[k] ?? 0) + v;
      for (const [k, v] of Object.entries(st.skipped)) skipped[k] = (skipped[k] ?? 0) + v;
      before += st.bytes;
    }
  } finally {
    progress.stop();
  }
  if (writer) await writer.flush();
  else process.stdout.write(`${renderTable(table)}\n`);

  if (!opts.quiet) {
    const list = (m: Record<string, number>) =>
      Object.entries(m)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    const lines = [
      `${sessions} TLS session(s) from ${readable.length}/${files.length} capture file(s): ${packets} packets, ${conversations} conversations with payload`,
    ];
    if (Object.keys(ignored).length > 0) lines.push(`conversations ignored: ${list(ignored)}`);
    if (Object.keys(skipped).length > 0) lines.push(`packets skipped: ${list(skipped)}`);
    const diag = diagnosticsSummary(diagnostics);
    if (diag) lines.push(diag);
    process.stderr.write(`${lines.join('\n')}\n`);
  }
  const unreadable = (diagnostics.counts.get('file-unreadable') ?? 0) + (diagnostics.counts.get('not-a-capture') ?? 0);
  if (readable.length === 0 || (sessions === 0 && packets === 0 && unreadable >= files.length)) {
    throw new CertsignalError('E_INPUT', 'no capture could be read (see diagnostics above)', ExitCode.INPUT);
  }
  return ExitCode.OK;
}
