// `step-ca`: Smallstep step-ca's JSON request log (`"logger": {"format": "json"}`), one object
// per line. A request that signs, renews or rekeys an X.509 certificate carries the certificate's
// fields — `serial` in DECIMAL, `subject` and `issuer` as the CN only, `valid-from`/`valid-to`,
// `sans`, `provisioner` ("name (credential id)") and `certificate` (base64 DER) — beside the HTTP
// fields (`path`, `status`, `request-id`, `remote-address`, `user-id`). A revoke request carries
// `serial`, `reasonCode`, `reason`. Everything else (start-up lines, /health, /roots, SSH
// certificates) is counted as ignored.
import type { EventKind, Observation, RawCertificate } from '../../schema/event.ts';
import { sampleJsonObjects } from '../common.ts';
import type { DetectSample, FileContext, LineParser, LineSource } from '../types.ts';
import {
  addSan,
  asObj,
  dnOrCn,
  emptyCaRecord,
  emptySans,
  nonEmpty,
  parseEventTime,
  parseJsonObjectLine,
  sansToRaw,
} from './common.ts';

type Obj = Record<string, unknown>;

/** The CA operation a request path stands for, or null for paths that neither issue nor revoke. */
export function stepOperation(path: string): 'sign' | 'renew' | 'rekey' | 'revoke' | null {
  const p = path.split('?')[0].replace(/\/+$/, '');
  if (/^\/ssh\//.test(p) || p.includes('/ssh/')) return null;
  if (/(^|\/)revoke(-cert)?$/.test(p)) return 'revoke';
  if (/(^|\/)renew$/.test(p)) return 'renew';
  if (/(^|\/)rekey$/.test(p)) return 'rekey';
  // `/sign`, `/1.0/sign`, and ACME `…/order/<id>/finalize` (the CSR is signed there).
  if (/(^|\/)sign$/.test(p) || /\/finalize$/.test(p)) return 'sign';
  return null;
}

/** `admin@example.com (kid)` → `admin@example.com`. */
function provisionerName(text: string): string {
  const m = /^(.*?)\s+\([^()]*\)$/.exec(text);
  return (m ? m[1] : text).trim();
}

/** The e-mail claim of an OIDC one-time token (a JWT), when the `ott` field is one; else null. */
function ottEmail(ott: unknown): string | null {
  if (typeof ott !== 'string') return null;
  const parts = ott.split('.');
  if (parts.length !== 3) return null;
  try {
    const payload = asObj(JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')));
    return payload ? nonEmpty(payload.email) : null;
  } catch {
    return null;
  }
}

class StepCaParser implements LineParser {
  private readonly ctx: FileContext;
  private records = 0;
  private ignored = 0;

  constructor(ctx: FileContext) {
    this.ctx = ctx;
  }

  counts(): { records: number; ignored: number } {
    return { records: this.records, ignored: this.ignored };
  }

  private warnType(line: number, field: string, v: unknown, expected: string): void {
    this.ctx.diagnostics.warn({
      reason: 'wrong-type',
      file: this.ctx.file,
      line,
      field,
      message: `expected ${expected}, got ${Array.isArray(v) ? 'an array' : typeof v}; field ignored`,
    });
  }

  /** A string field; other types are reported and ignored. */
  private s(o: Obj, key: string, line: number): string | null {
    const v = o[key];
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return nonEmpty(v);
    this.warnType(line, key, v, 'a string');
    return null;
  }

  line(text: string, lineNumber: number): Observation | null {
    if (text.trim().length === 0) return null;
    this.records++;
    const o = parseJsonObjectLine(text, lineNumber, this.ctx);
    if (!o) return null;
    const path = typeof o.path === 'string' ? o.path : null;
    const operation = path ? stepOperation(path) : null;
    if (operation === null) {
      this.ignored++;
      return null;
    }
    const where = { file: this.ctx.file, line: lineNumber };
    // `time` is when the line was written; logrus renames the request's own start time to `fields.time`.
    const rawTime = o.time ?? o['fields.time'];
    const ts = parseEventTime(rawTime);
    if (ts === null) {
      this.ctx.diagnostics.skip({
        ...where,
        reason: rawTime === undefined ? 'missing-timestamp' : 'bad-timestamp',
        field: 'time',
        message: rawTime === undefined ? 'record has no time; skipped' : `unusable time ${JSON.stringify(rawTime)}; skipped`,
      });
      return null;
    }
    const status = typeof o.status === 'number' ? o.status : typeof o.status === 'string' ? Number(o.status) : null;
    const failed = (status !== null && Number.isFinite(status) && status >= 400) || o.level === 'error' || o.error !== undefined;

    const cert: RawCertificate = {};
    let hasCert = false;
    const der = this.s(o, 'certificate', lineNumber);
    if (der) {
      cert.pem = der;
      hasCert = true;
    }
    const serialValue = o.serial;
    const serial =
      typeof serialValue === 'number' && Number.isSafeInteger(serialValue)
        ? String(serialValue)
        : this.s(o, 'serial', lineNumber);
    if (serial) {
      if (/^\d+$/.test(serial)) {
        cert.serial = serial;
        cert.serial_format = 'decimal';
        hasCert = true;
      } else {
        this.ctx.diagnostics.warn({
          ...where,
          reason: 'bad-value',
          field: 'serial',
          message: `serial ${JSON.stringify(serial)} is not decimal (step-ca logs serials in base 10); field ignored`,
        });
      }
    }
    const subject = dnOrCn(this.s(o, 'subject', lineNumber));
    const issuerCn = this.s(o, 'issuer', lineNumber);
    const issuer = dnOrCn(issuerCn);
    if (subject) cert.subject = subject;
    if (issuer) cert.issuer = issuer;
    const from = this.s(o, 'valid-from', lineNumber);
    const to = this.s(o, 'valid-to', lineNumber);
    if (from) cert.not_before = from;
    if (to) cert.not_after = to;
    const sansObj = o.sans;
    if (sansObj !== undefined && sansObj !== null) {
      const sans = emptySans();
      const so = asObj(sansObj);
      if (so) {
        for (const [type, values] of Object.entries(so)) {
          if (Array.isArray(values)) for (const v of values) if (typeof v === 'string') addSan(sans, type, v);
        }
        sansToRaw(cert, sans);
      } else this.warnType(lineNumber, 'sans', sansObj, 'an object of SAN lists');
    }
    hasCert ||= subject !== null;

    const ca = emptyCaRecord(operation);
    const provisioner = this.s(o, 'provisioner', lineNumber);
    ca.template = provisioner ? provisionerName(provisioner) : null;
    ca.requester = this.s(o, 'user-id', lineNumber) ?? ottEmail(o.ott);
    ca.request_id = this.s(o, 'request-id', lineNumber);
    ca.ca = issuerCn;
    if (operation === 'revoke') {
      const reason = this.s(o, 'reason', lineNumber);
      const code = o.reasonCode;
      ca.reason = reason ?? (typeof code === 'number' ? String(code) : null);
    }
    const kind: EventKind = operation === 'revoke' ? 'revocation' : failed ? 'request' : 'issuance';
    return {
      ts,
      format: 'step-ca',
      file: this.ctx.file,
      line: lineNumber,
      record_id: ca.request_id,
      kind,
      ca,
      outcome: failed ? 'failure' : 'success',
      // step-ca logs no account: normalize derives it from the certificate (UPN/e-mail SAN, CN).
      user: null,
      device: null,
      source_ip: this.s(o, 'remote-address', lineNumber),
      client_certificate: hasCert ? cert : null,
      client_certificate_visibility: hasCert ? 'present' : 'not_visible',
    };
  }
}

/** A step-ca request line: the HTTP request fields its logging middleware always writes. */
function isStepRequest(o: Obj): boolean {
  return (
    typeof o.path === 'string' &&
    'remote-address' in o &&
    ('duration-ns' in o || 'duration' in o) &&
    ('request-id' in o || 'user-agent' in o)
  );
}

function detectStepCa(sample: DetectSample): number {
  let score = 0;
  for (const o of sampleJsonObjects(sample.firstLines)) {
    if (o['@timestamp'] !== undefined || o.event_type !== undefined) continue;
    if (typeof o.msg === 'string' && o.msg.startsWith('Starting Smallstep CA/')) score = Math.max(score, 0.9);
    if (isStepRequest(o)) {
      const certy = 'provisioner' in o || 'certificate' in o || ('serial' in o && 'valid-to' in o);
      score = Math.max(score, certy ? 0.95 : 0.7);
    }
  }
  return score;
}

/** step-ca JSON logs. */
export const stepCaSource: LineSource = {
  kind: 'lines',
  id: 'step-ca',
  description: 'Smallstep step-ca JSON request log: X.509 sign/renew/rekey/revoke (serials in decimal, subjects as CN)',
  detect: detectStepCa,
  open: (ctx) => new StepCaParser(ctx),
};
