// certsignal's public library API. The CLI is a thin shell over these.
export { analyze } from './pipeline/analyze.ts';
export type { AnalyzeOptions, AnalyzeResult, AnalyzeStats } from './pipeline/analyze.ts';
export { DetectionEngine } from './pipeline/engine.ts';
export { createEngine } from './pipeline/setup.ts';
export { Normalizer } from './normalize/normalize.ts';
export { parseCertificate, CertificateCache } from './normalize/certificate.ts';
export { readObservations, listFormats } from './sources/read.ts';
export { RULES, getRule } from './detect/registry.ts';
export { loadConfig } from './config/config.ts';
export type { Config } from './config/config.ts';
export { Diagnostics } from './diagnostics.ts';
export { CertsignalError, ExitCode } from './errors.ts';
export { alertId } from './score/alert.ts';
export { AlertSchema, ALERT_SCHEMA_VERSION } from './schema/alert.ts';
export type { Alert, Severity, Action } from './schema/alert.ts';
export type { NormalizedEvent, Observation, CertInfo, RawCertificate } from './schema/event.ts';
export type { Rule, Signal } from './detect/types.ts';
export type { StateStore } from './store/types.ts';
