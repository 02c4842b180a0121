// `ca-csv`: a generic CA issuance log as CSV (header row required), for CAs certsignal has no
// dedicated reader for and for the simulator's `ca/issuance.csv`. One row = one CA event.

import { canonicalCertDate } from '../../normalize/raw-cert.ts';
import { canonicalSerial } from '../../normalize/serial.ts';
import type { EventKind, Observation, RawCertificate } from '../../schema/event.ts';
import type { DetectSample, FileContext, LineSource } from '../types.ts';
import { dnOrCn, emptyCaRecord, parseEventTime, parseSanList, sansToRaw } from './common.ts';
import { sampleHeader } from './csv.ts';
import { type CsvRow, GenericCsvParser } from './csv-source.ts';

/** `event` column values → kind, CaRecord.operation, outcome. */
const EVENTS: Record<string, { kind: EventKind; operation: string; outcome: 'success' | 'failure' }> = {
  issued: { kind: 'issuance', operation: 'issue', outcome: 'success' },
  issue: { kind: 'issuance', operation: 'issue', outcome: 'success' },
  signed: { kind: 'issuance', operation: 'sign', outcome: 'success' },
  renewed: { kind: 'issuance', operation: 'renew', outcome: 'success' },
  renew: { kind: 'issuance', operation: 'renew', outcome: 'success' },
  rekeyed: { kind: 'issuance', operation: 'rekey', outcome: 'success' },
  revoked: { kind: 'revocation', operation: 'revoke', outcome: 'success' },
  revoke: { kind: 'revocation', operation: 'revoke', outcome: 'success' },
  requested: { kind: 'request', operation: 'request', outcome: 'success' },
  request: { kind: 'request', operation: 'request', outcome: 'success' },
  denied: { kind: 'request', operation: 'deny', outcome: 'failure' },
  deny: { kind: 'request', operation: 'deny', outcome: 'failure' },
};

/** `\n` written as two characters in a one-line cell → a real newline (PEM in a flat CSV). */
function unescapePem(text: string): string {
  return text.includes('\\n') ? text.replace(/\\r\\n|\\n/g, '\n') : text;
}

function caCsvRow(row: CsvRow, ctx: FileContext): Observation | null {
  const where = { file: ctx.file, line: row.line };
  const rawTime = row.get('time');
  const ts = parseEventTime(rawTime);
  if (ts === null) {
    ctx.diagnostics.skip({
      ...where,
      reason: rawTime === null ? 'missing-timestamp' : 'bad-timestamp',
      field: 'time',
      message:
        rawTime === null
          ? 'row has no time; skipped'
          : `time ${JSON.stringify(rawTime)} is neither ISO 8601 nor epoch seconds/ms; skipped`,
    });
    return null;
  }
  const eventText = (row.get('event') ?? 'issued').toLowerCase();
  const event = EVENTS[eventText];
  if (!event) {
    ctx.diagnostics.skip({
      ...where,
      reason: 'bad-value',
      field: 'event',
      message: `event ${JSON.stringify(eventText)} is not one of issued, renewed, revoked, requested, denied; skipped`,
    });
    return null;
  }

  const cert: RawCertificate = {};
  let hasCert = false;
  const pem = row.raw('pem');
  if (pem && pem.trim().length > 0) {
    cert.pem = unescapePem(pem.trim());
    hasCert = true;
  }
  const serial = row.get('serial');
  if (serial) {
    if (canonicalSerial(serial, 'hex') === null) {
      ctx.diagnostics.warn({
        ...where,
        reason: 'bad-value',
        field: 'serial',
        message: `serial ${JSON.stringify(serial)} is not hex; field ignored`,
      });
    } else {
      cert.serial = serial;
      cert.serial_format = 'hex';
      hasCert = true;
    }
  }
  const subject = dnOrCn(row.get('subject'));
  const issuer = dnOrCn(row.get('issuer'));
  if (subject) cert.subject = subject;
  if (issuer) cert.issuer = issuer;
  const sha256 = row.get('sha256');
  if (sha256) cert.sha256 = sha256;
  for (const col of ['not_before', 'not_after'] as const) {
    const v = row.get(col);
    if (!v) continue;
    if (canonicalCertDate(v) === null) {
      ctx.diagnostics.warn({
        ...where,
        reason: 'bad-value',
        field: col,
        message: `${col} ${JSON.stringify(v)} is not a date; field ignored`,
      });
    } else cert[col] = v;
  }
  let upn: string | null = null;
  const sanText = row.get('san');
  if (sanText) {
    const { sans, unknown } = parseSanList(sanText);
    sansToRaw(cert, sans);
    upn = sans.upn[0] ?? null;
    if (unknown.length > 0) {
      ctx.diagnostics.warn({
        ...where,
        reason: 'bad-value',
        field: 'san',
        message: `SAN entries of unknown type ignored: ${unknown.join('; ')} (types: dns, email, upn, uri, ip)`,
      });
    }
  }
  hasCert ||= subject !== null || issuer !== null || sha256 !== null;

  const ca = emptyCaRecord(event.operation);
  ca.ca = row.get('ca');
  ca.requester = row.get('requester');
  ca.template = row.get('template');
  ca.request_id = row.get('request_id');
  ca.reason = row.get('reason');
  // SANs the requester asked for (AD CS request attributes, an RA's audit trail): the ESC1 signal.
  const requested = row.get('requested_san');
  if (requested) {
    const { sans, unknown } = parseSanList(requested);
    for (const entry of sans.all) ca.requested_san.push(entry);
    if (unknown.length > 0) {
      ctx.diagnostics.warn({
        ...where,
        reason: 'bad-value',
        field: 'requested_san',
        message: `requested SAN entries of unknown type ignored: ${unknown.join('; ')} (types: dns, email, upn, uri, ip)`,
      });
    }
  }
  return {
    ts,
    format: 'ca-csv',
    file: ctx.file,
    line: row.line,
    record_id: ca.request_id,
    kind: event.kind,
    ca,
    outcome: event.outcome,
    // The certificate's account: the `user` column, else its UPN SAN (RawCertificate has no UPN
    // field); without either, normalize derives it from the certificate (e-mail SAN, CN).
    user: row.get('user') ?? upn,
    device: row.get('device'),
    client_certificate: hasCert ? cert : null,
    client_certificate_visibility: hasCert ? 'present' : 'not_visible',
  };
}

function detectCaCsv(sample: DetectSample): number {
  const h = sampleHeader(sample.firstLines);
  if (!h?.has('time') || !h.has('serial')) return 0;
  return h.has('subject') || h.has('issuer') || h.has('sha256') || h.has('pem') ? 0.9 : 0;
}

/** Generic CA issuance CSV. */
export const caCsvSource: LineSource = {
  kind: 'lines',
  id: 'ca-csv',
  description: 'generic CA issuance/revocation CSV (header: time, event, serial, subject, issuer, san, …)',
  detect: detectCaCsv,
  open: (ctx) => new GenericCsvParser(ctx, { id: 'ca-csv', required: ['time'], row: caCsvRow }),
};
