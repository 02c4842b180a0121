// `certsignal demo`: analyze on the bundled sample data (examples/demo), so a new user sees every
// rule fire in one command.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CertsignalError } from '../errors.ts';
import { runAnalyze } from './analyze.ts';

export const DEMO_DIR = fileURLToPath(new URL('../../examples/demo/', import.meta.url));

export async function runDemo(opts: { output?: string; state?: string; failOn?: string; quiet?: boolean }): Promise<number> {
  const file = (name: string) => `${DEMO_DIR}${name}`;
  if (!existsSync(file('events.ndjson'))) {
    throw new CertsignalError('E_INPUT', `demo data not found in ${DEMO_DIR}`);
  }
  if (!opts.quiet) {
    process.stderr.write(
      `certsignal demo: analyzing ${file('events.ndjson')}\n` +
        '  with --assets assets.csv --identities identities.csv --trust-anchors trust-anchors.pem --crl corp.crl --config certsignal.yaml\n',
    );
  }
  return runAnalyze([file('events.ndjson')], {
    assets: file('assets.csv'),
    identities: file('identities.csv'),
    trustAnchors: file('trust-anchors.pem'),
    crl: [file('corp.crl')],
    config: file('certsignal.yaml'),
    output: opts.output,
    state: opts.state,
    failOn: opts.failOn,
    quiet: opts.quiet,
  });
}
