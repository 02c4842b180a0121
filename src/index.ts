// certsignal's public library API. The CLI is a thin shell over these.

export type { Config } from './config/config.ts';
export { loadConfig } from './config/config.ts';
export { createCorrelator, IncidentCorrelator } from './correlate/index.ts';
export { getRule, RULES } from './detect/registry.ts';
export type { Rule, Signal } from './detect/types.ts';
export { Diagnostics } from './diagnostics.ts';
export { CertsignalError, ExitCode } from './errors.ts';
export { CertificateCache, parseCertificate } from './normalize/certificate.ts';
export { Normalizer } from './normalize/normalize.ts';
export type { AnalyzeOptions, AnalyzeResult, AnalyzeStats } from './pipeline/analyze.ts';
export { analyze } from './pipeline/analyze.ts';
export { DetectionEngine } from './pipeline/engine.ts';
export { createEngine } from './pipeline/setup.ts';
export type { Action, Alert, Severity } from './schema/alert.ts';
export { ALERT_SCHEMA_VERSION, AlertSchema } from './schema/alert.ts';
export type { CertInfo, NormalizedEvent, Observation, RawCertificate } from './schema/event.ts';
export type { Incident } from './schema/incident.ts';
export { INCIDENT_SCHEMA_VERSION, IncidentSchema } from './schema/incident.ts';
export { alertId } from './score/alert.ts';
export { listFormats, readObservations } from './sources/read.ts';
export type { StateStore } from './store/types.ts';
