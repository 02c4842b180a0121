// Argument parsing for the `certsignal` CLI: maps argv to command functions and returns an exit
// code. Only bin/certsignal.ts calls process.exit.
import { Command, CommanderError, Option } from 'commander';
import { CertsignalError, ExitCode } from '../errors.ts';
import { runAnalyze } from './analyze.ts';
import { runDemo } from './demo.ts';
import { runEval } from './eval.ts';
import { runFeedback, runRuleStats } from './feedback.ts';
import { runFormats, runRules } from './info.ts';
import { runNormalize } from './normalize.ts';
import { runPcap } from './pcap.ts';
import { runSimulate } from './simulate.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function inputOptions(cmd: Command): Command {
  return cmd
    .option('--format <id>', 'input format for all files (default: detected per file; see `certsignal formats`)')
    .option('--assets <csv>', 'asset registry CSV (device_id,owner,kind,hostname,os,enrolled_at)')
    .option('--identities <csv>', 'identity store CSV (user,kind,role,department,country,email)')
    .option('--trust-anchors <pem>', 'PEM bundle of the CAs this estate expects')
    .option('--crl <file>', 'CRL (DER or PEM), verified against the trust anchors; repeatable', collect)
    .option(
      '--ocsp',
      "ask each client certificate's OCSP responder (AIA URL) whether it is revoked: network calls, off by default (docs/ocsp.md)",
    )
    .option('--ocsp-timeout <ms>', 'OCSP per-request timeout in milliseconds (default 2000)')
    .option('--geoip <mmdb>', 'MaxMind-format City/Country database (GeoLite2, DB-IP Lite) locating events without source.geo')
    .option('--config <yaml>', 'certsignal.yaml (weights, thresholds, windows, allowlists)')
    .option('--set <key=value>', 'override one config key, e.g. rules.cert-churn.max_new_certs=5; repeatable', collect)
    .option('--max-line-bytes <n>', 'skip (and report) input lines longer than this (default 1048576)')
    .option('-q, --quiet', 'no summary or diagnostics on stderr')
    .option('--no-progress', 'no progress bar (it is only shown on a TTY anyway)');
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('certsignal')
    .description('Catch compromised accounts and devices from certificate-based authentication telemetry.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();

  inputOptions(
    program
      .command('analyze')
      .description(
        'detect certificate anomalies in logs and captures (ECS NDJSON, Zeek ssl/x509, Suricata eve.json, nginx and Envoy access logs, pcap/pcapng, CA logs: step-ca, Vault, AD CS, CSV; MDM enrollments; see `certsignal formats`; .gz ok; - = stdin for logs; several files are merged in time order)',
      )
      .argument('<files...>', 'input files'),
  )
    .addOption(
      new Option(
        '--output <mode>',
        'json (one alert per line, then one incident record per line) or table (alerts grouped by incident)',
      ).choices(['json', 'table']),
    )
    .option('--state <sqlite>', 'state file: baselines and emitted alerts persist across runs')
    .option('--pseudonymise', 'replace account, device and personal certificate-subject names in the output with keyed tokens')
    .option(
      '--pseudonymise-key-file <file>',
      'key for --pseudonymise (or set CERTSIGNAL_PSEUDONYMISE_KEY); implies --pseudonymise',
    )
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 if any alert or incident has at least this severity').choices([
        'low',
        'medium',
        'high',
        'critical',
      ]),
    )
    .action(async (files: string[], opts) => setExit(await runAnalyze(files, opts)));

  program
    .command('demo')
    .description('run analyze on the bundled sample data (examples/demo) and print the alerts')
    .addOption(new Option('--output <mode>', 'json or table').choices(['json', 'table']))
    .option('--state <sqlite>', 'state file')
    .option('--geoip <mmdb>', 'MaxMind-format City/Country database locating events without source.geo')
    .option('--ocsp', "also ask the certificates' OCSP responders (network calls; docs/ocsp.md)")
    .option('--ocsp-timeout <ms>', 'OCSP per-request timeout in milliseconds (default 2000)')
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 if any alert or incident has at least this severity').choices([
        'low',
        'medium',
        'high',
        'critical',
      ]),
    )
    .option('-q, --quiet', 'no summary on stderr')
    .action(async (opts) => setExit(await runDemo(opts)));

  inputOptions(
    program
      .command('normalize')
      .description('print the normalized events (what the rules see), one JSON object per line')
      .argument('<files...>', 'input files'),
  )
    .addOption(new Option('--output <mode>', 'json').choices(['json']))
    .action(async (files: string[], opts) => setExit(await runNormalize(files, opts)));

  program
    .command('pcap')
    .description('one record per TLS session of pcap/pcapng captures: JA4/JA3/JA3S, SNI, ALPN, versions, certificates')
    .argument('<files...>', 'capture files (.pcap, .pcapng; .gz ok)')
    .addOption(new Option('--output <mode>', 'json (one record per line) or table').choices(['json', 'table']))
    .option('--ja4plus', 'also compute JA4S and JA4X (FoxIO License 1.1: non-commercial use only)')
    .option('-q, --quiet', 'no summary or diagnostics on stderr')
    .option('--no-progress', 'no progress bar (it is only shown on a TTY anyway)')
    .action(async (files: string[], opts) => setExit(await runPcap(files, opts)));

  program
    .command('simulate')
    .description(
      'write a labelled fleet: days of mTLS telemetry with injected attacks and benign behaviour, enrichment files and labels.json',
    )
    .requiredOption('--out <dir>', 'directory to write (must be empty or absent unless --force)')
    .option('--days <n>', 'simulated days (default 14)')
    .option('--users <n>', 'accounts (default 200)')
    .option('--seed <seed>', 'seed: same seed, same fleet structure (default 1)')
    .option('--start <date>', 'first simulated day (ISO date)')
    .option('--formats <list>', 'ecs (always), zeek, suricata — comma-separated (default ecs)')
    .option('--attacks <list>', 'only these attack types (default all; see docs/simulate.md)')
    .option('--no-attacks', 'no attacks')
    .option('--benign <list>', 'only these benign behaviours (default all)')
    .option('--no-benign', 'no benign behaviours')
    .option('--no-pem', 'leave certificate bytes out of the telemetry (logged fields only)')
    .option('--force', 'write into a non-empty --out')
    .option('-q, --quiet', 'no summary on stderr')
    .action(async (opts) =>
      // commander folds --no-attacks / --no-benign into attacks/benign === false
      setExit(
        await runSimulate({
          ...opts,
          attacks: typeof opts.attacks === 'string' ? opts.attacks : undefined,
          benign: typeof opts.benign === 'string' ? opts.benign : undefined,
          noAttacks: opts.attacks === false,
          noBenign: opts.benign === false,
        }),
      ),
    );

  program
    .command('eval')
    .description('run the analyze pipeline over a simulated fleet directory and score it against its labels.json')
    .argument('<dir>', 'fleet directory written by `certsignal simulate`')
    .option('--json', 'one JSON object for machines')
    .addOption(new Option('--format <format>', 'which telemetry of the fleet to evaluate').choices(['ecs', 'zeek', 'suricata']))
    .option('--geoip <mmdb>', 'MaxMind-format City/Country database locating events without source.geo')
    .option('-q, --quiet', 'no progress or summary on stderr')
    .action(async (dir: string, opts) => setExit(await runEval(dir, opts)));

  const rules = program
    .command('rules')
    .description('list the detection rules, their default weights and variants (`rules stats`: alert counts and precision)')
    .option('--output <mode>', 'json or table')
    .action((opts) => setExit(runRules(opts)));

  rules
    .command('stats')
    .description('per rule: alerts stored, analyst verdicts, precision TP/(TP+FP) and active suppressions')
    .requiredOption('--state <sqlite>', 'state file written by `analyze --state`')
    .addOption(new Option('--output <mode>', 'json (one object per rule) or table').choices(['json', 'table']))
    // `--output` after `stats` may be taken by the parent `rules` command: read both.
    .action(async (_opts, cmd: Command) => setExit(await runRuleStats(cmd.optsWithGlobals())));

  program
    .command('feedback')
    .description(
      'record an analyst verdict on an alert stored by `analyze --state`; false positives are suppressed in later runs',
    )
    .argument('<alert-id>', 'the alert id (cs-…)')
    .option('--false-positive', 'the alert was wrong: suppress it (or its rule/entity, see --scope) in later runs')
    .option('--true-positive', 'the alert was right: counted for precision, never suppresses')
    .addOption(
      new Option(
        '--scope <scope>',
        "what a false positive suppresses: this alert, this rule for the alert's entity, or every rule for the entity",
      )
        .choices(['alert', 'rule', 'entity'])
        .default('alert'),
    )
    .option(
      '--expires <duration>',
      'the suppression ends after this long, judged by the wall clock of later runs (e.g. 12h, 30d, 2w; default never)',
    )
    .option('--reason <text>', 'why (kept with the verdict)')
    .requiredOption('--state <sqlite>', 'state file written by `analyze --state`')
    .addOption(new Option('--output <mode>', 'json: print the stored verdict as JSON').choices(['json', 'text']))
    .action(async (alertId: string, opts) => setExit(await runFeedback(alertId, opts)));

  program
    .command('formats')
    .description('list the input formats certsignal reads')
    .action(() => setExit(runFormats()));

  return program;
}

/** Runs the CLI; never throws for user errors — returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.OK;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are exit code 0; everything else commander rejects is a usage error.
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    if (err instanceof CertsignalError) {
      process.stderr.write(`certsignal: error: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`certsignal: internal error (please report it):\n${(err as Error)?.stack ?? String(err)}\n`);
    return ExitCode.INTERNAL;
  }
}
