// `adcs`: Windows Security events as XML, one `<Event>` per line as Splunk (XmlWinEventLog), WEF
// exports and wevtutil write them — an event may also span lines (AD CS puts a newline inside
// `Attributes`) or share a line with others (wevtutil without /e). Read:
//   4886 request received  → kind request (success)     4887 issued → kind issuance
//   4888 request denied     → kind request (failure)     4870 revoked → kind revocation
//   4768 Kerberos TGT with certificate pre-auth (PKINIT) → kind authentication
// Any other event (Sysmon, PowerShell 4104, a 4768 without a certificate, …) is counted as
// ignored. Requester-supplied SANs (`Attributes: SAN:upn=…&dns=…`, the ESC1/ESC6 signal) go to
// ca.requested_san as `upn:…` strings; the UPN (else e-mail) is the event user, the DNS name the device.
// The same events as Winlogbeat / Elastic Agent NDJSON (`winlog.event_id`, `winlog.event_data`, …;
// a line starting with `{`) are read too: winlogbeat.ts turns each into the WinEvent the XML
// reader gives, and one mapping (`mapWinEvent`) serves both shapes.
import type { EventKind, Observation, RawCertificate } from '../../schema/event.ts';
import { addSan, dnOrCn, emptyCaRecord, emptySans, nonEmpty, parseEventTime, type TypedSans } from '../ca/common.ts';
import { parseJsonObjectLine } from '../common.ts';
import type { DetectSample, FileContext, LineParser, LineSource } from '../types.ts';
import { winEventFromJson } from './winlogbeat.ts';
import { nextEventStart, parseWinEvent, type WinEvent } from './xml.ts';

/** Longest event kept while waiting for its `</Event>` (real ones are a few KiB). */
const MAX_EVENT_CHARS = 1024 * 1024;
const END_TAG = '</Event>';
const SECURITY_PROVIDER = 'Microsoft-Windows-Security-Auditing';

/** The request attributes of 4886/4887/4888: template and requester-supplied SANs. */
export interface AdcsAttributes {
  template: string | null;
  sans: TypedSans;
}

/**
 * Parses AD CS request `Attributes` (one `Name:Value` per line): `CertificateTemplate:<name or
 * OID>`, `SAN:<type>=<value>&<type>=<value>` (values may be URL-encoded). Other attributes
 * (ccm, rmd, cdc, …) are ignored.
 */
export function parseAdcsAttributes(text: string): AdcsAttributes {
  const out: AdcsAttributes = { template: null, sans: emptySans() };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'certificatetemplate') out.template = value || null;
    else if (name === 'san') {
      for (const pair of value.split('&')) {
        const eq = pair.indexOf('=');
        if (eq <= 0) continue;
        let v = pair.slice(eq + 1);
        try {
          v = decodeURIComponent(v);
        } catch {
          // not URL-encoded after all: keep as logged
        }
        addSan(out.sans, pair.slice(0, eq), v);
      }
    }
  }
  return out;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`; `-` and empty → null. */
function windowsIp(v: string | undefined): string | null {
  const t = nonEmpty(v);
  if (!t || t === '-') return null;
  return t.startsWith('::ffff:') ? t.slice(7) : t;
}

/** Field names for diagnostics, as each shape spells them. */
interface FieldNames {
  time: string;
}
const XML_FIELDS: FieldNames = { time: 'TimeCreated.SystemTime' };
const JSON_FIELDS: FieldNames = { time: '@timestamp' };

/** An event id this source maps, from the Security-Auditing provider (or with none logged). */
function isRelevant(ev: WinEvent): boolean {
  const id = ev.eventId;
  return (
    (id === 4886 || id === 4887 || id === 4888 || id === 4870 || id === 4768) &&
    (ev.provider === null || ev.provider === SECURITY_PROVIDER)
  );
}

class AdcsParser implements LineParser {
  private readonly ctx: FileContext;
  private buffer = '';
  private startLine = 0;
  private records = 0;
  private ignored = 0;

  constructor(ctx: FileContext) {
    this.ctx = ctx;
  }

  counts(): { records: number; ignored: number } {
    return { records: this.records, ignored: this.ignored };
  }

  line(text: string, lineNumber: number): Observation[] | null {
    if (this.buffer.length === 0) {
      const t = text.trim();
      // Blank lines, `#` comments (Splunk attack_data section labels) and the XML prolog /
      // `<Events>` wrapper of a saved query are not records.
      if (t.length === 0 || t.startsWith('#') || /^(<\?xml[^>]*\?>\s*)?<\/?Events>?\s*$/.test(t) || /^<\?xml[^>]*\?>$/.test(t))
        return null;
      // Winlogbeat / Elastic Agent NDJSON (a stray JSON array is reported as not-an-object).
      if (t.startsWith('{') || t.startsWith('[')) return this.json(t, lineNumber);
      this.startLine = lineNumber;
      this.buffer = text;
    } else {
      this.buffer += `\n${text}`;
    }
    const out: Observation[] = [];
    for (;;) {
      const start = nextEventStart(this.buffer);
      if (start < 0) {
        if (this.buffer.trim().length > 0 && !/^\s*<\/?Events>\s*$/.test(this.buffer)) {
          this.records++;
          this.ctx.diagnostics.skip({
            reason: 'invalid-xml',
            file: this.ctx.file,
            line: this.startLine,
            message: `not a Windows <Event> element: ${JSON.stringify(this.buffer.trim().slice(0, 60))}; skipped`,
          });
        }
        this.buffer = '';
        break;
      }
      const end = this.buffer.indexOf(END_TAG, start);
      const next = nextEventStart(this.buffer, start + 6);
      if (next >= 0 && (end < 0 || next < end)) {
        // A new event starts before this one ended: the first was cut off.
        this.unterminated();
        this.buffer = this.buffer.slice(next);
        this.startLine = lineNumber;
        continue;
      }
      if (end < 0) {
        if (this.buffer.length > MAX_EVENT_CHARS) {
          this.unterminated();
          this.buffer = '';
        }
        break;
      }
      const obs = this.event(this.buffer.slice(start, end + END_TAG.length), this.startLine);
      if (obs) out.push(obs);
      this.buffer = this.buffer.slice(end + END_TAG.length);
      if (this.buffer.trim().length === 0 || /^\s*<\/Events>\s*$/.test(this.buffer)) {
        this.buffer = '';
        break;
      }
      this.startLine = lineNumber;
    }
    return out.length > 0 ? out : null;
  }

  end(): void {
    if (this.buffer.trim().length > 0) this.unterminated();
    this.buffer = '';
  }

  private unterminated(): void {
    this.records++;
    this.ctx.diagnostics.skip({
      reason: 'invalid-xml',
      file: this.ctx.file,
      line: this.startLine,
      message: '<Event> element is never closed (no </Event>); skipped',
    });
  }

  private event(xml: string, line: number): Observation | null {
    this.records++;
    const where = { file: this.ctx.file, line };
    const ev = parseWinEvent(xml);
    if (!ev || ev.eventId === null) {
      this.ctx.diagnostics.skip({
        ...where,
        reason: 'invalid-xml',
        field: ev ? 'EventID' : 'System',
        message: ev ? 'event has no numeric <EventID>; skipped' : 'event has no <System> header; skipped',
      });
      return null;
    }
    return this.mapWinEvent(ev, line, XML_FIELDS);
  }

  /** One Winlogbeat / Elastic Agent NDJSON record. */
  private json(text: string, line: number): Observation[] | null {
    this.records++;
    const o = parseJsonObjectLine(text, line, this.ctx, 'expected a Winlogbeat event or an XML <Event>');
    if (!o) return null;
    const { event: ev, hasEventData } = winEventFromJson(o);
    const where = { file: this.ctx.file, line };
    if (ev.eventId === null) {
      this.ctx.diagnostics.skip({
        ...where,
        reason: 'missing-field',
        field: 'winlog.event_id',
        message: 'record has no numeric winlog.event_id (or event.code); skipped',
      });
      return null;
    }
    if (isRelevant(ev) && !hasEventData) {
      this.ctx.diagnostics.skip({
        ...where,
        reason: 'missing-field',
        field: 'winlog.event_data',
        message: `event ${ev.eventId} has no winlog.event_data object; skipped`,
      });
      return null;
    }
    const obs = this.mapWinEvent(ev, line, JSON_FIELDS);
    return obs ? [obs] : null;
  }

  /**
   * The one mapping of a Windows event (either shape) to an Observation: the ids this source
   * reads become CA / PKINIT observations, others are counted as ignored.
   */
  private mapWinEvent(ev: WinEvent, line: number, fields: FieldNames): Observation | null {
    const id = ev.eventId;
    if (id === null || !isRelevant(ev)) {
      this.ignored++;
      return null;
    }
    if (id === 4768 && !nonEmpty(ev.data.get('CertThumbprint')) && !nonEmpty(ev.data.get('CertSerialNumber'))) {
      // A password / key TGT: no certificate was used.
      this.ignored++;
      return null;
    }
    const ts = parseEventTime(ev.systemTime);
    if (ts === null) {
      this.ctx.diagnostics.skip({
        file: this.ctx.file,
        line,
        reason: ev.systemTime === null ? 'missing-timestamp' : 'bad-timestamp',
        field: fields.time,
        message:
          ev.systemTime === null
            ? `event has no ${fields.time}; skipped`
            : `unusable ${fields.time} ${JSON.stringify(ev.systemTime)}; skipped`,
      });
      return null;
    }
    const base: Observation = { ts, format: 'adcs', file: this.ctx.file, line, record_id: ev.recordId };
    return id === 4768 ? this.pkinit(base, ev) : this.caEvent(base, ev, id);
  }

  /** 4768 with certificate pre-authentication. */
  private pkinit(obs: Observation, ev: WinEvent): Observation {
    const d = ev.data;
    const cert: RawCertificate = {};
    const issuer = dnOrCn(d.get('CertIssuerName'));
    if (issuer) cert.issuer = issuer;
    const serial = nonEmpty(d.get('CertSerialNumber'));
    if (serial) {
      cert.serial = serial;
      cert.serial_format = 'hex';
    }
    // CertThumbprint is the SHA-1 of the certificate.
    const sha1 = nonEmpty(d.get('CertThumbprint'));
    if (sha1) cert.sha1 = sha1;
    const status = nonEmpty(d.get('Status'));
    const port = Number(d.get('IpPort'));
    obs.kind = 'authentication';
    obs.outcome = status === null ? 'unknown' : /^0x0+$/i.test(status) || status === '0' ? 'success' : 'failure';
    obs.user = nonEmpty(d.get('TargetUserName'));
    obs.source_ip = windowsIp(d.get('IpAddress'));
    obs.source_port = Number.isInteger(port) && port > 0 && port <= 65535 ? port : null;
    obs.service = nonEmpty(d.get('ServiceName'));
    obs.client_certificate = cert;
    obs.client_certificate_visibility = 'present';
    return obs;
  }

  /** 4886 / 4887 / 4888 / 4870. */
  private caEvent(obs: Observation, ev: WinEvent, id: number): Observation {
    const d = ev.data;
    let kind: EventKind;
    let operation: string;
    let outcome: 'success' | 'failure' = 'success';
    if (id === 4887) [kind, operation] = ['issuance', 'issue'];
    else if (id === 4888) [kind, operation, outcome] = ['request', 'deny', 'failure'];
    else if (id === 4870) [kind, operation] = ['revocation', 'revoke'];
    else [kind, operation] = ['request', 'request'];
    const ca = emptyCaRecord(operation);
    ca.ca = ev.computer;
    ca.request_id = nonEmpty(d.get('RequestId'));
    obs.kind = kind;
    obs.outcome = outcome;
    obs.ca = ca;
    if (id === 4870) {
      const serial = nonEmpty(d.get('CertificateSerialNumber')) ?? nonEmpty(d.get('SerialNumber'));
      ca.reason = nonEmpty(d.get('Reason')) ?? nonEmpty(d.get('RevocationReason'));
      const user = nonEmpty(d.get('SubjectUserName'));
      const domain = nonEmpty(d.get('SubjectDomainName'));
      ca.requester = user ? (domain ? `${domain}\\${user}` : user) : null;
      obs.client_certificate = serial ? { serial, serial_format: 'hex' } : null;
      obs.client_certificate_visibility = serial ? 'present' : 'not_visible';
      return obs;
    }
    ca.requester = nonEmpty(d.get('Requester'));
    const attrs = parseAdcsAttributes(d.get('Attributes') ?? '');
    ca.template = attrs.template;
    ca.requested_san = attrs.sans.all;
    // The certificate's account is the one the requester named in the SAN (the ESC1 case);
    // without one, normalize takes it from the logged Subject.
    obs.user = attrs.sans.upn[0] ?? attrs.sans.email[0] ?? null;
    obs.device = attrs.sans.dns[0] ?? null;
    const subject = nonEmpty(d.get('Subject'));
    if (id === 4887 && (subject || attrs.sans.all.length > 0)) {
      const cert: RawCertificate = {};
      if (subject) cert.subject = subject;
      if (attrs.sans.dns.length > 0) cert.san_dns = [...attrs.sans.dns];
      if (attrs.sans.email.length > 0) cert.san_email = [...attrs.sans.email];
      obs.client_certificate = cert;
      obs.client_certificate_visibility = 'present';
    } else {
      obs.client_certificate_visibility = 'not_visible';
    }
    return obs;
  }
}

/** `"event_id": 4887` / `"winlog.event_id": "4887"` (nested or dotted) naming an id this source maps. */
const JSON_EVENT_ID_RE = /"(?:winlog\.)?event_id"\s*:\s*"?(?:4886|4887|4888|4870|4768)\b/;

function detectAdcs(sample: DetectSample): number {
  let score = 0;
  for (const l of sample.firstLines) {
    const t = l.trimStart();
    if (t.startsWith('{')) {
      // Winlogbeat / Elastic Agent: above ECS's 0.95 (these records carry `ecs.version` too),
      // so Security-Auditing events are read as AD CS rather than as odd logins.
      if (!t.includes('"winlog') || !t.includes(`"${SECURITY_PROVIDER}"`)) continue;
      score = Math.max(score, JSON_EVENT_ID_RE.test(t) ? 0.98 : 0.97);
      continue;
    }
    if (!t.startsWith('<Event') && !t.startsWith('<?xml') && !t.startsWith('<Events')) continue;
    if (t.includes('schemas.microsoft.com/win/2004/08/events/event')) score = Math.max(score, 0.9);
    if (/<EventID[^>]*>(4886|4887|4888|4870|4768)</.test(t)) score = Math.max(score, 0.95);
  }
  return score;
}

/** AD CS (and PKINIT) Windows Security events as XML or Winlogbeat NDJSON. */
export const adcsSource: LineSource = {
  kind: 'lines',
  id: 'adcs',
  description:
    'AD CS Windows Security events as XML or Winlogbeat/Elastic Agent NDJSON (4886/4887/4888/4870, 4768 PKINIT); other events ignored',
  detect: detectAdcs,
  open: (ctx) => new AdcsParser(ctx),
};
