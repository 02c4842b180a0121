// Incident correlation (see correlator.ts and docs/incidents.md).
import type { Config } from '../config/config.ts';
import type { StateRegistry } from '../detect/state.ts';
import { INCIDENT_STATE_NAMESPACE, IncidentCorrelator, type StoredIncidents } from './correlator.ts';

export { INCIDENT_STATE_NAMESPACE, IncidentCorrelator, memberOf } from './correlator.ts';
export { buildIncident, incidentId } from './record.ts';

/**
 * The correlator for a run: the window and half-life of the entity risk score
 * (`scoring.correlation_window_minutes`, `scoring.decay_half_life_minutes`), the policy's
 * thresholds and actions, and — with a state registry — open incidents kept between runs.
 */
export function createCorrelator(config: Config, state?: StateRegistry): IncidentCorrelator {
  return new IncidentCorrelator({
    risk: {
      correlation_window_minutes: config.scoring.correlation_window_minutes,
      decay_half_life_minutes: config.scoring.decay_half_life_minutes,
    },
    policy: { thresholds: config.scoring.thresholds, actions: config.scoring.actions },
    state: state?.state<StoredIncidents>(INCIDENT_STATE_NAMESPACE),
  });
}
