// OCSP revocation checking (`--ocsp`): see docs/ocsp.md.
export { type CertIdInput, ocspUrls } from './certid.ts';
export { httpUrl, OcspChecker, type OcspOptions, type OcspStats, type OcspTarget } from './checker.ts';
export { mergeRevocation } from './merge.ts';
export { buildRequest, evaluateResponse } from './protocol.ts';
export { ocspSummary } from './summary.ts';
