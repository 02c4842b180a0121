// Account-name comparison the CA-side rules share (issuance-without-enrollment,
// requester-subject-mismatch): CA, MDM and Kerberos logs spell one account as `DOMAIN\alice`,
// `alice@corp.example` or `ALICE`; they must compare equal.

/**
 * Comparison key of an account name: trimmed, lower-cased, without a `DOMAIN\` prefix or an
 * `@realm` suffix (`CORP\Alice`, `alice@corp.example` and `alice` all give `alice`). A trailing
 * `$` (AD computer account) is kept: `host$` is the machine, `host` may be a person.
 */
export function accountKey(name: string): string {
  let s = name.trim().toLowerCase();
  const slash = s.lastIndexOf('\\');
  if (slash >= 0) s = s.slice(slash + 1);
  const at = s.indexOf('@');
  if (at > 0) s = s.slice(0, at);
  return s;
}

/** Whether two account names name the same account (see accountKey); empty names never match. */
export function sameAccount(a: string, b: string): boolean {
  const x = accountKey(a);
  return x.length > 0 && x === accountKey(b);
}

/**
 * Glob match for account patterns in config (`*` any run, `?` one character), on account keys:
 * `CORP\svc-scep*` matches `svc-scep01@corp.example`.
 */
export function accountMatches(pattern: string, account: string): boolean {
  const p = accountKey(pattern);
  const a = accountKey(account);
  if (!p.includes('*') && !p.includes('?')) return p.length > 0 && p === a;
  const re = new RegExp(
    `^${p
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(a);
}
