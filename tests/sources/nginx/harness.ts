// Test harness: a real nginx (no daemon, everything inside one temp dir) terminating mutual TLS
// with certificates from tests/helpers/pki.ts, logging with the recommended JSON log_format that
// docs/formats.md documents (read from the doc itself, so the documented block is what is tested).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import type { TestCert } from '../../helpers/pki.ts';

/**
 * The nginx binary (Debian installs it in /usr/sbin, often not on a non-root PATH), or null.
 * CERTSIGNAL_TEST_NGINX names one binary to use instead (a custom build; a bad path = none).
 */
export function findNginx(): string | null {
  const forced = process.env.CERTSIGNAL_TEST_NGINX;
  if (forced !== undefined) return existsSync(forced) && spawnSync(forced, ['-v']).status === 0 ? forced : null;
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'])) {
    if (!dir) continue;
    const p = join(dir, 'nginx');
    if (existsSync(p) && spawnSync(p, ['-v']).status === 0) return p;
  }
  return null;
}

/** The `log_format certsignal …;` block of docs/formats.md, verbatim. */
export function documentedLogFormat(): string {
  const doc = readFileSync(new URL('../../../docs/formats.md', import.meta.url), 'utf8');
  const m = /```nginx\n(log_format certsignal[\s\S]*?;)\n```/.exec(doc);
  if (!m) throw new Error('docs/formats.md has no ```nginx block starting with `log_format certsignal`');
  return m[1];
}

/** A free 127.0.0.1 TCP port (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** PKCS#8 PEM of a test certificate's private key. */
export function keyPem(c: TestCert): string {
  return KeyObject.from(c.keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
}

export type VerifyMode = 'on' | 'optional' | 'optional_no_ca';

/** Writes nginx.conf into `dir`: one server per verify mode, `/denied` answers 403. */
export function writeConfig(dir: string, ports: Record<VerifyMode, number>): void {
  const servers = (Object.keys(ports) as VerifyMode[])
    .map(
      (mode) => `
    server {
        listen 127.0.0.1:${ports[mode]} ssl;
        server_name gw.test;
        ssl_certificate ${dir}/server.pem;
        ssl_certificate_key ${dir}/server.key;
        ssl_client_certificate ${dir}/ca.pem;
        ssl_verify_client ${mode};
        # TLS 1.3 encrypts the client certificate on the wire; the gateway still logs it.
        ssl_protocols TLSv1.3;
        access_log ${dir}/access.log certsignal;
        location / { return 200 "ok\\n"; }
        location /denied { return 403; }
    }`,
    )
    .join('\n');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
worker_processes 1;
events { worker_connections 64; }
http {
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    ${documentedLogFormat()}
${servers}
}
`,
  );
}

/** Starts nginx in the foreground; resolves once every port accepts connections. */
export async function startNginx(bin: string, dir: string, ports: number[]): Promise<ChildProcess> {
  const child = spawn(bin, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`nginx exited (${code}): ${stderr}`))),
  );
  for (const port of ports) await Promise.race([waitForPort(port), exited]);
  return child;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** One HTTPS GET through a fresh connection (no session reuse); resolves with the status. */
export function get(port: number, path: string, ca: string, client?: { cert: string; key: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername: 'gw.test', ca, agent: false, ...(client ?? {}) }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}
