// End to end with a real nginx: mutual TLS terminated by nginx (three servers: ssl_verify_client
// optional, optional_no_ca and on), the documented JSON log_format, real certificates from
// tests/helpers/pki.ts, requests from node's https client; then `certsignal analyze` and
// `certsignal normalize` over the access log nginx wrote. Skipped when nginx is not installed,
// except under CI=true, where a missing nginx fails (CI installs it: .ci/run).

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseAlerts, parseLines, runCli } from '../../helpers/cli.ts';
import { createRootCA, createSelfSignedLeaf, type TestCA, type TestCert } from '../../helpers/pki.ts';
import { findNginx, freePort, get, keyPem, startNginx, type VerifyMode, writeConfig } from './harness.ts';

const NGINX = findNginx();
if (NGINX === null && process.env.CI === 'true') throw new Error('nginx is not installed, and CI=true requires it (see .ci/run)');
const skip = NGINX === null ? 'nginx is not installed (apt-get install -y --no-install-recommends nginx)' : false;

const sha256 = (c: TestCert) => createHash('sha256').update(c.der).digest('hex');

interface Fixture {
  dir: string;
  ca: TestCA;
  alice1: TestCert;
  alice2: TestCert;
  mallory: TestCert;
  /** Status nginx answered to each request, in order. */
  statuses: number[];
}

let nginx: ChildProcess | null = null;
let fx: Fixture;

before(async () => {
  if (NGINX === null) return;
  const dir = mkdtempSync(join(tmpdir(), 'certsignal-nginx-'));
  const ca = await createRootCA('CN=Gateway Test CA, O=certsignal tests');
  const server = await ca.issue({ subject: 'CN=gw.test', dns: ['gw.test'], eku: ['1.3.6.1.5.5.7.3.1'] });
  // Two certificates for one account (a renewal, or a second device): same e-mail SAN.
  const alice1 = await ca.issue({ subject: 'CN=alice, O=Example', email: ['alice@example.test'] });
  const alice2 = await ca.issue({ subject: 'CN=alice, O=Example', email: ['alice@example.test'] });
  const mallory = await createSelfSignedLeaf({ subject: 'CN=mallory, O=Example', email: ['mallory@example.test'] });
  writeFileSync(join(dir, 'ca.pem'), ca.cert.pem);
  writeFileSync(join(dir, 'server.pem'), server.pem);
  writeFileSync(join(dir, 'server.key'), keyPem(server), { mode: 0o600 });
  const ports: Record<VerifyMode, number> = {
    optional: await freePort(),
    optional_no_ca: await freePort(),
    on: await freePort(),
  };
  writeConfig(dir, ports);
  nginx = await startNginx(NGINX, dir, Object.values(ports));

  const ca_ = ca.cert.pem;
  const as = (c: TestCert) => ({ cert: c.pem, key: keyPem(c) });
  const statuses: number[] = [];
  statuses.push(await get(ports.optional, '/', ca_, as(alice1))); // 1: SUCCESS, 200
  statuses.push(await get(ports.optional, '/', ca_, as(alice2))); // 2: SUCCESS, 200
  statuses.push(await get(ports.optional, '/', ca_, as(mallory))); // 3: FAILED, nginx refuses (400)
  statuses.push(await get(ports.optional_no_ca, '/', ca_, as(mallory))); // 4: FAILED, served (200)
  statuses.push(await get(ports.optional, '/', ca_)); // 5: NONE, 200
  statuses.push(await get(ports.optional, '/denied', ca_, as(alice1))); // 6: SUCCESS, 403
  statuses.push(await get(ports.on, '/', ca_)); // 7: NONE, required → 400
  statuses.push(await get(ports.on, '/', ca_, as(alice1))); // 8: SUCCESS, 200
  // Stop nginx so the access log is complete and flushed before certsignal reads it.
  await stopNginx();
  fx = { dir, ca, alice1, alice2, mallory, statuses };
});

async function stopNginx(): Promise<void> {
  const child = nginx;
  nginx = null;
  if (child === null || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGQUIT'); // graceful: workers finish and close the log
  await exited;
}

after(async () => {
  await stopNginx();
  if (fx?.dir) rmSync(fx.dir, { recursive: true, force: true });
});

test('nginx served the requests as configured (optional, optional_no_ca, on)', { skip }, () => {
  assert.deepEqual(fx.statuses, [200, 200, 400, 200, 200, 403, 400, 200]);
  const lines = readFileSync(join(fx.dir, 'access.log'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 8);
});

test('normalize: every line an event, SHA-256 from the escaped PEM, account derived from the certificate', { skip }, async () => {
  const log = join(fx.dir, 'access.log');
  const r = await runCli(['normalize', '--output', 'json', log]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /\berror:/);
  const events = parseLines<{
    source: { format: string; line: number };
    outcome: string;
    user: string | null;
    user_from: string | null;
    certificate: { sha256: string; source: string; subject: string; self_signed: boolean } | null;
    certificate_visibility: string;
    tls: { version: string | null; client_verify?: string };
    bytes: number | null;
    service: string | null;
  }>(r.stdout);
  assert.equal(events.length, 8);
  assert.ok(events.every((e) => e.source.format === 'nginx'));
  assert.deepEqual(
    events.map((e) => e.certificate?.sha256 ?? null),
    [
      sha256(fx.alice1),
      sha256(fx.alice2),
      sha256(fx.mallory),
      sha256(fx.mallory),
      null,
      sha256(fx.alice1),
      null,
      sha256(fx.alice1),
    ],
  );
  assert.ok(events.every((e) => e.certificate === null || e.certificate.source === 'der'));
  assert.deepEqual(
    events.map((e) => e.user),
    [
      'alice@example.test',
      'alice@example.test',
      'mallory@example.test',
      'mallory@example.test',
      null,
      'alice@example.test',
      null,
      'alice@example.test',
    ],
  );
  assert.ok(events.every((e) => e.user === null || e.user_from === 'certificate'));
  assert.deepEqual(
    events.map((e) => e.outcome),
    ['success', 'success', 'failure', 'success', 'success', 'failure', 'unknown', 'success'],
  );
  assert.deepEqual(
    events.map((e) => e.certificate_visibility),
    ['present', 'present', 'present', 'present', 'absent', 'present', 'absent', 'present'],
  );
  assert.match(events[2].tls.client_verify ?? '', /^FAILED:/);
  assert.equal(events[3].tls.client_verify, events[2].tls.client_verify);
  assert.equal(events[0].tls.client_verify, 'SUCCESS');
  // The subject parsed from the PEM is the one nginx printed in $ssl_client_s_dn (RFC 4514).
  const logged = JSON.parse(readFileSync(log, 'utf8').split('\n')[0]) as { ssl_client_s_dn: string };
  assert.equal(events[0].certificate?.subject, logged.ssl_client_s_dn);
  assert.match(logged.ssl_client_s_dn, /CN=alice/);
  assert.equal(events[0].service, 'gw.test');
  assert.ok((events[0].bytes ?? 0) > 0);
  // TLS 1.3 only (harness.ts): a passive sensor could not see these certificates; the gateway logs them.
  assert.ok(events.every((e) => e.tls.version === 'TLS 1.3'));
});

test('analyze --trust-anchors: no error diagnostics, untrusted-issuer for the self-signed certificate only', {
  skip,
}, async () => {
  const log = join(fx.dir, 'access.log');
  const r = await runCli(['analyze', '--trust-anchors', join(fx.dir, 'ca.pem'), '--output', 'json', log]);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\berror:/, r.stderr);
  const alerts = parseAlerts<{
    rule: string;
    cert_sha256: string | null;
    user: string | null;
    evidence: Record<string, unknown>;
  }>(r.stdout);
  const untrusted = alerts.filter((a) => a.rule === 'untrusted-issuer');
  assert.equal(untrusted.length, 1, JSON.stringify(alerts));
  assert.equal(untrusted[0].cert_sha256, sha256(fx.mallory));
  // nginx's own verdict on the certificate it served anyway travels with the alert.
  assert.match(String(untrusted[0].evidence.gateway_verify), /^FAILED:.*self[- ]signed/i);
  assert.equal(untrusted[0].user, 'mallory@example.test');
  // The CA-issued certificates chain to the anchor: no alert of any rule names them as untrusted.
  for (const c of [fx.alice1, fx.alice2]) assert.ok(!untrusted.some((a) => a.cert_sha256 === sha256(c)));
});
