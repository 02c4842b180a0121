// `vault-audit`: HashiCorp Vault's audit log (file device, one JSON object per line). Only
// `response` entries of PKI issue/sign/revoke paths become events — the response carries both the
// request (path, role, common_name, token display name) and the result (certificate,
// serial_number, expiration). `request` entries and other paths are counted as ignored.
//
// Vault HMACs string values by default ("hmac-sha256:…"): the certificate, serial number and
// common name are then unreadable. Such a value is never used as a name or serial; it is left
// unknown, and the file gets ONE warning (with the count) naming the settings that log them in
// clear: `audit_non_hmac_response_keys` / `audit_non_hmac_request_keys` on the PKI mount.
import type { EventKind, Observation, RawCertificate } from '../../schema/event.ts';
import { classifySans, sampleJsonObjects } from '../common.ts';
import type { DetectSample, FileContext, LineParser, LineSource } from '../types.ts';
import { asObj, dnOrCn, emptyCaRecord, nonEmpty, parseEventTime, parseJsonObjectLine } from './common.ts';

const HMAC_PREFIX = 'hmac-sha256:';

/** True for a value Vault's audit device replaced by its HMAC. */
export function isHmac(v: unknown): boolean {
  return typeof v === 'string' && v.startsWith(HMAC_PREFIX);
}

interface PkiPath {
  mount: string;
  operation: 'issue' | 'sign' | 'sign-verbatim' | 'revoke' | 'revoke-with-key';
  role: string | null;
}

/**
 * A PKI request path → mount, operation and role: `pki/issue/<role>`, `pki/sign/<role>`,
 * `pki/sign-verbatim[/<role>]`, `pki/issuer/<ref>/issue/<role>` (Vault ≥ 1.11), `pki/revoke`,
 * `pki/revoke-with-key`. `mountPoint` (request.mount_point, when logged) pins the mount.
 */
export function pkiPath(path: string, mountPoint: string | null): PkiPath | null {
  let mount: string;
  let rest: string;
  if (mountPoint && path.startsWith(mountPoint)) {
    mount = mountPoint.replace(/\/+$/, '');
    rest = path.slice(mountPoint.length).replace(/^\/+/, '');
  } else {
    const m = /^(.+?)\/((?:issuer\/[^/]+\/)?(?:issue|sign|sign-verbatim)(?:\/[^/]+)?|revoke|revoke-with-key)$/.exec(path);
    if (!m) return null;
    mount = m[1];
    rest = m[2];
  }
  rest = rest.replace(/^issuer\/[^/]+\//, '');
  const m = /^(issue|sign|sign-verbatim|revoke|revoke-with-key)(?:\/([^/]+))?$/.exec(rest);
  if (!m) return null;
  const operation = m[1] as PkiPath['operation'];
  if ((operation === 'issue' || operation === 'sign') && !m[2]) return null;
  return { mount, operation, role: m[2] ?? null };
}

class VaultParser implements LineParser {
  private readonly ctx: FileContext;
  private records = 0;
  private ignored = 0;
  /** PKI entries with at least one HMAC'd field we would have read, the first line and the fields. */
  private hmacEntries = 0;
  private hmacFirstLine = 0;
  private readonly hmacFields = new Set<string>();

  constructor(ctx: FileContext) {
    this.ctx = ctx;
  }

  counts(): { records: number; ignored: number } {
    return { records: this.records, ignored: this.ignored };
  }

  end(): void {
    if (this.hmacEntries === 0) return;
    const fields = [...this.hmacFields].sort();
    this.ctx.diagnostics.warn({
      reason: 'vault-hmac',
      file: this.ctx.file,
      line: this.hmacFirstLine,
      field: fields.join(','),
      message:
        `${this.hmacEntries} PKI audit entr${this.hmacEntries === 1 ? 'y has' : 'ies have'} HMAC'd fields (${fields.join(', ')}); ` +
        'they are left unknown. To log them in clear, tune the PKI mount: ' +
        'vault secrets tune -audit-non-hmac-response-keys=certificate,serial_number -audit-non-hmac-request-keys=common_name,serial_number <mount> ' +
        '(audit_non_hmac_response_keys / audit_non_hmac_request_keys; hmac_accessor=false on the audit device un-hashes token accessors only)',
    });
  }

  /** A readable string value: HMAC'd values are counted (as `name`) and become null. */
  private clear(v: unknown, name: string, seen: Set<string>): string | null {
    if (isHmac(v)) {
      seen.add(name);
      return null;
    }
    return nonEmpty(v);
  }

  line(text: string, lineNumber: number): Observation | null {
    if (text.trim().length === 0) return null;
    this.records++;
    const o = parseJsonObjectLine(text, lineNumber, this.ctx);
    if (!o) return null;
    const request = asObj(o.request);
    // A request entry says nothing its response does not; other paths are not PKI.
    if (o.type !== 'response' || !request || typeof request.path !== 'string') {
      this.ignored++;
      return null;
    }
    const mountType = request.mount_type;
    if (mountType !== undefined && mountType !== 'pki') {
      this.ignored++;
      return null;
    }
    const pki = pkiPath(request.path, nonEmpty(request.mount_point));
    if (!pki) {
      this.ignored++;
      return null;
    }
    const ts = parseEventTime(o.time);
    if (ts === null) {
      this.ctx.diagnostics.skip({
        reason: o.time === undefined ? 'missing-timestamp' : 'bad-timestamp',
        file: this.ctx.file,
        line: lineNumber,
        field: 'time',
        message: o.time === undefined ? 'record has no time; skipped' : `unusable time ${JSON.stringify(o.time)}; skipped`,
      });
      return null;
    }
    const hmac = new Set<string>();
    const auth = asObj(o.auth);
    const reqData = asObj(request.data) ?? {};
    const response = asObj(o.response);
    const resData = (response && asObj(response.data)) ?? {};
    const failed = nonEmpty(o.error) !== null || isHmac(o.error);
    const revoke = pki.operation === 'revoke' || pki.operation === 'revoke-with-key';

    const cert: RawCertificate = {};
    let hasCert = false;
    const pem = this.clear(resData.certificate, 'response.data.certificate', hmac);
    if (pem && !revoke) {
      cert.pem = pem;
      hasCert = true;
    }
    const serial = this.clear(
      revoke ? reqData.serial_number : resData.serial_number,
      revoke ? 'request.data.serial_number' : 'response.data.serial_number',
      hmac,
    );
    if (serial) {
      cert.serial = serial;
      cert.serial_format = 'hex';
      hasCert = true;
    }
    if (!revoke) {
      const cn = this.clear(reqData.common_name, 'request.data.common_name', hmac);
      if (cn) {
        cert.subject = dnOrCn(cn);
        hasCert = true;
      }
      const alt = this.clear(reqData.alt_names, 'request.data.alt_names', hmac);
      if (alt) {
        const s = classifySans(
          alt
            .split(',')
            .map((x) => x.trim())
            .filter((x) => x.length > 0),
        );
        if (s.dns.length > 0) cert.san_dns = s.dns;
        if (s.email.length > 0) cert.san_email = s.email;
      }
      // Numbers are never HMAC'd: `expiration` (epoch seconds) survives the default settings.
      if (typeof resData.expiration === 'number') {
        cert.not_after = resData.expiration;
        hasCert = true;
      }
    }
    const ca = emptyCaRecord(pki.operation);
    ca.ca = pki.mount;
    ca.template = pki.role;
    ca.request_id = nonEmpty(request.id);
    if (auth) {
      const meta = asObj(auth.metadata);
      ca.requester =
        this.clear(auth.display_name, 'auth.display_name', hmac) ??
        (meta
          ? (this.clear(meta.username, 'auth.metadata.username', hmac) ??
            this.clear(meta.role_name, 'auth.metadata.role_name', hmac))
          : null);
    }
    if (hmac.size > 0) {
      this.hmacEntries++;
      if (this.hmacFirstLine === 0) this.hmacFirstLine = lineNumber;
      for (const f of hmac) this.hmacFields.add(f);
    }
    const kind: EventKind = revoke ? 'revocation' : failed ? 'request' : 'issuance';
    return {
      ts,
      format: 'vault-audit',
      file: this.ctx.file,
      line: lineNumber,
      record_id: ca.request_id,
      kind,
      ca,
      outcome: failed ? 'failure' : 'success',
      user: null,
      device: null,
      source_ip: this.clear(request.remote_address, 'request.remote_address', new Set()),
      client_certificate: hasCert ? cert : null,
      client_certificate_visibility: hasCert ? 'present' : 'not_visible',
    };
  }
}

function detectVault(sample: DetectSample): number {
  let score = 0;
  for (const o of sampleJsonObjects(sample.firstLines, '"type"')) {
    if (o.type !== 'request' && o.type !== 'response') continue;
    const request = asObj(o.request);
    if (!request || typeof request.path !== 'string' || typeof o.time !== 'string') continue;
    score = Math.max(score, asObj(o.auth) || 'client_token' in request || 'operation' in request ? 0.95 : 0.7);
  }
  return score;
}

/** HashiCorp Vault audit log (file device). */
export const vaultAuditSource: LineSource = {
  kind: 'lines',
  id: 'vault-audit',
  description: "HashiCorp Vault audit log (file device): PKI issue/sign/revoke responses; HMAC'd fields are left unknown",
  detect: detectVault,
  open: (ctx) => new VaultParser(ctx),
};
