// Runs the real `certsignal` command in a child process (Node 24 from node_modules), as a user would.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** The bundled demo data, and the enrichment flags `certsignal demo` passes for it. */
export const DEMO = `${REPO}examples/demo/`;
export const DEMO_ARGS: readonly string[] = [
  '--assets',
  `${DEMO}assets.csv`,
  '--identities',
  `${DEMO}identities.csv`,
  '--trust-anchors',
  `${DEMO}trust-anchors.pem`,
  '--crl',
  `${DEMO}corp.crl`,
  '--config',
  `${DEMO}certsignal.yaml`,
];
export const NODE = `${REPO}node_modules/.bin/node`;
export const BIN = `${REPO}bin/certsignal.ts`;
export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { stdin?: string | Buffer; cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, ...args], {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    if (options.stdin !== undefined) child.stdin.end(options.stdin);
    else child.stdin.end();
  });
}

/** Parse NDJSON stdout; fails loudly on any non-JSON line (stdout must carry alerts only). */
export function parseLines<T = Record<string, unknown>>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

/** The alert records of `analyze --output json` stdout (incident records, `"type":"incident"`, follow them). */
export function parseAlerts<T = Record<string, unknown>>(stdout: string): T[] {
  return parseLines<Record<string, unknown>>(stdout).filter((r) => r.type !== 'incident') as T[];
}

/** The incident records of `analyze --output json` stdout. */
export function parseIncidents<T = Record<string, unknown>>(stdout: string): T[] {
  return parseLines<Record<string, unknown>>(stdout).filter((r) => r.type === 'incident') as T[];
}
