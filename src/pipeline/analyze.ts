// `analyze`: the batch pipeline end to end. Files → sources → normalize → enrich → detection
// engine → alerts (streamed to `onAlert`) → incidents (src/correlate, at the end: `onIncident`),
// with rule state, open incidents and emitted alert ids kept in the state store so a daily run
// continues where the last one stopped and never repeats an alert.
import { type Config, type ConfigOverrides, loadConfig, mergeConfig } from '../config/config.ts';
import { createCorrelator } from '../correlate/index.ts';
import { RULES } from '../detect/registry.ts';
import { Diagnostics } from '../diagnostics.ts';
import { Enricher, type GeoStats } from '../enrich/index.ts';
import type { OcspOptions, OcspStats } from '../enrich/ocsp/index.ts';
import { FeedbackSuppressions } from '../feedback/suppressions.ts';
import { Normalizer } from '../normalize/normalize.ts';
import type { Alert } from '../schema/alert.ts';
import type { NormalizedEvent } from '../schema/event.ts';
import type { Incident } from '../schema/incident.ts';
import { readObservations } from '../sources/read.ts';
import { MemoryStateStore, openStateStore } from '../store/sqlite.ts';
import type { StateStore } from '../store/types.ts';
import { createEngine } from './setup.ts';

export interface AnalyzeOptions {
  /** Paths (or `-` for stdin); `.gz` is read transparently. */
  inputs: string[];
  /** Force one input format for all files (default: detected per file). */
  format?: string;
  assets?: string;
  identities?: string;
  trustAnchors?: string;
  crls?: string[];
  /** MaxMind-format .mmdb (City or Country) locating events that carry no location (overrides config `enrichment.geoip`). */
  geoip?: string;
  /** Ask OCSP responders (`--ocsp`; overrides config `enrichment.ocsp.enabled`). Network calls: docs/ocsp.md. */
  ocsp?: boolean;
  /** Per-request OCSP timeout in ms (`--ocsp-timeout`; overrides `enrichment.ocsp.timeout_ms`). */
  ocspTimeoutMs?: number;
  /** Path of certsignal.yaml, or an already loaded config. */
  configPath?: string;
  config?: Config;
  /** Overrides applied over the config (CLI `--set key=value` and other flags); validated like the file. */
  configOverrides?: ConfigOverrides;
  /** SQLite state file (default: in memory, nothing kept). */
  statePath?: string;
  /** Called for every new alert, in event order, as soon as it is found. */
  onAlert?: (alert: Alert) => void;
  /**
   * Called at the end of the run for every incident that is new or changed in this run (see
   * docs/incidents.md), ordered by first alert, after the last onAlert.
   */
  onIncident?: (incident: Incident) => void;
  /** Called for every normalized event (used by `certsignal normalize`); detection still runs unless `detect: false`. */
  onEvent?: (event: NormalizedEvent) => void;
  detect?: boolean;
  diagnostics?: Diagnostics;
  onProgress?: (bytesRead: number, totalBytes: number | null) => void;
  /**
   * Wall clock (epoch ms) against which analyst-feedback expiry is judged (default: now). Expiry is
   * wall-clock time of this run, not event time.
   */
  nowMs?: number;
  /** Keep every alert in the result (default true; turn off for huge runs that stream via onAlert). */
  collectAlerts?: boolean;
}

export interface AnalyzeStats {
  files: FileStat[];
  events: number;
  /** Records read but not turned into events (bad lines, no timestamp, …). */
  skipped: number;
  alerts: number;
  /** Alerts that earlier runs already reported (not repeated). */
  repeated: number;
  /** Signals suppressed by allowlists, per rule. */
  suppressed: Record<string, number>;
  /** Signals suppressed by analyst false-positive verdicts (`certsignal feedback`), per rule. */
  suppressedByFeedback: Record<string, number>;
  /** Feedback suppressions in force for this run (0 without --state). */
  feedbackSuppressionsActive: number;
  alertsByRule: Record<string, number>;
  alertsBySeverity: Record<string, number>;
  /** Incident records of this run (new or changed), and their count per severity. */
  incidents: number;
  incidentsBySeverity: Record<string, number>;
  diagnostics: Record<string, number>;
  certificates: { parsed: number; cacheHits: number };
  elapsedMs: number;
  rules: string[];
  /** Geolocation: the --geoip database used (type, build date) or null, and events per geo_status. */
  geoip: GeoStats;
  /** OCSP requests, cache hits, outcomes and timed-out responders; null when OCSP is off. */
  ocsp: OcspStats | null;
}

export interface FileStat {
  file: string;
  format: string | null;
  records: number;
  observations: number;
  skipped: number;
}

export interface AnalyzeResult {
  alerts: Alert[];
  /** Incidents new or changed in this run (always collected: there are far fewer than alerts). */
  incidents: Incident[];
  stats: AnalyzeStats;
  diagnostics: Diagnostics;
}

export async function analyze(options: AnalyzeOptions): Promise<AnalyzeResult> {
  const started = performance.now();
  const diagnostics = options.diagnostics ?? new Diagnostics();
  let config = options.config ?? loadConfig(options.configPath, { rules: RULES });
  if (options.configOverrides) config = mergeConfig(config, options.configOverrides, { source: 'command line' });
  const enricher = await Enricher.create({
    assets: options.assets,
    identities: options.identities,
    trustAnchors: options.trustAnchors,
    crls: options.crls ?? [],
    geoip: options.geoip ?? config.enrichment.geoip ?? null,
    ocsp: ocspOptions(config, options),
    config: {
      enrichment: {
        asset_columns: config.enrichment.assets_columns,
        identity_columns: config.enrichment.identities_columns,
      },
    },
    diagnostics,
  });
  const normalizer = new Normalizer({ diagnostics, userFromCertificate: config.enrichment.user_from_certificate });
  // Without --state nothing outlives the run: skip loading, saving and alert bookkeeping entirely
  // (serialising every entity's state only to drop it cost ~1 s per 100k entities).
  const persistent = Boolean(options.statePath);
  const store: StateStore = persistent ? await openStateStore(options.statePath as string) : new MemoryStateStore();
  const detect = options.detect !== false;
  // Analyst verdicts live in the state store: load the active suppressions once, before any event.
  let feedback: FeedbackSuppressions | undefined;
  if (detect && persistent) {
    try {
      feedback = FeedbackSuppressions.fromHistory(await store.listFeedback(), options.nowMs ?? Date.now());
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  const engine = createEngine(config, enricher.facts, { diagnostics, feedback, persistent });
  // Created before the state is preloaded so its namespace (open incidents) is loaded and saved with the rules' state.
  const correlator = createCorrelator(config, engine.state);
  let incidents: Incident[] = [];
  const incidentsBySeverity: Record<string, number> = {};
  let watermark = Number.NEGATIVE_INFINITY;
  const collect = options.collectAlerts !== false;
  const alerts: Alert[] = [];
  const bySeverity: Record<string, number> = {};
  let repeated = 0;
  const files: FileStat[] = [];
  const deliver = async (found: Alert[]): Promise<void> => {
    // Alerts an earlier run already reported (same deterministic id) are not repeated.
    let fresh = found;
    if (persistent) {
      const known = await store.knownAlertIds(found.map((a) => a.id));
      if (known.size > 0) fresh = found.filter((a) => !known.has(a.id));
      repeated += found.length - fresh.length;
      if (fresh.length > 0) await store.saveAlerts(fresh);
    }
    for (const a of fresh) {
      bySeverity[a.severity] = (bySeverity[a.severity] ?? 0) + 1;
      if (collect) alerts.push(a);
      correlator.add(a);
      options.onAlert?.(a);
    }
  };
  try {
    if (detect && persistent) {
      for (const [namespace, state] of engine.state.namespaces) state.preload(await store.loadNamespace(namespace));
    }
    for await (const batch of readObservations(options.inputs, {
      format: options.format,
      diagnostics,
      maxLineBytes: config.input.max_line_bytes,
      sourceOptions: { xfccTrustedHops: config.input.xfcc_trusted_hops },
      onProgress: options.onProgress,
      onFile: (f) => files.push(f),
    })) {
      let batchAlerts: Alert[] | null = null;
      const ready: NonNullable<ReturnType<Normalizer['normalize']>>[] = [];
      for (const obs of batch) {
        const n = normalizer.normalize(obs);
        if (!n) continue;
        enricher.enrich(n.event, n.client, n.chain);
        ready.push(n);
      }
      // OCSP (--ocsp) is the one network lookup: the batch's distinct certificates are asked concurrently.
      if (enricher.ocsp) await enricher.ocsp.enrichEvents(ready);
      for (const n of ready) {
        options.onEvent?.(n.event);
        if (!detect) {
          engine.stats.events++;
          continue;
        }
        const found = engine.process(n.event);
        if (n.event.ts > watermark) watermark = n.event.ts;
        if (found.length > 0) {
          batchAlerts ??= [];
          for (const a of found) batchAlerts.push(a);
        }
      }
      if (batchAlerts) await deliver(batchAlerts);
    }
    // Files read side by side finish before their last records are normalized: count each
    // file's skips (read and normalize) once everything is through.
    for (const f of files) f.skipped = diagnostics.skippedIn(f.file);
    // Rules that wait (a grace period after an issuance) decide what is still pending at end of input.
    if (detect) {
      const last = engine.finish();
      if (last.length > 0) await deliver(last);
      incidents = correlator.finish(watermark);
      for (const i of incidents) {
        incidentsBySeverity[i.severity] = (incidentsBySeverity[i.severity] ?? 0) + 1;
        options.onIncident?.(i);
      }
    }
    if (detect && persistent) {
      for (const [namespace, state] of engine.state.namespaces) {
        const dirty = state.takeDirty();
        if (dirty.length > 0) await store.saveEntries(namespace, dirty);
      }
      await store.setMeta('last_run', new Date().toISOString());
    }
  } finally {
    await store.close();
  }
  const s = engine.stats;
  const diagCounts: Record<string, number> = {};
  for (const [k, v] of diagnostics.counts) diagCounts[k] = v;
  return {
    alerts,
    incidents,
    diagnostics,
    stats: {
      files,
      events: s.events,
      skipped: diagnostics.skippedRecords,
      alerts: s.alerts - repeated,
      repeated,
      suppressed: Object.fromEntries(s.suppressed),
      suppressedByFeedback: Object.fromEntries(s.suppressedByFeedback),
      feedbackSuppressionsActive: feedback?.size ?? 0,
      alertsByRule: Object.fromEntries(s.alertsByRule),
      alertsBySeverity: bySeverity,
      incidents: incidents.length,
      incidentsBySeverity,
      diagnostics: diagCounts,
      certificates: { parsed: normalizer.certCache.misses, cacheHits: normalizer.certCache.hits },
      elapsedMs: Math.round(performance.now() - started),
      rules: engine.enabledRules,
      geoip: enricher.geo.stats(),
      ocsp: enricher.ocsp ? structuredClone(enricher.ocsp.stats) : null,
    },
  };
}

/** The OCSP checker options for this run, or null when OCSP is off (the default). */
function ocspOptions(config: Config, options: AnalyzeOptions): OcspOptions | null {
  const c = config.enrichment.ocsp;
  if (!(options.ocsp ?? c.enabled)) return null;
  return {
    timeoutMs: options.ocspTimeoutMs ?? c.timeout_ms,
    cacheSize: c.cache_size,
    responderOverride: c.responder_override,
    nonce: c.nonce,
    concurrency: c.concurrency,
    budgetMs: c.budget_ms,
  };
}
