// Distinguished-name comparison for config values (automation_issuers, allowlist issuer): two
// spellings of one RFC 4514 DN compare equal after normalizeDn.

/** Splits on `sep` where it is not escaped with a backslash. */
function splitUnescaped(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + text[i + 1];
      i++;
    } else if (ch === sep) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/**
 * A comparison key for an RFC 4514 DN: attribute types upper-cased, spaces around `,` `+` `=`
 * dropped, runs of spaces collapsed and values lower-cased (X.520 names compare case-insensitively).
 * `cn=Vault  CA, o=Example` and `CN=vault ca,O=example` give the same key. RDN order is kept.
 */
export function normalizeDn(dn: string): string {
  return splitUnescaped(dn.trim(), ',')
    .map((rdn) =>
      splitUnescaped(rdn, '+')
        .map((ava) => {
          const eq = ava.indexOf('=');
          if (eq === -1) return ava.trim().replace(/\s+/g, ' ').toLowerCase();
          const type = ava.slice(0, eq).trim().toUpperCase();
          const value = ava
            .slice(eq + 1)
            .trim()
            .replace(/\s+/g, ' ')
            .toLowerCase();
          return `${type}=${value}`;
        })
        .join('+'),
    )
    .join(',');
}

/** Why `dn` is not usable as an RFC 4514 DN, or undefined if it looks like one. */
export function dnProblem(dn: string): string | undefined {
  const trimmed = dn.trim();
  if (trimmed.startsWith('/')) {
    const suggestion = trimmed.split('/').filter(Boolean).reverse().join(',');
    return `looks like the OpenSSL "/"-separated form; write RFC 4514 (most specific first), e.g. "${suggestion}"`;
  }
  for (const rdn of splitUnescaped(trimmed, ',')) {
    for (const ava of splitUnescaped(rdn, '+')) {
      const eq = ava.indexOf('=');
      if (eq <= 0 || ava.slice(0, eq).trim() === '') {
        return `"${ava.trim()}" is not TYPE=value; expected an RFC 4514 DN like "CN=Issuing CA,O=Example"`;
      }
    }
  }
  return undefined;
}
