// MDM / device-management enrollment events, in two generic shapes: `mdm-csv` (header row) and
// `mdm-json` (NDJSON objects). Both carry the same fields: time, device, action (enrolled,
// re-enrolled, unenrolled, wiped, …), user, platform, mdm, serial (hardware serial). Each record
// becomes an `enrollment` event; rules join it to CA issuance by device.
import type { Observation } from '../../schema/event.ts';
import { asObj, nonEmpty, parseEventTime, parseJsonObjectLine } from '../ca/common.ts';
import { sampleHeader } from '../ca/csv.ts';
import { type CsvRow, GenericCsvParser } from '../ca/csv-source.ts';
import { sampleJsonObjects } from '../common.ts';
import type { DetectSample, FileContext, LineParser, LineSource } from '../types.ts';

/** The fields of one enrollment record, whichever shape it came in. */
interface EnrollmentFields {
  time: unknown;
  timeField: string;
  device: string | null;
  action: string | null;
  user: string | null;
  platform: string | null;
  mdm: string | null;
  serial: string | null;
}

/** Validates one record and builds its observation; null (after a diagnostic) when unusable. */
function enrollmentObservation(f: EnrollmentFields, format: string, ctx: FileContext, line: number): Observation | null {
  const where = { file: ctx.file, line };
  const ts = parseEventTime(f.time);
  if (ts === null) {
    const missing = f.time === undefined || f.time === null || f.time === '';
    ctx.diagnostics.skip({
      ...where,
      reason: missing ? 'missing-timestamp' : 'bad-timestamp',
      field: f.timeField,
      message: missing
        ? 'record has no time; skipped'
        : `${f.timeField} ${JSON.stringify(f.time)} is neither ISO 8601 nor epoch seconds/ms; skipped`,
    });
    return null;
  }
  for (const [name, value] of [
    ['device', f.device],
    ['action', f.action],
  ] as const) {
    if (value === null) {
      ctx.diagnostics.skip({ ...where, reason: 'missing-field', field: name, message: `record has no ${name}; skipped` });
      return null;
    }
  }
  return {
    ts,
    format,
    file: ctx.file,
    line,
    kind: 'enrollment',
    enrollment: { action: (f.action as string).toLowerCase(), mdm: f.mdm, platform: f.platform, serial: f.serial },
    outcome: 'success',
    user: f.user,
    device: f.device,
    client_certificate_visibility: 'not_visible',
  };
}

function mdmCsvRow(row: CsvRow, ctx: FileContext): Observation | null {
  return enrollmentObservation(
    {
      time: row.get('time'),
      timeField: 'time',
      device: row.get('device'),
      action: row.get('action'),
      user: row.get('user'),
      platform: row.get('platform'),
      mdm: row.get('mdm'),
      serial: row.get('serial'),
    },
    'mdm-csv',
    ctx,
    row.line,
  );
}

/** Headers that make a CSV a CA log, never an MDM one. */
const CA_COLUMNS = ['issuer', 'subject', 'sha256', 'pem'];

function detectMdmCsv(sample: DetectSample): number {
  const h = sampleHeader(sample.firstLines);
  if (!h?.has('time') || !h.has('device') || !h.has('action')) return 0;
  return CA_COLUMNS.some((c) => h.has(c)) ? 0 : 0.9;
}

/** Generic MDM enrollment CSV. */
export const mdmCsvSource: LineSource = {
  kind: 'lines',
  id: 'mdm-csv',
  description: 'generic MDM enrollment CSV (header: time, device, action, user, platform, mdm, serial)',
  detect: detectMdmCsv,
  open: (ctx) => new GenericCsvParser(ctx, { id: 'mdm-csv', required: ['time', 'device', 'action'], row: mdmCsvRow }),
};

/** A scalar identifier (string, or a number some exporters write) → trimmed string, else null. */
function idText(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return nonEmpty(v);
}

class MdmJsonParser implements LineParser {
  private readonly ctx: FileContext;
  private records = 0;

  constructor(ctx: FileContext) {
    this.ctx = ctx;
  }

  counts(): { records: number; ignored: number } {
    return { records: this.records, ignored: 0 };
  }

  line(text: string, lineNumber: number): Observation | null {
    if (text.trim().length === 0) return null;
    this.records++;
    const o = parseJsonObjectLine(text, lineNumber, this.ctx);
    if (!o) return null;
    const timeField = o.time !== undefined ? 'time' : '@timestamp';
    for (const k of ['device', 'action', 'user', 'platform', 'mdm', 'serial']) {
      const v = o[k];
      if (v !== undefined && v !== null && typeof v !== 'string' && typeof v !== 'number') {
        this.ctx.diagnostics.warn({
          reason: 'wrong-type',
          file: this.ctx.file,
          line: lineNumber,
          field: k,
          message: `expected a string, got ${Array.isArray(v) ? 'an array' : typeof v}; field ignored`,
        });
      }
    }
    return enrollmentObservation(
      {
        time: o[timeField],
        timeField,
        device: idText(o.device),
        action: nonEmpty(o.action),
        user: idText(o.user),
        platform: nonEmpty(o.platform),
        mdm: nonEmpty(o.mdm),
        serial: idText(o.serial),
      },
      'mdm-json',
      this.ctx,
      lineNumber,
    );
  }
}

/** Actions that say "enrollment" (enrolled, re-enrolled, unenrolled, wiped, retired, registered, removed). */
const ENROLLMENT_VERB = /enrol|wipe|retire|regist|remov/i;

function detectMdmJson(sample: DetectSample): number {
  let hits = 0;
  for (const o of sampleJsonObjects(sample.firstLines)) {
    // ECS (tls/event objects) and Suricata (event_type) keep their own readers.
    if (asObj(o.tls) || asObj(o.event) || o.event_type !== undefined || o['event.action'] !== undefined) return 0;
    if (
      idText(o.device) !== null &&
      typeof o.action === 'string' &&
      ENROLLMENT_VERB.test(o.action) &&
      (o.time !== undefined || o['@timestamp'] !== undefined)
    )
      hits++;
  }
  return hits > 0 ? 0.9 : 0;
}

/** Generic MDM enrollment NDJSON. */
export const mdmJsonSource: LineSource = {
  kind: 'lines',
  id: 'mdm-json',
  description: 'generic MDM enrollment NDJSON (time/@timestamp, device, action, user, platform, mdm, serial)',
  detect: detectMdmJson,
  open: (ctx) => new MdmJsonParser(ctx),
};
