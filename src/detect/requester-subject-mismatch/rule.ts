// requester-subject-mismatch (AD CS ESC1 and its kin, issue 4): a CA issued a certificate whose
// requester-supplied SAN, or whose subject account, names someone other than the requester —
// the requester can now authenticate as that account. When the certificate is then used to
// authenticate (Kerberos PKINIT 4768, an mTLS gateway), the finding is confirmed (`used`).
import { Type } from 'typebox';
import type { CertInfo, NormalizedEvent } from '../../schema/event.ts';
import { accountKey, accountMatches } from '../shared/account.ts';
import type { KeyedState, Rule, RuleContext, RuleInstance, Signal } from '../types.ts';

/** Config block `rules.requester-subject-mismatch`. */
export interface Config {
  /** Enrollment agents / registration authorities that legitimately request for others (globs on account names). */
  allowed_requesters: string[];
  /**
   * Also compare the issued certificate's subject account (UPN/e-mail SAN, logged user) with the
   * requester. Off by default: on most CAs a connector or RA (SCEP/Intune, step-ca provisioner,
   * Vault token) is the requester of every certificate, so this would fire on all of them.
   */
  compare_subject: boolean;
  /** A use matched by account only (the issuance log names no certificate) must follow the issuance within this many hours. */
  use_window_hours: number;
  /** Clock difference tolerated between the CA and the authenticating service (a use this much before the issuance still matches). */
  clock_skew_minutes: number;
  /** Flagged issuances remembered for the `used` variant, at most this many days… */
  issued_memory_days: number;
  /** …and at most this many (oldest forgotten first). */
  max_tracked_issuances: number;
  /** Confidence of `used` when matched by account and time only (the issuance log carried no certificate identity). */
  account_match_confidence: number;
}

export const configSchema = Type.Object(
  {
    allowed_requesters: Type.Array(Type.String(), {
      default: [],
      description:
        'Requester accounts (globs, DOMAIN\\ and @realm ignored) allowed to request for others: enrollment agents, RAs, MDM connectors.',
    }),
    compare_subject: Type.Boolean({
      default: false,
      description:
        'Also flag issuances whose subject account (UPN/e-mail SAN or logged user) is not the requester (variant subject); for CAs where requesters enroll themselves.',
    }),
    use_window_hours: Type.Number({
      exclusiveMinimum: 0,
      default: 24,
      description:
        'Hours after the issuance in which an authentication as its account, matched by account only, counts as its use.',
    }),
    clock_skew_minutes: Type.Number({
      minimum: 0,
      default: 5,
      description: 'Minutes a use may be timed before the issuance and still match (CA vs DC clocks).',
    }),
    issued_memory_days: Type.Number({
      exclusiveMinimum: 0,
      default: 30,
      description: 'Days a flagged issuance is remembered for the used variant.',
    }),
    max_tracked_issuances: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 1000,
      description: 'Flagged issuances remembered for the used variant (oldest forgotten first).',
    }),
    account_match_confidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.75,
      description: 'Confidence of used when matched by account and time only; 0 keeps such matches quiet.',
    }),
  },
  { additionalProperties: false },
);

export const defaults: Config = {
  allowed_requesters: [],
  compare_subject: false,
  use_window_hours: 24,
  clock_skew_minutes: 5,
  issued_memory_days: 30,
  max_tracked_issuances: 1000,
  account_match_confidence: 0.75,
};

/** One name the certificate was issued for that is not the requester. */
export interface Target {
  /** Where it came from: a requested SAN type (`upn`, `email`, `dns`) or the issued `subject`. */
  from: 'upn' | 'email' | 'dns' | 'account' | 'subject';
  value: string;
  /** accountKey of the account it authenticates as (`host$` for a DNS name). */
  account: string;
}

/** A flagged issuance as remembered for `used` (namespace `requester-subject-mismatch/issued`, key `list`). */
export interface IssuedRecord {
  dedup_key: string;
  ts: number;
  variant: 'requested-san' | 'subject';
  requester: string;
  /** Account keys the certificate authenticates as (targets and subject). */
  accounts: string[];
  /** Certificate identities (see certIds); empty when the issuance log named no certificate. */
  ids: string[];
  issuance: Record<string, unknown>;
  used: boolean;
}

const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const RECENT_AUTH_CAP = 2000;

/**
 * The accounts named by requester-supplied SANs, as logged: `upn=x`, `upn:x`, `dns=h&upn=x`
 * (the AD CS `SAN:` attribute), bare `x@realm` or `x`. URI/IP/other SAN types name no account.
 */
export function parseRequestedSans(entries: readonly string[]): Target[] {
  const out: Target[] = [];
  for (const entry of entries) {
    for (let part of entry.split('&')) {
      part = part.trim();
      if (part.toLowerCase().startsWith('san:')) part = part.slice(4).trim();
      if (part.length === 0) continue;
      const m = /^([A-Za-z0-9]+)\s*[=:]\s*(.+)$/.exec(part);
      let type = m ? m[1].toLowerCase() : part.includes('@') ? 'upn' : 'account';
      const value = (m ? m[2] : part).trim();
      if (value.length === 0) continue;
      if (type === 'rfc822name' || type === 'mail') type = 'email';
      if (type === 'dnsname') type = 'dns';
      if (type === 'upn' || type === 'email' || type === 'account') out.push({ from: type, value, account: accountKey(value) });
      else if (type === 'dns') {
        const host = value.toLowerCase().split('.')[0];
        if (host.length > 0) out.push({ from: 'dns', value, account: `${host}$` });
      }
    }
  }
  return out;
}

/** Requester account matches a target account (a machine requesting for its own DNS name included). */
function sameAs(requesterKey: string, target: Target): boolean {
  if (target.account === requesterKey) return true;
  if (target.from === 'dns') return requesterKey.replace(/\$$/, '') === target.account.replace(/\$$/, '');
  return false;
}

/** Issuer name compared loosely: the CN value when the name is a DN, else the whole name, lower-cased. */
function issuerName(issuer: string): string {
  const m = /(?:^|,)\s*CN=([^,]+)/i.exec(issuer);
  return (m ? m[1] : issuer).trim().toLowerCase();
}

/** Identities a certificate can be recognised by across sources (PKINIT logs SHA-1 and issuer + serial). */
export function certIds(c: CertInfo | null): string[] {
  if (c === null) return [];
  const ids: string[] = [];
  if (c.sha256) ids.push(`sha256:${c.sha256}`);
  if (c.sha1) ids.push(`sha1:${c.sha1}`);
  if (c.serial && c.issuer) ids.push(`serial:${c.serial}|${issuerName(c.issuer)}`);
  return ids;
}

interface RecentAuth {
  event: NormalizedEvent;
  account: string | null;
  ids: string[];
  /** Already taken as the use of a flagged issuance: one authentication confirms one issuance. */
  matched: boolean;
}

class RequesterSubjectMismatch implements RuleInstance {
  private readonly config: Config;
  private readonly store: KeyedState<IssuedRecord[]>;
  private records: IssuedRecord[];
  private readonly byId = new Map<string, IssuedRecord>();
  private readonly byAccount = new Map<string, IssuedRecord[]>();
  /** Recent certificate authentications (memory only): a use may be read before its issuance. */
  private readonly recent: RecentAuth[] = [];
  /** Next slot of the `recent` ring once it is full. */
  private recentNext = 0;
  private readonly windowMs: number;
  private readonly skewMs: number;
  private readonly memoryMs: number;

  constructor(config: Config, ctx: RuleContext) {
    this.config = config;
    this.store = ctx.state<IssuedRecord[]>('issued');
    this.records = this.store.get('list') ?? [];
    for (const r of this.records) this.index(r);
    this.windowMs = config.use_window_hours * HOUR_MS;
    this.skewMs = config.clock_skew_minutes * MIN_MS;
    this.memoryMs = config.issued_memory_days * DAY_MS;
  }

  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    if (event.outcome === 'failure') return;
    if (event.kind === 'issuance') this.observeIssuance(event, emit);
    else if (event.kind === 'authentication' && event.certificate !== null) this.observeAuthentication(event, emit);
  }

  private index(r: IssuedRecord): void {
    for (const id of r.ids) this.byId.set(id, r);
    for (const a of r.accounts) {
      const list = this.byAccount.get(a);
      if (list) list.push(r);
      else this.byAccount.set(a, [r]);
    }
  }

  private unindex(r: IssuedRecord): void {
    for (const id of r.ids) if (this.byId.get(id) === r) this.byId.delete(id);
    for (const a of r.accounts) {
      const list = this.byAccount.get(a)?.filter((x) => x !== r);
      if (list && list.length > 0) this.byAccount.set(a, list);
      else this.byAccount.delete(a);
    }
  }

  private observeIssuance(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    const ca = event.ca;
    const requester = ca?.requester?.trim();
    if (!requester) return;
    const requesterKey = accountKey(requester);
    if (requesterKey.length === 0) return;
    if (this.config.allowed_requesters.some((p) => accountMatches(p, requester))) return;

    const requested = parseRequestedSans(ca?.requested_san ?? []);
    const sanTargets = requested.filter((t) => !sameAs(requesterKey, t));
    const subjectTargets: Target[] = [];
    if (this.config.compare_subject) {
      const names = new Map<string, string>();
      const cert = event.certificate;
      if (event.user !== null && event.user_from === 'event') names.set(accountKey(event.user), event.user);
      for (const u of cert?.san.upn ?? []) names.set(accountKey(u), u);
      for (const e of cert?.san.email ?? []) names.set(accountKey(e), e);
      // A subject the requester itself supplied is already a requested-SAN target.
      for (const [account, value] of names) {
        if (account.length === 0 || account === requesterKey) continue;
        if (requested.some((t) => t.account === account)) continue;
        subjectTargets.push({ from: 'subject', value, account });
      }
    }
    const targets = [...sanTargets, ...subjectTargets];
    if (targets.length === 0) return;
    const variant = sanTargets.length > 0 ? 'requested-san' : 'subject';
    // The account the certificate lets the requester act as: a person's UPN/e-mail before a host.
    const main = targets.find((t) => t.from !== 'dns') ?? targets[0];
    const cert = event.certificate;
    const ids = certIds(cert);
    const idPart = ca?.request_id ?? cert?.serial ?? cert?.sha256 ?? event.time;
    const dedupKey = `${ca?.ca ?? ''}:${idPart}:${main.account}`;
    const issuance = {
      time: event.time,
      requester,
      targets: targets.map((t) => ({ from: t.from, value: t.value, account: t.account })),
      requested_san: ca?.requested_san ?? [],
      subject: cert?.subject ?? null,
      subject_user: event.user,
      serial: cert?.serial ?? null,
      sha256: cert?.sha256 ?? null,
      sha1: cert?.sha1 ?? null,
      issuer: cert?.issuer ?? null,
      template: ca?.template ?? null,
      ca: ca?.ca ?? null,
      request_id: ca?.request_id ?? null,
      source: { file: event.source.file, line: event.source.line },
    };
    // Risk belongs to the account that can now be impersonated: score against it, so that the
    // issuance and a later use of the certificate (which authenticates as it) add up.
    // A DNS name stands for the machine account (`host$`), which is what PKINIT with it names.
    const scoredUser = main.from === 'dns' ? main.account : main.value;
    const scored =
      event.user !== null && accountKey(event.user) === main.account
        ? event
        : { ...event, user: scoredUser, user_from: 'event' as const };
    const what =
      variant === 'requested-san' ? `requester-supplied SAN ${main.from}=${main.value}` : `subject account ${main.value}`;
    emit({
      rule: 'requester-subject-mismatch',
      variant,
      summary: `${requester} obtained a certificate for ${what}${ca?.template ? ` (template ${ca.template})` : ''}: requester and subject differ`,
      dedup_key: `${variant}:${dedupKey}`,
      event: scored,
      evidence: {
        issuance,
        requester_account: requesterKey,
        target_account: main.account,
        certificate_identified: ids.length > 0,
        allowed_requesters: this.config.allowed_requesters,
      },
    });

    const record: IssuedRecord = {
      dedup_key: dedupKey,
      ts: event.ts,
      variant,
      requester,
      accounts: [...new Set(targets.map((t) => t.account))],
      ids,
      issuance,
      used: false,
    };
    this.remember(record);
    // A use read before its issuance (files exported newest first, merged sources).
    for (const a of this.recent) {
      if (record.used) break;
      if (!a.matched && this.tryMatch(record, a.event, a.account, a.ids, emit)) a.matched = true;
    }
  }

  private remember(record: IssuedRecord): void {
    const cutoff = record.ts - this.memoryMs;
    const kept: IssuedRecord[] = [];
    for (const r of this.records) {
      if (r.ts < cutoff) this.unindex(r);
      else kept.push(r);
    }
    kept.push(record);
    while (kept.length > this.config.max_tracked_issuances) {
      const old = kept.shift();
      if (old) this.unindex(old);
    }
    this.records = kept;
    this.index(record);
    this.store.set('list', this.records);
  }

  private observeAuthentication(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    const ids = certIds(event.certificate);
    const account = event.user !== null ? accountKey(event.user) : null;
    if (this.records.length > 0) {
      for (const id of ids) {
        const r = this.byId.get(id);
        if (r !== undefined && this.tryMatch(r, event, account, ids, emit)) return;
      }
      if (account !== null) {
        const candidates = this.byAccount.get(account);
        if (candidates !== undefined) {
          // Nearest issuance before the use first.
          const sorted = [...candidates].sort((a, b) => b.ts - a.ts);
          for (const r of sorted) if (this.tryMatch(r, event, account, ids, emit)) return;
        }
      }
    }
    // A ring: the hot path (every certificate authentication) never shifts an array.
    const entry = { event, account, ids, matched: false };
    if (this.recent.length < RECENT_AUTH_CAP) this.recent.push(entry);
    else {
      this.recent[this.recentNext] = entry;
      this.recentNext = (this.recentNext + 1) % RECENT_AUTH_CAP;
    }
  }

  /** Emits `used` when the authentication uses the flagged issuance's certificate; true when it did. */
  private tryMatch(
    r: IssuedRecord,
    event: NormalizedEvent,
    account: string | null,
    ids: string[],
    emit: (signal: Signal) => void,
  ): boolean {
    if (r.used) return false;
    let matchedBy: 'certificate' | 'account';
    let matchedId: string | null = null;
    const common = ids.find((id) => r.ids.includes(id));
    if (common !== undefined) {
      if (event.ts < r.ts - this.skewMs || event.ts > r.ts + this.memoryMs) return false;
      matchedBy = 'certificate';
      matchedId = common;
    } else {
      // Only when the issuance log named no certificate can account + time stand in for it;
      // a different certificate is someone else's (the account's own smart card).
      if (r.ids.length > 0 || account === null || !r.accounts.includes(account)) return false;
      if (event.ts < r.ts - this.skewMs || event.ts > r.ts + this.windowMs) return false;
      matchedBy = 'account';
    }
    const confidence = matchedBy === 'account' ? this.config.account_match_confidence : 1;
    if (confidence <= 0) return false;
    r.used = true;
    this.store.set('list', this.records);
    const cert = event.certificate;
    const delay = Math.round((event.ts - r.ts) / 1000);
    emit({
      rule: 'requester-subject-mismatch',
      variant: 'used',
      summary: `certificate ${r.requester} obtained for ${r.accounts.join(', ')} was used to authenticate as ${event.user ?? 'an unnamed account'} ${delay} s after issuance (matched by ${matchedBy})`,
      dedup_key: `used:${r.dedup_key}`,
      event,
      ...(confidence < 1 ? { confidence } : {}),
      evidence: {
        issuance: r.issuance,
        issuance_variant: r.variant,
        requester: r.requester,
        matched_by: matchedBy,
        ...(matchedId !== null ? { matched_identity: matchedId } : {}),
        ...(matchedBy === 'account'
          ? {
              match_note: `the issuance log named no certificate identity: matched by account and time (use within ${this.config.use_window_hours} h), at lower confidence`,
            }
          : {}),
        seconds_after_issuance: delay,
        authentication: {
          time: event.time,
          user: event.user,
          source_ip: event.source_ip,
          service: event.service,
          format: event.source.format,
          certificate:
            cert === null
              ? null
              : { sha256: cert.sha256, sha1: cert.sha1, serial: cert.serial, issuer: cert.issuer, subject: cert.subject },
        },
      },
    });
    return true;
  }
}

/** The requester-subject-mismatch rule. */
export const rule: Rule<Config> = {
  meta: {
    id: 'requester-subject-mismatch',
    title: 'Certificate requested for another account',
    description:
      'A CA issued a certificate whose requester-supplied SAN (AD CS ESC1) or subject account is not the requester; escalated when that certificate then authenticates as the other account.',
    default_weight: 60,
    variant_weights: { 'requested-san': 60, subject: 40, used: 60 },
    event_kinds: ['issuance', 'authentication'],
    references: [
      'issue 4 (CA-side detections)',
      'FIELD-NOTES: AD CS ESC1 shows as a 4887 with requester ≠ subject, then a 4768 with certificate pre-auth for the subject',
      'splunk attack_data T1649 (Certify/Certipy ESC1)',
    ],
    false_positives: [
      'Enrollment agents, registration authorities and MDM/SCEP connectors that request on behalf of users (list them in allowed_requesters).',
      'With compare_subject: every certificate a connector, provisioner or token requests for someone else (list them in allowed_requesters).',
      'Matched by account only: the impersonated account authenticating with its own certificate soon after a flagged issuance (lower confidence).',
    ],
  },
  configSchema,
  defaults,
  create(config: Config, ctx: RuleContext): RuleInstance {
    return new RequesterSubjectMismatch(config, ctx);
  },
};
