// End to end: `certsignal analyze --ocsp` (a real subprocess) over ECS NDJSON carrying client
// certificates whose AIA names a local `openssl ocsp` responder → one revoked-cert alert, for the
// revoked leaf only; the summary reports the OCSP requests and outcomes. Without --ocsp: no alert
// and no request.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parseLines, runCli } from '../../../tests/helpers/cli.ts';
import {
  freePort,
  type OcspLeaf,
  OcspPki,
  opensslSkip,
  type Responder,
  startCountingProxy,
  startOpensslResponder,
} from '../../../tests/helpers/ocsp-pki.ts';

const skip = opensslSkip();

describe('certsignal analyze --ocsp', { skip }, () => {
  let pki: OcspPki;
  let responder: Responder;
  let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
  let good: OcspLeaf;
  let revoked: OcspLeaf;
  let events: string;
  let anchors: string;

  before(async () => {
    pki = OcspPki.create();
    // The leaves' AIA names a counting proxy, which forwards to openssl ocsp. The responder starts
    // after the CA database is complete (it reloads index.txt only on a changed mtime, by the second).
    const port = await freePort();
    proxy = await startCountingProxy(`http://127.0.0.1:${port}/`);
    good = pki.issue('alice', '2B01', { ocspUrl: proxy.url });
    revoked = pki.issue('mallory', '2B02', { ocspUrl: proxy.url });
    pki.revoke('mallory', new Date(Date.now() - 2 * 86_400_000), 'keyCompromise');
    responder = await startOpensslResponder(pki, { port, nmin: 60 });
    const now = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < 20; i++) {
      const leaf = i % 4 === 3 ? revoked : good;
      lines.push(
        JSON.stringify({
          // After the certificates' notBefore (issued just now): a minute apart from now on.
          '@timestamp': new Date(now + (i + 1) * 60_000).toISOString(),
          event: { kind: 'event', category: ['authentication'], outcome: 'success' },
          user: { name: leaf.name },
          source: { ip: `10.0.0.${i + 1}` },
          service: { name: 'vpn' },
          tls: { client: { certificate: leaf.pem } },
        }),
      );
    }
    events = pki.path('events.ndjson');
    writeFileSync(events, `${lines.join('\n')}\n`);
    anchors = pki.path('ca.pem');
  });

  after(async () => {
    await proxy?.stop();
    await responder?.stop();
    pki?.cleanup();
  });

  it('raises revoked-cert for the OCSP-revoked leaf only, with the responder in the evidence', async () => {
    const before = proxy.requests();
    const r = await runCli(['analyze', events, '--trust-anchors', anchors, '--ocsp', '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    // stdout may also carry incident records after the alerts: alerts are the records with a rule.
    const alerts = parseLines<{ rule?: string; evidence: Record<string, unknown> }>(r.stdout).filter((a) => a.rule !== undefined);
    assert.deepEqual(
      alerts.map((a) => a.rule),
      ['revoked-cert'],
      r.stdout,
    );
    const ev = alerts[0].evidence;
    assert.equal(ev.serial, revoked.serial);
    assert.equal(ev.revocation_source, 'ocsp');
    assert.equal(ev.reason_code, 'keyCompromise');
    assert.equal((ev.ocsp as { responder_url: string }).responder_url, proxy.url);
    // One request per distinct certificate, whatever the number of events.
    assert.equal(proxy.requests() - before, 2);
    assert.match(r.stderr, /OCSP: 2 request\(s\), 18 cache hit\(s\); good 1, revoked 1, unknown 0/);
  });

  it('makes no request and raises nothing without --ocsp (off by default)', async () => {
    const before = proxy.requests();
    const r = await runCli(['analyze', events, '--trust-anchors', anchors, '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('revoked-cert'), r.stdout);
    assert.equal(proxy.requests(), before);
    assert.doesNotMatch(r.stderr, /OCSP:/);
  });

  it('normalize --ocsp shows the OCSP answer on each event', async () => {
    const r = await runCli(['normalize', events, '--trust-anchors', anchors, '--ocsp']);
    assert.equal(r.code, 0, r.stderr);
    const evs = parseLines<{
      certificate: { serial: string };
      enrichment: { revocation: { status: string; source?: string; ocsp?: { status: string; responder_url: string } } };
    }>(r.stdout);
    assert.equal(evs.length, 20);
    for (const e of evs) {
      const want = e.certificate.serial === revoked.serial ? 'revoked' : 'good';
      assert.equal(e.enrichment.revocation.status, want);
      assert.equal(e.enrichment.revocation.source, 'ocsp');
      assert.equal(e.enrichment.revocation.ocsp?.responder_url, proxy.url);
    }
  });

  it('rejects a bad --ocsp-timeout as a usage error', async () => {
    const r = await runCli(['analyze', events, '--ocsp', '--ocsp-timeout', 'soon']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--ocsp-timeout/);
  });
});
