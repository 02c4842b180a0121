// Parser (and serialiser) for Envoy's `x-forwarded-client-cert` (XFCC) header.
//
// Grammar (Envoy HTTP connection manager docs): the header is a `,`-separated list of elements,
// one per proxy hop, each appended by the proxy that forwarded the request — so the LAST element
// was added by the nearest proxy. An element is a `;`-separated list of `Key=Value` pairs. Keys
// are case-insensitive (By, Hash, Cert, Chain, Subject, URI, DNS); values are case-sensitive and
// may be double-quoted, in which case `,` `;` `=` are literal and `\"` stands for a quote.
//
// The header is spoofable: a client can send its own XFCC, and a proxy configured with
// APPEND_FORWARD keeps it in front of its own element. Callers must therefore pick the element(s)
// added by proxies they trust (`trustedElements`), never just the first one.
//
// This module never throws on input: malformed headers come back as an `XfccError` naming the
// offset and the key being read. It is shared by the `envoy` log source and (later) the ext_authz
// `serve` endpoint.

/** One `Key=Value` pair as written (key case preserved, value unquoted and unescaped). */
export interface XfccPair {
  key: string;
  value: string;
  /** Offset of the key in the header (0-based, UTF-16 code units). */
  offset: number;
}

/** One XFCC element: what one proxy said about the client certificate it saw. */
export interface XfccElement {
  /** Position in the header, 0 = first (farthest from us). */
  index: number;
  /** Hops away from the nearest proxy: 0 = the last element (added by the nearest proxy). */
  hop: number;
  /** Offset of the element's first character in the header. */
  offset: number;
  /** The proxy's own identity (URI SAN of its certificate); repeatable since Envoy 1.22. */
  by: string[];
  /** SHA-256 of the client certificate's DER, hex, as written. */
  hash: string | null;
  /** URL-encoded PEM of the client certificate, as written (see `decodeXfccPem`). */
  cert: string | null;
  /** URL-encoded PEM of the client chain (leaf included), as written. */
  chain: string | null;
  /** Subject DN as written: RFC 2253 in current Envoy, `/C=US/…` in old docs and proxies. */
  subject: string | null;
  /** URI SANs (SPIFFE IDs in a service mesh). */
  uri: string[];
  /** DNS SANs. */
  dns: string[];
  /** Every pair in order, unknown keys included. */
  pairs: XfccPair[];
}

/** Why a header did not parse. */
export interface XfccError {
  /** Offset in the header where the problem was found. */
  offset: number;
  /** The key being read, when the problem is in a pair. */
  key: string | null;
  /** Stable reason code. */
  reason:
    | 'empty-element'
    | 'empty-pair'
    | 'missing-equals'
    | 'bad-key'
    | 'unterminated-quote'
    | 'text-after-quote'
    | 'stray-quote'
    | 'duplicate-key';
  /** Human-readable explanation naming the offset and key. */
  message: string;
}

/** Result of `parseXfcc`: every element, or the first error (then `elements` is empty). */
export type XfccResult = { ok: true; elements: XfccElement[] } | { ok: false; error: XfccError; elements: [] };

/** Keys that may appear once per element (a repeat is a malformed or tampered header). */
const SINGLE_KEYS = new Set(['hash', 'cert', 'chain', 'subject']);

function isOws(c: string): boolean {
  return c === ' ' || c === '\t';
}

function fail(offset: number, key: string | null, reason: XfccError['reason'], what: string): XfccResult {
  const where = key === null ? `at offset ${offset}` : `at offset ${offset} (key ${key})`;
  return { ok: false, error: { offset, key, reason, message: `XFCC ${what} ${where}` }, elements: [] };
}

function emptyElement(index: number, offset: number): XfccElement {
  return { index, hop: 0, offset, by: [], hash: null, cert: null, chain: null, subject: null, uri: [], dns: [], pairs: [] };
}

/**
 * Parses an XFCC header value. An empty (or all-whitespace) header is zero elements. Optional
 * whitespace around separators is allowed (HTTP joins repeated headers with `, `).
 */
export function parseXfcc(header: string): XfccResult {
  const elements: XfccElement[] = [];
  const n = header.length;
  let i = 0;
  while (i < n && isOws(header[i])) i++;
  if (i === n) return { ok: true, elements };
  let element = emptyElement(0, i);
  for (;;) {
    // One pair: OWS key '=' value OWS, then ';' (next pair), ',' (next element) or end.
    while (i < n && isOws(header[i])) i++;
    const keyStart = i;
    while (i < n && header[i] !== '=' && header[i] !== ';' && header[i] !== ',' && header[i] !== '"') i++;
    const key = header.slice(keyStart, i).trim();
    if (i === n || header[i] !== '=') {
      if (key.length === 0 && element.pairs.length === 0 && (i === n || header[i] === ','))
        return fail(keyStart, null, 'empty-element', 'has an empty element');
      if (key.length === 0) return fail(keyStart, null, 'empty-pair', 'has an empty pair');
      if (i < n && header[i] === '"') return fail(i, key, 'stray-quote', 'has a quote inside a key');
      return fail(keyStart, key, 'missing-equals', 'pair has no "="');
    }
    if (key.length === 0) return fail(keyStart, null, 'bad-key', 'pair has an empty key');
    i++; // '='
    let value: string;
    if (i < n && header[i] === '"') {
      const quoteAt = i;
      i++;
      let out = '';
      let closed = false;
      while (i < n) {
        const c = header[i];
        if (c === '\\' && i + 1 < n && (header[i + 1] === '"' || header[i + 1] === '\\')) {
          out += header[i + 1];
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          // Any other backslash is literal: Envoy writes RFC 2253 subjects (`CN=Doe\, John`)
          // inside quotes without re-escaping them, and the DN escape must survive.
          out += c;
          i++;
        }
      }
      if (!closed) return fail(quoteAt, key, 'unterminated-quote', 'quoted value is not terminated');
      while (i < n && isOws(header[i])) i++;
      if (i < n && header[i] !== ';' && header[i] !== ',')
        return fail(i, key, 'text-after-quote', 'has text after a quoted value');
      value = out;
    } else {
      const valueStart = i;
      while (i < n && header[i] !== ';' && header[i] !== ',') {
        if (header[i] === '"') return fail(i, key, 'stray-quote', 'has a quote inside an unquoted value');
        i++;
      }
      value = header.slice(valueStart, i).trim();
    }
    const lower = key.toLowerCase();
    if (SINGLE_KEYS.has(lower) && element.pairs.some((p) => p.key.toLowerCase() === lower)) {
      return fail(keyStart, key, 'duplicate-key', 'element repeats a key');
    }
    element.pairs.push({ key, value, offset: keyStart });
    if (lower === 'by') element.by.push(value);
    else if (lower === 'hash') element.hash = value;
    else if (lower === 'cert') element.cert = value;
    else if (lower === 'chain') element.chain = value;
    else if (lower === 'subject') element.subject = value;
    else if (lower === 'uri') element.uri.push(value);
    else if (lower === 'dns') element.dns.push(value);
    if (i === n) break;
    if (header[i] === ',') {
      elements.push(element);
      i++;
      while (i < n && isOws(header[i])) i++;
      if (i === n || header[i] === ',') return fail(i, null, 'empty-element', 'has an empty element');
      element = emptyElement(elements.length, i);
    } else i++; // ';'
  }
  elements.push(element);
  for (const e of elements) e.hop = elements.length - 1 - e.index;
  return { ok: true, elements };
}

/**
 * The elements added by trusted proxies: the last `trustedHops` elements (default 1: only the
 * nearest proxy's). Everything in front of them may have been written by the client.
 */
export function trustedElements(elements: readonly XfccElement[], trustedHops = 1): XfccElement[] {
  if (trustedHops <= 0) return [];
  return elements.filter((e) => e.hop < trustedHops);
}

/**
 * The element describing the client certificate, given how many proxies (from the nearest) are
 * trusted: the farthest trusted element. With one trusted hop, the last element.
 */
export function clientElement(elements: readonly XfccElement[], trustedHops = 1): XfccElement | null {
  const trusted = trustedElements(elements, trustedHops);
  return trusted.length > 0 ? trusted[0] : null;
}

/** Decodes a URL-encoded PEM (`Cert`/`Chain`, Envoy's `%DOWNSTREAM_PEER_CERT%`); null when the encoding is broken. */
export function decodeXfccPem(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return null;
  }
}

/** Splits a PEM bundle into its `-----BEGIN CERTIFICATE-----` blocks. */
export function splitPemBundle(pem: string): string[] {
  const out: string[] = [];
  const re = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
  for (let m = re.exec(pem); m !== null; m = re.exec(pem)) out.push(`${m[0]}\n`);
  return out;
}

/** A pair to serialise. */
export interface XfccPairInput {
  key: string;
  value: string;
}

/** Keys Envoy always quotes, whatever their value. */
const ALWAYS_QUOTED = new Set(['subject', 'cert', 'chain']);

/** Serialises one value: quoted (with `\"` and `\\` escapes) when it needs to be, or for Subject/Cert/Chain as Envoy does. */
export function serializeXfccValue(key: string, value: string): string {
  const needs = ALWAYS_QUOTED.has(key.toLowerCase()) || value.length === 0 || /[,;="\\]/.test(value) || value !== value.trim();
  return needs ? `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"` : value;
}

/**
 * Serialises elements (each a list of pairs) to a header value. Keys must be non-empty and free of
 * `=`, `;`, `,`, `"` and surrounding whitespace; values may be anything.
 */
export function serializeXfcc(elements: readonly (readonly XfccPairInput[])[]): string {
  return elements.map((pairs) => pairs.map((p) => `${p.key}=${serializeXfccValue(p.key, p.value)}`).join(';')).join(',');
}
