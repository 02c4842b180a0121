// A real OCSP test bed: a CA, leaves whose AIA names a local OCSP URL, a delegated OCSP signer and
// an unrelated ("rogue") signer, all made with the openssl CLI, plus `openssl ocsp` run as a
// responder over an OpenSSL CA database (index.txt). Nothing is mocked: requests go over TCP to a
// real responder, which signs real responses.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `openssl version` output, or null when openssl is not installed. */
export function opensslVersion(): string | null {
  try {
    return execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/**
 * Skip reason for tests that need the openssl CLI: false (run) when it is present; a reason when
 * absent. Under CI=true a missing openssl fails the test instead of skipping it.
 */
export function opensslSkip(): string | false {
  if (opensslVersion() !== null) return false;
  if (process.env.CI === 'true') throw new Error('openssl CLI is required in CI for the OCSP tests');
  return 'openssl CLI not installed';
}

/** A TCP port nothing listens on right now (bound then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface OcspLeaf {
  name: string;
  /** Serial as written (uppercase hex). */
  serialHex: string;
  /** Canonical serial (lowercase, no leading zeros), as certsignal prints it. */
  serial: string;
  pem: string;
  subject: string;
}

function openssl(cwd: string, args: string[]): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** OpenSSL CA database time: YYMMDDHHMMSSZ. */
function dbTime(d: Date): string {
  return `${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`;
}

export class OcspPki {
  readonly dir: string;
  readonly caPem: string;
  readonly caSubject = '/CN=OCSP Test CA/O=certsignal tests';
  private readonly leaves = new Map<string, OcspLeaf>();
  private readonly revoked = new Map<string, { at: Date; reason: string | null }>();

  private constructor(dir: string) {
    this.dir = dir;
    openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[req]',
        'distinguished_name = dn',
        '[dn]',
        '[v3_ca]',
        'basicConstraints = critical,CA:true',
        'keyUsage = critical,keyCertSign,cRLSign',
        'subjectKeyIdentifier = hash',
        '',
      ].join('\n'),
    );
    openssl(dir, [
      'req',
      '-new',
      '-x509',
      '-key',
      'ca.key',
      '-subj',
      this.caSubject,
      '-days',
      '3650',
      '-config',
      'ca.cnf',
      '-extensions',
      'v3_ca',
      '-set_serial',
      '1',
      '-out',
      'ca.pem',
    ]);
    this.caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'index.txt.attr'), 'unique_subject = no\n');
  }

  /** A fresh CA in a temporary directory. */
  static create(): OcspPki {
    return new OcspPki(mkdtempSync(join(tmpdir(), 'certsignal-ocsp-')));
  }

  /**
   * Issue a leaf signed by the CA. `ocspUrl` goes in its AIA (omitted: no AIA extension).
   * `eku` defaults to clientAuth; `OCSPSigning` makes a delegated responder certificate.
   */
  issue(name: string, serialHex: string, o: { ocspUrl?: string; eku?: string; inIndex?: boolean } = {}): OcspLeaf {
    const subject = `/CN=${name}/O=certsignal tests`;
    openssl(this.dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
    openssl(this.dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
    const ext = [
      'basicConstraints = critical,CA:false',
      'keyUsage = critical,digitalSignature',
      `extendedKeyUsage = ${o.eku ?? 'clientAuth'}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
    ];
    if (o.ocspUrl) ext.push(`authorityInfoAccess = OCSP;URI:${o.ocspUrl}`);
    writeFileSync(join(this.dir, `${name}.ext`), `${ext.join('\n')}\n`);
    openssl(this.dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${serialHex}`,
      '-days',
      '365',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ]);
    const leaf: OcspLeaf = {
      name,
      serialHex: serialHex.toUpperCase(),
      serial: serialHex.toLowerCase().replace(/^0+(?=.)/, ''),
      pem: readFileSync(join(this.dir, `${name}.pem`), 'utf8'),
      subject,
    };
    if (o.inIndex !== false) this.leaves.set(name, leaf);
    this.writeIndex();
    return leaf;
  }

  /** Mark a leaf revoked in the CA database (`reason`: an OpenSSL CRL reason name such as keyCompromise). */
  revoke(name: string, at: Date, reason: string | null = 'keyCompromise'): void {
    this.revoked.set(name, { at, reason });
    this.writeIndex();
  }

  /** A self-signed signer whose key has nothing to do with the CA (for bad-signature cases). */
  rogueSigner(): { cert: string; key: string } {
    openssl(this.dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'rogue.key']);
    openssl(this.dir, [
      'req',
      '-new',
      '-x509',
      '-key',
      'rogue.key',
      '-subj',
      '/CN=Rogue Responder',
      '-days',
      '30',
      '-out',
      'rogue.pem',
    ]);
    return { cert: join(this.dir, 'rogue.pem'), key: join(this.dir, 'rogue.key') };
  }

  private writeIndex(): void {
    const expiry = dbTime(new Date(Date.now() + 365 * 86_400_000));
    const lines: string[] = [];
    for (const leaf of this.leaves.values()) {
      const r = this.revoked.get(leaf.name);
      const revField = r ? `${dbTime(r.at)}${r.reason ? `,${r.reason}` : ''}` : '';
      lines.push([r ? 'R' : 'V', expiry, revField, leaf.serialHex, 'unknown', leaf.subject].join('\t'));
    }
    writeFileSync(join(this.dir, 'index.txt'), lines.length ? `${lines.join('\n')}\n` : '');
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Responder {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/**
 * Start `openssl ocsp` as a responder on a free port, signing with `signer`/`key` (default: the
 * CA itself), and wait until it answers TCP connections.
 */
export async function startOpensslResponder(
  pki: OcspPki,
  o: { signer?: string; key?: string; port?: number; nmin?: number } = {},
): Promise<Responder> {
  const port = o.port ?? (await freePort());
  const args = [
    'ocsp',
    '-index',
    pki.path('index.txt'),
    '-port',
    String(port),
    '-rsigner',
    o.signer ?? pki.path('ca.pem'),
    '-rkey',
    o.key ?? pki.path('ca.key'),
    '-CA',
    pki.path('ca.pem'),
    '-ignore_err',
  ];
  if (o.nmin !== undefined) args.push('-nmin', String(o.nmin));
  const child: ChildProcess = spawn('openssl', args, { cwd: pki.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Wait for the banner rather than probing with a connection: the responder is single-threaded
  // and a probe connection would occupy it.
  const deadline = Date.now() + 10_000;
  while (!stderr.includes('waiting for OCSP client connections')) {
    if (child.exitCode !== null) throw new Error(`openssl ocsp exited early: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`openssl ocsp did not start on ${port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    async stop() {
      if (child.exitCode === null) {
        child.kill();
        await exited;
      }
    },
  };
}

/**
 * A TCP server that accepts connections and never answers (a hung responder). `connections`
 * counts accepted connections.
 */
export async function startHangingServer(): Promise<{
  port: number;
  url: string;
  connections: () => number;
  stop(): Promise<void>;
}> {
  let count = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    connections: () => count,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * An HTTP proxy in front of a responder that counts the OCSP requests it forwards (cache tests
 * count what actually reached the network).
 */
export async function startCountingProxy(
  target: string,
): Promise<{ url: string; requests: () => number; stop(): Promise<void> }> {
  const { createServer: createHttpServer } = await import('node:http');
  let count = 0;
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', async () => {
      count++;
      try {
        const upstream = await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/ocsp-request' },
          body: Buffer.concat(chunks),
        });
        const body = Buffer.from(await upstream.arrayBuffer());
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream' });
        res.end(body);
      } catch {
        res.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests: () => count,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
