// Public surface of the fleet generator: a seeded, realistic estate and its mTLS gateway events
// (ECS NDJSON) with a real PKI. Shared by `certsignal demo`, the benchmark and (later) `simulate`.

export { type ActivityOptions, type ActivityWindow, baselineEvents, locate, sortEvents } from './activity.ts';
export {
  CITIES,
  type City,
  OFFICES,
  SERVICES,
  TLS_CLIENTS,
  type TlsClientClass,
  type TlsClientId,
  WORKLOAD_SERVICES,
} from './catalog.ts';
export {
  DEMO_DAYS,
  DEMO_DEFAULT_SEED,
  DEMO_START,
  type DemoPlan,
  planDemo,
  type RenderedDemo,
  renderDemo,
  type ScenarioDescription,
  scenariosMarkdown,
} from './demo.ts';
export { type EcsFormatOptions, EcsFormatter, type GatewayEvent } from './ecs.ts';
export {
  assetsCsv,
  type DeviceKind,
  type Estate,
  type EstateOptions,
  type FleetDevice,
  type FleetUser,
  generateEstate,
  identitiesCsv,
} from './estate.ts';
export {
  type CertificateSpec,
  createRootCA,
  createSelfSignedLeaf,
  type Dn,
  dnToRfc4514,
  FleetCA,
  type FleetCertificate,
  generateKeyPair,
  type KeyPair,
} from './pki.ts';
export {
  AUTOMATION_DN,
  type AuthorityId,
  type CertPlan,
  createFleetPki,
  type DevicePlans,
  deviceCertId,
  type FleetPki,
  ISSUING_DN,
  issuePlans,
  planDeviceCertificates,
  ROOT_DN,
  randomSerial,
  rotatingCertId,
  userSubject,
} from './plan.ts';
export { createRng, hashSeed, type Rng } from './prng.ts';
export {
  assignSessionBytes,
  ByteAssigner,
  diurnalFactor,
  HUMAN_SERVICE_VOLUME,
  logNormal,
  PERSONAL_SCALE_SIGMA,
  personalScale,
  sessionBytes,
  totalBytes,
  type VolumeProfile,
  WORKLOAD_VOLUME,
} from './volume.ts';
