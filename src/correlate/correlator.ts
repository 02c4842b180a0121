// Incidents: alerts that share an entity — the alert's scored entity, its account, its device or
// its key (spki_sha256) — within the correlation window belong to one incident. An alert that links
// two open incidents (a key-reuse alert naming a second account) merges them (union-find), so an
// incident is a connected group of alerts, each within the window of an earlier one on a shared
// entity. Alerts are consumed in event order as they stream; records are built once at the end of
// the run (an open incident may still grow until then). With a state store, incidents still open
// at the end continue in the next run, so day 1 + day 2 gives the incidents of one run over both.
import type { KeyedState } from '../detect/types.ts';
import type { Alert } from '../schema/alert.ts';
import type { Incident } from '../schema/incident.ts';
import { buildIncident, compareMembers, type IncidentScoring, type Member } from './record.ts';

/** The state namespace holding the open incidents between runs (one key, `open`). */
export const INCIDENT_STATE_NAMESPACE = 'correlate/incidents';

/** Persisted form of the open incidents (versioned: an unknown version is ignored, not misread). */
export interface StoredIncidents {
  v: 1;
  incidents: { members: Member[]; merged: string[]; emitted_as: string | null; index: [string, number][] }[];
}

interface OpenIncident {
  handle: number;
  /** Sorted by compareMembers. */
  members: Member[];
  /**
   * Ids of records emitted by earlier runs that this incident now replaces: incidents folded into
   * it. (Within one run only the final state is emitted, so nothing else needs naming.)
   */
  merged: string[];
  /** The id this incident's record had when an earlier run emitted it (it changes if a late, earlier alert joins). */
  emittedAs: string | null;
  /** Changed in this run: its record is emitted at the end. */
  touched: boolean;
  /** Came from an earlier run's state (already emitted there as open). */
  carried: boolean;
}

export interface CorrelatorOptions extends IncidentScoring {
  /** Where open incidents outlive the run (the engine's state registry namespace); omit for none. */
  state?: KeyedState<StoredIncidents>;
}

export class IncidentCorrelator {
  private readonly scoring: IncidentScoring;
  private readonly windowMs: number;
  private readonly state: KeyedState<StoredIncidents> | undefined;
  private readonly incidents = new Map<number, OpenIncident>();
  /** Union-find parent links: a merged incident's handle points towards the one it joined. */
  private readonly parent = new Map<number, number>();
  /** Entity key (`user:alice`, `key:<spki>`) → the incident its latest alert joined, and that alert's time. */
  private readonly index = new Map<string, { handle: number; ts: number }>();
  private nextHandle = 1;
  private loaded = false;

  constructor(options: CorrelatorOptions) {
    this.scoring = { risk: options.risk, policy: options.policy };
    this.windowMs = options.risk.correlation_window_minutes * 60_000;
    this.state = options.state;
  }

  /** Number of incidents held (open or closed but not yet emitted). */
  get size(): number {
    return this.incidents.size;
  }

  /** Add one alert (in event order, as it is emitted). */
  add(alert: Alert): void {
    this.load();
    const member = memberOf(alert);
    const keys = entityKeys(member);
    const roots = new Set<number>();
    for (const k of keys) {
      const hit = this.index.get(k);
      if (hit && Math.abs(member.ts - hit.ts) <= this.windowMs) roots.add(this.find(hit.handle));
    }
    let root: OpenIncident;
    if (roots.size === 0) {
      root = { handle: this.nextHandle++, members: [], merged: [], emittedAs: null, touched: true, carried: false };
      this.incidents.set(root.handle, root);
    } else {
      // The incident with the earliest first alert survives, so the id does not depend on arrival order.
      const found = [...roots]
        .map((h) => this.incidents.get(h) as OpenIncident)
        .sort((a, b) => compareMembers(a.members[0], b.members[0]));
      root = found[0];
      for (const other of found.slice(1)) this.union(root, other);
    }
    insertSorted(root, member);
    root.touched = true;
    for (const k of keys) {
      const hit = this.index.get(k);
      const ts = hit && this.find(hit.handle) === root.handle ? Math.max(hit.ts, member.ts) : member.ts;
      this.index.set(k, { handle: root.handle, ts });
    }
  }

  /**
   * End of the run: the records of every incident that is new or changed in this run (grown,
   * merged, or closed since an earlier run emitted it open), ordered by first alert. `watermarkMs`
   * is the latest event time of the run: an incident whose last alert is older than the window by
   * then is closed. Open incidents are written to the state for the next run.
   */
  finish(watermarkMs: number): Incident[] {
    this.load();
    const records: Incident[] = [];
    const stored: StoredIncidents['incidents'] = [];
    const openHandles = new Set<number>();
    for (const inc of this.incidents.values()) {
      const last = inc.members[inc.members.length - 1].ts;
      const open = !(watermarkMs - last > this.windowMs);
      if (inc.touched || (inc.carried && !open)) {
        const merged = inc.emittedAs ? [...inc.merged, inc.emittedAs] : inc.merged;
        const record = buildIncident(inc.members, merged, open ? 'open' : 'closed', this.scoring);
        records.push(record);
        inc.emittedAs = record.id;
      }
      if (open) openHandles.add(inc.handle);
    }
    if (this.state) {
      const byHandle = new Map<number, [string, number][]>();
      for (const [k, hit] of this.index) {
        const h = this.find(hit.handle);
        if (!openHandles.has(h) || watermarkMs - hit.ts > this.windowMs) continue;
        const list = byHandle.get(h);
        if (list) list.push([k, hit.ts]);
        else byHandle.set(h, [[k, hit.ts]]);
      }
      for (const h of openHandles) {
        const inc = this.incidents.get(h) as OpenIncident;
        stored.push({ members: inc.members, merged: inc.merged, emitted_as: inc.emittedAs, index: byHandle.get(h) ?? [] });
      }
      if (stored.length > 0) this.state.set('open', { v: 1, incidents: stored });
      else if (this.state.get('open') !== undefined) this.state.delete('open');
    }
    for (const inc of this.incidents.values()) inc.touched = false;
    return records.sort((a, b) => (a.first_time < b.first_time ? -1 : a.first_time > b.first_time ? 1 : a.id < b.id ? -1 : 1));
  }

  private find(handle: number): number {
    let h = handle;
    while (this.parent.has(h)) h = this.parent.get(h) as number;
    // Path compression: later look-ups of these handles take one step.
    let c = handle;
    while (c !== h) {
      const next = this.parent.get(c) as number;
      this.parent.set(c, h);
      c = next;
    }
    return h;
  }

  private union(root: OpenIncident, other: OpenIncident): void {
    if (other.emittedAs) root.merged.push(other.emittedAs);
    root.merged.push(...other.merged);
    for (const m of other.members) insertSorted(root, m);
    this.parent.set(other.handle, root.handle);
    this.incidents.delete(other.handle);
  }

  /** Open incidents of earlier runs, once, before the first alert (the state is preloaded by then). */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    const saved = this.state?.get('open');
    if (saved?.v !== 1 || !Array.isArray(saved.incidents)) return;
    for (const s of saved.incidents) {
      if (!Array.isArray(s.members) || s.members.length === 0) continue;
      const inc: OpenIncident = {
        handle: this.nextHandle++,
        members: [...s.members].sort(compareMembers),
        merged: [...(s.merged ?? [])],
        emittedAs: s.emitted_as ?? null,
        touched: false,
        carried: true,
      };
      this.incidents.set(inc.handle, inc);
      for (const [k, ts] of s.index ?? []) this.index.set(k, { handle: inc.handle, ts });
    }
  }
}

/** What an incident keeps of an alert. The weight is the one the engine scored (`evidence.scoring.weight`). */
export function memberOf(alert: Alert): Member {
  const scoring = alert.evidence.scoring as { weight?: unknown } | undefined;
  const weight = typeof scoring?.weight === 'number' ? scoring.weight : alert.score;
  return {
    id: alert.id,
    rule: alert.rule,
    ts: Date.parse(alert.time),
    weight,
    severity: alert.severity,
    entity: { kind: alert.entity.kind, id: alert.entity.id },
    user: alert.user,
    device: alert.device,
    key: alert.spki_sha256,
  };
}

/** The entities an alert links through: its scored entity, account, device and key (never a bare address: NAT and proxies share those). */
function entityKeys(m: Member): string[] {
  const keys = new Set<string>([`${m.entity.kind}:${m.entity.id}`]);
  if (m.user) keys.add(`user:${m.user}`);
  if (m.device) keys.add(`device:${m.device}`);
  if (m.key) keys.add(`key:${m.key}`);
  return [...keys];
}

function insertSorted(inc: OpenIncident, m: Member): void {
  const list = inc.members;
  let i = list.length;
  while (i > 0 && compareMembers(list[i - 1], m) > 0) i--;
  list.splice(i, 0, m);
}
