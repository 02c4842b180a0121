// Distinguished names: one canonical RFC 4514 text form for names read from certificate DER and
// for names as logs print them (Suricata, Zeek/OpenSSL, nginx, ECS), so a certificate seen as PEM
// in one log and as logged fields in another compares equal.
//
// Canonical form (what `formatRdns` and `canonicalDn` produce):
// - RDNs most specific first (reverse of DER order), joined with `,` (no space);
// - a multi-valued RDN's members sorted by their rendered `TYPE=value` text and joined with `+`
//   (DER SET order cannot be recovered from a log line, so both sides sort);
// - attribute types: RFC 4514 short names CN, L, ST, O, OU, C, STREET, DC, UID; `emailAddress`
//   for 1.2.840.113549.1.9.1 (what OpenSSL, Zeek and nginx print); dotted OIDs otherwise;
// - string values escaped per RFC 4514 §2.4 (`\` before `, + " \ < > ;`, a leading `#` or space
//   and a trailing space; control characters and NUL as `\XX`); non-ASCII left as UTF-8;
// - values that are not character strings as `#` + hex of their DER encoding.

/** An attribute as read from DER: dotted OID and its decoded value (string, or `#hex` when not a string). */
export interface DnAttribute {
  oid: string;
  /** Decoded string value, or null when the value is not a character string. */
  value: string | null;
  /** Full DER TLV of the value as lowercase hex (used for the `#hex` form). */
  derHex: string;
}

const OID_TO_SHORT: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/**
 * Names (lowercased) that logs use for attribute types → canonical type (short name or dotted OID).
 * Covers RFC 4514, OpenSSL short and long names, Suricata (`Email`) and ECS usage.
 */
const NAME_TO_CANONICAL: Record<string, string> = {
  cn: 'CN',
  commonname: 'CN',
  l: 'L',
  localityname: 'L',
  st: 'ST',
  s: 'ST',
  stateorprovincename: 'ST',
  o: 'O',
  organizationname: 'O',
  ou: 'OU',
  organizationalunitname: 'OU',
  c: 'C',
  countryname: 'C',
  street: 'STREET',
  streetaddress: 'STREET',
  dc: 'DC',
  domaincomponent: 'DC',
  uid: 'UID',
  userid: 'UID',
  emailaddress: 'emailAddress',
  email: 'emailAddress',
  e: 'emailAddress',
  serialnumber: '2.5.4.5',
  sn: '2.5.4.4',
  surname: '2.5.4.4',
  gn: '2.5.4.42',
  givenname: '2.5.4.42',
  title: '2.5.4.12',
  initials: '2.5.4.43',
  generationqualifier: '2.5.4.44',
  dnqualifier: '2.5.4.46',
  pseudonym: '2.5.4.65',
  name: '2.5.4.41',
  description: '2.5.4.13',
  postalcode: '2.5.4.17',
  postofficebox: '2.5.4.18',
  businesscategory: '2.5.4.15',
  organizationidentifier: '2.5.4.97',
  jurisdictionc: '1.3.6.1.4.1.311.60.2.1.3',
  jurisdictioncountryname: '1.3.6.1.4.1.311.60.2.1.3',
  jurisdictionst: '1.3.6.1.4.1.311.60.2.1.2',
  jurisdictionstateorprovincename: '1.3.6.1.4.1.311.60.2.1.2',
  jurisdictionl: '1.3.6.1.4.1.311.60.2.1.1',
  jurisdictionlocalityname: '1.3.6.1.4.1.311.60.2.1.1',
  unstructuredname: '1.2.840.113549.1.9.2',
};

/** Canonical attribute type for a dotted OID: short name when common, else the OID itself. */
export function attributeTypeName(oid: string): string {
  return OID_TO_SHORT[oid] ?? oid;
}

/** Escape an attribute value per RFC 4514 §2.4. */
export function escapeDnValue(value: string): string {
  let out = '';
  const last = value.length - 1;
  for (let i = 0; i <= last; i++) {
    const ch = value[i];
    const code = ch.charCodeAt(0);
    if (ch === ',' || ch === '+' || ch === '"' || ch === '\\' || ch === '<' || ch === '>' || ch === ';') {
      out += `\\${ch}`;
    } else if ((i === 0 && (ch === '#' || ch === ' ')) || (i === last && ch === ' ')) {
      out += `\\${ch}`;
    } else if (code < 0x20 || code === 0x7f) {
      out += `\\${code.toString(16).toUpperCase().padStart(2, '0')}`;
    } else {
      out += ch;
    }
  }
  return out;
}

function renderAttribute(type: string, value: string | null, derHex: string): string {
  return value === null ? `${type}=#${derHex}` : `${type}=${escapeDnValue(value)}`;
}

/**
 * RDNs in DER order (most general first), each a list of attributes → canonical RFC 4514 text.
 */
export function formatRdns(rdns: DnAttribute[][]): string {
  const parts: string[] = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    const rdn = rdns[i];
    if (rdn.length === 1) {
      const a = rdn[0];
      parts.push(renderAttribute(attributeTypeName(a.oid), a.value, a.derHex));
    } else {
      const members = rdn.map((a) => renderAttribute(attributeTypeName(a.oid), a.value, a.derHex));
      members.sort();
      parts.push(members.join('+'));
    }
  }
  return parts.join(',');
}

/** How a logged DN is written: see `canonicalDn`. */
export type DnSyntax = 'rfc4514' | 'wire-order' | 'slash';

interface TextAttribute {
  type: string;
  value: string;
}

const ATTR_START_RE = /^\s*([A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)\s*=/;

/** True when `text` at `pos` starts `TYPE=` with a type we know (or a dotted OID). */
function startsAttribute(text: string, pos: number): boolean {
  const m = ATTR_START_RE.exec(text.slice(pos, pos + 64));
  if (!m) return false;
  const t = m[1];
  return /^\d/.test(t) || NAME_TO_CANONICAL[t.toLowerCase()] !== undefined;
}

function canonicalType(raw: string): string {
  const t = raw.trim();
  if (/^\d+(\.\d+)+$/.test(t)) return attributeTypeName(t);
  if (/^oid\./i.test(t)) return attributeTypeName(t.slice(4));
  return NAME_TO_CANONICAL[t.toLowerCase()] ?? t;
}

/** Decode `#hex` DER of a character string into its text, or null when it is not one. */
function decodeHexString(hex: string): string | null {
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) return null;
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length < 2) return null;
  let len = bytes[1];
  let off = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || bytes.length < 2 + n) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[2 + i];
    off = 2 + n;
  }
  if (off + len !== bytes.length) return null;
  return decodeDirectoryString(bytes[0], bytes.subarray(off));
}

const UTF8_FATAL = new TextDecoder('utf-8', { fatal: true });

/** Decode a DER character string by its tag; null for tags that are not strings or bad encodings. */
export function decodeDirectoryString(tag: number, content: Uint8Array): string | null {
  try {
    switch (tag) {
      case 0x0c: // UTF8String
        return UTF8_FATAL.decode(content);
      case 0x12: // NumericString
      case 0x13: // PrintableString
      case 0x16: // IA5String
      case 0x1a: // VisibleString
        return Buffer.from(content).toString('latin1');
      case 0x14: // TeletexString: treated as Latin-1, as OpenSSL does
      case 0x1b: // GeneralString
        return Buffer.from(content).toString('latin1');
      case 0x1e: {
        // BMPString: UCS-2 big-endian
        if (content.length % 2 !== 0) return null;
        let s = '';
        for (let i = 0; i < content.length; i += 2) s += String.fromCharCode((content[i] << 8) | content[i + 1]);
        return s;
      }
      case 0x1c: {
        // UniversalString: UCS-4 big-endian
        if (content.length % 4 !== 0) return null;
        let s = '';
        for (let i = 0; i < content.length; i += 4) {
          const cp = ((content[i] << 24) | (content[i + 1] << 16) | (content[i + 2] << 8) | content[i + 3]) >>> 0;
          if (cp > 0x10ffff) return null;
          s += String.fromCodePoint(cp);
        }
        return s;
      }
      default:
        return null;
    }
  } catch {
    return null;
  }
}

/**
 * Parse one value from `text` starting at `pos` up to an unescaped separator. Handles RFC 4514
 * escapes (`\,` and `\XX` hex bytes, decoded as UTF-8 as OpenSSL writes them) and quoted values.
 * Returns the value and the end position.
 */
function readEscapedValue(
  text: string,
  pos: number,
  isSeparator: (i: number) => boolean,
): { value: string; end: number; hex: boolean } {
  // `#hex` form
  if (text[pos] === '#') {
    let end = pos + 1;
    while (end < text.length && !isSeparator(end)) end++;
    const raw = text.slice(pos + 1, end).trim();
    const decoded = decodeHexString(raw);
    if (decoded !== null) return { value: decoded, end, hex: false };
    return { value: raw.toLowerCase(), end, hex: true };
  }
  const bytes: number[] = [];
  // Bytes up to here came from escapes or quotes: trailing-space trimming must not touch them.
  let protectedLen = 0;
  let i = pos;
  let quoted = false;
  if (text[i] === '"') {
    quoted = true;
    i++;
  }
  const pushChar = (ch: string): void => {
    for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
  };
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        i++;
        quoted = false;
        protectedLen = bytes.length;
        continue;
      }
    } else if (isSeparator(i)) {
      break;
    }
    if (ch === '\\' && i + 1 < text.length) {
      const h = text.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(h)) {
        bytes.push(Number.parseInt(h, 16));
        i += 3;
      } else {
        pushChar(text[i + 1]);
        i += 2;
      }
      protectedLen = bytes.length;
      continue;
    }
    const cp = text.codePointAt(i) as number;
    const s = String.fromCodePoint(cp);
    pushChar(s);
    i += s.length;
  }
  while (bytes.length > protectedLen && bytes[bytes.length - 1] === 0x20) bytes.pop();
  return { value: Buffer.from(bytes).toString('utf8'), end: i, hex: false };
}

/**
 * Split a logged DN into RDNs (each a list of attributes), in the order written.
 * `sep` is the RDN separator; values end at an unescaped separator followed by `TYPE=`.
 */
function splitLoggedDn(text: string, syntax: DnSyntax): TextAttribute[][] | null {
  const rdns: TextAttribute[][] = [];
  let current: TextAttribute[] = [];
  let pos = 0;
  const n = text.length;
  if (syntax === 'slash') {
    if (text[0] !== '/') return null;
    pos = 1;
  }
  // Escaping is only honoured where the syntax has it: OpenSSL RFC 2253 / RFC 4514 text.
  // Suricata (wire-order) and X509_NAME_oneline (slash) print values raw, so a separator only
  // counts when a known `TYPE=` follows it.
  const rdnSepAt = (i: number): number => {
    // returns length of separator at i (0 when none)
    if (syntax === 'slash') return text[i] === '/' && startsAttribute(text, i + 1) ? 1 : 0;
    if (syntax === 'wire-order') {
      if (text[i] === ',' && startsAttribute(text, i + 1)) return text[i + 1] === ' ' ? 2 : 1;
      return 0;
    }
    if (text[i] === ',' || text[i] === ';') return 1;
    return 0;
  };
  const plusSepAt = (i: number): number => {
    if (syntax === 'rfc4514') return text[i] === '+' ? 1 : 0;
    if (text.startsWith(' + ', i) && startsAttribute(text, i + 3)) return 3;
    if (text[i] === '+' && startsAttribute(text, i + 1)) return 1;
    return 0;
  };
  const isSep = (i: number): boolean => rdnSepAt(i) > 0 || plusSepAt(i) > 0;
  while (pos < n) {
    const m = ATTR_START_RE.exec(text.slice(pos, pos + 128));
    if (!m) return null;
    const type = canonicalType(m[1]);
    pos += m[0].length;
    while (pos < n && text[pos] === ' ' && syntax === 'rfc4514') pos++;
    let value: string;
    let hex = false;
    if (syntax === 'rfc4514') {
      const r = readEscapedValue(text, pos, isSep);
      value = r.value;
      hex = r.hex;
      pos = r.end;
    } else {
      let end = pos;
      while (end < n && !isSep(end)) end++;
      value = text.slice(pos, end);
      // OpenSSL's oneline form escapes non-printables as \xHH
      if (syntax === 'slash' && value.includes('\\x')) {
        const bytes: number[] = [];
        for (let i = 0; i < value.length; ) {
          if (value[i] === '\\' && value[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 2, i + 4))) {
            bytes.push(Number.parseInt(value.slice(i + 2, i + 4), 16));
            i += 4;
          } else {
            const s = String.fromCodePoint(value.codePointAt(i) as number);
            for (const b of Buffer.from(s, 'utf8')) bytes.push(b);
            i += s.length;
          }
        }
        value = Buffer.from(bytes).toString('utf8');
      }
      pos = end;
    }
    current.push({ type, value: hex ? `#${value}` : value });
    const plus = pos < n ? plusSepAt(pos) : 0;
    if (plus > 0) {
      pos += plus;
      continue;
    }
    rdns.push(current);
    current = [];
    if (pos >= n) break;
    const sep = rdnSepAt(pos);
    if (sep === 0) return null;
    pos += sep;
    while (pos < n && text[pos] === ' ') pos++;
  }
  if (current.length > 0) rdns.push(current);
  return rdns;
}

function renderTextAttribute(a: TextAttribute): string {
  if (a.value.startsWith('#') && /^#([0-9a-f]{2})+$/.test(a.value)) return `${a.type}=${a.value}`;
  return `${a.type}=${escapeDnValue(a.value)}`;
}

/**
 * Turn a logged DN into the canonical RFC 4514 form the certificate parser produces.
 * - `rfc4514` (default): RFC 4514 / RFC 2253 / OpenSSL `-nameopt RFC2253` text, most specific
 *   RDN first, `,` separated, backslash escapes (Zeek, nginx ≥ 1.11.6, ECS).
 * - `wire-order`: most general first, `, ` separated, values unescaped (Suricata EVE).
 * - `slash`: OpenSSL `X509_NAME_oneline`, `/C=US/O=Example/CN=x` (legacy nginx).
 * Returns null when the text is empty or not a DN in that syntax.
 */
export function canonicalDn(text: string | null | undefined, syntax: DnSyntax = 'rfc4514'): string | null {
  if (text === null || text === undefined) return null;
  const trimmed = text.trim();
  if (trimmed.length === 0) return null;
  const rdns = splitLoggedDn(trimmed, syntax);
  if (rdns === null || rdns.length === 0) return null;
  if (syntax !== 'rfc4514') rdns.reverse();
  const parts = rdns.map((rdn) => {
    if (rdn.length === 1) return renderTextAttribute(rdn[0]);
    const members = rdn.map(renderTextAttribute);
    members.sort();
    return members.join('+');
  });
  return parts.join(',');
}

/**
 * First CN of a canonical RFC 4514 DN (the most specific one), unescaped; null when none.
 */
export function commonNameOf(canonical: string | null): string | null {
  if (!canonical) return null;
  const rdns = splitLoggedDn(canonical, 'rfc4514');
  if (!rdns) return null;
  for (const rdn of rdns) for (const a of rdn) if (a.type === 'CN') return a.value;
  return null;
}
