// OcspChecker: asks a certificate's OCSP responder (its AIA URL, or a configured override) and
// caches the answer per (issuer key hash, serial) until the response's nextUpdate. Built for long
// batch runs over millions of events that repeat a few thousand certificates:
// - a cached (or in-flight) answer is reused, so one request serves every event of a certificate;
// - failures are cached briefly (`negativeTtlMs`) so a dead responder is not hammered;
// - a responder that timed out or refused the connection is backed off (no request to it until
//   the back-off ends, doubling up to 10 minutes): one timeout per responder, not one per certificate;
// - at most `concurrency` requests are in flight, and once the run has waited `budgetMs` in total
//   on OCSP no further request is made (`budget-exhausted`).
// Only http: and https: URLs are used; redirects are not followed.
import { createHash, randomBytes } from 'node:crypto';
import { isIssuedBy, type ParsedCertificate } from '../../normalize/certificate.ts';
import type { CertInfo, NormalizedEvent, OcspResult } from '../../schema/event.ts';
import type { CrlIssuerSource } from '../crl.ts';
import { type CertIdInput, certIdFromDer, certIdFromSerial, ocspUrls, publicKeyBits } from './certid.ts';
import { mergeRevocation } from './merge.ts';
import { buildRequest, evaluateResponse, unknownResult } from './protocol.ts';

export interface OcspOptions {
  /** Per-request timeout (ms). Default 2000. */
  timeoutMs?: number;
  /** Answers kept (per issuer key + serial). Default 10,000. */
  cacheSize?: number;
  /** Ask this responder for every certificate instead of the one in its AIA extension. */
  responderOverride?: string | null;
  /** Send a random nonce (RFC 8954) and reject a response that echoes a different one. Default true. */
  nonce?: boolean;
  /** Requests in flight at once. Default 8. */
  concurrency?: number;
  /** Total time (ms) a run may spend waiting on OCSP before it stops asking. Default 120,000. */
  budgetMs?: number;
  /** How long an `unknown` answer is reused before asking again (ms). Default 60,000. */
  negativeTtlMs?: number;
  /** How long a response without nextUpdate is reused (ms). Default 300,000. */
  noNextUpdateTtlMs?: number;
  /** First back-off after a responder timed out or refused (ms); doubles per failure up to 10 min. Default 60,000. */
  backoffMs?: number;
  /** Clock skew tolerated on thisUpdate/nextUpdate (ms). Default 300,000. */
  toleranceMs?: number;
  /** Oldest acceptable thisUpdate when a response has no nextUpdate (ms). Default 7 days. */
  maxAgeMs?: number;
  /** Largest response body read (bytes). Default 1 MiB. */
  maxResponseBytes?: number;
  /** Wall clock (epoch ms) for cache expiry and freshness; default Date.now. */
  now?: () => number;
}

/** Counters for the run summary. */
export interface OcspStats {
  /** HTTP requests sent to responders. */
  requests: number;
  /** Lookups answered from the cache (or joined to a request already in flight). */
  cacheHits: number;
  /** Outcomes of fresh determinations: `good`, `revoked`, `unknown:<reason>`. */
  outcomes: Record<string, number>;
  /** Responders that timed out at least once. */
  timedOut: string[];
}

/** What the checker needs from one event. */
export interface OcspTarget {
  cert: CertInfo;
  /** Parsed leaf (bytes available), or null for logged fields only. */
  leaf: ParsedCertificate | null;
  chain: readonly ParsedCertificate[];
  /** Event time (epoch ms). */
  at: number;
}

interface Resolved {
  /** Cache key: SHA-1 of the issuer key | serial; null when no lookup is possible. */
  key: string | null;
  url: string | null;
  certId: CertIdInput | null;
  issuer: ParsedCertificate | null;
  /** The immediate answer when no lookup is possible (`no-aia`, `no-issuer`, `unsupported-url`). */
  immediate: OcspResult | null;
}

interface CacheEntry {
  result: OcspResult;
  expires: number;
}

interface ResponderState {
  failures: number;
  until: number;
  reason: string;
}

const MAX_BACKOFF_MS = 600_000;

/** An http(s) URL, or null. */
export function httpUrl(text: string): URL | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
}

function bump(map: Map<string, unknown>, max: number): void {
  if (map.size >= max) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}

export class OcspChecker {
  readonly stats: OcspStats = { requests: 0, cacheHits: 0, outcomes: {}, timedOut: [] };
  private readonly issuers: CrlIssuerSource | null;
  private readonly o: Required<Omit<OcspOptions, 'responderOverride' | 'now'>> & { responderOverride: string | null };
  private readonly now: () => number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly resolved = new Map<string, Resolved>();
  private readonly inflight = new Map<string, Promise<OcspResult>>();
  private readonly responders = new Map<string, ResponderState>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  /** Budget accounting: time during which at least one request was outstanding. */
  private spentMs = 0;
  private busySince = 0;

  constructor(issuers: CrlIssuerSource | null, options: OcspOptions = {}) {
    this.issuers = issuers;
    this.now = options.now ?? Date.now;
    this.o = {
      timeoutMs: options.timeoutMs ?? 2000,
      cacheSize: options.cacheSize ?? 10_000,
      responderOverride: options.responderOverride ?? null,
      nonce: options.nonce ?? true,
      concurrency: Math.max(1, options.concurrency ?? 8),
      budgetMs: options.budgetMs ?? 120_000,
      negativeTtlMs: options.negativeTtlMs ?? 60_000,
      noNextUpdateTtlMs: options.noNextUpdateTtlMs ?? 300_000,
      backoffMs: options.backoffMs ?? 60_000,
      toleranceMs: options.toleranceMs ?? 300_000,
      maxAgeMs: options.maxAgeMs ?? 7 * 86_400_000,
      maxResponseBytes: options.maxResponseBytes ?? 1_048_576,
    };
    if (this.o.responderOverride !== null && httpUrl(this.o.responderOverride) === null) {
      throw new TypeError(`OCSP responder override must be an http(s) URL, got "${this.o.responderOverride}"`);
    }
  }

  /**
   * The OCSP answer for one certificate: synchronously when it is cached or no lookup is possible,
   * else a promise (never rejected: failures are `unknown` results).
   */
  check(target: OcspTarget): OcspResult | Promise<OcspResult> {
    const r = this.resolve(target);
    if (r.immediate) return r.immediate;
    const key = r.key as string;
    const cached = this.cache.get(key);
    if (cached && cached.expires > this.now()) {
      this.stats.cacheHits++;
      return cached.result;
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.stats.cacheHits++;
      return pending;
    }
    const p = this.lookup(r, target.at).then((result) => {
      this.inflight.delete(key);
      this.count(result);
      bump(this.cache, this.o.cacheSize);
      this.cache.delete(key);
      this.cache.set(key, { result, expires: this.expiry(result) });
      return result;
    });
    this.inflight.set(key, p);
    return p;
  }

  /**
   * Check the certificates of a batch of enriched events concurrently and merge each answer into
   * `event.enrichment.revocation` (see mergeRevocation). Only authentication events with a
   * client certificate are looked up.
   */
  async enrichEvents(
    items: readonly { event: NormalizedEvent; client: ParsedCertificate | null; chain: readonly ParsedCertificate[] }[],
  ): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const item of items) {
      const e = item.event;
      if (e.kind !== 'authentication' || e.certificate === null) continue;
      const r = this.check({ cert: e.certificate, leaf: item.client, chain: item.chain, at: e.ts });
      if (r instanceof Promise) {
        waits.push(
          r.then((res) => {
            e.enrichment.revocation = mergeRevocation(e.enrichment.revocation, res);
          }),
        );
      } else {
        e.enrichment.revocation = mergeRevocation(e.enrichment.revocation, r);
      }
    }
    if (waits.length > 0) await Promise.all(waits);
  }

  private count(result: OcspResult): void {
    const k = result.status === 'unknown' ? `unknown:${result.unknown_reason}` : result.status;
    this.stats.outcomes[k] = (this.stats.outcomes[k] ?? 0) + 1;
  }

  private expiry(result: OcspResult): number {
    const now = this.now();
    if (result.status === 'unknown') return now + this.o.negativeTtlMs;
    if (result.next_update) return Date.parse(result.next_update);
    return now + this.o.noNextUpdateTtlMs;
  }

  /** Issuer, CertID and URL for a target (memoised per leaf + presented chain). */
  private resolve(t: OcspTarget): Resolved {
    let memoKey: string;
    if (t.leaf) {
      memoKey = t.leaf.info.sha256 as string;
      for (const c of t.chain) memoKey += `|${c.info.sha256}`;
    } else {
      memoKey = `logged|${t.cert.issuer ?? ''}|${t.cert.serial ?? ''}`;
    }
    let r = this.resolved.get(memoKey);
    if (!r) {
      r = this.resolveFresh(t);
      if (r.immediate) this.count(r.immediate);
      bump(this.resolved, this.o.cacheSize);
      this.resolved.set(memoKey, r);
    }
    return r;
  }

  private resolveFresh(t: OcspTarget): Resolved {
    const none = (reason: string, detail: string, url: string | null = null): Resolved => ({
      key: null,
      url,
      certId: null,
      issuer: null,
      immediate: unknownResult(reason, detail, url),
    });
    let url = this.o.responderOverride;
    if (url === null) {
      const urls = t.leaf ? ocspUrls(t.leaf.der) : [];
      if (urls.length === 0) {
        return none(
          'no-aia',
          t.leaf
            ? 'the certificate names no OCSP responder (AIA)'
            : 'no certificate bytes, so no AIA OCSP URL (set a responder override)',
        );
      }
      url = urls.find((u) => httpUrl(u) !== null) ?? null;
      if (url === null)
        return none('unsupported-url', `only http(s) responders are asked; the certificate names ${urls.join(', ')}`);
    }
    const issuer = this.findIssuer(t);
    if (!issuer) {
      return none(
        'no-issuer',
        `issuer certificate "${t.cert.issuer ?? '?'}" is neither in the presented chain nor among the trust anchors`,
        url,
      );
    }
    let certId: CertIdInput;
    try {
      if (t.leaf) certId = certIdFromDer(t.leaf.der, issuer.spki);
      else if (t.cert.serial && !t.cert.serial.startsWith('-')) certId = certIdFromSerial(t.cert.serial, issuer.der, issuer.spki);
      else return none('no-serial', 'the certificate has no usable serial number', url);
    } catch (err) {
      return none('malformed', `cannot build the OCSP CertID: ${(err as Error).message}`, url);
    }
    const key = `${createHash('sha1').update(publicKeyBits(issuer.spki)).digest('hex')}|${certId.serial.toString('hex')}`;
    return { key, url, certId, issuer, immediate: null };
  }

  /** The issuer: a presented intermediate or trust anchor whose signature on the leaf verifies. */
  private findIssuer(t: OcspTarget): ParsedCertificate | null {
    if (t.leaf) {
      const leaf = t.leaf;
      for (const c of t.chain) if (isIssuedBy(leaf, c) === true) return c;
      for (const c of this.issuers?.issuersNamed(leaf.issuerDn) ?? []) if (isIssuedBy(leaf, c) === true) return c;
      return null;
    }
    // Logged fields only: the signature cannot be checked; a unique anchor of that name is used.
    if (!t.cert.issuer) return null;
    const named = this.issuers?.issuersNamed(t.cert.issuer) ?? [];
    return named.length === 1 ? named[0] : null;
  }

  private async lookup(r: Resolved, at: number): Promise<OcspResult> {
    const url = r.url as string;
    await this.slot();
    try {
      const down = this.responders.get(url);
      if (down && down.until > this.now()) {
        return unknownResult(
          down.reason,
          `responder failed earlier (${down.reason}); not asked again until ${new Date(down.until).toISOString()}`,
          url,
        );
      }
      if (this.spent() >= this.o.budgetMs) {
        return unknownResult(
          'budget-exhausted',
          `the run already waited ${Math.round(this.spent() / 1000)} s on OCSP (budget ${this.o.budgetMs / 1000} s); no further requests`,
          url,
        );
      }
      const result = await this.request(r, url, at);
      if (result.status === 'unknown' && (result.unknown_reason === 'timeout' || result.unknown_reason === 'network-error')) {
        const failures = (down?.failures ?? 0) + 1;
        const wait = Math.min(this.o.backoffMs * 2 ** (failures - 1), MAX_BACKOFF_MS);
        this.responders.set(url, { failures, until: this.now() + wait, reason: result.unknown_reason });
        if (result.unknown_reason === 'timeout' && !this.stats.timedOut.includes(url)) this.stats.timedOut.push(url);
      } else if (down) {
        this.responders.delete(url);
      }
      return result;
    } finally {
      this.release();
    }
  }

  private spent(): number {
    return this.spentMs + (this.active > 0 ? performance.now() - this.busySince : 0);
  }

  /** Take a request slot; a released slot is handed straight to the next waiter. */
  private async slot(): Promise<void> {
    if (this.active < this.o.concurrency) {
      if (this.active === 0) this.busySince = performance.now();
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) {
      next();
      return;
    }
    this.active--;
    if (this.active === 0) this.spentMs += performance.now() - this.busySince;
  }

  private async request(r: Resolved, url: string, at: number): Promise<OcspResult> {
    const nonce = this.o.nonce ? randomBytes(16) : null;
    const body = buildRequest(r.certId as CertIdInput, nonce);
    this.stats.requests++;
    let bytes: Uint8Array;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
        body: new Uint8Array(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        return unknownResult('http-error', `responder answered HTTP ${res.status}`, url);
      }
      const read = await readLimited(res, this.o.maxResponseBytes);
      if (read === null) return unknownResult('malformed', `response larger than ${this.o.maxResponseBytes} bytes`, url);
      bytes = read;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError')
        return unknownResult('timeout', `no answer within ${this.o.timeoutMs} ms`, url);
      return unknownResult('network-error', `cannot reach the responder: ${e.cause?.code ?? e.cause?.message ?? e.message}`, url);
    }
    return evaluateResponse(bytes, {
      certId: r.certId as CertIdInput,
      issuer: r.issuer as ParsedCertificate,
      nonce,
      now: this.now(),
      at,
      toleranceMs: this.o.toleranceMs,
      maxAgeMs: this.o.maxAgeMs,
      url,
    });
  }
}

/** The body, or null when it exceeds `max` bytes. */
async function readLimited(res: Response, max: number): Promise<Uint8Array | null> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {});
    return null;
  }
  if (!res.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += chunk.byteLength;
    if (total > max) return null;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
