// Coded errors: internal code throws these; only the CLI / HTTP boundary turns them into
// messages, exit codes and status codes.

/** Exit codes of the `certsignal` CLI (documented in the README). */
export const ExitCode = {
  OK: 0,
  /** `--fail-on SEVERITY` matched at least one alert. */
  ALERTS: 1,
  /** Usage or configuration error (bad flag, bad certsignal.yaml, unreadable enrichment file). */
  USAGE: 2,
  /** Input could not be processed at all (no input file readable, unknown format everywhere). */
  INPUT: 3,
  /** Internal error (a bug): a stack trace is printed. */
  INTERNAL: 70,
} as const;

export type ErrorCode = 'E_USAGE' | 'E_CONFIG' | 'E_INPUT' | 'E_FORMAT' | 'E_CERT' | 'E_CRL' | 'E_CSV' | 'E_STATE' | 'E_GEOIP';

/** An error caused by the user's input or configuration: printed without a stack trace. */
export class CertsignalError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, exitCode: number = ExitCode.USAGE) {
    super(message);
    this.name = 'CertsignalError';
    this.code = code;
    this.exitCode = exitCode;
  }
}
