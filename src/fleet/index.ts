// Public surface of the fleet generator: a seeded, realistic estate and its mTLS gateway events
// (ECS NDJSON) with a real PKI. Shared by `certsignal demo`, the benchmark and (later) `simulate`.
export { createRng, hashSeed, type Rng } from './prng.ts';
export { TLS_CLIENTS, CITIES, OFFICES, SERVICES, WORKLOAD_SERVICES, type TlsClientClass, type TlsClientId, type City } from './catalog.ts';
export { generateEstate, assetsCsv, identitiesCsv, type Estate, type EstateOptions, type FleetDevice, type FleetUser, type DeviceKind } from './estate.ts';
export {
  createFleetPki,
  issuePlans,
  planDeviceCertificates,
  deviceCertId,
  rotatingCertId,
  randomSerial,
  userSubject,
  ROOT_DN,
  ISSUING_DN,
  AUTOMATION_DN,
  type CertPlan,
  type FleetPki,
  type AuthorityId,
  type DevicePlans,
} from './plan.ts';
export { FleetCA, createRootCA, createSelfSignedLeaf, dnToRfc4514, generateKeyPair, type Dn, type FleetCertificate, type CertificateSpec, type KeyPair } from './pki.ts';
export { baselineEvents, sortEvents, locate, type ActivityOptions, type ActivityWindow } from './activity.ts';
export { EcsFormatter, type GatewayEvent, type EcsFormatOptions } from './ecs.ts';
export { planDemo, renderDemo, scenariosMarkdown, DEMO_DEFAULT_SEED, DEMO_START, DEMO_DAYS, type DemoPlan, type RenderedDemo, type ScenarioDescription } from './demo.ts';
