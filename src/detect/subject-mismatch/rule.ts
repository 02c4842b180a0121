// subject-mismatch (seed 002 pattern 3): the identity a client certificate names (CN, e-mail and
// UPN SANs, DNS SANs) contradicts the asset registry, the identity store or the gateway's
// authenticated user: a service account's certificate on a laptop, a certificate of someone other
// than the device's owner, or a certificate naming a different user than the one who logged in.
import { Type } from 'typebox';
import type { Asset, CertInfo, Identity, NormalizedEvent } from '../../schema/event.ts';
import type { KeyedState, Rule, RuleContext, RuleInstance, Signal } from '../types.ts';

/** Config block `rules.subject-mismatch`. */
export interface Config {
  /** Asset kinds that are end-user devices (compared case-insensitively). */
  end_user_device_kinds: string[];
}

export const configSchema = Type.Object(
  {
    end_user_device_kinds: Type.Array(Type.String(), {
      default: ['laptop', 'desktop', 'workstation', 'phone', 'tablet', 'mobile'],
      description: 'Asset kinds on which a service account certificate is out of place.',
    }),
  },
  { additionalProperties: false },
);

export const defaults: Config = {
  end_user_device_kinds: ['laptop', 'desktop', 'workstation', 'phone', 'tablet', 'mobile'],
};

export type MismatchVariant = 'service-cert-on-endpoint' | 'not-device-owner' | 'user-mismatch';

/** What a certificate names, lower-cased, derived once per distinct certificate. */
export interface CertNames {
  /** Account identities: e-mail and UPN SANs (full and local part), an e-mail-like CN, a bare-token or `first.last` CN. */
  accounts: Set<string>;
  /** Device names: DNS SANs and any CN that is not an e-mail or display name (full and first label). */
  hosts: Set<string>;
}

const namesCache = new WeakMap<CertInfo, CertNames>();

function addIdentity(set: Set<string>, value: string): void {
  const v = value.trim().toLowerCase();
  if (v.length === 0) return;
  set.add(v);
  const at = v.indexOf('@');
  if (at > 0) set.add(v.slice(0, at));
}

function addHost(set: Set<string>, value: string): void {
  const v = value.trim().toLowerCase();
  if (v.length === 0) return;
  set.add(v);
  const dot = v.indexOf('.');
  if (dot > 0) set.add(v.slice(0, dot));
}

/**
 * The names a certificate carries. A CN with '@' is an account; a CN with whitespace is a display
 * name and is not compared; a CN equal to a DNS SAN or with two or more dots (an FQDN) is a host;
 * any other CN (`alice`, `first.last`, `laptop-42`) may be either and is kept as both.
 */
export function certNames(c: CertInfo): CertNames {
  let n = namesCache.get(c);
  if (n !== undefined) return n;
  const accounts = new Set<string>();
  const hosts = new Set<string>();
  for (const e of c.san.email) addIdentity(accounts, e);
  for (const u of c.san.upn) addIdentity(accounts, u);
  for (const d of c.san.dns) addHost(hosts, d);
  const cn = c.subject_cn?.trim() ?? '';
  if (cn.length > 0 && !/\s/.test(cn)) {
    const lower = cn.toLowerCase();
    const firstDot = lower.indexOf('.');
    const fqdnLike = firstDot > 0 && lower.indexOf('.', firstDot + 1) > firstDot;
    if (cn.includes('@')) addIdentity(accounts, cn);
    else if (fqdnLike || hosts.has(lower)) addHost(hosts, cn);
    else {
      // `alice`, `first.last`, `dev-001`: an account or a device name; kept as both.
      accounts.add(lower);
      addHost(hosts, cn);
    }
  }
  n = { accounts, hosts };
  namesCache.set(c, n);
  return n;
}

/** Comparable forms of an account name: lower case, e-mail local part, the CN of a DN-shaped name. */
export function accountAliases(name: string): string[] {
  let v = name.trim().toLowerCase();
  if (v.startsWith('cn=')) {
    const comma = v.indexOf(',');
    v = v.slice(3, comma < 0 ? undefined : comma).trim();
  }
  const out = [v];
  const at = v.indexOf('@');
  if (at > 0) out.push(v.slice(0, at));
  return out;
}

function anyIn(names: string[], set: Set<string>): boolean {
  for (const n of names) if (set.has(n)) return true;
  return false;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

interface JudgedInputs {
  asset: Asset | null;
  identity: Identity | null;
  user: string | null;
  userFrom: NormalizedEvent['user_from'];
  device: string | null;
}

/** Per-certificate state (namespace `subject-mismatch/reported`): findings already reported. */
type Reported = string[];
const MAX_REPORTED_PER_CERT = 64;

class SubjectMismatch implements RuleInstance {
  private readonly ctx: RuleContext;
  private readonly endUserKinds: Set<string>;
  private readonly reported: KeyedState<Reported>;
  /** account name → aliases; names are few compared with events. */
  private readonly aliasCache = new Map<string, string[]>();
  /** Per registry row (rows are shared objects): end-user kind? and its names, lower-cased. */
  private readonly assetCache = new WeakMap<Asset, { endUser: boolean; names: string[] }>();
  /** event.device → its names, lower-cased (full and first label). */
  private readonly deviceCache = new Map<string, string[]>();
  /**
   * Per certificate, the inputs of the last event judged. The verdict is a pure function of them
   * (and a finding, once reported, is not reported again), so a repeat is skipped outright.
   */
  private readonly lastJudged = new WeakMap<CertInfo, JudgedInputs>();

  constructor(config: Config, ctx: RuleContext) {
    this.ctx = ctx;
    this.endUserKinds = new Set(config.end_user_device_kinds.map((k) => k.trim().toLowerCase()));
    this.reported = ctx.state<Reported>('reported');
  }

  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    if (event.outcome === 'failure') return;
    const cert = event.certificate;
    if (cert === null) return;
    const { asset, identity } = event.enrichment;
    const gatewayUser = event.user_from === 'event' ? event.user : null;
    const facts = this.ctx.facts;
    const useAsset = facts.assetsConfigured && asset !== null;
    const useIdentity = facts.identitiesConfigured && identity !== null;
    if (!useAsset && gatewayUser === null) return;

    const memo = this.lastJudged.get(cert);
    if (
      memo !== undefined &&
      memo.asset === asset &&
      memo.identity === identity &&
      memo.user === event.user &&
      memo.userFrom === event.user_from &&
      memo.device === event.device
    ) {
      return;
    }
    if (memo === undefined) {
      this.lastJudged.set(cert, { asset, identity, user: event.user, userFrom: event.user_from, device: event.device });
    } else {
      memo.asset = asset;
      memo.identity = identity;
      memo.user = event.user;
      memo.userFrom = event.user_from;
      memo.device = event.device;
    }
    const names = certNames(cert);
    if (names.accounts.size === 0 && names.hosts.size === 0) return;
    // The identity row (looked up for event.user) describes the certificate only if it names it.
    const certIdentity = useIdentity && this.identityNamesCert(identity, names) ? identity : null;

    const namesDevice = this.namesDevice(names, event, useAsset ? asset : null);
    if (useAsset) {
      const endUserDevice = this.assetInfo(asset).endUser;
      const isService = certIdentity !== null && certIdentity.kind !== null && certIdentity.kind.toLowerCase() === 'service';
      if (isService && endUserDevice) {
        this.report(
          event,
          cert,
          'service-cert-on-endpoint',
          null,
          emit,
          {
            certificate_identity: { user: certIdentity.user, kind: certIdentity.kind, email: certIdentity.email },
            device: assetEvidence(asset),
            end_user_device_kinds: [...this.endUserKinds],
          },
          `service account ${certIdentity.user}'s certificate used from ${asset.kind} ${asset.hostname ?? asset.device_id}`,
        );
      } else if (asset.owner !== null && asset.owner.trim().length > 0 && !isService) {
        // A service certificate on a server is how servers work; it is not the owner's business.
        if (!namesDevice) this.checkOwner(event, cert, names, asset, identity, emit);
      }
    }

    if (gatewayUser !== null && names.accounts.size > 0 && !namesDevice) {
      const aliases = this.aliases(gatewayUser);
      let match = anyIn(aliases, names.accounts);
      if (!match && useIdentity && identity.email !== null && anyIn(aliases, new Set(accountAliases(identity.user)))) {
        match = anyIn(accountAliases(identity.email), names.accounts);
      }
      if (!match) {
        this.report(
          event,
          cert,
          'user-mismatch',
          gatewayUser,
          emit,
          {
            authenticated_user: gatewayUser,
            authenticated_user_email: useIdentity ? identity.email : null,
            certificate_names: [...names.accounts],
          },
          `gateway user ${gatewayUser} authenticated with a certificate naming ${describe(cert, names)}`,
        );
      }
    }
  }

  private aliases(name: string): string[] {
    let a = this.aliasCache.get(name);
    if (a === undefined) {
      a = accountAliases(name);
      if (this.aliasCache.size >= 10_000) this.aliasCache.clear();
      this.aliasCache.set(name, a);
    }
    return a;
  }

  private identityNamesCert(identity: Identity, names: CertNames): boolean {
    if (anyIn(this.aliases(identity.user), names.accounts)) return true;
    return identity.email !== null && anyIn(accountAliases(identity.email), names.accounts);
  }

  /** The certificate names the device itself: its id or hostname in the CN or a DNS SAN. */
  private namesDevice(names: CertNames, event: NormalizedEvent, asset: Asset | null): boolean {
    if (names.hosts.size === 0) return false;
    if (event.device !== null) {
      let own = this.deviceCache.get(event.device);
      if (own === undefined) {
        own = hostForms([event.device]);
        if (this.deviceCache.size >= 10_000) this.deviceCache.clear();
        this.deviceCache.set(event.device, own);
      }
      if (anyIn(own, names.hosts)) return true;
    }
    return asset !== null && anyIn(this.assetInfo(asset).names, names.hosts);
  }

  private assetInfo(asset: Asset): { endUser: boolean; names: string[] } {
    let info = this.assetCache.get(asset);
    if (info === undefined) {
      info = {
        endUser: asset.kind !== null && this.endUserKinds.has(asset.kind.trim().toLowerCase()),
        names: hostForms([asset.device_id, asset.hostname]),
      };
      this.assetCache.set(asset, info);
    }
    return info;
  }

  private checkOwner(
    event: NormalizedEvent,
    cert: CertInfo,
    names: CertNames,
    asset: Asset,
    identity: Identity | null,
    emit: (signal: Signal) => void,
  ): void {
    const owner = asset.owner as string;
    const ownerAliases = this.aliases(owner);
    if (anyIn(ownerAliases, names.accounts)) return;
    // The owner's e-mail, when the identity row at hand is the owner's.
    let ownerEmail: string | null = null;
    if (identity !== null && identity.email !== null && anyIn(ownerAliases, new Set(accountAliases(identity.user)))) {
      ownerEmail = identity.email;
      if (anyIn(accountAliases(identity.email), names.accounts)) return;
    }
    this.report(
      event,
      cert,
      'not-device-owner',
      null,
      emit,
      {
        device: assetEvidence(asset),
        owner,
        owner_email: ownerEmail,
        certificate_names: [...names.accounts, ...[...names.hosts].filter((h) => !names.accounts.has(h))],
      },
      `certificate naming ${describe(cert, names)} used on ${asset.hostname ?? asset.device_id}, owned by ${owner}`,
    );
  }

  private report(
    event: NormalizedEvent,
    cert: CertInfo,
    variant: MismatchVariant,
    user: string | null,
    emit: (signal: Signal) => void,
    details: Record<string, unknown>,
    summary: string,
  ): void {
    const certId = cert.sha256 ?? (cert.sha1 !== null ? `sha1:${cert.sha1}` : `${cert.issuer ?? '?'}/${cert.serial ?? '?'}`);
    const device = event.device ?? event.enrichment.asset?.device_id ?? '-';
    const finding = user === null ? `${variant}|${device}` : `${variant}|${device}|${user}`;
    let done = this.reported.get(certId);
    if (done?.includes(finding)) return;
    if (done === undefined) done = [];
    done.push(finding);
    if (done.length > MAX_REPORTED_PER_CERT) done.shift();
    this.reported.set(certId, done);
    emit({
      rule: 'subject-mismatch',
      variant,
      summary,
      dedup_key: user === null ? `${variant}:${certId}:${device}` : `${variant}:${certId}:${device}:${user}`,
      event,
      evidence: {
        variant,
        certificate: {
          sha256: cert.sha256,
          spki_sha256: cert.spki_sha256,
          subject: cert.subject,
          issuer: cert.issuer,
          serial: cert.serial,
          not_after: cert.not_after,
          san_email: cert.san.email,
          san_upn: cert.san.upn,
          san_dns: cert.san.dns,
        },
        event_user: event.user,
        user_from: event.user_from,
        event_device: event.device,
        seen_at: iso(event.ts),
        ...details,
      },
    });
  }
}

/** Lower-cased names and, for dotted names, their first label. */
function hostForms(values: (string | null)[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    if (value === null) continue;
    const v = value.trim().toLowerCase();
    if (v.length === 0) continue;
    out.push(v);
    const dot = v.indexOf('.');
    if (dot > 0) out.push(v.slice(0, dot));
  }
  return out;
}

function assetEvidence(a: Asset): Record<string, unknown> {
  return { device_id: a.device_id, hostname: a.hostname, kind: a.kind, owner: a.owner };
}

function describe(cert: CertInfo, names: CertNames): string {
  if (cert.subject_cn !== null) return `"${cert.subject_cn}"`;
  const first = names.accounts.values().next().value ?? names.hosts.values().next().value;
  return first === undefined ? 'no name' : `"${first}"`;
}

/** The subject-mismatch rule. */
export const rule: Rule<Config> = {
  meta: {
    id: 'subject-mismatch',
    title: 'Certificate subject contradicts asset registry or identity',
    description:
      'The certificate names a service account but is used from an end-user device, names someone other than the device owner (and not the device), or names a different user than the gateway authenticated.',
    default_weight: 30,
    variant_weights: { 'service-cert-on-endpoint': 30, 'not-device-owner': 30, 'user-mismatch': 30 },
    references: ['seed 002 pattern 3 (mismatched certificate subject vs. asset registry)'],
    false_positives: [
      'Shared devices (kiosks, lab machines, hot desks) whose registry owner is one person (clear the owner in the registry or allowlist the device).',
      'Certificates whose CN is a bare device id without DNS SAN, on events without device information, can look like a user-mismatch.',
      'Registry rows that lag behind device hand-overs.',
    ],
  },
  configSchema,
  defaults,
  create(config: Config, ctx: RuleContext): RuleInstance {
    return new SubjectMismatch(config, ctx);
  },
};
