// `certsignal demo`: analyze on the bundled sample data (examples/demo), so a new user sees every
// rule fire in one command. The gateway events, the CA issuance log and the MDM enrollment log are
// analysed together, as an operator would pass them.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CertsignalError } from '../errors.ts';
import { runAnalyze } from './analyze.ts';

export const DEMO_DIR = fileURLToPath(new URL('../../examples/demo/', import.meta.url));

export async function runDemo(opts: {
  output?: string;
  state?: string;
  failOn?: string;
  quiet?: boolean;
  geoip?: string;
  ocsp?: boolean;
  ocspTimeout?: string;
}): Promise<number> {
  const file = (name: string) => `${DEMO_DIR}${name}`;
  if (!existsSync(file('events.ndjson'))) {
    throw new CertsignalError('E_INPUT', `demo data not found in ${DEMO_DIR}`);
  }
  if (!opts.quiet) {
    process.stderr.write(
      `certsignal demo: analyzing ${file('events.ndjson')} ${file('ca-issuance.csv')} ${file('mdm-enrollments.csv')}\n` +
        `  with --assets assets.csv --identities identities.csv --trust-anchors trust-anchors.pem --crl corp.crl --config certsignal.yaml${opts.geoip ? ` --geoip ${opts.geoip}` : ''}\n` +
        `  state: ${opts.state ?? 'a fresh SQLite file (use --state FILE to keep it)'}\n`,
    );
  }
  // The embedded default store (SQLite) in a fresh directory, so every demo run starts clean and
  // shows every alert; pass --state to keep it.
  const tempDir = opts.state ? null : mkdtempSync(join(tmpdir(), 'certsignal-demo-'));
  const state = opts.state ?? join(tempDir as string, 'state.sqlite');
  try {
    return await runAnalyze([file('events.ndjson'), file('ca-issuance.csv'), file('mdm-enrollments.csv')], {
      assets: file('assets.csv'),
      identities: file('identities.csv'),
      trustAnchors: file('trust-anchors.pem'),
      crl: [file('corp.crl')],
      geoip: opts.geoip,
      ocsp: opts.ocsp,
      ocspTimeout: opts.ocspTimeout,
      config: file('certsignal.yaml'),
      output: opts.output ?? 'table',
      state,
      failOn: opts.failOn,
      quiet: opts.quiet,
    });
  } finally {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}
