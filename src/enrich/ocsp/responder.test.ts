// OcspChecker against real responders: `openssl ocsp` over an OpenSSL CA database (signing as the
// CA, as a delegated OCSP signer, and as an unrelated key), a port nothing listens on, a server
// that never answers, and servers that answer HTTP errors or garbage.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  freePort,
  type OcspLeaf,
  OcspPki,
  opensslSkip,
  type Responder,
  startCountingProxy,
  startHangingServer,
  startOpensslResponder,
} from '../../../tests/helpers/ocsp-pki.ts';
import { type ParsedCertificate, parseCertificate } from '../../normalize/certificate.ts';
import { TrustStore } from '../trust.ts';
import { ocspUrls } from './certid.ts';
import { OcspChecker, type OcspOptions } from './checker.ts';

const skip = opensslSkip();

describe('OCSP against real responders', { skip }, () => {
  let pki: OcspPki;
  let ca: ParsedCertificate;
  let anchors: TrustStore;
  let url: string;
  let main: Responder;
  let delegated: Responder;
  let rogue: Responder;
  const leaves: Record<string, OcspLeaf> = {};
  const parsed = (name: string) => parseCertificate(leaves[name].pem);
  const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
  const target = (name: string, o: { chain?: ParsedCertificate[] } = {}) => ({
    cert: parsed(name).info,
    leaf: parsed(name),
    chain: o.chain ?? [],
    at: Date.now(),
  });
  const checker = (o: OcspOptions = {}, issuers: TrustStore | null = anchors) => new OcspChecker(issuers, o);

  before(async () => {
    pki = OcspPki.create();
    ca = parseCertificate(pki.caPem);
    anchors = new TrustStore([ca]);
    const port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    leaves.good = pki.issue('good', '1A01', { ocspUrl: url });
    leaves.revoked = pki.issue('revoked', '1A02', { ocspUrl: url });
    leaves.stranger = pki.issue('stranger', '1A03', { ocspUrl: url, inIndex: false });
    leaves.noaia = pki.issue('noaia', '1A04');
    leaves.ldap = pki.issue('ldap', '1A05', { ocspUrl: 'ldap://ldap.example/ocsp' });
    leaves.good2 = pki.issue('good2', '1A06', { ocspUrl: url });
    leaves.good3 = pki.issue('good3', '9A07', { ocspUrl: url });
    pki.issue('responder', 'D0', { eku: 'OCSPSigning', inIndex: false });
    pki.revoke('revoked', revokedAt, 'keyCompromise');
    main = await startOpensslResponder(pki, { port, nmin: 5 });
    delegated = await startOpensslResponder(pki, { signer: pki.path('responder.pem'), key: pki.path('responder.key'), nmin: 5 });
    const r = pki.rogueSigner();
    rogue = await startOpensslResponder(pki, { signer: r.cert, key: r.key, nmin: 5 });
  });

  after(async () => {
    await Promise.all([main?.stop(), delegated?.stop(), rogue?.stop()]);
    pki?.cleanup();
  });

  it('reads the OCSP URL from the certificate AIA', () => {
    assert.deepEqual(ocspUrls(parsed('good').der), [url]);
    assert.deepEqual(ocspUrls(parsed('noaia').der), []);
    assert.deepEqual(ocspUrls(ca.der), []);
  });

  it('good: signed by the issuer, fresh, for this serial', async () => {
    const c = checker();
    const r = await c.check(target('good'));
    assert.equal(r.status, 'good', r.detail ?? '');
    assert.equal(r.responder_url, url);
    assert.ok(r.produced_at && r.this_update && r.next_update);
    assert.ok(Date.parse(r.next_update as string) > Date.parse(r.this_update as string));
    assert.equal(c.stats.requests, 1);
    assert.deepEqual(c.stats.outcomes, { good: 1 });
  });

  it('revoked: revocation time and reason from the CA database', async () => {
    const r = await checker().check(target('revoked'));
    assert.equal(r.status, 'revoked');
    assert.equal(r.revoked_at, revokedAt.toISOString());
    assert.equal(r.revocation_reason, 'keyCompromise');
  });

  it('a serial the responder does not know is unknown (cert-unknown), never good', async () => {
    const r = await checker().check(target('stranger'));
    assert.equal(r.status, 'unknown');
    assert.equal(r.unknown_reason, 'cert-unknown');
  });

  it('the issuer may come from the presented chain instead of the trust anchors', async () => {
    assert.equal((await checker({}, null).check(target('good', { chain: [ca] }))).status, 'good');
    const none = checker({}, new TrustStore([]));
    const r = await none.check(target('good'));
    assert.equal(r.status, 'unknown');
    assert.equal(r.unknown_reason, 'no-issuer');
    assert.equal(none.stats.requests, 0);
  });

  it('no AIA and non-http AIA URLs make no request', async () => {
    const c = checker();
    assert.equal((await c.check(target('noaia'))).unknown_reason, 'no-aia');
    assert.equal((await c.check(target('ldap'))).unknown_reason, 'unsupported-url');
    assert.equal(c.stats.requests, 0);
  });

  it('a delegated responder certificate (id-kp-OCSPSigning, issued by the CA) is accepted', async () => {
    const r = await checker({ responderOverride: delegated.url }).check(target('revoked'));
    assert.equal(r.status, 'revoked');
    assert.equal(r.responder_url, delegated.url);
  });

  it('a response signed by an unrelated key is unknown (bad-signature)', async () => {
    const r = await checker({ responderOverride: rogue.url }).check(target('good'));
    assert.equal(r.status, 'unknown');
    assert.equal(r.unknown_reason, 'bad-signature');
    assert.match(r.detail ?? '', /Rogue Responder/);
  });

  it('a certificate the CA issued without id-kp-OCSPSigning may not sign responses', async () => {
    const wrong = await startOpensslResponder(pki, { signer: pki.path('good.pem'), key: pki.path('good.key') });
    try {
      const r = await checker({ responderOverride: wrong.url }).check(target('revoked'));
      assert.equal(r.unknown_reason, 'bad-signature');
      assert.match(r.detail ?? '', /OCSPSigning/);
    } finally {
      await wrong.stop();
    }
  });

  it("a replayed response (another request's nonce) is rejected; without a nonce it is accepted", async () => {
    let stored: Buffer | null = null;
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', async () => {
        if (!stored) {
          const up = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/ocsp-request' },
            body: Buffer.concat(chunks),
          });
          stored = Buffer.from(await up.arrayBuffer());
        }
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(stored);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const replay = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    try {
      assert.equal((await checker({ responderOverride: replay }).check(target('good'))).status, 'good');
      const r = await checker({ responderOverride: replay }).check(target('good'));
      assert.equal(r.unknown_reason, 'nonce-mismatch');
      assert.equal((await checker({ responderOverride: replay, nonce: false }).check(target('good'))).status, 'good');
      // The replayed answer is for another certificate: no CertID match, whatever the nonce.
      assert.equal(
        (await checker({ responderOverride: replay, nonce: false }).check(target('revoked'))).unknown_reason,
        'cert-id-mismatch',
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a second lookup of the same certificate is answered from the cache (one request on the wire)', async () => {
    const proxy = await startCountingProxy(url);
    try {
      const c = checker({ responderOverride: proxy.url });
      assert.equal((await c.check(target('good'))).status, 'good');
      const again = c.check(target('good'));
      assert.ok(!(again instanceof Promise), 'a cached answer is returned synchronously');
      assert.equal(again.status, 'good');
      // Two concurrent lookups of another certificate share one request.
      const [a, b] = await Promise.all([c.check(target('good2')), c.check(target('good2'))]);
      assert.equal(a.status, 'good');
      assert.equal(b, a);
      assert.equal(proxy.requests(), 2);
      assert.equal(c.stats.requests, 2);
      assert.equal(c.stats.cacheHits, 2);
    } finally {
      await proxy.stop();
    }
  });

  it('an expired answer (nextUpdate passed) is not reused: it is asked again and judged stale', async () => {
    let now = Date.now();
    const c = checker({ now: () => now });
    assert.equal((await c.check(target('good3'))).status, 'good');
    now += 86_400_000;
    // The cached answer expired at its nextUpdate; the responder's fresh answer is fine again.
    const fresh = await c.check({ ...target('good3'), at: Date.now() });
    assert.equal(c.stats.requests, 2);
    // The responder signs with the real clock, so a day ahead its nextUpdate has passed.
    assert.equal(fresh.status, 'unknown');
    assert.equal(fresh.unknown_reason, 'stale');
  });

  it('a responder that refuses connections is unknown quickly, then backed off (no second request)', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/`;
    const c = checker({ responderOverride: dead });
    const r = await c.check(target('good'));
    assert.equal(r.unknown_reason, 'network-error');
    const r2 = await c.check(target('revoked'));
    assert.equal(r2.unknown_reason, 'network-error');
    assert.match(r2.detail ?? '', /not asked again/);
    assert.equal(c.stats.requests, 1);
  });

  it('a responder that never answers times out once, then is backed off', async () => {
    const hang = await startHangingServer();
    try {
      const c = checker({ responderOverride: hang.url, timeoutMs: 300 });
      const [r1, r2] = [await c.check(target('good')), await c.check(target('revoked'))];
      assert.equal(r1.unknown_reason, 'timeout');
      assert.equal(r2.unknown_reason, 'timeout');
      assert.equal(hang.connections(), 1);
      assert.deepEqual(c.stats.timedOut, [hang.url]);
    } finally {
      await hang.stop();
    }
  });

  it('HTTP errors and non-OCSP bodies are unknown (http-error, malformed)', async () => {
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/500') res.writeHead(500).end('boom');
        else if (req.url === '/redirect') res.writeHead(302, { location: 'file:///etc/passwd' }).end();
        else res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end('this is not DER');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      assert.equal((await checker({ responderOverride: `${base}/500` }).check(target('good'))).unknown_reason, 'http-error');
      assert.equal((await checker({ responderOverride: `${base}/redirect` }).check(target('good'))).unknown_reason, 'http-error');
      assert.equal((await checker({ responderOverride: `${base}/junk` }).check(target('good'))).unknown_reason, 'malformed');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('once the time budget is spent, no request is made (budget-exhausted)', async () => {
    const c = checker({ budgetMs: 0 });
    const r = await c.check(target('good'));
    assert.equal(r.unknown_reason, 'budget-exhausted');
    assert.equal(c.stats.requests, 0);
  });

  it('works without a nonce, and for logged fields (serial + issuer name) with a responder override', async () => {
    assert.equal((await checker({ nonce: false }).check(target('revoked'))).status, 'revoked');
    const info = { ...parsed('revoked').info, source: 'logged' as const, sha256: null };
    const r = await checker({ responderOverride: url }).check({ cert: info, leaf: null, chain: [], at: Date.now() });
    assert.equal(r.status, 'revoked');
    const noOverride = await checker().check({ cert: info, leaf: null, chain: [], at: Date.now() });
    assert.equal(noOverride.unknown_reason, 'no-aia');
  });

  it('rejects a responder override that is not an http(s) URL', () => {
    assert.throws(() => checker({ responderOverride: 'file:///etc/passwd' }), /http\(s\) URL/);
  });
});
